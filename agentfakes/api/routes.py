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
    """One row of the table; `handler` None is a real route agentfakes does not fake yet.
    `auth`: the bearer key is the route's first check (§1.2), made by the app before the
    handler runs; every route but the plain health probes has it."""

    method: str
    template: str
    endpoint: str
    handler: Handler | None
    auth: bool = True
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # aiohttp's `{name}` matches `[^{}/]+`: a segment with a brace is no run id.
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^{}/]+)", self.template)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "probes.health", probes.health, auth=False),
    Route("GET", "/health/detailed", "probes.health_detailed", probes.health_detailed),
    Route("GET", "/v1/health", "probes.health", probes.health, auth=False),
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
    Route("DELETE", "/v1/responses/{response_id}", "responses.delete", responses.delete_response),
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


@dataclass(frozen=True, slots=True)
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


def _scan(method: str, path: str) -> Resolved:
    """The table read in order: the first route whose pattern and method match; else the
    methods of every route whose pattern matches, in table order (a 405's Allow)."""
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


# The same answers as `_scan`, in one dict lookup or one regex match: the routes grouped by
# template (in table order); exact templates in a dict, the parametrised ones in one
# alternation whose outer group says which template matched. That holds while no path can
# match two templates: checked at import; if a table edit ever breaks it, `resolve` scans.
_Rows = tuple[Route, ...]
_PARAM = re.compile(r"\{(\w+)\}")


def _may_overlap(a: str, b: str) -> bool:
    """Whether one path could match both templates (conservative: True when unsure)."""
    sa, sb = a.split("/"), b.split("/")
    return len(sa) == len(sb) and all(
        x == y or "{" in x or "{" in y for x, y in zip(sa, sb, strict=True)
    )


@dataclass(frozen=True)
class _Dispatch:
    exact: dict[str, _Rows]  # template → its routes
    pattern: re.Pattern[str]  # every parametrised template, one outer group each
    by_group: dict[int, tuple[_Rows, tuple[tuple[str, int], ...]]]  # outer group → routes,
    # and (name, group) of each parameter
    scan: bool  # two templates may match one path: read the table in order instead


def _dispatch() -> _Dispatch:
    by_template: dict[str, list[Route]] = {}
    for route in ROUTES:
        by_template.setdefault(route.template, []).append(route)
    templates = list(by_template)
    scan = any(_may_overlap(a, b) for i, a in enumerate(templates) for b in templates[i + 1 :])
    exact: dict[str, _Rows] = {}
    alternatives: list[str] = []
    by_group: dict[int, tuple[_Rows, tuple[tuple[str, int], ...]]] = {}
    group = 0
    for template, routes in by_template.items():
        if "{" not in template:
            exact[template] = tuple(routes)
            continue
        group += 1
        outer = group
        regex: list[str] = []
        params: list[tuple[str, int]] = []
        for index, piece in enumerate(_PARAM.split(template)):
            if index % 2:  # a parameter's name; aiohttp's `{name}` matches `[^{}/]+`
                group += 1
                params.append((piece, group))
                regex.append("([^{}/]+)")
            else:
                regex.append(re.escape(piece))
        alternatives.append(f"({''.join(regex)})")
        by_group[outer] = (tuple(routes), tuple(params))
    pattern = re.compile(f"^(?:{'|'.join(alternatives)})$")
    return _Dispatch(exact, pattern, by_group, scan)


_DISPATCH = _dispatch()


def resolve(method: str, path: str) -> Resolved:
    """Match `path` (profile prefix ignored: multiplexing is off, spec §1.1) against the table."""
    if path.startswith("/p/"):
        path = _PROFILE_PREFIX.sub("", path, count=1)
    dispatch = _DISPATCH
    if dispatch.scan:
        return _scan(method, path)
    params: dict[str, str] = {}
    rows = dispatch.exact.get(path)
    if rows is None and path.endswith("\n"):
        rows = dispatch.exact.get(path[:-1])  # as in `_scan`: `$` matches before a final \n
    if rows is None:
        match = dispatch.pattern.match(path)
        if match is None:
            return Resolved(None, params, path)
        # the outer group closes last, so it is the last matched group
        rows, names = dispatch.by_group[match.lastindex or 0]
        params = {name: match.group(index) for name, index in names}
    for route in rows:
        if route.method == method:
            return Resolved(route, params, route.endpoint)
    return Resolved(None, {}, path, tuple(route.method for route in rows))
