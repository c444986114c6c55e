"""Teardown checks (the VerificationError family), clean errors, and the failure report."""

from __future__ import annotations

import pytest

from agentfakes import FakeRunsServer, ManualClock, Script, faults
from agentfakes.errors import (
    AgentfakesError,
    PendingApprovalError,
    UnfiredFaultError,
    UnusedScenarioRunError,
    UnusedScriptError,
    VerificationError,
)

pytest_plugins = ["pytester"]

GATED = Script().approval(command="rm -rf build", description="d").answer("done")
CLIENT = """
import httpx, pytest
from agentfakes import Script, faults

def client(server):
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"})
"""


def test_the_family() -> None:
    for cls in (UnusedScriptError, UnfiredFaultError, PendingApprovalError, UnusedScenarioRunError):
        assert issubclass(cls, VerificationError)
    assert issubclass(VerificationError, AgentfakesError)
    assert issubclass(VerificationError, AssertionError)


def test_one_kind_raises_its_subclass_several_raise_the_base() -> None:
    server = FakeRunsServer(clock=ManualClock())
    server.fault(faults.http_error(503), on="stop")
    with pytest.raises(UnfiredFaultError) as one:
        server.verify()
    assert one.value.problems == [
        (
            "faults",
            "fault armed but never fired: HTTP 503 on stop "
            "(arm it with optional=True if it may not)",
        )
    ]
    server.queue(Script().answer("never"))
    with pytest.raises(VerificationError) as several:
        server.verify()
    assert type(several.value) is VerificationError
    assert [check for check, _ in several.value.problems] == ["scripts", "faults"]
    assert str(several.value).count("\n- ") == 2
    server.verify(skip={"scripts", "faults"})


def test_a_run_left_waiting_for_an_approval_is_reported() -> None:
    import httpx

    server = FakeRunsServer(clock=ManualClock()).script(GATED)
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with httpx.Client(transport=server.transport(), base_url=server.base_url) as client:
        run_id = client.post("/v1/runs", json={"input": "x"}, headers=headers).json()["run_id"]
        client.get(f"/v1/runs/{run_id}", headers=headers)
    with pytest.raises(PendingApprovalError, match=f"run {run_id} still waits for an approval"):
        server.verify()
    server.verify(skip={"approvals"})
    FakeRunsServer(clock=ManualClock(), strict=False).verify()
    server.approve(run_id, "deny")
    server.verify()


def test_teardown_lists_every_problem_in_one_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
def test_sloppy(fake_runs_server):
    fake_runs_server.queue(Script().approval("rm -rf /", "d").answer("a"), Script().answer("b"))
    fake_runs_server.fault(faults.http_error(429), on="stop")
    with client(fake_runs_server) as c:
        c.post("/v1/runs", json={"input": "x"})
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*VerificationError: fake_runs_server (test_teardown_lists_every_problem_in_one_error"
            ".py::test_sloppy):",
            "*- registered but never used: queued script Script()*",
            "*- fault armed but never fired: HTTP 429 on stop*",
            "*- run run_* still waits for an approval nobody answered ('rm -rf /')*",
        ]
    )
    assert "site-packages" not in result.stdout.str()


def test_checks_opt_out_by_name_and_strict_false(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
@pytest.mark.agentfakes(checks={"faults": False, "approvals": False})
def test_opted_out(fake_runs_server):
    fake_runs_server.script(Script().approval("rm", "d").answer("a"))
    fake_runs_server.fault(faults.http_error(429), on="stop")
    with client(fake_runs_server) as c:
        c.post("/v1/runs", json={"input": "x"})

@pytest.mark.agentfakes(checks={"faults": False})
def test_still_checks_scripts(fake_runs_server):
    fake_runs_server.queue(Script().answer("b"))

@pytest.mark.agentfakes(strict=False)
def test_not_strict(fake_runs_server):
    fake_runs_server.queue(Script().answer("b"))
    fake_runs_server.fault(faults.http_error(429), on="stop")
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_still_checks_scripts*"])
    result.stdout.fnmatch_lines(["*UnusedScriptError*"])


def test_no_script_error_is_one_clean_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
def test_forgot_the_script(fake_runs_server):
    with client(fake_runs_server) as c:
        c.post("/v1/runs", json={"input": "deploy"})
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(["*NoScriptError: no script for a run with input 'deploy'.*"])
    failure = out[out.index("FAILURES") : out.index("agentfakes ---")]
    assert "respx" not in failure and "httpx/_client.py" not in failure
    assert len(failure.splitlines()) < 30, failure


def test_failure_report_shows_what_the_fake_did(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        CLIENT
        + """
def test_app(fake_runs_server):
    fake_runs_server.script(
        Script().tool("terminal", preview="make deploy", duration=2).wait(3).answer("Deployed it.")
    )
    fake_runs_server.fault(faults.http_error(503), on="create")
    with client(fake_runs_server) as c:
        assert c.post("/v1/runs", json={"input": "ship"}).status_code == 503
        run_id = c.post("/v1/runs", json={"input": "ship"}).json()["run_id"]
        with c.stream("GET", f"/v1/runs/{run_id}/events") as s:
            s.read()
        c.post(f"/v1/runs/{run_id}/stop")
    assert False, "the app misread the answer"
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- agentfakes -*",
            "agentfakes seed: * (derived from --agentfakes-seed=20240601 and the test id)",
            "reproduce: pytest *",
            "*fake_runs_server at http://hermes.test (virtual clock*",
            "runs (1):",
            '  run run_* input "ship"  → completed',
            "*+0.000s  status queued",
            "*+0.000s  tool.started terminal make deploy",
            "*+2.000s  tool.completed terminal duration=2.0",
            "*+5.000s  message.delta Deployed it.",
            "*+5.000s  run.completed Deployed it.",
            "*+5.000s  status completed",
            "faults fired: HTTP 503 on runs.create",
            "requests (4):",
            '*+0.000s  POST /v1/runs → 503  runs.create  {"input": "ship"}',
            "*+0.000s  POST /v1/runs → 202  runs.create*",
            "*+5.000s  POST /v1/runs/run_*/stop → *  runs.stop",
        ]
    )


def test_a_passing_test_has_no_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_ok(fake_runs_server):
            pass
        """
    )
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1)
    assert "fake_runs_server at" not in result.stdout.str()


def test_report_and_checks_travel_through_xdist(pytester: pytest.Pytester) -> None:
    """Under `-n 2` the report section and the teardown error reach the controller intact."""
    pytester.makepyfile(
        CLIENT
        + """
def test_fails(fake_runs_server):
    fake_runs_server.script(Script().wait(2).answer("late"))
    with client(fake_runs_server) as c:
        run_id = c.post("/v1/runs", json={"input": "ship"}).json()["run_id"]
        c.get(f"/v1/runs/{run_id}/events").read()
    assert False

def test_leaves_a_script(fake_runs_server):
    fake_runs_server.queue(Script().answer("never"))

def test_fine(fake_runs_server):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            '*run run_* input "ship"  → completed',
            "*+2.000s  run.completed late",
        ]
    )
    result.stdout.fnmatch_lines(["*UnusedScriptError: fake_runs_server (*::test_leaves_a_script):"])
