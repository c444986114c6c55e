"""The pytest plugin: fixtures over the library, nothing more (entry point `pytest11`).

Every test is seeded from (`--agentfakes-seed`, its node id), so the objects a test builds
do not depend on test order or on which pytest-xdist worker runs it;
`@pytest.mark.agentfakes_seed(n)` pins one test's seed. A failing test's report says which
seed it ran with and how to reproduce it.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from agentfakes import seeding
from agentfakes.factories import (
    MessageFactory,
    ResultFactory,
    RunEventFactory,
    RunFactory,
    RunUsageFactory,
    ToolCallFactory,
)

_SEED_HINT = pytest.StashKey[str]()


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


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker so `--strict-markers` accepts it."""
    config.addinivalue_line(
        "markers", "agentfakes_seed(n): seed agentfakes' factories with exactly n for this test"
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
