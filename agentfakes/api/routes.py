"""The ONE route table: method, path template, endpoint name, handler (spec §1.1; the real
table is A:1475-1527). The app dispatches with it, faults match on its endpoint names and
the journal records them: nothing else parses a URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from agentfakes.api import catalogue, chat, jobs, probes, responses, runs, session_chat, sessions
from agentfakes.api.config import GatewayConfig
from agentfakes.api.messages import ApiRequest, ApiResponse
from agentfakes.engine import RunStore
from agentfakes.faults import EndpointNames

Handler = Callable[[RunStore, GatewayConfig, ApiRequest, dict[str, str]], ApiResponse]


@dataclass(frozen=True)
class Route:
    """One row of the table; `handler` None is a real route agentfakes does not fake yet."""

    method: str
    template: str
    endpoint: str
    handler: Handler | None
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # aiohttp's `{name}` matches `[^{}/]+`: a segment with a brace is no run id.
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^{}/]+)", self.template)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "probes.health", probes.health),
    Route("GET", "/health/detailed", "probes.health_detailed", probes.health_detailed),
    Route("GET", "/v1/health", "probes.health", probes.health),
    Route("GET", "/v1/models", "probes.models", probes.models),
    Route("GET", "/v1/capabilities", "probes.capabilities", probes.capabilities),
    Route("GET", "/v1/skills", "probes.skills", catalogue.skills),
    Route("GET", "/v1/toolsets", "probes.toolsets", catalogue.toolsets),
    Route("GET", "/api/sessions", "sessions.list", sessions.list_sessions),
    Route("POST", "/api/sessions", "sessions.create", sessions.create_session),
    Route("GET", "/api/sessions/{session_id}", "sessions.get", sessions.get_session),
    Route("PATCH", "/api/sessions/{session_id}", "sessions.update", sessions.patch_session),
    Route("DELETE", "/api/sessions/{session_id}", "sessions.delete", sessions.delete_session),
    Route(
        "GET", "/api/sessions/{session_id}/messages", "sessions.messages", sessions.session_messages
    ),
    Route("POST", "/api/sessions/{session_id}/fork", "sessions.fork", sessions.fork_session),
    Route("POST", "/api/sessions/{session_id}/chat", "sessions.chat", session_chat.session_chat),
    Route(
        "POST",
        "/api/sessions/{session_id}/chat/stream",
        "sessions.chat_stream",
        session_chat.session_chat_stream,
    ),
    Route("POST", "/v1/chat/completions", "chat.completions", chat.chat_completions),
    Route("POST", "/v1/responses", "responses.create", responses.create_response),
    Route("GET", "/v1/responses/{response_id}", "responses.get", responses.get_response),
    Route(
        "DELETE", "/v1/responses/{response_id}", "responses.delete", responses.delete_response
    ),
    Route("POST", "/api/platforms/{platform}/events", "platforms.events", None),
    Route("GET", "/api/jobs", "jobs.list", jobs.list_jobs),
    Route("POST", "/api/jobs", "jobs.create", jobs.create_job),
    Route("GET", "/api/jobs/{job_id}", "jobs.get", jobs.get_job),
    Route("PATCH", "/api/jobs/{job_id}", "jobs.update", jobs.update_job),
    Route("DELETE", "/api/jobs/{job_id}", "jobs.delete", jobs.delete_job),
    Route("POST", "/api/jobs/{job_id}/pause", "jobs.pause", jobs.pause_job),
    Route("POST", "/api/jobs/{job_id}/resume", "jobs.resume", jobs.resume_job),
    Route("POST", "/api/jobs/{job_id}/run", "jobs.run", jobs.run_job),
    Route("POST", "/v1/runs", "runs.create", runs.create_run),
    Route("GET", "/v1/runs/{run_id}", "runs.poll", runs.get_run),
    Route("GET", "/v1/runs/{run_id}/events", "runs.events", runs.run_events),
    Route("POST", "/v1/runs/{run_id}/approval", "runs.approval", runs.approve),
    Route("POST", "/v1/runs/{run_id}/stop", "runs.stop", runs.stop),
    Route("POST", "/api/cron/fire", "cron.fire", None),
)
# Stream faults apply to these; on chat.completions and responses.create only when the
# request asked for a stream (a JSON answer has no frames to fault).
STREAMING_ENDPOINTS = frozenset(
    {"runs.events", "chat.completions", "responses.create", "sessions.chat_stream"}
)
# The 0.1 names stay valid for faults and the journal.
ALIASES: dict[str, tuple[str, ...]] = {
    "create": ("runs.create",),
    "poll": ("runs.poll",),
    "events": ("runs.events",),
    "approval": ("runs.approval",),
    "stop": ("runs.stop",),
    "health": ("probes.health", "probes.health_detailed"),
    "models": ("probes.models",),
    "capabilities": ("probes.capabilities",),
}
ENDPOINTS = EndpointNames(
    names={**{route.endpoint: (route.endpoint,) for route in ROUTES}, **ALIASES},
    streaming=STREAMING_ENDPOINTS,
)
_PROFILE_PREFIX = re.compile(r"^/p/[^{}/]+(?=/)")


@dataclass(frozen=True)
class Resolved:
    """Where a request goes: its route (None: no route for this method) and parameters,
    its endpoint name (the path itself when nothing matched), the methods the path allows."""

    route: Route | None
    params: dict[str, str]
    endpoint: str
    allowed: tuple[str, ...] = ()

    @property
    def run_id(self) -> str | None:
        return self.params.get("run_id")


def resolve(method: str, path: str) -> Resolved:
    """Match `path` (profile prefix ignored: multiplexing is off, spec §1.1) against the table."""
    if path.startswith("/p/"):
        path = _PROFILE_PREFIX.sub("", path, count=1)
    allowed: list[str] = []
    for route in ROUTES:
        match = route.pattern.match(path)
        if match is None:
            continue
        if route.method != method:
            allowed.append(route.method)
            continue
        return Resolved(route, match.groupdict(), route.endpoint)
    return Resolved(None, {}, path, tuple(allowed))
