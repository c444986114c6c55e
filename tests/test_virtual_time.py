"""VirtualClock: slow agents tested in milliseconds.

Every test here runs minutes of virtual time. None sleeps for real: the real time they
take is measured with a `Stopwatch`, which keeps the real `time.perf_counter` as an
instance attribute (freezegun replaces module-level references to it while a clock is
active, so a module-level capture would read virtual time).

"Costs no real time" is asserted as: under `REAL_BUDGET` real seconds, or, when a busy
machine makes the CPU work itself slower than that, under `REAL_BUDGET` seconds during
which the test's thread was blocked, neither running nor waiting for a CPU (blocking is
what virtual time removes; a 600 s run polled 301 times still costs 301 requests' CPU).
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import contextlib
import json
import sys
import threading
import time
import types
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import freezegun
import freezegun.api
import httpx
import pytest
import requests

from agentfakes.clocks import DEFAULT_START
from agentfakes.clocks.virtual import (
    MONOTONIC_ORIGIN,
    Hold,
    VirtualClock,
    VirtualTimeError,
    active_clock,
)
from agentfakes.script import Script
from agentfakes.server import FakeRunsServer

T0 = DEFAULT_START  # 2026-01-01T00:00:00Z
REAL_BUDGET = 1.0  # real seconds a test of minutes of virtual time may take (robust on CI)
SLOW_RUN = Script().wait(600).complete(output="done")
GATED = (
    Script()
    .tool_started("terminal", "rm -rf build")
    .approval("rm -rf build", "delete in root path")
    .tool_completed("terminal")
    .complete(output="Deployed")
)


class Stopwatch:
    """Real elapsed time, immune to freezegun (the real function is an instance attribute)."""

    def __init__(self) -> None:
        self._perf_counter: Callable[[], float] = freezegun.api.real_perf_counter
        self._start = self._perf_counter()
        self._busy_start = self._busy()

    @staticmethod
    def _busy() -> float:
        """This thread's CPU time plus its time queued for a CPU (Linux), in seconds."""
        try:
            with open("/proc/thread-self/schedstat") as stats:
                running_ns, queued_ns = stats.read().split()[:2]
            return (int(running_ns) + int(queued_ns)) / 1e9
        except (OSError, ValueError):
            return time.thread_time()

    @property
    def seconds(self) -> float:
        return self._perf_counter() - self._start

    def report(self, what: str) -> float:
        seconds = self.seconds
        blocked = seconds - (self._busy() - self._busy_start)
        print(f"{what}: {seconds * 1000:.1f} ms real, of which {blocked * 1000:.1f} ms blocked")
        return seconds

    def assert_no_waiting(self, what: str = "") -> None:
        real = self.report(what) if what else self.seconds
        blocked = real - (self._busy() - self._busy_start)
        assert real < REAL_BUDGET or blocked < REAL_BUDGET, (
            f"{real:.3f} s real, {blocked:.3f} s blocked"
        )


def auth(server: FakeRunsServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}"}


def sync_client(server: FakeRunsServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers=auth(server))


def frames_of(lines: Iterator[str]) -> Iterator[str | dict[str, Any]]:
    """SSE lines → `{event...}` dicts for data frames, the comment text for comments."""
    for line in lines:
        if line.startswith("data: "):
            yield json.loads(line[len("data: ") :])
        elif line.startswith(":"):
            yield line


def describe(frame: str | dict[str, Any]) -> str:
    return frame if isinstance(frame, str) else str(frame["event"])


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    with VirtualClock() as active:
        yield active


# ------------------------------------------------------------------ the wall clock


