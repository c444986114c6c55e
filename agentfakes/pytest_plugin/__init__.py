"""The pytest plugin: fixtures over the library, nothing more (entry point `pytest11`).

Every test is seeded from (`--agentfakes-seed`, its node id), so the objects a test builds
do not depend on test order or on which pytest-xdist worker runs it;
`@pytest.mark.agentfakes_seed(n)` pins one test's seed. A failing test's report says which
seed it ran with, how to reproduce it, and what the fake did (runs, journal, faults).

Start-up: this module imports only pytest, the standard library and two small modules
(`agentfakes.options`, `agentfakes.errors`); the fake itself is imported by the fixtures
that use it, so a suite that never uses it pays almost nothing (benchmarks/p5_startup.py).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pytest
from _pytest._code import Traceback

from agentfakes.errors import AgentfakesError, OptionError
from agentfakes.pytest_plugin._schema import (
    CLOCKS,
    INI,
    TRANSPORTS,
    check_ini,
    choice_type,
    misspelt_marker,
)
from agentfakes.pytest_plugin._server import clock_for, options_for, warn_real_waits

if TYPE_CHECKING:
    import httpx

    from agentfakes.agent import FakeAgent
    from agentfakes.clocks import VirtualClock
    from agentfakes.factories import (
        MessageFactory,
        ResultFactory,
        RunEventFactory,
        RunFactory,
        RunUsageFactory,
        ToolCallFactory,
    )
    from agentfakes.server import FakeRunsServer

DEFAULT_SEED = 20_240_601  # agentfakes.seeding.DEFAULT_SEED (a test keeps them equal)

_SEED_HINT = pytest.StashKey[str]()
_SERVER = pytest.StashKey["FakeRunsServer"]()
_CALL_FAILED = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the `--agentfakes-*` flags and the `agentfakes_*` ini values."""
    group = parser.getgroup("agentfakes")
    group.addoption(
        "--agentfakes-seed",
        type=int,
        default=DEFAULT_SEED,
        dest="agentfakes_seed",
        metavar="N",
        help="base seed for agentfakes factories; each test gets a seed derived from N and "
        "its node id (default: %(default)s)",
    )
    group.addoption(
        "--agentfakes-transport",
        type=choice_type("--agentfakes-transport", TRANSPORTS),
        default=None,
        dest="agentfakes_transport",
        metavar="mock|loopback",
        help="how the fake_runs_server fixture serves the app: in-process via respx (mock, "
        "the default) or a real HTTP server on 127.0.0.1 (loopback)",
    )
    group.addoption(
        "--agentfakes-clock",
        type=choice_type("--agentfakes-clock", CLOCKS),
        default=None,
        dest="agentfakes_clock",
        metavar="virtual|real",
        help="the clock fake_runs_server runs on: virtual time (the default; scripted waits "
        "and timeouts cost no real time) or the real clock",
    )
    group.addoption(
        "--agentfakes-coverage",
        action="store_true",
        default=False,
        dest="agentfakes_coverage",
        help="at the end, report which server behaviours the suite exercised and which it "
        "never did",
    )
    group.addoption(
        "--agentfakes-coverage-json",
        default=None,
        dest="agentfakes_coverage_json",
        metavar="PATH",
        help="write the behaviour coverage report as JSON to PATH (implies collecting it)",
    )
    for name, (choices, default) in INI.items():
        parser.addini(name, f"{'|'.join(choices)} (default {default})", default="")
    from agentfakes.recording.options import add_options  # light: pytest and stdlib only

    add_options(group, parser, ini_mode=False)  # --agentfakes-record-mode and friends


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers (so `--strict-markers` accepts them); check the ini values."""
    config.addinivalue_line(
        "markers", "agentfakes_seed(n): seed agentfakes' factories with exactly n for this test"
    )
    config.addinivalue_line(
        "markers",
        "agentfakes(transport='mock'|'loopback', clock='virtual'|'real', strict=True, "
        "checks={name: False}, **server_options): configure the fake_runs_server fixture "
        "for this test (other keys go to FakeRunsServer)",
    )
    try:
        check_ini(config.getini, _unknown_ini_keys(config))
    except OptionError as error:
        raise pytest.UsageError(f"agentfakes: {error}") from None
    if config.getoption("agentfakes_coverage") or config.getoption("agentfakes_coverage_json"):
        from agentfakes.pytest_plugin._coverage import CoveragePlugin

        config.pluginmanager.register(CoveragePlugin(config), "agentfakes-coverage")


def _unknown_ini_keys(config: pytest.Config) -> set[str]:
    """The ini keys no plugin registered (pytest's own check, which only warns)."""
    unknown = getattr(config, "_get_unknown_ini_keys", None)
    return set(unknown()) if callable(unknown) else set()


def pytest_report_header(config: pytest.Config) -> str:
    """Show the base seed at the top of the run, as pytest-randomly does."""
    return f"agentfakes: --agentfakes-seed={config.getoption('agentfakes_seed')}"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A misspelt agentfakes marker (`@pytest.mark.agentfake`) fails instead of being
    silently ignored."""
    if not item.own_markers:
        return
    registered = {
        line.split("(")[0].split(":")[0].strip() for line in item.config.getini("markers")
    }
    for mark in item.iter_markers():
        hint = misspelt_marker(mark.name, registered)
        if hint:
            pytest.fail(
                f"unknown marker @pytest.mark.{mark.name}{hint}; agentfakes ignores it as "
                "written (run with --strict-markers to catch every unknown marker)",
                pytrace=False,
            )


@pytest.fixture(autouse=True)
def agentfakes_seed(request: pytest.FixtureRequest) -> int:
    """Seed the factories for this test (and return the seed), whatever the test order."""
    from agentfakes import seeding

    base: int = request.config.getoption("agentfakes_seed")
    nodeid = request.node.nodeid
    marker = request.node.get_closest_marker("agentfakes_seed")
    if marker is None:
        n = seeding.derive_seed(base, nodeid)
        derived_from: int | None = base
    else:
        if len(marker.args) != 1 or marker.kwargs:
            raise TypeError(
                f"@pytest.mark.agentfakes_seed takes one int, e.g. (42); {nodeid} has {marker}"
            )
        n, derived_from = marker.args[0], None
    seeding.seed(n)
    request.node.user_properties.append(("agentfakes_seed", n))
    request.node.stash[_SEED_HINT] = seeding.reproduce_hint(
        seed_used=n, base=derived_from, nodeid=nodeid
    )
    return n


# Frames of these packages are plumbing between the test and the fake's message: a
# NoScriptError raised through respx and httpx shows only the test's (and the app's) lines.
_PLUMBING = (
    "agentfakes",
    "httpx",
    "httpcore",
    "respx",
    "anyio",
    "h11",
    "pluggy",
    "_pytest",
    "contextlib",
)


def _is_plumbing(tb: TracebackType) -> bool:
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module.split(".")[0] in _PLUMBING


def _drop_plumbing(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Relink the raw traceback past plumbing frames (pytest rebuilds entries from it)."""
    frames: list[TracebackType] = []
    tb: TracebackType | None = excinfo.tb
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    kept = [frames[0], *(tb for tb in frames[1:] if not _is_plumbing(tb))]
    for here, after in zip(kept, [*kept[1:], None], strict=True):
        here.tb_next = after
    excinfo.traceback = Traceback(kept[0])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test's report gets an "agentfakes" section (seed, runs, journal, faults);
    an error of the fake's own shows its message, not a transport traceback."""
    excinfo = call.excinfo
    if excinfo is not None and excinfo.errisinstance(AgentfakesError):
        error = excinfo.value
        chained = error.__cause__ or error.__context__
        if chained is not None and type(chained).__module__.split(".")[0] in _PLUMBING:
            error.__suppress_context__, error.__cause__ = True, None  # respx's wrapper
        _drop_plumbing(excinfo)
    report = yield
    if excinfo is not None and call.when == "teardown" and excinfo.errisinstance(AgentfakesError):
        # the fixture's own checks: nothing but pytest and the plugin on the stack
        error = excinfo.value
        report.longrepr = f"{type(error).__module__}.{type(error).__name__}: {error}"
    if report.failed:
        section = [item.stash.get(_SEED_HINT, "")]
        server = item.stash.get(_SERVER, None)
        if server is not None:
            from agentfakes.pytest_plugin._report import render

            try:
                section.append(render(server))
            except Exception as error:  # the report must never hide the failure itself
                section.append(f"(agentfakes could not render its report: {error!r})")
        text = "\n".join(part for part in section if part)
        if text:
            report.sections.append(("agentfakes", text))
    return report


@pytest.fixture
def run_factory() -> type[RunFactory]:
    """`RunFactory`: Runs in any status (`run_factory.failed()`)."""
    from agentfakes.factories import RunFactory

    return RunFactory


@pytest.fixture
def run_usage_factory() -> type[RunUsageFactory]:
    """`RunUsageFactory`: token counters of a completed run."""
    from agentfakes.factories import RunUsageFactory

    return RunUsageFactory


@pytest.fixture
def event_factory() -> type[RunEventFactory]:
    """`RunEventFactory`: single events and whole event sequences of a run."""
    from agentfakes.factories import RunEventFactory

    return RunEventFactory


@pytest.fixture
def result_factory() -> type[ResultFactory]:
    """`ResultFactory`: agent Results for every stop_reason."""
    from agentfakes.factories import ResultFactory

    return ResultFactory


@pytest.fixture
def tool_call_factory() -> type[ToolCallFactory]:
    """`ToolCallFactory`: tool calls with plausible arguments and results."""
    from agentfakes.factories import ToolCallFactory

    return ToolCallFactory


@pytest.fixture
def message_factory() -> type[MessageFactory]:
    """`MessageFactory`: conversation messages by role."""
    from agentfakes.factories import MessageFactory

    return MessageFactory


# ---------------------------------------------------------------- the fake server


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Remember whether the test body failed, so teardown checks do not pile onto it."""
    try:
        return (yield)
    except BaseException:
        item.stash[_CALL_FAILED] = True
        raise


@pytest.fixture
def fake_runs_server(request: pytest.FixtureRequest) -> Iterator[FakeRunsServer]:
    """A strict FakeRunsServer on virtual time, already serving: in-process (httpx to
    `server.url`, via respx) or, with `--agentfakes-transport=loopback` or
    `@pytest.mark.agentfakes(transport="loopback")`, on 127.0.0.1 at `server.url`.
    Teardown checks (unused scripts, unfired faults, pending approvals) fail the test."""
    __tracebackhide__ = True
    from agentfakes.errors import verification_error
    from agentfakes.server import FakeRunsServer

    options = options_for(request)
    scenario = None
    if options.scenario is not None:  # replay or record a scenario file (issue 9)
        from agentfakes.recording.pytest_support import ScenarioFixture

        scenario = ScenarioFixture.for_test(request, options.scenario)
    clock = (scenario.clock if scenario is not None else None) or clock_for(request, options)
    try:
        server = FakeRunsServer(clock=clock, **options.server)
    except OptionError as error:
        failure = f"{request.node.nodeid}: @pytest.mark.agentfakes: {error}"
    else:
        failure = ""
    if failure:
        pytest.fail(failure, pytrace=False)
    request.node.stash[_SERVER] = server
    loopback = options.transport == "loopback"
    if scenario is not None:
        ways_in: Any = scenario.ways_in(server, loopback)
    else:
        ways_in = server.serve(verify=False) if loopback else server.mock(verify=False)
    with ways_in:
        yield server
    if scenario is not None:
        scenario.finish(server, failed=request.node.stash.get(_CALL_FAILED, False))
        options.skip |= scenario.skip
    if server.clock.is_real:
        warn_real_waits(request, server)
    coverage = request.config.pluginmanager.get_plugin("agentfakes-coverage")
    if coverage is not None:
        coverage.observe(server)
    if not request.node.stash.get(_CALL_FAILED, False):
        problems = server.problems(skip=options.skip)
        if problems:
            raise verification_error(problems, f"fake_runs_server ({request.node.nodeid}):")


@pytest.fixture
def fake_runs_client(fake_runs_server: FakeRunsServer) -> Iterator[httpx.Client]:
    """An `httpx.Client` for `fake_runs_server`: `base_url` and the bearer key set; closed
    at teardown."""
    import httpx

    headers = {"Authorization": f"Bearer {fake_runs_server.api_key}"}
    with httpx.Client(base_url=fake_runs_server.url, headers=headers) as client:
        yield client


@pytest.fixture
def async_fake_runs_client(fake_runs_server: FakeRunsServer) -> Iterator[httpx.AsyncClient]:
    """An `httpx.AsyncClient` for `fake_runs_server` (base_url, bearer key), closed at
    teardown. A plain fixture, so it works under pytest-asyncio (strict or auto) and anyio
    alike: it keeps no connection open between requests, so no event loop owns it."""
    import asyncio

    import httpx

    headers = {"Authorization": f"Bearer {fake_runs_server.api_key}"}
    client = httpx.AsyncClient(
        base_url=fake_runs_server.url,
        headers=headers,
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    yield client
    if not client.is_closed:
        asyncio.run(client.aclose())


@pytest.fixture
def virtual_clock(request: pytest.FixtureRequest) -> Iterator[VirtualClock]:
    """Virtual time for this test: `time.sleep`, `asyncio.sleep`, `time.time()`,
    `datetime.now()` follow it; `fake_runs_server` runs on it (its default clock)."""
    from agentfakes.clocks import VirtualClock

    class FixtureClock(VirtualClock):
        def __repr__(self) -> str:
            return (
                f"{super().__repr__()[:-1]}, the virtual_clock fixture's (fake_runs_server "
                "runs on it): request the virtual_clock fixture instead of starting another "
                "clock, or mark the test @pytest.mark.agentfakes(clock='real')>"
            )

    # Over loopback a sync client blocks in the kernel, where the clock cannot see it: a
    # jump gives such plain threads `grace` real seconds to act first, and 2 ms loses that
    # race on a loaded machine. (Async clients' loops are tracked; they need no grace.)
    loopback = options_for(request).transport == "loopback"
    with FixtureClock(grace=LOOPBACK_GRACE if loopback else 0.002) as clock:
        yield clock


LOOPBACK_GRACE = 0.05


@pytest.fixture
def fake_agent() -> type[FakeAgent]:
    """`FakeAgent`: build one per test with the turns its model should take."""
    from agentfakes.agent import FakeAgent

    return FakeAgent
