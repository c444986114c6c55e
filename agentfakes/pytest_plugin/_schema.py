"""The `@pytest.mark.agentfakes(...)` schema, ini values and flags, checked where given.

Reserved marker keys: `transport` ("mock" | "loopback"), `clock` ("virtual" | "real" | a
Clock), `scenario` (True | a path), `strict` (False turns every check off) and `checks`
(opt-outs by name: `checks={"approvals": False}`). Every other key goes to
`FakeRunsServer(...)`; an unknown key is an error naming the nearest valid one.
Only `agentfakes.options` and `agentfakes.errors` are imported here: pytest start-up stays
cheap when no test uses the fake.
"""

from __future__ import annotations

import argparse
import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentfakes.errors import OptionError
from agentfakes.options import choice, did_you_mean, unknown_option

TRANSPORTS = ("mock", "loopback")
CLOCKS = ("virtual", "real")
CHECKS = ("scripts", "faults", "approvals", "scenario_runs")
RESERVED = ("transport", "clock", "scenario", "strict", "checks")
MARKERS = ("agentfakes", "agentfakes_seed")
INI = {
    "agentfakes_clock": (CLOCKS, "virtual"),
    "agentfakes_transport": (TRANSPORTS, "mock"),
    # agentfakes.recording.options.MODES (pytest-recording's record modes)
    "agentfakes_record_mode": (("none", "once", "new_episodes", "all", "diff"), "none"),
}


@dataclass
class MarkerOptions:
    """One test's configuration of `fake_runs_server`, from marker, flags and ini."""

    transport: str = "mock"
    clock: Any = "virtual"  # "virtual" | "real" | a Clock
    scenario: Any = None
    skip: set[str] = field(default_factory=set)  # checks turned off
    server: dict[str, Any] = field(default_factory=dict)


def server_parameters() -> tuple[str, ...]:
    """The keyword options `FakeRunsServer(...)` takes (read from its signature, so an
    option added to it is accepted by the marker at once)."""
    from agentfakes.server import FakeRunsServer

    parameters = inspect.signature(FakeRunsServer.__init__).parameters
    return tuple(name for name in parameters if name != "self")


def parse_marker(
    kwargs: Mapping[str, Any], args: tuple[Any, ...], *, transport: str, clock: str
) -> MarkerOptions:
    """Check one `@pytest.mark.agentfakes(...)` against the schema."""
    where = "@pytest.mark.agentfakes"
    if args:
        raise OptionError(f"{where} takes keyword options only, got positional {args!r}")
    valid = (*RESERVED, *server_parameters())
    for name in kwargs:
        if name not in valid:
            raise unknown_option(name, valid, where)
    options = MarkerOptions(transport=transport, clock=clock)
    server = dict(kwargs)
    if "transport" in server:
        options.transport = choice(f"{where}(transport=...)", server.pop("transport"), TRANSPORTS)
    if "clock" in server:
        value = server.pop("clock")
        if isinstance(value, str):
            options.clock = choice(f"{where}(clock=...)", value, CLOCKS)
        elif callable(getattr(value, "now", None)) and hasattr(value, "wait"):
            options.clock = value
        else:
            raise OptionError(
                f"{where}(clock=...) must be 'virtual', 'real' or a Clock, not {value!r}"
            )
    if "scenario" in server:
        value = server.pop("scenario")
        if not (value is True or isinstance(value, str | os.PathLike)):
            raise OptionError(f"{where}(scenario=...) must be True or a path, not {value!r}")
        options.scenario = value
    if "strict" in server:
        strict = server["strict"]
        if not isinstance(strict, bool):
            raise OptionError(f"{where}(strict=...) must be True or False, not {strict!r}")
        if not strict:
            options.skip.update(CHECKS)
    if "checks" in server:
        options.skip.update(_opt_outs(server.pop("checks"), where))
    options.server = server
    return options


def _opt_outs(value: Any, where: str) -> set[str]:
    """`checks={"faults": False, ...}`: the names turned off."""
    if not isinstance(value, Mapping):
        raise OptionError(
            f'{where}(checks=...) must be a dict of check name to bool, e.g. {{"faults": False}}; '
            f"checks: {', '.join(CHECKS)}; got {value!r}"
        )
    off = set()
    for name, on in value.items():
        if name not in CHECKS:
            raise OptionError(
                f"{where}(checks=...) has no check {name!r}{did_you_mean(str(name), CHECKS)}; "
                f"checks: {', '.join(CHECKS)}"
            )
        if not isinstance(on, bool):
            raise OptionError(f"{where}(checks={{{name!r}: ...}}) must be True or False")
        if not on:
            off.add(name)
    return off


def choice_type(flag: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    """An argparse `type=` that refuses a bad value with the nearest valid one."""

    def parse(value: str) -> str:
        if value not in choices:
            raise argparse.ArgumentTypeError(
                f"{flag} must be one of {', '.join(choices)}, not {value!r}"
                f"{did_you_mean(value, choices)}"
            )
        return value

    return parse


def check_ini(getini: Callable[[str], Any], unknown: set[str]) -> None:
    """The ini values we own are valid, and an unknown `agentfakes_*` key is a typo."""
    for name, (choices, _default) in INI.items():
        value = getini(name)
        if value:
            choice(f"ini {name}", str(value).strip(), choices)
    known = (*INI, "agentfakes_seed", "agentfakes_scrub")
    for key in sorted(unknown):
        if key.startswith("agentfake"):
            raise unknown_option(key, known, "the ini file (agentfakes)")


def misspelt_marker(name: str, registered: set[str]) -> str | None:
    """The agentfakes marker `name` was probably meant to be, if it is a near miss."""
    if name in MARKERS or name in registered:
        return None
    hint = did_you_mean(name, MARKERS)
    return hint or None
