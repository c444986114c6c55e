"""`agentfakes demo | serve | --version`: readable, validated, and honest about ports."""

from __future__ import annotations

import socket
import threading

import pytest

from agentfakes import cli

pytest_plugins = ["pytester"]


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str) -> None:
        self.lines.extend(text.split("\n"))


def test_demo_prints_a_timeline_in_virtual_time_and_the_pytest_test() -> None:
    out = Lines()
    assert cli.demo(out) == 0  # type: ignore[arg-type]
    text = "\n".join(out.lines)
    assert "(in-process, virtual time)" in text
    assert '  +0.000s    approval.request     {"command": "rm -rf build"' in text
    assert '  +1.500s    tool.completed       {"tool": "terminal", "duration": 1.5' in text
    assert (
        '  +3.500s    run.completed        {"output": "Deployed version 1.4.2 to staging."' in text
    )
    assert "3.5 scripted seconds, no real waiting" in text
    assert not any(line.endswith("…") for line in out.lines)  # nothing is cut
    assert text.rstrip().endswith(cli.DEMO_TEST.rstrip())


def test_the_printed_test_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_demo=cli.DEMO_TEST)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("agentfakes 0.1.0 (hermes-agent 0.19.0)")


def test_serve_help_shows_every_flag_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for flag, default in [
        ("--port", "8642"),
        ("--api-key", "sk-test-0123456789abcdef"),
        ("--model", "hermes- agent"),
        ("--max-concurrent-runs", "10"),
        ("--approval-timeout", "60.0"),
    ]:
        assert flag in out and f"(default: {default})" in out, flag


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "--port must be an int from 0 to 65535, got 70000"),
        (["--port", "-5"], "--port must be an int from 0 to 65535, got -5"),
        (["--port", "http"], "--port must be a number, not 'http'"),
        (["--approval-timeout", "nan"], "--approval-timeout must be a non-negative finite"),
        (["--approval-timeout", "-1"], "--approval-timeout must be a non-negative finite"),
        (["--max-concurrent-runs", "1.5"], "--max-concurrent-runs must be a number, not '1.5'"),
        (["--max-concurrent-runs", "-1"], "--max-concurrent-runs must be an int >= 0, got -1"),
    ],
)
def test_bad_serve_flags(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", *args])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_short_api_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--api-key", "short"]) == 2
    assert "api_key must be a string of at least 16 characters" in capsys.readouterr().err


def test_a_busy_port_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "--port 0 for any free port" in err and "Traceback" not in err


def test_serve_uses_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    stop.set()  # serve, print, and stop at once
    options = cli.ServeOptions(port=0, api_key="sk-test-" + "x" * 16, model="m-cli")
    assert cli.serve(options, stop=stop) == 0
    out = capsys.readouterr().out
    assert "fake Hermes Runs API on http://127.0.0.1:" in out
    assert "API key: sk-test-xxxxxxxxxxxxxxxx   model: m-cli" in out
