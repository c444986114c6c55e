"""agentfakes: fast, deterministic, offline fakes for apps that drive AI agents."""

import pytest

# Before the assertions module is imported, so pytest rewrites its asserts too.
pytest.register_assert_rewrite("agentfakes.assertions")

from agentfakes import faults  # noqa: E402
from agentfakes.agent import (  # noqa: E402
    FakeAgent,
    ModelTurn,
    ProviderError,
    ToolCallSpec,
    call_tool,
    call_tools,
    provider_error,
    reply,
)
from agentfakes.assertions import (  # noqa: E402
    assert_cancelled,
    assert_completed,
    assert_event_sequence,
    assert_failed,
    assert_succeeded,
    assert_tool_called,
    assert_truncated,
    assert_waiting_for_approval,
)
from agentfakes.clock import ManualClock  # noqa: E402
from agentfakes.errors import (  # noqa: E402
    AgentfakesError,
    NoScriptError,
    ScriptError,
    UnmockedRequestError,
    UnusedScriptError,
)
from agentfakes.factories import (  # noqa: E402
    MessageFactory,
    ResultFactory,
    RunEventFactory,
    RunFactory,
    RunUsageFactory,
    ToolCallFactory,
)
from agentfakes.models import (  # noqa: E402
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
from agentfakes.script import Script  # noqa: E402
from agentfakes.seeding import seed  # noqa: E402
from agentfakes.server import FakeRunsServer  # noqa: E402
from agentfakes.virtual_time import VirtualClock, VirtualTimeError  # noqa: E402

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
