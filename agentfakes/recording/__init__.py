"""`agentfakes.recording`: record real Hermes sessions into scenario files and replay them
(issue 9). Names are imported on first use, so `import agentfakes.recording` stays light.

- `Recorder` (recorder.py): forwards an app's traffic to the real server, holds each run's
  stream, and turns what it saw into a `Scenario`.
- `recording_mock` (httpx_recorder.py): in-process httpx recording; `serve_proxy`
  (proxy.py): the recording proxy on 127.0.0.1.
- `ScenarioPlayer` (replay.py): a scenario's runs as scripts (`server.load_scenario`).
- `Scenario`, `ScenarioRun`, `ScenarioError`: the file format (agentfakes.script.scenario).
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "Recorder": "agentfakes.recording.recorder",
    "LocalRuns": "agentfakes.recording.recorder",
    "recording_mock": "agentfakes.recording.httpx_recorder",
    "serve_proxy": "agentfakes.recording.proxy",
    "RecordingProxy": "agentfakes.recording.proxy",
    "ScenarioPlayer": "agentfakes.recording.replay",
    "Scenario": "agentfakes.script.scenario",
    "ScenarioRun": "agentfakes.script.scenario",
    "ScenarioError": "agentfakes.script.scenario",
    "normalise_run": "agentfakes.script.scenario",
}
__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'agentfakes.recording' has no attribute {name!r}")
    return getattr(importlib.import_module(_NAMES[name]), name)
