"""`POST /v1/responses`, `GET` and `DELETE /v1/responses/{id}` (beyond-runs §5;
A:3783-4102, SSE writer A:3187-3781).

A response is an agent turn driven by a `Script` (picked for the `input` text on the
"responses" surface). Non-streaming output is built from the agent's transcript, which
starts with the whole history — so a chained response repeats earlier tool items (§5.5);
streaming output lists only this stream's items. A provider failure is `completed` with
the error text. Stored entries keep the history duplicated as 0.19.0 duplicates it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from agentfakes.api.config import GatewayConfig
from agentfakes.api.content import (
    ContentError,
    content_error,
    get,
    has_visible_payload,
    multimodal,
    request_bool,
    session_headers,
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
from agentfakes.api.responses_stream import (
    ResponseContext,
    ResponsesStreamRenderer,
    batched,
    duplicated_history,
    final_text,
    save,
    usage_numbers,
)
from agentfakes.api.runs import INVALID, parse_json_body
from agentfakes.api.streaming import SSE_HEADERS
from agentfakes.api.turn_stream import TurnStream
from agentfakes.engine import RunStore
from agentfakes.engine.script_book import input_text
from agentfakes.engine.turns import TurnRecord
from agentfakes.models import wire_json
from agentfakes.models.responses import (
    envelope,
    function_call,
    function_call_output,
    message_item,
    response_usage,
)
from agentfakes.seeding import new_response_id, new_response_session_id

Params = dict[str, str]
MAX_HISTORY = 100  # truncation: "auto" (A:3887-3889)


def create_response(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """POST /v1/responses: the checks of beyond-runs §5.1, in order."""
    if config.draining:
        return gateway_draining()
    store.tick()
    if store.at_capacity():
        return too_many_runs(store.settings.max_concurrent_runs)
    key, key_error = session_key(request)  # before the body (§5.1 step 2)
    if key_error is not None:
        return key_error
    body = parse_json_body(request)
    if body is INVALID:
        return json_response(short_error("Invalid JSON in request body"), 400)
    raw_input = get(body, "input")
    if raw_input is None:
        return json_response(openai_error("Missing 'input' field"), 400)
    instructions = body.get("instructions")
    previous_id = body.get("previous_response_id")
    conversation = body.get("conversation")
    keep = request_bool(body.get("store"), default=True)
    if conversation and previous_id:
        return json_response(
            openai_error("Cannot use both 'conversation' and 'previous_response_id'"), 400
        )
    if conversation:
        previous_id = store.responses.conversation(conversation)

    messages: list[dict[str, Any]] = []
    if isinstance(raw_input, str):
        messages = [{"role": "user", "content": raw_input}]
    elif isinstance(raw_input, list):
        for index, item in enumerate(raw_input):
            if isinstance(item, str):
                messages.append({"role": "user", "content": item})
            elif isinstance(item, dict):
                try:
                    content = multimodal(item.get("content", ""))
                except ContentError as exc:
                    return content_error(exc, f"input[{index}].content")
                messages.append({"role": item.get("role", "user"), "content": content})
    else:
        return json_response(openai_error("'input' must be a string or array"), 400)

    history: list[dict[str, Any]] = []
    raw_history = body.get("conversation_history")
    if raw_history:
        if not isinstance(raw_history, list):
            return json_response(
                openai_error("'conversation_history' must be an array of message objects"), 400
            )
        for index, entry in enumerate(raw_history):
            if not isinstance(entry, dict) or "role" not in entry or "content" not in entry:
                return json_response(
                    openai_error(
                        f"conversation_history[{index}] must have 'role' and 'content' fields"
                    ),
                    400,
                )
            try:
                content = multimodal(entry["content"])
            except ContentError as exc:
                return content_error(exc, f"conversation_history[{index}].content")
            history.append({"role": str(entry["role"]), "content": content})

    stored_session: str | None = None
    if not history and previous_id:
        stored = store.responses.get(previous_id)
        if stored is None:
            return json_response(openai_error(f"Previous response not found: {previous_id}"), 404)
        history = list(stored.conversation_history)
        stored_session = stored.session_id
        if instructions is None:
            instructions = stored.instructions
    history.extend(messages[:-1])
    user_message: Any = messages[-1].get("content", "") if messages else ""
    if not has_visible_payload(user_message):
        return json_response(openai_error("No user message found in input"), 400)
    if body.get("truncation") == "auto" and len(history) > MAX_HISTORY:
        history = history[-MAX_HISTORY:]
    session_id = stored_session or new_response_session_id()
    model = body.get("model", config.model_name)
    now = store.clock.now()
    context = ResponseContext(store, body, user_message, history, instructions, conversation, keep)
    headers = session_headers(session_id, key)

    if request_bool(body.get("stream"), default=False):
        turn = _start_turn(context, session_id, key)
        response_id = new_response_id()
        renderer = ResponsesStreamRenderer(context, turn, response_id, int(now), model)
        stream = TurnStream(
            store,
            turn,
            renderer,
            keepalive=store.settings.keepalive,
            events=batched(turn.events, turn.ends_at),
        )
        return ApiResponse(200, [*SSE_HEADERS, *headers], stream=stream)

    idempotency_key = request.header("idempotency-key")
    fingerprint = _fingerprint(body)
    cached = _cached(store, idempotency_key, fingerprint) if idempotency_key else None
    turn = cached or _start_turn(context, session_id, key)
    if idempotency_key and cached is None:
        store.idempotency.pop(idempotency_key, None)
        store.idempotency[idempotency_key] = (fingerprint, turn, turn.ends_at)
    final = final_text(turn, store.settings.api_max_retries)
    agent_messages = [
        *turn.history,
        {"role": "user", "content": turn.input},
        *turn.transcript(final),
    ]
    response_id = new_response_id()
    data = envelope(response_id, "completed", int(now), model)
    data["output"] = output_items(agent_messages, final)
    data["usage"] = response_usage(*usage_numbers(turn))
    if keep:
        save(context, response_id, data, duplicated_history(context, agent_messages), session_id)
    answer = ApiResponse(
        200, [*headers, ("Content-Type", JSON_TYPE)], wire_json(data).encode("ascii")
    )
    if cached is None:
        answer.delay = max(0.0, turn.ends_at - now)
    return answer


def get_response(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """GET /v1/responses/{id}: the object exactly as last saved (§5.4)."""
    response_id = params["response_id"]
    store.tick()
    stored = store.responses.get(response_id)
    if stored is None:
        return json_response(openai_error(f"Response not found: {response_id}"), 404)
    return json_response(stored.response)


def delete_response(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """DELETE /v1/responses/{id} (§5.4)."""
    response_id = params["response_id"]
    if not store.responses.delete(response_id):
        return json_response(openai_error(f"Response not found: {response_id}"), 404)
    return json_response({"id": response_id, "object": "response", "deleted": True})


# ---------------------------------------------------------------- output and storage


def output_items(agent_messages: list[dict[str, Any]], final: str) -> list[dict[str, Any]]:
    """`_extract_output_items` from index 0 (the failed prefix check, §5.5): every tool
    call and result in the transcript, earlier turns' included, then the message."""
    items: list[dict[str, Any]] = []
    for message in agent_messages:
        role = message.get("role")
        if role == "assistant" and message.get("tool_calls"):
            for call in message["tool_calls"]:
                func = call.get("function", {})
                items.append(
                    function_call(
                        func.get("name", ""), func.get("arguments", ""), call.get("id", "")
                    )
                )
        elif role == "tool":
            items.append(
                function_call_output(message.get("tool_call_id", ""), message.get("content", ""))
            )
    items.append(message_item(final))
    return items


