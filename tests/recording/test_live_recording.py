"""Record the five app tests against a REAL hermes-agent server, then replay them offline,
and check the real server still behaves as the committed scenario files say.

Opt-in, because it needs the real server: it runs with `AGENTFAKES_REAL_HERMES=1` (it then
starts hermes-agent 0.19.0 on 127.0.0.1 with drift/real_hermes.py, from its cached venv,
and stops it) or with `--agentfakes-hermes-url=URL` (a server you run; its key in the
variable `--agentfakes-hermes-key-env` names). Everything is written under a temp dir.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from agentfakes.recording.pytest_support import summary
from agentfakes.script.scenario import Scenario

HERE = Path(__file__).resolve().parent
LIVE_ENV = "AGENTFAKES_REAL_HERMES"
NAMES = ("completed", "approval-approved", "approval-denied", "stop-mid-run", "provider-failure")


def test_record_against_the_real_server_then_replay_offline(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.config.getoption("agentfakes_hermes_url")
    if not url and os.environ.get(LIVE_ENV) != "1":
        pytest.skip(
            "needs a real hermes-agent server: set AGENTFAKES_REAL_HERMES=1 to start "
            "hermes-agent 0.19.0 on 127.0.0.1 (drift/real_hermes.py, cached venv), or pass "
            "--agentfakes-hermes-url=URL with the key in $HERMES_API_KEY; the recorded "
            "scenarios themselves replay offline in test_app_scenarios.py"
        )
    key = os.environ.get(request.config.getoption("agentfakes_hermes_key_env")) if url else None
    sys.path.insert(0, str(HERE))
    try:
        from record_real import record  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(HERE))
    assert record(into=tmp_path, url=url, key=key) == 0  # recorded, then replayed offline
    fresh_folder = tmp_path / "recording" / "scenarios" / "hermes-0.19.0"
    for name in NAMES:
        fresh = Scenario.load(fresh_folder / f"{name}.yaml")
        committed = Scenario.load(HERE / "scenarios" / "hermes-0.19.0" / f"{name}.yaml")
        assert fresh.recorded.server == committed.recorded.server
        assert summary(fresh.runs) == summary(committed.runs), name
