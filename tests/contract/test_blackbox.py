"""The black-box contract cases (`agentfakes.drift.cases`) against the fake.

The drift check runs the same cases against a real hermes-agent 0.19.0; here they run
against `server.mock()` and `server.serve()`, configured like the real server
(`REFERENCE_PROFILE`) and answering its input markers alike (the reference script book), on
a ManualClock: every wait a case makes is a read of an event stream, so nothing sleeps.
(The scripted cases, which need the fake's test-side controls, are in test_spec_cases.py.)
"""

from __future__ import annotations

import os

import pytest

from agentfakes.clocks import ManualClock
from agentfakes.drift import (
    CASES,
    DEFAULT_SCRATCH,
    REFERENCE_PROFILE,
    DriftMismatch,
    Target,
    install_reference_scripts,
    run_case,
)
from agentfakes.drift.client import DriftClient

from .conftest import MakeApi, auto_clock

# Over loopback the server pushes frames, so its stream reader could jump the clock past
# an approval's timeout before the case has answered; it waits this long first instead.
LOOPBACK_GRACE = 0.05


@pytest.mark.parametrize("name", list(CASES))
def test_case(make_api: MakeApi, transport: str, name: str) -> None:
    clock = auto_clock() if transport == "mock" else ManualClock(grace=LOOPBACK_GRACE)
    api = make_api(clock=clock, strict=False, **REFERENCE_PROFILE.server_options())
    install_reference_scripts(api.server, scratch=DEFAULT_SCRATCH)
    target = Target(api.base_url, api.key, real_time=False, name=f"fake {transport}")
    result = run_case(target, CASES[name])
    assert result.passed, result.detail


def test_a_mismatch_names_the_case_the_field_and_both_values(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock(), strict=False, **REFERENCE_PROFILE.server_options())
    install_reference_scripts(api.server, scratch="/elsewhere")  # not where the case looks
    target = Target(api.base_url, api.key, real_time=False, scratch="/tmp/x", name="fake")
    result = run_case(target, CASES["40 deny"])
    assert isinstance(result.mismatch, DriftMismatch)
    assert result.mismatch.case == "40 deny"
    assert result.mismatch.field == "events[0] tool.started"
    message = str(result.mismatch)
    assert "rm -rf /tmp/x/victim" in message and "rm -rf /elsewhere/victim" in message
    assert message.startswith("40 deny: events[0] tool.started: expected")


def test_a_failed_case_stops_the_runs_it_left(make_api: MakeApi) -> None:
    api = make_api(clock=auto_clock(), strict=False, **REFERENCE_PROFILE.server_options())
    install_reference_scripts(api.server, scratch="/elsewhere")
    target = Target(api.base_url, api.key, real_time=False, scratch="/tmp/x")
    assert not run_case(target, CASES["33-39 approve once"]).passed
    assert [run.status.value for run in api.server.runs.values()] == ["cancelled"]
    client = DriftClient(target, "after")
    try:
        assert client.create({"input": "hi"})  # the cap is free again
        client.read(client.runs[0])
    finally:
        client.close()


# ---------------------------------------------------------------- against a real server


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`--agentfakes-hermes-url=URL` adds every case against that server (its key in the
    env var `--agentfakes-hermes-key-env` names; the scratch dir of its fake LLM's
    `approval` marker in `$AGENTFAKES_DRIFT_SCRATCH`)."""
    if "real_case" not in metafunc.fixturenames:
        return
    url = metafunc.config.getoption("agentfakes_hermes_url", None)
    if url:
        metafunc.parametrize("real_case", list(CASES))
    else:
        reason = "pass --agentfakes-hermes-url=URL to run the cases against a real server"
        metafunc.parametrize("real_case", [pytest.param("-", marks=pytest.mark.skip(reason))])


def test_case_against_hermes_url(request: pytest.FixtureRequest, real_case: str) -> None:
    config = request.config
    key_env = config.getoption("agentfakes_hermes_key_env", "HERMES_API_KEY")
    key = os.environ.get(key_env)
    assert key, f"set ${key_env} to the API key of {config.getoption('agentfakes_hermes_url')}"
    target = Target(
        config.getoption("agentfakes_hermes_url"),
        key,
        scratch=os.environ.get("AGENTFAKES_DRIFT_SCRATCH", DEFAULT_SCRATCH),
        name="real",
    )
    result = run_case(target, CASES[real_case])
    assert result.passed, result.detail
