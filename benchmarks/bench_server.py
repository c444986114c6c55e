"""Side-by-side benchmarks of the fake Runs server against bare httpx/respx baselines.

Run from the repository root:

    .venv/bin/python benchmarks/bench_server.py               # the table (~30 s, < 60 s)
    .venv/bin/python benchmarks/bench_server.py --profile     # + where the time goes (misses)
    .venv/bin/python benchmarks/bench_server.py --profile-all # + the same for every path
    .venv/bin/python benchmarks/bench_server.py --quick       # fewer rounds, a smoke run

Every figure is measured in this one process, the fake and its baseline interleaved
batch by batch (A B, then B A, ...), so a machine that slows down mid-run slows both.
Timing is `time.perf_counter_ns` only. Each operation is timed on its own and a batch
counts as its median operation; a row reports the median of those over the rounds, and
the ratio is the median of the per-round ratios (each round pairs one fake batch with the
baseline batch measured right next to it). Nothing here is a pass/fail test: the table
says PASS or MISS against the project's targets, for people to read. See README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import linecache
import os
import pstats
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import pydantic
import respx

from agentfakes.clocks import Clock, ManualClock, RealClock
from agentfakes.script import Script
from agentfakes.server import FakeRunsServer

BASE_URL = "http://hermes.test"
RUN_PATH = "/v1/runs/run_0123456789abcdef0123456789abcdef"


def scenario_script() -> Script:
    """Tool start, approval, tool completed, deltas, completion (the brief's scenario)."""
    return (
        Script()
        .tool_started("terminal", preview="rm -rf build")
        .approval(command="rm -rf build", description="delete in root path")
        .tool_completed("terminal")
        .delta("Dep")
        .delta("loy")
        .delta("ed")
        .complete(output="Deployed")
    )


def new_server(clock: Clock | None = None) -> FakeRunsServer:
    server = FakeRunsServer(clock=clock if clock is not None else ManualClock())
    server.script(scenario_script())
    return server


def auth(server: FakeRunsServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}"}


# ---------------------------------------------------------------- timing harness

Batch = Callable[[int], list[int]]  # run n operations, return each one's nanoseconds


@dataclass
class Paired:
    fake_ns: float  # median over rounds of the per-batch median operation
    base_ns: float
    ratio: float  # median of the per-round ratios fake/baseline
    ratio_lo: float  # quartiles of those ratios, to judge the noise
    ratio_hi: float


def paired(fake: Batch, base: Batch, *, ops: int, rounds: int, warmup: int) -> Paired:
    """Interleave fake and baseline batches, alternating which goes first.

    Each operation is timed on its own and a batch counts as its median operation, so a
    preemption by another process (this is a shared 2-core machine) or a GC pause that
    hits a few operations does not move the figure; the rounds then pair each fake batch
    with the baseline batch measured right next to it.
    """
    fake(warmup)
    base(warmup)
    fake_ns: list[float] = []
    base_ns: list[float] = []
    ratios: list[float] = []
    for index in range(rounds):
        gc.collect()
        if index % 2 == 0:
            a = statistics.median(fake(ops))
            b = statistics.median(base(ops))
        else:
            b = statistics.median(base(ops))
            a = statistics.median(fake(ops))
        fake_ns.append(a)
        base_ns.append(b)
        ratios.append(a / b)
    quartiles = statistics.quantiles(ratios, n=4)
    return Paired(
        statistics.median(fake_ns),
        statistics.median(base_ns),
        statistics.median(ratios),
        quartiles[0],
        quartiles[2],
    )


def timed(body: Callable[[], object], n: int) -> list[int]:
    clock = time.perf_counter_ns
    out = []
    for _ in range(n):
        start = clock()
        body()
        out.append(clock() - start)
    return out


# ---------------------------------------------------------------- 1. GET via server.mock()


def completed_run(server: FakeRunsServer, client: httpx.Client) -> tuple[str, dict[str, Any]]:
    """Create and finish one run; return its id and its wire JSON (the baseline's canned body)."""
    run_id = client.post("/v1/runs", json={"input": "deploy"}).json()["run_id"]
    server.approve(run_id, "once")
    body = client.get(f"/v1/runs/{run_id}").json()
    assert body["status"] == "completed", body
    return run_id, body


def get_via_mock() -> tuple[Batch, Batch, Callable[[], None]]:
    """`server.mock()` vs a plain respx route with a trivial side effect, one httpx.Client."""
    state: dict[str, Any] = {}

    def fresh() -> None:  # a fresh server per batch: journal and respx call lists stay small
        server = new_server()
        client = httpx.Client(base_url=BASE_URL, headers=auth(server))
        with server.mock(verify=False):
            run_id, body = completed_run(server, client)
        state.update(server=server, client=client, path=f"/v1/runs/{run_id}", canned=body)

    fresh()

    def fake(n: int) -> list[int]:
        fresh()
        client, path = state["client"], state["path"]
        with state["server"].mock(verify=False):
            return timed(lambda: client.get(path), n)

    def base(n: int) -> list[int]:
        fresh()
        client, canned = state["client"], state["canned"]
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        router.route(scheme="http", host="hermes.test").mock(
            side_effect=lambda request: httpx.Response(200, json=canned)
        )
        with router:
            return timed(lambda: client.get(RUN_PATH), n)

    def profile_target() -> None:
        fresh()
        client, path = state["client"], state["path"]
        with state["server"].mock(verify=False):
            for _ in range(1500):
                client.get(path)

    return fake, base, profile_target


# ---------------------------------------------------------------- 2. GET via server.transport()


def get_via_transport() -> tuple[Batch, Batch, Callable[[], None]]:
    """`httpx.Client(transport=server.transport())` vs a bare `httpx.MockTransport`."""
    state: dict[str, Any] = {}

    def fresh() -> None:
        server = new_server()
        client = httpx.Client(transport=server.transport(), base_url=BASE_URL, headers=auth(server))
        run_id, body = completed_run(server, client)
        canned = body
        bare = httpx.Client(
            transport=httpx.MockTransport(lambda request: httpx.Response(200, json=canned)),
            base_url=BASE_URL,
            headers=auth(server),
        )
        state.update(client=client, bare=bare, path=f"/v1/runs/{run_id}")

    fresh()

    def fake(n: int) -> list[int]:
        fresh()
        client, path = state["client"], state["path"]
        return timed(lambda: client.get(path), n)

    def base(n: int) -> list[int]:
        fresh()
        bare = state["bare"]
        return timed(lambda: bare.get(RUN_PATH), n)

    def profile_target() -> None:
        fresh()
        client, path = state["client"], state["path"]
        for _ in range(2000):
            client.get(path)

    return fake, base, profile_target


# ---------------------------------------------------------------- 3. the whole scenario


def play_scenario(client: httpx.Client) -> int:
    """The app's side: create, stream, approve on approval.request, read to the close."""
    run_id = client.post("/v1/runs", json={"input": "please deploy"}).json()["run_id"]
    frames = 0
    with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                frames += 1
                if '"approval.request"' in line:
                    client.post(f"/v1/runs/{run_id}/approval", json={"choice": "once"})
            elif line == ": stream closed":
                break
    return frames


class CannedSse(httpx.SyncByteStream):
    """The baseline's event stream: the same frames, one chunk each, precomputed."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames

    def __iter__(self) -> Iterator[bytes]:
        yield from self.frames


def recorded_frames(clock: Clock | None = None) -> list[bytes]:
    """The exact byte frames the fake streams for the scenario, for the baseline to replay."""
    server = new_server(clock)
    client = httpx.Client(transport=server.transport(), base_url=BASE_URL, headers=auth(server))
    run_id = client.post("/v1/runs", json={"input": "please deploy"}).json()["run_id"]
    frames: list[bytes] = []
    with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        for chunk in stream.iter_raw():
            frames.append(chunk.replace(run_id.encode(), RUN_PATH.rsplit("/", 1)[1].encode()))
            if b'"approval.request"' in chunk:
                server.approve(run_id, "once")
    # one frame per chunk, as the real server writes them (transport() joins the frames
    # already buffered when the client reads, as one socket read would)
    frames = [frame + b"\n\n" for frame in b"".join(frames).split(b"\n\n") if frame]
    assert frames[-1] == b": stream closed\n\n", frames
    return frames


def bare_scenario_client(
    frames: list[bytes], mode: str = "transport"
) -> tuple[httpx.Client, Callable[[], AbstractContextManager[Any]]]:
    """The baseline app side: the same three requests answered with canned bodies, by a
    bare MockTransport (mode "transport") or a plain respx route (mode "mock")."""
    run_id = RUN_PATH.rsplit("/", 1)[1]
    created = {"run_id": run_id, "status": "started"}
    approved = {
        "object": "hermes.run.approval_response",
        "run_id": run_id,
        "choice": "once",
        "resolved": 1,
    }
    sse_headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        path = request.url.path
        if path == "/v1/runs":
            return httpx.Response(202, json=created)
        if path.endswith("/events"):
            return httpx.Response(200, headers=sse_headers, stream=CannedSse(frames))
        return httpx.Response(200, json=approved)

    headers = {"Authorization": "Bearer sk-test-0123456789abcdef"}
    if mode == "mock":

        def router() -> AbstractContextManager[Any]:
            mock = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
            mock.route(scheme="http", host="hermes.test").mock(side_effect=handler)
            return mock

        return httpx.Client(base_url=BASE_URL, headers=headers), router
    client = httpx.Client(
        transport=httpx.MockTransport(handler), base_url=BASE_URL, headers=headers
    )
    return client, nullcontext


def scenario(
    mode: str = "transport", clock_kind: str = "manual"
) -> tuple[Batch, Batch, Callable[[], None]]:
    """A whole scenario per operation; a fresh server per batch (setup not timed)."""
    make_clock: Callable[[], Clock] = ManualClock if clock_kind == "manual" else RealClock
    frames = recorded_frames(make_clock())
    bare, bare_ctx = bare_scenario_client(frames, mode)
    expected = sum(1 for f in frames if f.startswith(b"data: "))

    def client_for(server: FakeRunsServer) -> tuple[httpx.Client, AbstractContextManager[Any]]:
        if mode == "mock":
            client = httpx.Client(base_url=BASE_URL, headers=auth(server))
            return client, server.mock(verify=False)
        transport = server.transport()
        client = httpx.Client(transport=transport, base_url=BASE_URL, headers=auth(server))
        return client, nullcontext()

    def fake(n: int) -> list[int]:
        server = new_server(make_clock())
        client, ctx = client_for(server)
        start = server.clock.now()
        with ctx:
            assert play_scenario(client) == expected  # a checked (untimed) first run
            samples = timed(lambda: play_scenario(client), n)
        if clock_kind == "manual":
            # the reader never had to wait: a ManualClock that waited would have paid its
            # 2 ms real-time grace and jumped forward, measuring the clock, not the fake
            assert server.clock.now() == start, "the scenario waited on the clock"
        return samples

    def base(n: int) -> list[int]:
        with bare_ctx():
            assert play_scenario(bare) == expected
            return timed(lambda: play_scenario(bare), n)

    def profile_target() -> None:
        server = new_server(make_clock())
        client, ctx = client_for(server)
        with ctx:
            for _ in range(300):
                play_scenario(client)

    return fake, base, profile_target


# ---------------------------------------------------------------- 4. memory


@dataclass
class Memory:
    runs: int
    peak: int  # tracemalloc peak over the whole loop, above the starting point
    retained: int  # still allocated after the loop (server store + journal), after gc
    store_only: int  # retained once the request journal is cleared


def memory(runs: int = 1000) -> Memory:
    """Peak and retained tracemalloc bytes for `runs` completed scenario runs in one server."""
    gc.collect()
    server = new_server()
    client = httpx.Client(transport=server.transport(), base_url=BASE_URL, headers=auth(server))
    play_scenario(client)  # warm every lazy import and cache before measuring
    server.requests.clear()
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(runs):
            play_scenario(client)
        _, peak = tracemalloc.get_traced_memory()
        gc.collect()
        retained, _ = tracemalloc.get_traced_memory()
        server.requests.clear()
        gc.collect()
        store_only, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(server.runs) == runs + 1
    return Memory(runs, peak - start, retained - start, store_only - start)


ROOT = str(Path(__file__).resolve().parent.parent)
LIBRARY = os.path.join(ROOT, "agentfakes") + os.sep


def memory_breakdown(runs: int = 300, top: int = 12) -> str:
    """Which library lines hold the memory a completed run keeps (journal included).

    Each retained block is charged to the innermost agentfakes frame that allocated it,
    so "pydantic main.py" shows up as the `runs.py` line that built the event.
    """
    gc.collect()
    server = new_server()
    client = httpx.Client(transport=server.transport(), base_url=BASE_URL, headers=auth(server))
    play_scenario(client)
    server.requests.clear()
    gc.collect()
    tracemalloc.start(30)
    try:
        before = tracemalloc.take_snapshot()
        for _ in range(runs):
            play_scenario(client)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    charged: dict[str, list[int]] = {}
    for stat in after.compare_to(before, "traceback"):
        if stat.size_diff <= 0:
            continue
        site = "(outside agentfakes: httpx client, interpreter)"
        for frame in reversed(stat.traceback):  # innermost first
            if frame.filename.startswith(LIBRARY):
                site = f"{os.path.relpath(frame.filename, ROOT)}:{frame.lineno}"
                code = linecache.getline(frame.filename, frame.lineno).strip()
                site += f"  {code[:60]}"
                break
        entry = charged.setdefault(site, [0, 0])
        entry[0] += stat.size_diff
        entry[1] += stat.count_diff
    total = sum(size for size, _ in charged.values())
    lines = [
        f"\n=== retained memory per completed run, by allocating library line "
        f"({runs} runs, {total / runs / 1024:.1f} KiB/run incl. journal) ==="
    ]
    for site, (size, count) in sorted(charged.items(), key=lambda kv: -kv[1][0])[:top]:
        lines.append(f"  {size / runs:7.0f} B {count / runs:5.1f} blocks  {site}")
    return "\n".join(lines)


# ---------------------------------------------------------------- profiling


def profile(label: str, target: Callable[[], None], limit: int = 25) -> str:
    """cProfile one path: the library's share of the time, then its functions."""
    profiler = cProfile.Profile()
    profiler.enable()
    target()
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    own = sum(tt for (file, _, _), (_, _, tt, _, _) in raw.items() if file.startswith(LIBRARY))
    rows = sorted(
        ((key, value) for key, value in raw.items() if key[0].startswith(LIBRARY)),
        key=lambda kv: -kv[1][3],
    )[:limit]
    lines = [
        f"\n=== cProfile: {label} ===",
        f"total {total:.2f} s; exclusive time in agentfakes/ code {own:.2f} s "
        f"({own / total:.0%}); cumtime % below includes the json/pydantic/httpx it calls",
        f"  {'cumtime':>8} {'%':>4} {'tottime':>8} {'ncalls':>7}  function (agentfakes only)",
    ]
    for (file, line, name), (_, calls, tt, ct, _) in rows:
        where = f"{os.path.relpath(file, ROOT)}:{line}({name})"
        lines.append(f"  {ct:8.3f} {ct / total:4.0%} {tt:8.3f} {calls:7d}  {where}")
    return "\n".join(lines)


class _TimedStream(httpx.SyncByteStream):
    """Charges the time spent producing each body chunk to `sink`."""

    def __init__(self, inner: Any, sink: list[int]) -> None:
        self.inner = inner
        self.sink = sink

    def __iter__(self) -> Iterator[bytes]:
        clock = time.perf_counter_ns
        chunks = iter(self.inner)
        while True:
            start = clock()
            try:
                chunk = next(chunks)
            except StopIteration:
                self.sink[0] += clock() - start
                return
            self.sink[0] += clock() - start
            yield chunk

    def close(self) -> None:
        start = time.perf_counter_ns()
        self.inner.close()
        self.sink[0] += time.perf_counter_ns() - start


class _TimedTransport(httpx.BaseTransport):
    """Charges the time inside the wrapped transport (request in, response out) and in
    producing the response body to counters, per kind of request."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.handling = [0]
        self.streaming = [0]
        self.by_kind: dict[str, int] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter_ns()
        response = self.inner.handle_request(request)
        elapsed = time.perf_counter_ns() - start
        self.handling[0] += elapsed
        kind = f"{request.method} …/{request.url.path.rsplit('/', 1)[-1]}"
        kind = kind if "run_" not in kind else f"{request.method} …/{{id}}"
        self.by_kind[kind] = self.by_kind.get(kind, 0) + elapsed
        response.stream = _TimedStream(response.stream, self.streaming)
        return response


def scenario_attribution(runs: int = 200) -> str:
    """Where one scenario's time goes, fake vs baseline, without a profiler's distortion:
    inside the transport (3 requests), producing the SSE body, and the rest (the client)."""
    frames = recorded_frames()
    server = new_server()
    fake = _TimedTransport(server.transport())
    bare_client, _ = bare_scenario_client(frames)
    bare = _TimedTransport(bare_client._transport)
    clients = {
        "fake": (httpx.Client(transport=fake, base_url=BASE_URL, headers=auth(server)), fake),
        "baseline": (
            httpx.Client(transport=bare, base_url=BASE_URL, headers=dict(bare_client.headers)),
            bare,
        ),
    }
    samples: dict[str, list[tuple[int, int, int]]] = {name: [] for name in clients}
    kinds: dict[str, dict[str, list[int]]] = {name: {} for name in clients}
    for client, _ in clients.values():
        for _ in range(20):
            play_scenario(client)
    for index in range(runs):
        for name in list(clients) if index % 2 == 0 else list(clients)[::-1]:
            client, timed_transport = clients[name]
            timed_transport.handling[0] = timed_transport.streaming[0] = 0
            timed_transport.by_kind.clear()
            start = time.perf_counter_ns()
            play_scenario(client)
            total = time.perf_counter_ns() - start
            samples[name].append((total, timed_transport.handling[0], timed_transport.streaming[0]))
            for kind, elapsed in timed_transport.by_kind.items():
                kinds[name].setdefault(kind, []).append(elapsed)
    lines = [
        f"\n=== where one scenario's time goes (median of {runs}, µs; transport() path) ===",
        f"  {'':10} {'total':>8} {'in transport':>13} {'SSE body':>9} {'client side':>12}"
        "   in transport, by request",
    ]
    for name, rows in samples.items():
        whole = statistics.median(r[0] for r in rows)
        handling = statistics.median(r[1] for r in rows)
        streaming = statistics.median(r[2] for r in rows)
        per_kind = ", ".join(
            f"{kind} {statistics.median(values) / 1e3:.0f}" for kind, values in kinds[name].items()
        )
        lines.append(
            f"  {name:10} {whole / 1e3:8.1f} {handling / 1e3:13.1f} {streaming / 1e3:9.1f} "
            f"{(whole - handling - streaming) / 1e3:12.1f}   {per_kind}"
        )
    return "\n".join(lines)


def stage_costs() -> str:
    """What one fake GET costs inside the library, stage by stage (no httpx client)."""
    from agentfakes.transports.httpx_client import to_api_request, to_httpx_response

    server = new_server()
    client = httpx.Client(transport=server.transport(), base_url=BASE_URL, headers=auth(server))
    run_id, canned = completed_run(server, client)
    request = client.build_request("GET", f"/v1/runs/{run_id}")
    api_request = to_api_request(request, b"")
    response = server.api.handle(api_request)
    transport = server.transport()
    bare = httpx.MockTransport(lambda r: httpx.Response(200, json=canned))
    record = server.runs[run_id]
    event = record.events[1]

    def cost(body: Callable[[], object], batch: int = 20, batches: int = 300) -> float:
        """Median over small batches, in µs per call (robust to preemption)."""
        clock = time.perf_counter_ns
        for _ in range(batch * 10):
            body()
        samples = []
        for _ in range(batches):
            start = clock()
            for _ in range(batch):
                body()
            samples.append((clock() - start) / batch)
        return statistics.median(samples) / 1000

    def journal_entry() -> None:
        server._journal(api_request, 200, None)

    rows = [
        ("to_api_request (httpx headers → dict)", cost(lambda: to_api_request(request, b""))),
        (
            "RunsApi.handle (route, auth, tick, to_wire, json)",
            cost(lambda: server.api.handle(api_request)),
        ),
        ("  of which json.dumps(run wire dict)", cost(lambda: json.dumps(canned))),
        ("FakeRunsServer._journal (one JournalEntry)", cost(journal_entry)),
        ("FakeRunsServer.handle (faults, api, journal)", cost(lambda: server.handle(api_request))),
        (
            f"to_httpx_response (httpx.Response, {len(response.headers)} headers)",
            cost(lambda: to_httpx_response(response, request)),
        ),
        (
            "  same body, prebuilt httpx.Headers",
            cost(
                lambda: httpx.Response(
                    200,
                    headers=httpx.Headers(response.headers),
                    content=response.body,
                    request=request,
                )
            ),
        ),
        (
            "FakeTransport.handle_request (all of the above)",
            cost(lambda: transport.handle_request(request)),
        ),
        ("baseline: MockTransport.handle_request", cost(lambda: bare.handle_request(request))),
        (
            "baseline: httpx.Response(200, json=canned)",
            cost(lambda: httpx.Response(200, json=canned)),
        ),
        (f"SSE frame: {event.event} .to_sse()", cost(event.to_sse)),
        ("uuid4 run id (engine.new_run_id)", cost(lambda: uuid.uuid4().hex)),
    ]
    server.requests.clear()
    width = max(len(name) for name, _ in rows)
    lines = ["\n=== stage costs of one fake GET (median of 300 batches of 20, µs per call) ==="]
    lines += [f"  {name:<{width}}  {value:7.2f}" for name, value in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- the table


@dataclass
class Row:
    name: str
    measured: str
    baseline: str
    extra: str
    ratio: str
    target: str
    verdict: str


def us(ns: float) -> str:
    return f"{ns / 1000:.1f} µs"


def ms(ns: float) -> str:
    return f"{ns / 1e6:.3f} ms"


def print_table(rows: list[Row]) -> None:
    header = Row("figure", "measured", "baseline", "fake − base", "ratio [IQR]", "target", "")
    table = [header, *rows]
    cells = [(r.name, r.measured, r.baseline, r.extra, r.ratio, r.target, r.verdict) for r in table]
    widths = [max(len(row[i]) for row in cells) for i in range(7)]
    for index, row in enumerate(cells):
        print(
            "  ".join(
                c.ljust(w) if i in (0, 6) else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="cProfile every missed path")
    parser.add_argument("--profile-all", action="store_true", help="cProfile every path")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    args = parser.parse_args()
    scale = 0.35 if args.quick else 1.0

    def n(value: int) -> int:
        return max(5, int(value * scale))

    started = time.perf_counter()
    print(
        f"agentfakes benchmarks — Python {sys.version.split()[0]}, httpx {httpx.__version__}, "
        f"respx {respx.__version__}, pydantic {pydantic.__version__}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}; ManualClock unless noted"
    )
    print(
        "medians of per-batch median operations over interleaved rounds; "
        "ratio = median of per-round fake/baseline ratios [interquartile range]\n"
    )

    rows: list[Row] = []
    missed: list[tuple[str, Callable[[], None]]] = []
    every: list[tuple[str, Callable[[], None]]] = []

    def add(
        name: str,
        result: Paired,
        unit: Callable[[float], str],
        baseline: str,
        target: str,
        ok: bool,
        target_fn: Callable[[], None],
    ) -> None:
        every.append((name.strip(" 0123456789."), target_fn))
        if not ok:
            missed.append((name.strip(" 0123456789."), target_fn))
        rows.append(
            Row(
                name,
                unit(result.fake_ns),
                f"{unit(result.base_ns)} ({baseline})",
                unit(result.fake_ns - result.base_ns),
                f"{result.ratio:.2f}× [{result.ratio_lo:.2f}–{result.ratio_hi:.2f}]",
                target,
                "PASS" if ok else "MISS",
            )
        )

    fake, base, prof = get_via_mock()
    r = paired(fake, base, ops=60, rounds=n(41), warmup=300)
    add(
        "1. GET /v1/runs/{id} via server.mock()",
        r,
        us,
        "respx route",
        "≤ 1.10×",
        r.ratio <= 1.10,
        prof,
    )

    fake, base, prof = get_via_transport()
    r = paired(fake, base, ops=80, rounds=n(41), warmup=400)
    add(
        "2. GET /v1/runs/{id} via server.transport()",
        r,
        us,
        "MockTransport",
        "≤ 1.50×",
        r.ratio <= 1.50,
        prof,
    )

    fake, base, prof = scenario("transport", "manual")
    r = paired(fake, base, ops=15, rounds=n(41), warmup=40)
    add(
        "3. scenario via server.transport()",
        r,
        ms,
        "MockTransport",
        "< 2 ms",
        r.fake_ns < 2e6,
        prof,
    )

    fake, base, prof = scenario("mock", "manual")
    r = paired(fake, base, ops=15, rounds=n(21), warmup=40)
    add("   scenario via server.mock()", r, ms, "respx route", "< 2 ms", r.fake_ns < 2e6, prof)

    fake, base, prof = scenario("transport", "real")
    r = paired(fake, base, ops=15, rounds=n(21), warmup=40)
    add(
        "   scenario via transport(), RealClock",
        r,
        ms,
        "MockTransport",
        "< 2 ms",
        r.fake_ns < 2e6,
        prof,
    )

    mem = memory(1000)
    for name, value in (
        ("4. memory: peak for 1,000 completed runs", f"{mem.peak / 2**20:.2f} MiB"),
        ("   retained per run (store + journal)", f"{mem.retained / mem.runs / 1024:.1f} KiB"),
        ("   retained per run (store only)", f"{mem.store_only / mem.runs / 1024:.1f} KiB"),
    ):
        rows.append(Row(name, value, "—", "—", "—", "(context)", ""))

    print_table(rows)
    frames = len(recorded_frames())
    print(
        f"\nscenario = POST /v1/runs, GET …/events ({frames} SSE frames incl. the close), "
        "POST …/approval on approval.request: 3 requests; the baseline answers the same "
        "requests with canned bodies and replays the same frames\n(bare MockTransport, or a "
        "plain respx route for the mock() row). Memory: tracemalloc over 1,000 scenarios "
        "through transport()."
    )
    print(f"timing took {time.perf_counter() - started:.1f} s")

    to_profile = every if args.profile_all else missed if args.profile else []
    if to_profile:
        print(stage_costs())
        print(scenario_attribution())
        for label, target in to_profile:
            print(profile(label, target))
        print(memory_breakdown())
    elif missed:
        print(f"\n{len(missed)} target(s) missed; run with --profile for where the time goes.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
