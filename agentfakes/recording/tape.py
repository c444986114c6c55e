"""`RunTape`: one recorded run — its held stream, the app's moves — and how it becomes a
scenario run (timed events -> Script steps, relative timings as waits).

Timing rules (the engine's, `engine/run.py`): a wait is the gap since the previous event;
after an approval gate the next wait counts from the approval's response, as the engine
resumes from it. A gated tool's `tool_completed` leaves duration and error to the engine
(they depend on when and how the app answers); other tools keep the recorded values. A
run the app stopped ends, in replay, with a long wait and a failure that says the app did
not stop it (the engine itself plays the stop, as the real server does).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from agentfakes.api.messages import StreamDropped
from agentfakes.script import Script
from agentfakes.script.scenario import STOP_MARGIN, ApprovalRecord, ScenarioRun, StopRecord

__all__ = ["HeldBody", "RunTape", "tape_to_run"]

STEP_RESOLUTION = 0.001  # waits shorter than this are left out; times kept to 3 decimals
PAST_STOP = (
    "agentfakes: the recording of this run was stopped by the app at this point, but in "
    "replay the app did not stop it"
)
CUT_SHORT = "agentfakes: the recording ended before this run did"


@dataclass
class RunTape:
    """What the recorder saw of one run (times are monotonic seconds)."""

    run_id: str
    input: str
    created: float
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)  # the stream, as the server sent it
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    polls: int = 0
    approvals: list[tuple[float, str]] = field(default_factory=list)
    stop_at: float | None = None
    final: dict[str, Any] | None = None
    error: str | None = None
    subscribed: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)  # the stream ended
    settled: threading.Event = field(default_factory=threading.Event)  # final object read
    served: bool = False
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _bodies: list[HeldBody] = field(default_factory=list)

    # -- the holder thread writes

    def opened(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.status, self.headers = status, headers
        self.subscribed.set()

    def add(self, at: float, chunk: bytes, events: list[dict[str, Any]]) -> None:
        with self._changed:
            self.chunks.append(chunk)
            self.events += [(at, e) for e in events if e]
            self._changed.notify_all()

    def broken(self, error: str) -> None:
        self.error = error

    def finish(self) -> None:
        with self._changed:
            self.done.set()
            self.subscribed.set()
            self._changed.notify_all()

    # -- the app's moves

    def approved(self, at: float, choice: Any) -> None:
        if isinstance(choice, str):
            self.approvals.append((at, choice))

    def stopped(self, at: float) -> None:
        if self.stop_at is None:
            self.stop_at = at

    # -- serving the app's subscription

    def serve(self) -> HeldBody | None:
        """The held stream for the first subscriber; None for any later one (it goes
        upstream and meets the real server's 404)."""
        with self._changed:
            if self.served or self.status == 0:
                return None
            self.served = True
            body = HeldBody(self)
            self._bodies.append(body)
            return body

    def chunk_after(self, index: int, timeout: float | None) -> bytes | None:
        """Chunk `index`, waiting for it; None at the end of the stream."""
        with self._changed:
            while index >= len(self.chunks) and not self.done.is_set():
                if not self._changed.wait(timeout):
                    break
            return self.chunks[index] if index < len(self.chunks) else None

    def close_served(self) -> None:
        with self._changed:
            for body in self._bodies:
                body.closed = True
            self._changed.notify_all()


class HeldBody:
    """A held stream as a response body (sync or async), chunk by chunk as it arrives."""

    def __init__(self, tape: RunTape) -> None:
        self.tape = tape
        self.closed = False

    def __iter__(self) -> Any:
        index = 0
        while not self.closed:
            chunk = self.tape.chunk_after(index, timeout=0.5)
            if chunk is None:
                if self.tape.done.is_set() and index >= len(self.tape.chunks):
                    if self.tape.error is not None:
                        raise StreamDropped(self.tape.error)
                    return
                continue
            index += 1
            yield chunk

    async def __aiter__(self) -> Any:
        import asyncio

        index = 0
        while not self.closed:
            chunk = await asyncio.to_thread(self.tape.chunk_after, index, 0.5)
            if chunk is None:
                if self.tape.done.is_set() and index >= len(self.tape.chunks):
                    if self.tape.error is not None:
                        raise StreamDropped(self.tape.error)
                    return
                continue
            index += 1
            yield chunk

    def close(self) -> None:
        self.closed = True


# ---------------------------------------------------------------- tape -> scenario run


def _seconds(value: float) -> float:
    return round(max(0.0, value), 3)


def tape_to_run(tape: RunTape) -> ScenarioRun:
    """The tape as a scenario run: its Script, the app's approval choices and stop."""
    steps: list[dict[str, Any]] = []
    approvals: list[ApprovalRecord] = []
    cursor = tape.created
    gated: list[str] = []  # tools waiting behind an approval gate
    open_tools: list[str] = []
    requests: list[tuple[float, dict[str, Any]]] = []  # approval steps not yet answered
    terminal = False
    stop_at = tape.stop_at

    def wait_until(at: float) -> None:
        nonlocal cursor
        gap = _seconds(at - cursor)
        if gap >= STEP_RESOLUTION:
            steps.append({"wait": {"seconds": gap}})
        cursor = max(cursor, at)

    for at, event in tape.events:
        kind = event.get("event")
        if stop_at is not None and at >= stop_at:
            break  # what follows a stop the engine plays itself (spec §6.1)
        if kind == "approval.responded":
            choice = str(event.get("choice", "once"))
            if requests:
                asked_at, _ = requests.pop(0)
                after = _seconds(at - asked_at)
                approvals.append(ApprovalRecord.model_validate({"choice": choice, "after": after}))
            cursor = max(cursor, at)
            continue
        if kind == "approval.request":
            if not (steps and "approval" in steps[-1]):
                wait_until(at)  # consecutive requests are one batch: no wait between
            arguments: dict[str, Any] = {
                key: event[key]
                for key in ("command", "description", "pattern_key", "pattern_keys")
                if key in event
            }
            arguments["allow_permanent"] = event.get("allow_permanent")
            if event.get("smart_denied"):
                arguments["smart_denied"] = True
            step = {"approval": arguments}
            steps.append(step)
            requests.append((at, step))
            free = [t for t in open_tools if t not in gated]
            if free:
                gated.append(free[-1])
            continue
        wait_until(at)
        if kind == "message.delta":
            steps.append({"delta": {"text": event.get("delta", "")}})
        elif kind == "reasoning.available":
            steps.append({"reasoning": {"text": event.get("text", "")}})
        elif kind == "tool.started":
            name = str(event.get("tool", ""))
            open_tools.append(name)
            steps.append({"tool_started": {"name": name, "preview": event.get("preview")}})
        elif kind == "tool.completed":
            name = str(event.get("tool", ""))
            if name in open_tools:
                open_tools.remove(name)
            if name in gated:
                gated.remove(name)
                if requests:  # no answer came: the approval timed out (spec §7)
                    asked_at, step = requests.pop(0)
                    step["approval"]["timeout"] = _seconds(at - asked_at)
                    approvals.append(
                        ApprovalRecord(choice="timeout", after=_seconds(at - asked_at))
                    )
                steps.append({"tool_completed": {"name": name}})
            else:
                ended: dict[str, Any] = {"name": name, "error": bool(event.get("error", False))}
                if isinstance(event.get("duration"), int | float):
                    ended["duration"] = _seconds(float(event["duration"]))
                steps.append({"tool_completed": ended})
        elif kind == "run.completed":
            steps.append({"complete": {"output": event.get("output"), "usage": event.get("usage")}})
            terminal = True
        elif kind == "run.failed":
            steps.append({"fail": {"error": str(event.get("error", ""))}})
            terminal = True
        elif kind == "run.cancelled":
            break
    if not terminal:
        steps.append({"wait": {"seconds": STOP_MARGIN}})
        steps.append({"fail": {"error": PAST_STOP if stop_at is not None else CUT_SHORT}})
    script = Script.from_dict({"steps": steps})
    final = tape.final
    return ScenarioRun(
        input=tape.input,
        script=script,
        approvals=approvals,
        stop=StopRecord(after=_seconds(stop_at - tape.created)) if stop_at is not None else None,
        polls=tape.polls,
        final=final,
    )
