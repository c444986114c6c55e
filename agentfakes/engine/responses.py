"""`ResponseStore`: the stored Responses API objects and the `conversation` names
(beyond-runs §5.5; the real `ResponseStore`, A:404-573).

LRU on access time with at most 100 entries. Each entry holds the response object as it
was last saved, the conversation history a chained request starts from (duplicated the
way 0.19.0 duplicates it), the instructions and the session id.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

MAX_STORED_RESPONSES = 100  # A:123


@dataclass
class StoredResponse:
    """One row of the response store."""

    response: dict[str, Any]
    conversation_history: list[dict[str, Any]] = field(default_factory=list, repr=False)
    instructions: Any = None
    session_id: str | None = None


class ResponseStore:
    """Responses by id (least recently used first) and conversation name -> latest id."""

    def __init__(self, max_entries: int = MAX_STORED_RESPONSES) -> None:
        self.max_entries = max_entries
        self.entries: OrderedDict[str, StoredResponse] = OrderedDict()
        self.conversations: dict[str, str] = {}

    def get(self, response_id: str) -> StoredResponse | None:
        entry = self.entries.get(response_id)
        if entry is not None:
            self.entries.move_to_end(response_id)
        return entry

    def put(self, response_id: str, entry: StoredResponse) -> None:
        self.entries[response_id] = entry
        self.entries.move_to_end(response_id)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    def delete(self, response_id: str) -> bool:
        return self.entries.pop(response_id, None) is not None

    def conversation(self, name: Any) -> str | None:
        return self.conversations.get(str(name))

    def set_conversation(self, name: Any, response_id: str) -> None:
        self.conversations[str(name)] = response_id
