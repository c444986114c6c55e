"""`StreamReader`: one subscriber of a run's event stream, as SSE frames (spec §5.1).

It yields bytes, one frame per chunk, lazily: a frame is produced only when the run has
produced its event, so a client sees each event as it happens. Sync and async iteration
share one step function; only the waiting differs. Closing the reader (or reading it to
the end) unregisters the stream, as the real handler does when it exits.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from agentfakes.models import RunEvent

if TYPE_CHECKING:
    from agentfakes.engine import Engine
    from agentfakes.faults import Fault
    from agentfakes.runs import RunRecord

KEEPALIVE = b": keepalive\n\n"
CLOSED = b": stream closed\n\n"


def frame(event: RunEvent) -> bytes:
    """`data: <json>\\n\\n`: a single data line, no `event:` or `id:` fields (spec §5.1)."""
    return event.to_sse().encode("utf-8")


class StreamDropped(Exception):
    """A stream fault cut the connection mid-body; each transport acts it out."""


def _raw_utf8_chunks(event: RunEvent) -> list[bytes]:
    """The frame with raw UTF-8 (not \\u escapes), split inside its first multi-byte char."""
    data = f"data: {json.dumps(event.to_wire(), ensure_ascii=False)}\n\n".encode()
    cut = next((i + 1 for i, byte in enumerate(data) if byte >= 0xC0), len(data) // 2)
    return [data[:cut], data[cut:]]


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
        self.fault: Fault | None = None  # set by the server when a stream fault is armed
        self._data_frames = 0
        self._fault_spent = False
        self._stall_until: float | None = None
        self._last_activity = engine.clock.now()
        self._done = False

    @property
    def run_id(self) -> str:
        return self.record.run_id

    def _step(self) -> list[bytes] | _Wait | None:
        """The next chunks to write, or what to wait for, or None once the stream has ended."""
        if self._done:
            return None
        engine = self.engine
        with engine.lock:
            now = engine.tick()
            items = self.record.stream.items
            fault = self.fault
            if (
                fault is not None
                and fault.stream == "stall"
                and items
                and not self._fault_spent
                and self._data_frames >= fault.after
            ):
                self._fault_spent = True
                self._stall_until = now + fault.seconds
            stalled = self._stall_until is not None and now < self._stall_until
            if items and not stalled:
                if self.fault is not None:
                    faulty = self._apply_fault(items[0], now)
                    if faulty is not None:
                        return faulty
                item = items.popleft()
                self._last_activity = now
                self.frames_sent += 1
                if item is None:
                    self.close()
                    return [CLOSED]
                self._data_frames += 1
                if self.fault is not None and self.fault.stream == "split_utf8":
                    return _raw_utf8_chunks(item)
                return [frame(item)]
            keepalive_at = self._last_activity + engine.settings.keepalive
            if now >= keepalive_at:
                self._last_activity = now
                return [KEEPALIVE]
            due = self._stall_until if stalled else self.record.next_due()
            deadline = keepalive_at if due is None else min(due, keepalive_at)
            return _Wait(engine.signal.version, deadline)

    def _apply_fault(self, item: RunEvent | None, now: float) -> list[bytes] | _Wait | None:
        """Stream faults (see agentfakes.faults), applied before `item` is sent."""
        fault = self.fault
        assert fault is not None
        at_mark = self._data_frames >= fault.after and not self._fault_spent
        kind = fault.stream
        if kind == "drop" and at_mark:
            self.close()
            raise StreamDropped(f"stream cut after {self._data_frames} events")
        ends_here = item is None or item.is_terminal or (fault.after and at_mark)
        if kind == "no_terminal" and ends_here:
            self.close()
            return []
        if kind == "malformed" and at_mark and item is not None:
            self._fault_spent = True
            whole = frame(item)
            return [whole[: max(8, len(whole) // 2)] + b"\n\n"]
        if kind == "duplicate" and item is not None and not self._fault_spent:
            wanted = item.event == fault.event if fault.event else self._data_frames == fault.after
            if wanted:
                self._fault_spent = True
                self.record.stream.items.popleft()
                self._data_frames += 1
                self.frames_sent += 2
                self._last_activity = now
                return [frame(item), frame(item)]
        return None

    def __iter__(self) -> Iterator[bytes]:
        try:
            while True:
                step = self._step()
                if step is None:
                    return
                if isinstance(step, _Wait):
                    self.engine.clock.wait(self.engine.signal, step.version, step.deadline)
                    continue
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
                    await self.engine.clock.wait_async(
                        self.engine.signal, step.version, step.deadline
                    )
                    continue
                for chunk in step:
                    yield chunk
        finally:
            self.close()

    def close(self) -> None:
        """The subscriber went away (or read to the end): unregister the stream."""
        if self._done:
            return
        self._done = True
        with self.engine.lock:
            self.engine.release(self.record)
