"""The steps of a Script's timeline: one frozen class per builder verb.

The engine performs them (`engine/run.py`); the builder (`script/builder.py`) makes and
checks them. An approval's branches are any object with `steps`, so this module does not
import the builder (no cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from agentfakes.models import RunUsage


class Branch(Protocol):
    """What an approval branch (`on_deny`, `on_timeout`) offers the engine: its steps."""

    @property
    def steps(self) -> tuple[Step, ...]: ...


@dataclass(frozen=True)
class Step:
    """One moment of a run's timeline."""

    def describe(self) -> str:
        return type(self).__name__.lower()


@dataclass(frozen=True)
class Delta(Step):
    text: str

    def describe(self) -> str:
        return f"delta({self.text!r})"


@dataclass(frozen=True)
class Reasoning(Step):
    text: str

    def describe(self) -> str:
        return f"reasoning({shorten(self.text)!r})"


@dataclass(frozen=True)
class ToolStart(Step):
    name: str
    preview: str | None
    # the call's JSON arguments (the Responses surface shows them)
    arguments: Any = field(default=None, hash=False)

    def describe(self) -> str:
        return f"tool_started({self.name!r})"


@dataclass(frozen=True)
class ToolEnd(Step):
    name: str
    duration: float | None  # None: the time since its tool_started
    error: bool | None  # None: true after a denied or timed-out approval
    result: str | None = None  # the tool's output (responses' function_call_output)

    def describe(self) -> str:
        return f"tool_completed({self.name!r})"


@dataclass(frozen=True)
class Wait(Step):
    seconds: float

    def describe(self) -> str:
        return f"wait({self.seconds})"


@dataclass(frozen=True)
class Approval(Step):
    command: str
    description: str
    pattern_key: str
    pattern_keys: tuple[str, ...]
    allow_permanent: bool | None
    smart_denied: bool
    timeout: float | None  # None: the server's approval_timeout
    on_deny: Branch | None = None
    on_timeout: Branch | None = None

    def describe(self) -> str:
        return f"approval({self.command!r})"

    def request_fields(self) -> dict[str, Any]:
        """The agent's approval data, in the order the server copies it (spec §5.4)."""
        data: dict[str, Any] = {
            "command": self.command,
            "pattern_key": self.pattern_key,
            "pattern_keys": list(self.pattern_keys),
            "description": self.description,
        }
        if self.allow_permanent is not None:
            data["allow_permanent"] = self.allow_permanent
        if self.smart_denied:
            data["smart_denied"] = True
        return data


@dataclass(frozen=True)
class Terminal(Step):
    """The step that ends a run."""


@dataclass(frozen=True)
class Complete(Terminal):
    output: str | None
    usage: RunUsage | None  # None: estimated from the input and output lengths

    def describe(self) -> str:
        return f"complete({shorten(self.output)!r})"


@dataclass(frozen=True)
class Fail(Terminal):
    error: str

    def describe(self) -> str:
        return f"fail({self.error!r})"


def shorten(text: str | None, limit: int = 30) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
