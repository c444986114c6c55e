"""A Script as plain data and back: the steps by their builder verbs and arguments.

This is what scenario files hold: `{"steps": [{"delta": {"text": "Hel"}}, {"wait":
{"seconds": 2}}, {"complete": {"output": "Hello", "usage": {...}}}]}` — hand-editable, and
lossless: `script_from_dict(script_to_dict(s)) == s` for every Script. Reading goes
through the builder itself, so a hand-edited file is validated exactly as code is, and a
bad step is named by its place and the verbs that are allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from collections.abc import Mapping
from typing import Any

from agentfakes.errors import ScriptError
from agentfakes.models import RunUsage
from agentfakes.script.steps import (
    Approval,
    Complete,
    Delta,
    Fail,
    Reasoning,
    Step,
    ToolEnd,
    ToolStart,
    Wait,
)

# step class -> the builder verb that makes it (the name a scenario file uses)
VERBS: dict[type[Step], str] = {
    Delta: "delta",
    Reasoning: "reasoning",
    ToolStart: "tool_started",
    ToolEnd: "tool_completed",
    Wait: "wait",
    Approval: "approval",
    Complete: "complete",
    Fail: "fail",
}
_BRANCHES = ("on_deny", "on_timeout")

# The builder registers its Script class here when it is imported (`script/builder.py`):
# it calls this codec for `Script.to_dict()` / `Script.from_dict()`, so this module must
# not import it back (tests/test_layers.py: no import cycles).
_SCRIPT_TYPE: Any = None


def register_script_type(script_type: Any) -> None:
    """The class whose builder verbs `script_from_dict` calls (the builder's `Script`)."""
    global _SCRIPT_TYPE
    _SCRIPT_TYPE = script_type


def _script_type() -> Any:
    if _SCRIPT_TYPE is None:  # pragma: no cover - importing the package imports the builder
        raise RuntimeError("agentfakes.script.builder was not imported")
    return _SCRIPT_TYPE


def _defaults(verb: str) -> dict[str, Any]:
    parameters = inspect.signature(getattr(_script_type(), verb)).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def step_to_dict(step: Step) -> dict[str, Any]:
    """One step as `{verb: {argument: value}}`, leaving out arguments at their default."""
    verb = VERBS[type(step)]
    defaults = _defaults(verb)
    arguments: dict[str, Any] = {}
    for field in dataclasses.fields(step):
        value = getattr(step, field.name)
        if field.name in _BRANCHES:
            if value is not None:
                arguments[field.name] = script_to_dict(value)
            continue
        if isinstance(value, RunUsage):
            value = value.model_dump()
        elif isinstance(value, tuple):
            value = list(value)
        if field.name in defaults and value == defaults[field.name]:
            continue
        arguments[field.name] = value
    return {verb: arguments}


def script_to_dict(script: Any) -> dict[str, Any]:
    """`{"name": ..., "steps": [...]}`; the name only when the script has one."""
    data: dict[str, Any] = {}
    name = getattr(script, "name", None)
    if name:
        data["name"] = name
    data["steps"] = [step_to_dict(step) for step in script.steps]
    return data


def script_from_dict(data: Any, *, where: str = "script") -> Any:
    """Rebuild a Script with the builder's own verbs (and so its validation)."""
    if not isinstance(data, Mapping):
        raise ScriptError(f"{where}: a script is a mapping with 'steps', got {_kind(data)}")
    unknown = set(data) - {"name", "steps"}
    if unknown:
        raise ScriptError(f"{where}: unknown keys {sorted(unknown)}; a script has name, steps")
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise ScriptError(f"{where}.steps: a list of steps is required, got {_kind(steps)}")
    script = _script_type()()
    for index, raw in enumerate(steps):
        script = _apply(script, raw, where=f"{where}.steps[{index}]")
    name = data.get("name")
    if name is not None:
        if not isinstance(name, str):
            raise ScriptError(f"{where}.name: a string, got {_kind(name)}")
        script = script.named(name)
    return script


def _apply(script: Any, raw: Any, *, where: str) -> Any:
    allowed = ", ".join(VERBS.values())
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise ScriptError(f"{where}: a step is one {{verb: arguments}} pair ({allowed})")
    ((verb, arguments),) = raw.items()
    if verb not in VERBS.values():
        raise ScriptError(f"{where}: unknown step {verb!r}; the steps are {allowed}")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise ScriptError(f"{where}.{verb}: arguments are a mapping, got {_kind(arguments)}")
    kwargs = dict(arguments)
    if verb == "approval":
        for branch in _BRANCHES:
            if kwargs.get(branch) is not None:
                kwargs[branch] = script_from_dict(kwargs[branch], where=f"{where}.{branch}")
    if verb == "complete" and kwargs.get("usage") is not None:
        kwargs["usage"] = _usage(kwargs["usage"], where)
    known = [name for name in inspect.signature(getattr(_script_type(), verb)).parameters][1:]
    for name in kwargs:
        if name not in known:
            near = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ScriptError(
                f"{where}.{verb}: unknown argument {name!r}{hint}; {verb} takes {', '.join(known)}"
            )
    try:
        built = getattr(script, verb)(**kwargs)
    except TypeError as exc:
        raise ScriptError(f"{where}.{verb}: {_argument_problem(exc)}") from None
    except ScriptError as exc:
        raise ScriptError(f"{where}: {exc}") from None
    return built


def _usage(value: Any, where: str) -> RunUsage:
    if not isinstance(value, Mapping):
        raise ScriptError(f"{where}.complete.usage: a mapping of token counts")
    try:
        return RunUsage.model_validate(dict(value))
    except ValueError as exc:
        raise ScriptError(f"{where}.complete.usage: {exc}") from None


def _argument_problem(exc: TypeError) -> str:
    text = str(exc)
    return text.split(") ", 1)[-1] if ") " in text else text


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
