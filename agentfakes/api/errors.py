"""Every error body the real server sends, in one place: used by the handlers AND by HTTP
faults, so a faulted 429 is byte for byte the real 429 (spec §1.3–§1.5, §2, §6.3, §6.5).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from agentfakes.api.messages import ApiResponse
from agentfakes.faults import Fault
from agentfakes.models import wire_json

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
INVALID_KEY_BODY = {  # spec §1.3: the one error without `param`
    "error": {
        "message": "Invalid API key",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}
CRASH_BODY = b"500 Internal Server Error\n\nServer got itself in trouble"  # spec §1.5
RETRY_AFTER = (("Retry-After", "1"),)


def openai_error(
    message: str,
    *,
    err_type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    """The error envelope of `_openai_error` (spec §1.4)."""
    return {"error": {"message": message, "type": err_type, "param": param, "code": code}}


def bare_error(message: str) -> dict[str, Any]:
    """`{"error": "<text>"}`: the jobs routes' and the profile middleware's shape
    (beyond-runs §2.2 shapes 4 and 5)."""
    return {"error": message}


def short_error(message: str) -> dict[str, Any]:
    """The hand-built `{"error": {message, type}}` with no param/code (spec §2.1 check 3)."""
    return {"error": {"message": message, "type": "invalid_request_error"}}


def json_response(
    data: Any, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> ApiResponse:
    """aiohttp's `web.json_response`: json.dumps defaults, ASCII, utf-8 content type."""
    return ApiResponse(
        status, [("Content-Type", JSON_TYPE), *headers], wire_json(data).encode("ascii")
    )


def text_response(
    status: int, body: bytes, headers: tuple[tuple[str, str], ...] = ()
) -> ApiResponse:
    return ApiResponse(status, [("Content-Type", TEXT_TYPE), *headers], body)


def empty_response(status: int) -> ApiResponse:
    """A bare status with no body and no Content-Type (the CORS 403, spec §1.2)."""
    return ApiResponse(status, [], b"")


def not_found() -> ApiResponse:
    """aiohttp's own 404 for a path no route matches (spec §1.1)."""
    return text_response(404, b"404: Not Found")


def method_not_allowed(allowed: list[str]) -> ApiResponse:
    """aiohttp's own 405 with the `Allow` header (spec §1.1)."""
    allow = ",".join(sorted(set(allowed)))
    return text_response(405, b"405: Method Not Allowed", (("Allow", allow),))


def crash() -> ApiResponse:
    """aiohttp's answer when a handler raises, e.g. on a non-object JSON body (spec §1.5)."""
    return text_response(500, CRASH_BODY, (("Connection", "close"),))


def invalid_api_key() -> ApiResponse:
    return json_response(INVALID_KEY_BODY, 401)


def invalid_json() -> ApiResponse:
    return json_response(openai_error("Invalid JSON"), 400)


def run_not_found(run_id: str) -> ApiResponse:
    return json_response(openai_error(f"Run not found: {run_id}", code="run_not_found"), 404)


def gateway_draining(retry_after: str = "1") -> ApiResponse:
    """spec §6.5: new agent work refused while the gateway drains."""
    body = openai_error(
        "Gateway is draining existing work; retry shortly.", code="gateway_draining"
    )
    return json_response(body, 503, (("Retry-After", retry_after),))


def too_many_runs(cap: int, retry_after: str = "1") -> ApiResponse:
    """spec §6.3: the concurrency cap, shared by every agent-running endpoint."""
    body = openai_error(
        f"Too many concurrent runs (max {cap})",
        err_type="rate_limit_error",
        code="rate_limit_exceeded",
    )
    return json_response(body, 429, (("Retry-After", retry_after),))


def body_too_large() -> ApiResponse:
    return json_response(openai_error("Request body too large.", code="body_too_large"), 413)


def invalid_content_length() -> ApiResponse:
    body = openai_error("Invalid Content-Length header.", code="invalid_content_length")
    return json_response(body, 400)


def fault_response(fault: Fault, cap: int) -> ApiResponse:
    """The answer for an HTTP fault: 429/503/401/500 are the real server's own responses;
    any other status is aiohttp's `"<code>: <reason>"` text."""
    status = fault.status or 500
    if status == 429:
        return too_many_runs(cap, fault.retry_after or "1")
    if status == 503:
        return gateway_draining(fault.retry_after or "1")
    if status == 401:
        return invalid_api_key()
    if status == 500:
        return crash()
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    headers = (("Retry-After", fault.retry_after),) if fault.retry_after else ()
    return text_response(status, f"{status}: {phrase}".encode(), headers)
