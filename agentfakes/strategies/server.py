"""`fresh_server()`: a new fake server per Hypothesis example, built, served and verified.

Hypothesis refuses function-scoped fixtures under `@given` (one fixture value would be
shared by every example), so property tests build their server here instead: a fresh
`FakeRunsServer` on virtual time, its script and faults in place, served in-process (or on
127.0.0.1), verified on a clean exit. The script and faults are also noted as code, so a
failing example is reported as a test the user can paste.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any, Literal

from hypothesis import note
from hypothesis.errors import InvalidArgument

from agentfakes.clocks import Clock, ManualClock, VirtualClock
from agentfakes.script import Script
from agentfakes.server import FakeRunsServer
from agentfakes.strategies.faults import FaultPlanSpec
from agentfakes.strategies.scripts import script_to_code

REPRODUCE = "Reproduce this example in a regular test:"


@contextmanager
def fresh_server(
    script: Script | None = None,
    *,
    faults: FaultPlanSpec | None = None,
    transport: Literal["mock", "loopback", "none"] = "mock",
    virtual_time: bool = True,
    verify: bool = True,
    **options: Any,
) -> Iterator[FakeRunsServer]:
    """A fresh `FakeRunsServer` for one example: `script` drives every run, `faults` are
    armed, and it is served the chosen way: `mock` (httpx to `server.url` in-process),
    `loopback` (a real socket on 127.0.0.1) or `none` (use `server.transport()` yourself).
    `verify()` runs when the block succeeds.

    Time: a `VirtualClock` by default, so the app's `time.sleep` is virtual too (it costs
    ~0.1 s to switch on per example); `virtual_time=False` gives the server a `ManualClock`
    (scripted waits still cost nothing, the app's own sleeps are real), ~10x faster for
    apps that do not sleep. `clock=` picks any clock."""
    if transport not in ("mock", "loopback", "none"):
        raise ValueError(f"transport must be 'mock', 'loopback' or 'none', got {transport!r}")
    _note_reproduction(script, faults)
    with ExitStack() as stack:
        clock: Clock | None = options.pop("clock", None)
        if clock is None:
            clock = stack.enter_context(VirtualClock()) if virtual_time else ManualClock()
        server = FakeRunsServer(clock=clock, strict=options.pop("strict", False), **options)
        if script is not None:
            server.script(script)
        if faults is not None:
            faults.arm(server)
        if transport == "mock":
            stack.enter_context(server.mock(verify=False))
        elif transport == "loopback":
            stack.enter_context(server.serve(verify=False))
        yield server
    if verify:
        server.verify()


def reproduction_code(script: Script | None, faults: FaultPlanSpec | None = None) -> str:
    """A regular test's setup for this example: the script and faults as code."""
    lines = ["server = FakeRunsServer()"]
    if script is not None:
        code = script_to_code(script)
        if code.startswith("(\n"):  # server.script( already gives the parentheses
            code = code[1:].rstrip(")").rstrip() + "\n"
        lines.append(f"server.script({code})")
    if faults is not None and faults.faults:
        lines.append(faults.to_code())
    return "\n".join(lines)


def _note_reproduction(script: Script | None, faults: FaultPlanSpec | None) -> None:
    with suppress(InvalidArgument):  # outside a Hypothesis test there is nothing to note
        note(f"{REPRODUCE}\n{reproduction_code(script, faults)}\n")
