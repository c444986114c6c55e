"""FakeAgent: an in-process agent loop driven by a scripted model, with RubyPi's semantics.

Use it where your app would hold a real agent, so tests exercise the app's handling of every
outcome (complete, max_iterations, error) without a model provider::

    agent = FakeAgent(
        turns=[call_tool("search", q="fakes"), reply("Found 3 results")],
        tools={"search": lambda q: ["a", "b", "c"]},
    )
    result = agent.run("find fakes")
    assert result.success and result.turns == 2

`turns` holds the script vocabulary, `loop` the loop itself, `events` what it fires.
"""

from agentfakes.agent.errors import FakeAgentError, TurnsExhaustedError
from agentfakes.agent.events import AGENT_EVENTS, EventHandler
from agentfakes.agent.loop import AgentCall, FakeAgent, Tool
from agentfakes.agent.turns import (
    ModelTurn,
    ProviderError,
    ToolCallSpec,
    Turn,
    TurnFunction,
    TurnResult,
    call_tool,
    call_tools,
    provider_error,
    redact_key,
    reply,
)

__all__ = [
    "AGENT_EVENTS",
    "AgentCall",
    "EventHandler",
    "FakeAgent",
    "FakeAgentError",
    "ModelTurn",
    "ProviderError",
    "Tool",
    "ToolCallSpec",
    "Turn",
    "TurnFunction",
    "TurnResult",
    "TurnsExhaustedError",
    "call_tool",
    "call_tools",
    "provider_error",
    "redact_key",
    "reply",
]
