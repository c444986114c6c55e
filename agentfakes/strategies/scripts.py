"""Strategies for legal Scripts, and the Script builder code that reproduces one.

`scripts()` draws timelines a real Hermes server could produce: streamed text, reasoning,
tool calls (gated by approvals, with deny/timeout branches, or two gates at once), waits
and every terminal step (spec §4, §5.3). `script_to_code()` prints any Script as builder
code a user can paste into a regular test; it is also how Hypothesis shows a failing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.vendor import pretty

from agentfakes.models import ITERATION_LIMIT_NOTICE
from agentfakes.script import (
    Approval,
    Complete,
    Delta,
    Fail,
    Reasoning,
    Script,
    Step,
    ToolEnd,
    ToolStart,
    Wait,
)

TERMINALS = ("complete", "answer", "max_iterations", "fail")
TOOL_NAMES = ("terminal", "read_file", "web_search", "execute_code")
COMMANDS = ("rm -rf build", "rm -rf /", "make deploy", "git push --force", "kubectl apply -f x")
ERRORS = ("kaboom", "HTTP 401: Invalid key sk-pro...6789", "HTTP 500: upstream error")
_TEXT = st.text(alphabet='ab z.\n"\\é✓', max_size=8)


def approval_timings(
    min_seconds: float = 0.0, max_seconds: float | None = None
) -> st.SearchStrategy[float | None]:
    """How long an approval gate waits before it times out (None: the server's 60 s).

    Includes 0 (the gate times out before anyone can answer: the app's POST gets 409) and
    moments around the default, so apps meet late and lost approvals too (spec §7).
    Bound them with `min_seconds` / `max_seconds` (None stays in only if 60 s is inside)."""
    top = 120.0 if max_seconds is None else max_seconds
    marks = [m for m in (0.0, 1.0, 30.0, 60.0, 600.0) if min_seconds <= m <= top]
    choices: list[st.SearchStrategy[float | None]] = []
    if min_seconds <= 60.0 <= top:
        choices.append(st.none())
    if marks:
        choices.append(st.sampled_from(marks))
    choices.append(_seconds(min_seconds, top))
    return st.one_of(choices)


def waits(max_seconds: float = 400.0) -> st.SearchStrategy[float]:
    """Scripted pauses, in seconds (millisecond steps): around the 30 s keepalive, the
    60 s sweep, past the 300 s stream TTL (the default `max_seconds`)."""
    marks = [m for m in (0.0, 0.5, 2.0, 30.0, 31.0, 61.0, 400.0) if m <= max_seconds]
    return st.one_of(st.sampled_from(marks), _seconds(0.0, min(max_seconds, 120.0)))


def _seconds(low: float, high: float) -> st.SearchStrategy[float]:
    return st.integers(round(low * 1000), round(high * 1000)).map(lambda ms: ms / 1000)


def scripts(
    *,
    max_blocks: int = 5,
    tools: bool = True,
    approvals: bool = True,
    waits_: bool = True,
    terminals: Sequence[str] = TERMINALS,
    approval_timeouts: st.SearchStrategy[float | None] | None = None,
    wait_seconds: st.SearchStrategy[float] | None = None,
    branches: bool = True,
) -> st.SearchStrategy[Script]:
    """Legal Scripts: up to `max_blocks` blocks (text, reasoning, tool calls, gated tool
    calls with deny/timeout branches, two gates at once, waits), then a terminal step.

    Every one passes `Script.validate()`; turn features off with the flags, pick the
    endings with `terminals` (any of "complete", "answer", "max_iterations", "fail"),
    the gates' timeouts with `approval_timeouts` (default `approval_timings()`) and the
    pauses with `wait_seconds` (default `waits()`)."""
    unknown = set(terminals) - set(TERMINALS)
    if unknown or not terminals:
        raise ValueError(f"terminals must be some of {TERMINALS}, got {tuple(terminals)!r}")
    return _scripts(
        max_blocks=max_blocks,
        tools=tools,
        approvals=approvals and tools,
        waits_=waits_,
        terminals=tuple(terminals),
        timeouts=approval_timeouts if approval_timeouts is not None else approval_timings(),
        pauses=wait_seconds if wait_seconds is not None else waits(),
        branches=branches,
    )


@st.composite
def _scripts(draw: st.DrawFn, /, **options: Any) -> Script:
    return draw(_timeline(Script(), depth=0, open_tool=None, **options))


@st.composite
def _timeline(
    draw: st.DrawFn,
    start: Script,
    *,
    depth: int,
    open_tool: str | None,
    max_blocks: int,
    tools: bool,
    approvals: bool,
    waits_: bool,
    terminals: tuple[str, ...],
    timeouts: st.SearchStrategy[float | None],
    pauses: st.SearchStrategy[float],
    branches: bool,
) -> Script:
    options: dict[str, Any] = dict(
        pauses=pauses,
        max_blocks=max_blocks,
        tools=tools,
        approvals=approvals,
        waits_=waits_,
        terminals=terminals,
        timeouts=timeouts,
        branches=branches,
    )
    script = start
    if open_tool is not None:  # a branch goes on from inside the gated tool
        script = script.tool_completed(open_tool, error=draw(st.sampled_from([None, True])))
    kinds = ["delta", "reasoning"]
    if tools:
        kinds.append("tool")
    if approvals:
        kinds += ["gated", "parallel"]
    if waits_:
        kinds.append("wait")
    blocks = draw(st.lists(st.sampled_from(kinds), max_size=max_blocks if depth == 0 else 2))
    for kind in blocks:
        if kind == "delta":
            script = script.delta(draw(_TEXT))
        elif kind == "reasoning":
            script = script.reasoning(draw(_TEXT))
        elif kind == "wait":
            script = script.wait(draw(pauses))
        elif kind == "tool":
            name = draw(st.sampled_from(TOOL_NAMES))
            script = script.tool_started(name, preview=draw(st.none() | st.sampled_from(COMMANDS)))
            if draw(st.booleans()):
                script = script.wait(draw(pauses))
            script = script.tool_completed(name, error=draw(st.sampled_from([None, False, True])))
        elif kind == "gated":
            name = draw(st.sampled_from(TOOL_NAMES))
            command = draw(st.sampled_from(COMMANDS))
            script = script.tool_started(name, preview=command)
            on_deny = on_timeout = None
            if branches and depth == 0 and draw(st.booleans()):
                on_deny = draw(_timeline(Script(), depth=1, open_tool=name, **options))
            if branches and depth == 0 and draw(st.booleans()):
                on_timeout = draw(_timeline(Script(), depth=1, open_tool=name, **options))
            script = script.approval(
                command,
                draw(st.sampled_from(["delete in root path", "deploy to production"])),
                allow_permanent=draw(st.sampled_from([True, False, None])),
                smart_denied=draw(st.booleans()),
                timeout=draw(timeouts),
                on_deny=on_deny,
                on_timeout=on_timeout,
            )
            if draw(st.booleans()):
                script = script.wait(draw(pauses))
            script = script.tool_completed(name)
        elif kind == "parallel":  # a parallel tool batch: two gates pending at once
            first, second = draw(st.sampled_from(TOOL_NAMES)), draw(st.sampled_from(TOOL_NAMES))
            script = script.tool_started(first, preview="a").tool_started(second, preview="b")
            for command in draw(st.lists(st.sampled_from(COMMANDS), min_size=2, max_size=2)):
                script = script.approval(command, "parallel gate", timeout=draw(timeouts))
            script = script.tool_completed(first).tool_completed(second)
    return draw(_terminal(script, terminals))


@st.composite
def _terminal(draw: st.DrawFn, script: Script, terminals: tuple[str, ...]) -> Script:
    kind = draw(st.sampled_from(terminals))
    if kind == "answer":
        return script.answer(draw(_TEXT), chunk=draw(st.integers(1, 4)))
    if kind == "max_iterations":
        return script.max_iterations(draw(st.none() | _TEXT))
    if kind == "fail":
        return script.fail(draw(st.sampled_from(ERRORS)))
    usage = draw(
        st.none()
        | st.fixed_dictionaries(
            {"input_tokens": st.integers(0, 500), "output_tokens": st.integers(0, 500)}
        )
    )
    return script.complete(draw(st.none() | _TEXT), usage=usage)


# ---------------------------------------------------------------- printing


def script_to_code(script: Script, *, indent: int = 0) -> str:
    """Script builder code that rebuilds `script` exactly: `eval(code) == script`."""
    calls = [_call(step, indent + 4) for step in script.steps]
    if script.name:
        calls.append(f".named({script.name!r})")
    if not calls:
        return "Script()"
    one_line = "Script()" + "".join(calls)
    if len(one_line) + indent <= 88 and "\n" not in one_line:
        return one_line
    pad = " " * (indent + 4)
    body = "".join(f"\n{pad}{call}" for call in calls)
    return f"(\n{pad}Script(){body}\n{' ' * indent})"


def _call(step: Step, indent: int) -> str:
    if isinstance(step, Delta):
        return f".delta({step.text!r})"
    if isinstance(step, Reasoning):
        return f".reasoning({step.text!r})"
    if isinstance(step, Wait):
        return f".wait({step.seconds!r})"
    if isinstance(step, ToolStart):
        args = [repr(step.name)]
        if step.preview is not None:
            args.append(f"preview={step.preview!r}")
        arguments = getattr(step, "arguments", None)  # newer builders only
        if arguments is not None:
            args.append(f"arguments={arguments!r}")
        return f".tool_started({', '.join(args)})"
    if isinstance(step, ToolEnd):
        args = [repr(step.name)]
        if step.duration is not None:
            args.append(f"duration={step.duration!r}")
        if step.error is not None:
            args.append(f"error={step.error!r}")
        result = getattr(step, "result", None)  # newer builders only
        if result is not None:
            args.append(f"result={result!r}")
        return f".tool_completed({', '.join(args)})"
    if isinstance(step, Approval):
        return _approval_call(step, indent)
    if isinstance(step, Complete):
        return _complete_call(step)
    if isinstance(step, Fail):
        return f".fail({step.error!r})"
    raise TypeError(f"script_to_code does not know step {step!r}")


def _approval_call(step: Approval, indent: int) -> str:
    args = [repr(step.command), repr(step.description)]
    if step.pattern_key != step.description:
        args.append(f"pattern_key={step.pattern_key!r}")
    if step.pattern_keys != (step.pattern_key,):
        args.append(f"pattern_keys={list(step.pattern_keys)!r}")
    if step.allow_permanent is not True:
        args.append(f"allow_permanent={step.allow_permanent!r}")
    if step.smart_denied:
        args.append("smart_denied=True")
    if step.timeout is not None:
        args.append(f"timeout={step.timeout!r}")
    for label, branch in (("on_deny", step.on_deny), ("on_timeout", step.on_timeout)):
        if branch is not None:
            args.append(f"{label}={script_to_code(Script(tuple(branch.steps)), indent=indent)}")
    return f".approval({', '.join(args)})"


def _complete_call(step: Complete) -> str:
    usage = ""
    if step.usage is not None:
        usage = f", usage={step.usage.to_wire()!r}"
    output = step.output
    suffix = "\n\n" + ITERATION_LIMIT_NOTICE
    if output == ITERATION_LIMIT_NOTICE:
        return f".max_iterations(None{usage})" if usage else ".max_iterations()"
    if output is not None and output.endswith(suffix):
        return f".max_iterations({output[: -len(suffix)]!r}{usage})"
    return f".complete({output!r}{usage})"


def _pretty_script(obj: Script, printer: Any, cycle: bool) -> None:
    """Hypothesis prints a falsifying Script as builder code (paste it into a test)."""
    printer.text(script_to_code(obj))


pretty.for_type_by_name("agentfakes.script.builder", "Script", _pretty_script)
