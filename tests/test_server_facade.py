"""FakeRunsServer, the facade: configuration, test-side control, the runs view, verify()."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from agentfakes.clocks import DEFAULT_START, ManualClock
from agentfakes.errors import (
    AgentfakesError,
    NoScriptError,
    UnusedScriptError,
    VerificationError,
)
from agentfakes.models import ApprovalResponded, RunStatus, ToolCompleted
from agentfakes.script import Script
from agentfakes.server import DEFAULT_API_KEY, FakeRunsServer

T0 = DEFAULT_START
GATED = (
    Script()
    .tool_started("terminal", "rm -rf build")
    .approval("rm -rf build", "delete in root path")
    .tool_completed("terminal")
    .answer("Done.")
)
PARALLEL = (
    Script()
    .tool_started("a")
    .tool_started("b")
    .approval("a", "first")
    .approval("b", "second")
    .tool_completed("a")
    .tool_completed("b")
    .complete("ok")
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> FakeRunsServer:
    return FakeRunsServer(clock=clock)


def client_for(server: FakeRunsServer) -> httpx.Client:
    return httpx.Client(
        transport=server.transport(),
        base_url="http://hermes.test",
        headers={"Authorization": f"Bearer {server.api_key}"},
    )


@pytest.fixture
def client(server: FakeRunsServer) -> Iterator[httpx.Client]:
    with client_for(server) as c:
        yield c


def create(client: httpx.Client, text: str = "hello") -> str:
    response = client.post("/v1/runs", json={"input": text})
    assert response.status_code == 202, response.text
    return str(response.json()["run_id"])


# ================================================================== construction


class TestConstruction:
    @pytest.mark.parametrize("key", ["short", "", "x" * 15])
    def test_short_api_key_is_refused(self, key: str) -> None:
        with pytest.raises(ValueError) as info:
            FakeRunsServer(api_key=key)
        assert str(info.value) == (
            "api_key must be a string of at least 16 characters: the real server refuses "
            "to start with a shorter key (spec §1.3)"
        )

    def test_non_string_api_key_is_refused(self) -> None:
        with pytest.raises(ValueError, match="at least 16 characters"):
            FakeRunsServer(api_key=1234567890123456789)  # type: ignore[arg-type]

    def test_sixteen_characters_is_enough(self) -> None:
        server = FakeRunsServer(api_key="k" * 16, clock=ManualClock()).script(Script().complete())
        with client_for(server) as client:
            assert client.post("/v1/runs", json={"input": "x"}).status_code == 202
            bad = client.get("/v1/models", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"})
            assert bad.status_code == 401

    def test_defaults(self) -> None:
        server = FakeRunsServer(base_url="http://agent.local:9000/")
        assert server.api_key == DEFAULT_API_KEY
        assert server.base_url == "http://agent.local:9000"
        assert server.strict is True
        assert server.draining is False

    def test_repr(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().complete())
        assert repr(server) == "<FakeRunsServer http://hermes.test runs=0 requests=0>"
        create(client)
        client.get("/health")
        assert repr(server) == "<FakeRunsServer http://hermes.test runs=1 requests=2>"

    def test_builders_chain(self, server: FakeRunsServer) -> None:
        assert server.script(GATED).on_input("x", GATED).queue(GATED) is server


# ================================================================== test-side approve


class TestApprove:
    def test_deny_from_the_test_side(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(GATED)
        run_id = create(client)
        clock.advance(2)
        assert server.approve(run_id, "deny") == 1
        record = server.runs[run_id]
        assert record.events[2] == ApprovalResponded(
            run_id=run_id, timestamp=T0 + 2, choice="deny", resolved=1
        )
        tool_done = record.events[3]
        assert isinstance(tool_done, ToolCompleted)
        assert tool_done.error is True
        assert record.status is RunStatus.COMPLETED

    def test_default_choice_is_once_and_aliases_normalise(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.script(PARALLEL)
        run_id = create(client)
        assert server.approve(run_id) == 1
        assert server.approve(run_id, " Approved ") == 1
        choices = [e.choice for e in server.runs[run_id].events if isinstance(e, ApprovalResponded)]
        assert choices == ["once", "once"]

    def test_all(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(PARALLEL)
        run_id = create(client)
        assert server.approve(run_id, "session", all=True) == 2
        assert server.runs[run_id].status is RunStatus.COMPLETED

    def test_without_all_resolves_the_oldest(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.script(PARALLEL)
        run_id = create(client)
        server.approve(run_id, "deny")
        pending = server.runs[run_id].pending_approvals
        assert [p.step.command for p in pending] == ["b"]

    def test_the_app_sees_the_test_side_answer(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.script(GATED)
        run_id = create(client)
        server.approve(run_id, "always")
        run = client.get(f"/v1/runs/{run_id}").json()
        assert (run["status"], run["last_event"]) == ("completed", "run.completed")
        with client.stream("GET", f"/v1/runs/{run_id}/events") as response:
            text = response.read().decode()
        assert '"event": "approval.responded", ' in text
        assert '"choice": "always", "resolved": 1' in text

    def test_unknown_run(self, server: FakeRunsServer) -> None:
        with pytest.raises(KeyError, match="no run 'run_nope' was created"):
            server.approve("run_nope")

    def test_nothing_pending(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().wait(10).complete())
        run_id = create(client)
        with pytest.raises(AgentfakesError) as info:
            server.approve(run_id)
        assert str(info.value) == f"run {run_id} has no pending approval (status running)"
        assert server.runs[run_id].event_names == []

    def test_finished_run(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().fail("x"))
        run_id = create(client)
        with pytest.raises(AgentfakesError, match=r"has no pending approval \(status failed\)"):
            server.approve(run_id, "deny")

    def test_after_a_timeout(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(Script().approval("c", "d").wait(100).complete())
        run_id = create(client)
        clock.advance(60)
        with pytest.raises(AgentfakesError, match="status waiting_for_approval"):
            server.approve(run_id)

    @pytest.mark.parametrize("choice", ["yes", "", "denied", "1"])
    def test_invalid_choice(
        self, server: FakeRunsServer, client: httpx.Client, choice: str
    ) -> None:
        server.script(GATED)
        run_id = create(client)
        with pytest.raises(ValueError) as info:
            server.approve(run_id, choice)
        assert str(info.value) == (
            f"approval choice {choice!r} is not one of once, session, always, deny "
            "(or approve/approved/allow for once)"
        )
        assert len(server.runs[run_id].pending_approvals) == 1


# ================================================================== test-side stop


class TestStop:
    def test_stop(self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock) -> None:
        server.script(Script().wait(10).complete())
        run_id = create(client)
        assert server.stop(run_id) is None
        run = client.get(f"/v1/runs/{run_id}").json()
        assert (run["status"], run["last_event"]) == ("stopping", "run.stopping")
        clock.advance(1)
        assert server.runs[run_id].status is RunStatus.CANCELLED

    def test_stop_twice_while_stopping(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().wait(10).complete())
        run_id = create(client)
        server.stop(run_id)
        server.stop(run_id)
        assert server.runs[run_id].status is RunStatus.STOPPING

    def test_unknown_run(self, server: FakeRunsServer) -> None:
        with pytest.raises(AgentfakesError) as info:
            server.stop("run_nope")
        assert str(info.value) == "run run_nope is finished or unknown; nothing to stop"

    def test_finished_run(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(Script().wait(1).complete())
        run_id = create(client)
        clock.advance(1)
        with pytest.raises(AgentfakesError, match="is finished or unknown"):
            server.stop(run_id)
        assert server.runs[run_id].status is RunStatus.COMPLETED


# ================================================================== the runs view


class TestRunsView:
    def test_lookup_and_order(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().complete("x"))
        ids = [create(client, f"run {i}") for i in range(3)]
        assert list(server.runs) == ids
        assert len(server.runs) == 3
        assert server.runs[ids[1]].input == "run 1"
        assert server.runs.last.run_id == ids[2]
        assert ids[0] in server.runs

    def test_unknown_id(self, server: FakeRunsServer, client: httpx.Client) -> None:
        with pytest.raises(KeyError) as info:
            _ = server.runs["run_nope"]
        assert info.value.args == ("no run 'run_nope' was created (runs: none)",)
        server.script(Script().complete())
        run_id = create(client)
        with pytest.raises(KeyError) as info:
            _ = server.runs["run_nope"]
        assert info.value.args == (f"no run 'run_nope' was created (runs: {run_id})",)

    def test_last_without_runs(self, server: FakeRunsServer) -> None:
        with pytest.raises(LookupError, match="the app has not created any run yet"):
            _ = server.runs.last

    def test_lookup_brings_the_run_up_to_the_clock(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        server.script(Script().wait(5).complete("x"))
        run_id = create(client)
        clock.advance(5)
        assert server.runs[run_id].status is RunStatus.COMPLETED
        assert server.runs.last.status is RunStatus.COMPLETED

    def test_wire(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().complete("x"))
        run_id = create(client)
        assert server.wire(run_id) == client.get(f"/v1/runs/{run_id}").json()
        with pytest.raises(KeyError):
            server.wire("run_nope")

    def test_runs_keep_their_request(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().complete())
        response = client.post(
            "/v1/runs",
            json={"input": "x", "session_id": "s1", "model": "m1", "instructions": "be brief"},
        )
        record = server.runs[response.json()["run_id"]]
        assert (record.session_id, record.model, record.instructions) == ("s1", "m1", "be brief")
        assert record.request["instructions"] == "be brief"


# ================================================================== draining


class TestDrain:
    def test_create_gets_503_while_draining(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.script(Script().wait(10).complete())
        run_id = create(client)
        server.drain()
        response = client.post("/v1/runs", json={"input": "x"})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json() == {
            "error": {
                "message": "Gateway is draining existing work; retry shortly.",
                "type": "invalid_request_error",
                "param": None,
                "code": "gateway_draining",
            }
        }
        assert len(server.runs) == 1
        # the other endpoints are unaffected
        assert client.get(f"/v1/runs/{run_id}").status_code == 200
        assert "retry-after" not in client.get(f"/v1/runs/{run_id}").headers
        assert client.post(f"/v1/runs/{run_id}/stop").status_code == 200
        assert client.get("/health").status_code == 200

    def test_auth_comes_before_draining(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.drain()
        response = client.post("/v1/runs", json={"input": "x"}, headers={"Authorization": "no"})
        assert response.status_code == 401

    def test_draining_comes_before_body_checks(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.drain()
        assert client.post("/v1/runs", content=b"{bad").status_code == 503

    def test_approval_still_works_while_draining(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.script(GATED)
        run_id = create(client)
        server.drain()
        response = client.post(f"/v1/runs/{run_id}/approval", json={"choice": "once"})
        assert response.status_code == 200

    def test_drain_false_reopens(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().complete())
        server.drain()
        assert client.post("/v1/runs", json={"input": "x"}).status_code == 503
        server.drain(False)
        assert server.draining is False
        assert client.post("/v1/runs", json={"input": "x"}).status_code == 202


# ================================================================== verify()


class TestVerify:
    def test_passes_when_everything_was_used(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.queue(Script().complete("q")).on_input("deploy", Script().complete("d"))
        create(client, "first")
        create(client, "deploy now")
        server.verify()

    def test_unused_queued_scripts_and_rules(self, server: FakeRunsServer) -> None:
        server.queue(Script().complete("left over"))
        server.on_input("deploy", Script().complete("d"))
        with pytest.raises(UnusedScriptError) as info:
            server.verify()
        assert str(info.value) == (
            "FakeRunsServer:\n"
            "- registered but never used: input containing 'deploy'\n"
            "- registered but never used: queued script Script().complete('left over')"
        )
        assert isinstance(info.value, AssertionError)

    def test_an_unused_default_is_fine(self, server: FakeRunsServer) -> None:
        server.script(Script().complete())
        server.verify()

    def test_not_strict(self, clock: ManualClock) -> None:
        server = FakeRunsServer(clock=clock, strict=False)
        server.queue(Script().complete()).on_input("x", Script().complete())
        server.verify()

    def test_a_run_without_script_is_reported_even_when_not_strict(
        self, clock: ManualClock
    ) -> None:
        server = FakeRunsServer(clock=clock, strict=False)
        with client_for(server) as client, pytest.raises(NoScriptError):
            client.post("/v1/runs", json={"input": "orphan"})
        with pytest.raises(VerificationError) as info:
            server.verify()
        assert str(info.value).startswith(
            "FakeRunsServer:\n- no script for a run with input 'orphan'."
        )
        journal = server.requests.last
        assert (journal.status, journal.run_id) == (500, None)


class TestMock:
    def test_exit_verifies(self, server: FakeRunsServer) -> None:
        server.queue(Script().complete("a"), Script().complete("never used"))
        with pytest.raises(UnusedScriptError, match="never used"), server.mock():
            response = httpx.post(
                f"{server.base_url}/v1/runs",
                json={"input": "x"},
                headers={"Authorization": f"Bearer {server.api_key}"},
            )
            assert response.status_code == 202

    def test_exit_passes_when_everything_was_used(self, server: FakeRunsServer) -> None:
        server.queue(Script().complete("a"))
        with server.mock() as mocked:
            assert mocked is server
            response = httpx.post(
                f"{server.base_url}/v1/runs",
                json={"input": "x"},
                headers={"Authorization": f"Bearer {server.api_key}"},
            )
        assert response.status_code == 202
        assert len(server.runs) == 1

    def test_a_failing_body_is_not_masked_by_verify(self, server: FakeRunsServer) -> None:
        server.queue(Script().complete("never used"))

        class BodyError(Exception):
            pass

        with pytest.raises(BodyError, match="the test's own failure"), server.mock():
            raise BodyError("the test's own failure")

    def test_an_assertion_in_the_body_is_not_masked(self, server: FakeRunsServer) -> None:
        server.on_input("never", Script().complete())
        with pytest.raises(AssertionError) as info, server.mock():
            raise AssertionError("app assertion")
        assert not isinstance(info.value, UnusedScriptError)
        assert str(info.value) == "app assertion"

    def test_verify_false(self, server: FakeRunsServer) -> None:
        server.queue(Script().complete("never used"))
        with server.mock(verify=False):
            pass
        assert len(server.router.queue) == 1

    def test_mock_with_a_non_strict_server(self, clock: ManualClock) -> None:
        server = FakeRunsServer(clock=clock, strict=False)
        server.queue(Script().complete("never used"))
        with server.mock():
            pass
