"""Black-box contract cases beyond Runs (hermes-api-beyond-runs.md §8): chat completions,
responses and sessions, plain HTTP against any `Target`, driven by the same input markers.

Registered into `CASES` beside the Runs cases, so the drift check runs them against the
real hermes-agent 0.19.0 and tests/contract/test_blackbox.py against the fake. Ids that
are random on both sides (completion, response, item and call ids, UUID session ids) are
checked by shape; derived chat session ids are checked exactly.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx

from agentfakes.drift.cases import case
from agentfakes.drift.client import DriftClient, DriftMismatch
from agentfakes.drift.script_book import ANSWER, FAIL500, TOOL_ANSWER, words
from agentfakes.seeding import derived_session_id

__all__: list[str] = []

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
COMPLETION_ID = re.compile(r"^chatcmpl-[0-9a-f]{29}$")
RESPONSE_ID = re.compile(r"^resp_[0-9a-f]{28}$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FAILED_TEXT = "API call failed after {retries} retries: " + FAIL500
RETRIES = 1  # the reference profile's agent.api_max_retries


def _ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], **extra}


def _usage(turns: int, *, chat: bool) -> dict[str, int]:
    names = ("prompt_tokens", "completion_tokens") if chat else ("input_tokens", "output_tokens")
    return {names[0]: 11 * turns, names[1]: 7 * turns, "total_tokens": 18 * turns}


def _frames(body: bytes) -> list[bytes]:
    return [frame + b"\n\n" for frame in body.split(b"\n\n") if frame]


def _chat_frames(c: DriftClient, body: bytes) -> list[tuple[str | None, Any]]:
    """(event name, payload) per frame, each checked to be json.dumps' default form."""
    out: list[tuple[str | None, Any]] = []
    for frame in _frames(body):
        text = frame.decode()
        event = None
        if text.startswith("event: "):
            event, _, text = text[len("event: ") :].partition("\n")
        data = text[len("data: ") : -2]
        if not text.startswith("data: ") or "\n" in data:
            raise DriftMismatch(c.case, "frame", "one data line", frame)
        if data == "[DONE]":
            out.append((event, data))
            continue
        payload = json.loads(data)
        c.equal("frame bytes", json.dumps(payload), data)
        out.append((event, payload))
    return out


def _sse_headers(c: DriftClient, response: httpx.Response, what: str) -> None:
    c.status(response, 200, what)
    c.equal(f"{what} content-type", "text/event-stream", response.headers.get("content-type"))
    c.equal(f"{what} cache-control", "no-cache", response.headers.get("cache-control"))
    present = [h for h in ("x-frame-options", "referrer-policy") if h in response.headers]
    c.equal(f"{what} security headers", [], present)


def _completion(c: DriftClient, body: dict[str, Any], what: str) -> dict[str, Any]:
    c.check(f"{what}.id", body.get("id"), COMPLETION_ID)
    if not isinstance(body.get("created"), int):
        raise DriftMismatch(c.case, f"{what}.created", "an int", body.get("created"))
    return {**body, "id": "<id>", "created": 0}


def _expected_completion(content: str, finish: str, turns: int) -> dict[str, Any]:
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
        "usage": _usage(turns, chat=True),
    }


@case("chat_plain", "beyond §8 cases 6-8")
def chat_plain(c: DriftClient) -> None:
    text = "[[scenario:complete]] drift chat"
    response = c.post(CHAT, json=_ask(text), headers={"X-Hermes-Session-Key": "drift-key"})
    c.status(response, 200, "chat")
    c.equal(
        "chat body",
        _expected_completion(ANSWER, "stop", 1),
        _completion(c, response.json(), "chat"),
    )
    c.equal("chat bytes", json.dumps(response.json()).encode(), response.content)
    c.equal(
        "X-Hermes-Session-Id",
        derived_session_id(None, text),
        response.headers.get("x-hermes-session-id"),
    )
    c.equal("X-Hermes-Session-Key", "drift-key", response.headers.get("x-hermes-session-key"))


