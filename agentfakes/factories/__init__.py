"""Factories: realistic, seeded Runs, events, Results, tool calls and messages for tests.

`RunFactory.failed()`, `ResultFactory.build("max_iterations")`,
`RunEventFactory.sequence(tools=2, approval="deny")`: declarative classes over the models
(`base.py`), drawing text from one catalogue (`content.py`) and randomness from
`agentfakes.seed(n)`. Runs live in `runs.py`, tool calls / messages / Results in
`results.py`, events in `events.py`, the order of a run's stream in `sequences.py`, and a
chat completion, a response and a session in `surfaces.py`.
"""

from agentfakes.factories.base import Factory, Lazy, Param, Values
from agentfakes.factories.events import RunEventFactory
from agentfakes.factories.results import MessageFactory, ResultFactory, ToolCallFactory
from agentfakes.factories.runs import RunFactory, RunUsageFactory
from agentfakes.factories.sequences import APPROVALS, OUTCOMES, UNSET, Outcome
from agentfakes.factories.surfaces import ChatCompletionFactory, ResponseFactory, SessionFactory

__all__ = [
    "APPROVALS",
    "OUTCOMES",
    "UNSET",
    "ChatCompletionFactory",
    "Factory",
    "Lazy",
    "MessageFactory",
    "Outcome",
    "Param",
    "ResponseFactory",
    "ResultFactory",
    "RunEventFactory",
    "RunFactory",
    "RunUsageFactory",
    "SessionFactory",
    "ToolCallFactory",
    "Values",
]
