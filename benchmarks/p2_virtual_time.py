"""P2: what virtual time costs (issue 8, item 6). Figures, not timed tests.

    .venv/bin/python benchmarks/p2_virtual_time.py             # the rows (~20 s)
    .venv/bin/python benchmarks/p2_virtual_time.py --quick     # fewer rounds
    .venv/bin/python benchmarks/p2_virtual_time.py --profile   # + cProfile of each fake side

Rows (`measure()` returns them as dicts: name, fake, anchor, ratio, target, verdict):

1. An app polls every 2 s (`time.sleep(2)`) a run scripted for 600 s, under an active
   VirtualClock, through `mock()`; anchor: the same 302 requests (1 create, 301 polls)
   without any clock or sleep. Target ≤ 1.1×.
2. The same through `transport()`. Target ≤ 1.1×.
3. Speed-up over the scripted 600 s via `transport()`: 600 s / row 2's real cost.
   Target ≥ 10,000×.
4. The same loop in asyncio (`await asyncio.sleep(2)`, `async_transport()`), the loop
   virtual; anchor: the same requests on a plain loop. Target ≤ 1.1×. The anchor never
   suspends, so 300 sleeps' worth of asyncio (a timer, a loop iteration each) is on the
   fake's side only; further rows give the anchor one `asyncio.sleep(0)` per poll, and
   one real timer due at once (`asyncio.sleep(1e-9)`) per poll, which leaves the clock's
   own share.
5. A stream reader crossing a 60 s approval timeout (a keepalive at 30 s, then the
   timeout) via `transport()`: real time from `approval.request` to the next data frame.
   Target < 1 ms.

The clock is activated before timing starts (activating it costs a module scan by
freezegun; that is per test, not per request, and is reported as its own row). Ratios are
medians of per-round ratios over interleaved repeats (fake, anchor, then anchor, fake, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from freezegun import api as freezegun_api

from agentfakes import FakeRunsServer, Script, VirtualClock

BASE_URL = "http://hermes.test"
SCRIPTED = 600.0
POLL_EVERY = 2.0
POLLS = int(SCRIPTED / POLL_EVERY) + 1  # t = 0, 2, ..., 600


class _Real:
    """Real `perf_counter`, kept as a class attribute: freezegun swaps module globals that
    hold its real functions while a clock is active, but not attributes of objects."""

    perf_counter = staticmethod(freezegun_api.real_perf_counter)


def _slow_run() -> Script:
    return Script().wait(SCRIPTED).complete(output="done")


def _headers(server: FakeRunsServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}"}


# ---------------------------------------------------------------- the apps


def _poll_app(client: httpx.Client, sleep: Callable[[float], None] | None) -> int:
    """Create a run, poll it every 2 s until it completes; returns the requests made."""
    run_id = client.post("/v1/runs", json={"input": "slow"}).json()["run_id"]
    requests = 1
    for _ in range(POLLS):
        status = client.get(f"/v1/runs/{run_id}").json()["status"]
        requests += 1
        if status == "completed":
            break
        if sleep is not None:
            sleep(POLL_EVERY)
    return requests


async def _apoll_app(client: httpx.AsyncClient, pause: float | None) -> int:
    run_id = (await client.post("/v1/runs", json={"input": "slow"})).json()["run_id"]
    requests = 1
    for _ in range(POLLS):
        status = (await client.get(f"/v1/runs/{run_id}")).json()["status"]
        requests += 1
        if status == "completed":
            break
        if pause is not None:
            await asyncio.sleep(pause)
    return requests


# ---------------------------------------------------------------- one timed round each


def fake_poll(way: str) -> float:
    """Seconds of real time for the polling app under virtual time (clock already active)."""
    with VirtualClock() as clock:
        server = FakeRunsServer(clock=clock).script(_slow_run())
        if way == "mock":
            with server.mock(), httpx.Client(base_url=BASE_URL, headers=_headers(server)) as c:
                start = _Real.perf_counter()
                made = _poll_app(c, time.sleep)
                took = _Real.perf_counter() - start
        else:
            with httpx.Client(
                transport=server.transport(), base_url=BASE_URL, headers=_headers(server)
            ) as c:
                start = _Real.perf_counter()
                made = _poll_app(c, time.sleep)
                took = _Real.perf_counter() - start
        assert made == POLLS + 1 and clock.elapsed == SCRIPTED, (made, clock.elapsed)
    return took


def anchor_poll(way: str) -> float:
    """The same number of requests, no clock, no sleeping (the run stays `running`)."""
    server = FakeRunsServer().script(_slow_run())
    if way == "mock":
        with server.mock(), httpx.Client(base_url=BASE_URL, headers=_headers(server)) as c:
            start = _Real.perf_counter()
            made = _poll_app(c, None)
            took = _Real.perf_counter() - start
    else:
        with httpx.Client(
            transport=server.transport(), base_url=BASE_URL, headers=_headers(server)
        ) as c:
            start = _Real.perf_counter()
            made = _poll_app(c, None)
            took = _Real.perf_counter() - start
    assert made == POLLS + 1, made
    return took


def fake_apoll() -> float:
    with VirtualClock() as clock:
        server = FakeRunsServer(clock=clock).script(_slow_run())

        async def main() -> float:
            async with httpx.AsyncClient(
                transport=server.async_transport(), base_url=BASE_URL, headers=_headers(server)
            ) as c:
                start = _Real.perf_counter()
                made = await _apoll_app(c, POLL_EVERY)
                took = _Real.perf_counter() - start
            assert made == POLLS + 1
            return took

        took = asyncio.run(main())
        assert clock.elapsed == SCRIPTED
    return took


TIMER = 1e-9  # a real asyncio timer that is due at once: what sleeping costs asyncio itself


def anchor_apoll(pause: float | None = None) -> float:
    """The same requests on a plain loop; `pause=0` yields to the loop between polls and
    `pause=TIMER` sleeps on a real timer due at once, so the loop's own cost of sleeping
    (a timer, a future, a loop iteration) is on both sides and the rest is the clock's."""
    server = FakeRunsServer().script(_slow_run())

    async def main() -> float:
        async with httpx.AsyncClient(
            transport=server.async_transport(), base_url=BASE_URL, headers=_headers(server)
        ) as c:
            start = _Real.perf_counter()
            made = await _apoll_app(c, pause)
            took = _Real.perf_counter() - start
        assert made == POLLS + 1
        return took

    return asyncio.run(main())


