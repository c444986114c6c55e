"""Factories for the surfaces beyond Runs: a chat completion, a response and a session,
shaped like hermes-agent 0.19.0's (beyond-runs §4.2, §5.2, §6.2); `.to_wire()` on what
they build is the body the server sends, ids and timestamps seeded and on the clock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from agentfakes.factories import content
from agentfakes.factories.base import Factory, Lazy, Param, Values
from agentfakes.factories.runs import RunUsageFactory
from agentfakes.models.chat import ChatCompletion
from agentfakes.models.responses import ResponseObject, function_call, function_call_output
from agentfakes.models.runs import RunUsage
from agentfakes.models.sessions import SessionObject
from agentfakes.seeding import new_call_id, new_completion_id, new_response_id, random_uuid4, rng

API_MAX_RETRIES = 3  # the real default, quoted in provider failure texts


def _provider_failure(values: Values) -> str:
    return f"API call failed after {API_MAX_RETRIES} retries: {values['error']}"


class ChatCompletionFactory(Factory[ChatCompletion]):
    """A `chat.completion` body; trait `failed` is 0.19.0's provider failure (a 200 with
    `finish_reason: "error"`, the error text as content, the `hermes` block)."""

    __model__ = ChatCompletion
    id = Lazy(lambda _: new_completion_id())
    created = Lazy(lambda _: int(time.time()))
    model = "hermes-agent"
    error = None  # declared before content: a failed content quotes it
    content = Lazy(lambda _: content.answer())
    finish_reason = "stop"
    usage = Lazy(lambda _: RunUsageFactory.build())
    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "failed": {
            "finish_reason": "error",
            "error": Lazy(lambda _: content.provider_error()[1]),
            "content": Lazy(_provider_failure),
            "usage": Lazy(lambda _: RunUsage()),
        },
    }


def _response_output(values: Values) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for _ in range(int(values["tools"])):
        name = content.random_tool_name()
        tool = content.tool(name)
        arguments = tool.arguments()
        call_id = new_call_id()
        items.append(function_call(name, json.dumps(arguments), call_id))
        items.append(function_call_output(call_id, json.dumps(tool.value(arguments))))
    text = values["text"]
    items.append(
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
    )
    return items


class ResponseFactory(Factory[ResponseObject]):
    """A `response` object; `tools=n` puts n function_call / function_call_output pairs
    before the message; trait `provider_failure` is `completed` with the error text."""

    __model__ = ResponseObject
    tools = Param(0)
    text = Param(Lazy(lambda _: content.answer()))
    id = Lazy(lambda _: new_response_id())
    created_at = Lazy(lambda _: int(time.time()))
    status = "completed"
    model = "hermes-agent"
    output = Lazy(_response_output)
    usage = Lazy(lambda _: RunUsageFactory.build())
    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "with_tools": {"tools": Lazy(lambda _: rng().randint(1, 3))},
        "provider_failure": {
            "text": Lazy(
                lambda _: (
                    f"API call failed after {API_MAX_RETRIES} retries: "
                    + content.provider_error()[1]
                )
            ),
            "usage": Lazy(lambda _: RunUsage()),
        },
    }


class SessionFactory(Factory[SessionObject]):
    """A client-safe session object as `/api/sessions` returns it; trait `branched` is a
    session forked from (ended `branched`)."""

    __model__ = SessionObject
    id = Lazy(lambda v: f"api_{int(time.time())}_{random_uuid4().hex[:8]}")
    source = "api_server"
    model = "fake-model"
    title = None
    started_at = Lazy(lambda _: round(time.time() - rng().uniform(60, 86_400), 6))
    message_count = Lazy(lambda _: 2 * rng().randint(1, 6))
    input_tokens = Lazy(lambda v: 11 * v["message_count"])
    output_tokens = Lazy(lambda v: 7 * v["message_count"])
    api_call_count = Lazy(lambda v: v["message_count"] // 2)
    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "empty": {
            "model": "hermes-agent",
            "message_count": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "api_call_count": 0,
        },
        "branched": {
            "end_reason": "branched",
            "ended_at": Lazy(lambda v: round(v["started_at"] + rng().uniform(1, 3600), 6)),
        },
    }
