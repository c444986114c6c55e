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

from agentfakes.api.messages import StreamDropped
from agentfakes.engine import RunStore
from agentfakes.engine.turns import TurnEvent, TurnRecord
from agentfakes.faults import Fault
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
        self.fault: Fault | None = None  # set by the app when a stream fault is armed
        self._next = 0
        self._opened = False
        self._done = False
        self._last_activity = store.clock.now()
        self._pending: list[bytes] = []  # frames held back by a stall
        self._stall_until: float | None = None
        self._data_frames = 0
        self._fault_spent = False
        self._closing = False
        self._action: str | None = None  # "drop" or "end": what to do after the last batch

    def _step(self) -> list[bytes] | _Wait | None:
        """The next frames to write (a stream fault applied), what to wait for, or None."""
        if self._done and not self._pending:
            return None
        with self.store.lock:
            now = self.store.tick()
            if self._stall_until is not None and now < self._stall_until:
                keepalive_at = self._last_activity + self.keepalive
                if now >= keepalive_at:  # a stalled stream still sends its keepalives
                    self._last_activity = now
                    return [KEEPALIVE]
                return _Wait(self.store.signal.version, min(self._stall_until, keepalive_at))
            if self._pending:
                frames, self._pending = self._pending, []
                self._last_activity = now
                return frames
            if self._done:
                return None
            frames_or_wait = self._next_frames(now)
            if isinstance(frames_or_wait, _Wait) or self.fault is None:
                return frames_or_wait
            return self._faulted(frames_or_wait, now)

    def _next_frames(self, now: float) -> list[bytes] | _Wait:
        store = self.store
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
            self._closing = True
            return self.renderer.closing()
        keepalive_at = self._last_activity + self.keepalive
        if now >= keepalive_at:
            self._last_activity = now
            return [KEEPALIVE]
        due = events[self._next].at if self._next < len(events) else self.turn.ends_at
        return _Wait(store.signal.version, min(due, keepalive_at))

    def _faulted(self, frames: list[bytes], now: float) -> list[bytes]:
        """Stream faults (see agentfakes.faults) on this dialect's frames: `after` counts
        the frames written, keepalives aside; the closing frames are the terminal ones."""
        fault = self.fault
        assert fault is not None
        out: list[bytes] = []
        for index, frame in enumerate(frames):
            if frame == KEEPALIVE:
                out.append(frame)
                continue
            at_mark = self._data_frames >= fault.after and not self._fault_spent
            kind = fault.stream
            if kind == "drop" and at_mark:
                self._action = "drop"
                return out
            if kind == "no_terminal" and (self._closing or (fault.after and at_mark)):
                self._action = "end"
                return out
            if kind == "stall" and at_mark:
                self._fault_spent = True
                self._stall_until = now + fault.seconds
                self._pending = frames[index:]
                return out
            self._data_frames += 1
            if kind == "malformed" and at_mark:
                self._fault_spent = True
                out.append(frame[: max(8, len(frame) // 2)] + b"\n\n")
            elif kind == "duplicate" and at_mark and _names(frame, fault.event):
                self._fault_spent = True
                out += [frame, frame]
            elif kind == "split_utf8":
                cut = next((i + 1 for i, byte in enumerate(frame) if byte >= 0xC0), len(frame) // 2)
                out += [frame[:cut], frame[cut:]]
            else:
                out.append(frame)
        return out

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
                self._act()
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
                self._act()
        finally:
            self.close()

    def _act(self) -> None:
        """After a faulted batch: cut the connection (drop) or end without the terminal."""
        action, self._action = self._action, None
        if action == "drop":
            self.close()
            raise StreamDropped(f"stream cut after {self._data_frames} frames")
        if action == "end":
            self.close()

    def close(self) -> None:
        """The client went away (or read to the end): an unfinished turn is interrupted."""
        if self._done:
            return
        self._done = True
        with self.store.lock:
            self.store.interrupt_turn(self.turn)
            interrupted = getattr(self.renderer, "interrupted", None)
            if interrupted is not None and self._opened:
                interrupted()


def _names(frame: bytes, event: str | None) -> bool:
    """Whether `frame` is the `event` one (None: any frame)."""
    if event is None:
        return True
    return frame.startswith(f"event: {event}\n".encode()) or f'"{event}"'.encode() in frame