GATED = (
    Script()
    .tool_started("terminal", "rm -rf build")
    .approval("rm -rf build", "delete in root path")  # the server's 60 s timeout
    .tool_completed("terminal")
    .complete(output="skipped")
)


def approval_timeout() -> float:
    """Real seconds a stream reader spends crossing a 60 s approval timeout."""
    with VirtualClock() as clock:
        server = FakeRunsServer(clock=clock).script(GATED)
        with httpx.Client(
            transport=server.transport(),
            base_url=BASE_URL,
            headers=_headers(server),
            timeout=httpx.Timeout(5.0, read=None),
        ) as c:
            run_id = c.post("/v1/runs", json={"input": "x"}).json()["run_id"]
            with c.stream("GET", f"/v1/runs/{run_id}/events") as stream:
                lines = stream.iter_lines()
                start = None
                took = None
                for line in lines:
                    if '"approval.request"' in line:
                        start = _Real.perf_counter()
                    elif start is not None and line.startswith("data: "):
                        took = _Real.perf_counter() - start
                        break
                for _ in lines:
                    pass
        assert took is not None and clock.elapsed == 60, clock.elapsed
    return took


def activation() -> float:
    """Real seconds to activate and deactivate a VirtualClock in this process."""
    start = _Real.perf_counter()
    with VirtualClock():
        pass
    return _Real.perf_counter() - start


# ---------------------------------------------------------------- harness


