"""The engine's time: where "now" comes from and how a reader waits for the next moment.

The engine never sleeps. A run is a timeline; whoever looks at it (a poll, a stream
reader) first brings it up to `clock.now()`. A stream reader with nothing to read waits on a
`ChangeSignal` until something changes (an approval, a stop) or the clock reaches the next
moment the run has scheduled. `RealClock` waits in real time; `ManualClock` jumps straight
to that moment, so a 60 s approval timeout costs no real time. `VirtualClock`
(`agentfakes.clocks.virtual`) is a ManualClock that also makes the app's own clock virtual.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime


class ChangeSignal:
    """Wakes sync and async waiters whenever engine state (or virtual time) changes."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.condition = threading.Condition(self.lock)
        self.version = 0
        # A dict, not a set: waiters wake in the order they started waiting, so concurrent
        # readers interleave the same way on every run.
        self._futures: dict[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]], None] = {}

    def notify(self) -> None:
        with self.lock:
            self.version += 1
            self.condition.notify_all()
            futures, self._futures = self._futures, {}
        for loop, future in futures:
            if loop.is_closed():
                continue
            with contextlib.suppress(RuntimeError):  # the loop closed after the check
                loop.call_soon_threadsafe(_resolve, future)

    def future(self) -> asyncio.Future[None]:
        """A future resolved by the next `notify()`, bound to the running loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self.lock:
            self._futures[(loop, future)] = None
        return future


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _others_first(signal: ChangeSignal, version: int) -> bool:
    """Yield to the loop a few times so tasks already ready run first; False as soon as
    something changed (the waiter has its answer), True if nothing did."""
    for _ in range(3):
        if signal.version != version:
            return False
        await asyncio.sleep(0)
    return signal.version == version


class Clock(ABC):
    """Base of the engine's clocks: `now()` in epoch seconds and the two ways to wait."""

    @abstractmethod
    def now(self) -> float:
        """The current instant, epoch seconds."""

    @property
    def is_real(self) -> bool:
        return False

    def subscribe(self, signal: ChangeSignal) -> None:  # noqa: B027 - optional hook
        """Register an engine's signal so a clock that jumps can wake its waiters."""

    @abstractmethod
    def wait(self, signal: ChangeSignal, version: int, deadline: float | None) -> None:
        """Block until `signal` moves past `version` or the clock reaches `deadline`."""

    @abstractmethod
    async def wait_async(self, signal: ChangeSignal, version: int, deadline: float | None) -> None:
        """The same as `wait`, without blocking the event loop."""

    @abstractmethod
    def skip(self, seconds: float) -> None:
        """Let `seconds` pass for the caller, as a real server's own wait would (e.g. the ~1 s
        of polling before a stream 404, spec §2.3): free on a manual clock, real on a real one."""

    async def skip_async(self, seconds: float) -> None:
        """The same as `skip`, without blocking the event loop."""
        self.skip(seconds)


# The VirtualClock currently active, if any. While one is, wall-clock time *is* virtual, so
# a RealClock engine must wait the virtual way too. Set only through `set_active_virtual`.
_active_virtual: Clock | None = None


def active_virtual() -> Clock | None:
    """The VirtualClock active in this process, if any."""
    return _active_virtual


def set_active_virtual(clock: Clock | None) -> Clock | None:
    """Make `clock` the active virtual clock (None: none); returns the previous one."""
    global _active_virtual
    previous, _active_virtual = _active_virtual, clock
    return previous


class RealClock(Clock):
    """Wall-clock time: `time.time()`, waits in real seconds (virtual ones under a VirtualClock)."""

    def now(self) -> float:
        return time.time()

    @property
    def is_real(self) -> bool:
        return True

    def wait(self, signal: ChangeSignal, version: int, deadline: float | None) -> None:
        virtual = _active_virtual
        if virtual is not None:  # time.time() is virtual: waiting for it in real time would hang
            virtual.wait(signal, version, deadline)
            return
        with signal.lock:
            while signal.version == version:
                if deadline is None:
                    signal.condition.wait()
                    continue
                remaining = deadline - self.now()
                if remaining <= 0:
                    return
                signal.condition.wait(remaining)

    async def wait_async(self, signal: ChangeSignal, version: int, deadline: float | None) -> None:
        virtual = _active_virtual
        if virtual is not None:
            await virtual.wait_async(signal, version, deadline)
            return
        future = signal.future()
        if signal.version != version:
            return
        timeout = None if deadline is None else max(0.0, deadline - self.now())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(future, timeout)

    def skip(self, seconds: float) -> None:
        virtual = _active_virtual
        if virtual is not None:
            virtual.skip(seconds)
            return
        time.sleep(seconds)

    async def skip_async(self, seconds: float) -> None:
        virtual = _active_virtual
        if virtual is not None:
            await virtual.skip_async(seconds)
            return
        await asyncio.sleep(seconds)


