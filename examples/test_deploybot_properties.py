"""Property tests for DeployBot with `agentfakes.strategies`: for every legal server
behaviour (scripts with tools, gates, branches, waits, every ending; busy or flaky
creates), DeployBot ends in a handled state, answers every gate, and never hangs.

`fresh_server()` gives each Hypothesis example its own server on virtual time (fixtures
cannot: Hypothesis refuses function-scoped fixtures under `@given`).
"""

from __future__ import annotations

import ssl

import httpx
import pytest
from deploybot.bot import DeployBot
from deploybot.client import RunsClient
from deploybot.planted import PlantedBugDeployBot
from hypothesis import HealthCheck, given, settings

from agentfakes import FakeRunsServer, Script, faults
from agentfakes.strategies import (
    FaultPlanSpec,
    approval_timings,
    fault_plans,
    fresh_server,
    scripts,
    waits,
)
from agentfakes.strategies.server import REPRODUCE

TERMINAL = {"completed", "failed", "cancelled"}
TLS = ssl.create_default_context()
# What DeployBot is built for (the two tests at the end show what lies outside): it answers
# a gate at once, so a timeout above 0 gives it time; its client reads with a 10 s timeout,
# so no silence on the stream may last longer (the real server's keepalive comes at 30 s).
ANSWERABLE = approval_timings(min_seconds=0.001, max_seconds=9.0)
SHORT_WAITS = waits(max_seconds=9.0)
LEGAL_RUNS = scripts(approval_timeouts=ANSWERABLE, wait_seconds=SHORT_WAITS)
PROPERTY = settings(
    max_examples=20,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# Faults DeployBot's client promises to survive: busy or refused creates, retried.
SURVIVABLE = fault_plans(
    endpoints=("create",),
    kinds=("http", "transport"),
    statuses=(429, 503),
    max_faults=1,
)


def deploy(bot_type: type[DeployBot], server: FakeRunsServer) -> None:
    """The property: a handled final state that agrees with the server, every gate answered."""
    # One TLS context for every example: building httpx's default one costs ~0.1 s each.
    http = httpx.Client(timeout=10.0, verify=TLS)
    with http:
        report = bot_type(RunsClient(server.url, server.api_key, http=http)).deploy("staging")
    record = server.runs[report.run_id]
    assert report.status in TERMINAL
    assert report.status == record.status.value
    assert len(report.decisions) == record.event_names.count("approval.request")


@PROPERTY
@given(script=LEGAL_RUNS, plan=SURVIVABLE)
def test_deploybot_handles_every_legal_run(script: Script, plan: FaultPlanSpec) -> None:
    # DeployBot sleeps between retries: virtual time makes those free too.
    with fresh_server(script, faults=plan) as server:
        deploy(DeployBot, server)


def test_the_planted_bug_is_found_and_printed_as_a_test() -> None:
    @PROPERTY
    @given(script=LEGAL_RUNS)
    def planted(script: Script) -> None:
        with fresh_server(script, virtual_time=False) as server:  # no sleeps: faster
            deploy(PlantedBugDeployBot, server)

    with pytest.raises(AssertionError) as failure:
        planted()
    report = "\n".join(getattr(failure.value, "__notes__", []))
    assert "Failing test case" in report or "Falsifying example" in report
    # Shrinking leaves the smallest script with two gates, printed as code to paste...
    pasted = report.split(REPRODUCE, 1)[1].split("\n\n", 1)[0]
    namespace: dict[str, object] = {"FakeRunsServer": FakeRunsServer, "Script": Script}
    exec(pasted, namespace)
    server = namespace["server"]
    assert isinstance(server, FakeRunsServer)
    script = server.router.default
    assert script is not None
    assert [type(step).__name__ for step in script.steps].count("Approval") == 2
    # ...which reproduces the bug in a regular test.
    with server.mock(verify=False), pytest.raises(AssertionError):
        deploy(PlantedBugDeployBot, server)
    fixed = FakeRunsServer()
    fixed.script(script)
    with fixed.mock():
        deploy(DeployBot, fixed)  # the real bot answers both gates


def test_a_gate_that_times_out_at_once_makes_deploybot_raise() -> None:
    """Found by the strategies: `timeout=0` gates are over before DeployBot answers; its
    approval POST then gets 409 and `raise_for_status()` raises. Kept as a known limit."""
    script = (
        Script()
        .tool_started("terminal", preview="rm -rf build")
        .approval("rm -rf build", "delete in root path", timeout=0.0)
        .tool_completed("terminal")
        .complete("done")
    )
    with fresh_server(script) as server, pytest.raises(httpx.HTTPStatusError) as error:
        deploy(DeployBot, server)
    assert error.value.response.status_code == 409


def test_a_silence_longer_than_the_read_timeout_makes_deploybot_raise() -> None:
    """Found by the strategies: a gate left to its default 60 s timeout (or any wait past
    10 s) is a silence longer than DeployBot's read timeout; the stream read raises."""
    script = Script().wait(31.0).complete("done")
    with fresh_server(script) as server, pytest.raises(httpx.ReadTimeout):
        deploy(DeployBot, server)


@PROPERTY
@given(plan=fault_plans(endpoints=("create",), kinds=("http",), statuses=(429, 503)))
def test_busy_creates_are_retried_or_reported(plan: FaultPlanSpec) -> None:
    with fresh_server(Script().answer("Deployed."), faults=plan) as server:
        try:
            deploy(DeployBot, server)
        except httpx.HTTPStatusError as error:  # out of retries: the last answer was busy
            assert error.response.status_code in (429, 503)
            assert len(server.requests.creates()) == 4  # the first try and three retries


assert faults  # re-exported for reproduction code: `server.fault(faults.http_error(503), ...)`
