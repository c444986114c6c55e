"""The events FakeAgent fires, and how they reach the handlers a test registered (RubyPi's).

Event payloads (each handler gets one dict, RubyPi's keys):

=====================  ===============================================================
event                  payload
=====================  ===============================================================
turn_start             ``{"turn": int}`` (1-based, counted per call)
text_delta             ``{"content": str}``
tool_execution_start   ``{"tool_name": str, "arguments": dict}``
tool_execution_end     ``{"tool_name": str, "result": ToolResult, "success": bool,
                       "duration_ms": float}``
turn_end               ``{"turn": int, "has_tool_calls": bool}``
agent_end              ``{"result": Result, "success": bool}``
error                  ``{"error": Exception, "source": "agent_loop"}``, or
                       ``{"error": ..., "source": "event_handler", "event": name}``
=====================  ===============================================================
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeAlias

from agentfakes.agent.errors import NEVER_SWALLOWED

# RubyPi's Agent::EVENTS order (lib/ruby_pi/agent/events.rb), minus `compaction`, which a
# fake without context compaction would never fire.
AGENT_EVENTS = (
    "text_delta",
    "tool_execution_start",
    "tool_execution_end",
    "turn_start",
    "turn_end",
    "agent_end",
    "error",
)

EventHandler: TypeAlias = Callable[[dict[str, Any]], object]


class AgentEvents:
    """The handlers registered for each of AGENT_EVENTS, called in registration order."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[EventHandler]] = {name: [] for name in AGENT_EVENTS}

    def on(self, event: str, handler: EventHandler) -> EventHandler:
        """Call `handler(payload)` whenever `event` fires; returns it (for `off`)."""
        check_event(event)
        if not callable(handler):
            raise TypeError(f"the handler for {event!r} must be callable, got {handler!r}")
        if inspect.iscoroutinefunction(handler):
            raise TypeError(
                f"the handler for {event!r} is async; event handlers are called synchronously"
            )
        self._handlers[event].append(handler)
        return handler

    def off(self, event: str, handler: EventHandler) -> None:
        """Stop calling `handler` for `event` (no-op if it was not registered)."""
        check_event(event)
        if handler in self._handlers[event]:
            self._handlers[event].remove(handler)

    def emit(self, event: str, /, **payload: Any) -> None:
        """Call each handler; like RubyPi, a raising handler becomes an `error` event."""
        for handler in list(self._handlers[event]):
            try:
                handler(dict(payload))
            except NEVER_SWALLOWED:
                raise
            except Exception as exc:
                if event != "error":
                    self.emit("error", error=exc, source="event_handler", event=event)


def check_event(event: str) -> None:
    """An unknown event name is a ValueError in RubyPi's wording, listing the known ones."""
    if event not in AGENT_EVENTS:
        raise ValueError(
            f"Unknown event type: {event!r}. Must be one of: {', '.join(AGENT_EVENTS)}"
        )