@case("chat_stream_plain", "beyond §8 case 9")
def chat_stream_plain(c: DriftClient) -> None:
    response = c.post(CHAT, json=_ask("[[scenario:complete]] drift stream", stream=True))
    _sse_headers(c, response, "chat stream")
    frames = _chat_frames(c, response.content)
    c.equal("event lines", [None] * len(frames), [event for event, _ in frames])
    c.equal("last frame", "[DONE]", frames[-1][1])
    deltas = [p["choices"][0]["delta"] for _, p in frames[:-1]]
    expected = [{"role": "assistant"}, *({"content": w} for w in words(ANSWER)), {}]
    c.equal("deltas", expected, deltas)
    c.equal("finish usage", _usage(1, chat=True), frames[-2][1].get("usage"))


@case("chat_stream_tool", "beyond §8 case 10")
def chat_stream_tool(c: DriftClient) -> None:
    response = c.post(CHAT, json=_ask("[[scenario:tool]] drift stream", stream=True))
    frames = _chat_frames(c, response.content)
    progress = [p for event, p in frames if event == "hermes.tool.progress"]
    if len(progress) != 2:
        raise DriftMismatch(c.case, "tool progress frames", 2, len(progress))
    call_id = progress[0].get("toolCallId")
    c.equal(
        "running",
        {
            "tool": "terminal",
            "emoji": "\U0001f4bb",
            "label": "echo tool-ran",
            "toolCallId": call_id,
            "status": "running",
        },
        progress[0],
    )
    c.equal(
        "completed", {"tool": "terminal", "toolCallId": call_id, "status": "completed"}, progress[1]
    )
    contents = [
        p["choices"][0]["delta"]["content"]
        for event, p in frames
        if event is None and isinstance(p, dict) and "content" in p["choices"][0]["delta"]
    ]
    c.equal("streamed text", "\n\n" + TOOL_ANSWER, "".join(contents))
    c.equal("finish usage", _usage(2, chat=True), frames[-2][1].get("usage"))


@case("chat_provider_failure", "beyond §8 cases 12-13")
def chat_provider_failure(c: DriftClient) -> None:
    response = c.post(CHAT, json=_ask("[[scenario:fail500]] drift chat"))
    expected = _expected_completion(FAILED_TEXT.format(retries=RETRIES), "error", 0)
    hermes = {
        "completed": False,
        "partial": False,
        "failed": True,
        "error": FAIL500,
        "error_code": "agent_error",
    }
    expected["hermes"] = hermes
    c.status(response, 200, "failed chat")
    c.equal("failed chat body", expected, _completion(c, response.json(), "failed chat"))
    for name, value in (
        ("x-hermes-completed", "false"),
        ("x-hermes-partial", "false"),
        ("x-hermes-error", FAIL500),
    ):
        c.equal(f"header {name}", value, response.headers.get(name))
    streamed = c.post(CHAT, json=_ask("[[scenario:fail500]] drift chat", stream=True))
    frames = _chat_frames(c, streamed.content)
    c.equal("failed stream frames", 3, len(frames))
    finish = frames[1][1]
    c.equal("finish_reason", "error", finish["choices"][0]["finish_reason"])
    c.equal("finish error", {"message": FAIL500, "type": "agent_error"}, finish.get("error"))
    c.equal("finish hermes", hermes, finish.get("hermes"))


