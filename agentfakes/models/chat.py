"""Chat completions on the wire: the `chat.completion` object, its stream chunks and the
`hermes.tool.progress` payloads, keys in the real server's order (beyond-runs §4.2, §4.3).

Plain dict builders: every value here goes straight to `json.dumps`, as aiohttp writes it.
"""

from __future__ import annotations

from typing import Any

from agentfakes.models._base import _WireModel
from agentfakes.models.runs import RunUsage

TOOL_PROGRESS_EVENT = "hermes.tool.progress"
# agent.display.get_tool_emoji: the tool registry's emoji, "⚡" for anything else.
TOOL_EMOJIS = {
    "terminal": "\U0001f4bb",
    "process": "⚙️",
    "read_terminal": "\U0001f5a5️",
    "close_terminal": "\U0001f5a5️",
    "read_file": "\U0001f4d6",
    "write_file": "✍️",
    "patch": "\U0001f527",
    "search_files": "\U0001f50e",
    "execute_code": "\U0001f40d",
    "web_search": "\U0001f50d",
    "web_extract": "\U0001f4c4",
    "session_search": "\U0001f50d",
    "memory": "\U0001f9e0",
    "todo": "\U0001f4cb",
    "clarify": "❓",
    "delegate_task": "\U0001f500",
    "cronjob": "⏰",
    "skill_view": "\U0001f4da",
    "skills_list": "\U0001f4da",
    "skill_manage": "\U0001f4dd",
    "image_generate": "\U0001f3a8",
    "vision_analyze": "\U0001f441️",
    "browser_navigate": "\U0001f310",
    "text_to_speech": "\U0001f50a",
}
DEFAULT_TOOL_EMOJI = "⚡"


def tool_emoji(name: str) -> str:
    return TOOL_EMOJIS.get(name, DEFAULT_TOOL_EMOJI)


def chat_usage(input_tokens: int, output_tokens: int, total_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": total_tokens,
    }


def hermes_block(error: str | None, *, truncated: bool = False) -> dict[str, Any]:
    """The `hermes` object a failed (or truncated) turn adds (A:2976-2982)."""
    return {
        "completed": False,
        "partial": truncated,
        "failed": not truncated,
        "error": error,
        "error_code": "output_truncated" if truncated else "agent_error",
    }


def chat_completion(
    completion_id: str,
    created: int,
    model: Any,
    content: str,
    finish_reason: str,
    usage: dict[str, int],
    hermes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The non-streaming `chat.completion` body (A:2952-2982)."""
    body: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage,
    }
    if hermes is not None:
        body["hermes"] = hermes
    return body


def chunk(
    completion_id: str,
    created: int,
    model: Any,
    delta: dict[str, Any],
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """One `chat.completion.chunk` (A:3025-3055)."""
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def finish_chunk(
    completion_id: str,
    created: int,
    model: Any,
    finish_reason: str,
    usage: dict[str, int],
    error: str | None = None,
) -> dict[str, Any]:
    """The last chunk: empty delta, finish reason and usage; on failure `error` and
    `hermes` too (A:3117-3148)."""
    data = chunk(completion_id, created, model, {}, finish_reason)
    data["usage"] = usage
    if finish_reason != "stop":
        if error:
            data["error"] = {"message": error, "type": "agent_error"}
        data["hermes"] = hermes_block(error, truncated=finish_reason == "length")
    return data


def tool_running(name: str, label: str, call_id: str) -> dict[str, Any]:
    """`hermes.tool.progress` at a tool's start (A:2806-2828)."""
    return {
        "tool": name,
        "emoji": tool_emoji(name),
        "label": label,
        "toolCallId": call_id,
        "status": "running",
    }


def tool_completed(name: str, call_id: str) -> dict[str, Any]:
    """`hermes.tool.progress` at a tool's end (A:2830-2846)."""
    return {"tool": name, "toolCallId": call_id, "status": "completed"}


class ChatCompletion(_WireModel):
    """A non-streaming chat completion, for factories and tests; `to_wire()` is the body
    the server sends (beyond-runs §4.2), a `hermes` block included when it failed."""

    id: str
    created: int
    model: Any = "hermes-agent"
    content: str = ""
    finish_reason: str = "stop"
    usage: RunUsage = RunUsage()
    error: str | None = None  # the provider's error (failed turns)

    def to_wire(self) -> dict[str, Any]:
        usage = chat_usage(
            self.usage.input_tokens, self.usage.output_tokens, self.usage.total_tokens
        )
        hermes = None
        if self.finish_reason != "stop":
            hermes = hermes_block(self.error, truncated=self.finish_reason == "length")
        return chat_completion(
            self.id, self.created, self.model, self.content, self.finish_reason, usage, hermes
        )
