"""Factories for the other surfaces: seeded, shaped like the fake server's own bodies, and
accepted by the assertions."""

from __future__ import annotations

import re

import agentfakes
from agentfakes import assert_completed, assert_failed, assert_tool_called
from agentfakes.factories import ChatCompletionFactory, ResponseFactory, SessionFactory
from tests.surfaces.test_sessions_blackbox import SESSION_KEYS


def test_same_seed_same_objects() -> None:
    agentfakes.seed(7)
    first = [ChatCompletionFactory.build().to_wire(), ResponseFactory.build(tools=2).to_wire()]
    agentfakes.seed(7)
    again = [ChatCompletionFactory.build().to_wire(), ResponseFactory.build(tools=2).to_wire()]
    assert first == again


def test_chat_completion_shapes() -> None:
    ok = ChatCompletionFactory.build().to_wire()
    assert list(ok) == ["id", "object", "created", "model", "choices", "usage"]
    assert re.match(r"^chatcmpl-[0-9a-f]{29}$", ok["id"])
    assert_completed(ok)
    failed = ChatCompletionFactory.build("failed").to_wire()
    assert failed["choices"][0]["message"]["content"].startswith("API call failed after 3")
    assert_failed(failed, error=failed["hermes"]["error"])


def test_response_shapes() -> None:
    response = ResponseFactory.build(tools=2).to_wire()
    assert [i["type"] for i in response["output"]] == [
        "function_call",
        "function_call_output",
        "function_call",
        "function_call_output",
        "message",
    ]
    assert_completed(response)
    assert_tool_called(response, response["output"][0]["name"])
    failure = ResponseFactory.build("provider_failure").to_wire()
    assert failure["status"] == "completed"
    assert failure["usage"]["total_tokens"] == 0


def test_session_shape() -> None:
    session = SessionFactory.build("branched").to_wire()
    assert list(session) == SESSION_KEYS
    assert session["end_reason"] == "branched"
    assert SessionFactory.build("empty").message_count == 0
