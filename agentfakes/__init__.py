"""agentfakes: fast, deterministic, offline fakes for apps that drive AI agents.

Importing it does not import pytest, nor anything heavy: each public name is imported the
first time it is used (PEP 562), so the pytest plugin costs almost nothing at start-up in a
suite that never touches the fake. `from agentfakes import X` works as always.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentfakes import faults
    from agentfakes.agent import (
        FakeAgent,
        ModelTurn,
        ProviderError,
        ToolCallSpec,
        call_tool,
        call_tools,
        provider_error,
        reply,
    )
    from agentfakes.assertions import (
        assert_cancelled,
        assert_completed,
        assert_event_sequence,
        assert_failed,
        assert_succeeded,
        assert_tool_called,
        assert_truncated,
        assert_waiting_for_approval,
    )
    from agentfakes.clocks import ManualClock, VirtualClock, VirtualTimeError
    from agentfakes.errors import (
        AgentfakesError,
        NoScriptError,
        ScriptError,
        UnmockedRequestError,
        UnusedScriptError,
    )
    from agentfakes.factories import (
        MessageFactory,
        ResultFactory,
        RunEventFactory,
        RunFactory,
        RunUsageFactory,
        ToolCallFactory,
    )
    from agentfakes.models import (
        ApprovalRequest,
        ApprovalResponded,
        Message,
        MessageDelta,
        ReasoningAvailable,
        Result,
        ResultError,
        Run,
        RunCancelled,
        RunCompleted,
        RunEvent,
        RunFailed,
        RunStatus,
        RunUsage,
        StopReason,
        ToolCall,
        ToolCompleted,
        ToolResult,
        ToolStarted,
        Usage,
        parse_event,
    )
    from agentfakes.script import Script
    from agentfakes.seeding import seed
    from agentfakes.server import FakeRunsServer

_EXPORTS: dict[str, str] = {
    "faults": "agentfakes.faults",
    "FakeAgent": "agentfakes.agent",
    "ModelTurn": "agentfakes.agent",
    "ProviderError": "agentfakes.agent",
    "ToolCallSpec": "agentfakes.agent",
    "call_tool": "agentfakes.agent",
    "call_tools": "agentfakes.agent",
    "provider_error": "agentfakes.agent",
    "reply": "agentfakes.agent",
    "assert_cancelled": "agentfakes.assertions",
    "assert_completed": "agentfakes.assertions",
    "assert_event_sequence": "agentfakes.assertions",
    "assert_failed": "agentfakes.assertions",
    "assert_succeeded": "agentfakes.assertions",
    "assert_tool_called": "agentfakes.assertions",
    "assert_truncated": "agentfakes.assertions",
    "assert_waiting_for_approval": "agentfakes.assertions",
    "ManualClock": "agentfakes.clocks",
    "VirtualClock": "agentfakes.clocks",
    "VirtualTimeError": "agentfakes.clocks",
    "AgentfakesError": "agentfakes.errors",
    "NoScriptError": "agentfakes.errors",
    "ScriptError": "agentfakes.errors",
    "UnmockedRequestError": "agentfakes.errors",
    "UnusedScriptError": "agentfakes.errors",
    "MessageFactory": "agentfakes.factories",
    "ResultFactory": "agentfakes.factories",
    "RunEventFactory": "agentfakes.factories",
    "RunFactory": "agentfakes.factories",
    "RunUsageFactory": "agentfakes.factories",
    "ToolCallFactory": "agentfakes.factories",
    "ApprovalRequest": "agentfakes.models",
    "ApprovalResponded": "agentfakes.models",
    "Message": "agentfakes.models",
    "MessageDelta": "agentfakes.models",
    "ReasoningAvailable": "agentfakes.models",
    "Result": "agentfakes.models",
    "ResultError": "agentfakes.models",
    "Run": "agentfakes.models",
    "RunCancelled": "agentfakes.models",
    "RunCompleted": "agentfakes.models",
    "RunEvent": "agentfakes.models",
    "RunFailed": "agentfakes.models",
    "RunStatus": "agentfakes.models",
    "RunUsage": "agentfakes.models",
    "StopReason": "agentfakes.models",
    "ToolCall": "agentfakes.models",
    "ToolCompleted": "agentfakes.models",
    "ToolResult": "agentfakes.models",
    "ToolStarted": "agentfakes.models",
    "Usage": "agentfakes.models",
    "parse_event": "agentfakes.models",
    "Script": "agentfakes.script",
    "seed": "agentfakes.seeding",
    "FakeRunsServer": "agentfakes.server",
}
"""Each public name and the module it lives in (a module for `faults`)."""

__all__ = [
    "AgentfakesError",
    "ApprovalRequest",
    "ApprovalResponded",
    "FakeAgent",
    "FakeRunsServer",
    "ManualClock",
    "Message",
    "MessageDelta",
    "MessageFactory",
    "ModelTurn",
    "NoScriptError",
    "ProviderError",
    "ReasoningAvailable",
    "Result",
    "ResultError",
    "ResultFactory",
    "Run",
    "RunCancelled",
    "RunCompleted",
    "RunEvent",
    "RunEventFactory",
    "RunFactory",
    "RunFailed",
    "RunStatus",
    "RunUsage",
    "RunUsageFactory",
    "Script",
    "ScriptError",
    "StopReason",
    "ToolCall",
    "ToolCallFactory",
    "ToolCallSpec",
    "ToolCompleted",
    "ToolResult",
    "ToolStarted",
    "UnmockedRequestError",
    "UnusedScriptError",
    "Usage",
    "VirtualClock",
    "VirtualTimeError",
    "assert_cancelled",
    "assert_completed",
    "assert_event_sequence",
    "assert_failed",
    "assert_succeeded",
    "assert_tool_called",
    "assert_truncated",
    "assert_waiting_for_approval",
    "call_tool",
    "call_tools",
    "faults",
    "parse_event",
    "provider_error",
    "reply",
    "seed",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentfakes' has no attribute {name!r}")
    imported = importlib.import_module(module)
    value = imported if module == f"agentfakes.{name}" else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
