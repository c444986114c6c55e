"""`FakeRunsServer`: the public face of the fake Hermes server (the façade, layer 5).

It wires the pieces — the run store and its script book (engine), the app with its faults
and journal (api) — holds the configuration, and opens the ways in: `mock()` (respx,
in-process), `transport()` / `async_transport()` (an httpx transport to inject), and
`serve()` (a real HTTP server on 127.0.0.1). `verify()` and the loopback URL live here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from agentfakes.api import (
    ApiRequest,
    ApiResponse,
    GatewayConfig,
    HermesApp,
    Journal,
    normalise_choice,
)
from agentfakes.clocks import Clock, RealClock
from agentfakes.engine import EngineSettings, InputMatcher, RunRecord, RunStore, RunTiming
from agentfakes.engine.responses import StoredResponse
from agentfakes.engine.sessions import SessionRecord
from agentfakes.engine.turns import TurnRecord
from agentfakes.errors import AgentfakesError, verification_error
from agentfakes.faults import ArmedFault, Fault
from agentfakes.models import APPROVAL_CHOICES
from agentfakes.options import check_option_names, check_server_options
from agentfakes.script import Script
from agentfakes.seeding import new_run_id

if TYPE_CHECKING:
    import os

    import httpx

    from agentfakes.recording.replay import ScenarioPlayer
    from agentfakes.script.scenario import Scenario

DEFAULT_API_KEY = "sk-test-0123456789abcdef"
DEFAULT_BASE_URL = "http://hermes.test"


class RunsView(Mapping[str, RunRecord]):
    """`server.runs`: every run the server created, by id, in creation order."""

    def __init__(self, engine: RunStore) -> None:
        self._engine = engine

    def __getitem__(self, run_id: str) -> RunRecord:
        with self._engine.lock:
            self._engine.tick()
            try:
                return self._engine.history[run_id]
            except KeyError:
                known = ", ".join(self._engine.history) or "none"
                raise KeyError(f"no run {run_id!r} was created (runs: {known})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._engine.history))

    def __len__(self) -> int:
        return len(self._engine.history)

    @property
    def last(self) -> RunRecord:
        """The most recently created run."""
        if not self._engine.history:
            raise LookupError("the app has not created any run yet")
        return self[next(reversed(self._engine.history))]


class FakeRunsServer:
    """A fake Hermes Agent Runs API server driven by `Script`s.

    >>> server = FakeRunsServer()
    >>> server.script(Script().delta("Hel").delta("lo").complete(output="Hello"))
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> FakeRunsServer:
        # before __init__'s own TypeError: a misspelt option gets the nearest valid name
        check_option_names(cls.__init__, kwargs, "FakeRunsServer")
        return super().__new__(cls)

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        base_url: str = DEFAULT_BASE_URL,
        *,
        clock: Clock | None = None,
        model_name: str = "hermes-agent",
        max_concurrent_runs: int = 10,
        approval_timeout: float = 60.0,
        stop_latency: float = 0.05,
        approval_stop_latency: float = 1.0,
        keepalive: float = 30.0,
        run_ids: Callable[[], str] | None = None,
        strict: bool = True,
        api_max_retries: int = 3,
        llm_model: str = "fake-model",
    ) -> None:
        check_server_options(locals())  # a bad option fails here, named, not in a request
        self.base_url = base_url.rstrip("/")
        self.clock = clock or RealClock()
        self.strict = strict
        self.config = GatewayConfig(api_key=api_key, model_name=model_name)
        self.engine = RunStore(
            self.clock,
            EngineSettings(
                model_name=model_name,
                max_concurrent_runs=max(0, max_concurrent_runs),
                keepalive=keepalive,
                api_max_retries=api_max_retries,
                llm_model=llm_model,
            ),
            RunTiming(
                approval_timeout=approval_timeout,
                stop_latency=stop_latency,
                approval_stop_latency=approval_stop_latency,
            ),
            run_ids=run_ids or new_run_id,
        )
        self.router = self.engine.book
        self.app = HermesApp(self.engine, self.config)
        self.requests: Journal = self.app.journal
        self.runs = RunsView(self.engine)
        self.errors: list[AgentfakesError] = self.app.errors
        self.faults = self.app.faults
        self.loopback_url: str | None = None  # set while serve() is running
        self.scenarios: list[ScenarioPlayer] = []  # load_scenario(): replayed first

    def __repr__(self) -> str:
        return (
            f"<FakeRunsServer {self.base_url} runs={len(self.runs)} requests={len(self.requests)}>"
        )

    @property
    def api_key(self) -> str:
        return self.config.api_key

    @property
    def draining(self) -> bool:
        return self.config.draining

    @property
    def store(self) -> RunStore:
        """The run store (the engine): every run, its script book, the concurrency cap."""
        return self.engine

    @property
    def responses(self) -> Mapping[str, StoredResponse]:
        """Stored `/v1/responses` objects by id (least recently used first), each with the
        history a chained request starts from (beyond-runs §5.5)."""
        return self.engine.responses.entries

    @property
    def sessions(self) -> Mapping[str, SessionRecord]:
        """The fake's state.db: sessions by id, each with `.messages` as stored (§6)."""
        return self.engine.sessions.sessions

    @property
    def turns(self) -> list[TurnRecord]:
        """Every chat, responses and session-chat turn, in order; they are not runs."""
        with self.engine.lock:
            return list(self.engine.turns.values())

    @property
    def url(self) -> str:
        """Where an app should point: the loopback URL while serving, else `base_url`."""
        return self.loopback_url or self.base_url

    # ------------------------------------------------------------ scripting

    def script(self, script: Script, *, surface: str | None = None) -> FakeRunsServer:
        """The default script: drives every run no rule or queued script claims.

        `surface` ("runs", "chat", "responses", "sessions") makes it the default of that
        surface only; None (the default) means any surface.
        """
        self.router.set_default(script, surface)
        return self

    def on_input(
        self,
        match: InputMatcher,
        script: Script,
        *,
        times: int | None = None,
        surface: str | None = None,
    ) -> FakeRunsServer:
        """Drive turns whose input contains `match` (a str), matches it (a compiled regex),
        or satisfies it (a callable on the input text). `times` limits how often. The input
        is a run's `input`, a response's `input`, or the last message of a chat or session
        chat; `surface` limits the rule to one surface (None: any)."""
        if isinstance(match, str) and match.startswith("re:"):
            match = re.compile(match[3:])
        self.router.add_rule(match, script, times, surface)
        return self

    def queue(self, *scripts: Script, surface: str | None = None) -> FakeRunsServer:
        """Scripts for the next turns, first in first out (`surface`: only that surface's)."""
        self.router.enqueue(*scripts, surface=surface)
        return self

    def load_scenario(
        self, scenario: Scenario | str | os.PathLike[str], *, fail_unmatched: bool = False
    ) -> ScenarioPlayer:
        """Replay a scenario file (or a `Scenario`): a run whose input equals a recorded
        run's is driven by that run's script, before any `on_input` rule, queue or default.
        `verify()` then reports recorded runs never replayed and approval choices that
        differ from the recording without a branch. `fail_unmatched`: a run matching no
        recorded input fails with a text naming the input and the file."""
        from agentfakes.recording.replay import ScenarioPlayer

        player = ScenarioPlayer.of(scenario, fail_unmatched=fail_unmatched)
        self.router.sources.append(player)
        self.scenarios.append(player)
        return player

    # ------------------------------------------------------------ test-side control

    def approve(self, run_id: str, choice: str = "once", *, all: bool = False) -> int:
        """Resolve a pending approval from the test side, as if an operator answered."""
        normalised = normalise_choice(choice)
        with self.engine.lock:
            record = self.runs[run_id]
            if normalised not in APPROVAL_CHOICES:
                raise ValueError(
                    f"approval choice {choice!r} is not one of once, session, always, deny "
                    "(or approve/approved/allow for once)"
                )
            resolved = self.engine.approve(record, normalised, resolve_all=all)
        if not resolved:
            raise AgentfakesError(
                f"run {run_id} has no pending approval (status {record.status.value})"
            )
        return resolved

    def stop(self, run_id: str) -> None:
        """Stop a run from the test side, as a second client would."""
        with self.engine.lock:
            if self.engine.stop(run_id) is None:
                raise AgentfakesError(f"run {run_id} is finished or unknown; nothing to stop")

    def fault(
        self,
        fault: Fault,
        *,
        on: str | tuple[str, ...] | list[str] = "any",
        run_id: str | None = None,
        nth: int | None = None,
        times: int | None = 1,
        probability: float | None = None,
        seed: int | None = None,
        optional: bool = False,
    ) -> ArmedFault:
        """Arm `fault` for matching requests: endpoint (`on`), run, the `nth` match, how
        many `times` (None: always), or a seeded `probability`. Strict: a fault that never
        fires fails `verify()` unless `optional=True`."""
        return self.faults.arm(
            fault,
            on=on,
            run_id=run_id,
            nth=nth,
            times=times,
            probability=probability,
            seed=seed,
            optional=optional,
        )

    def chaos(self, rate: float, *, seed: int, faults: list[Fault] | None = None) -> None:
        """Inject random faults into `rate` of all requests, reproducibly from `seed`."""
        self.faults.chaos(rate, seed=seed, faults=faults)

    def drain(self, draining: bool = True) -> None:
        """Put the gateway in draining mode: new runs get 503 `gateway_draining` (§6.5)."""
        self.config.draining = draining

    # ------------------------------------------------------------ requests

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one request as the app does (see `HermesApp.handle`)."""
        return self.app.handle(request)

    def problems(self, *, skip: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, str]]:
        """What `verify()` would report, as `(check, text)` pairs; `skip` names checks
        ("scripts", "faults", "approvals", "scenario_runs") to leave out. Runs no script
        could drive are always reported."""
        problems = [("no_script", str(e)) for e in self.errors]
        if self.strict and "scripts" not in skip:
            problems += [
                ("scripts", f"registered but never used: {item}") for item in self.router.unused()
            ]
        if "faults" not in skip:
            hint = "(arm it with optional=True if it may not)"
            problems += [
                ("faults", f"fault armed but never fired: {item} {hint}")
                for item in self.faults.unfired()
            ]
        for player in self.scenarios:
            with self.engine.lock:
                self.engine.tick()
                records = list(self.engine.history.values())
            problems += [p for p in player.problems(records) if p[0] not in skip]
        if self.strict and "approvals" not in skip:
            with self.engine.lock:
                self.engine.tick()
                waiting = [r for r in self.engine.history.values() if r.pending_approvals]
            problems += [
                (
                    "approvals",
                    f"run {r.run_id} still waits for an approval nobody answered "
                    f"({r.pending_approvals[0].step.command!r}); answer it, stop the run, or "
                    "let the timeout pass",
                )
                for r in waiting
            ]
        return problems

    def verify(self, *, skip: frozenset[str] | set[str] = frozenset()) -> None:
        """Fail loudly, in one message, about scripts never used, faults never fired, runs
        left waiting for an approval, and runs no script could drive (a VerificationError;
        the subclass of the kind when there is one kind)."""
        problems = self.problems(skip=skip)
        if problems:
            raise verification_error(problems, "FakeRunsServer:")

    # ------------------------------------------------------------ the ways in

    def mock(
        self, *, pass_through: tuple[str, ...] | list[str] = (), verify: bool = True
    ) -> AbstractContextManager[FakeRunsServer]:
        """Serve httpx clients aimed at `base_url` in-process (respx); refuse other hosts."""
        return self._mocked(tuple(pass_through), verify)

    @contextmanager
    def _mocked(self, pass_through: tuple[str, ...], verify: bool) -> Iterator[FakeRunsServer]:
        from agentfakes.transports.respx_mock import mock_app

        with mock_app(self.app, self.clock, self.base_url, pass_through=pass_through):
            yield self
        if verify:
            self.verify()

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport for `httpx.Client(transport=...)`: no sockets, no patching."""
        from agentfakes.transports.httpx_client import FakeTransport

        return FakeTransport(self.app, self.clock)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport for `httpx.AsyncClient(transport=...)`."""
        from agentfakes.transports.httpx_client import AsyncFakeTransport

        return AsyncFakeTransport(self.app, self.clock)

    def serve(self, *, port: int = 0, verify: bool = True) -> LoopbackServer:
        """A real HTTP/1.1 server on 127.0.0.1 (a free port by default); use as a context
        manager, which yields the base URL."""
        return LoopbackServer(self, port=port, verify=verify)

    # ------------------------------------------------------------ convenience

    def wire(self, run_id: str) -> dict[str, Any]:
        """The run object as a GET would return it now."""
        with self.engine.lock:
            return self.runs[run_id].to_wire()


class LoopbackServer:
    """`server.serve()`: the app on 127.0.0.1 for any client; `with ... as url:`.

    The façade's part of serving: the URL tests point at while it runs, open streams closed
    before shutdown, and `verify()` on a clean exit."""

    def __init__(self, server: FakeRunsServer, *, port: int = 0, verify: bool = True) -> None:
        from agentfakes.transports.asgi import HermesAsgi
        from agentfakes.transports.loopback import LoopbackServer as LoopbackRunner

        self.server = server
        self.verify = verify
        self.asgi: HermesAsgi = HermesAsgi(server.app, server.clock, server.engine.signal)
        self.runner: LoopbackRunner = LoopbackRunner(self.asgi, port=port)
        self.host, self.port, self.url = self.runner.host, self.runner.port, self.runner.url

    def start(self) -> str:
        """Start serving in a background thread; the socket already accepts connections."""
        self.runner.start()
        self.server.loopback_url = self.url
        return self.url

    def stop(self) -> None:
        """Close open streams, stop uvicorn and join its thread."""
        self.asgi.close_streams()
        self.server.loopback_url = None
        self.runner.stop()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None and self.verify:
            self.server.verify()

    def __repr__(self) -> str:
        return f"<LoopbackServer {self.url}>"
