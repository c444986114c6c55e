"""Property-based testing with Hypothesis: legal server behaviour, generated.

    from hypothesis import given
    from agentfakes.strategies import fresh_server, scripts

    @given(scripts())
    def test_my_app_always_ends_handled(script):
        with fresh_server(script) as server:
            assert my_app(server.url, server.api_key).status in {"completed", "failed", "cancelled"}

Needs the optional extra: `pip install 'agentfakes[hypothesis]'`.
"""

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "agentfakes.strategies needs Hypothesis: pip install 'agentfakes[hypothesis]'"
    ) from exc

from agentfakes.strategies.faults import (
    FaultPlanSpec,
    PlannedFault,
    fault_plans,
    http_faults,
    stream_faults,
    transport_faults,
)
from agentfakes.strategies.scripts import approval_timings, script_to_code, scripts, waits
from agentfakes.strategies.server import fresh_server, reproduction_code

__all__ = [
    "FaultPlanSpec",
    "PlannedFault",
    "approval_timings",
    "fault_plans",
    "fresh_server",
    "http_faults",
    "reproduction_code",
    "script_to_code",
    "scripts",
    "stream_faults",
    "transport_faults",
    "waits",
]
