"""Contract cases 6-14, 16, 24, 27 and 28 of beyond-runs §8 for `/v1/chat/completions`,
black-box: plain HTTP against `target` (the drift check can point the same requests at a
real gateway behind the drift fake LLM). Ids and timestamps are normalised."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.surfaces.conftest import (
    COMPLETE_TEXT,
    JSON_TYPE,
    TOOL_TEXT,
    UPSTREAM_ERROR,
    Target,
    assert_crash,
    assert_json,
    assert_no_security_headers,
    assert_security_headers,
    full,
    short,
    sse_frames,
    words,
)

CHAT = "/v1/chat/completions"
SESSION_ID = re.compile(r"^api-[0-9a-f]{16}$")
COMPLETION_ID = re.compile(r"^chatcmpl-[0-9a-f]{29}$")


def user(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def ordered(response: Any) -> list[str]:
    """Header names in order, without what a socket server adds (date, server)."""
    return [h for h in response.headers if h not in ("date", "server")]


def normalised(body: dict[str, Any]) -> dict[str, Any]:
    assert COMPLETION_ID.match(body["id"]), body["id"]
    assert isinstance(body["created"], int)
    return {**body, "id": "<id>", "created": 0}


def completion(content: str, finish: str, usage: tuple[int, int, int]) -> dict[str, Any]:
    return {
        "id": "<id>",
        "object": "chat.completion",
        "created": 0,
        "model": "hermes-agent",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
        "usage": dict(
            zip(("prompt_tokens", "completion_tokens", "total_tokens"), usage, strict=True)
        ),
    }


def chunks(body: bytes) -> list[tuple[str | None, dict[str, Any] | str]]:
    """(event name, payload) per frame; `[DONE]` stays a string."""
    out: list[tuple[str | None, dict[str, Any] | str]] = []
    for frame in sse_frames(body):
        lines = frame.decode().rstrip("\n").split("\n")
        event = None
        if lines[0].startswith("event: "):
            event = lines.pop(0)[len("event: ") :]
        assert len(lines) == 1 and lines[0].startswith("data: "), frame
        data = lines[0][len("data: ") :]
        if data == "[DONE]":
            out.append((event, data))
            continue
        payload = json.loads(data)
        assert (
            frame
            == (
                (f"event: {event}\n" if event else "") + f"data: {json.dumps(payload)}\n\n"
            ).encode()
        ), frame
        out.append((event, payload))
    return out


def test_case_06_plain_answer(target: Target) -> None:
    response = target.post(CHAT, user("[[scenario:complete]] chat"))
    assert response.status_code == 200
    assert normalised(response.json()) == completion(COMPLETE_TEXT, "stop", (11, 7, 18))
    assert response.content == json.dumps(response.json()).encode()
    assert SESSION_ID.match(response.headers["x-hermes-session-id"])
    # the capture's id for this exact first message and no system prompt
    assert response.headers["x-hermes-session-id"] == "api-3c81306fc48cebf6"
    assert ordered(response)[:2] == ["x-hermes-session-id", "content-type"]
    assert_security_headers(response)


def test_case_07_same_opening_same_session_id(target: Target) -> None:
    first = {"messages": [{"role": "system", "content": "Be brief."}, *user("hi")["messages"]]}
    second = {
        "messages": [
            *first["messages"],
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "and again"},
        ]
    }
    a = target.post(CHAT, first).headers["x-hermes-session-id"]
    b = target.post(CHAT, second).headers["x-hermes-session-id"]
    assert a == b
    assert SESSION_ID.match(a)


def test_case_08_session_key_echo_and_default_model(target: Target) -> None:
    response = target.post(
        CHAT, user("[[scenario:complete]] key"), headers={"X-Hermes-Session-Key": "chan-42"}
    )
    assert response.headers["x-hermes-session-key"] == "chan-42"
    assert response.json()["model"] == "hermes-agent"
    named = target.post(CHAT, {**user("x"), "model": "my-model"})
    assert named.json()["model"] == "my-model"
    null = target.post(CHAT, {**user("x"), "model": None})
    assert null.json()["model"] is None


def test_case_09_streamed_plain_answer(target: Target) -> None:
    response = target.post(CHAT, {**user("[[scenario:complete]] chat"), "stream": True})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-hermes-session-id"] == "api-3c81306fc48cebf6"
    assert_no_security_headers(response)
    frames = chunks(response.content)
    assert all(event is None for event, _ in frames)
    assert frames[-1] == (None, "[DONE]")
    payloads = [p for _, p in frames[:-1]]
    assert isinstance(payloads[0], dict)
    ids = {p["id"] for p in payloads if isinstance(p, dict)}
    assert len(ids) == 1 and COMPLETION_ID.match(ids.pop())
    assert [p["choices"][0]["delta"] for p in payloads if isinstance(p, dict)] == [
        {"role": "assistant"},
        *({"content": w} for w in words(COMPLETE_TEXT)),
        {},
    ]
    last = payloads[-1]
    assert isinstance(last, dict)
    assert last["choices"][0]["finish_reason"] == "stop"
    assert last["usage"] == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert list(last) == ["id", "object", "created", "model", "choices", "usage"]


def test_case_10_streamed_tool_progress(target: Target) -> None:
    response = target.post(CHAT, {**user("[[scenario:tool]] chat"), "stream": True})
    frames = chunks(response.content)
    progress = [(e, p) for e, p in frames if e is not None]
    assert [e for e, _ in progress] == ["hermes.tool.progress"] * 2
    running, completed = (p for _, p in progress)
    assert isinstance(running, dict) and isinstance(completed, dict)
    assert running == {
        "tool": "terminal",
        "emoji": "\U0001f4bb",
        "label": "echo tool-ran",
        "toolCallId": running["toolCallId"],
        "status": "running",
    }
    assert completed == {
        "tool": "terminal",
        "toolCallId": running["toolCallId"],
        "status": "completed",
    }
    kinds = [
        e or next(iter(p["choices"][0]["delta"]), "finish") if isinstance(p, dict) else p
        for e, p in frames
    ]
    assert kinds[:3] == ["role", "hermes.tool.progress", "hermes.tool.progress"]
    contents = [
        p["choices"][0]["delta"]["content"]
        for e, p in frames
        if e is None and isinstance(p, dict) and "content" in p["choices"][0]["delta"]
    ]
    assert contents[0].startswith("\n\n")
    assert "".join(contents) == "\n\n" + TOOL_TEXT
    assert b"\\ud83d\\udcbb" in response.content  # the emoji, json.dumps-escaped


def test_case_11_tool_answer_without_leading_newlines(target: Target) -> None:
    response = target.post(CHAT, user("[[scenario:tool]] chat"))
    assert normalised(response.json()) == completion(TOOL_TEXT, "stop", (22, 14, 36))
    assert response.headers["x-hermes-session-id"] == "api-f01e23d4b85a2328"


def test_case_12_provider_failure_is_a_200(target: Target) -> None:
    response = target.post(CHAT, user("[[scenario:fail500]] chat"))
    expected = completion(f"API call failed after 1 retries: {UPSTREAM_ERROR}", "error", (0, 0, 0))
    expected["hermes"] = {
        "completed": False,
        "partial": False,
        "failed": True,
        "error": UPSTREAM_ERROR,
        "error_code": "agent_error",
    }
    assert response.status_code == 200
    assert normalised(response.json()) == expected
    assert response.headers["x-hermes-completed"] == "false"
    assert response.headers["x-hermes-partial"] == "false"
    assert response.headers["x-hermes-error"] == UPSTREAM_ERROR
    assert ordered(response)[:5] == [
        "x-hermes-session-id",
        "x-hermes-completed",
        "x-hermes-partial",
        "x-hermes-error",
        "content-type",
    ]
    assert len(response.content) == 506  # the capture's Content-Length


def test_case_13_streamed_provider_failure(target: Target) -> None:
    response = target.post(CHAT, {**user("[[scenario:fail500]] chat"), "stream": True})
    frames = chunks(response.content)
    assert len(frames) == 3
    assert frames[2] == (None, "[DONE]")
    finish = frames[1][1]
    assert isinstance(finish, dict)
    assert finish["choices"] == [{"index": 0, "delta": {}, "finish_reason": "error"}]
    assert finish["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    assert finish["error"] == {"message": UPSTREAM_ERROR, "type": "agent_error"}
    assert finish["hermes"]["failed"] is True
    keys = ["id", "object", "created", "model", "choices", "usage", "error", "hermes"]
    assert list(finish) == keys
    assert "x-hermes-completed" not in response.headers


AUDIO = (
    "Unsupported content part type 'audio'. "
    "Only text and image_url/input_image parts are supported."
)
FILES = (
    "Inline image inputs are supported, but uploaded files and document inputs are not "
    "supported on this endpoint."
)
BAD_URL = "Image inputs must use http(s) URLs or data:image/... URLs."
MISSING = short("Missing or invalid 'messages' field")
NO_USER = short("No user message found in messages")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", full("Invalid JSON in request body")),
        (b"", full("Invalid JSON in request body")),
        (b"{}", MISSING),
        (b'{"messages": []}', MISSING),
        (b'{"messages": "hi"}', MISSING),
        (b'{"messages": [{"role": "system", "content": "only"}]}', NO_USER),
        (b'{"messages": [{"role": "user", "content": "   "}]}', NO_USER),
        (b'{"messages": [{"role": "tool", "content": "x"}]}', NO_USER),
        (
            b'{"messages": [{"role": "user", "content": [{"type": "audio"}]}]}',
            full(AUDIO, code="unsupported_content_type", param="messages[0].content"),
        ),
        (
            b'{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content":'
            b' [{"type": "file", "file_id": "f"}]}]}',
            full(FILES, code="unsupported_content_type", param="messages[1].content"),
        ),
        (
            b'{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url":'
            b' {"url": "ftp://x/y.png"}}]}]}',
            full(BAD_URL, code="invalid_image_url", param="messages[0].content"),
        ),
    ],
)
def test_case_14_bad_requests(target: Target, content: bytes, expected: dict[str, Any]) -> None:
    response = target.post(CHAT, content=content, headers={"Content-Type": "application/json"})
    assert_json(response, 400, expected)


@pytest.mark.parametrize(
    "content", [b'["hi"]', b'"hi"', b'{"messages": ["hi"]}', b'{"messages": [{"role": []}]}']
)
def test_case_14_crashes_are_text_500(target: Target, content: bytes) -> None:
    assert_crash(target.post(CHAT, content=content))


def test_case_14_assistant_only_is_accepted(target: Target) -> None:
    body = {"messages": [{"role": "assistant", "content": "[[scenario:complete]] hi"}]}
    response = target.post(CHAT, body)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == COMPLETE_TEXT


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Hermes-Session-Key": "k" * 257}, short("Session key too long")),
        ({"X-Hermes-Session-Id": "../etc"}, short("Invalid session ID")),
        ({"X-Hermes-Session-Id": "a\\b"}, short("Invalid session ID")),
        ({"X-Hermes-Session-Id": "s" * 257}, short("Session ID too long")),
    ],
)
def test_case_14_session_headers(
    target: Target, headers: dict[str, str], expected: dict[str, Any]
) -> None:
    assert_json(target.post(CHAT, user("hi"), headers=headers), 400, expected)


def test_case_14_session_key_is_checked_after_the_messages(target: Target) -> None:
    response = target.post(CHAT, {"messages": []}, headers={"X-Hermes-Session-Key": "k" * 300})
    assert_json(response, 400, MISSING)


def test_case_16_idempotency_replay_has_a_new_id(target: Target) -> None:
    body = user("[[scenario:complete]] idem")
    headers = {"Idempotency-Key": "idem-1"}
    first = target.post(CHAT, body, headers=headers).json()
    again = target.post(CHAT, body, headers=headers).json()
    assert again["choices"] == first["choices"]
    assert again["id"] != first["id"]
    other = target.post(CHAT, user("[[scenario:tool]] idem"), headers=headers).json()
    assert other["choices"][0]["message"]["content"] == TOOL_TEXT


def test_case_24_wrong_methods(target: Target) -> None:
    for path, allow in ((CHAT, "POST"), ("/v1/responses", "POST"), ("/v1/models", "GET")):
        method = "GET" if allow == "POST" else "POST"
        response = target.request(method, path)
        assert response.status_code == 405, path
        assert response.headers["allow"] == allow
        assert response.text == "405: Method Not Allowed"


def test_case_27_the_cap_is_shared_with_runs(target: Target) -> None:
    for _ in range(2):
        assert target.post("/v1/runs", {"input": "[[scenario:slow]] run"}).status_code == 202
    limited = full(
        "Too many concurrent runs (max 2)", code="rate_limit_exceeded", err_type="rate_limit_error"
    )
    for content in (json.dumps(user("hi")).encode(), b"{not json"):
        response = target.post(CHAT, content=content)
        assert_json(response, 429, limited)
        assert response.headers["retry-after"] == "1"
    assert target.get("/v1/models").status_code == 200


def test_case_28_json_carries_security_headers_sse_does_not(target: Target) -> None:
    assert_security_headers(target.post(CHAT, user("hi")))
    assert_security_headers(target.post(CHAT, content=b"nope"))
    streamed = target.post(CHAT, {**user("hi"), "stream": True})
    assert_no_security_headers(streamed)
    assert streamed.headers["content-type"] == "text/event-stream"
    assert streamed.headers["content-type"] != JSON_TYPE
