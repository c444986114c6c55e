"""The Responses API on the wire: the `response` object, its output items and its stream
events, keys in the real server's order (beyond-runs §5.2, §5.3; A:3187-3781, A:4505-4553).

Plain dict builders: every value goes straight to `json.dumps`, as aiohttp writes it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from agentfakes.models._base import _WireModel
from agentfakes.models.runs import RunUsage

TRUNCATED_ARGUMENT_KEYS = ("content", "query", "pattern", "old_string", "new_string")


def envelope(response_id: str, status: str, created_at: int, model: Any) -> dict[str, Any]:
    """The head of every `response` object: id, object, status, created_at, model."""
    return {
        "id": response_id,
        "object": "response",
        "status": status,
        "created_at": created_at,
        "model": model,
    }


def response_usage(input_tokens: int, output_tokens: int, total_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": total_tokens,
    }


def message_item(
    text: str, *, item_id: str | None = None, status: str | None = None
) -> dict[str, Any]:
    """An assistant message item; stream items carry `id` and `status`, others do not."""
    item: dict[str, Any] = {}
    if item_id is not None:
        item["id"] = item_id
    item["type"] = "message"
    if status is not None:
        item["status"] = status
    item["role"] = "assistant"
    item["content"] = [{"type": "output_text", "text": text}]
    return item


def function_call(name: str, arguments: str, call_id: str) -> dict[str, Any]:
    """A `function_call` output item as `_extract_output_items` writes it (no id/status)."""
    return {"type": "function_call", "name": name, "arguments": arguments, "call_id": call_id}


def function_call_output(call_id: str, output: Any) -> dict[str, Any]:
    """A `function_call_output` item: `output` is a string (JSON) or parts (streamed)."""
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def output_parts(text: str) -> list[dict[str, Any]]:
    """A streamed tool result: a list of one `input_text` part (beyond-runs §7 quirk 6)."""
    return [{"type": "input_text", "text": text}]


def shortened_for_completed(item: dict[str, Any]) -> dict[str, Any]:
    """`response.completed` shortens long tool arguments and outputs (A:3642-3663)."""
    if item.get("type") == "function_call":
        try:
            arguments = json.loads(item.get("arguments", "{}"))
        except ValueError:
            return item
        if isinstance(arguments, dict):
            for key in TRUNCATED_ARGUMENT_KEYS:
                value = arguments.get(key)
                if isinstance(value, str) and len(value) > 500:
                    arguments[key] = f"[{len(value)} chars — truncated for response.completed]"
            return {**item, "arguments": json.dumps(arguments)}
    if item.get("type") == "function_call_output":
        parts = item.get("output")
        if isinstance(parts, list) and parts and isinstance(parts[0], dict):
            first = parts[0]
            text = first.get("text", "")
            if first.get("type") == "input_text" and len(text) > 1000:
                more = len(text) - 500
                return {
                    **item,
                    "output": [{**first, "text": f"{text[:500]}...[{more} more chars]"}],
                }
    return item


class ResponseObject(_WireModel):
    """A stored/returned Responses API object, for factories and tests; `to_wire()` is the
    object the server sends (beyond-runs §5.2): output items without id/status."""

    id: str
    created_at: int
    status: str = "completed"
    model: Any = "hermes-agent"
    output: list[dict[str, Any]] = Field(default_factory=list)
    usage: RunUsage = RunUsage()

    def to_wire(self) -> dict[str, Any]:
        data = envelope(self.id, self.status, self.created_at, self.model)
        data["output"] = [dict(item) for item in self.output]
        data["usage"] = response_usage(
            self.usage.input_tokens, self.usage.output_tokens, self.usage.total_tokens
        )
        return data

    @property
    def output_text(self) -> str | None:
        """The last message item's text (what the OpenAI SDK calls `output_text`)."""
        texts = [i["content"][0]["text"] for i in self.output if i.get("type") == "message"]
        return texts[-1] if texts else None
