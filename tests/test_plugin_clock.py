"""fake_runs_server runs on virtual time by default; one clock per test; real-clock warnings."""

from __future__ import annotations

import time

import httpx
import pytest

from agentfakes import FakeRunsServer, Script, VirtualClock, assert_completed

pytest_plugins = ["pytester"]


def test_the_default_clock_is_the_virtual_clock_fixture(
    fake_runs_server: FakeRunsServer, virtual_clock: VirtualClock
) -> None:
    assert fake_runs_server.clock is virtual_clock and virtual_clock.active
    fake_runs_server.script(Script().wait(600).answer("ten minutes later"))
    headers = {"Authorization": f"Bearer {fake_runs_server.api_key}"}
    real_start = time.perf_counter()  # virtual too: the clock is active for the whole test
    with httpx.Client(base_url=fake_runs_server.url, headers=headers) as client:
        run_id = client.post("/v1/runs", json={"input": "x"}).json()["run_id"]
        while (run := client.get(f"/v1/runs/{run_id}").json())["status"] != "completed":
            time.sleep(30)  # virtual: the fixture's clock is active
    assert_completed(run, output="ten minutes later")
    assert virtual_clock.elapsed == 600
    assert time.perf_counter() - real_start == 600


CLOCK_TESTS = """
import time, httpx, pytest
from agentfakes import Script, VirtualClock

def test_default(fake_runs_server):
    print("CLOCK", type(fake_runs_server.clock).__name__)

@pytest.mark.agentfakes(clock="real")
def test_real(fake_runs_server):
    print("CLOCK", type(fake_runs_server.clock).__name__)

def test_own_virtual_clock(fake_runs_server):
    with VirtualClock():
        pass

@pytest.mark.agentfakes(clock="real")
def test_own_virtual_clock_with_clock_real(fake_runs_server):
    fake_runs_server.script(Script().wait(60).answer("ok"))
    headers = {"Authorization": f"Bearer {fake_runs_server.api_key}"}
    with VirtualClock() as clock, httpx.Client(base_url=fake_runs_server.url, headers=headers) as c:
        run_id = c.post("/v1/runs", json={"input": "x"}).json()["run_id"]
        time.sleep(61)  # virtual: the test's own VirtualClock
        assert c.get(f"/v1/runs/{run_id}").json()["status"] == "completed"

@pytest.mark.agentfakes(clock="real")
def test_both(fake_runs_server, virtual_clock):
    pass
"""


def test_clock_choices_and_one_clock_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CLOCK_TESTS)
    result = pytester.runpytest("-s", "-p", "no:randomly")
    result.assert_outcomes(passed=3, failed=1, errors=1)
    result.stdout.fnmatch_lines(["*CLOCK FixtureClock*", "*CLOCK RealClock*"])
    result.stdout.fnmatch_lines(
        [
            "*VirtualTimeError: another VirtualClock is already active*the virtual_clock "
            "fixture's (fake_runs_server runs on it)*"
        ]
    )
    result.stdout.fnmatch_lines(["*asks for the virtual_clock fixture and for clock='real'*"])


def test_freezegun_on_the_test_is_stopped_with_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from freezegun import freeze_time

        @freeze_time("2026-01-01")
        def test_frozen(fake_runs_server):
            pass

        @freeze_time("2026-01-01")
        @pytest.mark.agentfakes(clock="real")
        def test_frozen_real(fake_runs_server):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*patches time with freezegun while fake_runs_server runs on its VirtualClock*"]
    )


def test_a_time_patch_started_in_the_test_body_is_stopped_with_a_clear_error(
    pytester: pytest.Pytester,
) -> None:
    """One clock per test: freezegun started inside the body (not as a decorator, so no
    fixture could see it coming) fails where it starts, saying what to do instead; on a
    real clock the test's own freeze works as usual."""
    pytester.makepyfile(
        """
        import time
        import pytest
        from freezegun import freeze_time

        def test_frozen_in_body(fake_runs_server):
            with freeze_time("2020-01-01"):
                pass

        @pytest.mark.agentfakes(clock="real")
        def test_frozen_in_body_real(fake_runs_server):
            with freeze_time("2020-01-01"):
                assert time.time() == 1577836800.0
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*VirtualTimeError: freezegun's freeze_time was started while <VirtualClock*"
            "is active*clock.advance(seconds)*@pytest.mark.agentfakes(clock='real')*"
        ]
    )


def test_a_real_clock_test_that_waits_is_warned(pytester: pytest.Pytester) -> None:
    """The check reads the run's timeline: a ManualClock stands in for 3 s of real waiting."""
    pytester.makepyfile(
        """
        import httpx, pytest
        from agentfakes import ManualClock, Script
        from agentfakes.clocks import RealClock

        class SlowRealClock(ManualClock):
            is_real = True

        @pytest.mark.agentfakes(clock=SlowRealClock())
        def test_waits(fake_runs_server):
            fake_runs_server.script(Script().wait(3).answer("late"))
            headers = {"Authorization": f"Bearer {fake_runs_server.api_key}"}
            with httpx.Client(base_url=fake_runs_server.url, headers=headers) as c:
                run_id = c.post("/v1/runs", json={"input": "x"}).json()["run_id"]
                fake_runs_server.clock.advance(3)
                assert c.get(f"/v1/runs/{run_id}").json()["status"] == "completed"

        @pytest.mark.agentfakes(clock=SlowRealClock())
        def test_quick(fake_runs_server):
            fake_runs_server.script(Script().wait(1).answer("soon"))
            headers = {"Authorization": f"Bearer {fake_runs_server.api_key}"}
            with httpx.Client(base_url=fake_runs_server.url, headers=headers) as c:
                run_id = c.post("/v1/runs", json={"input": "x"}).json()["run_id"]
                fake_runs_server.clock.advance(1)
                c.get(f"/v1/runs/{run_id}")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*PytestWarning: test_a_real_clock_test_that_waits_is_warned.py::test_waits: run run_* "
            "made the test wait 3.0 s of real time*"
        ]
    )
    assert "test_quick: run" not in result.stdout.str()
