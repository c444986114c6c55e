"""`--agentfakes-coverage`: which server behaviours the whole suite exercised, and which not.

Every `fake_runs_server` is observed at its teardown (its runs, its journal, the faults that
fired); the names of the behaviours seen are counted per session. Under pytest-xdist each
worker sends its counts to the controller (`workeroutput`), which merges them and prints
the one report (and writes `--agentfakes-coverage-json=PATH`).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from agentfakes.server import FakeRunsServer

# The behaviours a suite should exercise, by group, in report order.
BEHAVIOURS: dict[str, tuple[str, ...]] = {
    "run outcomes": ("completed", "failed", "cancelled", "truncated"),
    "approval paths": (
        "approval once",
        "approval session",
        "approval always",
        "approval deny",
        "approval timeout",
        "stop during approval",
    ),
    "HTTP faults": ("401", "404", "429 on create", "5xx", "503 draining"),
    "transport faults": ("connect error", "read timeout", "connection reset"),
    "stream faults": (
        "dropped stream",
        "malformed frame",
        "split UTF-8",
        "stall",
        "no terminal event",
        "duplicate event",
    ),
    "streams": ("keepalive", "consumed-stream 404"),
}
ALL = tuple(name for names in BEHAVIOURS.values() for name in names)
_FAULTS = {
    "connect error": "connect error",
    "read timeout": "read timeout",
    "connection reset": "connection reset",
    "stream drop": "dropped stream",
    "stream malformed": "malformed frame",
    "stream split_utf8": "split UTF-8",
    "stream stall": "stall",
    "stream no_terminal": "no terminal event",
    "stream duplicate": "duplicate event",
}


def observe(server: FakeRunsServer) -> set[str]:
    """The behaviours one server showed during its test."""
    seen: set[str] = set()
    for record in list(server.runs.values()):
        status = record.status.value
        names = record.event_names
        if status == "completed" and record.output and "iteration" in record.output.lower():
            seen.add("truncated")
        if status in ("completed", "failed", "cancelled"):
            seen.add(status)
        requested = names.count("approval.request")
        for event in record.events:
            choice = getattr(event, "choice", None)
            if event.event == "approval.responded" and choice:
                seen.add(f"approval {choice}")
        answered = names.count("approval.responded")
        if requested > answered and not record.pending_approvals:
            stopped = record.stop_requested_at is not None and status == "cancelled"
            seen.add("stop during approval" if stopped else "approval timeout")
        gaps = [record.created_at, *(e.timestamp for e in record.events)]
        keepalive = server.engine.settings.keepalive
        if any(b - a >= keepalive for a, b in itertools.pairwise(gaps)) and any(
            e.endpoint == "runs.events" and e.run_id == record.run_id for e in server.requests
        ):
            seen.add("keepalive")
    for entry in server.requests:
        if entry.status == 401:
            seen.add("401")
        elif entry.status == 404:
            seen.add("consumed-stream 404" if entry.endpoint == "runs.events" else "404")
        elif entry.status == 429 and entry.endpoint == "runs.create":
            seen.add("429 on create")
        elif entry.status == 503 and entry.endpoint == "runs.create":
            seen.add("503 draining")
        elif entry.status >= 500:
            seen.add("5xx")
    for _endpoint, description in getattr(server.faults, "log", []):
        for prefix, name in _FAULTS.items():
            if description.startswith(prefix):
                seen.add(name)
    return seen


class CoveragePlugin:
    """Registered by `pytest_configure` when `--agentfakes-coverage(-json)` is given."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.counts: Counter[str] = Counter()
        self.servers = 0

    def observe(self, server: FakeRunsServer) -> None:
        self.servers += 1
        self.counts.update(observe(server))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: hand the counts to the controller
            workeroutput["agentfakes_coverage"] = json.dumps(
                {"counts": dict(self.counts), "servers": self.servers}
            )
            return
        path = self.config.getoption("agentfakes_coverage_json")
        if path:
            Path(path).write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        data = getattr(node, "workeroutput", {}).get("agentfakes_coverage")
        if data:
            loaded = json.loads(data)
            self.counts.update(loaded["counts"])
            self.servers += loaded["servers"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "servers": self.servers,
            "exercised": {name: self.counts[name] for name in ALL if self.counts[name]},
            "never": [name for name in ALL if not self.counts[name]],
            "groups": {group: list(names) for group, names in BEHAVIOURS.items()},
        }

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if getattr(self.config, "workeroutput", None) is not None:
            return
        if not self.config.getoption("agentfakes_coverage"):
            return
        report = self.as_dict()
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", "agentfakes coverage")
        write(f"fake_runs_server used by {self.servers} tests")
        for group, names in BEHAVIOURS.items():
            marks = [
                f"{name} ({self.counts[name]})" if self.counts[name] else f"-{name}"
                for name in names
            ]
            write(f"{group}: " + ", ".join(marks))
        never = report["never"]
        write("never tested: " + (", ".join(never) if never else "nothing: every behaviour"))
