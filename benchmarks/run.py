"""Every figure of issue 12 in one table: `python benchmarks/run.py` (`--quick` for a pass).

Each row gives what was measured, its anchor (what a test would use without agentfakes,
or the same measurement at a small size for the growth rows), the ratio, the target and a
verdict. Ratios are medians of per-round ratios over interleaved repeats (a fake batch and
an anchor batch measured next to each other, alternating which goes first); the output
says so. P2 and P5's start-up come from `p2_virtual_time.py` / `p5_startup.py` when those
files exist (`measure()` each). See README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib.util
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import httpx  # noqa: E402
from bench_server import (  # noqa: E402
    BASE_URL,
    Paired,
    auth,
    get_via_mock,
    get_via_transport,
    new_server,
    paired,
    profile,
    scenario,
    timed,
)

from agentfakes import FakeRunsServer, ManualClock, Script  # noqa: E402
from agentfakes.engine import RunStore  # noqa: E402

INTERLEAVED = (
    "ratios are medians of per-round ratios over interleaved repeats "
    "(fake batch, anchor batch, alternating which goes first); [IQR] of those ratios"
)


@dataclass
class Row:
    figure: str
    measured: str
    anchor: str
    ratio: str
    target: str
    verdict: str


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else "PASS" if ok else "MISS"


def us(ns: float) -> str:
    return f"{ns / 1000:.1f} µs"


def ms(ns: float) -> str:
    return f"{ns / 1e6:.3f} ms"


def ratio_text(result: Paired) -> str:
    return f"{result.ratio:.2f}× [{result.ratio_lo:.2f}–{result.ratio_hi:.2f}]"


# ---------------------------------------------------------------- P4: SSE throughput


@functools.cache
def delta_script(events: int) -> Script:
    """`events - 1` deltas and a completion (built once: each builder call copies the
    steps, so a 10,000-step script takes ~0.4 s to build)."""
    script = Script()
    for index in range(events - 1):
        script = script.delta(f"token {index} ")
    return script.complete("done")


def stream_in_process(events: int) -> Callable[[int], list[int]]:
    """Events/s reading a run of `events` events through `server.transport()`."""

    def batch(n: int) -> list[int]:
        out = []
        for _ in range(n):
            server = FakeRunsServer(clock=ManualClock(), max_concurrent_runs=0)
            server.script(delta_script(events))
            client = httpx.Client(
                transport=server.transport(), base_url=BASE_URL, headers=auth(server)
            )
            run_id = client.post("/v1/runs", json={"input": "x"}).json()["run_id"]
            start = time.perf_counter_ns()
            with client.stream("GET", f"/v1/runs/{run_id}/events") as response:
                for _ in response.iter_raw():
                    pass
            out.append(time.perf_counter_ns() - start)
        return out

    return batch


def recorded_sse(events: int) -> list[bytes]:
    server = FakeRunsServer(clock=ManualClock(), max_concurrent_runs=0)
    server.script(delta_script(events))
    client = httpx.Client(transport=server.transport(), base_url=BASE_URL, headers=auth(server))
    run_id = client.post("/v1/runs", json={"input": "x"}).json()["run_id"]
    with client.stream("GET", f"/v1/runs/{run_id}/events") as response:
        body = b"".join(response.iter_raw())
    # one frame per chunk, as the real server writes them (transport() joins the frames
    # already buffered when the client reads, as one socket read would)
    return [frame + b"\n\n" for frame in body.split(b"\n\n") if frame]


class RawSse:
    """The anchor: an ASGI app streaming pre-built frames, one `send` per frame, with the
    fake's SSE headers, on the same uvicorn runner."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for frame in self.frames:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def stream_loopback(events: int, rounds: int) -> tuple[Paired, int]:
    """Fake loopback SSE vs the raw ASGI app on the same uvicorn runner; one client each."""
    from agentfakes.transports.loopback import LoopbackServer as Runner

    frames = recorded_sse(events)
    raw_runner = Runner(RawSse(frames))  # type: ignore[arg-type]
    raw_runner.start()
    server = FakeRunsServer(clock=ManualClock(), max_concurrent_runs=0)
    server.script(delta_script(events))
    serving = server.serve(verify=False)
    url = serving.start()
    try:
        fake_client = httpx.Client(base_url=url, headers=auth(server), timeout=30)
        raw_client = httpx.Client(base_url=raw_runner.url, timeout=30)

        def fake(n: int) -> list[int]:
            out = []
            for _ in range(n):
                run_id = fake_client.post("/v1/runs", json={"input": "x"}).json()["run_id"]
                start = time.perf_counter_ns()
                with fake_client.stream("GET", f"/v1/runs/{run_id}/events") as response:
                    for _ in response.iter_raw():
                        pass
                out.append(time.perf_counter_ns() - start)
            return out

        def raw(n: int) -> list[int]:
            out = []
            for _ in range(n):
                start = time.perf_counter_ns()
                with raw_client.stream("GET", "/events") as response:
                    for _ in response.iter_raw():
                        pass
                out.append(time.perf_counter_ns() - start)
            return out

        result = paired(fake, raw, ops=3, rounds=rounds, warmup=2)
        fake_client.close()
        raw_client.close()
    finally:
        serving.stop()
        raw_runner.stop()
    return result, len(frames)


