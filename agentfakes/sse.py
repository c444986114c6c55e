"""`StreamReader`: one subscriber of a run's event stream, as SSE frames (spec §5.1).

It yields bytes, one frame per chunk, lazily: a frame is produced only when the run has
produced its event, so a client sees each event as it happens. Sync and async iteration
share one step function; only the waiting differs. Closing the reader (or reading it to
the end) unregisters the stream, as the real handler does when it exits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from agentfakes.models import RunEvent

if TYPE_CHECKING:
    from agentfakes.engine import Engine
    from agentfakes.runs import RunRecord

KEEPALIVE = b": keepalive\n\n"
CLOSED = b": stream closed\n\n"


def frame(event: RunEvent) -> bytes:
    """`data: <json>\\n\\n`: a single data line, no `event:` or `id:` fields (spec §5.1)."""
    return event.to_sse().encode("utf-8")


class _Wait:
    """What the reader must wait for: a change past `version`, or the clock at `deadline`."""

    __slots__ = ("deadline", "version")

    def __init__(self, version: int, deadline: float | None) -> None:
        self.version = version
        self.deadline = deadline


class StreamReader:
    """Frames of one run's stream for one subscriber; iterate it sync or async, once."""

    def __init__(self, engine: Engine, record: RunRecord) -> None:
        self.engine = engine
        self.record = record
        self.frames_sent = 0
        self._last_activity = engine.clock.now()
        self._done = False

    @property
    def run_id(self) -> str:
        return self.record.run_id

    def _step(self) -> bytes | _Wait | None:
        """The next frame, or what to wait for, or None once the stream has ended."""
        if self._done:
            return None
        engine = self.engine
        with engine.lock:
            now = engine.tick()
            items = self.record.stream.items
            if items:
                item = items.popleft()
                self._last_activity = now
                self.frames_sent += 1
                if item is None:
                    self.close()
                    return CLOSED
                return frame(item)
            keepalive_at = self._last_activity + engine.settings.keepalive
            if now >= keepalive_at:
                self._last_activity = now
                return KEEPALIVE
            due = self.record.next_due()
            deadline = keepalive_at if due is None else min(due, keepalive_at)
            return _Wait(engine.signal.version, deadline)

    def __iter__(self) -> Iterator[bytes]:
        try:
            while True:
                step = self._step()
                if step is None:
                    return
                if isinstance(step, _Wait):
                    self.engine.clock.wait(self.engine.signal, step.version, step.deadline)
                    continue
                yield step
        finally:
            self.close()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while True:
                step = self._step()
                if step is None:
                    return
                if isinstance(step, _Wait):
                    await self.engine.clock.wait_async(
                        self.engine.signal, step.version, step.deadline
                    )
                    continue
                yield step
        finally:
            self.close()

    def close(self) -> None:
        """The subscriber went away (or read to the end): unregister the stream."""
        if self._done:
            return
        self._done = True
        with self.engine.lock:
            self.engine.release(self.record)
