"""The Responses SSE dialect and what a response turn keeps (beyond-runs §5.3, §5.5;
A:3187-3781): 50 ms text batches, items opened and closed as tools run, `sequence_number`
from 0, no `[DONE]`; the stored snapshots and their duplicated history.
"""

from __future__ import annotations

from typing import Any

from agentfakes.api.chat import provider_failure_text
from agentfakes.engine import RunStore
from agentfakes.engine.responses import StoredResponse
from agentfakes.engine.turns import TurnEvent, TurnRecord, arguments_json
from agentfakes.models.responses import (
    envelope,
    function_call,
    function_call_output,
    message_item,
    output_parts,
    response_usage,
    shortened_for_completed,
)
from agentfakes.models.sse import encode_frame
from agentfakes.seeding import new_item_id

BATCH_WINDOW = 0.05  # streamed text is batched in 50 ms windows (A:3501-3545)


class ResponseContext:
    """What a response request decided before its turn started."""

    def __init__(
        self,
        store: RunStore,
        body: dict[str, Any],
        user_message: Any,
        history: list[dict[str, Any]],
        instructions: Any,
        conversation: Any,
        keep: bool,
    ) -> None:
        self.store = store
        self.body = body
        self.user_message = user_message
        self.history = history
        self.instructions = instructions
        self.conversation = conversation
        self.keep = keep


def save(
    context: ResponseContext,
    response_id: str,
    data: dict[str, Any],
    history: list[dict[str, Any]],
    session_id: str,
) -> None:
    """Store a snapshot; a terminal one keeps prior + user + the agent's whole transcript."""
    entry = StoredResponse(data, history, context.instructions, session_id)
    context.store.responses.put(response_id, entry)
    if context.conversation:
        context.store.responses.set_conversation(context.conversation, response_id)


