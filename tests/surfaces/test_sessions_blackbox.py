"""Contract cases 15, 25 (sessions) and 26 of beyond-runs §8: the `/api/sessions`
resources, session chat and its stream, and chat continuation by `X-Hermes-Session-Id`;
black-box, plain HTTP against `target`."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from tests.surfaces.conftest import (
    COMPLETE_TEXT,
    TOOL_TEXT,
    UPSTREAM_ERROR,
    Target,
    assert_json,
    assert_no_security_headers,
    full,
    sse_frames,
)

SESSION_KEYS = [
    "id",
    "source",
    "user_id",
    "model",
    "title",
    "started_at",
    "ended_at",
    "end_reason",
    "message_count",
    "tool_call_count",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "estimated_cost_usd",
    "actual_cost_usd",
    "api_call_count",
    "parent_session_id",
    "has_system_prompt",
    "has_model_config",
]
MESSAGE_KEYS = [
    "id",
    "session_id",
    "role",
    "content",
    "tool_call_id",
    "tool_calls",
    "tool_name",
    "timestamp",
    "token_count",
    "finish_reason",
    "reasoning",
    "reasoning_content",
]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def stream_events(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for frame in sse_frames(body):
        head, data = frame.decode("utf-8").rstrip("\n").split("\n")
        assert head.startswith("event: ") and data.startswith("data: ")
        payload = json.loads(data[len("data: ") :])
        assert data == "data: " + json.dumps(payload, ensure_ascii=False)  # raw UTF-8
        out.append((head[len("event: ") :], payload))
    return out


def test_case_26_session_lifecycle(target: Target) -> None:
    sid = unique("drift-life")
    created = target.post("/api/sessions", {"id": sid})
    assert created.status_code == 201
    session = created.json()["session"]
    assert created.json()["object"] == "hermes.session"
    assert list(session) == SESSION_KEYS
    assert (session["id"], session["source"], session["model"]) == (
        sid,
        "api_server",
        "hermes-agent",
    )
    duplicate = target.post("/api/sessions", {"id": sid})
    assert_json(duplicate, 409, full(f"Session already exists: {sid}", code="session_exists"))
    renamed = target.request("PATCH", f"/api/sessions/{sid}", json={"title": "Renamed"})
    assert renamed.json()["session"]["title"] == "Renamed"
    refused = target.request("PATCH", f"/api/sessions/{sid}", json={"model": "x"})
    assert_json(
        refused, 400, full("Unsupported session fields: model", code="unsupported_session_field")
    )
    chat = target.post(f"/api/sessions/{sid}/chat", {"message": "[[scenario:complete]] hi"})
    assert chat.headers["x-hermes-session-id"] == sid
    assert chat.json() == {
        "object": "hermes.session.chat.completion",
        "session_id": sid,
        "message": {"role": "assistant", "content": COMPLETE_TEXT},
        "usage": {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18},
    }
    # the drift fake LLM picks its scenario from the session's first user message, so a
    # second turn here is another "complete" (tool turns: test_case_26_stream_payloads)
    streamed = target.post(f"/api/sessions/{sid}/chat/stream", {"message": "again"})
    assert streamed.headers["content-type"] == "text/event-stream"
    assert streamed.headers["x-hermes-session-id"] == sid
    assert_no_security_headers(streamed)
    names = [name for name, _ in stream_events(streamed.content)]
    assert names[:2] == ["run.started", "message.started"]
    assert names[-4:] == ["tool.progress", "assistant.completed", "run.completed", "done"]
    assert set(names[2:-4]) == {"assistant.delta"}
    messages = target.get(f"/api/sessions/{sid}/messages").json()
    assert messages["object"] == "list" and messages["session_id"] == sid
    assert [m["role"] for m in messages["data"]] == ["user", "assistant"] * 2
    assert all(list(m) == MESSAGE_KEYS for m in messages["data"])
    after = target.get(f"/api/sessions/{sid}").json()["session"]
    assert after["model"] == "fake-model"  # the LLM model once a turn ran (quirk)
    fork = target.post(f"/api/sessions/{sid}/fork", {})
    assert fork.status_code == 201
    child = fork.json()["session"]
    assert child["title"] == "Renamed #2"
    assert child["parent_session_id"] == sid
    assert target.get(f"/api/sessions/{sid}").json()["session"]["end_reason"] == "branched"
    deleted = target.request("DELETE", f"/api/sessions/{sid}")
    assert_json(deleted, 200, {"object": "hermes.session.deleted", "id": sid, "deleted": True})
    gone = target.get(f"/api/sessions/{sid}")
    assert_json(gone, 404, full(f"Session not found: {sid}", code="session_not_found"))


def test_case_26_stream_payloads(target: Target) -> None:
    sid = unique("drift-stream")
    target.post("/api/sessions", {"id": sid})
    body = target.post(f"/api/sessions/{sid}/chat/stream", {"message": "[[scenario:tool]] s"})
    events = stream_events(body.content)
    run_id = events[0][1]["run_id"]
    assert re.match(r"^run_[0-9a-f]{32}$", run_id)
    assert [p["seq"] for _, p in events] == list(range(1, len(events) + 1))
    assert all(p["run_id"] == run_id and p["session_id"] == sid for _, p in events)
    assert all(isinstance(p["ts"], float) for _, p in events)
    started = events[2][1]
    assert (started["tool_name"], started["preview"], started["args"]) == (
        "terminal",
        "echo tool-ran",
        {"command": "echo tool-ran"},
    )
    assert (events[3][1]["preview"], events[3][1]["args"]) == (None, None)
    text = "".join(p["delta"] for name, p in events if name == "assistant.delta")
    assert text == "\n\n" + TOOL_TEXT
    thinking = events[-4][1]
    assert (thinking["tool_name"], thinking["delta"]) == ("_thinking", TOOL_TEXT)
    done = events[-1][1]
    assert list(done) == ["session_id", "run_id", "seq", "ts"]
    completed = events[-2][1]
    assert [m["role"] for m in completed["messages"]] == ["assistant", "tool", "assistant"]


def test_case_26_failure_stores_only_the_user_message(target: Target) -> None:
    sid = unique("drift-fail")
    target.post("/api/sessions", {"id": sid})
    chat = target.post(f"/api/sessions/{sid}/chat", {"message": "[[scenario:fail500]] x"})
    assert chat.json()["message"]["content"] == f"API call failed after 1 retries: {UPSTREAM_ERROR}"
    data = target.get(f"/api/sessions/{sid}/messages").json()["data"]
    assert [m["role"] for m in data] == ["user"]


def test_case_26_chat_errors(target: Target) -> None:
    missing = target.post("/api/sessions/nope-404/chat", {"message": "hi"})
    assert_json(missing, 404, full("Session not found: nope-404", code="session_not_found"))
    sid = unique("drift-err")
    target.post("/api/sessions", {"id": sid})
    empty = target.post(f"/api/sessions/{sid}/chat", {"input": "  "})
    assert_json(empty, 400, full("Missing 'message' field", code="missing_message"))
    bad = target.post("/api/sessions", content=b"[1]")
    assert_json(bad, 400, full("Request body must be a JSON object"))
    invalid = target.post("/api/sessions", {"id": "../x"})
    assert_json(invalid, 400, full("Invalid session ID", code="invalid_session_id"))


def test_case_15_session_id_continuation(target: Target) -> None:
    sid = unique("cont")
    headers = {"X-Hermes-Session-Id": sid}
    for index, stream in enumerate((False, True, False), start=1):
        body = {"messages": [{"role": "user", "content": f"turn {index}"}], "stream": stream}
        response = target.post("/v1/chat/completions", body, headers=headers)
        assert response.headers["x-hermes-session-id"] == sid
    data = target.get(f"/api/sessions/{sid}/messages").json()["data"]
    assert [m["role"] for m in data] == ["user", "assistant"] * 3
    assert [m["content"] for m in data if m["role"] == "user"] == ["turn 1", "turn 2", "turn 3"]


def test_case_25_sessions_list(target: Target) -> None:
    sid = unique("drift-list")
    target.post("/api/sessions", {"id": sid})
    listing = target.get("/api/sessions", params={"limit": "1"}).json()
    assert listing["object"] == "list"
    assert (listing["limit"], listing["offset"], listing["has_more"]) == (1, 0, True)
    row = listing["data"][0]
    assert list(row)[-4:] == ["last_active", "preview", "has_system_prompt", "has_model_config"]