class TestWallClock:
    def test_every_wall_clock_read_is_the_clock(self, clock: VirtualClock) -> None:
        assert clock.now() == clock.start == T0 == time.time()
        assert time.time_ns() == int(T0 * 1e9)
        assert datetime.now(UTC) == datetime(2026, 1, 1, tzinfo=UTC) == clock.now_datetime()
        assert datetime.now() == datetime.utcnow() == datetime(2026, 1, 1)  # local time is UTC
        assert date.today() == date(2026, 1, 1)
        assert time.monotonic() == time.perf_counter() == MONOTONIC_ORIGIN
        assert time.monotonic_ns() == int(MONOTONIC_ORIGIN) * 10**9

        clock.advance(90.5)

        assert time.time() == clock.now() == T0 + 90.5
        assert datetime.now(UTC) == datetime(2026, 1, 1, 0, 1, 30, 500_000, tzinfo=UTC)
        assert time.monotonic() == time.perf_counter() == MONOTONIC_ORIGIN + 90.5
        assert clock.elapsed == 90.5
        assert clock.isoformat() == "2026-01-01T00:01:30.500000Z"

    def test_fractional_moves_keep_time_time_and_the_engine_clock_identical(
        self, clock: VirtualClock
    ) -> None:
        for step in (0.1, 0.2, 0.3, 1e-6, 0.123456):
            clock.advance(step)
            assert time.time() == clock.now()
        assert clock.elapsed == pytest.approx(0.723457, abs=1e-9)

    @pytest.mark.parametrize(
        "start",
        [datetime(2030, 5, 17, 12, 30, tzinfo=UTC), "2030-05-17T12:30:00+00:00", 1905251400.0],
    )
    def test_start_instant(self, start: datetime | str | float) -> None:
        with VirtualClock(start) as clock:
            assert datetime.now(UTC) == datetime(2030, 5, 17, 12, 30, tzinfo=UTC)
            assert time.time() == clock.now() == 1905251400.0

    def test_tick_moves_time_on_every_read_by_the_app(self) -> None:
        with VirtualClock(tick=0.001) as clock:
            first, second = time.time(), time.time()
            assert second - first == pytest.approx(0.001, abs=1e-6)
            engine_reads = clock.now(), clock.now()
            assert engine_reads[0] == engine_reads[1]  # the engine's reads never tick

    def test_an_inactive_clock_is_a_manual_clock(self) -> None:
        clock = VirtualClock()
        clock.advance(5)
        assert clock.now() == T0 + 5
        assert abs(time.time() - T0) > 1  # nothing patched
        assert active_clock() is None


