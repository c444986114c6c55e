"""How a request becomes a response: the Runs API's routes, checks and error bodies.

Transport-agnostic: a transport hands in an `ApiRequest` (method, path, headers, body)
and sends back the `ApiResponse` (status, headers, and a body or a `StreamReader`). Every
check runs in the order the real server runs it (spec §1–§2), and every error body is
byte-for-byte the real one.
"""

from __future__ import annotations

import hmac
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentfakes.models import wire_json
from agentfakes.sse import StreamReader

if TYPE_CHECKING:
    from agentfakes.server import FakeRunsServer

HERMES_VERSION = "0.19.0"
MAX_REQUEST_BYTES = 10_000_000  # spec §1.2
MAX_SESSION_KEY = 256  # spec §2.1 check 3b

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
SECURITY_HEADERS = (  # spec §1.2, added to non-streaming handler responses only
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("X-XSS-Protection", "0"),
    ("Referrer-Policy", "no-referrer"),
)
SSE_HEADERS = (  # spec §5.1
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache"),
    ("X-Accel-Buffering", "no"),
)
INVALID_KEY_BODY = {  # spec §1.3: the one error without `param`
    "error": {
        "message": "Invalid API key",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}
CRASH_BODY = b"500 Internal Server Error\n\nServer got itself in trouble"  # spec §1.5
APPROVAL_ALIASES = {"approve": "once", "approved": "once", "allow": "once"}
APPROVAL_CHOICES = ("once", "session", "always", "deny")
TRUE_STRINGS = {"1", "true", "yes", "on"}
FALSE_STRINGS = {"0", "false", "no", "off"}


@dataclass
class ApiRequest:
    """A request as every transport hands it in: headers lower-cased, body raw."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    query: str = ""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class ApiResponse:
    """What the server answers: a body, or a stream of SSE frames."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: StreamReader | None = None
    run_id: str | None = None  # the run this request created or touched, for the journal

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")

    def json(self) -> Any:
        return json.loads(self.body)


def openai_error(
    message: str, *, err_type: str = "invalid_request_error", code: str | None = None
) -> dict[str, Any]:
    """The error envelope of `_openai_error` (spec §1.4)."""
    return {"error": {"message": message, "type": err_type, "param": None, "code": code}}


def json_response(
    data: Any, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> ApiResponse:
    return ApiResponse(
        status, [("Content-Type", JSON_TYPE), *headers], wire_json(data).encode("ascii")
    )


def text_response(
    status: int, body: bytes, headers: tuple[tuple[str, str], ...] = ()
) -> ApiResponse:
    return ApiResponse(status, [("Content-Type", TEXT_TYPE), *headers], body)


def not_found() -> ApiResponse:
    return text_response(404, b"404: Not Found")


def run_not_found(run_id: str) -> ApiResponse:
    return json_response(openai_error(f"Run not found: {run_id}", code="run_not_found"), 404)


def crash() -> ApiResponse:
    """aiohttp's answer when a handler raises, e.g. on a non-object JSON body (spec §1.5)."""
    return text_response(500, CRASH_BODY, (("Connection", "close"),))


class _Crash(Exception):
    """The real handler would raise here (an AttributeError on a non-dict body)."""


# -------------------------------------------------------------------- routes

Handler = Callable[["RunsApi", ApiRequest, dict[str, str]], ApiResponse]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler | None  # None: a real route agentfakes does not fake


def _path(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{regex}$")


# The real server's other routes (A:1475-1527): answered with a clear 501, not a fake.
_UNFAKED = (
    ("GET", "/v1/skills"),
    ("GET", "/v1/toolsets"),
    ("GET", "/api/sessions"),
    ("POST", "/api/sessions"),
    ("GET", "/api/sessions/{session_id}"),
    ("PATCH", "/api/sessions/{session_id}"),
    ("DELETE", "/api/sessions/{session_id}"),
    ("GET", "/api/sessions/{session_id}/messages"),
    ("POST", "/api/sessions/{session_id}/fork"),
    ("POST", "/api/sessions/{session_id}/chat"),
    ("POST", "/api/sessions/{session_id}/chat/stream"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/responses"),
    ("GET", "/v1/responses/{response_id}"),
    ("DELETE", "/v1/responses/{response_id}"),
    ("POST", "/api/platforms/{platform}/events"),
    ("GET", "/api/jobs"),
    ("POST", "/api/jobs"),
    ("GET", "/api/jobs/{job_id}"),
    ("PATCH", "/api/jobs/{job_id}"),
    ("DELETE", "/api/jobs/{job_id}"),
    ("POST", "/api/jobs/{job_id}/pause"),
    ("POST", "/api/jobs/{job_id}/resume"),
    ("POST", "/api/jobs/{job_id}/run"),
)
_PROFILE_PREFIX = re.compile(r"^/p/[^/]+(?=/)")


class RunsApi:
    """The Runs API of one fake server: route, check, answer."""

    def __init__(self, server: FakeRunsServer) -> None:
        self.server = server
        self.engine = server.engine
        self.routes: list[Route] = [
            Route("GET", _path("/health"), RunsApi.health),
            Route("GET", _path("/health/detailed"), RunsApi.health_detailed),
            Route("GET", _path("/v1/health"), RunsApi.health),
            Route("GET", _path("/v1/models"), RunsApi.models),
            Route("GET", _path("/v1/capabilities"), RunsApi.capabilities),
            Route("POST", _path("/v1/runs"), RunsApi.create_run),
            Route("GET", _path("/v1/runs/{run_id}"), RunsApi.get_run),
            Route("GET", _path("/v1/runs/{run_id}/events"), RunsApi.run_events),
            Route("POST", _path("/v1/runs/{run_id}/approval"), RunsApi.approve),
            Route("POST", _path("/v1/runs/{run_id}/stop"), RunsApi.stop),
            *(Route(m, _path(p), None) for m, p in _UNFAKED),
        ]

    # ---------------------------------------------------------------- dispatch

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Middlewares (profile prefix, CORS, body limit, security headers), then the route."""
        path = request.path
        if path.startswith("/p/"):  # multiplexing is off: the profile prefix is ignored
            path = _PROFILE_PREFIX.sub("", path, count=1)
        if request.header("origin") or request.method == "OPTIONS":
            # spec §1.2: no origin is allowed by default, so CORS answers a bare 403
            return ApiResponse(403, [("Content-Type", "application/octet-stream")], b"")
        if request.method in ("POST", "PUT", "PATCH"):
            too_big = self._check_body_limit(request)
            if too_big is not None:
                return too_big
        allowed: list[str] = []
        for route in self.routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if route.method != request.method:
                allowed.append(route.method)
                continue
            if route.handler is None:
                return json_response(
                    openai_error(
                        f"agentfakes does not fake {route.method} {path}; "
                        "it fakes the Runs API and its probes",
                        code="not_faked",
                    ),
                    501,
                )
            try:
                with self.engine.lock:
                    response = route.handler(self, request, match.groupdict())
            except _Crash:
                return crash()
            if response.stream is None:
                response.headers.extend(SECURITY_HEADERS)
            return response
        if allowed:
            allow = ",".join(sorted(set(allowed)))
            return text_response(405, b"405: Method Not Allowed", (("Allow", allow),))
        return not_found()

    def _check_body_limit(self, request: ApiRequest) -> ApiResponse | None:
        length = request.headers.get("content-length")
        if length is None:
            return None
        try:
            too_large = int(length) > MAX_REQUEST_BYTES
        except ValueError:
            return json_response(
                openai_error("Invalid Content-Length header.", code="invalid_content_length"), 400
            )
        if too_large:
            return json_response(
                openai_error("Request body too large.", code="body_too_large"), 413
            )
        return None

    def _auth_error(self, request: ApiRequest) -> ApiResponse | None:
        """`Authorization: Bearer <key>`: case-sensitive prefix, key stripped (spec §1.3)."""
        key = self.server.api_key
        if not key:
            return None
        header = request.header("authorization")
        if header.startswith("Bearer "):
            token = header[7:].strip()
            if hmac.compare_digest(token.encode(), key.encode()):
                return None
        return json_response(INVALID_KEY_BODY, 401)

    # ---------------------------------------------------------------- probes (spec §8)

    def health(self, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
        return json_response(
            {"status": "ok", "platform": "hermes-agent", "version": HERMES_VERSION}
        )

    def health_detailed(self, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
        if (denied := self._auth_error(request)) is not None:
            return denied
        self.engine.tick()
        active = self.engine.active_count()
        ok = {"status": "ok"}
        readiness = {
            "status": "ok",
            "checks": {
                "state_db": {**ok, "detail": "not initialized"},
                "config": {**ok, "detail": "using defaults"},
                "model": dict(ok),
                "disk": {**ok, "used_percent": 42.0, "free_bytes": 64_000_000_000},
                "gateway": {**ok, "state": "running", "connected_platforms": 1, "platforms": 1},
                "background_queues": {
                    **ok,
                    "active_api_runs": active,
                    "process_completions": 0,
                    "active_delegations": 0,
                },
            },
        }
        now = self.engine.clock.now()
        return json_response(
            {
                "status": readiness["status"],
                "readiness": readiness,
                "platform": "hermes-agent",
                "version": HERMES_VERSION,
                "gateway_state": "draining" if self.server.draining else "running",
                "platforms": {
                    "api_server": {
                        "state": "connected",
                        "error_code": None,
                        "error_message": None,
                        "updated_at": now,
                    }
                },
                "active_agents": active,
                "gateway_busy": active > 0,
                "gateway_drainable": True,
                "exit_reason": None,
                "updated_at": now,
                "pid": os.getpid(),
            }
        )

    def models(self, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
        if (denied := self._auth_error(request)) is not None:
            return denied
        name = self.engine.settings.model_name
        entry = {
            "id": name,
            "object": "model",
            "created": int(self.engine.clock.now()),
            "owned_by": "hermes",
            "permission": [],
            "root": name,
            "parent": None,
        }
        return json_response({"object": "list", "data": [entry]})

    def capabilities(self, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
        if (denied := self._auth_error(request)) is not None:
            return denied
        return json_response(capabilities_body(self.engine.settings.model_name))

    # ---------------------------------------------------------------- runs

    def create_run(self, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
        """POST /v1/runs: the checks of spec §2.1, in its order, then 202."""
        if (denied := self._auth_error(request)) is not None:
            return denied
        if self.server.draining:
            return json_response(
                openai_error(
                    "Gateway is draining existing work; retry shortly.", code="gateway_draining"
                ),
                503,
                (("Retry-After", "1"),),
            )
        raw_key = request.header("x-hermes-session-key").strip()
        if raw_key and re.search(r"[\r\n\x00]", raw_key):
            return json_response(
                {"error": {"message": "Invalid session key", "type": "invalid_request_error"}}, 400
            )
        if len(raw_key) > MAX_SESSION_KEY:
            return json_response(
                {"error": {"message": "Session key too long", "type": "invalid_request_error"}}, 400
            )
        self.engine.tick()
        if self.engine.at_capacity():
            cap = self.engine.settings.max_concurrent_runs
            return json_response(
                openai_error(
                    f"Too many concurrent runs (max {cap})",
                    err_type="rate_limit_error",
                    code="rate_limit_exceeded",
                ),
                429,
                (("Retry-After", "1"),),
            )
        body = _parse_json(request.body)
        if body is _INVALID:
            return json_response(openai_error("Invalid JSON"), 400)
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
        script = self.server.router.select(user_message)
        record = self.engine.create(
            script,
            input=user_message,
            request=body,
            session_id=_get(body, "session_id"),
            model=body.get("model", self.engine.settings.model_name),
            instructions=_get(body, "instructions"),
            conversation_history=history,
            session_key=raw_key or None,
        )
        headers = (("X-Hermes-Session-Key", raw_key),) if raw_key else ()
        response = json_response({"run_id": record.run_id, "status": "started"}, 202, headers)
        response.run_id = record.run_id
        return response

    def get_run(self, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
        if (denied := self._auth_error(request)) is not None:
            return denied
        run_id = params["run_id"]
        self.engine.tick()
        record = self.engine.get(run_id)
        if record is None:
            return run_not_found(run_id)
        return json_response(record.to_wire())

    def run_events(self, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
        if (denied := self._auth_error(request)) is not None:
            return denied
        run_id = params["run_id"]
        reader = self.engine.subscribe(run_id)
        if reader is None:
            self.server.missing_stream_pause()
            return run_not_found(run_id)
        return ApiResponse(200, list(SSE_HEADERS), stream=reader, run_id=run_id)

    def approve(self, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
        """POST …/approval: the checks of spec §2.4, in its order."""
        if (denied := self._auth_error(request)) is not None:
            return denied
        run_id = params["run_id"]
        self.engine.tick()
        record = self.engine.get(run_id)
        if record is None:
            return run_not_found(run_id)
        body = _parse_json(request.body)
        if body is _INVALID:
            return json_response(openai_error("Invalid JSON"), 400)
        choice = normalise_choice(_get(body, "choice", ""))
        if choice not in APPROVAL_CHOICES:
            return json_response(
                openai_error(
                    "Invalid approval choice; expected one of: once, session, always, deny",
                    code="invalid_approval_choice",
                ),
                400,
            )
        if record.is_terminal:
            return json_response(
                openai_error(
                    f"Run has no active approval session: {run_id}", code="approval_not_active"
                ),
                409,
            )
        resolve_all = request_bool(body.get("all")) or request_bool(body.get("resolve_all"))
        resolved = self.engine.approve(record, choice, resolve_all=resolve_all)
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

    def stop(self, request: ApiRequest, params: dict[str, str]) -> ApiResponse:
        """POST …/stop: the body is never read (spec §2.5)."""
        if (denied := self._auth_error(request)) is not None:
            return denied
        run_id = params["run_id"]
        if self.engine.stop(run_id) is None:
            return run_not_found(run_id)
        return json_response({"run_id": run_id, "status": "stopping"})


# -------------------------------------------------------------------- helpers

_INVALID: Any = object()


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return _INVALID


def _get(container: Any, key: str, default: Any = None) -> Any:
    """`body.get(key)` as the real handler does it: a non-dict body crashes (spec §1.5)."""
    if not isinstance(container, dict):
        raise _Crash
    return container.get(key, default)


def _conversation_history(
    body: dict[str, Any], raw_input: Any
) -> tuple[list[dict[str, str]], ApiResponse | None]:
    """Checks 8 and 9 of spec §2.1, then the history derived from a list `input`."""
    history: list[dict[str, str]] = []
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
            history.append({"role": _py_str(entry["role"]), "content": _py_str(entry["content"])})
    if not history and isinstance(raw_input, list) and len(raw_input) > 1:
        for message in raw_input[:-1]:
            if isinstance(message, dict) and message.get("role") and message.get("content"):
                content = message["content"]
                if isinstance(content, list):
                    content = " ".join(
                        str(part.get("text", ""))
                        for part in content
                        if isinstance(part, dict) and part.get("type") == "text"
                    )
                history.append({"role": message["role"], "content": _py_str(content)})
    return history, None


def _py_str(value: Any) -> str:
    """Python's `str()` of a JSON value, as the real server coerces it (`None` → "None")."""
    return str(value)


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


def capabilities_body(model_name: str) -> dict[str, Any]:
    """`GET /v1/capabilities` as hermes-agent 0.19.0 answers it (spec §8)."""
    runs_endpoints = {
        "runs": ("POST", "/v1/runs"),
        "run_status": ("GET", "/v1/runs/{run_id}"),
        "run_events": ("GET", "/v1/runs/{run_id}/events"),
        "run_approval": ("POST", "/v1/runs/{run_id}/approval"),
        "run_stop": ("POST", "/v1/runs/{run_id}/stop"),
    }
    other_endpoints = {
        "health": ("GET", "/health"),
        "health_detailed": ("GET", "/health/detailed"),
        "models": ("GET", "/v1/models"),
        "chat_completions": ("POST", "/v1/chat/completions"),
        "responses": ("POST", "/v1/responses"),
    }
    session_endpoints = {
        "skills": ("GET", "/v1/skills"),
        "toolsets": ("GET", "/v1/toolsets"),
        "sessions": ("GET", "/api/sessions"),
        "session_create": ("POST", "/api/sessions"),
        "session": ("GET", "/api/sessions/{session_id}"),
        "session_update": ("PATCH", "/api/sessions/{session_id}"),
        "session_delete": ("DELETE", "/api/sessions/{session_id}"),
        "session_messages": ("GET", "/api/sessions/{session_id}/messages"),
        "session_fork": ("POST", "/api/sessions/{session_id}/fork"),
        "session_chat": ("POST", "/api/sessions/{session_id}/chat"),
        "session_chat_stream": ("POST", "/api/sessions/{session_id}/chat/stream"),
    }
    endpoints = {
        name: {"method": method, "path": path}
        for name, (method, path) in {
            **other_endpoints,
            **runs_endpoints,
            **session_endpoints,
        }.items()
    }
    features: dict[str, Any] = dict.fromkeys(
        (
            "chat_completions",
            "chat_completions_streaming",
            "responses_api",
            "responses_streaming",
            "run_submission",
            "run_status",
            "run_events_sse",
            "run_stop",
            "run_approval_response",
            "tool_progress_events",
            "approval_events",
            "session_resources",
            "session_chat",
            "session_chat_streaming",
            "session_fork",
        ),
        True,
    )
    features.update(
        admin_config_rw=False,
        jobs_admin=False,
        memory_write_api=False,
        skills_api=True,
        audio_api=False,
        realtime_voice=False,
        session_continuity_header="X-Hermes-Session-Id",
        session_key_header="X-Hermes-Session-Key",
        cors=False,
    )
    return {
        "object": "hermes.api_server.capabilities",
        "platform": "hermes-agent",
        "model": model_name,
        "auth": {"type": "bearer", "required": True},
        "runtime": {
            "mode": "server_agent",
            "tool_execution": "server",
            "split_runtime": False,
            "description": (
                "The API server creates a server-side Hermes AIAgent; tools execute on the "
                "API-server host unless a future explicit split-runtime mode is enabled."
            ),
        },
        "features": features,
        "endpoints": endpoints,
    }