# ---------------------------------------------------------------- P5: memory


def four_request_scenario(client: httpx.Client) -> None:
    """8 events, 4 requests: create, stream (approve on the gate), approval, poll."""
    run_id = client.post("/v1/runs", json={"input": "please deploy"}).json()["run_id"]
    with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        for line in stream.iter_lines():
            if '"approval.request"' in line:
                client.post(f"/v1/runs/{run_id}/approval", json={"choice": "once"})
    assert client.get(f"/v1/runs/{run_id}").json()["status"] == "completed"


def memory_of_runs(runs: int) -> tuple[float, int]:
    """Retained bytes for `runs` finished runs (store + journal), after gc; events per run."""
    gc.collect()
    server = new_server()
    server.engine.settings.max_concurrent_runs = 0
    client = httpx.Client(transport=server.transport(), base_url=BASE_URL, headers=auth(server))
    four_request_scenario(client)
    server.requests.clear()
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(runs):
            four_request_scenario(client)
        gc.collect()
        retained, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    events = len(server.runs.last.events)
    assert len(server.requests) == 4 * runs
    return retained - start, events


# ---------------------------------------------------------------- growth


def get_with_stored(stored: int) -> Callable[[int], list[int]]:
    """One GET through transport() with `stored` finished runs in the store."""
    server = FakeRunsServer(clock=ManualClock(), max_concurrent_runs=0)
    script = Script().answer("ok")
    for _ in range(stored):
        server.engine.create(script, input="x", request={})
    server.script(script)
    client = httpx.Client(transport=server.transport(), base_url=BASE_URL, headers=auth(server))
    run_id = client.post("/v1/runs", json={"input": "x"}).json()["run_id"]
    path = f"/v1/runs/{run_id}"

    def batch(n: int) -> list[int]:
        server.requests.clear()
        return timed(lambda: client.get(path), n)

    return batch


def per_event(events: int) -> Callable[[int], list[int]]:
    reader = stream_in_process(events)

    def batch(n: int) -> list[int]:
        return [round(t / events) for t in reader(n)]

    return batch


def sweep_cost(stored: int, hours: float = 2.0) -> Callable[[int], list[int]]:
    """ns per stored run of ticking a long timeline (one sweep a virtual minute, TTLs
    expiring along the way): `stored` finished runs, `hours` of virtual time."""

    def batch(n: int) -> list[int]:
        out = []
        for _ in range(n):
            clock = ManualClock()
            store = RunStore(clock)
            script = Script().answer("ok")
            for _ in range(stored):
                store.create(script, input="x", request={})
            start = time.perf_counter_ns()
            for _ in range(int(hours * 60)):
                clock._now += 60.0  # no listeners: the store is ticked by hand
                store.tick()
            out.append(round((time.perf_counter_ns() - start) / stored))
            assert not store.records  # every status record expired (3600 s)
        return out

    return batch


# ---------------------------------------------------------------- P6: xdist


