"""Session chat: `POST /api/sessions/{id}/chat` and `…/chat/stream` (beyond-runs §6.2;
A:2470-2648). A turn driven by a `Script` (picked for the message text on the "sessions"
surface) that holds a concurrency slot but, as on the real server, never checks the cap.
The stream is the third SSE dialect: `event: <name>` frames in raw UTF-8, `seq` from 1,
ending with `event: done`.
"""

from __future__ import annotations

from typing import Any

from agentfakes.api.chat import provider_failure_text
from agentfakes.api.config import GatewayConfig
from agentfakes.api.content import (
    ContentError,
    content_error,
    has_visible_payload,
    multimodal,
    session_headers,
    session_key,
)
from agentfakes.api.errors import JSON_TYPE, gateway_draining
from agentfakes.api.messages import ApiRequest, ApiResponse
from agentfakes.api.sessions import error_response, existing_session, json_object
from agentfakes.api.streaming import SSE_HEADERS
from agentfakes.api.turn_stream import TurnStream
from agentfakes.engine import RunStore
from agentfakes.engine.script_book import input_text
from agentfakes.engine.turns import TurnEvent, TurnRecord
from agentfakes.models import wire_json
from agentfakes.models.sessions import message_object
from agentfakes.models.sse import encode_frame
from agentfakes.seeding import new_run_id, random_uuid4

Params = dict[str, str]


def session_chat(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """POST …/chat {message|input, system_message|instructions?}: one turn, JSON."""
    prepared = _prepare_chat(store, config, request, params)
    if isinstance(prepared, ApiResponse):
        return prepared
    turn, key, now = prepared
    final = _final(turn, store)
    usage = turn.usage
    data = {
        "object": "hermes.session.chat.completion",
        "session_id": turn.session_id,
        "message": {"role": "assistant", "content": final},
        "usage": {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
        },
    }
    headers = [*session_headers(turn.session_id or "", key), ("Content-Type", JSON_TYPE)]
    response = ApiResponse(200, headers, wire_json(data).encode("ascii"))
    response.delay = max(0.0, turn.ends_at - now)
    return response


def session_chat_stream(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """POST …/chat/stream: the same turn as SSE, ending with `event: done` (§6.2)."""
    prepared = _prepare_chat(store, config, request, params)
    if isinstance(prepared, ApiResponse):
        return prepared
    turn, key, _ = prepared
    renderer = SessionStreamRenderer(turn, _final(turn, store))
    stream = TurnStream(store, turn, renderer, keepalive=store.settings.keepalive)
    return ApiResponse(
        200, [*SSE_HEADERS, *session_headers(turn.session_id or "", key)], stream=stream
    )


class SessionStreamRenderer:
    """The session chat SSE dialect: run.started, message.started, assistant.delta,
    tool.*, the `_thinking` tool.progress, assistant.completed, run.completed, done."""

    def __init__(self, turn: TurnRecord, final: str) -> None:
        self.turn = turn
        self.final = final
        self.session_id = turn.session_id or ""
        self.run_id = new_run_id()
        self.message_id = f"msg_{random_uuid4().hex}"
        self.seq = 0

    def _frame(self, name: str, payload: dict[str, Any], at: float) -> bytes:
        self.seq += 1
        payload.setdefault("session_id", self.session_id)
        payload.setdefault("run_id", self.run_id)
        payload.setdefault("seq", self.seq)
        payload.setdefault("ts", at)
        return encode_frame(payload, event=name, ensure_ascii=False)

    def opening(self) -> list[bytes]:
        at = self.turn.created_at
        user = {"role": "user", "content": self.turn.input}
        return [
            self._frame("run.started", {"user_message": user}, at),
            self._frame(
                "message.started", {"message": {"id": self.message_id, "role": "assistant"}}, at
            ),
        ]

    def event(self, event: TurnEvent) -> list[bytes]:
        mid = self.message_id
        payload: dict[str, Any]
        if event.kind == "delta" and event.text:
            return [
                self._frame("assistant.delta", {"message_id": mid, "delta": event.text}, event.at)
            ]
        if event.kind == "reasoning":
            payload = {"message_id": mid, "tool_name": "_thinking", "delta": event.text}
            return [self._frame("tool.progress", payload, event.at)]
        if event.kind == "tool.started":
            payload = {
                "message_id": mid,
                "tool_name": event.tool,
                "preview": event.preview,
                "args": event.arguments,
            }
            return [self._frame("tool.started", payload, event.at)]
        if event.kind == "tool.completed":
            payload = {"message_id": mid, "tool_name": event.tool, "preview": None, "args": None}
            return [self._frame("tool.completed", payload, event.at)]
        return []

    def closing(self) -> list[bytes]:
        turn = self.turn
        at = turn.ends_at
        usage = turn.usage
        common = {"session_id": self.session_id, "message_id": self.message_id}
        completed = {
            **common,
            "content": self.final,
            "completed": True,
            "partial": False,
            "interrupted": False,
        }
        messages = [message_object(m) for m in turn.transcript(self.final)]
        run_completed = {
            **common,
            "completed": True,
            "messages": messages,
            "usage": {
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "total_tokens": usage.total_tokens,
            },
        }
        return [
            self._frame("assistant.completed", completed, at),
            self._frame("run.completed", run_completed, at),
            self._frame("done", {}, at),
        ]


def _prepare_chat(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse | tuple[TurnRecord, str | None, float]:
    """Admission (the key, checked by the route; draining), then the session key, the
    session, the body, the message — A:2470-2500 — and the turn, started and stored in the
    session."""
    if config.draining:
        return gateway_draining()
    key, key_error = session_key(request)
    if key_error is not None:
        return key_error
    record, missing = existing_session(store, params["session_id"])
    if missing is not None:
        return missing
    body, error = json_object(request)
    if error is not None:
        return error
    raw = body.get("message") or body.get("input")
    if not has_visible_payload(raw):
        return error_response("Missing 'message' field", "missing_message", 400)
    try:
        user_message = multimodal(raw)
    except ContentError as exc:
        return content_error(exc, "message")
    system_prompt = body.get("system_message") or body.get("instructions")
    if system_prompt is not None and not isinstance(system_prompt, str):
        return error_response("system_message must be a string", "invalid_system_message", 400)
    store.tick()
    script = store.book.select(input_text(user_message), surface="sessions")
    now = store.clock.now()
    turn = TurnRecord(
        turn_id=f"sessions_{len(store.turns) + 1}",
        surface="sessions",
        created_at=now,
        script=script,
        input=user_message,
        history=record.conversation(),
        session_id=record.id,
        session_key=key,
        instructions=system_prompt,
        request=body,
    )
    store.start_turn(turn)
    store.sessions.record_turn(
        record.id,
        model=store.settings.llm_model,
        user_message=user_message,
        messages=turn.transcript(_final(turn, store)),
        usage=(turn.usage.input_tokens, turn.usage.output_tokens),
        started=now,
        ended=turn.ends_at,
    )
    return turn, key, now


def _final(turn: TurnRecord, store: RunStore) -> str:
    if turn.error is not None:
        return provider_failure_text(turn.error, store.settings.api_max_retries)
    return turn.output or ""