def paired(
    fake: Callable[[], float], anchor: Callable[[], float], rounds: int
) -> tuple[float, float, float, float, float]:
    """Median fake, median anchor, median per-round ratio and its IQR over interleaved rounds."""
    fake(), anchor()  # warm-up
    fakes, anchors, ratios = [], [], []
    for index in range(rounds):
        gc.collect()
        if index % 2:
            a, f = anchor(), fake()
        else:
            f, a = fake(), anchor()
        fakes.append(f)
        anchors.append(a)
        ratios.append(f / a)
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    return (
        statistics.median(fakes),
        statistics.median(anchors),
        statistics.median(ratios),
        quartiles[0],
        quartiles[2],
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def measure(rounds: int = 15) -> list[dict[str, Any]]:
    """The P2 rows (see the module docstring)."""
    rows: list[dict[str, Any]] = []
    results: dict[str, float] = {}
    for way in ("mock", "transport"):
        f, a, ratio, lo, hi = paired(
            lambda way=way: fake_poll(way), lambda way=way: anchor_poll(way), rounds
        )
        results[way] = f
        rows.append(
            {
                "name": f"poll a 600 s run every 2 s, virtual, via {way}()",
                "fake": _ms(f),
                "anchor": f"{_ms(a)} ({POLLS + 1} requests, no clock)",
                "ratio": f"{ratio:.2f}× [{lo:.2f}–{hi:.2f}]",
                "target": "≤ 1.10×",
                "verdict": _verdict(ratio <= 1.10),
            }
        )
    speedup = SCRIPTED / results["transport"]
    rows.append(
        {
            "name": "speed-up over the scripted 600 s via transport()",
            "fake": _ms(results["transport"]),
            "anchor": f"{SCRIPTED:g} s scripted",
            "ratio": f"{speedup:,.0f}×",
            "target": "≥ 10,000×",
            "verdict": _verdict(speedup >= 10_000),
        }
    )
    f, a, ratio, lo, hi = paired(fake_apoll, anchor_apoll, rounds)
    rows.append(
        {
            "name": "the same loop in asyncio via async_transport()",
            "fake": f"{_ms(f)} ({SCRIPTED / f:,.0f}× speed-up)",
            "anchor": f"{_ms(a)} ({POLLS + 1} requests, no clock)",
            "ratio": f"{ratio:.2f}× [{lo:.2f}–{hi:.2f}]",
            "target": "≤ 1.10×",
            "verdict": _verdict(ratio <= 1.10),
        }
    )
    f, a, ratio, lo, hi = paired(fake_apoll, lambda: anchor_apoll(0), rounds)
    rows.append(
        {
            "name": "the same, anchor yielding to its loop each poll (asyncio.sleep(0))",
            "fake": _ms(f),
            "anchor": f"{_ms(a)} ({POLLS + 1} requests, {POLLS - 1} yields)",
            "ratio": f"{ratio:.2f}× [{lo:.2f}–{hi:.2f}]",
            "target": "—",
            "verdict": "—",
        }
    )
    f, a, ratio, lo, hi = paired(fake_apoll, lambda: anchor_apoll(TIMER), rounds)
    rows.append(
        {
            "name": "the same, anchor sleeping on a real 1 ns timer each poll",
            "fake": _ms(f),
            "anchor": f"{_ms(a)} ({POLLS + 1} requests, {POLLS - 1} timers)",
            "ratio": f"{ratio:.2f}× [{lo:.2f}–{hi:.2f}]",
            "target": "— (the clock's own share)",
            "verdict": "—",
        }
    )
    approval_timeout()  # warm-up
    crossings = [approval_timeout() for _ in range(rounds)]
    crossing = statistics.median(crossings)
    rows.append(
        {
            "name": "a stream reader crossing a 60 s approval timeout",
            "fake": _ms(crossing),
            "anchor": "—",
            "ratio": "—",
            "target": "< 1 ms",
            "verdict": _verdict(crossing < 0.001),
        }
    )
    activation()
    cost = statistics.median(activation() for _ in range(max(3, rounds // 3)))
    rows.append(
        {
            "name": f"activating a VirtualClock ({len(sys.modules)} modules loaded)",
            "fake": _ms(cost),
            "anchor": "—",
            "ratio": "—",
            "target": "— (once per test)",
            "verdict": "—",
        }
    )
    return rows


def profile() -> None:
    """Where the fake side's time goes, for each row's fake function."""
    for name, work in (
        ("poll via mock()", lambda: fake_poll("mock")),
        ("poll via transport()", lambda: fake_poll("transport")),
        ("asyncio poll", fake_apoll),
        ("approval timeout", approval_timeout),
        ("activation", activation),
    ):
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(3):
            work()
        profiler.disable()
        print(f"\n=== {name}: top functions by own time ===")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--profile", action="store_true", help="cProfile each fake side")
    args = parser.parse_args()
    rows = measure(rounds=5 if args.quick else 15)
    keys = ("name", "fake", "anchor", "ratio", "target", "verdict")
    widths = [max(len(k), *(len(str(r[k])) for r in rows)) for k in keys]
    print("  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(row[k]).ljust(w) for k, w in zip(keys, widths, strict=True)))
    print(f"\nload average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        "ratios: medians of per-round ratios over interleaved repeats "
        "(fake then anchor, then anchor then fake, ...); [IQR] of those ratios"
    )
    if args.profile:
        profile()
    return 0


if __name__ == "__main__":
    sys.exit(main())
