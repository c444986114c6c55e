"""How a request becomes a response, whatever carries it (ARCHITECTURE.md, layer 3):
`HermesApp.handle(ApiRequest) -> ApiResponse`, the one route table, every error body,
the SSE rendering of a run's events, and the request journal."""

from agentfakes.api.app import HermesApp
from agentfakes.api.config import HERMES_VERSION, GatewayConfig
from agentfakes.api.journal import Journal, JournalEntry
from agentfakes.api.messages import ApiRequest, ApiResponse, StreamBody, StreamDropped
from agentfakes.api.routes import ENDPOINTS, ROUTES, Route, resolve
from agentfakes.api.runs import normalise_choice

__all__ = [
    "ENDPOINTS",
    "HERMES_VERSION",
    "ROUTES",
    "ApiRequest",
    "ApiResponse",
    "GatewayConfig",
    "HermesApp",
    "Journal",
    "JournalEntry",
    "Route",
    "StreamBody",
    "StreamDropped",
    "normalise_choice",
    "resolve",
]
