"""The engine's clocks: real, manual, and virtual time for the engine and the app together.

`Clock` is what the engine reads and waits on; `ManualClock` moves only when told (or when
every reader waits on time alone); `VirtualClock` also makes the app's own clock virtual.
"""

from agentfakes.clocks.clock import (
    DEFAULT_START,
    ChangeSignal,
    Clock,
    ManualClock,
    RealClock,
    to_epoch,
)
from agentfakes.clocks.virtual import VirtualClock, VirtualTimeError

__all__ = [
    "DEFAULT_START",
    "ChangeSignal",
    "Clock",
    "ManualClock",
    "RealClock",
    "VirtualClock",
    "VirtualTimeError",
    "to_epoch",
]
