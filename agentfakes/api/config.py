"""`GatewayConfig`: the little of the gateway's configuration a handler reads.

Handlers get the run store and this (ARCHITECTURE.md, seam 3), never the façade.
"""

from __future__ import annotations

from dataclasses import dataclass

HERMES_VERSION = "0.19.0"
MAX_REQUEST_BYTES = 10_000_000  # spec §1.2 (aiohttp's client_max_size too)
MAX_SESSION_KEY = 256  # spec §2.1 check 3b


@dataclass
class GatewayConfig:
    """The API key, the advertised model name, and whether the gateway drains (§6.5)."""

    api_key: str
    model_name: str = "hermes-agent"
    draining: bool = False
    started_at: float | None = None  # when the gateway came up (set by the app)
