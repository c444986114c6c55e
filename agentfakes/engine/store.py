"""`RunStore`: the runs and their rules, with no HTTP in sight.

It creates runs (the script book picks each one's script), brings them up to the clock,
applies stops and approvals, counts work against the concurrency cap and sweeps expired
streams and statuses (spec §4, §6). Callers hold `store.lock`, so a transport on any
thread (or the loopback server's event loop) sees one consistent store.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from agentfakes.clocks.clock import ChangeSignal, Clock
from agentfakes.engine.responses import ResponseStore
from agentfakes.engine.run import EventStream, RunRecord, RunTiming
from agentfakes.engine.script_book import ScriptBook
from agentfakes.engine.sessions import SessionStore
from agentfakes.engine.subscription import Subscription
from agentfakes.engine.turns import TurnRecord
from agentfakes.script import Script
from agentfakes.seeding import new_run_id

_T = TypeVar("_T")


class _DeadlineQueue(Generic[_T]):
    """Items keyed by a moment, taken out oldest first once their moment is old enough."""

    __slots__ = ("_buckets", "_moments")

    def __init__(self) -> None:
        self._moments: list[float] = []  # a heap of the distinct moments in `_buckets`
        self._buckets: dict[float, list[_T]] = {}

    def add(self, moment: float, item: _T) -> None:
        bucket = self._buckets.get(moment)
        if bucket is None:
            self._buckets[moment] = [item]
            heapq.heappush(self._moments, moment)
        else:
            bucket.append(item)

    def expired(self, before: float) -> list[_T]:
        """Take out every item whose moment is earlier than `before` (strictly)."""
        moments = self._moments
        if not moments or moments[0] >= before:
            return []
        out: list[_T] = []
        while moments and moments[0] < before:
            out += self._buckets.pop(heapq.heappop(moments))
        return out


@dataclass
class EngineSettings:
    """Server configuration that shapes behaviour (defaults: hermes-agent 0.19.0's)."""

    model_name: str = "hermes-agent"
    max_concurrent_runs: int = 10  # spec §6.3; 0 disables the cap
    keepalive: float = 30.0  # spec §5.1
    stream_ttl: float = 300.0  # spec §6.2, measured from creation
    status_ttl: float = 3600.0  # spec §6.2, measured from the last update
    sweep_interval: float = 60.0  # spec §6.2
    missing_stream_delay: float = 1.0  # spec §2.3: ~1 s of polling before a stream 404
    api_max_retries: int = 3  # agent.api_max_retries: quoted in provider failure texts
    llm_model: str = "fake-model"  # the provider model the agent used (session rows)


class RunStore:
    """The run store: create, observe, stop, approve, subscribe, sweep."""

    def __init__(
        self,
        clock: Clock,
        settings: EngineSettings | None = None,
        timing: RunTiming | None = None,
        run_ids: Callable[[], str] = new_run_id,
        book: ScriptBook | None = None,
    ) -> None:
        self.clock = clock
        self.settings = settings or EngineSettings()
        self.timing = timing or RunTiming()
        self.book = book or ScriptBook()
        self.signal = ChangeSignal()
        self.lock = self.signal.lock
        clock.subscribe(self.signal)
        self._run_ids = run_ids
        self.records: dict[str, RunRecord] = {}  # what the server still knows (swept)
        self.history: dict[str, RunRecord] = {}  # every run ever created, for tests
        self._active: dict[str, RunRecord] = {}
        self.sessions = SessionStore()  # state.db: chat/responses/session-chat turns
        self.responses = ResponseStore()  # stored /v1/responses objects (beyond-runs §5.5)
        self.turns: dict[str, TurnRecord] = {}  # every non-run turn, for tests
        self._active_turns: dict[str, TurnRecord] = {}  # they share the cap (§2.1)
        self.idempotency: dict[str, Any] = {}  # Idempotency-Key -> cached turn (§4.4)
        self.cron_jobs: list[dict[str, Any]] = []  # /api/jobs (beyond-runs §6.3)
        self._next_sweep = clock.now() + self.settings.sweep_interval
        # The sweeper's two deadline queues (spec §6.2), so a sweep touches only what
        # expires: streams by their run's creation time, terminal runs' statuses by their
        # last update (fixed once terminal). Each is a heap of distinct moments with the
        # streams / run ids of each moment in a bucket: runs created (or finished) at the
        # same instant share one heap entry, so popping costs no comparisons per run.
        self._stream_expiry = _DeadlineQueue[EventStream]()
        self._status_expiry = _DeadlineQueue[str]()

    # ------------------------------------------------------------ time

    def tick(self) -> float:
        """Bring every unfinished run (and the sweeper) up to the clock; return now."""
        now = self.clock.now()
        changed = False
        if self._active:
            for record in list(self._active.values()):
                if record.advance(now):
                    changed = True
                if record.is_terminal:
                    self._finished(record)
        if self._active_turns:
            for turn in list(self._active_turns.values()):
                if turn.is_done(now):
                    del self._active_turns[turn.turn_id]
                    changed = True
        if now >= self._next_sweep:
            changed = self._sweep(now) or changed
        if changed:
            self.signal.notify()
        return now

    def _sweep(self, now: float) -> bool:
        """Every sweep moment passed since the last one, in order (spec §6.2).

        At each moment `at`, a stream with no subscriber is dropped once `at - created_at`
        exceeds the stream TTL, and a terminal run's status once `at - updated_at` exceeds
        the status TTL. Both queues are in deadline order, so a sweep costs what expires."""
        swept = False
        records = self.records
        while self._next_sweep <= now:
            at = self._next_sweep
            for stream in self._stream_expiry.expired(at - self.settings.stream_ttl):
                # With a subscriber the stream stays until it leaves, and leaving
                # unregisters it for good (`release`), so it never needs another look.
                if stream.registered and stream.subscribers == 0:
                    stream.registered = False
                    stream.drop_items()
                    swept = True
            for run_id in self._status_expiry.expired(at - self.settings.status_ttl):
                if records.pop(run_id, None) is not None:
                    swept = True
            self._next_sweep += self.settings.sweep_interval
        return swept

    def _finished(self, record: RunRecord) -> None:
        """A run just turned terminal: it frees its slot, and its status starts to age."""
        if self._active.pop(record.run_id, None) is not None:
            self._status_expiry.add(record.updated_at, record.run_id)

    # ------------------------------------------------------------ operations

    def active_count(self) -> int:
        """Runs, and other agent turns, whose task is not done: each holds a concurrency
        slot (spec §6.3; beyond-runs §2.1)."""
        return len(self._active) + len(self._active_turns)

    def start_turn(self, turn: TurnRecord) -> TurnRecord:
        """Admit a chat/responses/session turn: it holds a slot until its scripted end."""
        self.turns[turn.turn_id] = turn
        if not turn.is_done(self.clock.now()):
            self._active_turns[turn.turn_id] = turn
        self.signal.notify()
        return turn

    def interrupt_turn(self, turn: TurnRecord) -> None:
        """The client went away mid-stream: the real server interrupts the agent (A:3151)."""
        if self._active_turns.pop(turn.turn_id, None) is not None:
            turn.interrupted = True
            self.signal.notify()

    def at_capacity(self) -> bool:
        cap = self.settings.max_concurrent_runs
        return cap > 0 and self.active_count() >= cap

    def create(
        self,
        script: Script | None = None,
        *,
        input: Any,
        request: dict[str, Any],
        session_id: Any = None,
        model: Any = None,
        instructions: Any = None,
        conversation_history: list[dict[str, str]] | None = None,
        session_key: str | None = None,
    ) -> RunRecord:
        """A new run driven by `script`, or by the one the script book picks for `input`."""
        if script is None:
            script = self.book.select(input)
        now = self.clock.now()
        run_id = self._run_ids()
        record = RunRecord(
            run_id=run_id,
            created_at=now,
            script=script,
            timing=self.timing,
            session_id=session_id or run_id,
            model=model,
            input=input,
            request=request,
            instructions=instructions,
            conversation_history=conversation_history or [],
            session_key=session_key,
        )
        self.records[run_id] = record
        self.history[run_id] = record
        self._active[run_id] = record
        self._stream_expiry.add(record.created_at, record.stream)
        record.advance(now)
        if record.is_terminal:
            self._finished(record)
        self.signal.notify()
        return record

    def get(self, run_id: str) -> RunRecord | None:
        return self.records.get(run_id)

    def stop(self, run_id: str) -> RunRecord | None:
        """Ask a live run to stop; None when there is nothing to stop (spec §2.5)."""
        now = self.tick()
        record = self._active.get(run_id)
        if record is None:
            return None
        record.request_stop(now)
        self.signal.notify()
        return record

    def approve(self, record: RunRecord, choice: str, *, resolve_all: bool) -> int:
        """Resolve pending approvals with a normalised choice; return how many."""
        now = self.tick()
        resolved = record.resolve_approvals(choice, resolve_all=resolve_all, now=now)
        if resolved:
            record.advance(now)
            if record.is_terminal:
                self._finished(record)
            self.signal.notify()
        return resolved

    def subscribe(self, run_id: str) -> Subscription | None:
        """Open the run's event stream, or None if it is not (or no longer) registered."""
        self.tick()
        record = self.records.get(run_id) or self.history.get(run_id)
        if record is None or not record.stream.registered:
            return None
        record.stream.subscribers += 1
        return Subscription(self, record)

    def release(self, record: RunRecord) -> None:
        """A subscriber's handler exited: the stream is unregistered for good (spec §5.6)."""
        stream = record.stream
        stream.subscribers = max(0, stream.subscribers - 1)
        stream.registered = False
        stream.drop_items()  # never read again: nothing can subscribe to it now
        self.signal.notify()
