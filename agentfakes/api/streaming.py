"""Runs SSE on the wire: a `Subscription`'s events as frames, keepalives and stream faults.

The api's half of a stream (the engine's half is `engine/subscription.py`): it frames each
event with the one SSE codec (`models/sse.py`, spec §5.1), writes `: keepalive` after 30 s
with nothing sent, ends with `: stream closed`, and acts out stream faults. Sync and async
iteration share one step function; only the waiting differs. Closing the stream (or
reading it to the end) closes the subscription, as the real handler does when it exits.

A reader may give a read timeout (`chunks(read_timeout)`): when the next chunk would come
later than that, measured on the engine clock from the moment it asked, `StreamTimedOut`
is raised there, as a socket read times out; each transport turns it into its client's error.

The real server writes each event as its own chunk, and so does plain iteration (the
loopback runner writes what it gets). An in-process reader may ask for `coalesce=True`:
then the event frames already buffered when it asks come joined in one chunk (up to
64 KiB), as one socket read returns whatever has arrived; `: stream closed` stays last,
on its own. Only whole frames that are due are
joined, never across a wait, and never while a stream fault is armed (a fault's chunks
are its point).
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol, runtime_checkable

from agentfakes.api.messages import StreamDropped
from agentfakes.engine.subscription import Empty, Subscription
from agentfakes.faults import Fault
from agentfakes.models import RunEvent
from agentfakes.models.sse import KEEPALIVE, STREAM_CLOSED, encode_event, encode_frame

SSE_HEADERS = (  # spec §5.1
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache"),
    ("X-Accel-Buffering", "no"),
)


def _raw_utf8_chunks(event: RunEvent) -> list[bytes]:
    """The frame with raw UTF-8 (not \\u escapes), split inside its first multi-byte char."""
    data = encode_frame(event.to_wire(), ensure_ascii=False)
    cut = next((i + 1 for i, byte in enumerate(data) if byte >= 0xC0), len(data) // 2)
    return [data[:cut], data[cut:]]


class StreamTimedOut(Exception):
    """No chunk came within the reader's read timeout (engine-clock seconds)."""

    def __init__(self, read_timeout: float) -> None:
        super().__init__(f"no data for {read_timeout:g} s")
        self.read_timeout = read_timeout


@runtime_checkable
class TimedStreamBody(Protocol):
    """A stream body whose reader can time out between chunks, as a socket read does."""

    def chunks(self, read_timeout: float | None, *, coalesce: bool = False) -> Iterator[bytes]: ...

    def achunks(
        self, read_timeout: float | None, *, coalesce: bool = False
    ) -> AsyncIterator[bytes]: ...


def _json_encoder() -> Callable[[RunEvent], bytes]:
    """`encode_event`, byte for byte, with json's C encoder built once instead of per call
    (`json.dumps` builds one per call: ~1/3 of a small frame's cost). Same separators,
    ASCII escaping, float repr and `default`; only the circular-reference check is off (a
    wire dict is a tree). Without the C accelerator, `encode_event` itself."""
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encode_event
    encode = make(
        None,  # markers: no circular check
        json.JSONEncoder().default,
        json.encoder.encode_basestring_ascii,
        None,  # indent
        ": ",
        ", ",
        False,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )

    def frame(event: RunEvent) -> bytes:
        return b"data: " + "".join(encode(event.to_wire(), 0)).encode() + b"\n\n"

    return frame


_encode_event = _json_encoder()
COALESCE_BYTES = 65_536  # one socket read's worth (httpcore reads 64 KiB at a time)


class _Wait:
    """What the reader must wait for: a change past `version`, or the clock at `deadline`."""

    __slots__ = ("deadline", "version")

    def __init__(self, version: int, deadline: float | None) -> None:
        self.version = version
        self.deadline = deadline


