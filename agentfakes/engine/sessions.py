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
    tool_call_count: int = 0
    api_call_count: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def last_active(self) -> float:
        stamps: list[float] = [float(m["timestamp"]) for m in self.messages if "timestamp" in m]
        return max([self.started_at, *stamps])

    def row(self, *, listing: bool = False) -> dict[str, Any]:
        """The sessions-table row (`SELECT *`), plus `last_active` and `preview` in a list."""
        row: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "user_id": None,
            "model": self.model,
            "title": self.title,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "end_reason": self.end_reason,
            "message_count": len(self.messages),
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
        if listing:
            first_user = next((m for m in self.messages if m["role"] == "user"), None)
            text = first_user.get("content") if first_user else None
            row["last_active"] = self.last_active
            row["preview"] = text[:60] if isinstance(text, str) else ""
        return row

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

    def record_turn(
        self,
        session_id: str,
        *,
        model: str,
        user_message: Any,
        messages: list[dict[str, Any]],
        usage: tuple[int, int],
        started: float,
        ended: float,
    ) -> SessionRecord:
        """Store one agent turn (the user message, then the agent's) and its counters; the
        row's model becomes the LLM's (beyond-runs §6.2 quirk)."""
        record = self.ensure(session_id, source="api_server", model=model, now=started)
        record.model = model
        self.append(record, {"role": "user", "content": user_message}, started)
        for message in messages:
            self.append(record, message, ended)
        record.input_tokens += usage[0]
        record.output_tokens += usage[1]
        record.tool_call_count += sum(len(m.get("tool_calls") or []) for m in messages)
        record.api_call_count += 1 + sum(1 for m in messages if m.get("tool_calls"))
        return record

    def conversation(self, session_id: str) -> list[dict[str, Any]]:
        record = self.sessions.get(session_id)
        return record.conversation() if record is not None else []
