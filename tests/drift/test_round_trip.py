"""The record → replay round trip of the drift check, with the fake standing in for the
real server upstream (CI runs it against a real hermes-agent 0.19.0)."""

from __future__ import annotations

from agentfakes.clocks import ManualClock
from agentfakes.drift import reference_server
from agentfakes.drift.round_trip import APPS, format_round_trip, record, replay, round_trip


def test_five_apps_replay_as_recorded() -> None:
    upstream = reference_server(clock=ManualClock(grace=0.1))
    with upstream.serve() as url:
        results = round_trip(url, upstream.api_key)
    report = format_round_trip(results)
    assert [r.app for r in results] == list(APPS)
    assert all(r.passed for r in results), report
    assert "round trip: 5/5 apps replay as recorded" in report
    approved = results[1].recorded
    assert approved is not None and approved.answers == [200]
    assert [e["event"] for e in approved.events][-1] == "run.completed"


def test_record_then_replay_offline() -> None:
    upstream = reference_server(clock=ManualClock(grace=0.1))
    with upstream.serve() as url:
        scenario, recorded = record(url, upstream.api_key)
    stop = recorded["stop mid-run"]
    assert stop.final["status"] == "cancelled" and stop.answers == [200]
    replayed = replay(scenario)
    assert replayed["provider failure"].final == recorded["provider failure"].final
    assert replayed["provider failure"].final["error"] == "HTTP 500: fake upstream exploded"
