"""DeployBot: asks the agent to deploy, answers its approval requests by policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from deploybot.client import AsyncRunsClient, RunsClient

Policy = Callable[[str], bool]


def safe_commands(command: str) -> bool:
    """The default policy: allow anything but deleting outside the build folder."""
    return not command.startswith("rm -rf") or command.strip() in ("rm -rf build", "rm -rf dist")


@dataclass
class DeployReport:
    """What happened during one deployment run."""

    run_id: str
    status: str
    output: str | None = None
    error: str | None = None
    tools: list[str] = field(default_factory=list)
    decisions: list[tuple[str, str]] = field(default_factory=list)  # (command, choice)
    events: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "completed"


class DeployBot:
    """Starts a deploy run, streams it, approves or denies each gated command."""

    def __init__(self, client: RunsClient, policy: Policy = safe_commands) -> None:
        self.client = client
        self.policy = policy

    def deploy(self, target: str) -> DeployReport:
        run_id = self.client.start(f"Deploy the app to {target}", session_id=f"deploy-{target}")
        report = DeployReport(run_id=run_id, status="running")
        for event in self.client.events(run_id):
            self._observe(report, event)
            if event["event"] == "approval.request":
                choice = "once" if self.policy(event["command"]) else "deny"
                report.decisions.append((event["command"], choice))
                self.client.approve(run_id, choice)
        final = self.client.status(run_id)
        report.status = final["status"]
        report.output = final.get("output")
        report.error = final.get("error")
        return report

    @staticmethod
    def _observe(report: DeployReport, event: dict[str, Any]) -> None:
        report.events.append(event["event"])
        if event["event"] == "tool.started":
            report.tools.append(event["tool"])


class AsyncDeployBot:
    """The asyncio DeployBot: the same decisions, on an AsyncRunsClient."""

    def __init__(self, client: AsyncRunsClient, policy: Policy = safe_commands) -> None:
        self.client = client
        self.policy = policy

    async def deploy(self, target: str) -> DeployReport:
        run_id = await self.client.start(f"Deploy the app to {target}")
        report = DeployReport(run_id=run_id, status="running")
        async for event in self.client.events(run_id):
            DeployBot._observe(report, event)
            if event["event"] == "approval.request":
                choice = "once" if self.policy(event["command"]) else "deny"
                report.decisions.append((event["command"], choice))
                await self.client.approve(run_id, choice)
        final = await self.client.status(run_id)
        report.status = final["status"]
        report.output = final.get("output")
        report.error = final.get("error")
        return report


class Agent(Protocol):
    """Anything with RubyPi's loop interface: `run(prompt)` returning a Result."""

    def run(self, prompt: str) -> Any: ...


def release_notes(agent: Agent, changes: list[str]) -> str:
    """Ask an in-process agent to write release notes; fall back to a bullet list."""
    result = agent.run("Write release notes for:\n" + "\n".join(f"- {c}" for c in changes))
    if result.success and result.content:
        return str(result.content)
    return "Changes:\n" + "\n".join(f"- {c}" for c in changes)
