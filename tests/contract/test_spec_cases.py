"""The 52 contract cases of hermes-runs-spec.md §10, one test (or group) per case.

Every test runs twice (see conftest): against `server.mock()` and against `server.serve()`.
Nothing sleeps: timelines run on a ManualClock, either jumped by the stream reader
(`auto_clock`) or moved by the test (`driven_clock`).
"""

from __future__ import annotations

import http.client
import json
import re
import time
from typing import Any

import pytest

from agentfakes.clocks import RealClock
from agentfakes.models import ITERATION_LIMIT_NOTICE
from agentfakes.script import Script

from .conftest import (
    CLOSED,
    INVALID_KEY,
    JSON_TYPE,
    KEEPALIVE,
    Api,
    MakeApi,
    Stream,
    assert_json,
    assert_no_security_headers,
    auto_clock,
    data_frame,
    driven_clock,
    err,
    events_of,
    names_of,
    parse_frame,
    run404,
)

RUN_ID = re.compile(r"^run_[0-9a-f]{32}$")
CRASH_BODY = b"500 Internal Server Error\n\nServer got itself in trouble"
ALL_CHOICES = ["once", "session", "always", "deny"]
BAD_CHOICE = err(
    "Invalid approval choice; expected one of: once, session, always, deny",
    "invalid_approval_choice",
)
USAGE = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}

# A tool turn gated by an approval, as a real agent produces it (spec §5.5).
GATED = (
    Script()
    .tool_started("terminal", "rm -rf build")
    .approval("rm -rf build", "delete in root path", pattern_key="delete_root")
    .tool_completed("terminal")
    .answer("Deleted.", usage=USAGE)
)
# The same, with the gated tool still busy for 2 s after the decision.
GATED_SLOW = (
    Script()
    .tool_started("terminal", "rm -rf build")
    .approval("rm -rf build", "delete in root path", pattern_key="delete_root")
    .wait(2)
    .tool_completed("terminal")
    .answer("Deleted.", usage=USAGE)
)


def assert_text_error(response: Any, status: int, body: bytes) -> None:
    """aiohttp's own text/plain errors: no security headers (spec §1.1, §1.2)."""
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content == body
    assert_no_security_headers(response)


def wall() -> float:
    return time.monotonic()


# =================================================================== auth and probes


def test_case_01_health_without_auth(api: Api) -> None:
    for path in ("/health", "/v1/health"):
        response = api.get(path, auth=False)
        assert_json(
            response, 200, {"status": "ok", "platform": "hermes-agent", "version": "0.19.0"}
        )
        assert isinstance(response.json()["version"], str)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-key-0123456789abcdef", "bearer {key}", "{key}", "Bearer", "Basic {key}"],
    ids=["missing", "wrong-key", "lowercase-bearer", "bare-key", "bearer-only", "basic"],
)
def test_case_02_invalid_api_key(api: Api, authorization: str | None) -> None:
    auth: bool | str = False if authorization is None else authorization.format(key=api.key)
    response = api.get("/v1/models", auth=auth)
    assert_json(response, 401, INVALID_KEY)
    assert "param" not in response.json()["error"]


def test_case_03_bearer_with_extra_spaces(api: Api) -> None:
    raw = f"Bearer    {api.key}  "
    if api.transport == "mock":
        response = api.get("/v1/models", auth=raw)
        assert response.status_code == 200, response.text
        assert response.json()["object"] == "list"
    else:
        # httpx (h11) refuses to send trailing whitespace in a header; http.client does not.
        host, port = api.base_url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", "/v1/models", headers={"Authorization": raw})
            reply = conn.getresponse()
            assert reply.status == 200
            assert json.loads(reply.read())["object"] == "list"
        finally:
            conn.close()
    # Several spaces between the scheme and the key are kept by HTTP and stripped by the server.
    assert api.get("/v1/models", auth=f"Bearer    {api.key}").status_code == 200


def test_case_04_runs_endpoints_check_auth_first(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(Script().complete("done"))
    run_id = api.create()
    api.server.drain()  # auth comes before the 503 of a draining gateway too
    endpoints = [("POST", "/v1/runs", b'{"input": "hi"}'), ("POST", "/v1/runs", b"{bad")]
    for rid in ("run_nope", run_id):
        endpoints += [
            ("GET", f"/v1/runs/{rid}", b""),
            ("GET", f"/v1/runs/{rid}/events", b""),
            ("POST", f"/v1/runs/{rid}/approval", b'{"choice": "once"}'),
            ("POST", f"/v1/runs/{rid}/stop", b""),
        ]
    before = api.clock.now()
    for method, path, body in endpoints:
        for auth in (False, "Bearer nope-nope-nope-nope"):
            response = api.request(method, path, auth=auth, content=body)
            assert_json(response, 401, INVALID_KEY)
    assert api.clock.now() == before, "a 401 on …/events must not poll for the stream first"
    api.server.drain(False)
    assert api.read(run_id)[-1] == CLOSED  # the 401s neither consumed nor unregistered it


def test_case_05_models(api: Api) -> None:
    response = api.get("/v1/models")
    assert_json(response, 200, response.json(), exact_bytes=False)
    body = response.json()
    assert body["object"] == "list"
    first = body["data"][0]
    assert isinstance(first["created"], int) and not isinstance(first["created"], bool)
    assert first == {
        "id": "hermes-agent",
        "object": "model",
        "created": first["created"],
        "owned_by": "hermes",
        "permission": [],
        "root": "hermes-agent",
        "parent": None,
    }


def test_case_06_capabilities(api: Api) -> None:
    response = api.get("/v1/capabilities")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_TYPE
    body = response.json()
    assert body["object"] == "hermes.api_server.capabilities"
    assert body["auth"] == {"type": "bearer", "required": True}
    assert body["features"]["run_events_sse"] is True
    assert body["endpoints"]["run_approval"] == {
        "method": "POST",
        "path": "/v1/runs/{run_id}/approval",
    }
    for name in ("run_submission", "run_status", "run_stop", "run_approval_response"):
        assert body["features"][name] is True
    assert body["endpoints"]["runs"] == {"method": "POST", "path": "/v1/runs"}
    assert api.get("/v1/capabilities", auth=False).status_code == 401


def test_case_07_health_detailed(api: Api) -> None:
    assert_json(api.get("/health/detailed", auth=False), 401, INVALID_KEY)
    response = api.get("/health/detailed")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
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
    ]
    assert body["status"] in ("ok", "degraded")
    assert body["status"] == body["readiness"]["status"]
    checks = body["readiness"]["checks"]
    assert set(checks) == {"state_db", "config", "model", "disk", "gateway", "background_queues"}
    assert set(checks["background_queues"]) == {
        "status",
        "active_api_runs",
        "process_completions",
        "active_delegations",
    }
    assert body["platform"] == "hermes-agent"
    assert isinstance(body["active_agents"], int)
    assert isinstance(body["gateway_busy"], bool)
    assert isinstance(body["gateway_drainable"], bool)
    assert isinstance(body["pid"], int)


