"""`SessionStore`: the fake's state.db — sessions and their stored messages.

Chat completions write every turn here under the effective session id, so a later request
with `X-Hermes-Session-Id` continues from the stored history (beyond-runs §4.1 step 10,
§6.1); `/api/sessions` reads and edits the same rows (§6.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SessionRecord:
    """One row of the sessions table, with its messages in insertion order."""

    id: str
    source: str
    model: str | None
    started_at: float
    title: str | None = None
    system_prompt: str | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    parent_session_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    api_call_count: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def last_active(self) -> float:
        stamps: list[float] = [float(m["timestamp"]) for m in self.messages if "timestamp" in m]
        return max([self.started_at, *stamps])

    def conversation(self) -> list[dict[str, Any]]:
        """`get_messages_as_conversation`: the stored messages as the agent's history."""
        history: list[dict[str, Any]] = []
        for message in self.messages:
            entry: dict[str, Any] = {"role": message["role"], "content": message.get("content")}
            for key in ("tool_calls", "tool_call_id"):
                if message.get(key) is not None:
                    entry[key] = message[key]
            history.append(entry)
        return history


class SessionStore:
    """Sessions by id, and a running message id (state.db's autoincrement)."""

    def __init__(self) -> None:
        self.sessions: dict[str, SessionRecord] = {}
        self._next_message_id = 1

    def get(self, session_id: str) -> SessionRecord | None:
        return self.sessions.get(session_id)

    def ensure(
        self,
        session_id: str,
        *,
        source: str,
        model: str | None,
        now: float,
        system_prompt: str | None = None,
    ) -> SessionRecord:
        """The session with this id, created (as `create_session` does) if it is new."""
        record = self.sessions.get(session_id)
        if record is None:
            record = SessionRecord(session_id, source, model, now, system_prompt=system_prompt)
            self.sessions[session_id] = record
        return record

    def append(self, record: SessionRecord, message: dict[str, Any], now: float) -> None:
        """Store one message with its row id and timestamp."""
        row = {
            "id": self._next_message_id,
            "session_id": record.id,
            "role": message["role"],
            "content": message.get("content"),
            "tool_call_id": message.get("tool_call_id"),
            "tool_calls": message.get("tool_calls"),
            "tool_name": message.get("tool_name"),
            "timestamp": now,
            "token_count": None,
            "finish_reason": message.get("finish_reason"),
            "reasoning": None,
            "reasoning_content": None,
        }
        self._next_message_id += 1
        record.messages.append(row)

    def conversation(self, session_id: str) -> list[dict[str, Any]]:
        record = self.sessions.get(session_id)
        return record.conversation() if record is not None else []
