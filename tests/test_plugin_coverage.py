"""--agentfakes-coverage: which server behaviours the suite exercised, merged across xdist."""

from __future__ import annotations

import json

import pytest

from agentfakes.pytest_plugin._coverage import ALL

pytest_plugins = ["pytester"]

SUITE = """
import httpx, pytest
from agentfakes import Script, faults

def client(server):
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"})

def test_completed_and_consumed_stream(fake_runs_server):
    fake_runs_server.script(Script().answer("ok"))
    with client(fake_runs_server) as c:
        run_id = c.post("/v1/runs", json={"input": "x"}).json()["run_id"]
        c.get(f"/v1/runs/{run_id}/events").read()
        assert c.get(f"/v1/runs/{run_id}/events").status_code == 404

def test_denied(fake_runs_server):
    fake_runs_server.script(Script().approval("rm", "d").answer("ok"))
    with client(fake_runs_server) as c:
        run_id = c.post("/v1/runs", json={"input": "x"}).json()["run_id"]
        fake_runs_server.approve(run_id, "deny")
        c.get(f"/v1/runs/{run_id}/events").read()

def test_busy(fake_runs_server):
    fake_runs_server.script(Script().answer("ok"))
    fake_runs_server.fault(faults.http_error(429), on="create")
    fake_runs_server.fault(faults.drop_stream(after=1), on="events")
    with client(fake_runs_server) as c:
        assert c.post("/v1/runs", json={"input": "x"}).status_code == 429
        run_id = c.post("/v1/runs", json={"input": "x"}).json()["run_id"]
        with pytest.raises(httpx.RemoteProtocolError):
            c.get(f"/v1/runs/{run_id}/events").read()

def test_unused(fake_runs_server):
    pass
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist-2"])
def test_coverage_report(pytester: pytest.Pytester, workers: list[str]) -> None:
    pytester.makepyfile(SUITE)
    out = pytester.path / "coverage.json"
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "--agentfakes-coverage", f"--agentfakes-coverage-json={out}", *workers
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "*= agentfakes coverage =*",
            "fake_runs_server used by 4 tests",
            "run outcomes: completed (3), -failed, -cancelled, -truncated",
            "approval paths: -approval once, -approval session, -approval always, "
            "approval deny (1), -approval timeout, -stop during approval",
            "*429 on create (1)*",
            "*dropped stream (1)*",
            "streams: -keepalive, consumed-stream 404 (1)",
            "never tested: failed, cancelled, truncated, approval once*",
        ]
    )
    report = json.loads(out.read_text())
    assert report["servers"] == 4
    assert report["exercised"] == {
        "completed": 3,
        "approval deny": 1,
        "429 on create": 1,
        "dropped stream": 1,
        "consumed-stream 404": 1,
    }
    assert set(report["never"]) == set(ALL) - set(report["exercised"])


def test_no_report_without_the_flag(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SUITE)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4)
    assert "agentfakes coverage" not in result.stdout.str()
