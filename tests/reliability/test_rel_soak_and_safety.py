"""A loopback soak (200 runs from 8 client threads: streaming, polling, approvals, stops)
and the safety guarantees (no network in-process, 127.0.0.1 only on loopback).

The soak checks every run's events as received over the socket against the server's
record: nothing lost, duplicated or reordered. Every wait is bounded (request timeouts,
poll-loop budgets, `future.result(timeout=...)`); time moves on a ManualClock (pollers
advance it in place of sleeping), so nothing sleeps in real time. After shutdown the
threads and open file descriptors are back to their baseline.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from reliability_support import LONG, STATS

from agentfakes import FakeRunsServer, ManualClock, Script
from agentfakes.errors import UnmockedRequestError

RUNS = 1000 if LONG else 200
THREADS = 8
SCRIPTS = {
    "plain": Script().answer("Hello there, deploy finished.", chunk=4),
    "tool": Script().tool("terminal", preview="make deploy", duration=0.2).answer("Deployed."),
    "gate": (
        Script()
        .tool_started("terminal", preview="rm -rf build")
        .approval("rm -rf build", "delete in root path", timeout=30.0)
        .tool_completed("terminal")
        .answer("Cleaned and deployed.", chunk=5)
    ),
    "two gates": (
        Script()
        .tool_started("terminal", preview="a")
        .tool_started("terminal", preview="b")
        .approval("rm -rf a", "parallel")
        .approval("rm -rf b", "parallel")
        .tool_completed("terminal")
        .tool_completed("terminal")
        .complete("both")
    ),
    "slow": Script().delta("a").wait(5.0).delta("b").wait(5.0).answer("slow one"),
    "fails": Script().delta("x").fail("HTTP 500: upstream error"),
}
MODES = ("stream", "stream", "poll", "stop-stream", "stop-poll")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class SoakClient:
    """One client thread's work: create a run, follow it one way, return what it saw."""

    def __init__(self, url: str, key: str, clock: ManualClock) -> None:
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10.0
        )
        self.clock = clock

    def close(self) -> None:
        self.http.close()

    def run(self, index: int) -> tuple[str, str, list[dict[str, Any]]]:
        kind = list(SCRIPTS)[index % len(SCRIPTS)]
        mode = MODES[(index // len(SCRIPTS)) % len(MODES)]
        created = self.http.post("/v1/runs", json={"input": f"soak {kind} #{index}"})
        assert created.status_code == 202, created.text
        run_id = created.json()["run_id"]
        if mode.startswith("stop"):
            assert self.http.post(f"/v1/runs/{run_id}/stop").status_code in (200, 404)
        if mode.endswith("poll"):
            self._poll(run_id)
        return run_id, mode, self._stream(run_id)

    def _poll(self, run_id: str) -> None:
        for _ in range(2000):  # bounded: a run ends within its scripted time
            run = self.http.get(f"/v1/runs/{run_id}").json()
            if run["status"] in ("completed", "failed", "cancelled"):
                return
            if run["status"] == "waiting_for_approval":
                self.http.post(f"/v1/runs/{run_id}/approval", json={"choice": "once"})
            self.clock.advance(0.25)  # the poller's sleep, on the server's clock
        raise AssertionError(f"{run_id} never finished")

    def _stream(self, run_id: str) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        with self.http.stream("GET", f"/v1/runs/{run_id}/events") as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    frames.append(event)
                    if event["event"] == "approval.request":
                        self.http.post(f"/v1/runs/{run_id}/approval", json={"choice": "once"})
                elif line == ": stream closed":
                    frames.append({"event": ": stream closed"})
        return frames


def test_loopback_soak_loses_nothing_and_leaks_nothing() -> None:
    threads_before, fds_before = set(threading.enumerate()), open_fds()
    clock = ManualClock()
    server = FakeRunsServer(clock=clock, max_concurrent_runs=0, strict=False)
    for name, script in SCRIPTS.items():
        server.on_input(f"soak {name} #", script)
    results: list[tuple[str, str, list[dict[str, Any]]]] = []
    with server.serve() as url:
        clients = [SoakClient(url, server.api_key, clock) for _ in range(THREADS)]
        local = threading.local()

        def work(index: int) -> tuple[str, str, list[dict[str, Any]]]:
            if not hasattr(local, "client"):
                local.client = clients[index % THREADS]
            return local.client.run(index)

        with ThreadPoolExecutor(THREADS, thread_name_prefix="soak") as pool:
            futures = [pool.submit(work, index) for index in range(RUNS)]
            results = [future.result(timeout=120) for future in futures]
        for client in clients:
            client.close()
    lost = duplicated = reordered = checked = 0
    for run_id, _mode, frames in results:
        recorded = [event.to_wire() for event in server.runs[run_id].events]
        received = [frame for frame in frames if frame["event"] != ": stream closed"]
        assert frames[-1] == {"event": ": stream closed"}, run_id
        checked += len(received)
        if received != recorded:
            keys = [json.dumps(e, sort_keys=True) for e in received]
            want = [json.dumps(e, sort_keys=True) for e in recorded]
            lost += len(set(want) - set(keys))
            duplicated += len(keys) - len(set(keys))
            reordered += int(sorted(keys) == sorted(want))  # same events, another order
    STATS["soak runs"] += len(results)
    STATS["soak events checked"] += checked
    STATS["soak events lost/duplicated/reordered"] += lost + duplicated + reordered
    assert (lost, duplicated, reordered) == (0, 0, 0)
    statuses = {server.runs[run_id].status.value for run_id, _, _ in results}
    assert statuses <= {"completed", "failed", "cancelled"}
    assert {mode for _, mode, _ in results} == set(MODES)
    # Threads and fds back to the baseline: uvicorn's thread and the pool joined.
    for thread in set(threading.enumerate()) - threads_before:
        thread.join(timeout=5)  # bounded; a thread still alive after it is a leak
    assert set(threading.enumerate()) <= threads_before
    fds_after = open_fds()
    STATS["soak fds before/after"] = f"{fds_before}/{fds_after}"  # type: ignore[assignment]
    assert fds_after <= fds_before


def test_in_process_refuses_unmocked_hosts_without_touching_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def spy(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: attempts.append(a) or [])
    server = FakeRunsServer()
    server.script(Script().answer("ok"))
    with server.mock(verify=False):
        for url in ("http://example.com/v1/runs", "https://api.openai.com/v1/models"):
            with pytest.raises(UnmockedRequestError, match=r"example\.com|api\.openai\.com"):
                httpx.get(url)
        ok = httpx.get(f"{server.base_url}/health")
        assert ok.status_code == 200
    assert attempts == []


def test_loopback_binds_127_0_0_1_only() -> None:
    server = FakeRunsServer()
    with server.serve() as url:
        assert url.startswith("http://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        assert httpx.get(f"{url}/health").status_code == 200
        others = {
            info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        } - {"127.0.0.1"}
        for address in others:
            probe = socket.socket()
            probe.settimeout(1.0)
            try:
                assert probe.connect_ex((address, port)) != 0, f"reachable on {address}"
            finally:
                probe.close()
