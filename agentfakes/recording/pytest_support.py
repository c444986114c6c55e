"""Record modes in pytest: what `fake_runs_server` does for a test marked
`@pytest.mark.agentfakes(scenario=True | "path.yaml")` (issue 9, "Recording in pytest").

The modes are pytest-recording's:

| mode | file exists | file missing |
|---|---|---|
| `none` (default, CI) | replay it offline | error: says how to record it |
| `once` | replay it offline | record against the real server, write it |
| `new_episodes` | stored inputs replay; other runs are recorded, appended | record |
| `all` | record again, overwrite | record, write |
| `diff` | record, compare with the file, fail on a difference; never write | error |

Recording runs on the real clock (the app's sleeps are real, so it never floods the real
server). In-process, only the `--agentfakes-hermes-url` host passes through; over
loopback the app talks to a recording proxy on 127.0.0.1 at `server.url`. The test's own
scripts and faults are ignored while recording (a warning says so) and not verified. A
test that fails writes nothing.

The plugin calls `add_options()` from `pytest_addoption` and `ScenarioFixture.for_test()`
from its fixture; everything else is here, so the plugin stays wiring.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from agentfakes.clocks import RealClock
from agentfakes.recording.options import (
    DEFAULT_KEY_ENV,
    INI_SCRUB,
    MODES,
    add_options,
    default_path,
    record_mode,
    scenario_path,
)
from agentfakes.recording.replay import ScenarioPlayer
from agentfakes.script.scenario import Scenario, ScenarioError, ScenarioRun
from agentfakes.server import FakeRunsServer

__all__ = ["MODES", "ScenarioFixture", "add_options", "default_path", "summary"]


class ScenarioFixture:
    """One opted-in test's scenario: where its file is, and whether it replays or records."""

    def __init__(self, request: pytest.FixtureRequest, value: Any) -> None:
        config = request.config
        self.request = request
        self.nodeid = request.node.nodeid
        self.mode = record_mode(config)
        self.path = scenario_path(request.node, value)
        self.url: str | None = config.getoption("agentfakes_hermes_url")
        self.key_env: str = config.getoption("agentfakes_hermes_key_env") or DEFAULT_KEY_ENV
        self.scrub = [*config.getoption("agentfakes_scrub"), *(config.getini(INI_SCRUB) or [])]
        self.stored: Scenario | None = self._stored()
        self.recording = self.mode in ("all", "diff", "new_episodes") or (
            self.mode == "once" and self.stored is None
        )
        self.recorder: Any = None
        if self.recording:
            self._check_can_record()

    @classmethod
    def for_test(cls, request: pytest.FixtureRequest, value: Any) -> ScenarioFixture:
        return cls(request, value)

    # -- what the plugin asks

    @property
    def clock(self) -> RealClock | None:
        """The real clock while recording (whatever the default); None: the plugin's."""
        return RealClock() if self.recording else None

    @property
    def skip(self) -> set[str]:
        """Checks that do not apply: the test's scripts and faults are not used while
        recording, and new_episodes keeps stored runs the app did not make again."""
        if self.mode == "new_episodes":
            return {"scripts", "faults", "scenario_runs"}
        return {"scripts", "faults"} if self.recording else set()

    def ways_in(self, server: FakeRunsServer, loopback: bool) -> AbstractContextManager[Any]:
        """The app's way to the fake (replay) or through the recorder to the real server."""
        if not self.recording:
            assert self.stored is not None
            server.load_scenario(self.stored)
            return server.serve(verify=False) if loopback else server.mock(verify=False)
        return self._recording(server, loopback)

    def finish(self, server: FakeRunsServer, *, failed: bool) -> None:
        """After the test: write the recording (or compare it, in diff); nothing if failed."""
        if not self.recording or self.recorder is None:
            return
        book = server.router
        if book.rules or book.queue or book.default or book.defaults or server.faults.unfired():
            self.request.node.warn(
                pytest.PytestWarning(
                    f"{self.nodeid}: recording against {self.url}: the scripts and faults this "
                    "test registered were ignored (the real server answered) and not verified"
                )
            )
        if failed:
            return
        fresh = self.recorder.scenario(self.stored if self.mode == "new_episodes" else None)
        if self.mode == "diff":
            self._compare(fresh)
        elif self.mode == "new_episodes" and self.stored is not None and not self.recorder.tapes:
            return  # nothing new: the file stays as it is
        else:
            fresh.dump(self.path)

    # -- internals

    def _stored(self) -> Scenario | None:
        if not self.path.exists():
            if self.mode in ("none", "diff"):
                pytest.fail(
                    f"{self.nodeid}: no scenario file at {self.path} (record mode "
                    f"{self.mode}). Record it against a real Hermes server with:\n"
                    f"  {self.key_env}=<key> pytest '{self.nodeid}' "
                    "--agentfakes-record-mode=once --agentfakes-hermes-url=<URL>",
                    pytrace=False,
                )
            return None
        if self.mode == "all":
            return None
        try:
            return Scenario.load(self.path)
        except ScenarioError as error:
            pytest.fail(f"{self.nodeid}: {error}", pytrace=False)

    def _check_can_record(self) -> None:
        if not self.url:
            pytest.fail(
                f"{self.nodeid}: record mode {self.mode} needs the real server: give "
                "--agentfakes-hermes-url=URL (and its key in "
                f"${self.key_env})",
                pytrace=False,
            )
        if not os.environ.get(self.key_env):
            pytest.fail(
                f"{self.nodeid}: record mode {self.mode}: the real server's key is read from "
                f"${self.key_env}, which is not set (--agentfakes-hermes-key-env names another)",
                pytrace=False,
            )
        if "virtual_clock" in self.request.fixturenames:
            pytest.fail(
                f"{self.nodeid}: recording runs on the real clock (the app's sleeps reach the "
                "real server); this test asks for the virtual_clock fixture. Drop it, or "
                "replay only (--agentfakes-record-mode=none)",
                pytrace=False,
            )

    @contextmanager
    def _recording(self, server: FakeRunsServer, loopback: bool) -> Iterator[Any]:
        from agentfakes.recording.httpx_recorder import recording_mock
        from agentfakes.recording.proxy import serve_proxy
        from agentfakes.recording.recorder import LocalRuns, Recorder

        assert self.url is not None
        local = None
        if self.mode == "new_episodes" and self.stored is not None:
            player: ScenarioPlayer = server.load_scenario(self.stored)
            local = LocalRuns(server.handle, player.claims)
        recorder = Recorder(
            self.url,
            os.environ[self.key_env],
            app_key=server.api_key,
            scrub=self.scrub,
            local=local,
        )
        self.recorder = recorder
        recorder.probe_version()
        try:
            if loopback:
                with serve_proxy(recorder.handle) as url:
                    server.loopback_url = url
                    try:
                        yield server
                    finally:
                        server.loopback_url = None
            else:
                with recording_mock(recorder, server.base_url):
                    yield server
            recorder.wait()
        finally:
            recorder.close()

    def _compare(self, fresh: Scenario) -> None:
        stored = self.stored
        assert stored is not None
        before, after = summary(stored.runs), summary(fresh.runs)
        if before != after:
            lines = difflib.unified_diff(
                before,
                after,
                fromfile=str(self.path),
                tofile=f"the real server ({self.url})",
                lineterm="",
            )
            pytest.fail(
                f"{self.nodeid}: the real server now behaves differently from "
                f"{self.path} (the file is left as it is):\n" + "\n".join(lines),
                pytrace=False,
            )


