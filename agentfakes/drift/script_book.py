"""The reference script book: the fake answers each input marker as the real server does.

`drift/fake_llm.py` steers the real hermes-agent 0.19.0 with `[[scenario:NAME]]` markers in a
run's input; `drift/OBSERVED.md` records what the real server then sends under the reference
profile. These scripts make the fake send the same thing: the same deltas, reasoning, tool
events, approval payload, outputs, usage and failure texts, with the observed timings as
waits (seconds after the POST). One black-box case thus runs unchanged against both.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from agentfakes.drift.profile import REFERENCE_PROFILE, ServerProfile
from agentfakes.models import RunUsage
from agentfakes.script import Script

if TYPE_CHECKING:
    from agentfakes.server import FakeRunsServer

__all__ = [
    "DEFAULT_SCRATCH",
    "ECHO_TEXTS",
    "MARKERS",
    "install_reference_scripts",
    "marker",
    "reference_scripts",
    "reference_server",
    "turn_usage",
]

# Where the `approval` marker's command points when no real server chose a scratch dir.
DEFAULT_SCRATCH = "/tmp/agentfakes-drift/scratch"
MARKERS = (
    "complete",
    "approval",
    "fail500",
    "fail401",
    "slow",
    "medium",
    "loop",
    "tool",
    "echo",
    "stall",
)
# `echo` answers with the input's own text, so its scripts are per input (the cases use these).
ECHO_TEXTS = ("say this back",)

ANSWER = "Hello from the fake LLM. The answer is 42."
TOOL_ANSWER = "The tool ran. The answer is 42."
REMOVED = "Removed the scratch directory."
BLOCKED = "The command was blocked."
STALL_ANSWER = "Answered after a stall."
MEDIUM_ANSWER = "step " * 9 + "done."
SLOW_ANSWER = ("tick " * 60).strip()
FAIL500 = "HTTP 500: fake upstream exploded"
TOOL_RESULT = '{"output": "tool-ran", "exit_code": 0, "error": null}'  # the terminal's answer
FAIL401 = "HTTP 401: fake upstream: invalid api key"
GUARD = "delete in root path"  # the terminal guard's first finding for `rm -rf <dir>`


def marker(name: str, text: str = "") -> str:
    """The input that picks scenario `name` (`marker("echo", "hi")` → `[[scenario:echo]] hi`)."""
    return f"[[scenario:{name}]] {text}".strip()


def turn_usage(turns: int) -> RunUsage:
    """The fake LLM reports 11/7/18 tokens per call; a run sums its agent turns (§5 of
    OBSERVED.md: the iteration-limit summary call is not counted)."""
    return RunUsage(input_tokens=11 * turns, output_tokens=7 * turns, total_tokens=18 * turns)


def words(text: str) -> list[str]:
    """The fake LLM's deltas: a word plus its trailing blanks."""
    return re.findall(r"\S+\s*", text)


def _answer(
    script: Script,
    text: str,
    *,
    turns: int,
    after: float,
    lead: str = "",
    gap: float = 0.0,
) -> Script:
    """`text` streamed as the fake LLM does, then `reasoning.available` and `run.completed`.

    `lead` is what the agent puts before the first delta of a turn that follows a tool call
    ("\\n\\n"); the reasoning text and the output never carry it (OBSERVED.md §11.9).
    """
    script = script.wait(after)
    for index, piece in enumerate(words(text)):
        if index:
            script = script.wait(gap) if gap else script
        script = script.delta(lead + piece if index == 0 else piece)
    return script.wait(0.007).reasoning(text).wait(0.009).complete(text, turn_usage(turns))


