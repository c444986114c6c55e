"""`Script`: the validated timeline of one fake run, built step by step.

A Script is immutable: each builder call returns a new Script, so one partial script can
be the common start of several. Mistakes are refused while the script is built (a step
after the terminal one, a negative wait, an unknown choice) or, for what needs the whole
timeline (a terminal step, `tool_completed` pairing), when it is handed to the server;
the message names the step.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agentfakes.errors import ScriptError
from agentfakes.models import RunUsage, with_iteration_limit_notice
from agentfakes.script import codec
from agentfakes.script.steps import (
    Approval,
    Complete,
    Delta,
    Fail,
    Reasoning,
    Step,
    Terminal,
    ToolEnd,
    ToolStart,
    Wait,
    shorten,
)

__all__ = ["Script", "ScriptError"]


# ---------------------------------------------------------------- the builder


@dataclass(frozen=True)
class Script:
    """The timeline of one run: events, waits, approval gates and one terminal step.

    >>> Script().delta("Hel").delta("lo").complete(output="Hello")
    """

    steps: tuple[Step, ...] = ()
    name: str | None = field(default=None, compare=False)

    # -- content steps

    def delta(self, text: str) -> Script:
        """A streamed text token (`message.delta`); it never changes the run object."""
        _require_str("delta", "text", text)
        return self._then(Delta(text))

    def reasoning(self, text: str = "") -> Script:
        """A `reasoning.available` event (the server sends at most 500 characters)."""
        _require_str("reasoning", "text", text)
        return self._then(Reasoning(text[:500]))

    def tool_started(
        self, name: str, preview: str | None = None, *, arguments: dict[str, Any] | None = None
    ) -> Script:
        """A `tool.started` event: the agent begins running tool `name`.

        `arguments` are the call's JSON arguments: Responses shows them in its
        `function_call` items (a run's events do not carry them).
        """
        _require_str("tool_started", "name", name)
        if preview is not None:
            _require_str("tool_started", "preview", preview)
        if arguments is not None:
            _require_json_object(f"tool_started({name!r})", "arguments", arguments)
        return self._then(ToolStart(name, preview, arguments))

    def tool_completed(
        self,
        name: str,
        *,
        duration: float | None = None,
        error: bool | None = None,
        result: str | None = None,
    ) -> Script:
        """A `tool.completed` event closing the oldest open `tool_started(name)`.

        `duration` defaults to the scripted time since it started; `error` defaults to
        true after a denied or timed-out approval of that tool, as the real server does.
        `result` is the tool's output (Responses' `function_call_output`).
        """
        _require_str("tool_completed", "name", name)
        if duration is not None:
            _require_seconds(f"tool_completed({name!r})", "duration", duration)
        if error is not None and not isinstance(error, bool):
            raise ScriptError(f"tool_completed({name!r}): error must be True, False or None")
        if result is not None:
            _require_str(f"tool_completed({name!r})", "result", result)
        return self._then(ToolEnd(name, duration, error, result))

    def tool(
        self,
        name: str,
        preview: str | None = None,
        *,
        duration: float = 0.0,
        error: bool | None = None,
        arguments: dict[str, Any] | None = None,
        result: str | None = None,
    ) -> Script:
        """A whole tool call: `tool_started`, `duration` seconds, `tool_completed`."""
        _require_seconds(f"tool({name!r})", "duration", duration)
        script = self.tool_started(name, preview, arguments=arguments)
        if duration:
            script = script.wait(duration)
        return script.tool_completed(name, error=error, result=result)

    def wait(self, seconds: float) -> Script:
        """Nothing happens for `seconds` on the engine's clock."""
        _require_seconds("wait", "seconds", seconds)
        return self._then(Wait(float(seconds)))

    def approval(
        self,
        command: str,
        description: str,
        *,
        pattern_key: str | None = None,
        pattern_keys: Sequence[str] | None = None,
        allow_permanent: bool | None = True,
        smart_denied: bool = False,
        timeout: float | None = None,
        on_deny: Script | None = None,
        on_timeout: Script | None = None,
    ) -> Script:
        """An approval gate: `approval.request`, then the run waits for a choice.

        After an approve the script goes on; after a deny or a timeout it goes on too (the
        gated `tool_completed` then reports an error) unless `on_deny` / `on_timeout` give
        the rest of the run for that case. `on_timeout` defaults to `on_deny`.
        Consecutive approval steps are pending at the same time (a parallel tool batch).
        """
        where = f"approval({command!r})"
        _require_str("approval", "command", command)
        _require_str(where, "description", description)
        if allow_permanent is not None and not isinstance(allow_permanent, bool):
            raise ScriptError(f"{where}: allow_permanent must be True, False or None (absent)")
        if not isinstance(smart_denied, bool):
            raise ScriptError(f"{where}: smart_denied must be True or False")
        if timeout is not None:
            _require_seconds(where, "timeout", timeout)
        for label, branch in (("on_deny", on_deny), ("on_timeout", on_timeout)):
            if branch is not None and not isinstance(branch, Script):
                raise ScriptError(f"{where}: {label} must be a Script, not {type(branch).__name__}")
        key = pattern_key if pattern_key is not None else description
        keys = tuple(pattern_keys) if pattern_keys is not None else (key,)
        if not all(isinstance(k, str) for k in keys):
            raise ScriptError(f"{where}: pattern_keys must be strings")
        step = Approval(
            command=command,
            description=description,
            pattern_key=key,
            pattern_keys=keys,
            allow_permanent=allow_permanent,
            smart_denied=smart_denied,
            timeout=None if timeout is None else float(timeout),
            on_deny=on_deny,
            on_timeout=on_timeout,
        )
        script = self._then(step)
        # A branch continues from here: check it against the tools open at this point.
        open_tools = _open_tools_after(script.steps, where="")
        for label, branch in (("on_deny", on_deny), ("on_timeout", on_timeout)):
            if branch is not None:
                _check_timeline(branch.steps, open_tools, where=f"{where}.{label} → ")
        return script

    # -- terminal steps

    def complete(
        self, output: str | None = None, usage: RunUsage | dict[str, int] | None = None
    ) -> Script:
        """End with `run.completed {output, usage}` (usage defaults to an estimate)."""
        if output is not None:
            _require_str("complete", "output", output)
        return self._then(Complete(output, _usage(f"complete({shorten(output)!r})", usage)))

    def answer(
        self, text: str, *, usage: RunUsage | dict[str, int] | None = None, chunk: int = 12
    ) -> Script:
        """End the way a real agent does: `text` as deltas, `reasoning.available`, completed."""
        _require_str("answer", "text", text)
        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
            raise ScriptError(f"answer: chunk must be a whole number >= 1, got {chunk!r}")
        where = f"answer({shorten(text)!r})"
        checked = _usage(where, usage)
        script = self
        for start in range(0, len(text), chunk):
            script = script.delta(text[start : start + chunk])
        if text:  # spec §5.3: reasoning.available only follows non-empty content
            script = script.reasoning(text)
        return script._then(Complete(text, checked))

    def max_iterations(
        self, output: str | None = None, usage: RunUsage | dict[str, int] | None = None
    ) -> Script:
        """End as Hermes does at its iteration limit: completed, the notice appended (§9.4)."""
        if output is not None:
            _require_str("max_iterations", "output", output)
        usage_checked = _usage(f"max_iterations({shorten(output)!r})", usage)
        return self._then(Complete(with_iteration_limit_notice(output), usage_checked))

    def fail(self, error: str) -> Script:
        """End with `run.failed {error}` (e.g. Hermes' `"HTTP 500: ..."` provider errors)."""
        _require_str("fail", "error", error)
        return self._then(Fail(error))

    # -- inspection

    @property
    def terminal(self) -> Terminal | None:
        last = self.steps[-1] if self.steps else None
        return last if isinstance(last, Terminal) else None

    @property
    def duration(self) -> float:
        """Scripted seconds on the approve path (waits and tool durations)."""
        return sum(s.seconds for s in self.steps if isinstance(s, Wait))

    def to_dict(self) -> dict[str, Any]:
        """The script as plain data: `{"name"?, "steps": [{verb: {argument: value}}]}`
        (what scenario files hold); `Script.from_dict(s.to_dict()) == s`."""
        return codec.script_to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Script:
        """Rebuild a Script from `to_dict()` data, validated by the builder's own verbs."""
        built: Script = codec.script_from_dict(data)
        return built

    def named(self, name: str) -> Script:
        """The same script with a name, used in error messages and the journal."""
        return replace(self, name=name)

    def validate(self, label: str = "script") -> Script:
        """Check the whole timeline; raise ScriptError naming the offending step."""
        if self.terminal is None:
            steps = ", ".join(s.describe() for s in self.steps[-3:]) or "no steps"
            raise ScriptError(
                f"{label}{self._label()} has no terminal step (after {steps}); end it with "
                ".complete(output), .answer(text), .max_iterations(output) or .fail(error)"
            )
        _check_timeline(self.steps, [], where=f"{label}{self._label()}: ")
        return self

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        inner = ".".join(s.describe() for s in self.steps)
        named = f".named({self.name!r})" if self.name else ""
        return f"Script(){'.' + inner if inner else ''}{named}"

    # -- internals

    def _label(self) -> str:
        return f" {self.name!r}" if self.name else ""

    def _then(self, step: Step) -> Script:
        if self.terminal is not None:
            raise ScriptError(
                f"step {len(self.steps) + 1} ({step.describe()}) comes after the terminal step "
                f"{self.terminal.describe()}; a run ends exactly once"
            )
        return replace(self, steps=(*self.steps, step))


