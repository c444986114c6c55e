"""Faults: what can go wrong between an app and a Hermes server (`kinds`), and when
(`plan`). `from agentfakes import faults; server.fault(faults.http_error(503), on="runs.create")`.
"""

from agentfakes.faults.kinds import (
    Fault,
    StreamKind,
    TransportFault,
    TransportKind,
    connect_error,
    connection_reset,
    drop_stream,
    duplicate_event,
    http_error,
    malformed_frame,
    no_terminal,
    read_timeout,
    split_utf8,
    stall,
)
from agentfakes.faults.plan import ArmedFault, EndpointNames, FaultPlan

__all__ = [
    "ArmedFault",
    "EndpointNames",
    "Fault",
    "FaultPlan",
    "StreamKind",
    "TransportFault",
    "TransportKind",
    "connect_error",
    "connection_reset",
    "drop_stream",
    "duplicate_event",
    "http_error",
    "malformed_frame",
    "no_terminal",
    "read_timeout",
    "split_utf8",
    "stall",
]
