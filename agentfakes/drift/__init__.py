"""The drift check: black-box contract cases that run against any Runs server.

The same cases run against the fake (configured with `REFERENCE_PROFILE` and the reference
script book) and against a real hermes-agent 0.19.0 driven by `drift/fake_llm.py`; a
difference names the case, the field, the expected value and the server's value.

    from agentfakes.drift import Target, run_cases, format_report
    print(format_report(run_cases(Target(url, key, name="real"))))
"""

from agentfakes.drift import surface_cases as _surface_cases  # noqa: F401  (registers them)
from agentfakes.drift.cases import CASES, Case
from agentfakes.drift.client import DriftClient, DriftMismatch, Target
from agentfakes.drift.profile import REFERENCE_PROFILE, ServerProfile
from agentfakes.drift.runner import CaseResult, format_report, run_case, run_cases
from agentfakes.drift.script_book import (
    DEFAULT_SCRATCH,
    install_reference_scripts,
    marker,
    reference_scripts,
    reference_server,
)

__all__ = [
    "CASES",
    "DEFAULT_SCRATCH",
    "REFERENCE_PROFILE",
    "Case",
    "CaseResult",
    "DriftClient",
    "DriftMismatch",
    "ServerProfile",
    "Target",
    "format_report",
    "install_reference_scripts",
    "marker",
    "reference_scripts",
    "reference_server",
    "run_case",
    "run_cases",
]
