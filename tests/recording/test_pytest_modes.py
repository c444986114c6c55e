"""Record modes in pytest (pytester): opt-in marker, default file paths, none / once /
new_episodes / all / diff, in-process and loopback, secrets and failures. The "real
server" is a FakeRunsServer on 127.0.0.1 with a canary key, so this is offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import agentfakes.recording.httpx_recorder
import agentfakes.recording.proxy
import agentfakes.recording.pytest_support  # noqa: F401  (imported here, kept between runs)
from agentfakes import FakeRunsServer, Script
from agentfakes.recording.options import default_path
from agentfakes.script.scenario import Scenario

pytest_plugins = ["pytester"]

# inner runs: no end-of-session gc passes, no Hypothesis plugin (slow to re-import each run)
QUIET = ("-p", "no:cacheprovider", "-p", "no:unraisableexception", "-p", "no:hypothesispytest")
CANARY = "sk-canary-3d1f0b7e9a2c4e68-not-for-disk"
USAGE = {"input_tokens": 3, "output_tokens": 2}
GATED = (
    Script()
    .delta("Cleaning ")
    .tool_started("terminal", "rm -rf build")
    .approval("rm -rf build", "delete in root path")
    .tool_completed("terminal")
    .answer("Done.", usage=USAGE)
)

APP = """
import time
import httpx
import pytest

pytestmark = pytest.mark.agentfakes(scenario=True)
TERMINAL = ("completed", "failed", "cancelled")


