"""`agentfakes.strategies`: legal Scripts and fault plans, printed as code, per-example
servers (issue 12)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from agentfakes import FakeRunsServer, Script, faults
from agentfakes.script import Approval, Complete, Delta, Fail, Reasoning, ToolEnd, ToolStart, Wait
from agentfakes.strategies import (
    FaultPlanSpec,
    approval_timings,
    fault_plans,
    fresh_server,
    reproduction_code,
    script_to_code,
    scripts,
    waits,
)

FAST = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@FAST
@given(scripts())
def test_every_generated_script_is_legal_and_prints_as_code_that_rebuilds_it(
    script: Script,
) -> None:
    assert script.validate() is script
    assert eval(script_to_code(script), {"Script": Script}) == script


def test_the_strategy_reaches_every_step_and_every_ending() -> None:
    seen: set[str] = set()

    @settings(max_examples=150, deadline=None, database=None, derandomize=True)
    @given(scripts())
    def collect(script: Script) -> None:
        for step in script.steps:
            seen.add(type(step).__name__)
            if isinstance(step, Approval):
                seen.update(f"branch:{b}" for b in ("on_deny", "on_timeout") if getattr(step, b))
        if isinstance(script.terminal, Complete) and "maximum tool-iteration" in str(
            script.terminal.output
        ):
            seen.add("max_iterations")

    collect()
    wanted = {Delta, Reasoning, ToolStart, ToolEnd, Wait, Approval, Complete, Fail}
    assert {cls.__name__ for cls in wanted} <= seen
    assert {"branch:on_deny", "branch:on_timeout", "max_iterations"} <= seen


@FAST
@given(scripts(tools=False, waits_=False, terminals=("fail",)))
def test_features_can_be_switched_off(script: Script) -> None:
    assert all(isinstance(step, Delta | Reasoning | Fail) for step in script.steps)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="terminals must be some of"):
        scripts(terminals=("explode",))
    with pytest.raises(ValueError, match="kinds must be some of"):
        fault_plans(kinds=("gremlins",))


@FAST
@given(approval_timings(min_seconds=1.0, max_seconds=9.0), waits(max_seconds=5.0))
def test_timings_stay_in_their_bounds(timeout: float | None, wait: float) -> None:
    assert timeout is not None and 1.0 <= timeout <= 9.0
    assert 0.0 <= wait <= 5.0


def test_code_for_every_builder_verb_round_trips() -> None:
    script = (
        Script()
        .delta('Hel\n"lo" é')
        .reasoning("thinking")
        .tool_started("terminal", preview="rm -rf build")
        .approval(
            "rm -rf build",
            "delete in root path",
            pattern_key="rm",
            pattern_keys=["rm", "root"],
            allow_permanent=False,
            smart_denied=True,
            timeout=2.5,
            on_deny=Script().tool_completed("terminal").fail("denied"),
            on_timeout=Script().tool_completed("terminal", error=True).max_iterations("gave up"),
        )
        .wait(1.25)
        .tool_completed("terminal", duration=0.125, error=False)
        .complete("done", usage={"input_tokens": 3, "output_tokens": 4})
        .named("every verb")
    )
    code = script_to_code(script)
    assert code.startswith("(\n    Script()\n    .delta(")
    rebuilt = eval(code, {"Script": Script})
    assert rebuilt == script and rebuilt.name == "every verb"
    assert script_to_code(Script().max_iterations()) == "Script().max_iterations()"
    assert script_to_code(Script()) == "Script()"


@FAST
@given(fault_plans())
def test_fault_plans_arm_and_print_as_code(plan: FaultPlanSpec) -> None:
    server = FakeRunsServer()
    plan.arm(server)
    assert len(server.faults.armed) == len(plan.faults)
    copy = FakeRunsServer()
    exec(plan.to_code(), {"server": copy, "faults": faults})
    assert [a.fault for a in copy.faults.armed] == [a.fault for a in server.faults.armed]
    server.verify()  # generated faults are optional: a plan the app never meets is fine


def test_fresh_server_serves_in_process_and_verifies() -> None:
    with fresh_server(Script().answer("hi"), virtual_time=False) as server:
        response = httpx.post(
            f"{server.url}/v1/runs",
            json={"input": "x"},
            headers={"Authorization": f"Bearer {server.api_key}"},
        )
        assert response.status_code == 202
    with pytest.raises(AssertionError), fresh_server(Script().answer("hi")):
        raise AssertionError("the app's failure passes through; verify() is skipped")


def test_fresh_server_on_loopback_binds_127_0_0_1() -> None:
    with fresh_server(Script().answer("hi"), transport="loopback", virtual_time=False) as server:
        assert server.url.startswith("http://127.0.0.1:")
        run = httpx.post(
            f"{server.url}/v1/runs",
            json={"input": "x"},
            headers={"Authorization": f"Bearer {server.api_key}"},
        )
        assert run.status_code == 202


def test_fresh_server_without_a_way_in_leaves_the_transport_to_the_test() -> None:
    with fresh_server(Script().answer("hi"), transport="none", virtual_time=False) as server:
        client = httpx.Client(transport=server.transport(), base_url=server.url)
        assert client.get("/health").status_code == 200
    with (
        pytest.raises(ValueError, match="transport must be"),
        fresh_server(transport="carrier pigeon"),  # type: ignore[arg-type]
    ):
        pass


def test_a_failing_example_is_reported_as_paste_ready_code() -> None:
    @settings(max_examples=50, deadline=None, database=None, derandomize=True)
    @given(
        script=scripts(max_blocks=2, terminals=("fail",)),
        plan=fault_plans(endpoints=("poll",), max_faults=1),
    )
    def app_never_fails(script: Script, plan: FaultPlanSpec) -> None:
        with fresh_server(script, faults=plan, transport="none", virtual_time=False):
            assert not isinstance(script.terminal, Fail)

    with pytest.raises(AssertionError) as failure:
        app_never_fails()
    report = "\n".join(failure.value.__notes__)
    # Hypothesis itself prints the Script as builder code, and fresh_server notes a test.
    assert "script=Script().fail(" in report
    assert "Reproduce this example in a regular test:\nserver = FakeRunsServer()" in report
    namespace: dict[str, object] = {"FakeRunsServer": FakeRunsServer, "Script": Script}
    exec(report.split("regular test:\n", 1)[1].split("\n\n", 1)[0], namespace)
    assert isinstance(namespace["server"], FakeRunsServer)


def test_reproduction_code_names_the_script_and_the_faults() -> None:
    plan = FaultPlanSpec()
    code = reproduction_code(Script().fail("x"), plan)
    assert code == "server = FakeRunsServer()\nserver.script(Script().fail('x'))"
