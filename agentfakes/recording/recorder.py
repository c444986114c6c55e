"""`Recorder`: forwards an app's Runs traffic to a real Hermes server and writes down what
happened, as Scripts (issue 9, "The recorder holds the stream").

It answers the app the way the fake does (`handle(ApiRequest) -> ApiResponse`), so the
same in-process httpx transport and loopback runner carry it. The app authenticates with
the fake's key; the recorder sends the real key upstream instead, so no real key is ever
in test config, and no header is ever written down. Right after a run is created the
recorder subscribes to its events itself and keeps them (`RunTape`), timed on an
unpatched monotonic clock; the app's own subscription is served from what it holds, byte
for byte, so an app that only polls still records a complete run. A second subscription
goes upstream and gets the real server's 404.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from freezegun.api import real_monotonic

from agentfakes.api import ApiRequest, ApiResponse
from agentfakes.engine.script_book import input_text
from agentfakes.models.sse import SseParser
from agentfakes.recording.tape import RunTape, tape_to_run
from agentfakes.recording.turns import TurnTape, turn_input, turn_surface, turn_to_run
from agentfakes.script.scenario import RecordedBy, Scenario, ScenarioRun, now_iso

__all__ = ["LocalRuns", "Recorder"]

# The real monotonic clock whatever patches time (freezegun keeps the original; a
# VirtualClock in the same process reads it too): recorded timings are real seconds.
_monotonic: Callable[[], float] = real_monotonic
_RUN_PATH = re.compile(r"^(?:/p/[^/]+)?/v1/runs/(run_[A-Za-z0-9]+)(/events|/approval|/stop)?/?$")
_CREATE_PATH = re.compile(r"^(?:/p/[^/]+)?/v1/runs/?$")
_REQUEST_HOP = {"host", "content-length", "transfer-encoding", "connection", "accept-encoding"}
_RESPONSE_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding"}
SCRUBBED = "<scrubbed>"


class LocalRuns:
    """For `new_episodes`: runs a stored scenario can drive are answered locally (by the
    fake, through `handle`), the rest go upstream. `claims(text, surface)` says which."""

    def __init__(
        self, handle: Callable[[ApiRequest], ApiResponse], claims: Callable[..., bool]
    ) -> None:
        self.handle = handle
        self.claims = claims
        self.run_ids: set[str] = set()


@dataclass
class Recorder:
    """The app's side: `handle`; the test's side: `scenario()` once the app is done."""

    upstream: str
    api_key: str  # the real server's key: sent upstream, never stored
    app_key: str | None = None  # the key the app sends (the fake's): replaced upstream
    scrub: Iterable[str] = ()
    local: LocalRuns | None = None
    timeout: float = 30.0
    tapes: dict[str, RunTape] = field(default_factory=dict)
    server_version: str | None = None

    def __post_init__(self) -> None:
        self.upstream = self.upstream.rstrip("/")
        self._client = httpx.Client(
            base_url=self.upstream,
            timeout=httpx.Timeout(self.timeout, read=None),
            transport=httpx.HTTPTransport(verify=_ssl_context()),
            trust_env=False,  # only the given upstream: no proxy from the environment
        )
        self._lock = threading.Lock()
        self._closed = False
        self._turns = 0  # turns of the other surfaces, numbered for their tapes
        self._patterns = [re.compile(p) for p in self.scrub]

    # ------------------------------------------------------------ the app's requests

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Forward one request (or answer it from a held stream / the local fake)."""
        turn = turn_surface(request.method, request.path)
        if turn is not None:
            return self._turn(request, *turn)
        match = _RUN_PATH.match(request.path)
        run_id, action = (match.group(1), match.group(2)) if match else (None, None)
        if self.local is not None:
            if run_id is not None and run_id in self.local.run_ids:
                return self.local.handle(request)
            if request.method == "POST" and _CREATE_PATH.match(request.path):
                text = _input_of(request.body)
                if text is not None and self.local.claims(text):
                    response = self.local.handle(request)
                    if response.run_id is not None:
                        self.local.run_ids.add(response.run_id)
                    return response
        if request.method == "POST" and _CREATE_PATH.match(request.path):
            return self._create(request)
        tape = self.tapes.get(run_id) if run_id is not None else None
        if tape is not None and action == "/events" and request.method == "GET":
            body = tape.serve()
            if body is not None:  # the first subscriber gets the held stream
                return ApiResponse(tape.status, list(tape.headers), stream=body, run_id=run_id)
        sent_at = _monotonic()
        response = self._forward(request)
        if tape is not None and response.status < 300:
            if action is None and request.method == "GET":
                tape.polls += 1
            elif action == "/approval" and request.method == "POST":
                tape.approved(sent_at, _json(response.body).get("choice"))
            elif action == "/stop" and request.method == "POST":
                tape.stopped(sent_at)
        return response

    def _create(self, request: ApiRequest) -> ApiResponse:
        sent_at = _monotonic()
        response = self._forward(request)
        if response.status != 202:
            return response
        run_id = _json(response.body).get("run_id")
        text = _input_of(request.body)
        if isinstance(run_id, str) and text is not None:
            tape = RunTape(run_id=run_id, input=text, created=sent_at)
            with self._lock:
                self.tapes[run_id] = tape
            threading.Thread(
                target=self._hold, args=(tape,), name=f"agentfakes-hold-{run_id}", daemon=True
            ).start()
            tape.subscribed.wait(timeout=self.timeout)
        response.run_id = run_id if isinstance(run_id, str) else None
        return response

    def _turn(self, request: ApiRequest, surface: str, stream_path: bool) -> ApiResponse:
        """A chat completion, a response or a session chat (issue 10): forwarded, and its
        answer (JSON, or the stream held and served as it arrives) kept as a TurnTape."""
        body = _json(request.body)
        raw = turn_input(surface, body)
        text = input_text(raw) if raw is not None and raw != "" else None
        local = self.local
        if local is not None and text is not None and local.claims(text, surface):
            return local.handle(request)
        streamed = stream_path or body.get("stream") is True
        sent_at = _monotonic()
        with self._lock:
            self._turns += 1
            number = self._turns
        tape = TurnTape(
            run_id=f"{surface}_{number}",
            input=text or "",
            created=sent_at,
            surface=surface,
            streamed=streamed,
            chained=bool(body.get("previous_response_id") or body.get("conversation")),
        )
        if not streamed:
            response = self._forward(request)
            if response.status == 200 and text is not None:
                tape.answered = _monotonic()
                tape.body = _json(response.body)
                tape.done.set()
                tape.settled.set()
                with self._lock:
                    self.tapes[tape.run_id] = tape
            return response
        threading.Thread(
            target=self._hold_turn,
            args=(tape, request),
            name=f"agentfakes-hold-{tape.run_id}",
            daemon=True,
        ).start()
        tape.subscribed.wait(timeout=self.timeout)
        if tape.status == 200 and text is not None:
            with self._lock:
                self.tapes[tape.run_id] = tape
        held = tape.serve()
        if held is None:  # the upstream never answered
            return ApiResponse(
                502,
                [("content-type", "text/plain; charset=utf-8")],
                f"agentfakes recorder: no answer from {self.upstream}: {tape.error}".encode(),
            )
        return ApiResponse(tape.status, list(tape.headers), stream=held)

    def _hold_turn(self, tape: TurnTape, request: ApiRequest) -> None:
        """Forward a streaming turn and read its answer to the end (in a thread)."""
        headers = self._upstream_headers(request)
        url = request.path + (f"?{request.query}" if request.query else "")
        try:
            with self._client.stream(
                request.method, url, headers=headers, content=request.body
            ) as r:
                tape.opened(r.status_code, _response_headers(r.headers))
                parser = SseParser()
                for chunk in r.iter_raw():
                    now = _monotonic()
                    frames = [
                        (f.event, _frame_data(f.data))
                        for f in parser.feed(chunk)
                        if f.data is not None
                    ]
                    tape.add_frames(now, chunk, frames)
                    if self._closed:
                        break
        except httpx.HTTPError as exc:
            tape.broken(f"{type(exc).__name__}: {exc}")
        finally:
            tape.finish()
            tape.settled.set()

    def _upstream_headers(self, request: ApiRequest) -> dict[str, str]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _REQUEST_HOP}
        auth = headers.get("authorization")
        if auth is not None and (self.app_key is None or auth.strip() == f"Bearer {self.app_key}"):
            headers["authorization"] = f"Bearer {self.api_key}"
        return headers

    def _forward(self, request: ApiRequest) -> ApiResponse:
        headers = self._upstream_headers(request)
        url = request.path + (f"?{request.query}" if request.query else "")
        upstream = self._client.request(request.method, url, headers=headers, content=request.body)
        return ApiResponse(
            upstream.status_code, _response_headers(upstream.headers), body=upstream.content
        )

    # ------------------------------------------------------------ holding a stream

    def _hold(self, tape: RunTape) -> None:
        """Read the run's stream to its end (in a thread), then fetch the final object."""
        headers = {"authorization": f"Bearer {self.api_key}"}
        try:
            with self._client.stream("GET", f"/v1/runs/{tape.run_id}/events", headers=headers) as r:
                tape.opened(r.status_code, _response_headers(r.headers))
                parser = SseParser()
                for chunk in r.iter_raw():
                    now = _monotonic()
                    frames = [f.data for f in parser.feed(chunk) if f.data is not None]
                    tape.add(now, chunk, [_json(data.encode()) for data in frames])
                    if self._closed:
                        break
        except httpx.HTTPError as exc:
            tape.broken(f"{type(exc).__name__}: {exc}")
        finally:
            tape.finish()
        try:
            if not self._closed:
                final = self._client.get(f"/v1/runs/{tape.run_id}", headers=headers)
                if final.status_code == 200:
                    tape.final = final.json()
        except (httpx.HTTPError, RuntimeError):  # closed meanwhile
            pass
        finally:
            tape.settled.set()

    # ------------------------------------------------------------ the end

    def probe_version(self) -> str | None:
        """`GET /health` (no auth): "hermes-agent 0.19.0", or None if it does not say."""
        try:
            health = self._client.get("/health").json()
        except (httpx.HTTPError, ValueError):
            return None
        if isinstance(health, dict) and health.get("version"):
            self.server_version = f"{health.get('platform', 'hermes-agent')} {health['version']}"
        return self.server_version

    def wait(self, timeout: float = 10.0) -> None:
        """Give each held stream up to `timeout` s to end (a run the app left running is
        written as far as it went)."""
        deadline = _monotonic() + timeout
        for tape in list(self.tapes.values()):
            tape.settled.wait(max(0.0, deadline - _monotonic()))

    def runs(self) -> list[ScenarioRun]:
        """Every recorded run (and turn of another surface), in creation order, scrubbed."""
        seen: set[str] = set()  # response call ids: a chained response repeats them
        return [
            self._scrubbed(
                turn_to_run(tape, seen) if isinstance(tape, TurnTape) else tape_to_run(tape)
            )
            for tape in list(self.tapes.values())
        ]

    def scenario(self, stored: Scenario | None = None) -> Scenario:
        """The scenario file's content: `stored`'s runs (new_episodes) then the new ones."""
        recorded = RecordedBy(agentfakes=_version(), server=self.server_version, at=now_iso())
        runs = [*(stored.runs if stored is not None else []), *self.runs()]
        return Scenario(recorded=recorded, runs=runs)

    def close(self) -> None:
        self._closed = True
        for tape in self.tapes.values():
            tape.close_served()
        self._client.close()

    def _scrubbed(self, run: ScenarioRun) -> ScenarioRun:
        secrets = [re.escape(s) for s in (self.api_key,) if s]
        patterns = [*self._patterns, *(re.compile(s) for s in secrets)]
        data = _scrub(run.model_dump(mode="python"), patterns)
        return ScenarioRun.model_validate(data)


_SSL: list[ssl.SSLContext] = []


def _ssl_context() -> ssl.SSLContext:
    """One default SSL context per process: making one costs ~0.4 s (it loads the CAs)."""
    if not _SSL:
        _SSL.append(ssl.create_default_context())
    return _SSL[0]


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("agentfakes")
    except PackageNotFoundError:
        return None


def _scrub(value: Any, patterns: list[re.Pattern[str]]) -> Any:
    if isinstance(value, str):
        for pattern in patterns:
            value = pattern.sub(SCRUBBED, value)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, patterns) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, patterns) for v in value]
    return value


def _response_headers(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.multi_items() if k.lower() not in _RESPONSE_HOP]


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _frame_data(data: str) -> Any:
    """A frame's JSON data, or the text itself (`[DONE]`)."""
    try:
        return json.loads(data)
    except ValueError:
        return data


def _input_of(body: bytes) -> str | None:
    """The user message a create carries, as the fake matches it (spec §2.1)."""
    data = _json(body)
    raw = data.get("input")
    if isinstance(raw, list) and raw and isinstance(raw[-1], dict):
        raw = raw[-1].get("content", "")
    if not raw:
        return None
    return input_text(raw)
