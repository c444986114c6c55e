"""The Runs API handlers: create, poll, events, approval, stop (spec §2), each with the
real server's checks in its order and its exact error bodies.

A handler gets the run store and the gateway config (seam 3) and runs under the store lock.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentfakes.api.config import MAX_REQUEST_BYTES, MAX_SESSION_KEY, GatewayConfig
from agentfakes.api.errors import (
    gateway_draining,
    invalid_json,
    json_response,
    openai_error,
    run_not_found,
    short_error,
    too_many_runs,
)
from agentfakes.api.messages import ApiRequest, ApiResponse
from agentfakes.api.streaming import SSE_HEADERS, RunEventStream
from agentfakes.engine import RunRecord, RunStore
from agentfakes.models import APPROVAL_CHOICES

Params = dict[str, str]
APPROVAL_ALIASES = {"approve": "once", "approved": "once", "allow": "once"}  # spec §7
TRUE_STRINGS = {"1", "true", "yes", "on"}
_INVALID_CHOICE = "Invalid approval choice; expected one of: " + ", ".join(APPROVAL_CHOICES)


class HandlerCrash(Exception):
    """The real handler would raise here (aiohttp then answers its text 500, spec §1.5)."""


def create_run(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """POST /v1/runs: the checks of spec §2.1, in its order, then 202."""
    if config.draining:
        return gateway_draining()
    raw_key = request.header("x-hermes-session-key").strip()
    if raw_key and re.search(r"[\r\n\x00]", raw_key):
        return json_response(short_error("Invalid session key"), 400)
    if len(raw_key) > MAX_SESSION_KEY:
        return json_response(short_error("Session key too long"), 400)
    store.tick()
    if store.at_capacity():
        return too_many_runs(store.settings.max_concurrent_runs)
    body = parse_json_body(request)
    if body is INVALID:
        return invalid_json()
    raw_input = _get(body, "input")
    if not raw_input:
        return json_response(openai_error("Missing 'input' field"), 400)
    if isinstance(raw_input, str):
        user_message: Any = raw_input
    elif isinstance(raw_input, list):
        user_message = _get(raw_input[-1], "content", "")
    else:
        user_message = ""
    if not user_message:
        return json_response(openai_error("No user message found in input"), 400)
    history, error = _conversation_history(body, raw_input)
    if error is not None:
        return error
    record = store.create(
        input=user_message,
        request=body,
        session_id=_get(body, "session_id"),
        model=body.get("model", config.model_name),
        instructions=_get(body, "instructions"),
        conversation_history=history,
        session_key=raw_key or None,
    )
    headers = (("X-Hermes-Session-Key", raw_key),) if raw_key else ()
    response = json_response({"run_id": record.run_id, "status": "started"}, 202, headers)
    response.run_id = record.run_id
    return response


def get_run(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """GET /v1/runs/{run_id}: the run object of spec §3."""
    found = _known_run(store, config, request, params)
    if isinstance(found, ApiResponse):
        return found
    return json_response(found.to_wire())


def run_events(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """GET /v1/runs/{run_id}/events: SSE, or a 404 after ~1 s of polling (spec §2.3)."""
    run_id = params["run_id"]
    subscription = store.subscribe(run_id)
    if subscription is None:
        response = run_not_found(run_id)
        response.delay = store.settings.missing_stream_delay
        return response
    stream = RunEventStream(subscription, keepalive=store.settings.keepalive)
    return ApiResponse(200, list(SSE_HEADERS), stream=stream, run_id=run_id)


def approve(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """POST …/approval: the checks of spec §2.4, in its order."""
    record = _known_run(store, config, request, params)
    if isinstance(record, ApiResponse):
        return record
    run_id = record.run_id
    body = parse_json_body(request)
    if body is INVALID:
        return invalid_json()
    choice = normalise_choice(_get(body, "choice", ""))
    if choice not in APPROVAL_CHOICES:
        return json_response(openai_error(_INVALID_CHOICE, code="invalid_approval_choice"), 400)
    if record.is_terminal:
        return json_response(
            openai_error(
                f"Run has no active approval session: {run_id}", code="approval_not_active"
            ),
            409,
        )
    resolve_all = request_bool(body.get("all")) or request_bool(body.get("resolve_all"))
    resolved = store.approve(record, choice, resolve_all=resolve_all)
    if resolved <= 0:
        return json_response(
            openai_error(f"Run has no pending approval: {run_id}", code="approval_not_pending"),
            409,
        )
    return json_response(
        {
            "object": "hermes.run.approval_response",
            "run_id": run_id,
            "choice": choice,
            "resolved": resolved,
        }
    )


def stop(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """POST …/stop: the body is never read (spec §2.5)."""
    run_id = params["run_id"]
    if store.stop(run_id) is None:
        return run_not_found(run_id)
    return json_response({"run_id": run_id, "status": "stopping"})


def _known_run(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> RunRecord | ApiResponse:
    """Check 2 of poll and approval, after the key (the route's): a status record for the id
    (§2.2, §2.4)."""
    run_id = params["run_id"]
    store.tick()
    record = store.get(run_id)
    return run_not_found(run_id) if record is None else record


# -------------------------------------------------------------------- body helpers

INVALID: Any = object()
_CHARSET = re.compile(r";\s*charset=\"?([^\";]+)\"?", re.IGNORECASE)


def parse_json_body(request: ApiRequest) -> Any:
    """aiohttp's `request.json()` inside the handler's `try`: the body decoded strictly with
    the Content-Type's charset (UTF-8 by default: a BOM or UTF-16/32 body is not JSON),
    a body over client_max_size refused, too-deep nesting refused; INVALID on any failure."""
    raw = request.body
    if len(raw) > MAX_REQUEST_BYTES:
        return INVALID
    match = _CHARSET.search(request.header("content-type"))
    try:
        text = raw.decode(match.group(1).strip() if match else "utf-8")
        return json.loads(text)
    except (ValueError, LookupError, RecursionError):
        return INVALID


def _get(container: Any, key: str, default: Any = None) -> Any:
    """`body.get(key)` as the real handler does it: a non-dict body crashes (spec §1.5)."""
    if not isinstance(container, dict):
        raise HandlerCrash
    return container.get(key, default)


def _conversation_history(
    body: dict[str, Any], raw_input: Any
) -> tuple[list[dict[str, Any]], ApiResponse | None]:
    """Checks 8 and 9 of spec §2.1, then the history derived from a list `input`."""
    history: list[dict[str, Any]] = []
    raw_history = body.get("conversation_history")
    if raw_history:
        if not isinstance(raw_history, list):
            return [], json_response(
                openai_error("'conversation_history' must be an array of message objects"), 400
            )
        for index, entry in enumerate(raw_history):
            if not isinstance(entry, dict) or "role" not in entry or "content" not in entry:
                return [], json_response(
                    openai_error(
                        f"conversation_history[{index}] must have 'role' and 'content' fields"
                    ),
                    400,
                )
            history.append({"role": str(entry["role"]), "content": str(entry["content"])})
    if not history and isinstance(raw_input, list) and len(raw_input) > 1:
        for message in raw_input[:-1]:
            if isinstance(message, dict) and message.get("role") and message.get("content"):
                content = message["content"]
                if isinstance(content, list):
                    texts = [
                        part.get("text", "")
                        for part in content
                        if isinstance(part, dict) and part.get("type") == "text"
                    ]
                    if not all(isinstance(text, str) for text in texts):
                        raise HandlerCrash  # `" ".join` of a non-string: TypeError (§1.5)
                    content = " ".join(texts)
                history.append({"role": message["role"], "content": str(content)})
    return history, None


def normalise_choice(raw: Any) -> str:
    """`str(choice).strip().lower()` with the approve/approved/allow aliases (spec §7)."""
    choice = str(raw).strip().lower()
    return APPROVAL_ALIASES.get(choice, choice)


def request_bool(value: Any) -> bool:
    """`_coerce_request_bool`: JSON bools, "1/true/yes/on" strings, nonzero numbers."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in TRUE_STRINGS
    if isinstance(value, int | float):
        return bool(value)
    return False