def summary(runs: list[ScenarioRun]) -> list[str]:
    """What diff mode compares: per run its input, event names with their texts, the
    approval choices and stop, the final status and error; no ids, times or waits."""
    lines: list[str] = []
    for number, run in enumerate(runs, start=1):
        lines.append(f"run {number}: input {run.input!r}")
        if run.surface != "runs":  # a chat completion, response or session chat: no statuses
            lines.append(f"  surface: {run.surface}")
        else:
            lines.append(f"  statuses: {' -> '.join(statuses(run))}")
        for step in run.script.to_dict()["steps"]:
            ((verb, arguments),) = step.items()
            arguments = arguments or {}
            if verb == "wait":
                continue
            text = next(
                (arguments[k] for k in ("text", "output", "error", "command") if k in arguments),
                arguments.get("name", ""),
            )
            lines.append(f"  {verb} {text!r}")
        for approval in run.approvals:
            lines.append(f"  the app answered an approval: {approval.choice}")
        if run.stop is not None:
            lines.append("  the app stopped the run")
        final = run.final or {}
        if run.surface != "runs":
            continue
        lines.append(f"  final status: {final.get('status')}")
        if final.get("error"):
            lines.append(f"  final error: {final['error']}")
    return lines


def statuses(run: ScenarioRun) -> list[str]:
    """The run's status sequence as its steps and the app's moves make it (spec §4),
    whatever the app's polling rate: running, waiting_for_approval, stopping, the end."""
    seen = ["running"]
    answered = iter(run.approvals)
    for step in run.script.to_dict()["steps"]:
        if "approval" in step and seen[-1] != "waiting_for_approval":
            seen.append("waiting_for_approval")
            answer = next(answered, None)
            if answer is not None and answer.choice != "timeout":  # a timeout keeps waiting
                seen.append("running")
    if run.stop is not None:
        seen.append("stopping")
    final = (run.final or {}).get("status")
    if final and final != seen[-1]:
        seen.append(str(final))
    return seen
