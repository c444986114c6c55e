"""`Subscription`: one consumer of a run's event buffer — events, never bytes (spec §5.6).

The engine's half of a stream: what comes next (an event, the end, or nothing yet and when
to look again), and the single-use rule (the first subscriber that goes away unregisters
the stream). Framing, keepalives and faults are the api's business (`api/streaming.py`).
"""

from __future__ import annotations

from typing import Any, Protocol

from agentfakes.clocks import ChangeSignal, Clock
from agentfakes.engine.run import RunRecord
from agentfakes.models import RunEvent


class StoreView(Protocol):
    """What a subscription (and whoever renders it) needs of the store that made it."""

    clock: Clock
    signal: ChangeSignal
    lock: Any  # the store's RLock

    def tick(self) -> float: ...

    def release(self, record: RunRecord) -> None: ...


class Empty:
    """Nothing buffered yet: look again at `Subscription.next_due()` or on a change."""

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY = Empty()
END = None  # the sentinel that ends a run's stream (the real server queues `None`)


class Subscription:
    """One subscriber of one run's stream. Call under `store.lock`, after `store.tick()`."""

    def __init__(self, store: StoreView, record: RunRecord) -> None:
        self.store = store
        self.record = record
        self.closed = False

    @property
    def run_id(self) -> str:
        return self.record.run_id

    def peek(self) -> RunEvent | Empty | None:
        """The next item without taking it: an event, END (None), or EMPTY."""
        items = self.record.stream.items
        return items[0] if items else EMPTY

    def take(self) -> RunEvent | Empty | None:
        """Take the next item: an event, END (None), or EMPTY."""
        items = self.record.stream.items
        return items.popleft() if items else EMPTY

    def next_due(self) -> float | None:
        """When the run next changes by itself (None: only a request can move it)."""
        return self.record.next_due()

    def close(self) -> None:
        """The subscriber went away (or read to the end): unregister the stream for good."""
        if self.closed:
            return
        self.closed = True
        with self.store.lock:
            self.store.release(self.record)
