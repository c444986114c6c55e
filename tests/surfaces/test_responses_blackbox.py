"""Contract cases 17-23 and 27 of beyond-runs §8 for `/v1/responses`, black-box: plain
HTTP against `target`. Ids and timestamps are normalised."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.surfaces.conftest import (
    COMPLETE_TEXT,
    TOOL_TEXT,
    UPSTREAM_ERROR,
    Target,
    assert_crash,
    assert_json,
    assert_no_security_headers,
    full,
    short,
    sse_frames,
)

RESPONSES = "/v1/responses"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RESPONSE_ID = re.compile(r"^resp_[0-9a-f]{28}$")
TOOL_RESULT = '{"output": "tool-ran", "exit_code": 0, "error": null}'


def events(body: bytes) -> list[dict[str, Any]]:
    """Each frame is `event: <type>` + one `data:` line whose JSON repeats the type."""
    out = []
    for frame in sse_frames(body):
        head, data = frame.decode().rstrip("\n").split("\n")
        assert head.startswith("event: ") and data.startswith("data: "), frame
        payload = json.loads(data[len("data: ") :])
        assert payload["type"] == head[len("event: ") :]
        assert data == "data: " + json.dumps(payload)
        out.append(payload)
    return out


def message(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text}],
    }


def test_case_17_create_get_delete(target: Target) -> None:
    response = target.post(RESPONSES, {"input": "[[scenario:complete]] resp"})
    body = response.json()
    assert response.status_code == 200
    assert UUID4.match(response.headers["x-hermes-session-id"])
    assert RESPONSE_ID.match(body["id"])
    assert list(body) == ["id", "object", "status", "created_at", "model", "output", "usage"]
    assert (body["object"], body["status"], body["model"]) == (
        "response",
        "completed",
        "hermes-agent",
    )
    assert body["output"] == [message(COMPLETE_TEXT)]
    assert body["usage"] == {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}
    rid = body["id"]
    assert_json(target.get(f"{RESPONSES}/{rid}"), 200, body)
    deleted = target.request("DELETE", f"{RESPONSES}/{rid}")
    assert_json(deleted, 200, {"id": rid, "object": "response", "deleted": True})
    gone = full(f"Response not found: {rid}")
    assert_json(target.get(f"{RESPONSES}/{rid}"), 404, gone)
    assert_json(target.request("DELETE", f"{RESPONSES}/{rid}"), 404, gone)
    unauthorised = target.http.get(f"{RESPONSES}/{rid}")
    assert unauthorised.status_code == 401


def test_case_18_tool_turn_items(target: Target) -> None:
    body = target.post(RESPONSES, {"input": "[[scenario:tool]] resp"}).json()
    call_id = body["output"][0]["call_id"]
    assert body["output"] == [
        {
            "type": "function_call",
            "name": "terminal",
            "arguments": '{"command": "echo tool-ran"}',
            "call_id": call_id,
        },
        {"type": "function_call_output", "call_id": call_id, "output": TOOL_RESULT},
        message(TOOL_TEXT),
    ]
    assert body["usage"]["total_tokens"] == 36


def test_case_19_streamed_plain_answer(target: Target) -> None:
    response = target.post(RESPONSES, {"input": "[[scenario:complete]] resp", "stream": True})
    assert response.headers["content-type"] == "text/event-stream"
    assert UUID4.match(response.headers["x-hermes-session-id"])
    assert_no_security_headers(response)
    assert b"[DONE]" not in response.content
    stream = events(response.content)
    assert [e["type"] for e in stream] == [
        "response.created",
        "response.output_item.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in stream] == list(range(6))
    assert stream[0]["response"]["status"] == "in_progress"
    assert stream[0]["response"]["output"] == []
    assert stream[2]["delta"] == COMPLETE_TEXT  # nine words, one 50 ms batch
    assert stream[2]["logprobs"] == []
    completed = stream[-1]["response"]
    assert completed["output"] == [message(COMPLETE_TEXT)]
    assert target.get(f"{RESPONSES}/{completed['id']}").json() == completed


def test_case_20_streamed_tool_turn(target: Target) -> None:
    response = target.post(RESPONSES, {"input": "[[scenario:tool]] resp", "stream": True})
    stream = events(response.content)
    kinds = [(e["type"], e.get("item", {}).get("type"), e.get("output_index")) for e in stream]
    assert kinds == [
        ("response.created", None, None),
        ("response.output_item.added", "function_call", 0),
        ("response.output_item.done", "function_call", 0),
        ("response.output_item.added", "function_call_output", 1),
        ("response.output_item.done", "function_call_output", 1),
        ("response.output_item.added", "message", 2),
        ("response.output_text.delta", None, 2),
        ("response.output_text.done", None, 2),
        ("response.output_item.done", "message", 2),
        ("response.completed", None, None),
    ]
    added = stream[1]["item"]
    assert re.match(r"^fc_[0-9a-f]{24}$", added["id"])
    assert re.match(r"^fco_[0-9a-f]{24}$", stream[3]["item"]["id"])
    assert re.match(r"^msg_[0-9a-f]{24}$", stream[5]["item"]["id"])
    assert stream[6]["delta"] == "\n\n" + TOOL_TEXT
    parts = [{"type": "input_text", "text": TOOL_RESULT}]
    completed = stream[-1]["response"]
    assert completed["output"] == [
        {
            "type": "function_call",
            "name": "terminal",
            "arguments": '{"command": "echo tool-ran"}',
            "call_id": added["call_id"],
        },
        {"type": "function_call_output", "call_id": added["call_id"], "output": parts},
        message("\n\n" + TOOL_TEXT),
    ]
    assert target.get(f"{RESPONSES}/{completed['id']}").json()["output"][1]["output"] == parts


def test_case_21_chaining(target: Target) -> None:
    first = target.post(
        RESPONSES, {"input": "[[scenario:tool]] alpha", "instructions": "Be terse."}
    )
    rid = first.json()["id"]
    second = target.post(
        RESPONSES, {"input": "[[scenario:complete]] beta", "previous_response_id": rid}
    )
    assert second.headers["x-hermes-session-id"] == first.headers["x-hermes-session-id"]
    # chained on a tool turn: the earlier function_call items come first again
    assert [item["type"] for item in second.json()["output"]] == [
        "function_call",
        "function_call_output",
        "message",
    ]
    unknown = target.post(RESPONSES, {"input": "x", "previous_response_id": "resp_nope"})
    assert_json(unknown, 404, full("Previous response not found: resp_nope"))
    both = target.post(RESPONSES, {"input": "x", "previous_response_id": rid, "conversation": "c"})
    assert_json(both, 400, full("Cannot use both 'conversation' and 'previous_response_id'"))
    c1 = target.post(RESPONSES, {"input": "[[scenario:complete]] one", "conversation": "chat-1"})
    c2 = target.post(RESPONSES, {"input": "[[scenario:complete]] two", "conversation": "chat-1"})
    assert c1.headers["x-hermes-session-id"] == c2.headers["x-hermes-session-id"]
    unstored = target.post(RESPONSES, {"input": "[[scenario:complete]] x", "store": False}).json()
    assert target.get(f"{RESPONSES}/{unstored['id']}").status_code == 404
    history = target.post(
        RESPONSES,
        {
            "input": "[[scenario:complete]] own history",
            "previous_response_id": rid,
            "conversation_history": [{"role": "user", "content": "hi"}],
        },
    )
    assert history.headers["x-hermes-session-id"] != first.headers["x-hermes-session-id"]
    assert [item["type"] for item in history.json()["output"]] == ["message"]


def test_case_22_provider_failure_is_completed(target: Target) -> None:
    text = f"API call failed after 1 retries: {UPSTREAM_ERROR}"
    plain = target.post(RESPONSES, {"input": "[[scenario:fail500]] r"}).json()
    assert plain["status"] == "completed"
    assert plain["output"] == [message(text)]
    assert plain["usage"] == {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    streamed = events(
        target.post(RESPONSES, {"input": "[[scenario:fail500]] r", "stream": True}).content
    )
    assert [e["type"] for e in streamed][-1] == "response.completed"
    assert "response.failed" not in [e["type"] for e in streamed]
    assert streamed[2]["delta"] == text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{nope", short("Invalid JSON in request body")),
        (b"{}", full("Missing 'input' field")),
        (b'{"input": null}', full("Missing 'input' field")),
        (b'{"input": 3}', full("'input' must be a string or array")),
        (b'{"input": ""}', full("No user message found in input")),
        (b'{"input": []}', full("No user message found in input")),
        (b'{"input": [{"role": "user"}]}', full("No user message found in input")),
        (
            b'{"input": [{"role": "user", "content": [{"type": "audio"}]}]}',
            full(
                "Unsupported content part type 'audio'. "
                "Only text and image_url/input_image parts are supported.",
                code="unsupported_content_type",
                param="input[0].content",
            ),
        ),
        (
            b'{"input": "x", "conversation_history": "no"}',
            full("'conversation_history' must be an array of message objects"),
        ),
        (
            b'{"input": "x", "conversation_history": [{"role": "user"}]}',
            full("conversation_history[0] must have 'role' and 'content' fields"),
        ),
    ],
)
def test_case_23_bad_requests(target: Target, content: bytes, expected: dict[str, Any]) -> None:
    assert_json(target.post(RESPONSES, content=content), 400, expected)


def test_case_23_session_key_is_checked_before_the_body(target: Target) -> None:
    response = target.post(RESPONSES, content=b"{nope", headers={"X-Hermes-Session-Key": "k" * 257})
    assert_json(response, 400, short("Session key too long"))


@pytest.mark.parametrize("content", [b"[1]", b'"text"'])
def test_case_23_non_object_body_crashes(target: Target, content: bytes) -> None:
    assert_crash(target.post(RESPONSES, content=content))


def test_case_27_responses_share_the_cap(target: Target) -> None:
    for _ in range(2):
        assert target.post("/v1/runs", {"input": "[[scenario:slow]] run"}).status_code == 202
    limited = full(
        "Too many concurrent runs (max 2)", code="rate_limit_exceeded", err_type="rate_limit_error"
    )
    response = target.post(RESPONSES, content=b"{nope")
    assert_json(response, 429, limited)
    assert response.headers["retry-after"] == "1"


def test_the_session_id_header_is_ignored(target: Target) -> None:
    response = target.post(
        RESPONSES, {"input": "[[scenario:complete]] x"}, headers={"X-Hermes-Session-Id": "mine"}
    )
    assert UUID4.match(response.headers["x-hermes-session-id"])