codec.register_script_type(Script)  # Script.from_dict() and the codec build with it


def _require_str(where: str, field_name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ScriptError(f"{where}: {field_name} must be a string, got {type(value).__name__}")


def _require_json_object(where: str, field_name: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise ScriptError(f"{where}: {field_name} must be a dict, got {type(value).__name__}")
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ScriptError(f"{where}: {field_name} must be JSON-serialisable: {exc}") from None


def _require_seconds(where: str, field_name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScriptError(f"{where}: {field_name} must be a number of seconds, got {value!r}")
    if value < 0:
        raise ScriptError(f"{where}: {field_name} must be >= 0 seconds, got {value}")


def _usage(where: str, usage: RunUsage | dict[str, int] | None) -> RunUsage | None:
    if usage is None or isinstance(usage, RunUsage):
        return usage
    try:
        return RunUsage.model_validate(usage)
    except ValueError as exc:
        raise ScriptError(
            f"{where}: usage must be {{input_tokens, output_tokens[, total_tokens]}} ints: {exc}"
        ) from None


def _open_tools_after(steps: Sequence[Step], where: str) -> list[str]:
    return _check_timeline(steps, [], where=where, partial=True)


def _check_timeline(
    steps: Sequence[Step], open_tools: list[str], *, where: str, partial: bool = False
) -> list[str]:
    """Walk a timeline and check tool pairing; return the tools still open at its end."""
    open_now = list(open_tools)
    for index, step in enumerate(steps, start=1):
        if isinstance(step, ToolStart):
            open_now.append(step.name)
        elif isinstance(step, ToolEnd):
            if step.name in open_now:
                open_now.remove(step.name)
            elif not partial:
                opened = ", ".join(open_now) or "none"
                raise ScriptError(
                    f"{where}step {index} ({step.describe()}) has no matching "
                    f"tool_started({step.name!r}) before it (open tools: {opened})"
                )
        elif isinstance(step, Terminal) and index != len(steps):
            raise ScriptError(f"{where}step {index} ({step.describe()}) is not the last step")
    if not partial and (not steps or not isinstance(steps[-1], Terminal)):
        raise ScriptError(
            f"{where}has no terminal step; end it with .complete(output), .answer(text), "
            ".max_iterations(output) or .fail(error)"
        )
    return open_now
