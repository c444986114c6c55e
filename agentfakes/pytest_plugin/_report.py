"""The "agentfakes" section of a failing test's report: what the fake did, at a glance.

Each run's timeline (offsets from the first moment the fake saw, status changes, events
with a short payload, approvals, stops), the faults that fired, and the request journal.
Times are the engine clock's: virtual seconds on a virtual clock, real ones on a real one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentfakes.engine import RunRecord
    from agentfakes.server import FakeRunsServer

MAX_RUNS = 10
MAX_EVENTS = 40
MAX_REQUESTS = 30
PAYLOAD = 70  # characters of a payload shown per line


def short(value: Any, width: int = PAYLOAD) -> str:
    """A one-line JSON rendering cut to `width` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


_SHOWN = {
    "message.delta": "delta",
    "reasoning.available": "text",
    "tool.started": "preview",
    "approval.request": "command",
    "approval.responded": "choice",
    "run.completed": "output",
    "run.failed": "error",
}


def event_line(event: Any) -> str:
    """`tool.started terminal "rm -rf build"`: the event name and its telling fields."""
    data = event.model_dump(mode="json", exclude_none=True)
    name = data.get("event", "?")
    parts = [name]
    if "tool" in data:
        parts.append(str(data["tool"]))
    key = _SHOWN.get(name)
    if key and key in data:
        parts.append(short(data[key], 50))
    if name == "tool.completed":
        parts.append(f"duration={data.get('duration')}" + (" error" if data.get("error") else ""))
    return " ".join(parts)


def run_timeline(record: RunRecord, t0: float) -> list[str]:
    """One run, line by line: `+1.500s  approval.responded once`."""
    lines = [
        f"run {record.run_id}  input {short(json.dumps(record.input, ensure_ascii=False), 50)}"
        f"  → {record.status.value}"
        + (f"  error {short(record.error, 60)}" if record.error else "")
    ]
    rows: list[tuple[float, int, str]] = []
    previous = None
    for at, status in record.status_history:
        if status != previous:  # a final status after the events of its moment
            rank = 2 if status.value in ("completed", "failed", "cancelled") else 0
            rows.append((at, rank, f"status {status.value}"))
        previous = status
    for event in record.events[:MAX_EVENTS]:
        rows.append((event.timestamp, 1, event_line(event)))
    if len(record.events) > MAX_EVENTS:
        rows.append((record.events[-1].timestamp, 3, f"… {len(record.events) - MAX_EVENTS} more"))
    if record.stop_requested_at is not None:
        rows.append((record.stop_requested_at, 0, "stop requested"))
    for pending in record.pending_approvals:
        rows.append((pending.requested_at, 2, f"approval pending: {pending.step.command!r}"))
    rows.sort(key=lambda row: (row[0], row[1]))
    lines += [f"  {at - t0:+9.3f}s  {text}" for at, _, text in rows]
    return lines


def render(server: FakeRunsServer) -> str:
    """The whole section for one server."""
    runs = [server.runs[run_id] for run_id in list(server.runs)]
    journal = list(server.requests)
    moments = [r.created_at for r in runs] + [e.at for e in journal]
    t0 = min(moments) if moments else server.clock.now()
    clock = "real" if server.clock.is_real else "virtual"
    out = [f"fake_runs_server at {server.url} ({clock} clock; offsets from the first moment)"]
    out.append(f"runs ({len(runs)}):" if runs else "runs: none created")
    for record in runs[:MAX_RUNS]:
        out += ["  " + line for line in run_timeline(record, t0)]
    if len(runs) > MAX_RUNS:
        out.append(f"  … {len(runs) - MAX_RUNS} more runs")
    fired = getattr(server.faults, "log", [])
    if fired:
        out.append("faults fired: " + "; ".join(f"{what} on {where}" for where, what in fired))
    out.append(f"requests ({len(journal)}):" if journal else "requests: none")
    for entry in journal[-MAX_REQUESTS:]:
        body = f"  {short(entry.body, 50)}" if entry.body is not None else ""
        status = entry.status if entry.status else "transport fault"
        out.append(
            f"  {entry.at - t0:+9.3f}s  {entry.method} {entry.path} → {status}"
            f"  {entry.endpoint}{body}"
        )
    return "\n".join(out)
