"""`agentfakes drift` and the pieces of the drift check that do not need a real server.

The "real" server here is the fake itself served on 127.0.0.1, so the command runs end to
end offline; `drift/run_drift.py` (CI) runs it against a real hermes-agent 0.19.0.
"""

from __future__ import annotations

import pytest

from agentfakes.cli import main
from agentfakes.clocks import ManualClock
from agentfakes.drift import CASES, REFERENCE_PROFILE, ServerProfile, reference_server
from agentfakes.drift.runner import format_report, run_against_fake, select_cases

CHEAP = ["01 health", "20 unknown run", "31 failing run"]


def test_drift_command_reports_both_sides(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = reference_server(clock=ManualClock(grace=0.1))
    with server.serve() as url:
        monkeypatch.setenv("DRIFT_TEST_KEY", server.api_key)
        code = main(["drift", "--hermes-url", url, "--key-env", "DRIFT_TEST_KEY", "--only", *CHEAP])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "server: 3/3 cases pass" in out and "fake: 3/3 cases pass" in out


def test_drift_command_fails_on_a_mismatch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = ServerProfile(max_turns=2)  # a server that stops the loop one turn early
    server = reference_server(profile, clock=ManualClock(grace=0.1))
    with server.serve() as url:
        monkeypatch.setenv("DRIFT_TEST_KEY", server.api_key)
        code = main(["drift", "--hermes-url", url, "--key-env", "DRIFT_TEST_KEY", "--only", "51"])
    out = capsys.readouterr().out
    assert code == 1
    assert "[server] 51 iteration limit: events event names: expected" in out
    assert "fake: 1/1 cases pass" in out


def test_drift_command_needs_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    assert main(["drift", "--hermes-url", "http://127.0.0.1:9", "--key-env", "NO_SUCH_KEY"]) == 2
    assert "set NO_SUCH_KEY" in capsys.readouterr().err


def test_every_case_passes_in_process_in_one_server() -> None:
    """One fake for the whole catalogue, as the drift check uses it: no case leaves a run
    holding the concurrency cap for the next."""
    results = run_against_fake(transport="mock")
    assert [r.case for r in results] == list(CASES)
    assert all(r.passed for r in results), format_report(results)


def test_unknown_case_names_are_refused() -> None:
    with pytest.raises(ValueError, match="no drift case matches"):
        select_cases(["no such case"])


def test_the_reference_profile_configures_the_fake() -> None:
    assert REFERENCE_PROFILE.server_options() == {
        "approval_timeout": 5.0,
        "max_concurrent_runs": 2,
        "api_max_retries": 1,
    }
