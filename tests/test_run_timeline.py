"""The run timeline on the engine clock: the run object, the status machine, approvals, stop.

Spec §3 (run object), §4 (status machine), §5.5 (ordering), §6.1 (stop), §7 (approvals).
Everything runs on a ManualClock: time moves only with `clock.advance`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agentfakes.clocks import DEFAULT_START, ManualClock
from agentfakes.engine import RunRecord, RunTiming
from agentfakes.errors import AgentfakesError
from agentfakes.models import (
    ApprovalResponded,
    MessageDelta,
    RunCancelled,
    RunStatus,
    RunUsage,
    ToolCompleted,
)
from agentfakes.script import Script
from agentfakes.server import FakeRunsServer

T0 = DEFAULT_START
RUN_ID = "run_" + "cd" * 16

Q, R, W, S = (
    RunStatus.QUEUED,
    RunStatus.RUNNING,
    RunStatus.WAITING_FOR_APPROVAL,
    RunStatus.STOPPING,
)
DONE, FAILED, CANCELLED = RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED


# ------------------------------------------------------------------ helpers


def record_of(
    script: Script, *, input: Any = "hello", timing: RunTiming | None = None
) -> RunRecord:
    record = RunRecord(
        run_id=RUN_ID,
        created_at=T0,
        script=script.validate(),
        timing=timing or RunTiming(),
        session_id=RUN_ID,
        model="hermes-agent",
        input=input,
        request={"input": input},
    )
    record.advance(T0)
    return record


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> FakeRunsServer:
    return FakeRunsServer(clock=clock)


@pytest.fixture
def client(server: FakeRunsServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=server.transport(),
        base_url="http://hermes.test",
        headers={"Authorization": f"Bearer {server.api_key}"},
    ) as c:
        yield c


def create(client: httpx.Client, text: str = "hello") -> str:
    response = client.post("/v1/runs", json={"input": text})
    assert response.status_code == 202, response.text
    return str(response.json()["run_id"])


def poll(client: httpx.Client, run_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/runs/{run_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def approve(client: httpx.Client, run_id: str, **body: Any) -> httpx.Response:
    return client.post(f"/v1/runs/{run_id}/approval", json=body)


GATED = (
    Script()
    .tool_started("terminal", "rm -rf build")
    .approval("rm -rf build", "delete in root path")
    .tool_completed("terminal")
    .wait(1)
    .answer("Done.")
)


# ================================================================== the run object (§3)


class TestRunObject:
    def test_fresh_run(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().wait(10).complete("x"))
        run_id = create(client)
        wire = poll(client, run_id)
        assert wire == {
            "object": "hermes.run",
            "run_id": run_id,
            "status": "running",
            "updated_at": T0,
            "created_at": T0,
            "session_id": run_id,
            "model": "hermes-agent",
        }
        assert server.runs[run_id].status_history == [(T0, Q), (T0, R)]

    def test_deltas_never_touch_updated_at_or_last_event(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(Script().wait(1).delta("a").wait(1).delta("b").wait(5).complete("ab"))
        run_id = create(client)
        clock.advance(3)
        wire = poll(client, run_id)
        assert server.runs[run_id].event_names == ["message.delta", "message.delta"]
        assert wire["updated_at"] == T0
        assert "last_event" not in wire

    @pytest.mark.parametrize(
        ("step", "event"),
        [
            (lambda s: s.tool_started("t"), "tool.started"),
            (lambda s: s.tool_started("t").wait(1).tool_completed("t"), "tool.completed"),
            (lambda s: s.reasoning("hmm"), "reasoning.available"),
        ],
        ids=["tool.started", "tool.completed", "reasoning.available"],
    )
    def test_tool_and_reasoning_events_touch_the_run_and_keep_the_status(
        self, step: Any, event: str
    ) -> None:
        record = record_of(step(Script().wait(2)).wait(100).complete("x"))
        record.advance(T0 + 50)
        assert record.last_event == event
        assert record.updated_at == record.events[-1].timestamp
        assert record.updated_at > T0
        assert record.status is R
        assert record.status_history == [(T0, Q), (T0, R)]

    def test_delta_after_a_tool_leaves_the_tool_as_last_event(self) -> None:
        record = record_of(Script().tool("t").wait(1).delta("x").wait(9).complete("x"))
        record.advance(T0 + 2)
        assert record.event_names == ["tool.started", "tool.completed", "message.delta"]
        assert (record.last_event, record.updated_at) == ("tool.completed", T0)

    def test_events_are_stamped_when_scheduled_even_when_observed_late(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(Script().delta("a").wait(5).tool("t", duration=2).wait(3).answer("done"))
        run_id = create(client)
        clock.advance(1000)
        record = server.runs[run_id]
        stamps = [(e.event, e.timestamp) for e in record.events]
        assert stamps == [
            ("message.delta", T0),
            ("tool.started", T0 + 5),
            ("tool.completed", T0 + 7),
            ("message.delta", T0 + 10),
            ("reasoning.available", T0 + 10),
            ("run.completed", T0 + 10),
        ]
        wire = poll(client, run_id)
        assert (wire["status"], wire["updated_at"]) == ("completed", T0 + 10)
        assert record.status_history == [(T0, Q), (T0, R), (T0 + 10, DONE)]

    def test_a_late_stream_replays_with_the_scheduled_timestamps(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(Script().wait(2).delta("a").wait(3).reasoning("r").complete("a"))
        run_id = create(client)
        clock.advance(250)  # late, but inside the 300 s stream TTL
        with client.stream("GET", f"/v1/runs/{run_id}/events") as response:
            assert response.status_code == 200
            frames = [line for line in response.iter_lines() if line.startswith("data: ")]
        events = [json.loads(line[len("data: ") :]) for line in frames]
        assert [(e["event"], e["timestamp"]) for e in events] == [
            ("message.delta", T0 + 2),
            ("reasoning.available", T0 + 5),
            ("run.completed", T0 + 5),
        ]
        assert clock.now() == T0 + 250

    def test_completed_run_object(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().complete("out", usage={"input_tokens": 4, "output_tokens": 6}))
        run_id = create(client)
        wire = poll(client, run_id)
        # keys in the order first set: `_set_run_status(output=, usage=, last_event=)` (§3)
        assert list(wire)[-3:] == ["output", "usage", "last_event"]
        assert wire["usage"] == {"input_tokens": 4, "output_tokens": 6, "total_tokens": 10}
        assert "error" not in wire
        assert server.runs[run_id].to_run().output == "out"

    def test_key_order_follows_the_first_update(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        """The real run dict keeps insertion order (spec §3): an event before the end sets
        `last_event` first; a failure before any event writes `error` before it."""
        server.queue(
            Script().reasoning("r").complete("out"),
            Script().fail("kaboom"),
            Script().reasoning("r").fail("kaboom"),
        )
        orders = [list(poll(client, create(client)))[7:] for _ in range(3)]
        assert orders == [
            ["last_event", "output", "usage"],
            ["error", "last_event"],
            ["last_event", "error"],
        ]
        wire_text = client.get(f"/v1/runs/{server.runs.last.run_id}").text
        assert wire_text.index('"last_event"') < wire_text.index('"error"')

    def test_failed_run_object(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().fail("kaboom"))
        wire = poll(client, create(client))
        assert (wire["status"], wire["last_event"], wire["error"]) == (
            "failed",
            "run.failed",
            "kaboom",
        )
        assert "output" not in wire
        assert "usage" not in wire

    def test_cancelled_run_object(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(Script().wait(10).complete("x"))
        run_id = create(client)
        server.stop(run_id)
        clock.advance(1)
        wire = poll(client, run_id)
        assert (wire["status"], wire["last_event"]) == ("cancelled", "run.cancelled")
        for absent in ("output", "usage", "error"):
            assert absent not in wire
        assert server.runs[run_id].to_run().status is CANCELLED


class TestEstimatedUsage:
    def test_estimate_when_no_usage_is_given(self) -> None:
        record = record_of(Script().complete("abcdefghi"), input="hello world!")
        assert record.usage == RunUsage(input_tokens=3, output_tokens=3, total_tokens=6)
        assert record.to_wire()["usage"] == {
            "input_tokens": 3,
            "output_tokens": 3,
            "total_tokens": 6,
        }

    def test_total_is_input_plus_output(self) -> None:
        record = record_of(Script().answer("x" * 41), input="y" * 17)
        usage = record.to_wire()["usage"]
        assert (usage["input_tokens"], usage["output_tokens"]) == (5, 11)
        assert usage["total_tokens"] == 16

    def test_null_output_and_tiny_input(self) -> None:
        record = record_of(Script().complete(), input="")
        assert record.to_wire()["usage"] == {
            "input_tokens": 1,
            "output_tokens": 0,
            "total_tokens": 1,
        }

    def test_given_usage_without_total(self) -> None:
        record = record_of(Script().complete("x", usage={"input_tokens": 7, "output_tokens": 2}))
        assert record.to_wire()["usage"]["total_tokens"] == 9

    def test_estimate_counts_list_input(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().complete(""))
        parts = [{"type": "text", "text": "abcd"}]
        response = client.post("/v1/runs", json={"input": [{"role": "user", "content": parts}]})
        usage = poll(client, response.json()["run_id"])["usage"]
        assert usage["input_tokens"] == -(-len(str(parts)) // 4)
        assert usage["total_tokens"] == usage["input_tokens"]


# ================================================================== status machine (§4)


class TestStatusMachine:
    def test_running_waiting_running_completed(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(GATED)
        run_id = create(client)
        clock.advance(4)
        assert poll(client, run_id)["status"] == "waiting_for_approval"
        assert approve(client, run_id, choice="once").status_code == 200
        assert poll(client, run_id)["status"] == "running"
        clock.advance(1)
        assert poll(client, run_id)["status"] == "completed"
        assert server.runs[run_id].status_history == [
            (T0, Q),
            (T0, R),
            (T0, W),
            (T0 + 4, R),
            (T0 + 5, DONE),
        ]

    def test_terminal_status_never_changes(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(Script().answer("done"))
        run_id = create(client)
        record = server.runs[run_id]
        before = (list(record.events), record.to_wire())
        with pytest.raises(AgentfakesError):
            server.stop(run_id)
        with pytest.raises(AgentfakesError):
            server.approve(run_id)
        assert client.post(f"/v1/runs/{run_id}/stop").status_code == 404
        assert approve(client, run_id, choice="once").status_code == 409
        clock.advance(10_000)
        assert record.advance(clock.now()) is False
        assert (record.events, record.to_wire()) == before
        assert record.status_history[-1] == (T0, DONE)

    def test_a_terminal_record_ignores_a_stop(self) -> None:
        record = record_of(Script().complete("x"))
        record.request_stop(T0 + 1)
        record.advance(T0 + 10)
        assert record.status is DONE
        assert record.event_names == ["run.completed"]

    def test_approval_on_a_terminal_record_resolves_nothing(self) -> None:
        record = record_of(Script().complete("x"))
        assert record.resolve_approvals("once", resolve_all=True, now=T0 + 1) == 0
        assert record.status is DONE
        assert record.event_names == ["run.completed"]

    def test_next_due(self) -> None:
        record = record_of(Script().wait(3).approval("c", "d", timeout=7).complete())
        assert record.next_due() == T0 + 3
        record.advance(T0 + 3)
        assert record.next_due() == T0 + 10
        record.advance(T0 + 10)
        assert record.is_terminal
        assert record.next_due() is None

    def test_advance_reports_change(self) -> None:
        record = record_of(Script().wait(2).delta("x").wait(2).complete("x"))
        assert record.advance(T0 + 1) is False
        assert record.advance(T0 + 2) is True
        assert record.advance(T0 + 2) is False


# ================================================================== approvals (§5.5, §7)


class TestApprovalOutcomes:
    @pytest.mark.parametrize("choice", ["once", "session", "always"])
    def test_approve_then_tool_completed_without_error(
        self, choice: str, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(
            Script()
            .tool_started("terminal")
            .approval("rm", "delete")
            .wait(1)
            .tool_completed("terminal")
            .answer("ok")
        )
        run_id = create(client)
        clock.advance(2)
        response = approve(client, run_id, choice=choice)
        assert response.json() == {
            "object": "hermes.run.approval_response",
            "run_id": run_id,
            "choice": choice,
            "resolved": 1,
        }
        wire = poll(client, run_id)
        assert (wire["status"], wire["last_event"], wire["updated_at"]) == (
            "running",
            "approval.responded",
            T0 + 2,
        )
        record = server.runs[run_id]
        assert record.events[2] == ApprovalResponded(
            run_id=run_id, timestamp=T0 + 2, choice=choice, resolved=1
        )
        clock.advance(1)
        tool_done = server.runs[run_id].events[3]
        assert isinstance(tool_done, ToolCompleted)
        assert (tool_done.error, tool_done.duration, tool_done.timestamp) == (False, 3.0, T0 + 3)
        assert record.status is DONE

    def test_approval_responded_comes_before_later_agent_events(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(GATED)
        run_id = create(client)
        clock.advance(2)
        approve(client, run_id, choice="approve")
        record = server.runs[run_id]
        assert record.event_names[2:4] == ["approval.responded", "tool.completed"]
        assert record.events[2].choice == "once"  # type: ignore[union-attr]
        assert record.events[3].timestamp == T0 + 2
        assert poll(client, run_id)["last_event"] == "tool.completed"

    def test_deny_then_tool_error_and_the_run_goes_on(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(GATED)
        run_id = create(client)
        clock.advance(3)
        assert approve(client, run_id, choice="deny").json()["choice"] == "deny"
        clock.advance(5)
        record = server.runs[run_id]
        assert record.event_names == [
            "tool.started",
            "approval.request",
            "approval.responded",
            "tool.completed",
            "message.delta",
            "reasoning.available",
            "run.completed",
        ]
        assert record.events[2].choice == "deny"  # type: ignore[union-attr]
        assert record.events[3].error is True  # type: ignore[union-attr]
        assert record.status is DONE
        assert record.output == "Done."

    def test_an_approved_tool_completes_its_duration_after_the_approval(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        """Spec §5.5: the gate fires inside the tool; the command runs once approved."""
        server.script(
            Script()
            .tool_started("terminal", "make deploy")
            .approval("make deploy", "deploy")
            .tool_completed("terminal", duration=4)
            .answer("Deployed.")
        )
        run_id = create(client)
        clock.advance(10)
        approve(client, run_id, choice="once")
        clock.advance(0.5)
        wire = poll(client, run_id)  # running at once, the command not done yet
        assert (wire["status"], wire["last_event"]) == ("running", "approval.responded")
        clock.advance(3)
        assert poll(client, run_id)["last_event"] == "approval.responded"
        clock.advance(0.5)
        record = server.runs[run_id]
        done = record.events[3]
        assert isinstance(done, ToolCompleted)
        assert (done.timestamp, done.duration, done.error) == (T0 + 14, 4.0, False)
        assert record.status is DONE and record.updated_at == T0 + 14

    def test_a_wait_before_the_approved_tool_completes_counts_towards_its_duration(
        self,
    ) -> None:
        record = record_of(
            Script()
            .tool_started("t")
            .approval("c", "d")
            .wait(1)
            .tool_completed("t", duration=3)
            .complete()
        )
        record.resolve_approvals("once", resolve_all=False, now=T0 + 5)
        record.advance(T0 + 7.5)
        assert record.event_names[-1] == "approval.responded"
        record.advance(T0 + 8)
        assert [(e.event, e.timestamp) for e in record.events[2:]] == [
            ("approval.responded", T0 + 5),
            ("tool.completed", T0 + 8),
            ("run.completed", T0 + 8),
        ]

    @pytest.mark.parametrize("choice", ["deny", "timeout"])
    def test_a_tool_not_approved_completes_at_once_with_an_error(self, choice: str) -> None:
        record = record_of(
            Script().tool_started("t").approval("c", "d").tool_completed("t", duration=9).complete()
        )
        if choice == "deny":
            record.resolve_approvals("deny", resolve_all=False, now=T0 + 5)
            record.advance(T0 + 5)
            at = T0 + 5
        else:
            record.advance(T0 + 60)
            at = T0 + 60
        done = record.events[-2]
        assert isinstance(done, ToolCompleted)
        assert (done.timestamp, done.duration, done.error) == (at, 9.0, True)

    def test_explicit_error_false_wins_over_a_deny(self) -> None:
        record = record_of(
            Script()
            .tool_started("t")
            .approval("c", "d")
            .tool_completed("t", error=False)
            .complete()
        )
        record.resolve_approvals("deny", resolve_all=False, now=T0 + 1)
        record.advance(T0 + 1)
        assert record.events[3].error is False  # type: ignore[union-attr]

    def test_timeout_default_60s_no_event_status_stays_waiting(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(
            Script()
            .tool_started("terminal")
            .approval("rm", "delete")
            .tool_completed("terminal")
            .wait(10)
            .answer("Skipped it.")
        )
        run_id = create(client)
        record = server.runs[run_id]
        clock.advance(59)
        assert len(server.runs[run_id].pending_approvals) == 1
        clock.advance(1)
        wire = poll(client, run_id)
        assert record.pending_approvals == []
        assert record.event_names == ["tool.started", "approval.request", "tool.completed"]
        timed_out = record.events[2]
        assert isinstance(timed_out, ToolCompleted)
        assert (timed_out.error, timed_out.duration, timed_out.timestamp) == (True, 60.0, T0 + 60)
        # quirk (spec §4): the tool event keeps the stale status
        assert (wire["status"], wire["last_event"], wire["updated_at"]) == (
            "waiting_for_approval",
            "tool.completed",
            T0 + 60,
        )
        clock.advance(5)
        assert poll(client, run_id)["status"] == "waiting_for_approval"
        response = approve(client, run_id, choice="once")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "approval_not_pending"
        clock.advance(5)
        assert poll(client, run_id)["status"] == "completed"
        assert record.status_history == [(T0, Q), (T0, R), (T0, W), (T0 + 70, DONE)]
        assert "approval.responded" not in record.event_names
        response = approve(client, run_id, choice="once")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "approval_not_active"

    def test_server_wide_approval_timeout(self, clock: ManualClock) -> None:
        server = FakeRunsServer(clock=clock, approval_timeout=5)
        server.script(Script().approval("c", "d").complete("x"))
        with httpx.Client(
            transport=server.transport(),
            base_url="http://hermes.test",
            headers={"Authorization": f"Bearer {server.api_key}"},
        ) as client:
            run_id = create(client)
            clock.advance(4)
            assert server.runs[run_id].status is W
            clock.advance(1)
            assert server.runs[run_id].status is DONE
            assert server.runs[run_id].events[-1].timestamp == T0 + 5

    def test_per_step_timeout(self) -> None:
        record = record_of(
            Script()
            .approval("a", "d", timeout=2)
            .delta("x")
            .approval("b", "d", timeout=30)
            .complete("x")
        )
        record.advance(T0 + 1.5)
        assert len(record.pending_approvals) == 1
        record.advance(T0 + 2)
        assert record.event_names == ["approval.request", "message.delta", "approval.request"]
        assert record.events[2].timestamp == T0 + 2
        record.advance(T0 + 31.9)
        assert not record.is_terminal
        record.advance(T0 + 32)
        assert record.events[-1].timestamp == T0 + 32
        assert record.status is DONE

    def test_observed_late_timeout_stamps_the_rest_at_the_deadline(self) -> None:
        record = record_of(Script().approval("c", "d", timeout=10).delta("x").complete("x"))
        record.advance(T0 + 5_000)
        assert [e.timestamp for e in record.events] == [T0, T0 + 10, T0 + 10]


class TestBranches:
    def make(self, **branches: Script) -> Script:
        return (
            Script()
            .tool_started("terminal")
            .approval("rm", "delete", timeout=10, **branches)
            .tool_completed("terminal")
            .answer("Approved path.")
        )

    DENY = Script().tool_completed("terminal").answer("Denied path.")
    TIMEOUT = Script().tool_completed("terminal").fail("Timed-out path.")

    def test_on_deny_replaces_the_rest(self) -> None:
        record = record_of(self.make(on_deny=self.DENY, on_timeout=self.TIMEOUT))
        record.resolve_approvals("deny", resolve_all=False, now=T0 + 1)
        record.advance(T0 + 100)
        assert record.output == "Denied path."
        assert record.events[3].error is True  # type: ignore[union-attr]
        assert record.events[3].timestamp == T0 + 1

    def test_on_timeout(self) -> None:
        record = record_of(self.make(on_deny=self.DENY, on_timeout=self.TIMEOUT))
        record.advance(T0 + 100)
        assert (record.status, record.error) == (FAILED, "Timed-out path.")
        assert record.events[-1].timestamp == T0 + 10

    def test_on_timeout_defaults_to_on_deny(self) -> None:
        record = record_of(self.make(on_deny=self.DENY))
        record.advance(T0 + 100)
        assert record.output == "Denied path."
        assert record.events[2].error is True  # type: ignore[union-attr]

    def test_on_timeout_alone_does_not_catch_a_deny(self) -> None:
        record = record_of(self.make(on_timeout=self.TIMEOUT))
        record.resolve_approvals("deny", resolve_all=False, now=T0 + 1)
        record.advance(T0 + 100)
        assert (record.status, record.output) == (DONE, "Approved path.")
        assert record.events[3].error is True  # type: ignore[union-attr]

    def test_approve_takes_the_main_path(self) -> None:
        record = record_of(self.make(on_deny=self.DENY, on_timeout=self.TIMEOUT))
        record.resolve_approvals("once", resolve_all=False, now=T0 + 1)
        record.advance(T0 + 100)
        assert record.output == "Approved path."
        assert record.events[3].error is False  # type: ignore[union-attr]


class TestParallelApprovals:
    SCRIPT = (
        Script()
        .tool_started("a", "first")
        .tool_started("b", "second")
        .approval("cmd a", "desc a")
        .approval("cmd b", "desc b")
        .tool_completed("a")
        .tool_completed("b")
        .answer("ok")
    )

    def test_both_are_pending_at_once(self) -> None:
        record = record_of(self.SCRIPT)
        assert record.event_names == [
            "tool.started",
            "tool.started",
            "approval.request",
            "approval.request",
        ]
        assert [p.step.command for p in record.pending_approvals] == ["cmd a", "cmd b"]
        assert record.events[2].timestamp == record.events[3].timestamp == T0
        assert record.status is W

    def test_resolve_all(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(self.SCRIPT)
        run_id = create(client)
        clock.advance(1)
        response = approve(client, run_id, choice="once", all=True)
        assert response.json()["resolved"] == 2
        record = server.runs[run_id]
        responded = [e for e in record.events if isinstance(e, ApprovalResponded)]
        assert [(r.choice, r.resolved) for r in responded] == [("once", 2)]
        assert [e.error for e in record.events if isinstance(e, ToolCompleted)] == [False, False]
        assert record.status is DONE

    @pytest.mark.parametrize("flag", [{"resolve_all": "yes"}, {"all": 1}, {"all": "ON"}])
    def test_resolve_all_spellings(
        self, flag: dict[str, Any], server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.script(self.SCRIPT)
        run_id = create(client)
        assert approve(client, run_id, choice="once", **flag).json()["resolved"] == 2

    def test_without_all_only_the_oldest(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(self.SCRIPT)
        run_id = create(client)
        clock.advance(1)
        assert approve(client, run_id, choice="deny").json()["resolved"] == 1
        record = server.runs[run_id]
        assert [p.step.command for p in record.pending_approvals] == ["cmd b"]
        # the POST sets running even with another gate still pending (A:5257)
        assert (record.status, record.last_event) == (R, "approval.responded")
        assert "tool.completed" not in record.event_names
        clock.advance(1)
        assert approve(client, run_id, choice="once").json()["resolved"] == 1
        errors = [e.error for e in record.events if isinstance(e, ToolCompleted)]
        assert errors == [True, False]  # a was denied, b approved
        assert [e.timestamp for e in record.events if isinstance(e, ToolCompleted)] == [
            T0 + 2,
            T0 + 2,
        ]
        assert record.status is DONE

    def test_one_answered_one_timed_out(self) -> None:
        record = record_of(self.SCRIPT)
        record.resolve_approvals("once", resolve_all=False, now=T0 + 5)
        record.advance(T0 + 59)
        assert len(record.pending_approvals) == 1
        record.advance(T0 + 60)
        errors = [(e.error, e.timestamp) for e in record.events if isinstance(e, ToolCompleted)]
        assert errors == [(False, T0 + 60), (True, T0 + 60)]


# ================================================================== stop (§6.1)


class TestStop:
    def test_stopping_at_once_cancelled_after_the_latency(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(Script().delta("a").wait(10).answer("never"))
        run_id = create(client)
        clock.advance(2)
        stop_at = clock.now()
        response = client.post(f"/v1/runs/{run_id}/stop")
        assert response.json() == {"run_id": run_id, "status": "stopping"}
        record = server.runs[run_id]
        wire = poll(client, run_id)
        assert (wire["status"], wire["last_event"], wire["updated_at"]) == (
            "stopping",
            "run.stopping",
            stop_at,
        )
        assert record.event_names == ["message.delta"]  # no run.stopping frame
        assert record.stop_requested_at == stop_at
        clock.advance(0.04)
        assert poll(client, run_id)["status"] == "stopping"
        clock.advance(1)
        wire = poll(client, run_id)
        assert (wire["status"], wire["last_event"]) == ("cancelled", "run.cancelled")
        assert record.events[-1] == RunCancelled(run_id=run_id, timestamp=stop_at + 0.05)
        assert wire["updated_at"] == stop_at + 0.05
        assert record.event_names == ["message.delta", "run.cancelled"]
        assert record.status_history == [
            (T0, Q),
            (T0, R),
            (stop_at, S),
            (stop_at + 0.05, CANCELLED),
        ]

    def test_stop_wins_over_a_completion_due_before_the_cancel(
        self, server: FakeRunsServer, clock: ManualClock
    ) -> None:
        server.script(Script().wait(0.01).complete("too late"))
        with httpx.Client(
            transport=server.transport(),
            base_url="http://hermes.test",
            headers={"Authorization": f"Bearer {server.api_key}"},
        ) as client:
            run_id = create(client)
            server.stop(run_id)
            clock.advance(1)
            record = server.runs[run_id]
            assert record.status is CANCELLED
            assert record.event_names == ["run.cancelled"]

    def test_stop_with_a_pending_approval(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(GATED)
        run_id = create(client)
        clock.advance(3)
        stop_at = clock.now()
        server.stop(run_id)
        clock.advance(0.5)
        assert server.runs[run_id].status is S
        clock.advance(2)
        record = server.runs[run_id]
        assert record.event_names == [
            "tool.started",
            "approval.request",
            "tool.completed",
            "run.cancelled",
        ]
        gated = record.events[2]
        assert isinstance(gated, ToolCompleted)
        assert (gated.tool, gated.error, gated.timestamp) == ("terminal", True, stop_at + 1.0)
        assert gated.duration == 4.0
        assert record.events[3].timestamp == stop_at + 1.0
        assert record.status is CANCELLED
        assert record.pending_approvals == []

    def test_a_stop_during_an_approval_lands_on_the_next_check(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        """The approval wait looks for an interrupt once a second counted from the request
        (spec §6.1, AP:3126-3150; observed on the real server): a stop 2.3 s into the wait
        is noticed at 3.0 s, not 3.3 s."""
        server.script(GATED)
        run_id = create(client)
        requested = server.runs[run_id].events[1].timestamp
        clock.advance_to(requested + 2.3)
        server.stop(run_id)
        clock.advance(2)
        record = server.runs[run_id]
        assert record.event_names[-2:] == ["tool.completed", "run.cancelled"]
        assert record.events[-2].timestamp == pytest.approx(requested + 3.0)
        assert record.events[-1].timestamp == pytest.approx(requested + 3.0)

    def test_custom_latencies(self, clock: ManualClock) -> None:
        server = FakeRunsServer(clock=clock, stop_latency=0.5, approval_stop_latency=2.5)
        server.queue(Script().wait(100).complete(), GATED)
        with httpx.Client(
            transport=server.transport(),
            base_url="http://hermes.test",
            headers={"Authorization": f"Bearer {server.api_key}"},
        ) as client:
            plain, gated = create(client), create(client)
            server.stop(plain)
            server.stop(gated)
            clock.advance(100)
            assert server.runs[plain].events[-1].timestamp == T0 + 0.5
            assert server.runs[gated].events[-1].timestamp == T0 + 2.5

    def test_second_stop_keeps_the_first_cancel_time(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(GATED)  # latency 1.0 with the approval pending
        run_id = create(client)
        assert client.post(f"/v1/runs/{run_id}/stop").status_code == 200
        clock.advance(0.5)
        second = client.post(f"/v1/runs/{run_id}/stop")
        assert second.json() == {"run_id": run_id, "status": "stopping"}
        record = server.runs[run_id]
        assert record.stop_requested_at == T0
        assert record.updated_at == T0 + 0.5
        clock.advance(0.5)
        assert server.runs[run_id].status is CANCELLED
        assert record.events[-1].timestamp == T0 + 1.0
        assert client.post(f"/v1/runs/{run_id}/stop").status_code == 404

    def test_approval_while_stopping_sets_running_but_ends_cancelled(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(GATED)
        run_id = create(client)
        server.stop(run_id)
        clock.advance(0.5)
        response = approve(client, run_id, choice="once")
        assert response.status_code == 200
        wire = poll(client, run_id)
        assert wire["status"] == "running"
        # Until it notices the stop, the agent carries on: the gated tool completes.
        names = server.runs[run_id].event_names
        assert names[-2:] == ["approval.responded", "tool.completed"]
        clock.advance(5)
        record = server.runs[run_id]
        assert record.status is CANCELLED
        assert record.event_names[-1] == "run.cancelled"
        assert record.events[-1].timestamp == T0 + 1.0
        assert "run.completed" not in record.event_names
        assert [s for _, s in record.status_history] == [Q, R, W, S, R, CANCELLED]

    def test_stop_after_an_approval_timeout_uses_the_plain_latency(self) -> None:
        record = record_of(
            Script().tool_started("t").approval("c", "d", timeout=1).wait(50).complete()
        )
        record.advance(T0 + 2)
        assert record.status is W  # the quirk: stale status after the timeout
        record.request_stop(T0 + 2)
        record.advance(T0 + 100)
        assert record.events[-1] == RunCancelled(run_id=RUN_ID, timestamp=T0 + 2 + 0.05)

    def test_stop_at_creation(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().wait(5).delta("never").complete("x"))
        run_id = create(client)
        server.stop(run_id)
        record = server.runs[run_id]
        assert record.status is S
        assert record.next_due() == T0 + 0.05
        assert not [e for e in record.events if isinstance(e, MessageDelta)]

    def test_stop_with_an_ungated_approval_emits_no_tool_event(self) -> None:
        record = record_of(Script().approval("c", "d").complete("x"))
        record.request_stop(T0 + 1)
        record.advance(T0 + 1.5)
        assert record.status is S
        record.advance(T0 + 2)
        assert record.event_names == ["approval.request", "run.cancelled"]
        assert record.events[-1].timestamp == T0 + 1 + 1.0
