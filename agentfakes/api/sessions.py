"""`/api/sessions`: list, create, get, patch, delete, messages, fork, chat and chat/stream
(beyond-runs §6.2; A:2160-2648), over the engine's session store (the fake's state.db).

A session chat is an agent turn driven by a `Script` (picked for the message text on the
"sessions" surface). It holds a concurrency slot but, as on the real server, never checks
the cap. Its stream is the third SSE dialect: `event: <name>` frames written with raw
UTF-8, `seq` from 1, ending with `event: done`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

from agentfakes.api.config import MAX_SESSION_KEY, GatewayConfig
from agentfakes.api.content import (
    request_bool,
)
from agentfakes.api.errors import json_response, openai_error
from agentfakes.api.messages import ApiRequest, ApiResponse
from agentfakes.api.runs import INVALID, parse_json_body
from agentfakes.engine import RunStore
from agentfakes.engine.sessions import SessionRecord
from agentfakes.models.sessions import message_object, session_object
from agentfakes.seeding import random_uuid4

Params = dict[str, str]
_CONTROL = re.compile(r"[\r\n\x00]")
MAX_TITLE = 100  # hermes_state.MAX_TITLE_LENGTH


def list_sessions(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """GET /api/sessions?limit&offset&source&include_children, by last activity."""
    query = {k: v[0] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
    limit = _nonnegative(query.get("limit"), 50, 200)
    offset = _nonnegative(query.get("offset"), 0, 1_000_000)
    source = query.get("source") or None
    children = request_bool(query.get("include_children"), default=False)
    rows = [
        s
        for s in store.sessions.sessions.values()
        if (source is None or s.source == source) and (children or s.parent_session_id is None)
    ]
    rows.sort(key=lambda s: s.last_active, reverse=True)
    page = rows[offset : offset + limit]
    return json_response(
        {
            "object": "list",
            "data": [_session(s, listing=True) for s in page],
            "limit": limit,
            "offset": offset,
            "has_more": len(page) == limit,
        }
    )


def create_session(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """POST /api/sessions {id|session_id?, model?, system_prompt?, title?}: 201."""
    body, error = json_object(request)
    if error is not None:
        return error
    raw_id = body.get("id") or body.get("session_id")
    now = store.clock.now()
    session_id = str(raw_id).strip() if raw_id else _new_session_id(now)
    if refused := _bad_session_id(session_id):
        return refused
    model = body.get("model") or config.model_name
    system_prompt = body.get("system_prompt")
    if system_prompt is not None and not isinstance(system_prompt, str):
        return error_response("system_prompt must be a string", "invalid_system_prompt", 400)
    if store.sessions.get(session_id) is not None:
        return error_response(f"Session already exists: {session_id}", "session_exists", 409)
    title = body.get("title")
    clean: str | None = None
    if title is not None:
        clean = _clean_title(str(title))
        owner = _title_owner(store, clean, session_id)
        if clean and owner is not None:
            return error_response(f"Title already in use by session {owner}", "invalid_title", 400)
    record = SessionRecord(session_id, "api_server", str(model), now, system_prompt=system_prompt)
    record.title = clean
    store.sessions.sessions[session_id] = record
    return json_response({"object": "hermes.session", "session": _session(record)}, 201)


def get_session(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    record, missing = existing_session(store, params["session_id"])
    if missing is not None:
        return missing
    return json_response({"object": "hermes.session", "session": _session(record)})


def patch_session(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """PATCH: only `title` and `end_reason` (beyond-runs §6.2)."""
    record, missing = existing_session(store, params["session_id"])
    if missing is not None:
        return missing
    body, error = json_object(request)
    if error is not None:
        return error
    unknown = sorted(set(body) - {"title", "end_reason"})
    if unknown:
        return error_response(
            f"Unsupported session fields: {', '.join(unknown)}", "unsupported_session_field", 400
        )
    if "title" in body:
        clean = _clean_title("" if body["title"] is None else str(body["title"]))
        owner = _title_owner(store, clean, record.id)
        if clean and owner is not None:
            return error_response(f"Title already in use by session {owner}", "invalid_title", 400)
        record.title = clean
    if body.get("end_reason"):
        record.end_reason = str(body["end_reason"])
        record.ended_at = store.clock.now()
    return json_response({"object": "hermes.session", "session": _session(record)})


def delete_session(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    record, missing = existing_session(store, params["session_id"])
    if missing is not None:
        return missing
    del store.sessions.sessions[record.id]
    return json_response({"object": "hermes.session.deleted", "id": record.id, "deleted": True})


def session_messages(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """GET …/messages: every message in insertion order; the query is ignored (§1)."""
    record, missing = existing_session(store, params["session_id"])
    if missing is not None:
        return missing
    data = [message_object(m) for m in record.messages]
    return json_response({"object": "list", "session_id": record.id, "data": data})


def fork_session(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """POST …/fork {id?, title?}: the source ends as `branched`; the child copies it."""
    source, missing = existing_session(store, params["session_id"])
    if missing is not None:
        return missing
    body, error = json_object(request)
    if error is not None:
        return error
    now = store.clock.now()
    fork_id = str(body.get("id") or body.get("session_id") or _new_session_id(now)).strip()
    if not fork_id or _CONTROL.search(fork_id):
        return error_response("Invalid session ID", "invalid_session_id", 400)
    if store.sessions.get(fork_id) is not None:
        return error_response(f"Session already exists: {fork_id}", "session_exists", 409)
    source.end_reason = "branched"
    source.ended_at = now
    fork = SessionRecord(
        fork_id,
        "api_server",
        source.model,
        now,
        system_prompt=source.system_prompt,
        parent_session_id=source.id,
    )
    store.sessions.sessions[fork_id] = fork
    for message in source.messages:
        store.sessions.append(fork, message, message["timestamp"])
    title = body.get("title")
    fork.title = _clean_title(
        str(title) if title is not None else _next_title(store, source.title or "fork")
    )
    return json_response({"object": "hermes.session", "session": _session(fork)}, 201)


# ---------------------------------------------------------------- helpers


def _session(record: SessionRecord, *, listing: bool = False) -> dict[str, Any]:
    return session_object(record.row(listing=listing), has_system_prompt=bool(record.system_prompt))


def existing_session(store: RunStore, session_id: str) -> tuple[Any, ApiResponse | None]:
    record = store.sessions.get(session_id)
    if record is None:
        return None, error_response(f"Session not found: {session_id}", "session_not_found", 404)
    return record, None


def json_object(request: ApiRequest) -> tuple[dict[str, Any], ApiResponse | None]:
    """`_read_json_body` (A:2200-2207)."""
    body = parse_json_body(request)
    if body is INVALID:
        return {}, json_response(openai_error("Invalid JSON in request body"), 400)
    if not isinstance(body, dict):
        return {}, json_response(openai_error("Request body must be a JSON object"), 400)
    return body, None


def error_response(message: str, code: str, status: int) -> ApiResponse:
    return json_response(openai_error(message, code=code), status)


def _bad_session_id(session_id: str) -> ApiResponse | None:
    unsafe = ".." in session_id or "/" in session_id or "\\" in session_id
    unsafe = unsafe or (len(session_id) >= 2 and session_id[0].isalpha() and session_id[1] == ":")
    if not session_id or _CONTROL.search(session_id) or unsafe:
        return error_response("Invalid session ID", "invalid_session_id", 400)
    if len(session_id) > MAX_SESSION_KEY:
        return error_response("Session ID too long", "invalid_session_id", 400)
    return None


def _new_session_id(now: float) -> str:
    """`api_<epoch>_<8hex>` on the engine clock, the hex from the seeded Random."""
    return f"api_{int(now)}_{random_uuid4().hex[:8]}"


def _nonnegative(value: str | None, default: int, maximum: int) -> int:
    try:
        parsed = int(value) if value is not None else default
    except ValueError:
        return default
    return default if parsed < 0 else min(parsed, maximum)


def _clean_title(title: str) -> str | None:
    """`sanitize_title`: whitespace collapsed; empty is no title."""
    cleaned = " ".join(title.split())
    return cleaned[:MAX_TITLE] or None


def _title_owner(store: RunStore, title: str | None, session_id: str) -> str | None:
    if not title:
        return None
    for record in store.sessions.sessions.values():
        if record.title == title and record.id != session_id:
            return record.id
    return None


def _next_title(store: RunStore, base_title: str) -> str:
    """`get_next_title_in_lineage`: "<base> #N", N one past the highest in use."""
    match = re.match(r"^(.*?) #(\d+)$", base_title)
    base = match.group(1) if match else base_title
    titles = [r.title for r in store.sessions.sessions.values() if r.title]
    existing = [t for t in titles if t == base or t.startswith(f"{base} #")]
    if not existing:
        return base
    numbers = [1]
    for title in existing:
        found = re.match(r"^.* #(\d+)$", title)
        if found:
            numbers.append(int(found.group(1)))
    return f"{base} #{max(numbers) + 1}"