def reference_scripts(
    *, scratch: str = DEFAULT_SCRATCH, profile: ServerProfile = REFERENCE_PROFILE
) -> dict[str, Script]:
    """Marker name → the script that answers it; `""` is the input without a marker."""
    victim = f"rm -rf {scratch.rstrip('/')}/victim"
    blocked = _answer(
        Script().wait(0.003).tool_completed("terminal"), BLOCKED, turns=2, after=0.078, lead="\n\n"
    )
    approval = _answer(
        Script()
        .wait(0.307)
        .tool_started("terminal", victim)
        .wait(0.008)
        .approval(victim, GUARD, pattern_key=GUARD, on_deny=blocked)
        .wait(0.024)
        .tool_completed("terminal"),
        REMOVED,
        turns=2,
        after=0.076,
        lead="\n\n",
    )
    loop = Script().wait(0.29)
    for turn in range(1, profile.max_turns + 1):
        if turn > 1:
            loop = loop.wait(0.09)
        loop = loop.tool_started("terminal", f"echo loop-iteration-{turn}").wait(0.027)
        loop = loop.tool_completed("terminal")
    loop = loop.wait(0.04).max_iterations("ok", turn_usage(profile.max_turns))

    medium = Script().wait(0.38)
    for index, piece in enumerate(words(MEDIUM_ANSWER)):
        medium = medium.wait(0.3) if index else medium
        medium = medium.delta(piece)
    medium = medium.wait(0.006).reasoning(MEDIUM_ANSWER).wait(0.011)
    medium = medium.complete(MEDIUM_ANSWER, turn_usage(1))

    slow = Script().wait(0.86)
    for index in range(60):
        slow = (slow.wait(0.5) if index else slow).delta("tick ")
    slow = slow.wait(0.007).reasoning(SLOW_ANSWER).wait(0.009)
    slow = slow.complete(SLOW_ANSWER, turn_usage(1))

    scripts = {
        "": _answer(Script(), "ok", turns=1, after=0.32),
        "complete": _answer(Script(), ANSWER, turns=1, after=0.30),
        "tool": _answer(
            Script()
            .wait(0.28)
            .tool_started("terminal", "echo tool-ran", arguments={"command": "echo tool-ran"})
            .wait(0.061)
            .tool_completed("terminal", result=TOOL_RESULT),
            TOOL_ANSWER,
            turns=2,
            after=0.066,
            lead="\n\n",
        ),
        "loop": loop,
        "approval": approval,
        "fail500": Script().wait(0.31).fail(FAIL500),
        "fail401": Script().wait(0.27).fail(FAIL401),
        "medium": medium,
        "slow": slow,
        "stall": _answer(Script(), STALL_ANSWER, turns=1, after=35.29),
    }
    for text in ECHO_TEXTS:
        scripts[marker("echo", text)] = _answer(Script(), f"turn 1: {text}", turns=1, after=0.30)
    return {
        name: script.named(f"reference {name or 'no marker'}") for name, script in scripts.items()
    }


def install_reference_scripts(
    server: FakeRunsServer,
    *,
    scratch: str = DEFAULT_SCRATCH,
    profile: ServerProfile = REFERENCE_PROFILE,
) -> FakeRunsServer:
    """Register the reference book: a rule per marker (reusable), the "ok" answer as default.

    The book is a catalogue, so most tests use a few of its rules: on a strict server the
    rest would fail `verify()`. Build the server with `strict=False` (as `reference_server`
    does) to keep verify's other checks without that one.
    """
    scripts = reference_scripts(scratch=scratch, profile=profile)
    for name, script in scripts.items():
        if not name:
            server.script(script)
        elif name.startswith("[[scenario:echo]]"):
            server.on_input(re.compile(r"^\s*" + re.escape(name) + r"\s*$"), script)
        elif name != "echo":
            server.on_input(f"[[scenario:{name}]]", script)
    return server


def reference_server(
    profile: ServerProfile = REFERENCE_PROFILE,
    *,
    scratch: str = DEFAULT_SCRATCH,
    **options: Any,
) -> FakeRunsServer:
    """A fake configured like the reference real server and answering its markers alike.

    `options` go to `FakeRunsServer` (a `clock`, say); `strict` defaults to False, see
    `install_reference_scripts`."""
    from agentfakes.server import FakeRunsServer

    options.setdefault("strict", False)
    server = FakeRunsServer(**profile.server_options(), **options)
    return install_reference_scripts(server, scratch=scratch, profile=profile)
