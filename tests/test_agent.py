"""FakeAgent: RubyPi's loop semantics, event order, scripting vocabulary and its errors."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from agentfakes.agent import (
    AGENT_EVENTS,
    AgentCall,
    FakeAgent,
    FakeAgentError,
    ModelTurn,
    ProviderError,
    ToolCallSpec,
    TurnsExhaustedError,
    call_tool,
    call_tools,
    provider_error,
    redact_key,
    reply,
)
from agentfakes.models import Message, Result, StopReason, Usage


def record_events(agent: FakeAgent) -> list[tuple[str, dict[str, Any]]]:
    """Subscribe to every event; the list fills in firing order."""
    fired: list[tuple[str, dict[str, Any]]] = []

    def recorder(name: str) -> Callable[[dict[str, Any]], None]:
        return lambda payload: fired.append((name, payload))

    for name in AGENT_EVENTS:
        agent.on(name, recorder(name))
    return fired


def search(q: str) -> list[str]:
    return [f"{q}-1", f"{q}-2"]


# ---------------------------------------------------------------- the four outcomes


def test_a_reply_completes_in_one_turn() -> None:
    agent = FakeAgent(turns=[reply("Hello")])

    result = agent.run("hi")

    assert result.stop_reason is StopReason.COMPLETE
    assert result.success is True
    assert result.truncated is False
    assert result.content == "Hello"
    assert result.turns == 1
    assert result.error is None
    assert [(m.role, m.content) for m in result.messages] == [
        ("user", "hi"),
        ("assistant", "Hello"),
    ]


def test_a_plain_string_turn_is_short_for_reply() -> None:
    assert FakeAgent(turns=["Hi there"]).run("hi").content == "Hi there"


def test_tool_then_reply_completes_in_two_turns_and_records_the_call() -> None:
    agent = FakeAgent(
        turns=[call_tool("search", q="fakes"), reply("Found 2")], tools={"search": search}
    )

    result = agent.run("find fakes")

    assert (result.stop_reason, result.turns, result.content) == (StopReason.COMPLETE, 2, "Found 2")
    [made] = result.tool_calls_made
    assert made.tool_name == "search"
    assert made.arguments == {"q": "fakes"}
    assert made.result.success is True
    assert made.result.value == ["fakes-1", "fakes-2"]
    assert made.result.name == "search"


def test_max_iterations_stops_an_agent_that_always_calls_tools() -> None:
    calls: list[str] = []
    agent = FakeAgent(
        turns=[call_tool("search", q="again")],
        repeat_last=True,
        max_iterations=3,
        tools={"search": lambda q: calls.append(q)},
    )

    result = agent.run("loop forever")

    assert result.stop_reason is StopReason.MAX_ITERATIONS
    assert result.turns == 3 == agent.max_iterations
    assert result.truncated is True
    assert result.success is False
    assert result.error is None
    assert result.content is None  # the last assistant message only called a tool
    assert calls == ["again"] * 3
    assert len(result.tool_calls_made) == 3
    assert agent.turns_consumed == 3  # the limit is checked before a 4th model turn


def test_max_iterations_content_is_the_last_assistant_text() -> None:
    agent = FakeAgent(
        turns=[
            call_tool("search", q="a").with_text("Looking at a"),
            call_tool("search", q="b").with_text("Now b"),
        ],
        max_iterations=2,
        tools={"search": search},
    )

    result = agent.run("go")

    assert (result.stop_reason, result.turns, result.content) == (
        StopReason.MAX_ITERATIONS,
        2,
        "Now b",
    )


def test_max_iterations_content_is_none_when_only_an_earlier_turn_had_text() -> None:
    agent = FakeAgent(
        turns=[call_tool("search", q="a").with_text("Looking"), call_tool("search", q="b")],
        max_iterations=2,
        tools={"search": search},
    )

    assert agent.run("go").content is None  # RubyPi: the last assistant message's content


def test_max_iterations_of_one_allows_exactly_one_model_turn() -> None:
    agent = FakeAgent(
        turns=[call_tool("search", q="x")], max_iterations=1, tools={"search": search}
    )

    result = agent.run("go")

    assert (result.stop_reason, result.turns) == (StopReason.MAX_ITERATIONS, 1)
    assert len(result.tool_calls_made) == 1


def test_a_provider_error_ends_the_call_with_stop_reason_error() -> None:
    agent = FakeAgent(turns=[provider_error(ProviderError("HTTP 500: Internal Server Error"))])

    result = agent.run("hi")

    assert result.stop_reason is StopReason.ERROR
    assert result.content is None
    assert result.success is False
    assert result.truncated is False
    assert result.error is not None
    assert result.error.class_name == "ProviderError"
    assert result.error.message == "HTTP 500: Internal Server Error"
    assert result.turns == 0  # the failed turn never produced a response
    assert [m.role for m in result.messages] == ["user"]


def test_a_provider_error_after_a_tool_turn_keeps_what_happened_before_it() -> None:
    agent = FakeAgent(
        turns=[
            call_tool("search", q="x").with_text("Checking").with_usage(10, 4),
            provider_error(ProviderError.invalid_key("sk-proj-abcdefghijkl6789")),
        ],
        tools={"search": search},
    )

    result = agent.run("go")

    assert result.stop_reason is StopReason.ERROR
    assert result.content is None  # not "Checking": an error Result has no content
    assert result.turns == 1
    assert len(result.tool_calls_made) == 1
    assert result.usage.to_wire() == {"input_tokens": 10, "output_tokens": 4, "total_tokens": 14}
    assert str(result.error) == "ProviderError: HTTP 401: Invalid key sk-pro...6789"


def test_a_raising_tool_is_a_failed_call_fed_back_without_aborting() -> None:
    def flaky(q: str) -> str:
        raise ConnectionError("search backend unreachable")

    seen_by_model: list[Message] = []

    def answer(messages: list[Message]) -> ModelTurn:
        seen_by_model.extend(messages)
        return reply("Search is down, sorry")

    agent = FakeAgent(turns=[call_tool("search", q="x"), answer], tools={"search": flaky})

    result = agent.run("find x")

    assert result.stop_reason is StopReason.COMPLETE
    assert result.content == "Search is down, sorry"
    [made] = result.tool_calls_made
    assert made.result.success is False
    assert made.result.error == "search backend unreachable"
    assert made.result.value is None
    assert seen_by_model[-1].role == "tool"
    assert seen_by_model[-1].content == "Error: search backend unreachable"


def test_a_tool_the_agent_does_not_have_is_a_failed_call() -> None:
    agent = FakeAgent(turns=[call_tool("delete_everything"), reply("ok")], tools={"search": search})

    result = agent.run("go")

    assert result.stop_reason is StopReason.COMPLETE
    [made] = result.tool_calls_made
    assert made.result.success is False
    assert made.result.error == "Tool 'delete_everything' not found in registry"


def test_wrong_tool_arguments_are_a_failed_call_like_any_other_raise() -> None:
    agent = FakeAgent(turns=[call_tool("search", query="x"), reply("ok")], tools={"search": search})

    [made] = agent.run("go").tool_calls_made

    assert made.result.success is False
    assert "unexpected keyword argument 'query'" in (made.result.error or "")


def test_an_assertion_in_a_tool_fails_the_test_instead_of_being_recorded() -> None:
    def strict_search(q: str) -> str:
        assert q == "expected", f"searched for {q!r}"
        return "ok"

    agent = FakeAgent(
        turns=[call_tool("search", q="other"), reply("ok")], tools={"search": strict_search}
    )

    with pytest.raises(AssertionError, match="searched for 'other'"):
        agent.run("go")


# ---------------------------------------------------------------- across calls


def test_the_iteration_counter_resets_on_continue() -> None:
    agent = FakeAgent(
        turns=[call_tool("search", q="a"), reply("A"), call_tool("search", q="b"), reply("B")],
        max_iterations=2,
        tools={"search": search},
    )

    first = agent.run("a?")
    second = agent.continue_("b?")

    assert (first.stop_reason, first.turns, first.content) == (StopReason.COMPLETE, 2, "A")
    assert (second.stop_reason, second.turns, second.content) == (StopReason.COMPLETE, 2, "B")


def test_messages_accumulate_across_continue_in_openai_shape() -> None:
    agent = FakeAgent(
        turns=[call_tool("search", q="a"), reply("A"), call_tool("search", q="b"), reply("B")],
        tools={"search": search},
        system_prompt="You are terse.",
    )

    agent.run("a?")
    result = agent.continue_("b?")

    assert [(m.role, m.content) for m in result.messages] == [
        ("system", "You are terse."),
        ("user", "a?"),
        ("assistant", None),
        ("tool", json.dumps(["a-1", "a-2"])),
        ("assistant", "A"),
        ("user", "b?"),
        ("assistant", None),
        ("tool", json.dumps(["b-1", "b-2"])),
        ("assistant", "B"),
    ]
    first_call = result.messages[2].tool_calls
    assert first_call == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "search", "arguments": '{"q": "a"}'},
        }
    ]
    assert (result.messages[3].tool_call_id, result.messages[3].name) == ("call_1", "search")
    assert result.messages[7].tool_call_id == "call_2"  # ids stay unique across calls
    assert agent.messages == result.messages


def test_tool_calls_usage_and_turns_are_per_call() -> None:
    agent = FakeAgent(
        turns=[
            call_tool("search", q="a").with_usage(100, 50),
            reply("A", usage=Usage(input_tokens=200, output_tokens=75)),
            reply("B", usage=Usage(input_tokens=7, output_tokens=3)),
        ],
        tools={"search": search},
    )

    first = agent.run("a?")
    second = agent.continue_("b?")

    assert first.usage.to_wire() == {"input_tokens": 300, "output_tokens": 125, "total_tokens": 425}
    assert second.usage.to_wire() == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    assert (len(first.tool_calls_made), len(second.tool_calls_made)) == (1, 0)
    assert (first.turns, second.turns) == (2, 1)


def test_agent_calls_records_each_prompt_and_its_result() -> None:
    agent = FakeAgent(turns=["one", "two"])

    first = agent.run("1?")
    second = agent.continue_("2?")

    assert agent.calls == [
        AgentCall(method="run", prompt="1?", result=first),
        AgentCall(method="continue_", prompt="2?", result=second),
    ]


def test_a_result_does_not_change_when_the_conversation_goes_on() -> None:
    agent = FakeAgent(turns=["one", "two"])
    first = agent.run("1?")

    agent.continue_("2?")

    assert len(first.messages) == 2


# ---------------------------------------------------------------- events


def test_callbacks_fire_in_rubypi_order_for_a_two_turn_run_with_a_tool() -> None:
    agent = FakeAgent(
        turns=[call_tool("search", q="x").with_text("Let me look"), reply("Found it")],
        tools={"search": search},
    )
    fired = record_events(agent)

    result = agent.run("find x")

    assert [name for name, _ in fired] == [
        "turn_start",
        "text_delta",
        "text_delta",
        "text_delta",
        "tool_execution_start",
        "tool_execution_end",
        "turn_end",
        "turn_start",
        "text_delta",
        "text_delta",
        "turn_end",
        "agent_end",
    ]
    payloads = [payload for _, payload in fired]
    assert payloads[0] == {"turn": 1}
    assert "".join(p["content"] for n, p in fired[:4] if n == "text_delta") == "Let me look"
    assert payloads[4] == {"tool_name": "search", "arguments": {"q": "x"}}
    end = payloads[5]
    assert (end["tool_name"], end["success"]) == ("search", True)
    assert end["result"] == result.tool_calls_made[0].result
    assert end["duration_ms"] == end["result"].duration_ms
    assert payloads[6] == {"turn": 1, "has_tool_calls": True}
    assert payloads[7] == {"turn": 2}
    assert payloads[10] == {"turn": 2, "has_tool_calls": False}
    assert payloads[11] == {"result": result, "success": True}


def test_a_multi_tool_turn_starts_every_tool_before_ending_any() -> None:
    agent = FakeAgent(
        turns=[
            call_tools(ToolCallSpec("search", {"q": "a"}), ToolCallSpec("search", {"q": "b"})),
            "ok",
        ],
        tools={"search": search},
    )
    fired = record_events(agent)

    agent.run("go")

    tool_events = [
        (name, payload.get("arguments") or payload["result"].value)
        for name, payload in fired
        if name.startswith("tool_")
    ]
    assert tool_events == [
        ("tool_execution_start", {"q": "a"}),
        ("tool_execution_start", {"q": "b"}),
        ("tool_execution_end", ["a-1", "a-2"]),
        ("tool_execution_end", ["b-1", "b-2"]),
    ]


def test_a_provider_error_fires_error_then_agent_end() -> None:
    boom = ProviderError()
    agent = FakeAgent(turns=[provider_error(boom, text="Hel")])
    fired = record_events(agent)

    result = agent.run("hi")

    assert [name for name, _ in fired] == ["turn_start", "text_delta", "error", "agent_end"]
    assert fired[2][1] == {"error": boom, "source": "agent_loop"}
    assert fired[3][1] == {"result": result, "success": False}


def test_max_iterations_fires_no_error_event() -> None:
    agent = FakeAgent(
        turns=[call_tool("search", q="x")],
        repeat_last=True,
        max_iterations=1,
        tools={"search": search},
    )
    fired = record_events(agent)

    agent.run("go")

    assert [name for name, _ in fired] == [
        "turn_start",
        "tool_execution_start",
        "tool_execution_end",
        "turn_end",
        "agent_end",
    ]


def test_an_unknown_event_name_is_refused_with_the_allowed_names() -> None:
    agent = FakeAgent(turns=["hi"])

    with pytest.raises(ValueError) as caught:
        agent.on("turn_begin", print)

    message = str(caught.value)
    assert "Unknown event type: 'turn_begin'" in message
    for name in AGENT_EVENTS:
        assert name in message


def test_handlers_must_be_sync_callables() -> None:
    agent = FakeAgent(turns=["hi"])

    async def on_end(payload: dict[str, Any]) -> None: ...

    with pytest.raises(TypeError, match="async"):
        agent.on("agent_end", on_end)
    with pytest.raises(TypeError, match="callable"):
        agent.on("agent_end", "print")  # type: ignore[arg-type]


def test_off_stops_a_handler() -> None:
    agent = FakeAgent(turns=["one", "two"])
    ends: list[dict[str, Any]] = []
    handler = agent.on("agent_end", ends.append)

    agent.run("1")
    agent.off("agent_end", handler)
    agent.continue_("2")

    assert len(ends) == 1


def test_a_raising_handler_becomes_an_error_event_and_the_run_goes_on() -> None:
    agent = FakeAgent(turns=["hi"])
    errors: list[dict[str, Any]] = []
    agent.on("error", errors.append)

    def broken(payload: dict[str, Any]) -> None:
        raise KeyError("missing")

    agent.on("turn_start", broken)

    result = agent.run("go")

    assert result.success is True
    [error] = errors
    assert (error["source"], error["event"]) == ("event_handler", "turn_start")
    assert isinstance(error["error"], KeyError)


def test_an_assertion_in_a_handler_fails_the_test() -> None:
    agent = FakeAgent(turns=["hi"])

    def check(payload: dict[str, Any]) -> None:
        assert payload["content"] == "bye"

    agent.on("text_delta", check)

    with pytest.raises(AssertionError):
        agent.run("go")


# ---------------------------------------------------------------- scripting


def test_text_streams_as_word_deltas_or_as_scripted_deltas() -> None:
    assert reply("Hello brave  world").stream() == ("Hello ", "brave  ", "world")
    assert reply("  padded ").stream() == ("  ", "padded ")
    assert reply("").stream() == ()
    assert reply("Hello", deltas=["He", "llo"]).stream() == ("He", "llo")

    with pytest.raises(ValueError, match="do not join"):
        reply("Hello", deltas=["He", "lp"])


def test_scripted_turns_exhausted_says_how_many_were_scripted_and_consumed() -> None:
    agent = FakeAgent(turns=[call_tool("search", q="x"), reply("done")], tools={"search": search})
    agent.run("first")

    with pytest.raises(TurnsExhaustedError) as caught:
        agent.continue_("second")

    assert str(caught.value) == (
        "FakeAgent ran out of scripted turns: 2 scripted, 2 consumed, and "
        "continue_('second') needs another model turn (turn 1 of this call). "
        "Script more turns, or pass repeat_last=True to repeat the last one."
    )


def test_scripted_turns_exhausted_mid_call() -> None:
    agent = FakeAgent(turns=[call_tool("search", q="x")], tools={"search": search})

    with pytest.raises(TurnsExhaustedError, match=r"1 scripted, 1 consumed.*turn 2 of this call"):
        agent.run("go")


def test_repeat_last_repeats_the_final_turn_only() -> None:
    agent = FakeAgent(turns=["first", "again"], repeat_last=True)

    contents = [agent.run(str(n)).content for n in range(4)]

    assert contents == ["first", "again", "again", "again"]


def test_a_turn_function_sees_a_copy_of_the_messages_so_far() -> None:
    seen: list[list[tuple[str, str | None]]] = []

    def model(messages: list[Message]) -> str:
        seen.append([(m.role, m.content) for m in messages])
        messages.clear()  # must not touch the agent's history
        return f"you said {len(seen)}"

    agent = FakeAgent(turns=[model, model], system_prompt="sys")

    agent.run("a")
    result = agent.continue_("b")

    assert seen == [
        [("system", "sys"), ("user", "a")],
        [("system", "sys"), ("user", "a"), ("assistant", "you said 1"), ("user", "b")],
    ]
    assert len(result.messages) == 5


def test_a_raising_turn_function_is_a_provider_error() -> None:
    def model(messages: list[Message]) -> ModelTurn:
        raise ProviderError(status=429)

    result = FakeAgent(turns=[model]).run("hi")

    assert result.error is not None
    assert str(result.error) == "ProviderError: HTTP 429: Too Many Requests"


def test_a_programming_error_in_a_turn_function_is_raised_like_rubypi() -> None:
    def model(messages: list[Message]) -> ModelTurn:
        return messages[0].not_a_field  # type: ignore[attr-defined,no-any-return]

    with pytest.raises(AttributeError):
        FakeAgent(turns=[model]).run("hi")


def test_a_turn_function_returning_the_wrong_thing_is_a_clear_error() -> None:
    def model(messages: list[Message]) -> Any:
        return 42

    agent = FakeAgent(turns=[model])

    with pytest.raises(FakeAgentError, match="returned 42; it must return a ModelTurn"):
        agent.run("hi")


def test_explicit_tool_call_ids_are_kept() -> None:
    agent = FakeAgent(
        turns=[call_tools(ToolCallSpec("search", {"q": "x"}, id="call_abc")), "ok"],
        tools={"search": search},
    )

    messages = agent.run("go").messages

    assert messages[1].tool_calls is not None
    assert messages[1].tool_calls[0]["id"] == "call_abc"
    assert messages[2].tool_call_id == "call_abc"


def test_provider_error_messages_look_like_hermes_redacted_errors() -> None:
    assert str(ProviderError()) == "HTTP 500: Internal Server Error"
    assert str(ProviderError(status=503)) == "HTTP 503: Service Unavailable"
    assert str(ProviderError.invalid_key()) == "HTTP 401: Invalid key sk-pro...6789"
    assert ProviderError.invalid_key().status == 401
    assert str(ProviderError("kaboom")) == "kaboom"
    assert redact_key("sk-short") == "***"
    assert str(provider_error().raises) == "HTTP 500: Internal Server Error"


# ---------------------------------------------------------------- construction is validated


@pytest.mark.parametrize("bad", [0, -1])
def test_max_iterations_must_be_at_least_one(bad: int) -> None:
    with pytest.raises(ValueError, match=f"max_iterations must be >= 1, got {bad}"):
        FakeAgent(turns=["hi"], max_iterations=bad)


@pytest.mark.parametrize("bad", [True, "3", 2.0])
def test_max_iterations_must_be_an_int(bad: Any) -> None:
    with pytest.raises(TypeError, match="max_iterations must be an int"):
        FakeAgent(turns=["hi"], max_iterations=bad)


def test_turns_of_the_wrong_kind_are_refused_with_their_index() -> None:
    with pytest.raises(TypeError, match=r"turns\[1\] must be a ModelTurn .* got int 5"):
        FakeAgent(turns=["hi", 5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="turns must be a list of turns, got str"):
        FakeAgent(turns="hi")
    with pytest.raises(TypeError, match="turns must be a list of turns, got ModelTurn"):
        FakeAgent(turns=reply("hi"))  # type: ignore[arg-type]


def test_repeat_last_needs_a_turn() -> None:
    with pytest.raises(ValueError, match="repeat_last=True needs at least one scripted turn"):
        FakeAgent(turns=[], repeat_last=True)


def test_tools_must_be_a_mapping_of_callables() -> None:
    with pytest.raises(TypeError, match="tool 'search' must be callable"):
        FakeAgent(turns=["hi"], tools={"search": "not a function"})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="tools must be a mapping"):
        FakeAgent(turns=["hi"], tools=[search])  # type: ignore[arg-type]


def test_model_turns_are_validated_when_built() -> None:
    with pytest.raises(ValueError, match="cannot also request tool calls"):
        ModelTurn(raises=ProviderError(), tool_calls=[ToolCallSpec("search")])
    with pytest.raises(TypeError, match=r"ProviderError\(\) rather than ProviderError"):
        ModelTurn(raises=ProviderError)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ToolCallSpec objects"):
        ModelTurn(tool_calls=[("search", {})])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="arguments must be a mapping"):
        ToolCallSpec("search", ["q"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one ToolCallSpec"):
        call_tools()


# ---------------------------------------------------------------- async


def test_arun_awaits_async_tools_and_turn_functions() -> None:
    async def slow_search(q: str) -> list[str]:
        await asyncio.sleep(0)
        return [q.upper()]

    async def model(messages: list[Message]) -> ModelTurn:
        await asyncio.sleep(0)
        return reply(f"got {messages[-1].content}")

    agent = FakeAgent(
        turns=[call_tool("search", q="x"), model, "again"], tools={"search": slow_search}
    )
    fired = record_events(agent)

    async def scenario() -> tuple[Result, Result]:
        return await agent.arun("find x"), await agent.acontinue("more")

    first, second = asyncio.run(scenario())

    assert (first.stop_reason, first.turns, first.content) == (StopReason.COMPLETE, 2, 'got ["X"]')
    assert first.tool_calls_made[0].result.value == ["X"]
    assert second.content == "again"
    assert [name for name, _ in fired].count("agent_end") == 2
    assert [call.method for call in agent.calls] == ["arun", "acontinue"]


def test_an_async_tool_in_sync_run_says_to_use_arun() -> None:
    async def slow_search(q: str) -> list[str]:
        return [q]

    agent = FakeAgent(turns=[call_tool("search", q="x"), "ok"], tools={"search": slow_search})

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the refused coroutine is closed, not leaked
        with pytest.raises(FakeAgentError, match=r"tool 'search' is async; use `await agent.arun"):
            agent.run("go")


def test_sync_run_works_inside_a_running_event_loop() -> None:
    async def scenario() -> Result:
        return FakeAgent(turns=["hi"]).run("hello")

    assert asyncio.run(scenario()).content == "hi"


# ---------------------------------------------------------------- the Result it returns


def test_result_to_dict_keys_and_repr() -> None:
    agent = FakeAgent(
        turns=[call_tool("search", q="x"), reply("Found it")], tools={"search": search}
    )

    result = agent.run("go")
    data = result.to_dict()

    assert list(data) == [
        "content",
        "messages",
        "tool_calls_made",
        "usage",
        "turns",
        "error",
        "success",
        "stop_reason",
        "truncated",
    ]
    assert (data["stop_reason"], data["success"], data["truncated"], data["error"]) == (
        "complete",
        True,
        False,
        None,
    )
    assert data["tool_calls_made"][0]["tool_name"] == "search"
    assert set(data["tool_calls_made"][0]["result"]) == {
        "name",
        "success",
        "value",
        "error",
        "duration_ms",
    }
    assert json.loads(json.dumps(data)) == data  # plain JSON all the way down
    assert repr(result) == (
        '<Result status=success turns=2 stop_reason=complete tools=1 content="Found it">'
    )


def test_error_result_to_dict_and_repr() -> None:
    result = FakeAgent(turns=[provider_error()]).run("go")

    assert result.to_dict()["error"] == {
        "class": "ProviderError",
        "message": "HTTP 500: Internal Server Error",
    }
    assert repr(result) == (
        "<Result status=failure turns=0 stop_reason=error tools=0 "
        'error=ProviderError: HTTP 500: Internal Server Error content="">'
    )