def to_epoch(start: float | datetime | str | None) -> float:
    """Accept a start instant as epoch seconds, a datetime (naive = UTC) or an ISO string."""
    if start is None:
        return DEFAULT_START
    if isinstance(start, int | float):
        return float(start)
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    if start.tzinfo is None:
        from datetime import UTC

        start = start.replace(tzinfo=UTC)
    return start.timestamp()


DEFAULT_START = 1_767_225_600.0  # 2026-01-01T00:00:00Z: a fixed instant, so runs reproduce


class ManualClock(Clock):
    """Time that moves only when told to, or when every reader waits on time alone.

    A reader with nothing to do but wait for a scheduled moment jumps the clock to it
    (after `grace` real seconds without a change from another thread, or at once when no
    other thread is alive to make one), so timelines of minutes finish in microseconds and
    in the same order every time.
    """

    def __init__(self, start: float | datetime | str | None = None, *, grace: float = 0.002):
        self._now = to_epoch(start)
        self.grace = grace
        self._lock = threading.Lock()
        self._signals: list[ChangeSignal] = []
        self._listeners: list[Callable[[float], None]] = []

    def now(self) -> float:
        return self._now

    def subscribe(self, signal: ChangeSignal) -> None:
        with self._lock:
            if signal not in self._signals:
                self._signals.append(signal)

    def on_change(self, listener: Callable[[float], None]) -> None:
        """Call `listener(now)` after every move of the clock (used by virtual time)."""
        self._listeners.append(listener)

    def advance(self, seconds: float) -> float:
        """Move time forward by `seconds` and wake everything waiting on it."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise TypeError(f"advance() takes a number of seconds, not {seconds!r}")
        if not math.isfinite(seconds):
            raise ValueError(f"advance() needs a finite number of seconds, got {seconds!r}")
        if seconds < 0:
            raise ValueError(f"time only moves forward; advance({seconds}) is negative")
        with self._lock:
            self._now += seconds
            now = self._now
            signals = list(self._signals)
        for listener in self._listeners:
            listener(now)
        for signal in signals:
            signal.notify()
        return now

    def advance_to(self, instant: float) -> float:
        """Move time forward to `instant` (no-op if it is already past)."""
        return self.advance(max(0.0, instant - self._now))

    def skip(self, seconds: float) -> None:
        """A wait the server would spend: on a manual clock it moves shared time, for free."""
        self.advance(seconds)

    def _moment(self) -> int | None:
        """What a reader notes before its grace, handed back to `_jump` (see VirtualClock)."""
        return None

    def _jump(self, deadline: float, moment: int | None = None) -> None:
        """A reader waited its grace for nothing: time moves on to `deadline` by itself."""
        self.advance_to(deadline)

    def _others_may_act(self) -> bool:
        """Whether another thread could change something during a grace: any other thread
        alive. The grace is for them; a lone reader has no one to wait for."""
        return threading.active_count() > 1

    def wait(self, signal: ChangeSignal, version: int, deadline: float | None) -> None:
        moment = self._moment()
        with signal.lock:
            if signal.version != version:
                return
            if self._others_may_act():
                signal.condition.wait(self.grace)
                if signal.version != version:
                    return
        if deadline is not None:
            self._jump(deadline, moment)

    async def wait_async(self, signal: ChangeSignal, version: int, deadline: float | None) -> None:
        future = signal.future()
        # Let every other ready task run first (an app task about to POST an approval).
        if not await _others_first(signal, version):
            return
        moment = self._moment()
        try:
            await asyncio.wait_for(future, self.grace)
            return
        except TimeoutError:
            pass
        # A request read in the same loop iteration as the grace ran out is a task that has
        # not started yet (its socket no longer shows it): let it run before time jumps.
        if await _others_first(signal, version) and deadline is not None:
            self._jump(deadline, moment)