class TestActivation:
    def test_deactivation_restores_everything(self) -> None:
        loop_class = asyncio.base_events.BaseEventLoop
        before = (time.sleep, loop_class.time, loop_class.run_forever, datetime, time.monotonic)
        with VirtualClock() as clock:
            assert active_clock() is clock and clock.active
            assert time.sleep is not before[0] and time.monotonic is not before[4]
        assert (
            time.sleep,
            loop_class.time,
            loop_class.run_forever,
            datetime,
            time.monotonic,
        ) == before
        assert freezegun.api.freeze_factories == []
        assert active_clock() is None and not clock.active
        assert abs(time.time() - freezegun.api.real_time()) < 1
        assert asyncio.run(asyncio.sleep(0.001, "real again")) == "real again"

    def test_leaving_restores_real_perf_counter_monotonic_and_time(self) -> None:
        """Issue 8 item 5: nothing virtual survives the `with` block, module globals included."""
        module = types.ModuleType("app_module")
        exec("from time import perf_counter, monotonic, time as now", module.__dict__)
        real = (time.perf_counter, time.monotonic, time.time, time.perf_counter_ns)
        before = (time.perf_counter(), time.monotonic(), time.time())
        sys.modules["app_module"] = module  # an app module imported before the clock starts
        try:
            with VirtualClock():
                time.sleep(3600)  # virtual
                assert module.perf_counter() == module.monotonic() == MONOTONIC_ORIGIN + 3600
        finally:
            del sys.modules["app_module"]
        assert (time.perf_counter, time.monotonic, time.time, time.perf_counter_ns) == real
        assert (module.perf_counter, module.monotonic, module.now) == real[:3]
        after = (time.perf_counter(), time.monotonic(), time.time())
        assert all(0 <= b - a < 60 for a, b in zip(before, after, strict=True)), (before, after)

    def test_readme_example_prints_a_real_duration(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from pathlib import Path

        readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
        block = next(b for b in readme.split("```python\n") if "ten virtual minutes" in b)
        exec(compile(block.split("```")[0], "README.md", "exec"), {"__name__": "readme"})
        printed = capsys.readouterr().out
        seconds = float(printed.split(" in ")[1].split(" s")[0])
        assert 0 <= seconds < REAL_BUDGET * 10, printed

    def test_pytest_keeps_real_time_for_its_durations(self, clock: VirtualClock) -> None:
        import _pytest.timing

        assert _pytest.timing.perf_counter is freezegun.api.real_perf_counter
        assert _pytest.timing.time is freezegun.api.real_time

    def test_restored_even_when_the_body_raises(self) -> None:
        sleep = time.sleep
        with pytest.raises(KeyError, match="boom"), VirtualClock():
            raise KeyError("boom")
        assert time.sleep is sleep and active_clock() is None
        assert freezegun.api.freeze_factories == []

    def test_two_clocks_at_once_is_an_error(self) -> None:
        with VirtualClock() as first:
            second = VirtualClock()
            with pytest.raises(VirtualTimeError, match="another VirtualClock is already active"):
                second.activate()
            with pytest.raises(VirtualTimeError, match="already active"), first:
                pass
            assert active_clock() is first
            time.sleep(1)  # virtual: the first clock moves
            assert first.elapsed == 1
        assert active_clock() is None
        with second:  # free again once the first is gone
            assert time.time() == second.now()

    def test_a_freezegun_freeze_started_while_active_is_refused(self) -> None:
        """Two patches of time.time() would fight silently: the second one is refused where
        it starts (a `with`, a decorator, `.start()`), and works again once the clock left."""

        @freezegun.freeze_time("2020-01-01")
        def frozen_call() -> float:
            return time.time()

        with VirtualClock() as clock:
            with pytest.raises(VirtualTimeError, match="freeze_time was started while"):
                freezegun.freeze_time("2020-01-01").start()
            with pytest.raises(VirtualTimeError, match=r"clock\.advance\(seconds\)"):
                frozen_call()
            assert time.time() == clock.now()  # the clock is untouched
        with freezegun.freeze_time("2020-01-01"):
            assert time.time() == 1577836800.0
        assert frozen_call() == 1577836800.0

    def test_moving_backwards_is_an_error(self, clock: VirtualClock) -> None:
        clock.advance(10)
        with pytest.raises(ValueError, match="time only moves forward"):
            clock.advance(-1)
        with pytest.raises(ValueError, match="non-negative"):
            time.sleep(-1)
        with pytest.raises(ValueError, match="finite"):
            clock.advance(float("nan"))
        assert clock.advance_to(T0) == T0 + 10  # an instant already past: the clock stays
        assert clock.advance_to("2026-01-01T00:01:00Z") == T0 + 60


# ------------------------------------------------------------------ sleeping


class TestSleep:
    def test_time_sleep_passes_virtual_seconds_at_once(self, clock: VirtualClock) -> None:
        watch = Stopwatch()
        time.sleep(600)
        time.sleep(0.25)
        assert clock.elapsed == 600.25 and time.time() == T0 + 600.25
        watch.assert_no_waiting()

    def test_from_time_import_sleep_is_virtual_too(self) -> None:
        app = types.ModuleType("virtual_time_demo_app")
        exec("from time import sleep", app.__dict__)
        sys.modules[app.__name__] = app
        try:
            with VirtualClock() as clock:
                app.sleep(42)
                assert clock.elapsed == 42
            assert app.sleep is time.sleep
        finally:
            del sys.modules[app.__name__]

    def test_a_module_that_imports_sleep_between_activations_is_patched(self) -> None:
        """The per-module scan caches (ours and freezegun's) notice a namespace that grew."""
        app = types.ModuleType("virtual_time_late_app")
        sys.modules[app.__name__] = app
        try:
            with VirtualClock():  # scanned (and cached) without a sleep or a clock in it
                pass
            exec("from time import sleep, monotonic", app.__dict__)
            with VirtualClock() as clock:
                app.sleep(7)
                assert clock.elapsed == 7 and app.monotonic() == MONOTONIC_ORIGIN + 7
            assert app.sleep is time.sleep
        finally:
            del sys.modules[app.__name__]

    def test_time_sleep_in_a_worker_thread_is_virtual(self, clock: VirtualClock) -> None:
        worker = threading.Thread(target=time.sleep, args=(120,))
        worker.start()
        worker.join(timeout=5)
        assert clock.elapsed == 120

    def test_a_hold_stops_readers_jumping_until_released(self, clock: VirtualClock) -> None:
        server = FakeRunsServer(clock=clock).script(Script().wait(45).complete(output="ok"))
        client = httpx.Client(
            transport=server.transport(), base_url=server.base_url, headers=auth(server)
        )
        run_id = client.post("/v1/runs", json={"input": "x"}).json()["run_id"]
        lines: list[str] = []

        def read() -> None:
            with client.stream("GET", f"/v1/runs/{run_id}/events", timeout=None) as stream:
                lines.extend(line for line in stream.iter_lines() if line)

        with clock.hold():
            thread = threading.Thread(target=read)
            thread.start()
            threading.Event().wait(0.01)  # five graces of real time: no jump while held
            assert clock.elapsed == 0 and lines == []
        thread.join(timeout=5)
        assert lines[0] == ": keepalive" and clock.elapsed == 45

    def test_concurrent_asyncio_sleeps_wake_at_their_own_moment(self, clock: VirtualClock) -> None:
        woke: list[tuple[str, float, float]] = []

        async def sleeper(name: str, seconds: float) -> None:
            await asyncio.sleep(seconds)
            woke.append((name, clock.elapsed, time.time()))

        async def main() -> float:
            loop = asyncio.get_running_loop()
            assert loop.time() == time.monotonic() == clock.monotonic()
            await asyncio.gather(sleeper("three", 3), sleeper("two", 2))
            return loop.time()

        watch = Stopwatch()
        assert asyncio.run(main()) == MONOTONIC_ORIGIN + 3
        assert woke == [("two", 2.0, T0 + 2), ("three", 3.0, T0 + 3)]
        watch.assert_no_waiting()

    def test_wait_for_a_never_set_event_times_out_at_plus_five(self, clock: VirtualClock) -> None:
        async def main() -> None:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(asyncio.Event().wait(), timeout=5)
            assert clock.elapsed == 5
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(2.5):
                    await asyncio.Event().wait()
            assert clock.elapsed == 7.5

        watch = Stopwatch()
        asyncio.run(main())
        watch.assert_no_waiting()

    def test_executor_work_takes_real_time_without_a_spurious_timeout(
        self, clock: VirtualClock
    ) -> None:
        def real_work() -> str:
            threading.Event().wait(0.005)  # 5 ms of real work in a thread
            return "worked"

        async def main() -> None:
            assert await asyncio.wait_for(asyncio.to_thread(real_work), timeout=1) == "worked"
            assert clock.elapsed < 1
            await asyncio.to_thread(time.sleep, 30)  # a blocking sleep in a thread: virtual
            assert clock.elapsed == pytest.approx(30, abs=0.01)

        asyncio.run(main())

    def test_activating_inside_a_running_loop(self) -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            later = loop.call_later(1000, lambda: None)
            with VirtualClock() as clock:
                assert loop.time() == clock.monotonic()
                # real time passes while the clock activates (~0.1 s on a loaded machine)
                assert later.when() - loop.time() == pytest.approx(1000, abs=1)
                await asyncio.sleep(100)
                assert clock.elapsed == 100
                assert later.when() - loop.time() == pytest.approx(900, abs=1)
            assert later.when() - loop.time() == pytest.approx(900, abs=1)
            later.cancel()
            assert abs(loop.time() - freezegun.api.real_monotonic()) < 1
            await asyncio.sleep(0.001)  # real time again

        asyncio.run(main())

    def test_loops_in_other_threads_stay_on_real_time(self, clock: VirtualClock) -> None:
        seen: dict[str, float] = {}

        async def elsewhere() -> None:
            loop = asyncio.get_running_loop()
            seen["loop"] = loop.time()
            seen["real"] = freezegun.api.real_monotonic()
            await asyncio.sleep(0.001)

        thread = threading.Thread(target=asyncio.run, args=(elsewhere(),))
        thread.start()
        thread.join(timeout=5)
        assert seen["loop"] == pytest.approx(seen["real"], abs=0.5)
        assert clock.elapsed == 0


# ------------------------------------------------------------------ apps polling a slow run


def poll_sync(client: httpx.Client, run_id: str, every: float) -> tuple[dict[str, Any], int]:
    polls = 0
    while True:
        polls += 1
        run = client.get(f"/v1/runs/{run_id}").json()
        if run["status"] in ("completed", "failed", "cancelled"):
            return run, polls
        time.sleep(every)


async def poll_async(
    client: httpx.AsyncClient, run_id: str, every: float
) -> tuple[dict[str, Any], int]:
    polls = 0
    while True:
        polls += 1
        run = (await client.get(f"/v1/runs/{run_id}")).json()
        if run["status"] in ("completed", "failed", "cancelled"):
            return run, polls
        await asyncio.sleep(every)


class TestPollingApps:
    def test_sync_app_polling_every_2s_for_a_10_minute_run(self, clock: VirtualClock) -> None:
        server = FakeRunsServer(clock=clock).script(SLOW_RUN)
        with server.mock(), sync_client(server) as client:
            watch = Stopwatch()
            run_id = client.post("/v1/runs", json={"input": "slow"}).json()["run_id"]
            run, polls = poll_sync(client, run_id, every=2)
            watch.assert_no_waiting("sync app, 301 polls over 600 virtual s")
        assert polls == 301  # t = 0, 2, ..., 600
        assert run["status"] == "completed" and run["output"] == "done"
        assert run["created_at"] == T0 == clock.start
        assert run["updated_at"] == T0 + 600 == time.time()

    @pytest.mark.parametrize("way_in", ["async_transport", "mock"])
    def test_async_app_polling_every_2s_for_a_10_minute_run(
        self, clock: VirtualClock, way_in: str
    ) -> None:
        server = FakeRunsServer(clock=clock).script(SLOW_RUN)

        async def app() -> tuple[dict[str, Any], int]:
            transport = server.async_transport() if way_in == "async_transport" else None
            async with httpx.AsyncClient(
                transport=transport, base_url=server.base_url, headers=auth(server)
            ) as client:
                run_id = (await client.post("/v1/runs", json={"input": "slow"})).json()["run_id"]
                return await poll_async(client, run_id, every=2)

        with server.mock() if way_in == "mock" else contextlib.nullcontext():
            watch = Stopwatch()
            run, polls = asyncio.run(app())
            watch.assert_no_waiting(f"async app ({way_in}), 301 polls over 600 virtual s")
        assert polls == 301
        assert (run["status"], run["created_at"], run["updated_at"]) == ("completed", T0, T0 + 600)

    def test_sync_app_gives_up_after_exactly_30s(self, clock: VirtualClock) -> None:
        server = FakeRunsServer(clock=clock).script(SLOW_RUN)

        def wait_for_run(client: httpx.Client, run_id: str) -> dict[str, Any]:
            started = time.monotonic()
            while True:
                run = client.get(f"/v1/runs/{run_id}").json()
                if run["status"] == "completed":
                    return run
                if time.monotonic() - started >= 30:
                    raise TimeoutError(f"gave up after {time.monotonic() - started} s")
                time.sleep(2)

        with server.mock(), sync_client(server) as client:
            run_id = client.post("/v1/runs", json={"input": "slow"}).json()["run_id"]
            with pytest.raises(TimeoutError, match=r"gave up after 30\.0 s"):
                wait_for_run(client, run_id)
        assert clock.elapsed == 30
        assert len(server.requests) == 1 + 16  # the POST, then polls at t = 0, 2, ..., 30

    def test_async_app_gives_up_after_exactly_30s(self, clock: VirtualClock) -> None:
        server = FakeRunsServer(clock=clock).script(SLOW_RUN)

        async def app() -> None:
            async with httpx.AsyncClient(
                transport=server.async_transport(), base_url=server.base_url, headers=auth(server)
            ) as client:
                run_id = (await client.post("/v1/runs", json={"input": "slow"})).json()["run_id"]
                async with asyncio.timeout(30):
                    await poll_async(client, run_id, every=2)

        with pytest.raises(TimeoutError):
            asyncio.run(app())
        assert clock.elapsed == 30
        assert len(server.requests) == 1 + 15  # polls at t = 0, 2, ..., 28; cut off at 30


# ------------------------------------------------------------------ streams


class TestStreams:
    def test_a_60s_approval_timeout_costs_no_real_time(self, clock: VirtualClock) -> None:
        server = FakeRunsServer(clock=clock).script(GATED)
        with server.mock(), sync_client(server) as client:
            watch = Stopwatch()
            run_id = client.post("/v1/runs", json={"input": "deploy"}).json()["run_id"]
            with client.stream("GET", f"/v1/runs/{run_id}/events", timeout=None) as stream:
                frames = list(frames_of(stream.iter_lines()))
            watch.assert_no_waiting("60 s approval timeout")
        assert [describe(f) for f in frames] == [
            "tool.started",
            "approval.request",
            ": keepalive",  # 30 s of silence
            "tool.completed",
            "run.completed",
            ": stream closed",
        ]
        timestamps = [f["timestamp"] for f in frames if isinstance(f, dict)]
        assert timestamps == [T0, T0, T0 + 60, T0 + 60]
        assert frames[3]["error"] is True  # the timed-out approval failed the tool
        assert clock.elapsed == 60

    def test_a_lone_reader_spends_no_grace(self) -> None:
        """The grace is for other threads: with none alive, a reader jumps at once. In a
        fresh interpreter (pytest may keep helper threads), with a 5 s grace that a spent
        grace would show: two wake-ups (keepalive at 30 s, timeout at 60 s) = 10 s."""
        import subprocess
        import textwrap

        program = textwrap.dedent(
            """
            import threading, httpx
            from freezegun import api
            from agentfakes import FakeRunsServer, Script, VirtualClock
            assert threading.active_count() == 1
            gated = (Script().tool_started("t").approval("rm", "delete")
                     .tool_completed("t").complete(output="ok"))
            with VirtualClock(grace=5.0) as clock:
                server = FakeRunsServer(clock=clock).script(gated)
                client = httpx.Client(transport=server.transport(), base_url=server.base_url,
                                      headers={"Authorization": f"Bearer {server.api_key}"})
                run_id = client.post("/v1/runs", json={"input": "x"}).json()["run_id"]
                start = api.real_perf_counter()
                with client.stream("GET", f"/v1/runs/{run_id}/events", timeout=None) as s:
                    body = s.read()
                took = api.real_perf_counter() - start
            assert clock.elapsed == 60 and b"run.completed" in body
            print(f"{took:.4f}")
            """
        )
        done = subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert float(done.stdout) < 2.5, done.stdout  # not 10 s of grace

    def test_45s_of_silence_is_exactly_one_keepalive(self, clock: VirtualClock) -> None:
        server = FakeRunsServer(clock=clock).script(
            Script().delta("thinking").wait(45).complete(output="ok")
        )

        async def app() -> list[tuple[float, str]]:
            seen: list[tuple[float, str]] = []
            async with httpx.AsyncClient(
                transport=server.async_transport(), base_url=server.base_url, headers=auth(server)
            ) as client:
                run_id = (await client.post("/v1/runs", json={"input": "x"})).json()["run_id"]
                async with client.stream(
                    "GET", f"/v1/runs/{run_id}/events", timeout=None
                ) as stream:
                    async for line in stream.aiter_lines():
                        if line:
                            seen.append((clock.elapsed, line if line.startswith(":") else "data"))
            return seen

        watch = Stopwatch()
        seen = asyncio.run(app())
        watch.assert_no_waiting("45 s of silence")
        assert seen == [
            (0, "data"),
            (30, ": keepalive"),
            (45, "data"),
            (45, ": stream closed"),
        ]

    def test_sync_reader_while_another_thread_posts_the_approval(self) -> None:
        # The grace period lets the operator thread act before the reader's clock jumps to
        # the approval's 60 s timeout. 50 ms rather than the default 2 ms keeps a heavily
        # loaded CI machine from losing the race; it ends the moment the approval lands,
        # so it costs nothing here. (`clock.hold()` removes the race: the next test.)
        with VirtualClock(grace=0.05) as clock:
            self._reader_and_operator(clock, hold=False, operator_delay=0.0)

    def test_a_hold_hands_off_to_a_slow_thread_deterministically(self, clock: VirtualClock) -> None:
        self._reader_and_operator(clock, hold=True, operator_delay=0.01)

    def _reader_and_operator(self, clock: VirtualClock, hold: bool, operator_delay: float) -> None:
        server = FakeRunsServer(clock=clock).script(GATED)
        approval_seen = threading.Event()
        answers: list[int] = []

        with server.mock(), sync_client(server) as client, sync_client(server) as operator:
            operator.get("/health")  # warm: the operator must answer within the grace period
            run_id = client.post("/v1/runs", json={"input": "deploy"}).json()["run_id"]

            holds: list[Hold] = []

            def operator_thread() -> None:
                approval_seen.wait(timeout=5)
                threading.Event().wait(operator_delay)  # a slow operator (real time)
                reply = operator.post(f"/v1/runs/{run_id}/approval", json={"choice": "once"})
                answers.append(reply.status_code)
                for taken in holds:
                    taken.release()

            thread = threading.Thread(target=operator_thread)
            thread.start()
            with client.stream("GET", f"/v1/runs/{run_id}/events", timeout=None) as stream:
                frames = []
                for frame in frames_of(stream.iter_lines()):
                    frames.append(frame)
                    if describe(frame) == "approval.request":
                        if hold:
                            holds.append(clock.hold())  # no jump until the operator is done
                        approval_seen.set()
            thread.join(timeout=5)

        assert answers == [200]
        assert [describe(f) for f in frames] == [
            "tool.started",
            "approval.request",
            "approval.responded",
            "tool.completed",
            "run.completed",
            ": stream closed",
        ]
        assert clock.elapsed == 0  # answered before anyone waited on time
        assert server.runs[run_id].status.value == "completed"

    def test_two_concurrent_runs_interleave_the_same_way_every_time(self) -> None:
        def scenario() -> list[tuple[float, str, str]]:
            with VirtualClock() as clock:
                server = FakeRunsServer(clock=clock)
                server.on_input(
                    "alpha",
                    Script().delta("a1").wait(2).delta("a2").wait(2.5).complete(output="A"),
                )
                server.on_input(
                    "beta",
                    Script().wait(0.5).delta("b1").wait(1.5).delta("b2").wait(1).complete("B"),
                )
                log: list[tuple[float, str, str]] = []

                async def follow(client: httpx.AsyncClient, name: str) -> None:
                    run_id = (await client.post("/v1/runs", json={"input": name})).json()["run_id"]
                    async with client.stream(
                        "GET", f"/v1/runs/{run_id}/events", timeout=None
                    ) as stream:
                        async for frame in _aframes(stream.aiter_lines()):
                            what = frame if isinstance(frame, str) else frame.get("delta", "")
                            log.append((clock.elapsed, name, describe(frame) + f" {what}"))

                async def app() -> None:
                    async with httpx.AsyncClient(
                        transport=server.async_transport(),
                        base_url=server.base_url,
                        headers=auth(server),
                    ) as client:
                        await asyncio.gather(follow(client, "alpha"), follow(client, "beta"))

                asyncio.run(app())
                return log

        watch = Stopwatch()
        first = scenario()
        assert all(scenario() == first for _ in range(4))
        watch.assert_no_waiting("two concurrent runs, five times")
        assert first == [
            (0, "alpha", "message.delta a1"),
            (0.5, "beta", "message.delta b1"),
            (2, "beta", "message.delta b2"),  # both at 2 s: one order, the same every run
            (2, "alpha", "message.delta a2"),
            (3, "beta", "run.completed "),
            (3, "beta", ": stream closed : stream closed"),
            (4.5, "alpha", "run.completed "),
            (4.5, "alpha", ": stream closed : stream closed"),
        ]

    def test_a_server_left_on_real_time_follows_the_virtual_clock(
        self, clock: VirtualClock
    ) -> None:
        server = FakeRunsServer().script(Script().wait(45).complete(output="ok"))  # RealClock
        with server.mock(), sync_client(server) as client:
            watch = Stopwatch()
            run_id = client.post("/v1/runs", json={"input": "x"}).json()["run_id"]
            with client.stream("GET", f"/v1/runs/{run_id}/events", timeout=None) as stream:
                frames = [describe(f) for f in frames_of(stream.iter_lines())]
        assert frames == [": keepalive", "run.completed", ": stream closed"]
        assert server.runs[run_id].updated_at == T0 + 45
        watch.assert_no_waiting()


async def _aframes(lines: AsyncIterator[str]) -> AsyncIterator[str | dict[str, Any]]:
    async for line in lines:
        for frame in frames_of(iter([line])):
            yield frame


# ------------------------------------------------------------------ over a real socket


class TestLoopback:
    def test_sync_app_over_the_loopback_server(self, clock: VirtualClock) -> None:
        server = FakeRunsServer(clock=clock).script(Script().wait(60).complete(output="ok"))
        with server.serve() as url, requests.Session() as http:
            watch = Stopwatch()
            run_id = http.post(f"{url}/v1/runs", json={"input": "x"}, headers=auth(server)).json()
            polls = 0
            while True:
                polls += 1
                run = http.get(f"{url}/v1/runs/{run_id['run_id']}", headers=auth(server)).json()
                if run["status"] == "completed":
                    break
                time.sleep(2)
            watch.assert_no_waiting("sync app over loopback, 31 polls")
        assert polls == 31 and run["updated_at"] == T0 + 60

    def test_stream_over_the_loopback_server(self, clock: VirtualClock) -> None:
        server = FakeRunsServer(clock=clock).script(
            Script().delta("a").wait(45).complete(output="ok")
        )
        with server.serve() as url:
            watch = Stopwatch()
            run_id = requests.post(
                f"{url}/v1/runs", json={"input": "x"}, headers=auth(server)
            ).json()["run_id"]
            with requests.get(
                f"{url}/v1/runs/{run_id}/events", headers=auth(server), stream=True
            ) as response:
                lines = [line.decode() for line in response.iter_lines() if line]
            watch.assert_no_waiting("45 s stream over loopback")
        assert [describe(f) for f in frames_of(iter(lines))] == [
            "message.delta",
            ": keepalive",
            "run.completed",
            ": stream closed",
        ]
        assert clock.elapsed == 45

    def test_async_httpx_read_timeout_fires_at_its_virtual_moment(
        self, clock: VirtualClock
    ) -> None:
        server = FakeRunsServer(clock=clock).script(SLOW_RUN)  # silent for 600 s

        async def app(url: str) -> float:
            async with httpx.AsyncClient(headers=auth(server), timeout=5.0) as client:
                run_id = (await client.post(f"{url}/v1/runs", json={"input": "x"})).json()
                async with client.stream("GET", f"{url}/v1/runs/{run_id['run_id']}/events") as s:
                    started = clock.elapsed
                    with pytest.raises(httpx.ReadTimeout):
                        async for _ in s.aiter_raw():
                            pass
                    return clock.elapsed - started

        with server.serve() as url:
            # uvicorn's loop starts in its thread after serve() returns; until it runs, no
            # clock can tell that the server is about to answer. Wait until it answers.
            requests.get(f"{url}/health", timeout=5)
            watch = Stopwatch()
            waited = asyncio.run(app(url))
            watch.assert_no_waiting("httpx read timeout over loopback")
        assert waited == 5  # before the server's 30 s keepalive, at exactly 5 virtual s

    def test_two_streams_on_the_server_thread_keep_each_others_moments(
        self, clock: VirtualClock
    ) -> None:
        """Both stream readers wait on the loopback server's one thread: the reader due
        later must not jump past the earlier one's moment (each delta arrives at exactly
        its scripted virtual second, in order), whichever of them waited first."""
        server = FakeRunsServer(clock=clock)
        server.on_input("late", Script().wait(2).delta("late").complete(output="late"))
        server.on_input("early", Script().wait(1).delta("early").complete(output="early"))
        seen: list[tuple[float, str]] = []

        async def read(client: httpx.AsyncClient, run_id: str) -> None:
            async with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
                async for line in stream.aiter_lines():
                    if '"message.delta"' in line:
                        seen.append((clock.elapsed, json.loads(line[6:])["delta"]))

        async def app(url: str) -> None:
            async with httpx.AsyncClient(base_url=url, headers=auth(server), timeout=60) as c:
                late = (await c.post("/v1/runs", json={"input": "late"})).json()["run_id"]
                early = (await c.post("/v1/runs", json={"input": "early"})).json()["run_id"]
                await asyncio.gather(read(c, late), read(c, early))

        with server.serve() as url:
            requests.get(f"{url}/health", timeout=5)
            asyncio.run(app(url))
        assert seen == [(1.0, "early"), (2.0, "late")]


def test_now_datetime_is_aware_utc(clock: VirtualClock) -> None:
    clock.advance(timedelta(minutes=2).total_seconds())
    assert clock.now_datetime() - datetime(2026, 1, 1, tzinfo=UTC) == timedelta(minutes=2)
