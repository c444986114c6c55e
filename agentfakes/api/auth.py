"""Bearer auth as the real server checks it (spec §1.3)."""

from __future__ import annotations

import hmac

from agentfakes.api.config import GatewayConfig
from agentfakes.api.errors import invalid_api_key
from agentfakes.api.messages import ApiRequest, ApiResponse


def auth_error(config: GatewayConfig, request: ApiRequest) -> ApiResponse | None:
    """`Authorization: Bearer <key>`: case-sensitive prefix, key stripped, compared in
    constant time; None when the request may pass."""
    key = config.api_key
    if not key:
        return None
    header = request.header("authorization")
    if header.startswith("Bearer "):
        token = header[7:].strip()
        if hmac.compare_digest(token.encode(), key.encode()):
            return None
    return invalid_api_key()
