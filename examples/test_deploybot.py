"""DeployBot's test suite: how an app tests itself against agentfakes.

Every feature appears here once: the fake_runs_server fixture (in-process and loopback),
scripted approvals with a deny branch, faults with retry, the journal, assertions,
factories, FakeAgent, and virtual time for the polling loop.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from deploybot.bot import AsyncDeployBot, DeployBot, release_notes
from deploybot.client import AsyncRunsClient, RunsClient, RunTimeout

from agentfakes import (
    FakeAgent,
    FakeRunsServer,
    ProviderError,
    Script,
    VirtualClock,
    assert_cancelled,
    assert_completed,
    assert_event_sequence,
    assert_failed,
    assert_tool_called,
    assert_waiting_for_approval,
    faults,
    provider_error,
    reply,
)
from agentfakes.factories import RunEventFactory

GATED_DEPLOY = (
    Script()
    .tool_started("terminal", preview="rm -rf build")
    .approval(
        command="rm -rf build",
        description="delete in root path",
        on_deny=Script().tool_completed("terminal").fail("deployment aborted: cleanup denied"),
    )
    .wait(1.2)
    .tool_completed("terminal")
    .tool("terminal", preview="make deploy", duration=3.0)
    .answer("Deployed to staging.")
)


def client_for(server: FakeRunsServer, **options: float) -> RunsClient:
    return RunsClient(server.url, server.api_key, **options)


def test_deploy_approves_safe_cleanup(fake_runs_server: FakeRunsServer) -> None:
    fake_runs_server.script(GATED_DEPLOY)
    report = DeployBot(client_for(fake_runs_server)).deploy("staging")

    assert report.ok and report.output == "Deployed to staging."
    assert report.decisions == [("rm -rf build", "once")]
    assert report.tools == ["terminal", "terminal"]
    record = fake_runs_server.runs[report.run_id]
    assert_completed(record, output="Deployed to staging.")
    assert_tool_called(record, "terminal", times=2, succeeded=True)
    assert_event_sequence(
        record, ["approval.request", "approval.responded", "run.completed"], subsequence=True
    )
    assert fake_runs_server.requests.approvals(report.run_id) == [{"choice": "once"}]
    assert record.session_id == "deploy-staging"


def test_deploy_denies_dangerous_cleanup(fake_runs_server: FakeRunsServer) -> None:
    fake_runs_server.script(GATED_DEPLOY)
    bot = DeployBot(client_for(fake_runs_server), policy=lambda command: False)
    report = bot.deploy("production")

    assert report.status == "failed" and "cleanup denied" in (report.error or "")
    assert_failed(fake_runs_server.runs[report.run_id], error="cleanup denied")
    events = fake_runs_server.runs[report.run_id].events
    assert [e.event for e in events][-3:] == ["approval.responded", "tool.completed", "run.failed"]
    assert events[-2].error is True  # the gated tool reports the deny


@pytest.mark.agentfakes(transport="loopback")
def test_deploy_over_a_real_socket(fake_runs_server: FakeRunsServer) -> None:
    """Over a real socket (loopback runs on the real clock by default: a sync client blocks
    in the kernel, where no virtual clock can see it), so this script has no scripted waits:
    it takes as long as the bot takes to answer."""
    fake_runs_server.script(
        Script()
        .tool_started("terminal", preview="rm -rf build")
        .approval(command="rm -rf build", description="delete in root path")
        .tool_completed("terminal")
        .tool("terminal", preview="make deploy")
        .answer("Deployed to staging.")
    )
    report = DeployBot(client_for(fake_runs_server)).deploy("staging")
    assert report.ok and report.decisions == [("rm -rf build", "once")]
    assert fake_runs_server.url.startswith("http://127.0.0.1:")


@pytest.mark.agentfakes(transport="loopback", clock="virtual")
def test_async_deploy_over_a_real_socket_in_virtual_time(
    fake_runs_server: FakeRunsServer, virtual_clock: VirtualClock
) -> None:
    """The async bot over a real socket in virtual time: its socket waits are event-loop
    timers, which the clock sees, so the 4.2 scripted seconds cost none. (A sync client
    blocks in the kernel instead: README, "Timeouts keep their meaning".)"""
    fake_runs_server.script(GATED_DEPLOY)

    async def main() -> None:
        client = AsyncRunsClient(fake_runs_server.url, fake_runs_server.api_key)
        report = await AsyncDeployBot(client).deploy("staging")
        await client.http.aclose()
        assert report.ok and report.decisions == [("rm -rf build", "once")]

    asyncio.run(main())
    assert virtual_clock.elapsed == pytest.approx(4.2)  # the scripted waits, virtually


def test_start_retries_when_busy(
    fake_runs_server: FakeRunsServer, virtual_clock: VirtualClock
) -> None:
    fake_runs_server.script(Script().answer("done"))
    fake_runs_server.fault(faults.http_error(429), on="create")
    fake_runs_server.fault(faults.http_error(503), on="create")
    start = virtual_clock.now()
    client = client_for(fake_runs_server)
    run_id = client.start("deploy")

    creates = fake_runs_server.requests.creates()
    assert [entry.status for entry in creates] == [429, 503, 202]
    assert virtual_clock.now() - start == 2.0  # slept Retry-After: 1 twice, virtually
    assert_completed(client.wait(run_id))


def test_connection_errors_are_retried(
    fake_runs_server: FakeRunsServer, virtual_clock: VirtualClock
) -> None:
    fake_runs_server.script(Script().answer("done"))
    fake_runs_server.fault(faults.connect_error(), on="create", times=2)
    run_id = client_for(fake_runs_server).start("deploy")
    assert run_id == fake_runs_server.runs.last.run_id
    assert [e.status for e in fake_runs_server.requests.creates()] == [0, 0, 202]


def test_polling_a_slow_run_costs_no_real_time(
    fake_runs_server: FakeRunsServer, virtual_clock: VirtualClock
) -> None:
    fake_runs_server.script(Script().wait(600).answer("finally"))
    client = client_for(fake_runs_server, poll_interval=2.0, deadline=900)
    run_id = client.start("slow deploy")
    run = client.wait(run_id)

    assert_completed(run, output="finally")
    assert len(fake_runs_server.requests.polls(run_id)) == 301  # t=0, 2, ..., 600
    assert run["updated_at"] - run["created_at"] == 600


def test_giving_up_after_the_deadline(
    fake_runs_server: FakeRunsServer, virtual_clock: VirtualClock
) -> None:
    fake_runs_server.script(Script().wait(3600).answer("too late"))
    client = client_for(fake_runs_server, poll_interval=2.0, deadline=30)
    run_id = client.start("stuck deploy")
    start = virtual_clock.now()
    with pytest.raises(RunTimeout):
        client.wait(run_id)
    assert virtual_clock.now() - start == 30
    client.stop(run_id)
    virtual_clock.advance(1)
    assert_cancelled(fake_runs_server.runs[run_id])


@pytest.mark.agentfakes(checks={"approvals": False})  # it ends with the gate still open
def test_a_dropped_stream_surfaces_as_a_protocol_error(fake_runs_server: FakeRunsServer) -> None:
    fake_runs_server.script(GATED_DEPLOY)
    fake_runs_server.fault(faults.drop_stream(after=1), on="events")
    bot = DeployBot(client_for(fake_runs_server))
    with pytest.raises(httpx.RemoteProtocolError):
        bot.deploy("staging")
    # The bot never answered: the run is still waiting on its gate.
    assert_waiting_for_approval(fake_runs_server.runs.last, command="rm -rf build")


def test_async_bot(fake_runs_server: FakeRunsServer, virtual_clock: VirtualClock) -> None:
    fake_runs_server.script(GATED_DEPLOY)

    async def main() -> None:
        client = AsyncRunsClient(fake_runs_server.url, fake_runs_server.api_key)
        report = await AsyncDeployBot(client).deploy("staging")
        assert report.ok and report.decisions == [("rm -rf build", "once")]
        await client.http.aclose()

    asyncio.run(main())


def test_observe_counts_tools_from_factory_events() -> None:
    events = RunEventFactory.sequence(outcome="completed", tools=3)
    report = DeployBot.__new__(DeployBot)
    from deploybot.bot import DeployReport

    summary = DeployReport(run_id=events[0].run_id, status="running")
    for event in events:
        report._observe(summary, event.to_wire())
    assert len(summary.tools) == 3 and summary.events[-1] == "run.completed"


def test_release_notes_from_the_agent() -> None:
    agent = FakeAgent(turns=[reply("v1.4: faster deploys.")])
    assert release_notes(agent, ["faster deploys"]) == "v1.4: faster deploys."


def test_release_notes_fall_back_when_the_provider_fails() -> None:
    agent = FakeAgent(turns=[provider_error(ProviderError(status=500))])
    assert release_notes(agent, ["a", "b"]) == "Changes:\n- a\n- b"
