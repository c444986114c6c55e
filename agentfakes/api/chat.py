"""`POST /v1/chat/completions`: JSON and SSE, in the real server's order of checks
(beyond-runs §4; A:2650-3185).

A completion is an agent turn driven by a `Script` (picked for the last message's text on
the "chat" surface). Its deltas become content chunks, its tools `hermes.tool.progress`
frames, `complete` the final text and usage, `fail` the 200 with `finish_reason: "error"`.
Every turn is written to the session store under the effective session id.
"""

from __future__ import annotations

import hashlib
from typing import Any

from agentfakes.api.config import GatewayConfig
from agentfakes.api.content import (
    ContentError,
    chat_text,
    content_error,
    get,
    has_visible_payload,
    hashable,
    multimodal,
    request_bool,
    session_headers,
    session_id_header,
    session_key,
)
from agentfakes.api.errors import (
    JSON_TYPE,
    gateway_draining,
    json_response,
    openai_error,
    short_error,
    too_many_runs,
)
from agentfakes.api.messages import ApiRequest, ApiResponse
from agentfakes.api.runs import INVALID, HandlerCrash, parse_json_body
from agentfakes.api.streaming import SSE_HEADERS
from agentfakes.api.turn_stream import TurnStream
from agentfakes.engine import RunStore
from agentfakes.engine.script_book import input_text
from agentfakes.engine.turns import TurnEvent, TurnRecord
from agentfakes.models import wire_json
from agentfakes.models.chat import (
    TOOL_PROGRESS_EVENT,
    chat_completion,
    chat_usage,
    chunk,
    finish_chunk,
    hermes_block,
    tool_completed,
    tool_running,
)
from agentfakes.models.sse import encode_done, encode_frame
from agentfakes.seeding import derived_session_id, new_completion_id

Params = dict[str, str]
IDEMPOTENCY_TTL = 300.0  # A:801
IDEMPOTENCY_MAX = 1000


def provider_failure_text(error: str, retries: int) -> str:
    """The agent's final text when the provider keeps failing (beyond-runs §4.2 quirk)."""
    return f"API call failed after {retries} retries: {error}"


