"""`/api/sessions` on the wire: the client-safe session and message objects and the session
chat stream's payloads (beyond-runs §6.2; A:2174-2198, A:2512-2648).
"""

from __future__ import annotations

from typing import Any

from agentfakes.models._base import _WireModel

# `_session_response`'s safe keys, in its order (A:2177-2184); a row has the ones it has.
SESSION_KEYS = (
    "id",
    "source",
    "user_id",
    "model",
    "title",
    "started_at",
    "ended_at",
    "end_reason",
    "message_count",
    "tool_call_count",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "estimated_cost_usd",
    "actual_cost_usd",
    "api_call_count",
    "parent_session_id",
    "last_active",
    "preview",
)
MESSAGE_KEYS = (
    "id",
    "session_id",
    "role",
    "content",
    "tool_call_id",
    "tool_calls",
    "tool_name",
    "timestamp",
    "token_count",
    "finish_reason",
    "reasoning",
    "reasoning_content",
)


def session_object(row: dict[str, Any], *, has_system_prompt: bool) -> dict[str, Any]:
    """`_session_response`: the safe keys the row has, then the two snapshot flags."""
    payload = {key: row[key] for key in SESSION_KEYS if key in row}
    payload["has_system_prompt"] = has_system_prompt
    payload["has_model_config"] = False
    return payload


def message_object(message: dict[str, Any]) -> dict[str, Any]:
    """`_message_response`: the safe keys the message has, in their order."""
    return {key: message.get(key) for key in MESSAGE_KEYS if key in message}


class SessionObject(_WireModel):
    """A client-safe session object (`/api/sessions`), for factories and tests."""

    id: str
    source: str = "api_server"
    model: str | None = "hermes-agent"
    title: str | None = None
    started_at: float
    ended_at: float | None = None
    end_reason: str | None = None
    message_count: int = 0
    tool_call_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    api_call_count: int = 0
    parent_session_id: str | None = None
    has_system_prompt: bool = False

    def to_wire(self) -> dict[str, Any]:
        row = {
            "id": self.id,
            "source": self.source,
            "user_id": None,
            "model": self.model,
            "title": self.title,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "end_reason": self.end_reason,
            "message_count": self.message_count,
            "tool_call_count": self.tool_call_count,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
            "estimated_cost_usd": None,
            "actual_cost_usd": None,
            "api_call_count": self.api_call_count,
            "parent_session_id": self.parent_session_id,
        }
        return session_object(row, has_system_prompt=self.has_system_prompt)
