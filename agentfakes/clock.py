"""Moved to `agentfakes.clocks` (0.2.0); this alias keeps old imports working for a while."""

import warnings

from agentfakes.clocks.clock import (  # noqa: F401
    DEFAULT_START,
    ChangeSignal,
    Clock,
    ManualClock,
    RealClock,
    to_epoch,
)

warnings.warn(
    "agentfakes.clock moved to agentfakes.clocks; import ManualClock and friends from "
    "agentfakes (or agentfakes.clocks) instead",
    DeprecationWarning,
    stacklevel=2,
)