def chat_completions(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """POST /v1/chat/completions: the checks of beyond-runs §4.1, in order."""
    if config.draining:
        return gateway_draining()
    store.tick()
    if store.at_capacity():  # before the body is read (§2.1)
        return too_many_runs(store.settings.max_concurrent_runs)
    body = parse_json_body(request)
    if body is INVALID:
        return json_response(openai_error("Invalid JSON in request body"), 400)
    messages = get(body, "messages")
    if not messages or not isinstance(messages, list):
        return json_response(short_error("Missing or invalid 'messages' field"), 400)
    stream = request_bool(body.get("stream"), default=False)

    system_prompt: str | None = None
    conversation: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        role = get(message, "role", "")
        raw_content = message.get("content", "")
        if role == "system":
            text = chat_text(raw_content)
            system_prompt = text if system_prompt is None else f"{system_prompt}\n{text}"
            continue
        if not hashable(role):
            raise HandlerCrash  # `role in {...}` on a list or dict: TypeError (§2.2)
        if role in ("user", "assistant"):
            try:
                content = multimodal(raw_content)
            except ContentError as exc:
                return content_error(exc, f"messages[{index}].content")
            conversation.append({"role": role, "content": content})

    user_message: Any = conversation[-1]["content"] if conversation else ""
    history = conversation[:-1]
    if not has_visible_payload(user_message):
        return json_response(short_error("No user message found in messages"), 400)
    key, key_error = session_key(request)
    if key_error is not None:
        return key_error
    provided, id_error = session_id_header(request)
    if id_error is not None:
        return id_error
    if provided is not None:
        session_id = provided
        history = store.sessions.conversation(provided)
    else:
        first_user = next((m["content"] for m in conversation if m["role"] == "user"), "")
        session_id = derived_session_id(system_prompt, _formatted(first_user))

    completion_id = new_completion_id()
    model = body.get("model", config.model_name)
    now = store.clock.now()
    created = int(now)
    if stream:
        turn = _start_turn(store, body, user_message, history, session_id, key, system_prompt)
        renderer = ChatStreamRenderer(
            completion_id, created, model, turn, store.settings.api_max_retries
        )
        headers = [*SSE_HEADERS, *session_headers(session_id, key)]
        stream_body = TurnStream(store, turn, renderer, keepalive=store.settings.keepalive)
        return ApiResponse(200, headers, stream=stream_body)

    idempotency_key = request.header("idempotency-key")
    cached = _cached(store, idempotency_key, _fingerprint(body), now) if idempotency_key else None
    fresh = cached is None
    if cached is None:
        turn = _start_turn(store, body, user_message, history, session_id, key, system_prompt)
        if idempotency_key:
            _remember(store, idempotency_key, _fingerprint(body), turn)
    else:
        turn = cached
    response = _json_answer(
        turn, completion_id, created, model, session_id, key, store.settings.api_max_retries
    )
    if fresh:
        response.delay = max(0.0, turn.ends_at - now)
    return response


class ChatStreamRenderer:
    """The chat completions SSE dialect: role chunk, content chunks, tool progress frames,
    a finish chunk with usage, `data: [DONE]` (beyond-runs §4.3)."""

    def __init__(
        self, completion_id: str, created: int, model: Any, turn: TurnRecord, retries: int
    ) -> None:
        self.completion_id = completion_id
        self.created = created
        self.model = model
        self.turn = turn
        self.retries = retries
        self._running: set[str] = set()

    def opening(self) -> list[bytes]:
        role = chunk(self.completion_id, self.created, self.model, {"role": "assistant"})
        return [encode_frame(role)]

    def event(self, event: TurnEvent) -> list[bytes]:
        if event.kind == "delta":
            if not event.text:
                return []
            data = chunk(self.completion_id, self.created, self.model, {"content": event.text})
            return [encode_frame(data)]
        if event.kind == "tool.started" and not event.tool.startswith("_"):
            self._running.add(event.call_id)
            payload = tool_running(event.tool, event.preview or event.tool, event.call_id)
            return [encode_frame(payload, event=TOOL_PROGRESS_EVENT)]
        if event.kind == "tool.completed" and event.call_id in self._running:
            self._running.discard(event.call_id)
            payload = tool_completed(event.tool, event.call_id)
            return [encode_frame(payload, event=TOOL_PROGRESS_EVENT)]
        return []

    def closing(self) -> list[bytes]:
        turn = self.turn
        usage = chat_usage(*_usage_numbers(turn))
        reason = "error" if turn.error is not None else "stop"
        final = finish_chunk(
            self.completion_id, self.created, self.model, reason, usage, error=turn.error
        )
        return [encode_frame(final), encode_done()]


def _json_answer(
    turn: TurnRecord,
    completion_id: str,
    created: int,
    model: Any,
    session_id: str,
    key: str | None,
    retries: int,
) -> ApiResponse:
    """The non-streaming body and its headers (A:2910-2989): session headers first."""
    headers = session_headers(turn.session_id or session_id, key)
    usage = chat_usage(*_usage_numbers(turn))
    if turn.error is not None:
        content = provider_failure_text(turn.error, retries)
        body = chat_completion(
            completion_id, created, model, content, "error", usage, hermes_block(turn.error)
        )
        headers += [
            ("X-Hermes-Completed", "false"),
            ("X-Hermes-Partial", "false"),
            ("X-Hermes-Error", turn.error[:200]),
        ]
    else:
        body = chat_completion(completion_id, created, model, turn.output or "", "stop", usage)
    headers.append(("Content-Type", JSON_TYPE))
    return ApiResponse(200, headers, wire_json(body).encode("ascii"))


def _usage_numbers(turn: TurnRecord) -> tuple[int, int, int]:
    usage = turn.usage
    return usage.input_tokens, usage.output_tokens, usage.total_tokens


def _start_turn(
    store: RunStore,
    body: dict[str, Any],
    user_message: Any,
    history: list[dict[str, Any]],
    session_id: str,
    key: str | None,
    system_prompt: str | None,
) -> TurnRecord:
    """Pick the script, lay out the turn, admit it, and store it in its session."""
    script = store.book.select(input_text(user_message), surface="chat")
    now = store.clock.now()
    turn = TurnRecord(
        turn_id=f"chat_{len(store.turns) + 1}",
        surface="chat",
        created_at=now,
        script=script,
        input=user_message,
        history=history,
        session_id=session_id,
        session_key=key,
        model=body.get("model"),
        instructions=system_prompt,
        request=body,
    )
    store.start_turn(turn)
    settings = store.settings
    final = (
        provider_failure_text(turn.error, settings.api_max_retries)
        if turn.error is not None
        else turn.output or ""
    )
    store.sessions.record_turn(
        session_id,
        model=settings.llm_model,
        user_message=user_message,
        messages=turn.transcript(final),
        usage=(turn.usage.input_tokens, turn.usage.output_tokens),
        started=now,
        ended=turn.ends_at,
    )
    return turn


def _formatted(value: Any) -> str:
    """`f"{value}"` as the real f-string formats a non-string first message."""
    return value if isinstance(value, str) else f"{value}"


def _fingerprint(body: dict[str, Any]) -> str:
    """`_make_request_fingerprint` over model, messages, tools, tool_choice, stream."""
    subset = {k: body.get(k) for k in ("model", "messages", "tools", "tool_choice", "stream")}
    return hashlib.sha256(repr(subset).encode("utf-8")).hexdigest()


def _cached(store: RunStore, key: str, fingerprint: str, now: float) -> TurnRecord | None:
    cache = store.idempotency
    for stale in [k for k, v in cache.items() if now - v[2] > IDEMPOTENCY_TTL]:
        del cache[stale]
    entry = cache.get(key)
    if entry is not None and entry[0] == fingerprint:
        turn: TurnRecord = entry[1]
        return turn
    return None


def _remember(store: RunStore, key: str, fingerprint: str, turn: TurnRecord) -> None:
    cache = store.idempotency
    cache.pop(key, None)
    cache[key] = (fingerprint, turn, turn.ends_at)
    while len(cache) > IDEMPOTENCY_MAX:
        del cache[next(iter(cache))]