def duplicated_history(
    context: ResponseContext, agent_messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """`_build_response_conversation_history` with the prefix check failing (§5.5 quirk)."""
    return [*context.history, {"role": "user", "content": context.user_message}, *agent_messages]


def final_text(turn: TurnRecord, retries: int) -> str:
    if turn.error is not None:
        return provider_failure_text(turn.error, retries)
    return turn.output or "(No response generated)"


def usage_numbers(turn: TurnRecord) -> tuple[int, int, int]:
    usage = turn.usage
    return usage.input_tokens, usage.output_tokens, usage.total_tokens


def batched(events: list[TurnEvent], ends_at: float) -> list[TurnEvent]:
    """Text deltas as the real writer sends them: joined over a 50 ms window from the first,
    flushed early by a tool event or the end of the turn (A:3501-3545)."""
    out: list[TurnEvent] = []
    buffer: list[TurnEvent] = []

    def flush(at: float) -> None:
        if buffer:
            text = "".join(e.text for e in buffer)
            out.append(TurnEvent("delta", min(at, buffer[0].at + BATCH_WINDOW), text=text))
            buffer.clear()

    for event in events:
        if buffer and event.at >= buffer[0].at + BATCH_WINDOW:
            flush(buffer[0].at + BATCH_WINDOW)
        if event.kind == "delta":
            if event.text:
                buffer.append(event)
        elif event.kind in ("tool.started", "tool.completed"):
            flush(event.at)
            out.append(event)
    flush(ends_at)
    return out


class ResponsesStreamRenderer:
    """The Responses SSE dialect: `event: <type>` frames with `sequence_number`, items
    opened and closed as tools run and text arrives, and no `[DONE]` (§5.3)."""

    def __init__(
        self,
        context: ResponseContext,
        turn: TurnRecord,
        response_id: str,
        created_at: int,
        model: Any,
    ) -> None:
        self.context = context
        self.turn = turn
        self.response_id = response_id
        self.created_at = created_at
        self.model = model
        self.sequence = 0
        self.output_index = 0
        self.message_id = new_item_id("msg")
        self.message_index: int | None = None
        self.text_parts: list[str] = []
        self.emitted: list[dict[str, Any]] = []
        self.pending: dict[str, dict[str, Any]] = {}

    def _frame(self, event_type: str, data: dict[str, Any]) -> bytes:
        data = {"type": event_type, **data, "sequence_number": self.sequence}
        self.sequence += 1
        return encode_frame(data, event=event_type)

    def opening(self) -> list[bytes]:
        created = envelope(self.response_id, "in_progress", self.created_at, self.model)
        created["output"] = []
        if self.context.keep:
            history = [
                *self.context.history,
                {"role": "user", "content": self.context.user_message},
            ]
            save(self.context, self.response_id, created, history, self.turn.session_id or "")
        return [self._frame("response.created", {"response": created})]

    def _text(self, text: str) -> list[bytes]:
        frames: list[bytes] = []
        if self.message_index is None:
            self.message_index = self.output_index
            self.output_index += 1
            item = {
                "id": self.message_id,
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            }
            frames.append(
                self._frame(
                    "response.output_item.added",
                    {"output_index": self.message_index, "item": item},
                )
            )
        self.text_parts.append(text)
        frames.append(
            self._frame(
                "response.output_text.delta",
                {
                    "item_id": self.message_id,
                    "output_index": self.message_index,
                    "content_index": 0,
                    "delta": text,
                    "logprobs": [],
                },
            )
        )
        return frames

    def event(self, event: TurnEvent) -> list[bytes]:
        if event.kind == "delta":
            return self._text(event.text)
        if event.kind == "tool.started":
            arguments = arguments_json(event.arguments)
            item = {
                "id": new_item_id("fc"),
                "type": "function_call",
                "status": "in_progress",
                "name": event.tool,
                "call_id": event.call_id,
                "arguments": arguments,
            }
            index = self.output_index
            self.output_index += 1
            self.pending[event.call_id] = {"item": item, "index": index}
            self.emitted.append(function_call(event.tool, arguments, event.call_id))
            return [
                self._frame("response.output_item.added", {"output_index": index, "item": item})
            ]
        if event.kind == "tool.completed":
            pending = self.pending.pop(event.call_id, None)
            if pending is None:
                return []
            done = {**pending["item"], "status": "completed"}
            frames = [
                self._frame(
                    "response.output_item.done", {"output_index": pending["index"], "item": done}
                )
            ]
            parts = output_parts(event.result)
            output = {
                "id": new_item_id("fco"),
                "type": "function_call_output",
                "call_id": event.call_id,
                "output": parts,
                "status": "completed",
            }
            index = self.output_index
            self.output_index += 1
            self.emitted.append(function_call_output(event.call_id, parts))
            frames.append(
                self._frame("response.output_item.added", {"output_index": index, "item": output})
            )
            frames.append(
                self._frame("response.output_item.done", {"output_index": index, "item": output})
            )
            return frames
        return []

    def interrupted(self) -> None:
        """The client went away before the end: an `incomplete` snapshot (the text so far)
        replaces the `in_progress` one, when storing (A:3315-3347)."""
        if not self.context.keep:
            return
        text = "".join(self.text_parts)
        items = list(self.emitted)
        history = [*self.context.history, {"role": "user", "content": self.context.user_message}]
        if text:
            items.append(message_item(text))
            history.append({"role": "assistant", "content": text})
        snapshot = envelope(self.response_id, "incomplete", self.created_at, self.model)
        snapshot["output"] = items
        snapshot["usage"] = response_usage(0, 0, 0)
        save(self.context, self.response_id, snapshot, history, self.turn.session_id or "")

    def closing(self) -> list[bytes]:
        turn = self.turn
        store = self.context.store
        agent_final = final_text(turn, store.settings.api_max_retries)
        if turn.error is None and not turn.output:
            agent_final = ""
        frames: list[bytes] = []
        if agent_final and not self.text_parts:
            frames += self._text(agent_final)
        final = "".join(self.text_parts) or agent_final
        if self.message_index is not None:
            frames.append(
                self._frame(
                    "response.output_text.done",
                    {
                        "item_id": self.message_id,
                        "output_index": self.message_index,
                        "content_index": 0,
                        "text": final,
                        "logprobs": [],
                    },
                )
            )
            done = message_item(final, item_id=self.message_id, status="completed")
            frames.append(
                self._frame(
                    "response.output_item.done",
                    {"output_index": self.message_index, "item": done},
                )
            )
        completed = envelope(self.response_id, "completed", self.created_at, self.model)
        completed["output"] = [
            *(shortened_for_completed(item) for item in self.emitted),
            message_item(final),
        ]
        completed["usage"] = response_usage(*usage_numbers(turn))
        if self.context.keep:
            agent_messages = [
                *turn.history,
                {"role": "user", "content": turn.input},
                *turn.transcript(final),
            ]
            history = duplicated_history(self.context, agent_messages)
            save(self.context, self.response_id, completed, history, turn.session_id or "")
        frames.append(self._frame("response.completed", {"response": completed}))
        return frames
