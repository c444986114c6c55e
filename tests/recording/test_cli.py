"""`agentfakes record`, `agentfakes serve --scenario`, `agentfakes scenarios check|schema`
(real subprocesses for the two that run until SIGINT; a FakeRunsServer on 127.0.0.1
stands in for the real server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentfakes import FakeRunsServer, Script
from agentfakes.cli import main
from agentfakes.script.scenario import Scenario

CANARY = "sk-canary-91b2c3d4e5f60718-cli-only"
FOLDER = Path(__file__).parent / "scenarios" / "hermes-0.19.0"


@pytest.fixture
def upstream() -> Iterator[tuple[FakeRunsServer, str]]:
    real = FakeRunsServer(api_key=CANARY, strict=False)
    real.on_input("hello", Script().answer("Hi there."))
    with real.serve(verify=False) as url:
        yield real, url


def _start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "agentfakes.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _line_with(process: subprocess.Popen[str], text: str) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if text in line:
            return line
    raise AssertionError(
        f"no line with {text!r}; stderr: {process.stderr.read() if process.stderr else ''}"
    )


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    return out, err


def test_record_runs_the_proxy_until_sigint_then_writes_the_file(
    upstream: tuple[FakeRunsServer, str], tmp_path: Path
) -> None:
    real, url = upstream
    out = tmp_path / "recorded.yaml"
    process = _start(
        "record",
        "--upstream",
        url,
        "--out",
        str(out),
        "--key-env",
        "MY_KEY",
        env={"MY_KEY": CANARY},
    )
    try:
        proxy = _line_with(process, "PROXY_URL=").strip().split("=", 1)[1]
        assert proxy.startswith("http://127.0.0.1:")
        headers = {"Authorization": "Bearer anything-the-app-has-1234"}
        with httpx.Client(base_url=proxy, headers=headers) as client:
            run_id = client.post("/v1/runs", json={"input": "hello there"}).json()["run_id"]
            with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
                body = b"".join(stream.iter_bytes())
        assert body.endswith(b": stream closed\n\n")
        assert not out.exists()
    finally:
        stdout, _ = _stop(process)
    assert process.returncode == 0, stdout
    assert "wrote 1 run(s)" in stdout
    scenario = Scenario.load(out)
    assert scenario.runs[0].input == "hello there"
    assert scenario.recorded.server == "hermes-agent 0.19.0"
    assert CANARY not in out.read_text()
    assert len(real.runs) == 1


def test_record_without_the_key_says_which_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "record",
            "--upstream",
            "http://127.0.0.1:9",
            "--out",
            str(tmp_path / "x.yaml"),
            "--key-env",
            "NOPE_KEY_X",
        ]
    )
    assert code == 2
    assert "$NOPE_KEY_X" in capsys.readouterr().err


def test_serve_replays_a_scenario_and_names_unmatched_inputs() -> None:
    path = FOLDER / "completed.yaml"
    process = _start("serve", "--scenario", str(path), "--port", "0")
    try:
        url = _line_with(process, "replaying").rsplit(" on ", 1)[1].strip()
        key = _line_with(process, "API key:").split(":", 1)[1].strip()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
            matched = client.post("/v1/runs", json={"input": "[[scenario:complete]] say hello"})
            other = client.post("/v1/runs", json={"input": "something else"})
            assert matched.status_code == other.status_code == 202
            with client.stream("GET", f"/v1/runs/{other.json()['run_id']}/events") as stream:
                failed = b"".join(stream.iter_bytes()).decode()
    finally:
        _, stderr = _stop(process)
    assert "run.failed" in failed and "something else" in failed and "completed.yaml" in failed
    assert "no run in" in stderr and "'something else'" in stderr


def test_scenarios_check_validates_and_lists_stale_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((FOLDER / "completed.yaml").read_text().replace("- delta:", "- deltaa:", 1))
    assert main(["scenarios", "check", str(FOLDER / "completed.yaml")]) == 0
    assert "ok:" in capsys.readouterr().out
    assert main(["scenarios", "check", str(bad), str(FOLDER / "completed.yaml")]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:" in out and "unknown step 'deltaa'" in out and "1 invalid" in out
    assert (
        main(["scenarios", "check", "--server-version", "0.20.0", str(FOLDER / "completed.yaml")])
        == 0
    )
    assert "stale:" in capsys.readouterr().out


def test_scenarios_schema_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "agentfakes scenario file"
    assert "runs" in schema["properties"]
