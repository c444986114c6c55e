"""A non-run turn on the wire as SSE: its events as the clock reaches them, rendered by a
surface's dialect (chat, responses, session chat; beyond-runs §2.3), with keepalives.

The engine's turn is a fixed timeline (`engine/turns.py`); this reveals it frame by frame
and leaves the framing to a `TurnRenderer`. Sync and async iteration share one step.
Closing early is the client going away: the real server interrupts the agent, so the
turn gives back its concurrency slot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Protocol

from agentfakes.engine import RunStore
from agentfakes.engine.turns import TurnEvent, TurnRecord
from agentfakes.models.sse import KEEPALIVE


class TurnRenderer(Protocol):
    """A surface's SSE dialect: frames to open with, per event, and to close with."""

    def opening(self) -> list[bytes]: ...

    def event(self, event: TurnEvent) -> list[bytes]: ...

    def closing(self) -> list[bytes]: ...


class _Wait:
    __slots__ = ("deadline", "version")

    def __init__(self, version: int, deadline: float | None) -> None:
        self.version = version
        self.deadline = deadline


class TurnStream:
    """The frames of one turn for its one client; iterate it sync or async, once."""

    def __init__(
        self,
        store: RunStore,
        turn: TurnRecord,
        renderer: TurnRenderer,
        *,
        keepalive: float,
        events: list[TurnEvent] | None = None,
    ) -> None:
        self.store = store
        self.turn = turn
        self.events = turn.events if events is None else events  # as the dialect sees them
        self.renderer = renderer
        self.keepalive = keepalive
        self.frames: list[bytes] = []  # everything written, for tests and the journal
        self._next = 0
        self._opened = False
        self._done = False
        self._last_activity = store.clock.now()

    def _step(self) -> list[bytes] | _Wait | None:
        if self._done:
            return None
        store = self.store
        with store.lock:
            now = store.tick()
            if not self._opened:
                self._opened = True
                self._last_activity = now
                return self.renderer.opening()
            events = self.events
            if self._next < len(events) and events[self._next].at <= now:
                event = events[self._next]
                self._next += 1
                frames = self.renderer.event(event)
                if frames:
                    self._last_activity = now
                return frames
            if self._next >= len(events) and self.turn.is_done(now):
                self._done = True
                return self.renderer.closing()
            keepalive_at = self._last_activity + self.keepalive
            if now >= keepalive_at:
                self._last_activity = now
                return [KEEPALIVE]
            due = events[self._next].at if self._next < len(events) else self.turn.ends_at
            return _Wait(store.signal.version, min(due, keepalive_at))

    def __iter__(self) -> Iterator[bytes]:
        try:
            while True:
                step = self._step()
                if step is None:
                    return
                if isinstance(step, _Wait):
                    self.store.clock.wait(self.store.signal, step.version, step.deadline)
                    continue
                self.frames.extend(step)
                yield from step
        finally:
            self.close()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while True:
                step = self._step()
                if step is None:
                    return
                if isinstance(step, _Wait):
                    await self.store.clock.wait_async(
                        self.store.signal, step.version, step.deadline
                    )
                    continue
                self.frames.extend(step)
                for frame in step:
                    yield frame
        finally:
            self.close()

    def close(self) -> None:
        """The client went away (or read to the end): an unfinished turn is interrupted."""
        if self._done:
            return
        self._done = True
        with self.store.lock:
            self.store.interrupt_turn(self.turn)
