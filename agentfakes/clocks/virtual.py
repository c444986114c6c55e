"""`VirtualClock`: one virtual time for the fake server *and* the app under test.

A slow agent (a run that waits ten minutes, a 60 s approval timeout, a 30 s keepalive) is
tested in milliseconds when nothing waits in real time:

    with VirtualClock() as clock:
        server = FakeRunsServer(clock=clock)
        ...                      # the app polls with time.sleep / asyncio.sleep as usual
        assert clock.elapsed == 600

While active (only one at a time):

* wall-clock reads are virtual, through freezegun: `time.time()`, `datetime.now()`,
  `datetime.utcnow()`, `date.today()` give the clock's instant (local time is UTC), and
  `time.monotonic()` / `time.perf_counter()` give virtual monotonic time (starting at
  `MONOTONIC_ORIGIN` when the clock was made), which moves exactly with it;
* `time.sleep(n)` moves the clock n seconds at once and wakes the engine;
* an asyncio loop running in the thread that activated the clock keeps virtual time:
  `loop.time()` is the virtual monotonic time and, when the loop has nothing to do but wait
  for a timer, it jumps the clock to that timer instead of blocking (aiotools' and trio's
  "autojump" design). `asyncio.sleep`, `wait_for`, `asyncio.timeout` and httpx timeouts work
  unchanged, and concurrent sleepers wake at their own moments. Loops in other threads (the
  loopback server's uvicorn) stay on real time and read the engine clock as before;
* anything else blocked only on time (a stream reader whose next event is scheduled later,
  in any thread) moves the clock to the earliest moment anyone is waiting for after a
  short real `grace`, which lets other threads act first.

Time is kept in whole microseconds, the resolution freezegun gives `time.time()`, so the
engine's `clock.now()`, `time.time()` and every timestamp agree exactly.

Limits, by design:

* Threads race in real time. A jump waits `grace` (2 ms) for plain threads; it waits for
  event loops of other threads until they are idle and for any other thread whose moment
  has come until it has woken, and it is dropped when another thread moved time after
  the jumper last looked (so the app's loop and the loopback server's never jump past
  each other). A plain thread that needs longer than the grace (an operator thread posting
  an approval) should be covered by `clock.hold()`, or given a larger `grace`. Two threads
  calling `time.sleep` each move the shared clock.
* A freezegun `freeze_time` or time-machine `travel` started while the clock is active is
  refused with `VirtualTimeError` (one time per process).
* Sync socket timeouts (`requests`, a sync `httpx.Client` over the loopback server) are
  enforced by the kernel in real seconds; async ones are loop timers and are virtual.
* Only asyncio's own loops (not uvloop) in the activating thread are virtual. A loop
  already running when the clock is activated keeps its pending timers (shifted to the
  new clock), but deadlines it stored as numbers (anyio cancel scopes) are not moved.
* A virtual loop with open sockets polls them for `grace` before each jump, so an async
  app talking to the loopback server pays ~2 ms per jump; in-process transports do not.

Why one module of this size: activation, the patches it installs (freezegun factories,
`time.sleep`, the event-loop selector and `loop.time`) and the jump rule share one piece of
state (the active clock, its waiters and adopted loops) and must be read together to see
that every patch is undone; splitting them would spread one invariant over files.
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import math
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import ModuleType, TracebackType
from typing import Any

from freezegun import api as freezegun_api
from freezegun import config as freezegun_config
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from agentfakes.clocks.clock import ChangeSignal, ManualClock, set_active_virtual, to_epoch
from agentfakes.errors import AgentfakesError

__all__ = [
    "BUSY_PATIENCE",
    "HOLD_PATIENCE",
    "MONOTONIC_ORIGIN",
    "Hold",
    "VirtualClock",
    "VirtualTimeError",
    "active_clock",
]

BUSY_PATIENCE = 3.0
"""Real seconds a clock jump waits for another thread's event loop to go idle (the
loopback server answering a request) before it jumps anyway. 1 s was not enough on a
loaded 2-CPU machine (the server's thread went unscheduled that long)."""

HOLD_PATIENCE = 10.0
"""Real seconds after which a forgotten `clock.hold()` stops holding time (no test hangs)."""

MONOTONIC_ORIGIN = 100_000.0
"""Virtual `time.monotonic()` / `loop.time()` when the clock was made: a fixed value (so runs
repeat exactly) that looks like an uptime, not 0 (code often treats 0 as "never")."""

_US = 1_000_000
_EPOCH = datetime(1970, 1, 1)  # naive UTC, as freezegun keeps its frozen instant
_REAL_SLEEP = time.sleep
# Real monotonic time is read as `freezegun_api.real_monotonic()`, never kept in a global
# here: freezegun replaces every module global that holds one of its real functions.
_BaseEventLoop = asyncio.base_events.BaseEventLoop
# Modules that keep real time (pytest's durations, xdist's plumbing): the test runner's,
# not the app's. Their `time.sleep` calls stay real too.
_REAL_TIME_MODULES = ("_pytest", "pytest", "pluggy", "execnet", "xdist")
_REAL_SLEEP_CALLERS = (*_REAL_TIME_MODULES, __name__)  # our own _REAL_SLEEP stays real


class VirtualTimeError(AgentfakesError, RuntimeError):
    """Virtual time was used wrongly (two clocks at once, time moved backwards)."""


_activation_lock = threading.Lock()
_active: VirtualClock | None = None


def active_clock() -> VirtualClock | None:
    """The VirtualClock currently active, if any (one at a time, process-wide)."""
    return _active


# ------------------------------------------------------------------ microsecond arithmetic


def _epoch_of(us: int) -> float:
    """Epoch seconds of `us`, computed as freezegun computes `time.time()`: the same float."""
    return us // _US + (us % _US) / 1e6


def _us_at_or_after(instant: float) -> int:
    """The first microsecond whose epoch float is not before `instant`."""
    whole = math.floor(instant)
    us = whole * _US + round((instant - whole) * _US)
    while _epoch_of(us) < instant:
        us += 1
    while _epoch_of(us - 1) >= instant:
        us -= 1
    return us


def _duration_us(seconds: float, what: str) -> int:
    if not math.isfinite(seconds):
        raise ValueError(f"{what} must be a finite number of seconds, got {seconds!r}")
    if seconds < 0:
        raise ValueError(
            f"time only moves forward: {what} is negative ({seconds!r} s); a VirtualClock "
            "never goes back (make a new one to start over)"
        )
    return round(seconds * _US)


def _next_timer(loop: asyncio.AbstractEventLoop) -> float | None:
    """When the loop's earliest live timer is due (loop time), or None without timers."""
    scheduled: list[asyncio.TimerHandle] = list(getattr(loop, "_scheduled", ()))
    if not scheduled:
        return None
    head = scheduled[0]
    if not head.cancelled():
        return head.when()
    return min((h.when() for h in scheduled if not h.cancelled()), default=None)


def _shift_timers(loop: asyncio.AbstractEventLoop, delta: float) -> None:
    """Carry a loop's pending timers over a change of its clock (same remaining delays)."""
    for handle in list(getattr(loop, "_scheduled", ())):
        if hasattr(handle, "_when"):
            handle._when += delta  # a uniform shift keeps the heap ordered


def _noop() -> None:
    """Scheduled thread-safely only to wake a loop blocked in its selector."""


# ------------------------------------------------------------------ the clock


@dataclass(eq=False)
class _LoopState:
    """What adopting a loop changed, to put back, plus its in-flight executor jobs."""

    thread: int
    selector: Any
    executor_jobs: int = 0
    jobs_lock: threading.Lock = field(default_factory=threading.Lock)

    def job_done(self, _future: object) -> None:
        with self.jobs_lock:
            self.executor_jobs -= 1


class VirtualClock(ManualClock):
    """Virtual time for the engine and, while active (`with clock:`), for the app too.

    `start`: the first instant (epoch seconds, a datetime — naive means UTC — or an ISO
    string; default 2026-01-01T00:00:00Z). `tick`: virtual seconds every wall-clock read by
    the app adds (freezegun's `auto_tick_seconds`), for code that spins on `time.time()`
    without sleeping; 0, the default, keeps time still between waits so timestamps can be
    asserted exactly. `grace`: real seconds something blocked only on time waits for other
    threads (or sockets) to act before the clock jumps.
    """

    def __init__(
        self,
        start: float | datetime | str | None = None,
        *,
        tick: float = 0.0,
        grace: float = 0.002,
    ) -> None:
        super().__init__(start, grace=grace)
        self._us = _us_at_or_after(to_epoch(start))
        self._start_us = self._us
        self._tick_us = _duration_us(tick, "tick")
        self.tick = tick
        self._cond = threading.Condition()  # sleepers stepping through others' deadlines
        self._waiters: dict[int, tuple[int, int]] = {}  # token -> (thread, deadline µs)
        self._tokens = iter(range(1, sys.maxsize))
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )
        self._watched: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _TrackedSelector] = (
            weakref.WeakKeyDictionary()
        )
        self._adopted_cache: list[tuple[asyncio.AbstractEventLoop, _LoopState]] | None = None
        self._busy_since: float | None = None
        self._holds = 0
        self._held_since: float | None = None
        self._owner: int | None = None
        self._stack: ExitStack | None = None

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        return f"<VirtualClock {self.isoformat()} (+{self.elapsed:g} s) {state}>"

    # ------------------------------------------------------------ reading

    def now(self) -> float:
        """The current instant, epoch seconds: exactly what `time.time()` returns while active."""
        return _epoch_of(self._us)

    @property
    def start(self) -> float:
        """The instant the clock started at, epoch seconds."""
        return _epoch_of(self._start_us)

    @property
    def elapsed(self) -> float:
        """Virtual seconds since `start`."""
        return (self._us - self._start_us) / _US

    def monotonic(self) -> float:
        """Virtual monotonic time: `time.monotonic()` and `loop.time()` while active."""
        return MONOTONIC_ORIGIN + (self._us - self._start_us) / _US

    def now_datetime(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        return (_EPOCH + timedelta(microseconds=self._us)).replace(tzinfo=UTC)

    def isoformat(self) -> str:
        return self.now_datetime().isoformat().replace("+00:00", "Z")

    @property
    def active(self) -> bool:
        return _active is self

    # ------------------------------------------------------------ moving

    def advance(self, seconds: float) -> float:
        """Move time forward by `seconds` and wake everything waiting on it; returns now."""
        delta = _duration_us(seconds, f"advance({seconds!r})")
        with self._lock:
            target = self._us + delta
        return self._move_to(target)

    def advance_to(self, instant: float | datetime | str) -> float:
        """Move time forward to `instant` (epoch seconds, datetime or ISO string); an instant
        already past leaves the clock where it is (it never goes back)."""
        epoch = to_epoch(instant)
        if not math.isfinite(epoch):
            raise ValueError(f"advance_to needs a finite instant, got {instant!r}")
        return self._move_to(_us_at_or_after(epoch))

    def sleep(self, seconds: float) -> None:
        """What `time.sleep` does while the clock is active: `seconds` pass at once.

        If another thread waits for an earlier moment, time stops there first and that
        thread gets `grace` real seconds to act, so moments stay in order across threads."""
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        delta = _duration_us(seconds, "sleep")
        with self._lock:
            target = self._us + delta
            alone = not self._waiters and not self._loops
        if alone:  # no one else waits for any moment: nothing to stop at on the way
            self._move_to(target)
            return
        with self._waiting(target):
            while self._us < target:
                other = self._external_us()
                if other is None or other >= target:
                    self._move_to(target)
                    break
                self._move_to(other)
                with self._cond:
                    self._cond.wait(self.grace)

    def _move_to(self, target: int, expected: int | None = None) -> float:
        """The one place time moves; then wake whatever waits on it.

        A jump passes `expected`, the moment it decided at: if another thread moved time
        since, the jump is dropped (that move may have set things going, a server thread
        sending the chunk the jumper's read timeout waits for) and the jumper looks again."""
        with self._lock:
            if target <= self._us or (expected is not None and self._us != expected):
                return _epoch_of(self._us)
            self._us = target
            signals = list(self._signals)
        now = _epoch_of(target)
        for listener in self._listeners:
            listener(now)
        for signal in signals:
            signal.notify()
        if self._waiters:  # only registered waiters wait on _cond
            with self._cond:
                self._cond.notify_all()
        if not self._loops:
            return now
        me = threading.get_ident()
        for loop, state in self._adopted():
            if state.thread != me and not loop.is_closed():
                # it may sleep in its selector on a timeout computed before this move
                with suppress(RuntimeError):
                    loop.call_soon_threadsafe(_noop)
        return now

    def _app_read(self) -> None:
        """The app read the wall clock: `tick` passes (no one is woken for a tick)."""
        if self._tick_us:
            with self._lock:
                self._us += self._tick_us

    # ------------------------------------------------------------ who waits for what

    @contextmanager
    def _waiting(self, deadline_us: int | None) -> Iterator[None]:
        """Let other threads see that this one waits for `deadline_us`."""
        if deadline_us is None:
            yield
            return
        token = next(self._tokens)
        with self._cond:
            self._waiters[token] = (threading.get_ident(), deadline_us)
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                del self._waiters[token]
                self._cond.notify_all()

    def _external_us(self) -> int | None:
        """The earliest future moment anyone else waits for (a reader, a sleeper, or a
        timer of an adopted loop running elsewhere), in µs; None if there is none.

        Registered waiters count whatever their thread: two stream readers on the loopback
        server's one loop must not jump past each other. The caller's own registration
        is its own deadline, so counting it changes nothing."""
        me = threading.get_ident()
        now = self._us
        best: int | None = None
        for _, deadline in list(self._waiters.values()):
            if deadline > now and (best is None or deadline < best):
                best = deadline
        for loop, state in self._adopted():
            if state.thread == me or loop.is_closed():
                continue
            when = _next_timer(loop)
            if when is not None:
                us = self._us_for_monotonic(when)
                if us > now and (best is None or us < best):
                    best = us
        return best

    def _adopted(self) -> list[tuple[asyncio.AbstractEventLoop, _LoopState]]:
        """The adopted loops still open. A cached list, rebuilt when a loop is adopted or
        closes: iterating the WeakKeyDictionary (under the lock: another thread may add)
        on every jump cost more than the jump itself."""
        cached = self._adopted_cache
        if cached is None or any(loop.is_closed() for loop, _ in cached):
            with self._lock:
                cached = [(loop, st) for loop, st in self._loops.items() if not loop.is_closed()]
                self._adopted_cache = cached
        return cached

    def hold(self) -> Hold:
        """Keep time from jumping by itself until the hold is released (`with clock.hold():`
        or `hold.release()`, from any thread): a hand-off between threads that must not
        race a clock jump, e.g. take it before signalling a helper thread to post an
        approval and let the helper release it once posted. `advance()` and `time.sleep`
        still move time. A hold older than `HOLD_PATIENCE` real seconds is ignored."""
        with self._lock:
            self._holds += 1
            if self._held_since is None:
                self._held_since = freezegun_api.real_monotonic()
        return Hold(self)

    def _release(self) -> None:
        with self._lock:
            self._holds -= 1
            if not self._holds:
                self._held_since = None
            signals = list(self._signals)
        for signal in signals:  # readers waiting out their grace look again now
            signal.notify()

    def _settled(self) -> bool:
        """Whether time may jump: no hold, no waiter whose moment has come but that has
        not woken yet (a server handler whose ~1 s pause just ended: its loop looks idle
        until it runs; a jumper is never one, `_jump` returns first), the loops of other
        threads all idle, and no input waiting in this thread's own loop (a client's
        approval POST that arrived while the server's stream reader waited). A loop busy
        for over `BUSY_PATIENCE` real seconds is not waited for any longer."""
        held_since = self._held_since
        if held_since is not None and freezegun_api.real_monotonic() - held_since < HOLD_PATIENCE:
            return False
        me = threading.get_ident()
        now_us = self._us
        if any(due <= now_us for _, due in list(self._waiters.values())):
            return self._busy_too_long()
        selectors = [
            (loop, getattr(loop, "_selector", None))
            for loop, state in self._adopted()
            if state.thread != me
        ]
        if self._watched:
            with self._lock:
                selectors += [(loop, selector) for loop, selector in self._watched.items()]
        for loop, selector in selectors:
            if (
                loop.is_closed()
                or not loop.is_running()
                or not isinstance(selector, _TrackedSelector)
            ):
                continue
            if getattr(loop, "_thread_id", None) == me:
                if not selector.pending():
                    continue
            elif selector.idle():
                continue
            return self._busy_too_long()
        self._busy_since = None
        return True

    def _busy_too_long(self) -> bool:
        """Another thread is busy: False (wait for it) until it has been for `BUSY_PATIENCE`."""
        started = self._busy_since
        now = freezegun_api.real_monotonic()
        if started is None:
            self._busy_since = now
            return False
        return now - started > BUSY_PATIENCE

    def _others_may_act(self) -> bool:
        """Whether a grace is worth waiting: some other thread is alive that is not itself
        waiting on this clock (those cannot act until time moves). A plain thread (an
        operator thread, a sync client blocked on a socket) still gets its grace."""
        me = threading.get_ident()
        waiting = {thread for thread, _ in list(self._waiters.values())}
        return any(t.ident != me and t.ident not in waiting for t in threading.enumerate())

    def _alone_with(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether `loop` is all there is: no other waiter, watched loop, hold, executor job
        or adopted loop (the common single-loop test, which jumps without bookkeeping)."""
        if self._waiters or self._watched or self._holds:
            return False
        adopted = self._adopted()
        return len(adopted) == 1 and adopted[0][0] is loop and not adopted[0][1].executor_jobs

    def _has_external_waiters(self) -> bool:
        me = threading.get_ident()
        return any(thread != me for thread, _ in list(self._waiters.values()))

    def _us_for_monotonic(self, when: float) -> int:
        """The first microsecond at which a loop considers a timer due at `when` (loop time)."""
        return self._start_us + math.ceil((when - MONOTONIC_ORIGIN) * _US - 1e-4)

    # ------------------------------------------------------------ the engine's waits

    def _moment(self) -> int:
        return self._us

    def _jump(self, deadline: float, moment: int | None = None) -> None:
        """A reader waited its grace for nothing: move to its deadline, or to an earlier
        moment another thread waits for (that thread acts, then the reader looks again).
        While another thread's loop still works (the loopback server answering a request)
        time stays: the reader looks again after another grace. So does it when time
        moved since `moment`, the instant it started its grace."""
        target = _us_at_or_after(deadline)
        if target <= self._us or not self._settled():  # already there, or someone's busy
            return
        other = self._external_us()
        self._move_to(target if other is None else min(target, other), moment)

    def wait(self, signal: ChangeSignal, version: int, deadline: float | None) -> None:
        with self._waiting(None if deadline is None else _us_at_or_after(deadline)):
            super().wait(signal, version, deadline)

    async def wait_async(self, signal: ChangeSignal, version: int, deadline: float | None) -> None:
        loop = asyncio.get_running_loop()
        if loop not in self._loops:  # a real-time loop (another thread): grace, then jump
            with self._waiting(None if deadline is None else _us_at_or_after(deadline)):
                await super().wait_async(signal, version, deadline)
            return
        # On a virtual loop the deadline is just a timer: the loop jumps to it when (and
        # only when) nothing else, an app task's sleep say, is due first.
        future = signal.future()
        if signal.version != version:
            return
        timeout = None
        if deadline is not None:
            timeout = max(0, _us_at_or_after(deadline) - self._us) / _US
        with suppress(TimeoutError):
            await asyncio.wait_for(future, timeout)

    async def skip_async(self, seconds: float) -> None:
        """A wait the server spends (spec §2.3's ~1 s before a stream 404). On a virtual loop
        it is a timer; on a real-time loop (the loopback server's) the server waits as a
        reader does, so a moment another thread waits for first (a client's read timeout)
        comes first, as on a real server, instead of being jumped over."""
        loop = asyncio.get_running_loop()
        if loop in self._loops:
            await asyncio.sleep(seconds)
            return
        deadline = self.now() + seconds
        signal = ChangeSignal()  # woken by every move of the clock while it waits
        self.subscribe(signal)
        try:
            while self.now() < deadline:
                await self.wait_async(signal, signal.version, deadline)
        finally:
            with self._lock:
                self._signals.remove(signal)

    # ------------------------------------------------------------ activation

    def __enter__(self) -> VirtualClock:
        self.activate()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.deactivate()

    def activate(self) -> VirtualClock:
        """Make the app's time virtual (prefer `with clock:`); undone by `deactivate()`."""
        global _active
        with _activation_lock:
            if _active is self:
                raise VirtualTimeError(f"{self!r} is already active; activate it once")
            if _active is not None:
                raise VirtualTimeError(
                    f"another VirtualClock is already active ({_active!r}); only one can be: "
                    "the process has one time.time() and one time.sleep. Leave its `with` "
                    "block first, or share that clock"
                )
            _active = self
        stack = ExitStack()
        try:
            stack.callback(self._clear_active)
            self._owner = threading.get_ident()
            self._freeze_wall_clock(stack)
            self._patch_sleep(stack)
            self._patch_event_loops(stack)
            self._refuse_other_time_patches(stack)
            previous = set_active_virtual(self)
            stack.callback(set_active_virtual, previous)
            stack.callback(self._release_loops)
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not None:
                self._adopt(running)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def deactivate(self) -> None:
        """Put real time back: freezegun, time.sleep, the event loops. Safe to call twice."""
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    def _clear_active(self) -> None:
        global _active
        with _activation_lock:
            if _active is self:
                _active = None
        self._owner = None

    def _freeze_wall_clock(self, stack: ExitStack) -> None:
        """freezegun for time.time/datetime/date; monotonic and perf_counter read our
        virtual monotonic time so they agree with `loop.time()`."""
        freezer = freeze_time(_EPOCH + timedelta(microseconds=self._us), tick=False)
        with _cheap_module_hashes():
            freezer.start()
        stack.callback(freezer.stop)
        for module, attribute, original in list(getattr(freezer, "undo_changes", ())):
            if getattr(module, "__name__", "").startswith(_REAL_TIME_MODULES):
                setattr(module, attribute, original)  # e.g. pytest's own test durations
        factories = freezegun_api.freeze_factories
        factories[-1] = _ClockFactory(self)

        def fake_monotonic() -> float:
            self._app_read()
            return self.monotonic()

        def fake_monotonic_ns() -> int:
            self._app_read()
            return (round(MONOTONIC_ORIGIN * _US) + self._us - self._start_us) * 1000

        for name, fake in (
            ("_get_fake_monotonic", fake_monotonic),
            ("_get_fake_monotonic_ns", fake_monotonic_ns),
        ):
            if hasattr(freezegun_api, name):
                stack.callback(setattr, freezegun_api, name, getattr(freezegun_api, name))
                setattr(freezegun_api, name, fake)
        self._install_fast_reads(stack)

    def _install_fast_reads(self, stack: ExitStack) -> None:
        """`time.time()` and friends read the clock directly, not through freezegun's
        datetime round trip (~20 µs a call: an http.cookiejar read on every httpx request).
        Same values, same rule: a call from a module freezegun ignores reads real time.
        Names imported before activation (`from time import time`) keep freezegun's fakes."""
        ignore = tuple(freezegun_api.ignore_lists[-1]) if freezegun_api.ignore_lists else ()
        depth = freezegun_api.call_stack_inspection_limit
        ignored: dict[str, bool] = {}  # module name -> on the ignore list (few modules call)

        def from_ignored() -> bool:
            if not ignore or not depth:
                return False
            frame: Any = sys._getframe(2)  # the caller of the time function
            for _ in range(depth):
                if frame is None:
                    return False
                name = frame.f_globals.get("__name__")
                if name:
                    hit = ignored.get(name)
                    if hit is None:
                        hit = ignored[name] = name.startswith(ignore)
                    if hit:
                        return True
                frame = frame.f_back
            return False

        def fast_time() -> float:
            if from_ignored():
                return freezegun_api.real_time()
            self._app_read()
            return _epoch_of(self._us)

        def fast_time_ns() -> int:
            if from_ignored():
                return freezegun_api.real_time_ns()
            self._app_read()
            return int(_epoch_of(self._us) * 1e9)

        def fast_monotonic() -> float:
            if from_ignored():
                return freezegun_api.real_monotonic()
            self._app_read()
            return self.monotonic()

        def fast_perf_counter() -> float:
            if from_ignored():
                return freezegun_api.real_perf_counter()
            self._app_read()
            return self.monotonic()

        for name, fast in (
            ("time", fast_time),
            ("time_ns", fast_time_ns),
            ("monotonic", fast_monotonic),
            ("perf_counter", fast_perf_counter),
        ):
            stack.callback(setattr, time, name, getattr(time, name))
            setattr(time, name, fast)

    def _refuse_other_time_patches(self, stack: ExitStack) -> None:
        """A freezegun `freeze_time` or time-machine `travel` started while this clock is
        active (in a test body, say) would silently take `time.time()` from it: refuse it
        where it starts, with what to do instead (issue 8: one clock per test)."""
        targets: list[tuple[Any, str]] = [(freezegun_api._freeze_time, "freezegun's freeze_time")]
        time_machine = sys.modules.get("time_machine")
        if time_machine is not None and hasattr(time_machine, "travel"):
            targets.append((time_machine.travel, "time-machine's travel"))
        for owner, what in targets:
            original = owner.__dict__.get("start")
            if original is None:
                continue
            stack.callback(setattr, owner, "start", original)
            owner.start = _refusing_start(self, what)

    def _patch_sleep(self, stack: ExitStack) -> None:
        """`time.sleep`, and every `from time import sleep` already imported, go virtual."""
        stack.callback(setattr, time, "sleep", _REAL_SLEEP)
        setattr(time, "sleep", _virtual_sleep)  # noqa: B010 - mypy: a narrower signature
        skip = (*freezegun_config.settings.default_ignore_list, *_REAL_SLEEP_CALLERS)
        for name, module in list(sys.modules.items()):
            if module is None or name.startswith(skip) or name == "time":
                continue
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for attribute in _sleep_names(name, module, namespace):
                setattr(module, attribute, _virtual_sleep)
                stack.callback(_restore_attribute, module, attribute)

    def _patch_event_loops(self, stack: ExitStack) -> None:
        """Loops stay on real time (freezegun froze time.monotonic under them) except those
        that run in this thread, which are adopted as they start."""
        for name, patched in (("time", _real_loop_time), ("run_forever", _adopting_run_forever)):
            stack.callback(setattr, _BaseEventLoop, name, _BaseEventLoop.__dict__[name])
            setattr(_BaseEventLoop, name, patched)

    # ------------------------------------------------------------ virtual loops

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Put a loop of the activating thread on virtual time."""
        if loop in self._loops or loop.is_closed():
            return
        selector = getattr(loop, "_selector", None)
        if not isinstance(loop, _BaseEventLoop) or selector is None:
            raise VirtualTimeError(
                f"VirtualClock can only make asyncio's own event loops virtual, not {loop!r} "
                "(uvloop keeps its own clock); run the app on the default loop in tests"
            )
        state = _LoopState(thread=threading.get_ident(), selector=selector)
        original_run_in_executor = loop.run_in_executor

        def run_in_executor(executor: Any, func: Callable[..., Any], *args: Any) -> Any:
            future = original_run_in_executor(executor, func, *args)
            with state.jobs_lock:
                state.executor_jobs += 1
            future.add_done_callback(state.job_done)
            return future

        _shift_timers(loop, self.monotonic() - freezegun_api.real_monotonic())
        loop._selector = _JumpingSelector(selector, self, loop, state)  # type: ignore[attr-defined]
        setattr(loop, "time", self.monotonic)  # noqa: B010 - an instance attribute, on purpose
        setattr(loop, "run_in_executor", run_in_executor)  # noqa: B010
        with self._lock:
            self._loops[loop] = state
            self._adopted_cache = None

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Track whether a loop of another thread is idle (it keeps real time)."""
        selector = getattr(loop, "_selector", None)
        if selector is None or isinstance(selector, _TrackedSelector) or loop.is_closed():
            return
        tracked = _TrackedSelector(selector)
        loop._selector = tracked  # type: ignore[attr-defined]
        with self._lock:
            self._watched[loop] = tracked

    def _release_loops(self) -> None:
        with self._lock:
            watched = list(self._watched.items())
            self._watched.clear()
        for loop, tracked in watched:
            if getattr(loop, "_selector", None) is tracked:
                loop._selector = tracked._inner  # type: ignore[attr-defined]
        with self._lock:
            adopted = list(self._loops.items())
        for loop, state in adopted:
            for name in ("time", "run_in_executor"):
                loop.__dict__.pop(name, None)
            if isinstance(getattr(loop, "_selector", None), _JumpingSelector):
                loop._selector = state.selector  # type: ignore[attr-defined]
            if not loop.is_closed():
                _shift_timers(loop, freezegun_api.real_monotonic() - self.monotonic())
        with self._lock:
            self._loops.clear()
            self._adopted_cache = None

    def _loop_jump(self, loop: asyncio.AbstractEventLoop, timeout: float, moment: int) -> None:
        """The loop would block `timeout` seconds for its next timer: be there now (or at
        an earlier moment another thread waits for), unless time moved since `moment`,
        when the loop started looking for I/O."""
        target_time = self.monotonic() + timeout
        when = _next_timer(loop)
        if when is not None and when < target_time:
            target_time = when
        target = self._us_for_monotonic(target_time)
        other = self._external_us()
        if other is not None and other < target:
            target = other
        self._move_to(max(target, moment + 1), moment)


class Hold:
    """A hold on a VirtualClock's jumps (see `VirtualClock.hold`); release it once."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock: VirtualClock | None = clock

    def release(self) -> None:
        clock, self._clock = self._clock, None
        if clock is not None:
            clock._release()

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class _TrackedSelector:
    """A loop's selector that tells other threads whether the loop is idle: blocked in
    `select` with nothing to read. Loops of other threads (the loopback server's) get
    only this, so a clock jump can wait until the server has answered."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._blocked = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def select(self, timeout: float | None = None) -> Any:
        return self._select(timeout)

    def _select(self, timeout: float | None) -> Any:
        self._blocked = timeout is None or timeout > 0
        try:
            return self._inner.select(timeout)
        finally:
            self._blocked = False

    def pending(self) -> bool:
        """Input (or a write) is ready that the loop has not handled yet; for the loop of
        the calling thread, which is running, not blocked."""
        try:
            return bool(self._inner.select(0))
        except (OSError, ValueError, RuntimeError):
            return False

    def idle(self) -> bool:
        """Blocked in select with no event pending (level-triggered polling from another
        thread reports readiness without consuming it)."""
        if not self._blocked:
            return False
        try:
            return not self._inner.select(0)
        except (OSError, ValueError, RuntimeError):
            return False


class _JumpingSelector(_TrackedSelector):
    """The selector of a virtual loop: "block until the next timer" becomes "jump to it".

    Before jumping it polls for real I/O: not at all when only the loop's own wake-up pipe
    is registered and no other thread is involved, for `grace` when sockets are open or
    another thread waits on the clock or still works (a loopback server answering), and
    for as long as the timer says while executor jobs run (their work takes real time)."""

    def __init__(
        self, inner: Any, clock: VirtualClock, loop: asyncio.AbstractEventLoop, state: _LoopState
    ) -> None:
        super().__init__(inner)
        self._clock = clock
        self._loop = weakref.ref(loop)
        self._state = state
        self._others_busy = False

    def select(self, timeout: float | None = None) -> Any:
        clock = self._clock
        loop = self._loop()
        if (timeout is not None and timeout <= 0) or loop is None or not clock.active:
            return self._select(timeout)
        moment = clock._moment()
        if timeout is not None and clock._alone_with(loop):
            # nothing else could act: straight to the next timer (no poll, no bookkeeping)
            try:
                lone = len(self._inner.get_map()) <= 1  # only the loop's own wake-up pipe
            except (AttributeError, RuntimeError):
                lone = False
            if lone:
                target = clock._us_for_monotonic(clock.monotonic() + timeout)
                clock._move_to(max(target, moment + 1), moment)
                return []
        if self._state.executor_jobs > 0:
            events = self._select(timeout)
            if events or timeout is None:
                return events
            clock._loop_jump(loop, timeout, moment)
            return events
        poll = clock.grace if self._others_busy or self._must_poll() else 0.0
        events = self._select(poll if timeout is None else min(poll, timeout))
        if events:
            return events
        if timeout is None:  # no timer at all: only a real event (or another thread) can help
            return self._select(None)
        self._others_busy = not clock._settled()
        if self._others_busy:
            return events
        if poll:  # what another thread sent while we looked at it (it is idle again now)
            events = self._select(0)
            if events:
                return events
        clock._loop_jump(loop, timeout, moment)
        return events

    def _must_poll(self) -> bool:
        if self._clock._has_external_waiters():
            return True
        try:
            return len(self._inner.get_map()) > 1  # more than the loop's self-pipe
        except (AttributeError, RuntimeError):
            return True


class _ClockFactory(FrozenDateTimeFactory):
    """freezegun's source of "now", read live from the VirtualClock; freezegun's own
    `tick()` / `move_to()` move the clock."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(_EPOCH + timedelta(microseconds=clock._us))
        self.clock = clock

    def __call__(self) -> datetime:
        self.clock._app_read()
        return _EPOCH + timedelta(microseconds=self.clock._us)

    def tick(self, delta: timedelta | float = timedelta(seconds=1)) -> datetime:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        self.clock.advance(seconds)
        return _EPOCH + timedelta(microseconds=self.clock._us)

    def move_to(self, target_datetime: Any) -> None:
        self.clock.advance_to(target_datetime)


# ------------------------------------------------------------------ patched functions


def _virtual_sleep(seconds: float) -> None:
    """`time.sleep` while a VirtualClock is active: virtual seconds, no real wait."""
    clock = _active
    if clock is None:
        _REAL_SLEEP(seconds)
        return
    caller = sys._getframe(1).f_globals.get("__name__") or ""
    if caller.startswith(_REAL_SLEEP_CALLERS):
        _REAL_SLEEP(seconds)
        return
    clock.sleep(seconds)


def _refusing_start(clock: VirtualClock, what: str) -> Callable[..., Any]:
    def start(self: object, *args: object, **kwargs: object) -> Any:
        raise VirtualTimeError(
            f"{what} was started while {clock!r} is active: the process has one "
            "time.time(), and two patches would fight over it silently. Move the virtual "
            "clock instead (clock.advance(seconds), clock.advance_to(instant), or "
            "VirtualClock(start=instant)); in pytest, to keep your own patch, mark the test "
            "@pytest.mark.agentfakes(clock='real')"
        )

    return start


def _real_loop_time(self: asyncio.AbstractEventLoop) -> float:
    """`loop.time()` of loops that are not virtual: real, though time.monotonic is frozen."""
    return freezegun_api.real_monotonic()


_ORIGINAL_RUN_FOREVER: Callable[[asyncio.base_events.BaseEventLoop], None] = (
    _BaseEventLoop.run_forever
)


def _adopting_run_forever(self: asyncio.base_events.BaseEventLoop) -> None:
    """A loop starting in the activating thread runs on virtual time; one starting in
    another thread is watched, so jumps wait while it works."""
    clock = _active
    if clock is not None:
        if clock._owner == threading.get_ident():
            clock._adopt(self)
        else:
            clock._watch(self)
    _ORIGINAL_RUN_FOREVER(self)


@contextmanager
def _cheap_module_hashes() -> Iterator[None]:
    """freezegun's `start()` keys its per-module scan cache by a hash of `dir(module)`, which
    it computes for every loaded module on every start (~60% of activating a clock). Key it
    by the module's id and namespace size instead, only while our freezer starts."""
    original = freezegun_api._get_module_attributes_hash

    def cheap(module: Any) -> str:
        namespace = getattr(module, "__dict__", None)
        size = len(namespace) if isinstance(namespace, dict) else -1
        return f"{id(module)}-{size}"

    freezegun_api._get_module_attributes_hash = cheap
    try:
        yield
    finally:
        freezegun_api._get_module_attributes_hash = original


# module name -> (module id, namespace size, names that held the real time.sleep): scanning
# every namespace of every module on each activation was most of its cost (~15 ms for 600
# modules). A module whose namespace kept its size is looked up by name only, as freezegun
# caches its own scan by the module's names.
_SLEEP_NAMES: dict[str, tuple[int, int, tuple[str, ...]]] = {}


def _sleep_names(name: str, module: ModuleType, namespace: dict[str, Any]) -> list[str]:
    """The names in `namespace` bound to the real `time.sleep`."""
    cached = _SLEEP_NAMES.get(name)
    if cached is not None and cached[0] == id(module) and cached[1] == len(namespace):
        return [a for a in cached[2] if namespace.get(a) is _REAL_SLEEP]
    found = tuple(a for a, v in list(namespace.items()) if v is _REAL_SLEEP)
    _SLEEP_NAMES[name] = (id(module), len(namespace), found)
    return list(found)


def _restore_attribute(module: ModuleType, attribute: str) -> None:
    if getattr(module, attribute, None) is _virtual_sleep:
        setattr(module, attribute, _REAL_SLEEP)