def pytest_seconds(args: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return time.perf_counter() - start, done.returncode


# ---------------------------------------------------------------- optional measures


def optional_measure(name: str) -> Any:
    """`measure()` of benchmarks/<name>.py, another helper's file, if it is there."""
    path = HERE / f"{name}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.measure()


def rows_from(label: str, result: Any) -> list[Row]:
    """Rows from another file's `measure()`: a Row-like object, a dict, or a list of them."""
    if result is None:
        return [
            Row(
                label,
                "not measured",
                f"benchmarks/{label.split()[0].lower()}_*.py absent",
                "—",
                "—",
                "—",
            )
        ]
    items = result if isinstance(result, list | tuple) else [result]
    rows = []
    for item in items:
        data = (
            item if isinstance(item, dict) else getattr(item, "__dict__", {"measured": repr(item)})
        )

        def get(*keys: str, data: dict[str, Any] = data) -> str:
            return next((str(data[k]) for k in keys if k in data), "—")

        ok = data.get("ok", data.get("passed"))
        rows.append(
            Row(
                f"{label}: {get('name', 'figure', 'label')}",
                get("measured", "value", "fake"),
                get("anchor", "baseline", "base"),
                get("ratio"),
                get("target"),
                get("verdict")
                if "verdict" in data
                else verdict(ok if isinstance(ok, bool) else None),
            )
        )
    return rows


# ---------------------------------------------------------------- the table


class Rows(list[Row]):
    """The table so far; each row is echoed to stderr as it is measured (runs are long)."""

    def append(self, row: Row) -> None:
        super().append(row)
        print(f"  … {row.figure}: {row.measured} ({row.ratio})", file=sys.stderr, flush=True)

    def __iadd__(self, rows: Any) -> Rows:
        for row in rows:
            self.append(row)
        return self


def print_table(rows: list[Row]) -> None:
    header = Row("figure", "measured", "anchor", "ratio [IQR]", "target", "verdict")
    cells = [
        (r.figure, r.measured, r.anchor, r.ratio, r.target, r.verdict) for r in [header, *rows]
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(6)]
    for index, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller sizes")
    parser.add_argument(
        "--p6",
        choices=("suite", "examples", "skip"),
        default=None,
        help="what P6 times under -n 2 vs -n 0 (default: suite; --quick: examples)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile each missed row")
    parser.add_argument(
        "--only",
        default="p1,p2,p3,p4,p5,growth,p6",
        help="comma-separated groups to measure (default: all): p1 p2 p3 p4 p5 growth p6",
    )
    args = parser.parse_args()
    quick = args.quick
    p6 = args.p6 or ("examples" if quick else "suite")
    groups = {group.strip().lower() for group in args.only.split(",")}

    def n(value: int) -> int:
        return max(5, int(value * (0.3 if quick else 1.0)))

    started = time.perf_counter()
    print(
        f"agentfakes benchmarks (issue 12) — Python {sys.version.split()[0]}, httpx "
        f"{httpx.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        f"{', --quick' if quick else ''}"
    )
    print(INTERLEAVED + "; ManualClock unless noted\n")
    rows = Rows()
    missed: list[tuple[str, Callable[[], None]]] = []

    def add(
        figure: str,
        result: Paired,
        unit: Callable[[float], str],
        anchor: str,
        target: str,
        ok: bool,
        prof: Callable[[], None] | None = None,
    ) -> None:
        rows.append(
            Row(
                figure,
                unit(result.fake_ns),
                f"{unit(result.base_ns)} {anchor}",
                ratio_text(result),
                target,
                verdict(ok),
            )
        )
        if not ok and prof is not None:
            missed.append((figure, prof))

    # P1
    if "p1" in groups:
        fake, base, prof = get_via_mock()
        r = paired(fake, base, ops=60, rounds=n(41), warmup=300)
        add("P1 GET via mock()", r, us, "respx route", "≤ 1.05×", r.ratio <= 1.05, prof)
        fake, base, prof = get_via_transport()
        r = paired(fake, base, ops=80, rounds=n(41), warmup=400)
        add("P1 GET via transport()", r, us, "MockTransport", "≤ 1.25×", r.ratio <= 1.25, prof)

    # P2
    if "p2" in groups:
        rows += rows_from("P2 virtual time", optional_measure("p2_virtual_time"))

    # P3
    if "p3" in groups:
        fake, base, prof = scenario("transport", "manual")
        r = paired(fake, base, ops=15, rounds=n(41), warmup=40)
        add("P3 scenario via transport()", r, ms, "MockTransport", "< 1 ms", r.fake_ns < 1e6, prof)
        fake, base, prof = scenario("mock", "manual")
        r = paired(fake, base, ops=15, rounds=n(21), warmup=40)
        add("P3 scenario via mock()", r, ms, "respx route", "< 1.5 ms", r.fake_ns < 1.5e6, prof)
        rows.append(
            Row(
                "P3 scenario vs the real server",
                f"{r.fake_ns / 1e6:.3f} ms (mock())",
                "≥ 300 ms real hermes 0.19.0 to its approval.request (drift/OBSERVED.md)",
                f"≤ {r.fake_ns / 300e6:.4f}×",
                "context",
                "—",
            )
        )

    # P4
    if "p4" in groups:
        events = 2_000 if quick else 10_000
        reader = stream_in_process(events)
        samples = [statistics.median(reader(1)) for _ in range(n(9))]
        rate = events / (statistics.median(samples) / 1e9)
        rows.append(
            Row(
                f"P4 SSE in-process ({events:,} events)",
                f"{rate:,.0f} events/s",
                "—",
                "—",
                "≥ 100,000 events/s",
                verdict(rate >= 100_000),
            )
        )
        loop_events = 1_000 if quick else 5_000
        r, _frames = stream_loopback(loop_events, n(15))
        throughput = 1 / r.ratio
        rows.append(
            Row(
                f"P4 SSE loopback ({loop_events:,} events)",
                f"{loop_events / (r.fake_ns / 1e9):,.0f} events/s",
                f"{loop_events / (r.base_ns / 1e9):,.0f} events/s raw ASGI, same uvicorn",
                f"{throughput:.2f}× throughput [{1 / r.ratio_hi:.2f}–{1 / r.ratio_lo:.2f}]",
                "≥ 0.9×",
                verdict(throughput >= 0.9),
            )
        )

    # P5
    if "p5" in groups:
        rows += rows_from("P5 start-up", optional_measure("p5_startup"))
        runs = 2_000 if quick else 10_000
        retained, per_run_events = memory_of_runs(runs)
        scaled = retained * 10_000 / runs
        rows.append(
            Row(
                f"P5 memory, 10,000 finished runs{' (from 2,000)' if quick else ''}",
                f"{scaled / 2**20:.1f} MiB ({retained / runs / 1024:.1f} KiB/run)",
                f"{per_run_events} events, 4 requests each",
                "—",
                "< 100 MB",
                verdict(scaled < 100e6),
            )
        )

    # growth
    if "growth" in groups:
        r = paired(
            get_with_stored(10_000 if not quick else 2_000),
            get_with_stored(10),
            ops=60,
            rounds=n(21),
            warmup=100,
        )
        add(
            f"growth: GET with {10_000 if not quick else 2_000:,} stored runs",
            r,
            us,
            "with 10 runs",
            "flat (≤ 1.10×)",
            r.ratio <= 1.10,
        )
        big = 10_000 if not quick else 2_000
        r = paired(per_event(big), per_event(10), ops=1, rounds=n(15), warmup=1)
        add(
            f"growth: stream cost per event, {big:,} events",
            r,
            lambda v: f"{v / 1000:.2f} µs",
            "per event of 10",
            "flat (≤ 1.10×)",
            r.ratio <= 1.10,
        )
        stored = 10_000 if not quick else 2_000
        r = paired(sweep_cost(stored), sweep_cost(100), ops=1, rounds=n(7), warmup=1)
        add(
            f"growth: TTL sweeps, {stored:,} runs, 2 h virtual",
            r,
            lambda v: f"{v / 1000:.2f} µs/run",
            "per run with 100 runs",
            "flat per run (≤ 1.25×)",
            r.ratio <= 1.25,
        )

    # P6
    if "p6" in groups and p6 != "skip":
        targets = ["tests", "examples"] if p6 == "suite" else ["examples"]
        rounds = 1 if p6 == "suite" else 2
        serial, parallel, ratios = [], [], []
        for index in range(rounds):
            order = [("-n", "0"), ("-n", "2")] if index % 2 == 0 else [("-n", "2"), ("-n", "0")]
            times = {}
            for flag in order:
                times[flag[1]] = pytest_seconds([*targets, *flag])
            serial.append(times["0"][0])
            parallel.append(times["2"][0])
            ratios.append(times["0"][0] / times["2"][0])
        speedup = statistics.median(ratios)
        rows.append(
            Row(
                f"P6 xdist -n 2, {' + '.join(targets)} ({rounds} round{'s' * (rounds > 1)})",
                f"{statistics.median(parallel):.1f} s",
                f"{statistics.median(serial):.1f} s -n 0",
                f"{speedup:.2f}× faster",
                "≥ 1.6×",
                verdict(speedup >= 1.6),
            )
        )

    print_table(rows)
    print(f"\n{INTERLEAVED}.\ntook {time.perf_counter() - started:.0f} s")
    if args.profile:
        for label, target in missed:
            print(profile(label, target))
    elif missed:
        print(f"{len(missed)} timed row(s) missed: --profile prints where the time goes.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
