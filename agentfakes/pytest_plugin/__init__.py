"""The pytest plugin: fixtures over the library, nothing more (entry point `pytest11`).

Every test is seeded from (`--agentfakes-seed`, its node id), so the objects a test builds
do not depend on test order or on which pytest-xdist worker runs it;
`@pytest.mark.agentfakes_seed(n)` pins one test's seed. A failing test's report says which
seed it ran with and how to reproduce it.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from agentfakes import seeding
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

_SEED_HINT = pytest.StashKey[str]()
TRANSPORTS = ("mock", "loopback")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register `--agentfakes-seed`, the base every test's seed is derived from."""
    group = parser.getgroup("agentfakes")
    group.addoption(
        "--agentfakes-seed",
        type=int,
        default=seeding.DEFAULT_SEED,
        dest="agentfakes_seed",
        metavar="N",
        help="base seed for agentfakes factories; each test gets a seed derived from N and "
        "its node id (default: %(default)s)",
    )
    group.addoption(
        "--agentfakes-transport",
        choices=TRANSPORTS,
        default="mock",
        dest="agentfakes_transport",
        help="how the fake_runs_server fixture serves the app: in-process via respx (mock, "
        "the default) or a real HTTP server on 127.0.0.1 (loopback)",
    )
    from agentfakes.recording.options import add_options

    add_options(group, parser)  # --agentfakes-record-mode and friends (issue 9)


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker so `--strict-markers` accepts it."""
    config.addinivalue_line(
        "markers", "agentfakes_seed(n): seed agentfakes' factories with exactly n for this test"
    )
    config.addinivalue_line(
        "markers",
        "agentfakes(transport='mock'|'loopback', **server_options): configure the "
        "fake_runs_server fixture for this test (options go to FakeRunsServer)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    """Show the base seed at the top of the run, as pytest-randomly does."""
    return f"agentfakes: --agentfakes-seed={config.getoption('agentfakes_seed')}"


@pytest.fixture(autouse=True)
def agentfakes_seed(request: pytest.FixtureRequest) -> int:
    """Seed the factories for this test (and return the seed), whatever the test order."""
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add the seed and a reproduce command to a failing test's report."""
    report = yield
    hint = item.stash.get(_SEED_HINT, None)
    if report.failed and hint is not None:
        report.sections.append(("agentfakes", hint))
    return report


@pytest.fixture
def run_factory() -> type[RunFactory]:
    """`RunFactory`: Runs in any status (`run_factory.failed()`)."""
    return RunFactory


@pytest.fixture
def run_usage_factory() -> type[RunUsageFactory]:
    """`RunUsageFactory`: token counters of a completed run."""
    return RunUsageFactory


@pytest.fixture
def event_factory() -> type[RunEventFactory]:
    """`RunEventFactory`: single events and whole event sequences of a run."""
    return RunEventFactory


@pytest.fixture
def result_factory() -> type[ResultFactory]:
    """`ResultFactory`: agent Results for every stop_reason."""
    return ResultFactory


@pytest.fixture
def tool_call_factory() -> type[ToolCallFactory]:
    """`ToolCallFactory`: tool calls with plausible arguments and results."""
    return ToolCallFactory


@pytest.fixture
def message_factory() -> type[MessageFactory]:
    """`MessageFactory`: conversation messages by role."""
    return MessageFactory


# ---------------------------------------------------------------- the fake server

_CALL_FAILED = pytest.StashKey[bool]()


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
    """A strict FakeRunsServer, already serving: in-process (httpx to `server.url`, via
    respx) or, with `--agentfakes-transport=loopback` or
    `@pytest.mark.agentfakes(transport="loopback")`, on 127.0.0.1 at `server.url`.
    Other marker keywords go to `FakeRunsServer(...)`. Unused scripts and faults that
    never fired fail the test at teardown."""
    marker = request.node.get_closest_marker("agentfakes")
    options = dict(marker.kwargs) if marker else {}
    scenario = None
    if options.get("scenario") is not None:  # replay or record a scenario file (issue 9)
        from agentfakes.recording.pytest_support import ScenarioFixture

        scenario = ScenarioFixture.for_test(request, options["scenario"])
    options.pop("scenario", None)
    transport = options.pop("transport", request.config.getoption("agentfakes_transport"))
    if transport not in TRANSPORTS:
        raise pytest.UsageError(
            f"agentfakes transport must be one of {TRANSPORTS}, not {transport!r}"
        )
    if scenario is not None and scenario.clock is not None:
        options["clock"] = scenario.clock
    elif "virtual_clock" in request.fixturenames and "clock" not in options:
        options["clock"] = request.getfixturevalue("virtual_clock")
    server = FakeRunsServer(**options)
    if scenario is not None:
        ways_in: Any = scenario.ways_in(server, transport == "loopback")
    else:
        loopback = transport == "loopback"
        ways_in = server.serve(verify=False) if loopback else server.mock(verify=False)
    with ways_in:
        yield server
    failed = request.node.stash.get(_CALL_FAILED, False)
    if scenario is not None:
        scenario.finish(server, failed=failed)
    if not failed and (scenario is None or not scenario.recording):
        server.verify()


@pytest.fixture
def virtual_clock() -> Iterator[VirtualClock]:
    """Virtual time for this test: `time.sleep`, `asyncio.sleep`, `time.time()`,
    `datetime.now()` follow it; `fake_runs_server` runs on it when both are requested."""
    with VirtualClock() as clock:
        yield clock


@pytest.fixture
def fake_agent() -> type[FakeAgent]:
    """`FakeAgent`: build one per test with the turns its model should take."""
    return FakeAgent
