"""Record → replay round trip: five small app tests recorded against a real server, then
replayed offline in the fake, must see the same thing (issue 9's drift check).

Each app drives one run the way an app does (create, read the stream, answer the approval
or stop mid-run, GET the result) through httpx to `APP_BASE` with the fake's key. Recording
forwards that traffic to the real server (`agentfakes.recording`); replay loads the
recorded scenario into a fresh fake on a ManualClock. The outcomes (event sequence with
texts, the final run object with ids and timestamps normalised) must be equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from agentfakes.drift.script_book import marker

__all__ = [
    "APPS",
    "AppOutcome",
    "RoundTripResult",
    "format_round_trip",
    "record",
    "replay",
    "round_trip",
]

APP_BASE = "http://hermes.test"
APP_KEY = "sk-drift-app-0123456789abcdef"  # the fake's key the app sends; never the real one

# name → (input, what the app does: "once" / "deny" answers the approval, "stop" stops
# after three deltas, None only reads)
APPS: dict[str, tuple[str, str | None]] = {
    "completed run": (marker("complete", "round trip"), None),
    "approval approved": (marker("approval", "round trip approve"), "once"),
    "approval denied": (marker("approval", "round trip deny"), "deny"),
    "stop mid-run": (marker("slow", "round trip"), "stop"),
    "provider failure": (marker("fail500", "round trip"), None),
}
_VOLATILE = ("timestamp", "created_at", "updated_at")


@dataclass
class AppOutcome:
    """What one app saw, comparable across servers."""

    events: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)
    answers: list[int] = field(default_factory=list)  # statuses of its approval/stop POSTs


@dataclass
class RoundTripResult:
    app: str
    recorded: AppOutcome | None
    replayed: AppOutcome | None
    difference: str | None = None

    @property
    def passed(self) -> bool:
        return self.difference is None


def _normalised(value: Any, run_id: str) -> Any:
    """Ids and timestamps out of the way; durations rounded to what a test can rely on."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _VOLATILE:
                out[key] = "<t>"
            elif key == "duration":
                out[key] = "<duration>"
            else:
                out[key] = _normalised(item, run_id)
        return out
    if isinstance(value, list):
        return [_normalised(item, run_id) for item in value]
    if value == run_id:
        return "<run_id>"
    return value


def drive(http: httpx.Client, text: str, action: str | None) -> AppOutcome:
    """One app test: create, read the stream (acting on it), then GET the result."""
    outcome = AppOutcome()
    created = http.post("/v1/runs", json={"input": text})
    created.raise_for_status()
    run_id = created.json()["run_id"]
    deltas = 0
    with http.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        for line in stream.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[len("data: ") :])
            outcome.events.append(_normalised(event, run_id))
            if event["event"] == "approval.request" and action in ("once", "deny"):
                answer = http.post(f"/v1/runs/{run_id}/approval", json={"choice": action})
                outcome.answers.append(answer.status_code)
            elif event["event"] == "message.delta" and action == "stop":
                deltas += 1
                if deltas == 3:
                    outcome.answers.append(http.post(f"/v1/runs/{run_id}/stop").status_code)
    outcome.final = _normalised(http.get(f"/v1/runs/{run_id}").json(), run_id)
    return outcome


def _run_apps(base_url: str) -> dict[str, AppOutcome]:
    headers = {"Authorization": f"Bearer {APP_KEY}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as http:
        return {name: drive(http, text, action) for name, (text, action) in APPS.items()}


def record(upstream: str, api_key: str) -> tuple[Any, dict[str, AppOutcome]]:
    """Run the apps against the real server through the recorder: (scenario, outcomes)."""
    from agentfakes.recording.httpx_recorder import recording_mock
    from agentfakes.recording.recorder import Recorder

    recorder = Recorder(upstream=upstream, api_key=api_key, app_key=APP_KEY)
    try:
        recorder.probe_version()
        with recording_mock(recorder, APP_BASE):
            outcomes = _run_apps(APP_BASE)
        recorder.wait(30.0)
        return recorder.scenario(), outcomes
    finally:
        recorder.close()


def replay(scenario: Any) -> dict[str, AppOutcome]:
    """Run the same apps offline against a fake that replays `scenario`."""
    from agentfakes.clocks import ManualClock
    from agentfakes.server import FakeRunsServer

    server = FakeRunsServer(api_key=APP_KEY, base_url=APP_BASE, clock=ManualClock())
    server.load_scenario(scenario, fail_unmatched=True)
    with server.mock():  # verify(): every recorded run replayed, with the recorded choices
        return _run_apps(APP_BASE)


def round_trip(
    upstream: str, api_key: str, *, write: Callable[[str], object] | None = None
) -> list[RoundTripResult]:
    """Record the five apps against `upstream`, replay them, compare app by app."""
    scenario, recorded = record(upstream, api_key)
    if write is not None:
        write(f"recorded {len(scenario.runs)} runs from {upstream}")
    try:
        replayed = replay(scenario)
    except Exception as exc:  # a replay that fails is the finding; report it per app
        return [
            RoundTripResult(name, recorded.get(name), None, f"replay failed: {exc}")
            for name in APPS
        ]
    results = []
    for name in APPS:
        got, want = replayed.get(name), recorded.get(name)
        difference = None
        if got is None or want is None:
            difference = "missing"
        else:
            for part in ("events", "final", "answers"):
                a, b = getattr(want, part), getattr(got, part)
                if a != b:
                    difference = f"{part}: recorded {a!r}, replayed {b!r}"
                    break
        results.append(RoundTripResult(name, want, got, difference))
    return results


def format_round_trip(results: list[RoundTripResult]) -> str:
    lines = [f"{'round trip':<20}  outcome"]
    for r in results:
        lines.append(f"{r.app:<20}  {'ok' if r.passed else 'DIFFERS'}")
    lines += [f"[round trip] {r.app}: {r.difference}" for r in results if not r.passed]
    passed = sum(r.passed for r in results)
    lines.append(f"round trip: {passed}/{len(results)} apps replay as recorded")
    return "\n".join(lines)
