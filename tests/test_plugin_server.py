"""The fake_runs_server fixture: transports, marker options, strict teardown."""

from __future__ import annotations

import httpx
import pytest

from agentfakes import FakeRunsServer, Script, assert_completed

pytest_plugins = ["pytester"]

APP_TEST = """
import httpx
from agentfakes import Script, assert_completed

def test_app(fake_runs_server):
    fake_runs_server.script(Script().answer("hi"))
    headers = {"Authorization": f"Bearer {fake_runs_server.api_key}"}
    with httpx.Client(base_url=fake_runs_server.url, headers=headers) as client:
        run_id = client.post("/v1/runs", json={"input": "x"}).json()["run_id"]
        with client.stream("GET", f"/v1/runs/{run_id}/events") as response:
            response.read()
        assert_completed(client.get(f"/v1/runs/{run_id}").json(), output="hi")
    print("URL", fake_runs_server.url)
"""


def test_fixture_serves_in_process(fake_runs_server: FakeRunsServer) -> None:
    fake_runs_server.script(Script().answer("hello"))
    headers = {"Authorization": f"Bearer {fake_runs_server.api_key}"}
    with httpx.Client(base_url=fake_runs_server.url, headers=headers) as client:
        run_id = client.post("/v1/runs", json={"input": "x"}).json()["run_id"]
        assert_completed(client.get(f"/v1/runs/{run_id}").json(), output="hello")
    assert fake_runs_server.url == "http://hermes.test"


@pytest.mark.agentfakes(transport="loopback", max_concurrent_runs=1, model_name="m-test")
def test_marker_configures_the_server(fake_runs_server: FakeRunsServer) -> None:
    assert fake_runs_server.url.startswith("http://127.0.0.1:")
    fake_runs_server.script(Script().wait(10).answer("slow"))
    headers = {"Authorization": f"Bearer {fake_runs_server.api_key}"}
    with httpx.Client(base_url=fake_runs_server.url, headers=headers) as client:
        assert client.post("/v1/runs", json={"input": "a"}).status_code == 202
        assert client.post("/v1/runs", json={"input": "b"}).status_code == 429
        assert client.get("/v1/models").json()["data"][0]["id"] == "m-test"


@pytest.mark.parametrize("option", ["mock", "loopback"])
def test_transport_option(pytester: pytest.Pytester, option: str) -> None:
    pytester.makepyfile(APP_TEST)
    result = pytester.runpytest("-s", f"--agentfakes-transport={option}")
    result.assert_outcomes(passed=1)
    expected = "URL http://hermes.test" if option == "mock" else "URL http://127.0.0.1:"
    result.stdout.fnmatch_lines([f"*{expected}*"])


def test_unused_script_fails_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from agentfakes import Script

        def test_forgets(fake_runs_server):
            fake_runs_server.queue(Script().answer("never used"))
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*registered but never used: queued script*"])


def test_no_teardown_noise_when_the_test_failed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from agentfakes import Script

        def test_fails(fake_runs_server):
            fake_runs_server.queue(Script().answer("never used"))
            assert False, "the real failure"
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    assert "registered but never used" not in result.stdout.str()


def test_bad_transport_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.agentfakes(transport="carrier-pigeon")
        def test_x(fake_runs_server):
            pass
        """
    )
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*transport=...) must be one of*carrier-pigeon*"])