# =================================================================== create


def test_case_08_create_run(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(Script().wait(10).complete("x"))
    response = api.post("/v1/runs", json={"input": "hi"})
    assert response.status_code == 202
    run_id = response.json()["run_id"]
    assert RUN_ID.match(run_id)
    assert_json(response, 202, {"run_id": run_id, "status": "started"})
    assert response.content == f'{{"run_id": "{run_id}", "status": "started"}}'.encode()
    assert "x-hermes-session-key" not in response.headers
    assert "location" not in response.headers
    assert api.run(run_id)["status"] != "started"  # `started` exists only in the 202 body


@pytest.mark.parametrize("key", ["agent:main:x", "k" * 256])
def test_case_09_session_key_is_echoed(api: Api, key: str) -> None:
    api.server.script(Script().complete("x"))
    response = api.post("/v1/runs", json={"input": "hi"}, headers={"X-Hermes-Session-Key": key})
    assert response.status_code == 202
    assert response.headers["x-hermes-session-key"] == key
    assert RUN_ID.match(response.json()["run_id"])


def test_case_10_session_key_too_long(api: Api) -> None:
    api.server.script(Script().complete("x"))
    response = api.post(
        "/v1/runs", json={"input": "hi"}, headers={"X-Hermes-Session-Key": "k" * 257}
    )
    body = {"error": {"message": "Session key too long", "type": "invalid_request_error"}}
    assert_json(response, 400, body)
    assert "x-hermes-session-key" not in response.headers
    assert len(api.server.runs) == 0


@pytest.mark.parametrize("body", [b"{bad", b""], ids=["malformed", "empty"])
def test_case_11_invalid_json(api: Api, body: bytes) -> None:
    assert_json(api.post("/v1/runs", content=body), 400, err("Invalid JSON", None))


@pytest.mark.parametrize(
    "body",
    [{}, {"input": ""}, {"input": []}, {"input": None}, {"input": 0}, {"input": False}],
    ids=["no-input", "empty-string", "empty-list", "null", "zero", "false"],
)
def test_case_12_missing_input(api: Api, body: dict[str, Any]) -> None:
    assert_json(api.post("/v1/runs", json=body), 400, err("Missing 'input' field", None))


@pytest.mark.parametrize(
    "body",
    [{"input": {"a": 1}}, {"input": 5}, {"input": [{"role": "user"}]}],
    ids=["dict", "number", "no-content"],
)
def test_case_13_no_user_message(api: Api, body: dict[str, Any]) -> None:
    response = api.post("/v1/runs", json=body)
    assert_json(response, 400, err("No user message found in input", None))


def test_case_14_history_not_a_list(api: Api) -> None:
    response = api.post("/v1/runs", json={"input": "x", "conversation_history": "abc"})
    message = "'conversation_history' must be an array of message objects"
    assert_json(response, 400, err(message, None))


@pytest.mark.parametrize(
    ("history", "index"),
    [
        ([{"role": "user"}], 0),
        ([{"role": "user", "content": "a"}, {"content": "b"}], 1),
        ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, "c"], 2),
    ],
)
def test_case_15_history_entry_without_fields(api: Api, history: list[Any], index: int) -> None:
    response = api.post("/v1/runs", json={"input": "x", "conversation_history": history})
    message = f"conversation_history[{index}] must have 'role' and 'content' fields"
    assert_json(response, 400, err(message, None))


@pytest.mark.parametrize(
    "body", [b"[1]", b'"hi"', b'{"input": ["hi"]}'], ids=["array", "string", "input-list"]
)
def test_case_16_non_object_body_crashes(api: Api, body: bytes) -> None:
    api.server.script(Script().complete("x"))
    response = api.post("/v1/runs", content=body)
    assert_text_error(response, 500, CRASH_BODY)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["connection"] == "close"
    assert len(api.server.runs) == 0