class RunEventStream:
    """Frames of one run's stream for one subscriber; iterate it sync or async, once."""

    def __init__(self, subscription: Subscription, *, keepalive: float) -> None:
        self.subscription = subscription
        self.store = subscription.store
        self.keepalive = keepalive
        self.frames_sent = 0
        self.fault: Fault | None = None  # set by the app when a stream fault is armed
        self._data_frames = 0
        self._fault_spent = False
        self._stall_until: float | None = None
        self._last_activity = self.store.clock.now()
        self._done = False

    @property
    def run_id(self) -> str:
        return self.subscription.run_id

    def _step(self, coalesce: bool = False) -> list[bytes] | _Wait | None:
        """The next chunks to write, or what to wait for, or None once the stream has ended.
        `coalesce`: every frame already buffered (no fault armed) joined in one chunk."""
        if self._done:
            return None
        store = self.store
        sub = self.subscription
        with store.lock:
            now = store.tick()
            head = sub.peek()
            fault = self.fault
            if (
                fault is not None
                and fault.stream == "stall"
                and not isinstance(head, Empty)
                and not self._fault_spent
                and self._data_frames >= fault.after
            ):
                self._fault_spent = True
                self._stall_until = now + fault.seconds
            stalled = self._stall_until is not None and now < self._stall_until
            if not isinstance(head, Empty) and not stalled:
                if fault is not None:
                    faulty = self._apply_fault(head, now)
                    if faulty is not None:
                        return faulty
                item = sub.take()
                self._last_activity = now
                self.frames_sent += 1
                if item is None:
                    self.close()
                    return [STREAM_CLOSED]
                assert not isinstance(item, Empty)
                self._data_frames += 1
                if fault is not None:
                    if fault.stream == "split_utf8":
                        return _raw_utf8_chunks(item)
                    return [encode_event(item)]
                if coalesce:
                    return [self._coalesced(_encode_event(item))]
                return [_encode_event(item)]
            keepalive_at = self._last_activity + self.keepalive
            if now >= keepalive_at:
                self._last_activity = now
                return [KEEPALIVE]
            due = self._stall_until if stalled else sub.next_due()
            deadline = keepalive_at if due is None else min(due, keepalive_at)
            return _Wait(store.signal.version, deadline)

    def _coalesced(self, first: bytes) -> bytes:
        """`first` and the event frames buffered after it, whole, as one chunk (under the
        lock). `: stream closed` stays a chunk of its own, the body's last."""
        sub = self.subscription
        frames = [first]
        size = len(first)
        while size < COALESCE_BYTES:
            item = sub.peek()
            if item is None or isinstance(item, Empty):
                break
            sub.take()
            self.frames_sent += 1
            self._data_frames += 1
            frame = _encode_event(item)
            frames.append(frame)
            size += len(frame)
        return b"".join(frames)

    def _apply_fault(self, item: RunEvent | None, now: float) -> list[bytes] | _Wait | None:
        """Stream faults (see agentfakes.faults), applied before `item` is sent."""
        fault = self.fault
        assert fault is not None
        sub = self.subscription
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
            whole = encode_event(item)
            return [whole[: max(8, len(whole) // 2)] + b"\n\n"]
        if kind == "duplicate" and item is not None and not self._fault_spent:
            wanted = item.event == fault.event if fault.event else self._data_frames == fault.after
            if wanted:
                self._fault_spent = True
                sub.take()
                self._data_frames += 1
                self.frames_sent += 2
                self._last_activity = now
                return [encode_event(item), encode_event(item)]
        return None

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks(None)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.achunks(None)

    def _limit(self, read_timeout: float | None) -> float | None:
        """The engine-clock moment a read asked for now times out (None: never)."""
        return None if read_timeout is None else self.store.clock.now() + read_timeout

    def _wait_or_time_out(
        self, step: _Wait, limit: float | None, read_timeout: float | None
    ) -> float | None:
        """The deadline to wait for; raises once the read's own limit has passed."""
        if limit is None:
            return step.deadline
        if self.store.clock.now() >= limit:
            assert read_timeout is not None
            raise StreamTimedOut(read_timeout)
        return limit if step.deadline is None else min(step.deadline, limit)

    def chunks(self, read_timeout: float | None, *, coalesce: bool = False) -> Iterator[bytes]:
        """The chunks, each within `read_timeout` engine seconds of asking (None: no limit);
        `coalesce`: the frames already buffered come as one chunk (see the module doc)."""
        clock, signal = self.store.clock, self.store.signal
        try:
            while True:
                limit = self._limit(read_timeout)
                step = self._step(coalesce)
                while isinstance(step, _Wait):
                    deadline = self._wait_or_time_out(step, limit, read_timeout)
                    clock.wait(signal, step.version, deadline)
                    step = self._step(coalesce)
                if step is None:
                    return
                yield from step
        finally:
            self.close()

    async def achunks(
        self, read_timeout: float | None, *, coalesce: bool = False
    ) -> AsyncIterator[bytes]:
        """`chunks` for async readers: waits without blocking the event loop."""
        clock, signal = self.store.clock, self.store.signal
        try:
            while True:
                limit = self._limit(read_timeout)
                step = self._step(coalesce)
                while isinstance(step, _Wait):
                    deadline = self._wait_or_time_out(step, limit, read_timeout)
                    await clock.wait_async(signal, step.version, deadline)
                    step = self._step(coalesce)
                if step is None:
                    return
                for chunk in step:
                    yield chunk
        finally:
            self.close()

    def close(self) -> None:
        """The subscriber went away (or read to the end): unregister the stream."""
        if self._done:
            return
        self._done = True
        self.subscription.close()
