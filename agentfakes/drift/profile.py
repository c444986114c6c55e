"""`ServerProfile`: the server configuration the black-box contract cases assume.

The drift check runs the same cases against the fake and a real hermes-agent 0.19.0, so
both must be configured alike: the real server through its config.yaml
(`drift/real_hermes.py` writes it), the fake through `FakeRunsServer(**server_options())`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["REFERENCE_PROFILE", "ServerProfile"]


@dataclass(frozen=True)
class ServerProfile:
    """The knobs the cases depend on; the defaults are the reference configuration."""

    approval_timeout: float = 5.0  # approvals.timeout (Hermes default 60 s)
    max_concurrent_runs: int = 2  # gateway.api_server.max_concurrent_runs (default 10)
    api_max_retries: int = 1  # agent.api_max_retries: one upstream attempt in all
    max_turns: int = 3  # agent.max_turns: the `loop` marker's tool iterations

    def server_options(self) -> dict[str, Any]:
        """Keyword arguments for `FakeRunsServer(...)` (`max_turns` only shapes the real
        server's agent; the reference script book follows it instead). `api_max_retries`
        is quoted in the chat/responses failure texts."""
        return {
            "approval_timeout": self.approval_timeout,
            "max_concurrent_runs": self.max_concurrent_runs,
            "api_max_retries": self.api_max_retries,
        }


REFERENCE_PROFILE = ServerProfile()