def test_case_17_defaults_session_and_model(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(Script().wait(1).complete("x"))
    run_id = api.create({"input": "x"})
    run = api.run(run_id)
    assert run["session_id"] == run_id
    assert run["model"] == "hermes-agent"


@pytest.mark.parametrize(
    ("extra", "session_id", "model"),
    [
        ({"session_id": "s1", "model": "m1"}, "s1", "m1"),
        ({"session_id": 42, "model": "no-such-model"}, 42, "no-such-model"),
        ({"session_id": "", "model": None}, None, None),  # falsy session: the run id
    ],
)
def test_case_18_session_and_model_are_reported(
    make_api: MakeApi, extra: dict[str, Any], session_id: Any, model: Any
) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(Script().wait(1).complete("x"))
    run_id = api.create({"input": "x", **extra})
    run = api.run(run_id)
    assert run["session_id"] == (run_id if session_id is None else session_id)
    assert run["model"] == model


def test_case_19_concurrency_cap(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock(), max_concurrent_runs=2)
    api.server.queue(
        Script().wait(5).complete("first"),
        Script().wait(10).complete("second"),
        Script().wait(10).complete("third"),
    )
    api.create()
    api.create()
    limit = err("Too many concurrent runs (max 2)", "rate_limit_exceeded", "rate_limit_error")
    for body in (b'{"input": "hi"}', b"{bad", b""):
        response = api.post("/v1/runs", content=body)
        assert_json(response, 429, limit)
        assert response.headers["retry-after"] == "1"
    assert len(api.server.runs) == 2
    api.clock.advance(5)  # the first run completes and frees its slot
    api.create()
    assert_json(api.post("/v1/runs", json={"input": "hi"}), 429, limit)
    api.clock.advance(10)
    assert [api.run(r)["status"] for r in api.server.runs] == ["completed"] * 3


# =================================================================== poll


def test_case_20_unknown_run(api: Api) -> None:
    assert_json(api.get("/v1/runs/run_nope"), 404, run404("run_nope"))
    assert api.get("/v1/runs/run_nope").content == (
        b'{"error": {"message": "Run not found: run_nope", "type": "invalid_request_error", '
        b'"param": null, "code": "run_not_found"}}'
    )


def test_case_21_running_right_after_create(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(
        Script().wait(5).delta("a").wait(5).tool("terminal", "ls").wait(5).answer("done")
    )
    run_id = api.create()
    response = api.get(f"/v1/runs/{run_id}")
    assert_json(response, 200, response.json(), exact_bytes=False)
    run = response.json()
    assert run["object"] == "hermes.run"
    assert run["run_id"] == run_id
    assert run["status"] == "running"
    assert isinstance(run["created_at"], float)
    assert isinstance(run["updated_at"], float)
    for absent in ("last_event", "output", "usage", "error"):
        assert absent not in run
    api.clock.advance(5)  # a delta never touches the run object
    after_delta = api.run(run_id)
    assert "last_event" not in after_delta
    assert after_delta["updated_at"] == run["updated_at"]
    api.clock.advance(5)  # a tool event does
    after_tool = api.run(run_id)
    assert after_tool["last_event"] == "tool.completed"
    assert after_tool["updated_at"] == run["created_at"] + 10
    api.clock.advance(5)
    assert api.run(run_id)["last_event"] == "run.completed"


def test_case_22_completed_run(api: Api) -> None:
    api.server.queue(
        Script().tool("terminal", "ls").answer("Hello Done", usage=USAGE),
        Script().complete(None),
    )
    run_id = api.create()
    run = api.run(run_id)
    assert run["status"] == "completed"
    assert run["last_event"] == "run.completed"
    assert run["output"] == "Hello Done"
    assert run["usage"] == USAGE
    assert "error" not in run
    assert list(run)[:7] == [
        "object",
        "run_id",
        "status",
        "updated_at",
        "created_at",
        "session_id",
        "model",
    ]
    empty = api.run(api.create())
    assert empty["status"] == "completed"
    assert empty["output"] is None  # output may be null
    assert set(empty["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}
    assert all(type(v) is int for v in empty["usage"].values())


def test_case_23_failed_run(api: Api) -> None:
    api.server.script(Script().delta("partial").fail("kaboom"))
    run = api.run(api.create())
    assert run["status"] == "failed"
    assert run["last_event"] == "run.failed"
    assert run["error"] == "kaboom"
    assert "output" not in run
    assert "usage" not in run


def test_case_24_cancelled_run(make_api: MakeApi) -> None:
    api = make_api(clock=driven_clock())
    api.server.script(Script().wait(10).complete("never"))
    run_id = api.create()
    assert api.stop(run_id).status_code == 200
    api.clock.advance(1)
    run = api.run(run_id)
    assert run["status"] == "cancelled"
    assert run["last_event"] == "run.cancelled"
    for absent in ("output", "usage", "error"):
        assert absent not in run


# =================================================================== events


def test_case_25_happy_path_stream(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(
        Script().wait(1).delta("Hel").wait(1).delta("lo").wait(1).complete("Hello", usage=USAGE)
    )
    t0 = api.clock.now()
    run_id = api.create()
    with api.stream(run_id) as stream:
        frames = stream.rest()
        assert stream.eof
    envelope = {"run_id": run_id}
    assert frames == [
        data_frame({"event": "message.delta", **envelope, "timestamp": t0 + 1, "delta": "Hel"}),
        data_frame({"event": "message.delta", **envelope, "timestamp": t0 + 2, "delta": "lo"}),
        data_frame(
            {
                "event": "run.completed",
                **envelope,
                "timestamp": t0 + 3,
                "output": "Hello",
                "usage": USAGE,
            }
        ),
        CLOSED,
    ]
    raw = b"".join(frames)
    assert b"event:" not in raw.replace(b'"event":', b"")
    assert not re.search(rb"(^|\n)(event|id|retry):", raw)
    assert b"run.started" not in raw
    assert isinstance(parse_frame(frames[0])["timestamp"], float)


def test_case_26_tool_turn(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(
        Script()
        .tool_started("terminal", "ls -la")
        .wait(0.12345)
        .tool_completed("terminal")
        .answer("done")
    )
    run_id = api.create()
    events = events_of(api.read(run_id))
    started, completed = events[0], events[1]
    assert list(started) == ["event", "run_id", "timestamp", "tool", "preview"]
    assert started["event"] == "tool.started"
    assert (started["tool"], started["preview"]) == ("terminal", "ls -la")
    assert list(completed) == ["event", "run_id", "timestamp", "tool", "duration", "error"]
    assert completed["event"] == "tool.completed"
    assert completed["tool"] == "terminal"
    assert completed["duration"] == 0.123
    assert completed["error"] is False
    assert [e["event"] for e in events[2:]] == [
        "message.delta",
        "reasoning.available",
        "run.completed",
    ]


def test_case_27_late_subscribe_replays_everything(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(
        Script().wait(1).delta("a").wait(1).tool("web", "q", duration=2).answer("bc", chunk=1)
    )
    run_id = api.create()
    api.clock.advance(100)
    assert api.run(run_id)["status"] == "completed"
    frames = api.read(run_id)
    assert names_of(frames) == [
        "message.delta",
        "tool.started",
        "tool.completed",
        "message.delta",
        "message.delta",
        "reasoning.available",
        "run.completed",
    ]
    assert frames[-1] == CLOSED
    assert frames == [
        *(data_frame(e.to_wire()) for e in api.server.runs[run_id].events),
        CLOSED,
    ]


class SkipSpyClock(RealClock):
    """A real clock that notes the waits the server asks of it instead of sleeping them."""

    def __init__(self) -> None:
        self.skipped: list[float] = []

    def skip(self, seconds: float) -> None:
        self.skipped.append(seconds)

    async def skip_async(self, seconds: float) -> None:
        self.skipped.append(seconds)


@pytest.mark.parametrize("clock", ["real", "manual"])
def test_case_28_second_subscribe_gets_404(make_api: MakeApi, clock: str) -> None:
    """The ~1 s of polling before the 404 happens on the engine clock: free in virtual
    time, a real second on a real clock (here a spy notes it instead of sleeping)."""
    spy = SkipSpyClock()
    api = make_api(clock=auto_clock()) if clock == "manual" else make_api(clock=spy)
    api.server.script(Script().answer("hi"))
    run_id = api.create()
    assert api.read(run_id)[-1] == CLOSED
    now = api.server.clock.now
    before, started = now(), wall()
    response = api.get_events(run_id)
    took, elapsed = now() - before, wall() - started
    assert_json(response, 404, run404(run_id))
    if clock == "manual":
        assert took == 1.0  # the ~1 s of polling, in virtual time
    else:
        assert spy.skipped == [1.0]
    assert elapsed < 0.5, "no real second may pass"
    assert api.run(run_id)["status"] == "completed"


def test_case_28_subscriber_that_left_unregisters_the_stream(make_api: MakeApi) -> None:
    """§5.6: the stream is single-use whatever ends the subscriber, a disconnect included."""
    api = make_api(clock=driven_clock())
    api.server.script(Script().delta("a").wait(10).complete("a"))
    run_id = api.create()
    with api.stream(run_id) as stream:
        assert stream.next_event()["delta"] == "a"
    if api.transport == "loopback":
        # The server learns of the disconnect asynchronously: wait for it (no sleep).
        engine, record = api.server.engine, api.server.runs[run_id]
        with engine.lock:
            engine.signal.condition.wait_for(lambda: not record.stream.registered, timeout=5)
    assert_json(api.get_events(run_id), 404, run404(run_id))
    api.clock.advance(10)
    assert api.run(run_id)["status"] == "completed"


@pytest.mark.parametrize("clock", ["real", "manual"])
def test_case_29_unknown_run_events_404(make_api: MakeApi, clock: str) -> None:
    spy = SkipSpyClock()
    api = make_api(clock=auto_clock()) if clock == "manual" else make_api(clock=spy)
    now = api.server.clock.now
    before, started = now(), wall()
    response = api.get_events("run_nope")
    took, elapsed = now() - before, wall() - started
    assert_json(response, 404, run404("run_nope"))
    assert response.headers["content-type"] != "text/event-stream"
    if clock == "manual":
        assert took == 1.0
    else:
        assert spy.skipped == [1.0]
    assert elapsed < 0.5


def test_case_30_keepalive(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.queue(
        Script().delta("a").wait(30.5).delta("b").wait(29.5).delta("c").wait(61).complete("abc"),
        Script().delta("a").wait(20).delta("b").wait(20).delta("c").wait(20).complete("abc"),
    )
    t0 = api.clock.now()
    first = api.create()
    frames = api.read(first)
    kinds = [f if not f.startswith(b"data: ") else parse_frame(f)["event"] for f in frames]
    # A keepalive when 30 s pass with nothing sent: after a (30.5 s gap), none before c
    # (29.5 s), then two in the 61 s before the end (at 30 s and 60 s).
    assert kinds == [
        "message.delta",
        KEEPALIVE,
        "message.delta",
        "message.delta",
        KEEPALIVE,
        KEEPALIVE,
        "run.completed",
        CLOSED,
    ]
    assert parse_frame(frames[-2])["timestamp"] == t0 + 121
    # Measured from the last item, not on a schedule: 60 s in 20 s steps has no keepalive.
    second = api.create()
    assert KEEPALIVE not in api.read(second)


def test_case_31_failing_run_stream(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(Script().wait(2).fail("kaboom"))
    t0 = api.clock.now()
    run_id = api.create()
    frames = api.read(run_id)
    assert frames == [
        data_frame(
            {"event": "run.failed", "run_id": run_id, "timestamp": t0 + 2, "error": "kaboom"}
        ),
        CLOSED,
    ]


def _read_until_closed_or_keepalive(stream: Stream) -> list[bytes]:
    """A subscriber's frames: up to `: stream closed` (then EOF) or its first keepalive."""
    while True:
        frame = stream.next()
        assert frame is not None, f"EOF without `: stream closed`: {stream.frames}"
        if frame == CLOSED:
            assert stream.next() is None, "frames after `: stream closed`"
            return stream.frames
        if frame == KEEPALIVE:
            return stream.frames


def test_case_32_concurrent_subscribers_split_events(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(
        Script()
        .wait(1)
        .delta("a")
        .wait(1)
        .delta("b")
        .wait(1)
        .delta("c")
        .wait(1)
        .delta("d")
        .wait(1)
        .complete("abcd")
    )
    run_id = api.create()
    with api.stream(run_id) as one, api.stream(run_id) as two:
        if api.transport == "mock":
            # In-process the split is deterministic: whoever reads when an event is due.
            taken = [one.next_event()["delta"], two.next_event()["delta"]]
            taken += [one.next_event()["delta"], two.next_event()["delta"]]
            assert taken == ["a", "b", "c", "d"]
        frames_one = _read_until_closed_or_keepalive(one)
        frames_two = _read_until_closed_or_keepalive(two)
        closers = [s for s in (one, two) if s.frames[-1] == CLOSED]
        assert len(closers) == 1, "exactly one subscriber sees `: stream closed`"
        other = two if closers[0] is one else one
        assert other.frames[-1] == KEEPALIVE
        # The other subscriber stays open and only ever gets keepalives from now on.
        assert [other.next(), other.next()] == [KEEPALIVE, KEEPALIVE]
    expected = [data_frame(e.to_wire()) for e in api.server.runs[run_id].events]
    got_one = [f for f in frames_one if f.startswith(b"data: ")]
    got_two = [f for f in frames_two if f.startswith(b"data: ")]
    assert sorted(got_one + got_two) == sorted(expected), "each event reaches exactly one"
    for got in (got_one, got_two):
        assert got == [f for f in expected if f in got], "each subscriber sees them in order"
    if api.transport == "mock":
        assert names_of(frames_one) == ["message.delta", "message.delta", "run.completed"]
        assert frames_one[-1] == CLOSED
        assert names_of(frames_two) == ["message.delta", "message.delta"]


# =================================================================== approval


def _open_gate(api: Api, script: Script = GATED) -> str:
    api.server.script(script)
    return api.create()


def test_case_33_approval_request(make_api: MakeApi) -> None:
    api = make_api(clock=driven_clock(), verify=False)  # ends with the approval pending
    run_id = _open_gate(api)
    with api.stream(run_id) as stream:
        assert stream.next_event()["event"] == "tool.started"
        request = stream.next_event()
        run = api.run(run_id)
    assert list(request) == [
        "command",
        "pattern_key",
        "pattern_keys",
        "description",
        "allow_permanent",
        "event",
        "run_id",
        "timestamp",
        "choices",
    ]
    assert request == {
        "command": "rm -rf build",
        "pattern_key": "delete_root",
        "pattern_keys": ["delete_root"],
        "description": "delete in root path",
        "allow_permanent": True,
        "event": "approval.request",
        "run_id": run_id,
        "timestamp": request["timestamp"],
        "choices": ALL_CHOICES,
    }
    assert isinstance(request["timestamp"], float)
    assert run["status"] == "waiting_for_approval"
    assert run["last_event"] == "approval.request"


def test_case_34_approve_once(make_api: MakeApi) -> None:
    api = make_api(clock=driven_clock())
    run_id = _open_gate(api, GATED_SLOW)
    with api.stream(run_id) as stream:
        stream.until("approval.request")
        response = api.approve(run_id, {"choice": "once"})
        assert_json(
            response,
            200,
            {
                "object": "hermes.run.approval_response",
                "run_id": run_id,
                "choice": "once",
                "resolved": 1,
            },
        )
        run = api.run(run_id)
        responded = stream.next_event()
        api.clock.advance(2)
        later = stream.rest()
    assert list(responded) == ["event", "run_id", "timestamp", "choice", "resolved"]
    assert (responded["event"], responded["choice"], responded["resolved"]) == (
        "approval.responded",
        "once",
        1,
    )
    assert names_of(later) == [
        "tool.completed",
        "message.delta",
        "reasoning.available",
        "run.completed",
    ]
    assert events_of(later)[0]["error"] is False
    assert later[-1] == CLOSED
    assert run["status"] == "running"
    assert run["last_event"] == "approval.responded"


@pytest.mark.parametrize("choice", [" Approve ", "approved", "ALLOW", "Once"])
def test_case_35_choice_aliases_normalise_to_once(make_api: MakeApi, choice: str) -> None:
    api = make_api(clock=driven_clock())
    run_id = _open_gate(api)
    response = api.approve(run_id, {"choice": choice})
    assert response.status_code == 200
    assert response.json()["choice"] == "once"
    responded = [e for e in events_of(api.read(run_id)) if e["event"] == "approval.responded"]
    assert [e["choice"] for e in responded] == ["once"]


@pytest.mark.parametrize(
    "body",
    [{"choice": "yes"}, {}, {"choice": 1}, {"choice": None}, {"choice": "deny it"}],
    ids=["yes", "missing", "number", "null", "sentence"],
)
def test_case_36_invalid_choice(make_api: MakeApi, body: dict[str, Any]) -> None:
    api = make_api(clock=driven_clock())
    run_id = _open_gate(api)
    assert_json(api.approve(run_id, body), 400, BAD_CHOICE)
    assert api.run(run_id)["status"] == "waiting_for_approval"  # nothing was resolved
    assert api.approve(run_id, {"choice": "once"}).json()["resolved"] == 1


def test_case_37_invalid_json_approval(make_api: MakeApi) -> None:
    api = make_api(clock=driven_clock())
    run_id = _open_gate(api)
    for body in (b"{bad", b""):
        response = api.post(f"/v1/runs/{run_id}/approval", content=body)
        assert_json(response, 400, err("Invalid JSON", None))
        response = api.post("/v1/runs/run_nope/approval", content=body)
        assert_json(response, 404, run404("run_nope"))
    # (quirk §1.5) JSON that is not an object crashes the handler.
    assert_text_error(api.post(f"/v1/runs/{run_id}/approval", content=b"[1]"), 500, CRASH_BODY)
    assert api.run(run_id)["status"] == "waiting_for_approval"
    assert api.approve(run_id, {"choice": "once"}).status_code == 200


def test_case_38_nothing_pending(make_api: MakeApi) -> None:
    api = make_api(clock=driven_clock())
    api.server.script(Script().wait(10).complete("x"))
    run_id = api.create()
    assert api.run(run_id)["status"] == "running"
    message = f"Run has no pending approval: {run_id}"
    assert_json(api.approve(run_id, {"choice": "once"}), 409, err(message, "approval_not_pending"))
    assert "last_event" not in api.run(run_id)


@pytest.mark.parametrize("outcome", ["completed", "failed", "cancelled"])
def test_case_39_finished_run(make_api: MakeApi, outcome: str) -> None:
    api = make_api(clock=driven_clock())
    scripts = {
        "completed": Script().wait(1).complete("x"),
        "failed": Script().wait(1).fail("boom"),
        "cancelled": Script().wait(10).complete("x"),
    }
    api.server.script(scripts[outcome])
    run_id = api.create()
    if outcome == "cancelled":
        api.stop(run_id)
    api.clock.advance(1)
    assert api.run(run_id)["status"] == outcome
    message = f"Run has no active approval session: {run_id}"
    assert_json(api.approve(run_id, {"choice": "once"}), 409, err(message, "approval_not_active"))
    assert_json(api.approve(run_id, {"choice": "nope"}), 400, BAD_CHOICE)


def test_case_40_deny(make_api: MakeApi) -> None:
    api = make_api(clock=driven_clock())
    run_id = _open_gate(api)
    with api.stream(run_id) as stream:
        stream.until("approval.request")
        response = api.approve(run_id, {"choice": "deny"})
        assert response.status_code == 200
        assert response.json()["resolved"] == 1
        assert response.json()["choice"] == "deny"
        rest = stream.rest()
    events = events_of(rest)
    assert [e["event"] for e in events] == [
        "approval.responded",
        "tool.completed",
        "message.delta",
        "reasoning.available",
        "run.completed",
    ]
    assert events[0]["choice"] == "deny"
    assert events[1]["error"] is True
    assert api.run(run_id)["status"] == "completed"


TWO_GATES = (
    Script()
    .tool_started("terminal", "rm a")
    .tool_started("terminal", "rm b")
    .approval("rm a", "delete a")
    .approval("rm b", "delete b")
    .tool_completed("terminal")
    .tool_completed("terminal")
    .answer("done")
)


@pytest.mark.parametrize(
    "flag", [{"all": True}, {"resolve_all": "yes"}, {"all": 1}, {"resolve_all": "ON"}]
)
def test_case_41_resolve_all(make_api: MakeApi, flag: dict[str, Any]) -> None:
    api = make_api(clock=driven_clock())
    run_id = _open_gate(api, TWO_GATES)
    response = api.approve(run_id, {"choice": "once", **flag})
    assert response.status_code == 200
    assert response.json()["resolved"] == 2
    events = events_of(api.read(run_id))
    assert [e["resolved"] for e in events if e["event"] == "approval.responded"] == [2]
    assert [e["error"] for e in events if e["event"] == "tool.completed"] == [False, False]


@pytest.mark.parametrize("flag", [{}, {"all": False}, {"resolve_all": "no"}])
def test_case_41_without_all_resolves_the_oldest(make_api: MakeApi, flag: dict[str, Any]) -> None:
    api = make_api(clock=driven_clock())
    run_id = _open_gate(api, TWO_GATES)
    first = api.approve(run_id, {"choice": "deny", **flag})
    assert first.json()["resolved"] == 1
    assert api.run(run_id)["status"] == "running"
    second = api.approve(run_id, {"choice": "once", **flag})
    assert second.json()["resolved"] == 1
    events = events_of(api.read(run_id))
    assert [(e["choice"], e["resolved"]) for e in events if e["event"] == "approval.responded"] == [
        ("deny", 1),
        ("once", 1),
    ]
    requests = [e["command"] for e in events if e["event"] == "approval.request"]
    assert requests == ["rm a", "rm b"]
    # The oldest gate (rm a, the first tool) got the deny.
    assert [e["error"] for e in events if e["event"] == "tool.completed"] == [True, False]


def test_case_42_approval_timeout(make_api: MakeApi) -> None:
    api = make_api(clock=driven_clock())
    run_id = _open_gate(
        api,
        Script()
        .tool_started("terminal", "rm -rf build")
        .approval("rm -rf build", "delete in root path")
        .tool_completed("terminal")
        .wait(10)
        .answer("Could not delete.", chunk=100),
    )
    api.clock.advance(59)
    assert api.run(run_id)["last_event"] == "approval.request"
    api.clock.advance(1)  # 60 s, the default timeout: the agent goes on, the status sticks
    run = api.run(run_id)
    assert run["status"] == "waiting_for_approval"
    assert run["last_event"] == "tool.completed"
    message = f"Run has no pending approval: {run_id}"
    assert_json(api.approve(run_id, {"choice": "once"}), 409, err(message, "approval_not_pending"))
    api.clock.advance(10)
    assert api.run(run_id)["status"] == "completed"
    events = events_of(api.read(run_id))
    assert [e["event"] for e in events] == [
        "tool.started",
        "approval.request",
        "tool.completed",
        "message.delta",
        "reasoning.available",
        "run.completed",
    ]
    assert events[2]["error"] is True


@pytest.mark.parametrize(
    ("kwargs", "choices", "extra_key"),
    [
        ({"smart_denied": True}, ["once", "deny"], "smart_denied"),
        ({"allow_permanent": False}, ["once", "session", "deny"], None),
        ({"allow_permanent": None}, ALL_CHOICES, None),  # an MCP elicitation: no key
    ],
    ids=["smart-denied", "not-permanent", "no-allow-permanent"],
)
def test_case_43_offered_choices(
    make_api: MakeApi, kwargs: dict[str, Any], choices: list[str], extra_key: str | None
) -> None:
    api = make_api(clock=driven_clock(), verify=False)  # ends with the approval pending
    script = Script().approval("x", "y", **kwargs).complete("done")
    run_id = _open_gate(api, script)
    with api.stream(run_id) as stream:
        request = stream.next_event()
    assert request["event"] == "approval.request"
    assert request["choices"] == choices
    keys = ["command", "pattern_key", "pattern_keys", "description"]
    if kwargs.get("allow_permanent", True) is not None:
        keys.append("allow_permanent")
    if extra_key:
        keys.append(extra_key)
        assert request[extra_key] is True
    assert list(request) == [*keys, "event", "run_id", "timestamp", "choices"]
    if "allow_permanent" in kwargs and kwargs["allow_permanent"] is not None:
        assert request["allow_permanent"] is kwargs["allow_permanent"]


# =================================================================== stop


def test_case_44_stop_active_run(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(Script().wait(1).delta("a").wait(100).complete("never"))
    run_id = api.create()
    api.clock.advance(1)
    response = api.stop(run_id)
    assert_json(response, 200, {"run_id": run_id, "status": "stopping"})
    stopped_at = api.clock.now()
    run = api.run(run_id)
    assert run["status"] == "stopping"
    assert run["last_event"] == "run.stopping"
    frames = api.read(run_id)
    assert names_of(frames) == ["message.delta", "run.cancelled"]
    cancelled = parse_frame(frames[1])
    assert frames[1] == data_frame(
        {"event": "run.cancelled", "run_id": run_id, "timestamp": cancelled["timestamp"]}
    )
    assert stopped_at < cancelled["timestamp"] <= stopped_at + 1
    assert frames[2:] == [CLOSED]
    assert b"run.stopping" not in b"".join(frames)
    assert api.run(run_id)["status"] == "cancelled"


def test_case_45_stop_while_waiting_for_approval(make_api: MakeApi) -> None:
    api = make_api(clock=driven_clock())
    run_id = _open_gate(api)
    started = wall()
    with api.stream(run_id) as stream:
        stream.until("approval.request")
        assert api.run(run_id)["status"] == "waiting_for_approval"
        assert api.stop(run_id).status_code == 200
        stopped_at = api.clock.now()
        api.clock.advance(1)  # a pending approval notices the interrupt within 1 s
        rest = stream.rest()
    events = events_of(rest)
    assert [e["event"] for e in events] == ["tool.completed", "run.cancelled"]
    assert events[0]["error"] is True
    assert events[0]["tool"] == "terminal"
    assert stopped_at < events[1]["timestamp"] <= stopped_at + 1
    assert rest[-1] == CLOSED
    assert "approval.responded" not in names_of(stream.frames)
    assert api.run(run_id)["status"] == "cancelled"
    assert wall() - started < 0.9, "the ~1 s of a pending approval must be virtual"


@pytest.mark.parametrize("outcome", ["completed", "failed", "cancelled", "unknown"])
def test_case_46_stop_finished_or_unknown(make_api: MakeApi, outcome: str) -> None:
    api = make_api(clock=auto_clock())
    scripts = {
        "completed": Script().complete("x"),
        "failed": Script().fail("boom"),
        "cancelled": Script().wait(10).complete("x"),
    }
    if outcome == "unknown":
        assert_json(api.stop("run_nope"), 404, run404("run_nope"))
        return
    api.server.script(scripts[outcome])
    run_id = api.create()
    if outcome == "cancelled":
        assert api.stop(run_id).status_code == 200
        api.clock.advance(1)
    assert api.run(run_id)["status"] == outcome
    assert_json(api.stop(run_id), 404, run404(run_id))
    assert api.run(run_id)["status"] == outcome


def test_case_47_second_stop(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(Script().wait(100).complete("x"))
    run_id = api.create()
    for _ in range(2):
        assert_json(api.stop(run_id), 200, {"run_id": run_id, "status": "stopping"})
        assert api.run(run_id)["status"] == "stopping"
    api.clock.advance(1)
    assert api.run(run_id)["status"] == "cancelled"
    assert_json(api.stop(run_id), 404, run404(run_id))


# =================================================================== TTL


def test_case_48_stream_ttl(make_api: MakeApi) -> None:
    """Swept 300-360 s after creation, whatever the sweeper's phase: probe runs created
    right after a sweep and right before one, 299 s and 361 s after their creation."""
    api = make_api(clock=auto_clock())
    api.server.script(Script().complete("done"))
    api.server.on_input("gate", Script().approval("rm x", "delete", timeout=10_000).complete("x"))
    t0 = api.clock.now()
    early = [api.create(), api.create()]
    waiting = api.create({"input": "gate"})
    api.clock.advance(59)
    late = [api.create(), api.create()]
    for created, kept in ((t0, early[0]), (t0 + 59, late[0])):
        api.clock.advance_to(created + 299)
        assert api.read(kept)[-1] == CLOSED, "a stream is kept for 300 s"
    for created, swept in ((t0, early[1]), (t0 + 59, late[1])):
        api.clock.advance_to(created + 361)
        assert_json(api.get_events(swept), 404, run404(swept))
        assert api.run(swept)["status"] == "completed"  # the status record is kept
    # A run still executing loses its buffer too, but stop and approval keep working.
    assert_json(api.get_events(waiting), 404, run404(waiting))
    assert api.run(waiting)["status"] == "waiting_for_approval"
    assert api.approve(waiting, {"choice": "once"}).json()["resolved"] == 1
    assert api.run(waiting)["status"] == "completed"


def test_case_49_status_ttl(make_api: MakeApi) -> None:
    """A terminal record goes 3600-3660 s after its last update; probed for runs that
    finish right after a sweep and right before one."""
    api = make_api(clock=auto_clock())
    api.server.script(Script().complete("done"))
    api.server.on_input("slow", Script().wait(1_000_000).complete("slow"))
    t0 = api.clock.now()
    slow = api.create({"input": "slow"})
    early = api.create()
    api.clock.advance(59)
    late = api.create()
    for finished, run_id in ((t0, early), (t0 + 59, late)):
        api.clock.advance_to(finished + 3599)
        assert api.run(run_id)["status"] == "completed"
    for finished, run_id in ((t0, early), (t0 + 59, late)):
        api.clock.advance_to(finished + 3661)
        assert_json(api.get(f"/v1/runs/{run_id}"), 404, run404(run_id))
    api.clock.advance(100_000)
    assert api.run(slow)["status"] == "running"  # a non-terminal run is never swept


# =================================================================== outcome shapes


def test_case_50_provider_error(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    error = "HTTP 401: Invalid key sk-pro...6789"
    api.server.script(Script().wait(0.5).fail(error))
    t0 = api.clock.now()
    run_id = api.create()
    frames = api.read(run_id)
    assert frames == [
        data_frame(
            {"event": "run.failed", "run_id": run_id, "timestamp": t0 + 0.5, "error": error}
        ),
        CLOSED,
    ]
    run = api.run(run_id)
    assert (run["status"], run["error"], run["last_event"]) == ("failed", error, "run.failed")


def test_case_51_iteration_limit(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    script = Script()
    for n in range(3):
        script = script.tool("terminal", f"step {n}", duration=1)
    api.server.script(script.max_iterations("Listed three directories."))
    run_id = api.create()
    events = events_of(api.read(run_id))
    assert [e["event"] for e in events] == [
        *["tool.started", "tool.completed"] * 3,
        "run.completed",
    ]
    output = events[-1]["output"]
    assert output == f"Listed three directories.\n\n{ITERATION_LIMIT_NOTICE}"
    assert "⚠️ No reply: the maximum tool-iteration limit was reached" in output
    run = api.run(run_id)
    assert run["status"] == "completed"
    assert run["output"] == output


def test_case_52_stop_mid_stream(make_api: MakeApi) -> None:
    api = make_api(clock=driven_clock())
    script = Script()
    for text in ("The ", "answer ", "is ", "forty-two"):
        script = script.wait(1).delta(text)
    api.server.script(script.wait(1).complete("The answer is forty-two"))
    run_id = api.create()
    with api.stream(run_id) as stream:
        api.clock.advance(1)
        assert stream.next_event()["delta"] == "The "
        api.clock.advance(1)
        assert stream.next_event()["delta"] == "answer "
        assert api.stop(run_id).status_code == 200
        assert api.run(run_id)["status"] == "stopping"
        api.clock.advance(1)
        rest = stream.rest()
    assert names_of(rest) == ["run.cancelled"]
    assert rest[-1] == CLOSED
    assert names_of(stream.frames) == ["message.delta", "message.delta", "run.cancelled"]
    assert api.run(run_id)["status"] == "cancelled"


# =================================================================== cross-cutting


def test_unknown_paths_and_methods_are_aiohttp_text_errors(api: Api) -> None:
    assert_text_error(api.get("/v1/nope"), 404, b"404: Not Found")
    response = api.get("/v1/runs")
    assert_text_error(response, 405, b"405: Method Not Allowed")
    assert response.headers["allow"] == "POST"
    response = api.post("/v1/runs/run_nope", content=b"")
    assert_text_error(response, 405, b"405: Method Not Allowed")
    assert response.headers["allow"] == "GET"


def test_cors_origin_gets_bare_403(api: Api) -> None:
    api.server.script(Script().complete("x"))
    response = api.post("/v1/runs", json={"input": "hi"}, headers={"Origin": "http://evil"})
    assert response.status_code == 403
    assert response.content == b""
    assert len(api.server.runs) == 0


def test_draining_gateway(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock())
    api.server.script(Script().wait(10).complete("x"))
    running = api.create()
    api.server.drain()
    response = api.post("/v1/runs", json={"input": "hi"})
    message = "Gateway is draining existing work; retry shortly."
    assert_json(response, 503, err(message, "gateway_draining"))
    assert response.headers["retry-after"] == "1"
    # §6.5: only new runs are refused; the other runs endpoints are unaffected.
    assert api.run(running)["status"] == "running"
    assert api.stop(running).status_code == 200
    api.server.drain(False)
    api.create()


def test_profile_prefix_is_ignored(api: Api) -> None:
    """§1.1: every route is also mounted under /p/{profile}; without multiplexing the
    prefix is ignored."""
    api.server.script(Script().complete("x"))
    health = api.get("/p/default/health", auth=False)
    assert health.json() == {"status": "ok", "platform": "hermes-agent", "version": "0.19.0"}
    response = api.post("/p/work/v1/runs", json={"input": "hi"})
    assert response.status_code == 202
    run_id = response.json()["run_id"]
    assert api.get(f"/p/work/v1/runs/{run_id}").json()["status"] == "completed"
