"""Scripts: the validated timeline that drives one fake agent turn (`Script`, its steps)."""

from agentfakes.errors import ScriptError
from agentfakes.script.builder import Script
from agentfakes.script.steps import (
    Approval,
    Branch,
    Complete,
    Delta,
    Fail,
    Reasoning,
    Step,
    Terminal,
    ToolEnd,
    ToolStart,
    Wait,
)

__all__ = [
    "Approval",
    "Branch",
    "Complete",
    "Delta",
    "Fail",
    "Reasoning",
    "Script",
    "ScriptError",
    "Step",
    "Terminal",
    "ToolEnd",
    "ToolStart",
    "Wait",
]