@case("chat_bad_requests", "beyond §8 case 14")
def chat_bad_requests(c: DriftClient) -> None:
    short_missing = {
        "error": {"message": "Missing or invalid 'messages' field", "type": "invalid_request_error"}
    }
    no_user = {
        "error": {"message": "No user message found in messages", "type": "invalid_request_error"}
    }
    invalid = {
        "error": {
            "message": "Invalid JSON in request body",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    for content, body in (
        (b"{nope", invalid),
        (b'{"messages": []}', short_missing),
        (b'{"messages": [{"role": "system", "content": "s"}]}', no_user),
    ):
        c.json(c.post(CHAT, content=content), 400, body, f"chat {content!r}")
    crash = c.post(CHAT, content=b'{"messages": ["hi"]}')
    c.status(crash, 500, "chat non-object message")
    c.equal(
        "crash body", b"500 Internal Server Error\n\nServer got itself in trouble", crash.content
    )


@case("responses_lifecycle", "beyond §8 cases 17-18")
def responses_lifecycle(c: DriftClient) -> None:
    response = c.post(RESPONSES, json={"input": "[[scenario:tool]] drift response"})
    c.status(response, 200, "response")
    c.check("X-Hermes-Session-Id", response.headers.get("x-hermes-session-id"), UUID4)
    body = response.json()
    c.check("response id", body.get("id"), RESPONSE_ID)
    c.keys("response", ["id", "object", "status", "created_at", "model", "output", "usage"], body)
    kinds = [item.get("type") for item in body["output"]]
    c.equal("output types", ["function_call", "function_call_output", "message"], kinds)
    c.equal("function_call keys", ["type", "name", "arguments", "call_id"], list(body["output"][0]))
    c.equal("arguments", '{"command": "echo tool-ran"}', body["output"][0]["arguments"])
    c.equal("answer", TOOL_ANSWER, body["output"][2]["content"][0]["text"])
    c.equal("usage", _usage(2, chat=False), body["usage"])
    rid = body["id"]
    c.json(c.get(f"{RESPONSES}/{rid}"), 200, body, "GET response")
    c.json(
        c.request("DELETE", f"{RESPONSES}/{rid}"),
        200,
        {"id": rid, "object": "response", "deleted": True},
        "DELETE",
    )
    gone = {
        "error": {
            "message": f"Response not found: {rid}",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    c.json(c.get(f"{RESPONSES}/{rid}"), 404, gone, "GET deleted")


@case("responses_stream", "beyond §8 cases 19, 22")
def responses_stream(c: DriftClient) -> None:
    response = c.post(RESPONSES, json={"input": "[[scenario:complete]] drift", "stream": True})
    _sse_headers(c, response, "responses stream")
    events = []
    for frame in _frames(response.content):
        head, _, data = frame.decode().rstrip("\n").partition("\n")
        payload = json.loads(data[len("data: ") :])
        c.equal("event line", f"event: {payload.get('type')}", head)
        events.append(payload)
    c.equal(
        "event types",
        [
            "response.created",
            "response.output_item.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.output_item.done",
            "response.completed",
        ],
        [e.get("type") for e in events],
    )
    c.equal("sequence numbers", list(range(6)), [e.get("sequence_number") for e in events])
    c.equal("batched delta", ANSWER, events[2].get("delta"))
    failed = c.post(RESPONSES, json={"input": "[[scenario:fail500]] drift"}).json()
    c.equal("failure status", "completed", failed.get("status"))
    text = failed["output"][-1]["content"][0]["text"]
    c.equal("failure text", FAILED_TEXT.format(retries=RETRIES), text)


@case("sessions_lifecycle", "beyond §8 case 26", seconds=0.6)
def sessions_lifecycle(c: DriftClient) -> None:
    sid = f"drift-{uuid.uuid4().hex[:12]}"
    created = c.post("/api/sessions", json={"id": sid})
    c.status(created, 201, "create session")
    c.equal("model of a new session", "hermes-agent", created.json()["session"]["model"])
    conflict = {
        "error": {
            "message": f"Session already exists: {sid}",
            "type": "invalid_request_error",
            "param": None,
            "code": "session_exists",
        }
    }
    c.json(c.post("/api/sessions", json={"id": sid}), 409, conflict, "duplicate session")
    chat = c.post(f"/api/sessions/{sid}/chat", json={"message": "[[scenario:complete]] drift"})
    c.json(
        chat,
        200,
        {
            "object": "hermes.session.chat.completion",
            "session_id": sid,
            "message": {"role": "assistant", "content": ANSWER},
            "usage": _usage(1, chat=False),
        },
        "session chat",
    )
    stream = c.post(f"/api/sessions/{sid}/chat/stream", json={"message": "[[scenario:complete]] s"})
    names = [
        line[len("event: ") :] for line in stream.text.splitlines() if line.startswith("event: ")
    ]
    expected = ["run.started", "message.started", *["assistant.delta"] * len(words(ANSWER))]
    c.equal(
        "session stream",
        [*expected, "tool.progress", "assistant.completed", "run.completed", "done"],
        names,
    )
    rows = c.get(f"/api/sessions/{sid}/messages").json()["data"]
    c.equal(
        "stored roles", ["user", "assistant", "user", "assistant"], [r.get("role") for r in rows]
    )
    deleted = {"object": "hermes.session.deleted", "id": sid, "deleted": True}
    c.json(c.request("DELETE", f"/api/sessions/{sid}"), 200, deleted, "delete session")
