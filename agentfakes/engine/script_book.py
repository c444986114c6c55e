"""`ScriptBook`: which script drives a new agent turn (a run today; chat and responses next).

Input rules are tried first (in the order they were added), then the FIFO queue, then the
default script. A run that nothing can drive is an error in the test, never a silent
default.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from agentfakes.errors import NoScriptError, ScriptError
from agentfakes.script import Script

InputMatcher = str | re.Pattern[str] | Callable[[str], bool]
SURFACES = ("runs", "chat", "responses", "sessions")  # None: a script for any surface


def input_text(raw_input: Any) -> str:
    """The run's user message as text, for matching (list content parts are joined)."""
    if isinstance(raw_input, str):
        return raw_input
    if isinstance(raw_input, list):
        parts = [
            str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in raw_input
        ]
        return " ".join(p for p in parts if p)
    return str(raw_input)


class ScriptSource(Protocol):
    """Something that may drive a turn before the rules do: a scenario's recorded runs."""

    def select(self, text: str, surface: str) -> Script | None: ...


@dataclass
class InputRule:
    """A script for runs whose input matches; `times=None` means every match."""

    matcher: InputMatcher
    script: Script
    times: int | None = None
    used: int = 0
    surface: str | None = None

    def describe(self) -> str:
        where = f" ({self.surface})" if self.surface else ""
        if isinstance(self.matcher, str):
            return f"input containing {self.matcher!r}{where}"
        if isinstance(self.matcher, re.Pattern):
            return f"input matching /{self.matcher.pattern}/{where}"
        name = getattr(self.matcher, "__name__", repr(self.matcher))
        return f"input accepted by {name}{where}"

    def matches(self, text: str, surface: str = "runs") -> bool:
        if self.surface is not None and self.surface != surface:
            return False
        if self.times is not None and self.used >= self.times:
            return False
        if isinstance(self.matcher, str):
            return self.matcher in text
        if isinstance(self.matcher, re.Pattern):
            return self.matcher.search(text) is not None
        return bool(self.matcher(text))


class ScriptBook:
    """Holds the registered scripts and picks one per new run."""

    def __init__(self) -> None:
        self.default: Script | None = None
        self.defaults: dict[str, Script] = {}  # per surface; tried before `default`
        self.rules: list[InputRule] = []
        self.queue: deque[Script] = deque()
        self.queue_surfaces: dict[int, str] = {}  # id(queued script) -> its surface
        self.sources: list[ScriptSource] = []  # scenario players: consulted before all

    def set_default(self, script: Script, surface: str | None = None) -> None:
        checked = _checked(script, "default script")
        if surface is None:
            self.default = checked
        else:
            self.defaults[_surface(surface) or surface] = checked

    def add_rule(
        self,
        matcher: InputMatcher,
        script: Script,
        times: int | None,
        surface: str | None = None,
    ) -> None:
        if not isinstance(matcher, str | re.Pattern) and not callable(matcher):
            raise ScriptError(
                f"on_input: match must be a substring, a compiled regex or a callable, "
                f"not {type(matcher).__name__}"
            )
        if times is not None and times < 1:
            raise ScriptError(f"on_input: times must be >= 1 or None, got {times}")
        rule = InputRule(matcher, script, times, surface=_surface(surface))
        rule.script = _checked(script, f"script for {rule.describe()}")
        self.rules.append(rule)

    def enqueue(self, *scripts: Script, surface: str | None = None) -> None:
        """Queue all of them, or (if one is illegal) none of them."""
        first = len(self.queue) + 1
        wanted = _surface(surface)
        checked = [_checked(s, f"queued script #{n}") for n, s in enumerate(scripts, start=first)]
        if wanted is not None:
            # a distinct object per entry, so its surface can be looked up by identity
            checked = [replace(s) for s in checked]
            self.queue_surfaces.update((id(s), wanted) for s in checked)
        self.queue.extend(checked)

    def select(self, raw_input: Any, surface: str = "runs") -> Script:
        """The script for a new agent turn on `surface`: rules, then queue, then default."""
        text = input_text(raw_input)
        for source in self.sources:  # recorded scenario runs come first (issue 9)
            found = source.select(text, surface)
            if found is not None:
                return found
        for rule in self.rules:
            if rule.matches(text, surface):
                rule.used += 1
                return rule.script
        for index, queued in enumerate(self.queue):
            if self.queue_surfaces.get(id(queued), surface) == surface:
                del self.queue[index]
                self.queue_surfaces.pop(id(queued), None)
                return queued
        if surface in self.defaults:
            return self.defaults[surface]
        if self.default is not None:
            return self.default
        raise NoScriptError(self._explain_no_script(text, surface))

    def unused(self) -> list[str]:
        """Registered scripts that never drove a run (rules never matched, queue left over)."""
        left = [rule.describe() for rule in self.rules if rule.used == 0]
        left += [f"queued script {s!r}" for s in self.queue]
        return left

    def _explain_no_script(self, text: str, surface: str = "runs") -> str:
        what = "a run" if surface == "runs" else f"a {surface} turn"
        lines = [f"no script for {what} with input {text[:80]!r}."]
        if self.rules:
            lines.append("Input rules registered (none matched):")
            lines += [f"  - {rule.describe()}" for rule in self.rules]
        else:
            lines.append("No input rules, no queued scripts and no default script are registered.")
        lines.append(
            "Register one with server.script(Script()...), server.on_input(match, Script()...) "
            "or server.queue(Script()...)."
        )
        return "\n".join(lines)


def _surface(surface: str | None) -> str | None:
    if surface is not None and surface not in SURFACES:
        raise ScriptError(f"surface must be one of {', '.join(SURFACES)} or None, not {surface!r}")
    return surface


def _checked(script: Script, label: str) -> Script:
    if not isinstance(script, Script):
        raise ScriptError(f"{label} must be a Script, not {type(script).__name__}")
    return script.validate(label)


ScriptRouter = ScriptBook  # the 0.1 name