def _start_turn(context: ResponseContext, session_id: str, key: str | None) -> TurnRecord:
    store = context.store
    script = store.book.select(input_text(context.user_message), surface="responses")
    now = store.clock.now()
    turn = TurnRecord(
        turn_id=f"responses_{len(store.turns) + 1}",
        surface="responses",
        created_at=now,
        script=script,
        input=context.user_message,
        history=context.history,
        session_id=session_id,
        session_key=key,
        model=context.body.get("model"),
        instructions=context.instructions,
        request=context.body,
    )
    store.start_turn(turn)
    final = final_text(turn, store.settings.api_max_retries)
    store.sessions.record_turn(
        session_id,
        model=store.settings.llm_model,
        user_message=turn.input,
        messages=turn.transcript(final),
        usage=(turn.usage.input_tokens, turn.usage.output_tokens),
        started=now,
        ended=turn.ends_at,
    )
    return turn


def _fingerprint(body: dict[str, Any]) -> str:
    keys = ("input", "instructions", "previous_response_id", "conversation", "model", "tools")
    subset = {k: body.get(k) for k in keys}
    return hashlib.sha256(repr(subset).encode("utf-8")).hexdigest()


def _cached(store: RunStore, key: str, fingerprint: str) -> TurnRecord | None:
    entry = store.idempotency.get(key)
    if entry is not None and entry[0] == fingerprint:
        turn: TurnRecord = entry[1]
        return turn
    return None