def run_app(server, text, choice="once", poll=0.05):
    headers = {"Authorization": f"Bearer {server.api_key}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        run_id = client.post("/v1/runs", json={"input": text}).json()["run_id"]
        while True:
            run = client.get(f"/v1/runs/{run_id}").json()
            if run["status"] == "waiting_for_approval":
                client.post(f"/v1/runs/{run_id}/approval", json={"choice": choice})
            if run["status"] in TERMINAL:
                return run
            time.sleep(poll)
"""


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeRunsServer, str]]:
    real = FakeRunsServer(api_key=CANARY, strict=False)
    real.on_input("approve", GATED)
    real.on_input("hello", Script().answer("Hi there.", usage=USAGE))
    monkeypatch.setenv("HERMES_API_KEY", CANARY)
    with real.serve(verify=False) as url:
        yield real, url


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml"))


def test_replay_without_a_file_says_how_to_record(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=APP + "\ndef test_a(fake_runs_server):\n    pass\n")
    result = pytester.runpytest_inprocess(*QUIET)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*no scenario file at *scenarios/test_app/test_a.yaml (record mode none)*"]
    )
    result.stdout.fnmatch_lines(["*--agentfakes-record-mode=once --agentfakes-hermes-url=<URL>*"])


def test_record_once_then_replay_offline_in_process_and_over_loopback(
    pytester: pytest.Pytester, upstream: tuple[FakeRunsServer, str]
) -> None:
    real, url = upstream
    pytester.makepyfile(
        test_app=APP
        + """
def test_approve(fake_runs_server):
    run = run_app(fake_runs_server, "please approve")
    assert run["status"] == "completed" and run["output"] == "Done."

def test_unmarked(fake_runs_server):  # not opted in: its own scripts, whatever the mode
    pass

test_unmarked = pytest.mark.agentfakes(scenario=None)(test_unmarked)
"""
    )
    args = [*QUIET, "-k", "approve"]
    recorded = pytester.runpytest_inprocess(
        *args, "--agentfakes-record-mode=once", f"--agentfakes-hermes-url={url}"
    )
    recorded.assert_outcomes(passed=1)
    (path,) = _files(pytester.path)
    assert path == pytester.path / "scenarios" / "test_app" / "test_approve.yaml"
    assert len(real.runs) == 1  # the real server ran it
    scenario = Scenario.load(path)
    assert scenario.recorded.server == "hermes-agent 0.19.0"
    assert [a.choice for a in scenario.runs[0].approvals] == ["once"]
    for written in pytester.path.rglob("*"):
        if written.is_file():
            assert CANARY not in written.read_text(errors="replace")
    before = path.read_text()
    for transport in ("mock", "loopback"):  # offline: no URL, the upstream is not used
        replayed = pytester.runpytest_inprocess(*args, f"--agentfakes-transport={transport}")
        replayed.assert_outcomes(passed=1)
    assert len(real.runs) == 1
    assert path.read_text() == before
    again = pytester.runpytest_inprocess(  # once, with the file there: replay
        *args, "--agentfakes-record-mode=once", f"--agentfakes-hermes-url={url}"
    )
    again.assert_outcomes(passed=1)
    assert len(real.runs) == 1


def test_record_over_loopback_through_the_proxy(
    pytester: pytest.Pytester, upstream: tuple[FakeRunsServer, str]
) -> None:
    real, url = upstream
    pytester.makepyfile(
        test_app=APP
        + """
def test_hello(fake_runs_server):
    assert fake_runs_server.url.startswith("http://127.0.0.1:")
    assert run_app(fake_runs_server, "hello you")["output"] == "Hi there."
"""
    )
    result = pytester.runpytest_inprocess(
        *QUIET,
        "--agentfakes-record-mode=all",
        "--agentfakes-transport=loopback",
        f"--agentfakes-hermes-url={url}",
    )
    result.assert_outcomes(passed=1)
    (path,) = _files(pytester.path)
    assert Scenario.load(path).runs[0].input == "hello you"
    assert len(real.runs) == 1


def test_a_failing_recording_writes_nothing_and_scripts_are_ignored_with_a_warning(
    pytester: pytest.Pytester, upstream: tuple[FakeRunsServer, str]
) -> None:
    _, url = upstream
    pytester.makepyfile(
        test_app=APP
        + """
from agentfakes import Script

def test_fails(fake_runs_server):
    fake_runs_server.script(Script().complete("never used"))
    run_app(fake_runs_server, "hello you")
    assert False, "the app broke"

def test_warns(fake_runs_server):
    fake_runs_server.script(Script().complete("never used"))
    assert run_app(fake_runs_server, "hello you")["output"] == "Hi there."
"""
    )
    result = pytester.runpytest_inprocess(
        *QUIET, "--agentfakes-record-mode=all", f"--agentfakes-hermes-url={url}"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*scripts and faults this test registered were ignored*"])
    assert [p.name for p in _files(pytester.path)] == ["test_warns.yaml"]


def test_diff_passes_when_nothing_changed_and_shows_the_difference_when_it_did(
    pytester: pytest.Pytester, upstream: tuple[FakeRunsServer, str]
) -> None:
    real, url = upstream
    pytester.makepyfile(
        test_app=APP
        + """
def test_hello(fake_runs_server):
    run_app(fake_runs_server, "hello you")
"""
    )
    flags = [*QUIET, f"--agentfakes-hermes-url={url}"]
    pytester.runpytest_inprocess(*flags, "--agentfakes-record-mode=once").assert_outcomes(passed=1)
    (path,) = _files(pytester.path)
    before = path.read_text()
    pytester.runpytest_inprocess(*flags, "--agentfakes-record-mode=diff").assert_outcomes(passed=1)
    real.on_input("hello", Script().answer("Hello, changed.", usage=USAGE))
    real.router.rules.reverse()  # the new answer first
    changed = pytester.runpytest_inprocess(*flags, "--agentfakes-record-mode=diff")
    changed.assert_outcomes(passed=1, errors=1)  # the test ran; its teardown found drift
    changed.stdout.fnmatch_lines(
        [
            "*the real server now behaves differently from*",
            "*-  complete 'Hi there.'*",
            "*+  complete 'Hello, changed.'*",
        ]
    )
    assert path.read_text() == before  # diff never writes


def test_new_episodes_replays_stored_runs_and_appends_new_ones(
    pytester: pytest.Pytester,
    upstream: tuple[FakeRunsServer, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real, url = upstream
    pytester.makepyfile(
        test_app=APP
        + """
import os

def test_two(fake_runs_server):
    run_app(fake_runs_server, "hello you")
    if os.environ.get("SECOND"):
        run_app(fake_runs_server, "please approve")
"""
    )
    flags = [*QUIET, f"--agentfakes-hermes-url={url}"]
    pytester.runpytest_inprocess(*flags, "--agentfakes-record-mode=once").assert_outcomes(passed=1)
    assert len(real.runs) == 1
    monkeypatch.setenv("SECOND", "1")
    pytester.runpytest_inprocess(*flags, "--agentfakes-record-mode=new_episodes").assert_outcomes(
        passed=1
    )
    assert len(real.runs) == 2  # only the new input reached the real server
    (path,) = _files(pytester.path)
    assert [r.input for r in Scenario.load(path).runs] == ["hello you", "please approve"]
    pytester.runpytest_inprocess(*QUIET).assert_outcomes(passed=1)


def test_recording_needs_a_url_and_a_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_app=APP + "\ndef test_a(fake_runs_server):\n    pass\n")
    no_url = pytester.runpytest_inprocess(*QUIET, "--agentfakes-record-mode=all")
    no_url.stdout.fnmatch_lines(["*record mode all needs the real server*"])
    monkeypatch.delenv("HERMES_API_KEY", raising=False)
    no_key = pytester.runpytest_inprocess(
        *QUIET,
        "--agentfakes-record-mode=all",
        "--agentfakes-hermes-url=http://127.0.0.1:9",
        "--agentfakes-hermes-key-env=MY_HERMES_KEY",
    )
    no_key.stdout.fnmatch_lines(["*read from $MY_HERMES_KEY, which is not set*"])


def test_record_mode_ini_key_and_a_typo(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nagentfakes_record_mode = nope\n")
    pytester.makepyfile(test_app=APP + "\ndef test_a(fake_runs_server):\n    pass\n")
    result = pytester.runpytest_inprocess(*QUIET)
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*agentfakes_record_mode*"])


def test_default_paths(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_paths="""
import pytest

class TestGroup:
    def test_in_class(self):
        pass

@pytest.mark.parametrize("value", ["a/b", "c d"])
def test_param(value):
    pass
"""
    )
    items = pytester.getitems(pytester.path / "test_paths.py")
    names = [default_path(item).relative_to(pytester.path).as_posix() for item in items]
    assert names == [
        "scenarios/test_paths/TestGroup.test_in_class.yaml",
        "scenarios/test_paths/test_param[a_b].yaml",
        "scenarios/test_paths/test_param[c_d].yaml",
    ]
