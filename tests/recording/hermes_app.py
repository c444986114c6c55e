"""A small app under test: it drives one Hermes run over HTTP the way a real client does.

It polls `GET /v1/runs/{id}` every `poll` seconds (time.sleep: virtual in replay, real
while recording), answers an approval when the run waits for one, stops the run once
`stop_after` seconds have passed, and at the end reads the run's event stream for its
transcript (a late subscriber gets every event, spec §5.6).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

TERMINAL = ("completed", "failed", "cancelled")


@dataclass
class Outcome:
    final: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)

    @property
    def event_names(self) -> list[str]:
        return [e["event"] for e in self.events]

    @property
    def text(self) -> str:
        return "".join(e["delta"] for e in self.events if e["event"] == "message.delta")


def run_app(
    url: str,
    api_key: str,
    text: str,
    *,
    poll: float = 0.05,
    choice: str | None = None,
    stop_after: float | None = None,
    deadline: float = 60.0,
) -> Outcome:
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30.0) as client:
        created = client.post("/v1/runs", json={"input": text})
        assert created.status_code == 202, created.text
        run_id = created.json()["run_id"]
        started = time.monotonic()
        statuses: list[str] = []
        stopped = False
        while True:
            run = client.get(f"/v1/runs/{run_id}").json()
            if not statuses or statuses[-1] != run["status"]:
                statuses.append(run["status"])
            if run["status"] in TERMINAL:
                break
            if run["status"] == "waiting_for_approval" and choice is not None:
                client.post(f"/v1/runs/{run_id}/approval", json={"choice": choice})
            if stop_after is not None and not stopped and time.monotonic() - started >= stop_after:
                assert client.post(f"/v1/runs/{run_id}/stop").status_code == 200
                stopped = True
            assert time.monotonic() - started < deadline, f"run {run_id} never ended"
            time.sleep(poll)
        events = []
        with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[len("data: ") :]))
        return Outcome(final=run, events=events, statuses=statuses)
