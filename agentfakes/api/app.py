"""`HermesApp`: how a request becomes a response, whatever carries it.

`handle(ApiRequest) -> ApiResponse` is all a transport sees (seam 2). In the real server's
order: profile prefix, CORS, body limit (spec §1.2), then the route — where an armed fault
may answer instead — then the handler under the store lock, then the security headers on
non-streaming answers. Every request is journalled with its endpoint name.
"""

from __future__ import annotations

from agentfakes.api.auth import auth_error
from agentfakes.api.config import MAX_REQUEST_BYTES, GatewayConfig
from agentfakes.api.errors import (
    SECURITY_HEADERS,
    body_too_large,
    crash,
    empty_response,
    fault_response,
    invalid_content_length,
    json_response,
    method_not_allowed,
    not_found,
    openai_error,
)
from agentfakes.api.journal import Journal
from agentfakes.api.messages import ApiRequest, ApiResponse
from agentfakes.api.routes import ENDPOINTS, Resolved, resolve
from agentfakes.api.runs import HandlerCrash
from agentfakes.api.streaming import RunEventStream
from agentfakes.api.turn_stream import TurnStream
from agentfakes.engine import RunStore
from agentfakes.errors import AgentfakesError, NoScriptError
from agentfakes.faults import FaultPlan, TransportFault


class HermesApp:
    """The fake Hermes API server as a function of requests: store, config, faults, journal."""

    def __init__(self, store: RunStore, config: GatewayConfig) -> None:
        self.store = store
        self.config = config
        if config.started_at is None:
            config.started_at = store.clock.now()
        self.faults = FaultPlan(ENDPOINTS)
        self.journal = Journal()
        self.errors: list[AgentfakesError] = []  # raised into the app; reported at verify()

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one request and journal it. A run with no script raises NoScriptError; an
        armed transport fault raises TransportFault for the transport to act out."""
        resolved = resolve(request.method, request.path)
        fault = self.faults.match(resolved.endpoint, resolved.run_id)
        if fault is not None and fault.kind == "http":
            response = fault_response(fault, self.store.settings.max_concurrent_runs)
            self._journal(request, resolved, response.status, None)
            return response
        if fault is not None and fault.kind == "transport":
            self._journal(request, resolved, 0, None)
            raise TransportFault(fault)
        try:
            response = self._answer(request, resolved)
        except NoScriptError as exc:
            self.errors.append(exc)
            self._journal(request, resolved, 500, None)
            raise
        if fault is not None and isinstance(response.stream, RunEventStream | TurnStream):
            response.stream.fault = fault
        self._journal(request, resolved, response.status, response.run_id)
        return response

    def _answer(self, request: ApiRequest, resolved: Resolved) -> ApiResponse:
        if request.header("origin") or request.method == "OPTIONS":
            # spec §1.2: no origin is allowed by default, so CORS answers a bare 403
            return empty_response(403)
        if request.method in ("POST", "PUT", "PATCH"):
            refused = _body_limit(request)
            if refused is not None:
                return refused
        route = resolved.route
        if route is None:
            return method_not_allowed(list(resolved.allowed)) if resolved.allowed else not_found()
        if route.handler is None:
            message = (
                f"agentfakes does not fake {route.method} {route.template}; "
                "it fakes the Runs API and its probes"
            )
            return json_response(openai_error(message, code="not_faked"), 501)
        if route.auth and (denied := auth_error(self.config, request)) is not None:
            response = denied
        else:
            try:
                with self.store.lock:
                    response = route.handler(self.store, self.config, request, resolved.params)
            except HandlerCrash:
                return crash()
        if response.stream is None:
            response.headers.extend(SECURITY_HEADERS)
        return response

    def _journal(
        self, request: ApiRequest, resolved: Resolved, status: int, run_id: str | None
    ) -> None:
        self.journal.record_raw(
            (
                request.method,
                request.path,
                request.headers,
                request.body,
                status,
                self.store.clock.now(),
                request.query,
                resolved.run_id or run_id,
                resolved.endpoint,
            )
        )


def _body_limit(request: ApiRequest) -> ApiResponse | None:
    """The body-limit middleware: Content-Length over 10,000,000 is 413 (spec §1.2)."""
    length = request.headers.get("content-length")
    if length is None:
        return None
    try:
        too_large = int(length) > MAX_REQUEST_BYTES
    except ValueError:
        return invalid_content_length()
    return body_too_large() if too_large else None
