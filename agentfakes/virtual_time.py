"""Moved to `agentfakes.clocks.virtual` (0.2.0); this alias keeps old imports working."""

import warnings

from agentfakes.clocks.virtual import (  # noqa: F401
    MONOTONIC_ORIGIN,
    VirtualClock,
    VirtualTimeError,
    active_clock,
)

warnings.warn(
    "agentfakes.virtual_time moved to agentfakes.clocks.virtual; import VirtualClock from "
    "agentfakes (or agentfakes.clocks) instead",
    DeprecationWarning,
    stacklevel=2,
)
