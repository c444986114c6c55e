"""The black-box contract cases of hermes-runs-spec.md §10 that input markers can drive.

Each case talks plain HTTP to a `Target` (base URL + key, with the reference profile) and
raises `DriftMismatch` on the first difference from what the real hermes-agent 0.19.0 sends
(drift/OBSERVED.md), which is also what the fake sends with the reference script book. No
test-side control and no clock: a case waits only by reading a run's event stream, so on
a fake with a ManualClock it finishes at once, and on a real server it takes real time.
Every case leaves no run going (it reads each stream to the end or stops the run), since
the next case shares the server's concurrency cap.

Why one module: the cases are a catalogue in spec order; helpers they share sit on top.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentfakes.drift.client import (
    CLOSED,
    ISO_TIME,
    KEEPALIVE,
    RUN_ID,
    DriftClient,
    DriftMismatch,
    EventStream,
)
from agentfakes.drift.script_book import (
    ANSWER,
    BLOCKED,
    FAIL401,
    FAIL500,
    GUARD,
    MEDIUM_ANSWER,
    REMOVED,
    STALL_ANSWER,
    TOOL_ANSWER,
    marker,
    turn_usage,
    words,
)
from agentfakes.models import with_iteration_limit_notice

__all__ = ["CASES", "Case", "case_names"]

CaseFunc = Callable[[DriftClient], None]


@dataclass(frozen=True)
class Case:
    """One black-box case: its name, the spec cases it covers, and whether it is slow."""

    name: str
    spec: str
    run: CaseFunc
    seconds: float  # about how long it takes against the real server

    def __repr__(self) -> str:
        return f"<Case {self.name} ({self.spec})>"


CASES: dict[str, Case] = {}


def case(name: str, spec: str, seconds: float = 0.1) -> Callable[[CaseFunc], CaseFunc]:
    def register(func: CaseFunc) -> CaseFunc:
        CASES[name] = Case(name, spec, func, seconds)
        return func

    return register


def case_names() -> list[str]:
    return list(CASES)


# ---------------------------------------------------------------- expected shapes

INVALID_KEY = {
    "error": {
        "message": "Invalid API key",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}
CRASH_BODY = b"500 Internal Server Error\n\nServer got itself in trouble"
ALL_CHOICES = ["once", "session", "always", "deny"]
RUN_KEYS = ["object", "run_id", "status", "updated_at", "created_at", "session_id", "model"]
# How late an agent's first event may come after the POST, beyond the observed ~0.3 s: the
# real server builds the agent first, which takes longer on a busy machine (1.6 s seen).
STARTUP = 2.5
BAD_CHOICE = "Invalid approval choice; expected one of: once, session, always, deny"


def err(message: str, code: str | None, err_type: str = "invalid_request_error") -> dict[str, Any]:
    """The `_openai_error` envelope (spec §1.4)."""
    return {"error": {"message": message, "type": err_type, "param": None, "code": code}}


def run404(run_id: str) -> dict[str, Any]:
    return err(f"Run not found: {run_id}", "run_not_found")


@dataclass(frozen=True)
class About:
    """An expected number that may vary: within `tolerance` of `value` (a tool's duration)."""

    value: float
    tolerance: float


def delta(text: str) -> dict[str, Any]:
    return {"event": "message.delta", "delta": text}


def reasoning(text: str) -> dict[str, Any]:
    return {"event": "reasoning.available", "text": text}


def completed(output: str | None, turns: int) -> dict[str, Any]:
    return {"event": "run.completed", "output": output, "usage": usage(turns)}


def usage(turns: int) -> dict[str, int]:
    return turn_usage(turns).to_wire()


def tool_started(preview: str) -> dict[str, Any]:
    return {"event": "tool.started", "tool": "terminal", "preview": preview}


def tool_completed(duration: About, error: bool) -> dict[str, Any]:
    return {"event": "tool.completed", "tool": "terminal", "duration": duration, "error": error}


def answer(text: str, turns: int, lead: str = "") -> list[dict[str, Any]]:
    """A turn's text as the fake LLM streams it, then reasoning and the completion."""
    pieces = words(text)
    return [
        *(delta(lead + p if i == 0 else p) for i, p in enumerate(pieces)),
        reasoning(text),
        completed(text, turns),
    ]


def expect_events(
    c: DriftClient,
    where: str,
    run_id: str,
    events: list[dict[str, Any]],
    expected: list[dict[str, Any]],
) -> list[float]:
    """Events equal to `expected` (names first, for a readable mismatch); their timestamps."""
    c.names(f"{where} event names", [e["event"] for e in expected], events)
    stamps = []
    for index, (got, want) in enumerate(zip(events, expected, strict=True)):
        want = dict(want)
        for key, value in list(want.items()):
            if isinstance(value, About):
                c.near(
                    f"{where}[{index}] {want['event']}.{key}",
                    value.value,
                    got.get(key),
                    value.tolerance,
                )
                want[key] = got.get(key)
        stamps.append(c.event(f"{where}[{index}] {want['event']}", run_id, got, want))
    return stamps


def ends_closed(c: DriftClient, where: str, frames: list[bytes]) -> list[dict[str, Any]]:
    """The data events of `frames`, which end with `: stream closed` and then the body ends."""
    c.equal(f"{where} last frame", CLOSED, frames[-1] if frames else None)
    from agentfakes.drift.client import parse_event_frame

    body = [f for f in frames[:-1] if f != KEEPALIVE]
    return [parse_event_frame(c.case, f) for f in body]


def rest_events(c: DriftClient, where: str, stream: EventStream) -> list[dict[str, Any]]:
    """The remaining events of an open stream, which must end the normal way."""
    frames = stream.rest()
    return ends_closed(c, where, frames)


def read_events(c: DriftClient, run_id: str, where: str) -> list[dict[str, Any]]:
    return ends_closed(c, where, c.read(run_id))


def check_run(
    c: DriftClient,
    where: str,
    run: dict[str, Any],
    run_id: str,
    status: str,
    extra: dict[str, Any],
    *,
    session_id: Any = None,
    model: Any = "hermes-agent",
) -> None:
    """A run object: the fixed keys in order, then exactly `extra` (in its order)."""
    c.keys(where, RUN_KEYS + list(extra), run)
    c.equal(f"{where}.object", "hermes.run", run["object"])
    c.equal(f"{where}.run_id", run_id, run["run_id"])
    c.equal(f"{where}.status", status, run["status"])
    for key in ("created_at", "updated_at"):
        if not isinstance(run[key], float):
            raise DriftMismatch(c.case, f"{where}.{key}", "a float", run[key])
    c.equal(f"{where}.session_id", run_id if session_id is None else session_id, run["session_id"])
    c.equal(f"{where}.model", model, run["model"])
    for key, value in extra.items():
        c.equal(f"{where}.{key}", value, run[key])


def victim(c: DriftClient) -> str:
    return f"rm -rf {c.target.scratch.rstrip('/')}/victim"


def approval_request(c: DriftClient, where: str, run_id: str, event: dict[str, Any]) -> float:
    """The `approval.request` of the `approval` marker, exactly, approval keys first (§5.4)."""
    command = victim(c)
    expected = {
        "command": command,
        "pattern_key": GUARD,
        "pattern_keys": [GUARD],
        "description": GUARD,
        "allow_permanent": True,
        "event": "approval.request",
        "run_id": run_id,
        "timestamp": event.get("timestamp"),
        "choices": ALL_CHOICES,
    }
    c.keys(where, list(expected), event)
    c.equal(where, expected, event)
    stamp = event["timestamp"]
    if not isinstance(stamp, float):
        raise DriftMismatch(c.case, f"{where}.timestamp", "a float", stamp)
    return stamp


def gated(c: DriftClient, stream: EventStream, run_id: str) -> float:
    """Read `tool.started` and `approval.request` of an `approval` run; the request's time."""
    events = stream.until("approval.request")
    c.names("events before the gate", ["tool.started", "approval.request"], events)
    expect_events(c, "events", run_id, events[:1], [tool_started(victim(c))])
    return approval_request(c, "events[1] approval.request", run_id, events[1])


# =================================================================== auth and probes


@case("01 health", "§10.1")
def health(c: DriftClient) -> None:
    body = {"status": "ok", "platform": "hermes-agent", "version": "0.19.0"}
    for path in ("/health", "/v1/health"):
        c.json(c.get(path, auth=False), 200, body, f"GET {path}")


@case("02 invalid key", "§10.2")
def invalid_key(c: DriftClient) -> None:
    key = c.target.api_key
    for label, auth in (
        ("no auth", False),
        ("wrong key", "Bearer wrong-key-0123456789abcdef"),
        ("lowercase bearer", f"bearer {key}"),
        ("bare key", key),
    ):
        c.json(c.get("/v1/models", auth=auth), 401, INVALID_KEY, f"GET /v1/models ({label})")


@case("03 bearer with extra spaces", "§10.3")
def bearer_spaces(c: DriftClient) -> None:
    # httpx refuses to send trailing blanks in a header; the leading ones show the strip().
    response = c.get("/v1/models", auth=f"Bearer    {c.target.api_key}")
    c.status(response, 200, "GET /v1/models with 'Bearer    K'")


@case("04 auth before anything", "§10.4")
def auth_first(c: DriftClient) -> None:
    for method, path in (
        ("POST", "/v1/runs"),
        ("GET", "/v1/runs/run_nope"),
        ("GET", "/v1/runs/run_nope/events"),
        ("POST", "/v1/runs/run_nope/approval"),
        ("POST", "/v1/runs/run_nope/stop"),
    ):
        c.json(c.request(method, path, auth=False), 401, INVALID_KEY, f"{method} {path}")


@case("05 models", "§10.5")
def models(c: DriftClient) -> None:
    response = c.get("/v1/models")
    c.status(response, 200, "GET /v1/models")
    body = response.json()
    c.equal("models.object", "list", body.get("object"))
    first = dict(body["data"][0])
    if not isinstance(first.get("created"), int):
        raise DriftMismatch(c.case, "models.data[0].created", "an int", first.get("created"))
    first["created"] = 0
    c.equal(
        "models.data[0]",
        {
            "id": "hermes-agent",
            "object": "model",
            "created": 0,
            "owned_by": "hermes",
            "permission": [],
            "root": "hermes-agent",
            "parent": None,
        },
        first,
    )
    c.keys(
        "models.data[0]",
        ["id", "object", "created", "owned_by", "permission", "root", "parent"],
        first,
    )


@case("06 capabilities", "§10.6")
def capabilities(c: DriftClient) -> None:
    response = c.get("/v1/capabilities")
    c.status(response, 200, "GET /v1/capabilities")
    body = response.json()
    c.equal("capabilities.object", "hermes.api_server.capabilities", body.get("object"))
    c.equal("capabilities.auth", {"type": "bearer", "required": True}, body.get("auth"))
    features = body.get("features", {})
    for flag in (
        "run_submission",
        "run_status",
        "run_events_sse",
        "run_stop",
        "run_approval_response",
        "tool_progress_events",
        "approval_events",
    ):
        c.equal(f"capabilities.features.{flag}", True, features.get(flag))
    endpoints = body.get("endpoints", {})
    for name, method, path in (
        ("runs", "POST", "/v1/runs"),
        ("run_status", "GET", "/v1/runs/{run_id}"),
        ("run_events", "GET", "/v1/runs/{run_id}/events"),
        ("run_approval", "POST", "/v1/runs/{run_id}/approval"),
        ("run_stop", "POST", "/v1/runs/{run_id}/stop"),
    ):
        c.equal(
            f"capabilities.endpoints.{name}", {"method": method, "path": path}, endpoints.get(name)
        )


@case("07 health detailed", "§10.7")
def health_detailed(c: DriftClient) -> None:
    c.json(c.get("/health/detailed", auth=False), 401, INVALID_KEY, "GET /health/detailed")
    response = c.get("/health/detailed")
    c.status(response, 200, "GET /health/detailed")
    body = response.json()
    c.keys(
        "health/detailed",
        [
            "status",
            "readiness",
            "platform",
            "version",
            "gateway_state",
            "platforms",
            "active_agents",
            "gateway_busy",
            "gateway_drainable",
            "exit_reason",
            "updated_at",
            "pid",
        ],
        body,
    )
    if body["status"] not in ("ok", "degraded"):
        raise DriftMismatch(c.case, "health/detailed.status", "ok or degraded", body["status"])
    c.keys("health/detailed.readiness", ["status", "checks"], body["readiness"])
    c.keys(
        "health/detailed.readiness.checks",
        ["state_db", "config", "model", "disk", "gateway", "background_queues"],
        body["readiness"]["checks"],
    )
    c.keys(
        "health/detailed...background_queues",
        ["status", "active_api_runs", "process_completions", "active_delegations"],
        body["readiness"]["checks"]["background_queues"],
    )
    checks = body["readiness"]["checks"]
    c.keys("health/detailed...disk", ["status", "used_percent", "free_bytes"], checks["disk"])
    c.keys(
        "health/detailed...gateway",
        ["status", "state", "connected_platforms", "platforms"],
        checks["gateway"],
    )
    c.equal("health/detailed.gateway_state", "running", body["gateway_state"])
    c.keys("health/detailed.platforms", ["api_server"], body["platforms"])
    c.keys(
        "health/detailed.platforms.api_server",
        ["state", "error_code", "error_message", "updated_at"],
        body["platforms"]["api_server"],
    )
    # The runtime status file's times are ISO strings; state_db and config are bare checks.
    for where, value in (
        ("health/detailed.updated_at", body["updated_at"]),
        (
            "health/detailed.platforms.api_server.updated_at",
            body["platforms"]["api_server"]["updated_at"],
        ),
    ):
        c.check(where, value, ISO_TIME)
    c.keys("health/detailed...state_db", ["status"], checks["state_db"])
    c.keys("health/detailed...config", ["status"], checks["config"])


# =================================================================== create


@case("08 create", "§10.8, 17, 21, 22, 25", seconds=0.5)
def create(c: DriftClient) -> None:
    response = c.post("/v1/runs", json={"input": "hi"})
    c.status(response, 202, "POST /v1/runs")
    run_id = response.json().get("run_id")
    c.check("202 run_id", run_id, RUN_ID)
    c.runs.append(run_id)
    c.json(response, 202, {"run_id": run_id, "status": "started"}, "POST /v1/runs")
    c.equal("202 X-Hermes-Session-Key header", None, response.headers.get("x-hermes-session-key"))
    # straight after the 202 (case 21): running, no last_event yet
    check_run(c, "GET right after 202", c.run(run_id), run_id, "running", {})
    events = read_events(c, run_id, "events")
    expect_events(c, "events (no marker)", run_id, events, answer("ok", 1))
    check_run(
        c,
        "GET after the end",
        c.run(run_id),
        run_id,
        "completed",
        {"last_event": "run.completed", "output": "ok", "usage": usage(1)},
    )


@case("09 session key echoed", "§10.9", seconds=0.5)
def session_key(c: DriftClient) -> None:
    response = c.post(
        "/v1/runs", json={"input": "hi"}, headers={"X-Hermes-Session-Key": "agent:main:x"}
    )
    c.status(response, 202, "POST /v1/runs")
    c.runs.append(response.json()["run_id"])
    c.equal(
        "202 X-Hermes-Session-Key header",
        "agent:main:x",
        response.headers.get("x-hermes-session-key"),
    )
    read_events(c, response.json()["run_id"], "events")


@case("10 session key too long", "§10.10")
def session_key_too_long(c: DriftClient) -> None:
    response = c.post("/v1/runs", json={"input": "hi"}, headers={"X-Hermes-Session-Key": "k" * 257})
    c.json(
        response,
        400,
        {"error": {"message": "Session key too long", "type": "invalid_request_error"}},
        "POST /v1/runs",
    )


@case("11-15 invalid create bodies", "§10.11-15")
def invalid_bodies(c: DriftClient) -> None:
    for content in (b"{bad", b""):
        c.json(
            c.post("/v1/runs", content=content),
            400,
            err("Invalid JSON", None),
            f"POST /v1/runs {content!r}",
        )
    missing: list[dict[str, Any]] = [{}, {"input": ""}, {"input": []}, {"input": None}]
    for body in missing:
        c.json(
            c.post("/v1/runs", json=body),
            400,
            err("Missing 'input' field", None),
            f"POST /v1/runs {json.dumps(body)}",
        )
    no_message: list[dict[str, Any]] = [
        {"input": {"a": 1}},
        {"input": 5},
        {"input": [{"role": "user"}]},
    ]
    for body in no_message:
        c.json(
            c.post("/v1/runs", json=body),
            400,
            err("No user message found in input", None),
            f"POST /v1/runs {json.dumps(body)}",
        )
    body14 = {"input": "x", "conversation_history": "abc"}
    c.json(
        c.post("/v1/runs", json=body14),
        400,
        err("'conversation_history' must be an array of message objects", None),
        "POST /v1/runs history 'abc'",
    )
    body15 = {"input": "x", "conversation_history": [{"role": "user"}]}
    c.json(
        c.post("/v1/runs", json=body15),
        400,
        err("conversation_history[0] must have 'role' and 'content' fields", None),
        "POST /v1/runs history entry without content",
    )


@case("16 non-object bodies crash", "§10.16")
def non_object_bodies(c: DriftClient) -> None:
    for content in (b"[1]", b'{"input": ["hi"]}'):
        response = c.post("/v1/runs", content=content)
        c.status(response, 500, f"POST /v1/runs {content!r}")
        c.equal(
            f"{content!r} content-type",
            "text/plain; charset=utf-8",
            response.headers.get("content-type"),
        )
        c.equal(f"{content!r} body", CRASH_BODY, response.content)
        c.equal(
            f"{content!r} header x-frame-options (none on aiohttp's own errors)",
            None,
            response.headers.get("x-frame-options"),
        )


@case("18 session and model reported", "§10.18", seconds=0.5)
def session_and_model(c: DriftClient) -> None:
    run_id = c.create({"input": "x", "session_id": "s1", "model": "m1"})
    check_run(c, "GET", c.run(run_id), run_id, "running", {}, session_id="s1", model="m1")
    read_events(c, run_id, "events")


@case("19 concurrency cap", "§10.19", seconds=3.5)
def concurrency_cap(c: DriftClient) -> None:
    cap = c.target.profile.max_concurrent_runs
    first = [c.create({"input": marker("medium")}) for _ in range(cap)]
    message = f"Too many concurrent runs (max {cap})"
    body = err(message, "rate_limit_exceeded", "rate_limit_error")
    for label, kwargs in (("hi", {"json": {"input": "hi"}}), ("{bad", {"content": b"{bad"})):
        response = c.post("/v1/runs", **kwargs)
        c.json(response, 429, body, f"POST /v1/runs at the cap ({label})")
        c.equal("429 Retry-After", "1", response.headers.get("retry-after"))
    events = read_events(c, first[0], "medium events")
    stamps = expect_events(
        c,
        "medium events",
        first[0],
        events,
        [
            *(delta(p) for p in words(MEDIUM_ANSWER)),
            reasoning(MEDIUM_ANSWER),
            completed(MEDIUM_ANSWER, 1),
        ],
    )
    created_at = c.run(first[0])["created_at"]
    c.near("medium: first delta after the POST", 0.4, stamps[0] - created_at, STARTUP)
    c.near("medium: run.completed after its first delta", 2.73, stamps[-1] - stamps[0], 0.5)
    c.near("medium: seconds between deltas", 0.3, (stamps[9] - stamps[0]) / 9, 0.1)
    again = c.create({"input": "hi"})  # a slot is free again
    for run_id in (again, *first[1:]):
        read_events(c, run_id, "events")


# =================================================================== poll and events


@case("20 unknown run", "§10.20")
def unknown_run(c: DriftClient) -> None:
    c.json(c.get("/v1/runs/run_nope"), 404, run404("run_nope"), "GET /v1/runs/run_nope")


@case("25 happy path stream", "§10.22, 25", seconds=0.5)
def happy_path(c: DriftClient) -> None:
    run_id = c.create({"input": marker("complete")})
    events = read_events(c, run_id, "events")
    stamps = expect_events(c, "events", run_id, events, answer(ANSWER, 1))
    run = c.run(run_id)
    check_run(
        c,
        "GET",
        run,
        run_id,
        "completed",
        {"last_event": "run.completed", "output": ANSWER, "usage": usage(1)},
    )
    c.near("first delta after the POST", 0.3, stamps[0] - run["created_at"], STARTUP)
    if stamps != sorted(stamps):
        raise DriftMismatch(c.case, "event timestamps", "non-decreasing", stamps)


@case("echo marker", "OBSERVED §5", seconds=0.5)
def echo(c: DriftClient) -> None:
    run_id = c.create({"input": marker("echo", "say this back")})
    events = read_events(c, run_id, "events")
    expect_events(c, "events", run_id, events, answer("turn 1: say this back", 1))


@case("26 tool turn", "§10.26", seconds=0.5)
def tool_turn(c: DriftClient) -> None:
    run_id = c.create({"input": marker("tool")})
    events = read_events(c, run_id, "events")
    expect_events(
        c,
        "events",
        run_id,
        events,
        [
            tool_started("echo tool-ran"),
            tool_completed(About(0.06, 0.5), False),
            *answer(TOOL_ANSWER, 2, lead="\n\n"),
        ],
    )
    check_run(
        c,
        "GET",
        c.run(run_id),
        run_id,
        "completed",
        {"last_event": "run.completed", "output": TOOL_ANSWER, "usage": usage(2)},
    )


@case("51 iteration limit", "§10.51", seconds=0.7)
def iteration_limit(c: DriftClient) -> None:
    turns = c.target.profile.max_turns
    run_id = c.create({"input": marker("loop")})
    events = read_events(c, run_id, "events")
    expected: list[dict[str, Any]] = []
    for turn in range(1, turns + 1):
        expected += [
            tool_started(f"echo loop-iteration-{turn}"),
            tool_completed(About(0.03, 0.5), False),
        ]
    output = with_iteration_limit_notice("ok")
    expect_events(c, "events", run_id, events, [*expected, completed(output, turns)])
    check_run(
        c,
        "GET",
        c.run(run_id),
        run_id,
        "completed",
        {"last_event": "run.completed", "output": output, "usage": usage(turns)},
    )


@case("31 failing run", "§10.23, 31, 50", seconds=0.7)
def failing_run(c: DriftClient) -> None:
    for name, text in (("fail500", FAIL500), ("fail401", FAIL401)):
        run_id = c.create({"input": marker(name)})
        events = read_events(c, run_id, f"{name} events")
        expect_events(c, f"{name} events", run_id, events, [{"event": "run.failed", "error": text}])
        # a failure before any event sets `error` before `last_event` (OBSERVED §3)
        check_run(
            c,
            f"{name} GET",
            c.run(run_id),
            run_id,
            "failed",
            {"error": text, "last_event": "run.failed"},
        )


@case("27 late subscribe, 28 second subscribe", "§10.27, 28", seconds=4.5)
def late_subscribe(c: DriftClient) -> None:
    early = c.create({"input": marker("complete")})
    later = c.create({"input": marker("medium")})
    read_events(c, later, "medium events")  # by its end, the early run is long over
    c.equal("early run status", "completed", c.run(early)["status"])
    events = read_events(c, early, "late events")
    expect_events(c, "late events", early, events, answer(ANSWER, 1))
    for run_id in (early, later):
        response, seconds = c.events_error(run_id)
        c.json(response, 404, run404(run_id), "second GET …/events")
        if c.target.real_time:
            c.near("second subscribe: seconds before the 404", 1.0, seconds, 0.5)


@case("29 unknown run events", "§10.29", seconds=1.1)
def unknown_run_events(c: DriftClient) -> None:
    response, seconds = c.events_error("run_nope")
    c.json(response, 404, run404("run_nope"), "GET /v1/runs/run_nope/events")
    if c.target.real_time:
        c.near("seconds before the 404", 1.0, seconds, 0.5)


@case("30 keepalive", "§10.30", seconds=36)
def keepalive(c: DriftClient) -> None:
    run_id = c.create({"input": marker("stall")})
    with c.stream(run_id) as stream:
        subscribed = time.monotonic()
        first = stream.next()
        waited = time.monotonic() - subscribed
        frames = stream.rest()
    c.equal("first frame", KEEPALIVE, first)
    if c.target.real_time:
        c.near("keepalive after the subscribe", 30.0, waited, 1.5)
    events = ends_closed(c, "events", frames)
    stamps = expect_events(c, "events", run_id, events, answer(STALL_ANSWER, 1))
    c.near("answer after the POST", 35.3, stamps[0] - c.run(run_id)["created_at"], STARTUP)


# =================================================================== approval


@case("33-39 approve once", "§10.33-39", seconds=1.0)
def approve_once(c: DriftClient) -> None:
    run_id = c.create({"input": marker("approval")})
    with c.stream(run_id) as stream:
        requested = gated(c, stream, run_id)
        run = c.run(run_id)
        check_run(
            c,
            "GET while waiting",
            run,
            run_id,
            "waiting_for_approval",
            {"last_event": "approval.request"},
        )
        c.near("approval.request after the POST", 0.35, requested - run["created_at"], STARTUP)
        c.json(
            c.approve(run_id, {"choice": "once"}),
            200,
            {
                "object": "hermes.run.approval_response",
                "run_id": run_id,
                "choice": "once",
                "resolved": 1,
            },
            "POST approval once",
        )
        c.json(
            c.approve(run_id, {"choice": "once"}),
            409,
            err(f"Run has no pending approval: {run_id}", "approval_not_pending"),
            "second POST approval once",
        )
        check_run(
            c,
            "GET after the approve",
            c.run(run_id),
            run_id,
            "running",
            {"last_event": "approval.responded"},
        )
        # spec cases 36-37: the body is checked before the run's state (§2.4)
        for body in ({"choice": "yes"}, {}, {"choice": 1}):
            c.json(
                c.approve(run_id, body),
                400,
                err(BAD_CHOICE, "invalid_approval_choice"),
                f"POST approval {json.dumps(body)}",
            )
        c.json(
            c.approve(run_id, content=b"{bad"), 400, err("Invalid JSON", None), "POST approval {bad"
        )
        c.json(
            c.approve("run_nope", content=b"{bad"),
            404,
            run404("run_nope"),
            "POST approval {bad to run_nope",
        )
        events = rest_events(c, "events after the approve", stream)
    stamps = expect_events(
        c,
        "events after the approve",
        run_id,
        events,
        [
            {"event": "approval.responded", "choice": "once", "resolved": 1},
            tool_completed(About(0.06, 0.5), False),
            *answer(REMOVED, 2, lead="\n\n"),
        ],
    )
    c.near("tool.completed after approval.responded", 0.03, stamps[1] - stamps[0], 0.3)
    check_run(
        c,
        "GET after the end",
        c.run(run_id),
        run_id,
        "completed",
        {"last_event": "run.completed", "output": REMOVED, "usage": usage(2)},
    )
    c.json(
        c.approve(run_id, {"choice": "once"}),
        409,
        err(f"Run has no active approval session: {run_id}", "approval_not_active"),
        "POST approval once after the end",
    )
    c.json(
        c.approve(run_id, {"choice": "yes"}),
        400,
        err(BAD_CHOICE, "invalid_approval_choice"),
        "POST approval 'yes' after the end",
    )


@case("35 choice aliases", "§10.35", seconds=2.0)
def choice_aliases(c: DriftClient) -> None:
    for choice in (" Approve ", "approved", "ALLOW"):
        run_id = c.create({"input": marker("approval")})
        with c.stream(run_id) as stream:
            gated(c, stream, run_id)
            c.json(
                c.approve(run_id, {"choice": choice}),
                200,
                {
                    "object": "hermes.run.approval_response",
                    "run_id": run_id,
                    "choice": "once",
                    "resolved": 1,
                },
                f"POST approval {choice!r}",
            )
            events = rest_events(c, f"events after {choice!r}", stream)
        expect_events(
            c,
            f"events after {choice!r}",
            run_id,
            events[:1],
            [{"event": "approval.responded", "choice": "once", "resolved": 1}],
        )


@case("40 deny", "§10.40", seconds=1.0)
def deny(c: DriftClient) -> None:
    run_id = c.create({"input": marker("approval")})
    with c.stream(run_id) as stream:
        gated(c, stream, run_id)
        c.json(
            c.approve(run_id, {"choice": "deny"}),
            200,
            {
                "object": "hermes.run.approval_response",
                "run_id": run_id,
                "choice": "deny",
                "resolved": 1,
            },
            "POST approval deny",
        )
        events = rest_events(c, "events after the deny", stream)
    stamps = expect_events(
        c,
        "events after the deny",
        run_id,
        events,
        [
            {"event": "approval.responded", "choice": "deny", "resolved": 1},
            tool_completed(About(0.03, 0.5), True),
            *answer(BLOCKED, 2, lead="\n\n"),
        ],
    )
    c.near("tool.completed after approval.responded", 0.003, stamps[1] - stamps[0], 0.2)
    check_run(
        c,
        "GET after the end",
        c.run(run_id),
        run_id,
        "completed",
        {"last_event": "run.completed", "output": BLOCKED, "usage": usage(2)},
    )


@case("42 approval timeout", "§10.42", seconds=6.0)
def approval_timeout(c: DriftClient) -> None:
    timeout = c.target.profile.approval_timeout
    run_id = c.create({"input": marker("approval")})
    with c.stream(run_id) as stream:
        requested = gated(c, stream, run_id)
        check_run(
            c,
            "GET while waiting",
            c.run(run_id),
            run_id,
            "waiting_for_approval",
            {"last_event": "approval.request"},
        )
        blocked = stream.event()  # no event at all until the timeout
        timed_out = expect_events(
            c,
            "event after the timeout",
            run_id,
            [blocked],
            [tool_completed(About(timeout, 0.5), True)],
        )[0]
        c.near("tool.completed after approval.request", timeout, timed_out - requested, 0.5)
        c.json(
            c.approve(run_id, {"choice": "once"}),
            409,
            err(f"Run has no pending approval: {run_id}", "approval_not_pending"),
            "POST approval once after the timeout",
        )
        run = c.run(run_id)  # the status sticks (quirk), last_event moves on
        c.equal("GET after the timeout: status", "waiting_for_approval", run["status"])
        events = rest_events(c, "events after the timeout", stream)
    expect_events(c, "events after the timeout", run_id, events, answer(BLOCKED, 2, "\n\n"))
    check_run(
        c,
        "GET after the end",
        c.run(run_id),
        run_id,
        "completed",
        {"last_event": "run.completed", "output": BLOCKED, "usage": usage(2)},
    )


@case("45 stop while waiting", "§10.45", seconds=1.5)
def stop_while_waiting(c: DriftClient) -> None:
    run_id = c.create({"input": marker("approval")})
    with c.stream(run_id) as stream:
        requested = gated(c, stream, run_id)
        c.json(c.stop(run_id), 200, {"run_id": run_id, "status": "stopping"}, "POST stop")
        run = c.run(run_id)
        # The real approval wait looks for the stop once a second from the request, so the
        # gated tool may already have ended (`tool.completed`, status still stopping).
        last = run.get("last_event")
        if last != "tool.completed":
            last = "run.stopping"
        check_run(c, "GET after the stop", run, run_id, "stopping", {"last_event": last})
        events = rest_events(c, "events after the stop", stream)
    stamps = expect_events(
        c,
        "events after the stop",
        run_id,
        events,
        [
            tool_completed(About(1.0, 0.5), True),
            {"event": "run.cancelled"},
        ],
    )
    c.near("tool.completed after approval.request", 1.0, stamps[0] - requested, 0.3)
    check_run(
        c, "GET after the end", c.run(run_id), run_id, "cancelled", {"last_event": "run.cancelled"}
    )


# =================================================================== stop


@case("44 stop mid-run", "§10.24, 44, 46, 47, 52", seconds=2.5)
def stop_mid_run(c: DriftClient) -> None:
    run_id = c.create({"input": marker("slow")})
    with c.stream(run_id) as stream:
        before = [stream.event() for _ in range(3)]
        expect_events(c, "events before the stop", run_id, before, [delta("tick ")] * 3)
        c.json(c.stop(run_id), 200, {"run_id": run_id, "status": "stopping"}, "POST stop")
        c.json(c.stop(run_id), 200, {"run_id": run_id, "status": "stopping"}, "second stop")
        run = c.run(run_id)
        check_run(c, "GET after the stop", run, run_id, "stopping", {"last_event": "run.stopping"})
        events = rest_events(c, "events after the stop", stream)
    # a delta already on its way may still come (never seen on the real server)
    late = [e for e in events[:-1] if e.get("event") == "message.delta"]
    if len(late) > 1:
        raise DriftMismatch(c.case, "deltas after the stop", "at most 1", len(late))
    stamps = expect_events(
        c, "events after the stop", run_id, events[len(late) :], [{"event": "run.cancelled"}]
    )
    c.near("run.cancelled after the stop", 0.05, stamps[0] - run["updated_at"], 0.5)
    check_run(
        c, "GET after the end", c.run(run_id), run_id, "cancelled", {"last_event": "run.cancelled"}
    )
    c.json(c.stop(run_id), 404, run404(run_id), "stop on a cancelled run")


@case("46 stop a finished run", "§10.46", seconds=0.5)
def stop_finished(c: DriftClient) -> None:
    run_id = c.create({"input": "hi"})
    read_events(c, run_id, "events")
    c.json(c.stop(run_id), 404, run404(run_id), "stop on a completed run")
    failed = c.create({"input": marker("fail500")})
    read_events(c, failed, "events")
    c.json(c.stop(failed), 404, run404(failed), "stop on a failed run")
    c.json(c.stop("run_nope"), 404, run404("run_nope"), "stop on run_nope")
