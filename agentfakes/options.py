"""Validation at the edge: every option is checked where the user gives it.

`FakeRunsServer(...)`, the pytest marker, ini values and CLI flags all come through here, so
a bad value fails at once with a message that names the option, says what is allowed and,
for a typo, suggests the nearest valid name — instead of a TypeError inside a request, or a
hang (a NaN timeout never comes due).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

from agentfakes.errors import OptionError

__all__ = [
    "check_option_names",
    "check_server_options",
    "choice",
    "count",
    "did_you_mean",
    "duration",
    "flag",
    "nearest",
    "port",
    "text",
    "unknown_option",
]


def nearest(name: str, valid: Collection[str]) -> str | None:
    """The valid name `name` was most likely meant to be (difflib), if any is close."""
    import difflib  # only on a mistake: keeps pytest start-up cheap

    found = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(name: str, valid: Collection[str]) -> str:
    """` (did you mean 'x'?)` for a near miss, else an empty string."""
    guess = nearest(name, valid)
    return f" (did you mean {guess!r}?)" if guess else ""


def unknown_option(name: str, valid: Collection[str], where: str) -> OptionError:
    """The error for an option `where` does not have."""
    return OptionError(
        f"{where} has no option {name!r}{did_you_mean(name, valid)}; "
        f"valid options: {', '.join(sorted(valid))}"
    )


def duration(
    name: str, value: Any, *, positive: bool = False, optional: bool = False
) -> float | None:
    """A number of seconds: finite, not negative (not zero if `positive`), not a bool."""
    if value is None and optional:
        return None
    bound = "a positive" if positive else "a non-negative"
    allowed = f"{bound} finite number of seconds" + (" or None" if optional else "")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OptionError(f"{name} must be {allowed}, not {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise OptionError(f"{name} must be {allowed}, got {value!r}")
    return float(value)


def count(name: str, value: Any, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number in [minimum, maximum]; a bool or a float is refused."""
    span = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"{name} must be an int {span}, not {type(value).__name__} {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise OptionError(f"{name} must be an int {span}, got {value!r}")
    return value


def port(name: str, value: Any) -> int:
    """A TCP port: 0 (any free port) to 65535."""
    return count(name, value, minimum=0, maximum=65535)


def text(name: str, value: Any, *, min_length: int = 1, why: str = "") -> str:
    """A string of at least `min_length` characters."""
    if not isinstance(value, str) or len(value) < min_length:
        shown = f"{type(value).__name__} {value!r}" if not isinstance(value, str) else repr(value)
        need = (
            "a non-empty string"
            if min_length == 1
            else f"a string of at least {min_length} characters"
        )
        raise OptionError(f"{name} must be {need}, not {shown}{why}")
    return value


def flag(name: str, value: Any) -> bool:
    """True or False, nothing truthy."""
    if not isinstance(value, bool):
        raise OptionError(f"{name} must be True or False, not {type(value).__name__} {value!r}")
    return value


def choice(name: str, value: Any, choices: Collection[str]) -> str:
    """One of `choices`, with a suggestion for a near miss."""
    if not isinstance(value, str) or value not in choices:
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        raise OptionError(
            f"{name} must be one of {', '.join(repr(c) for c in choices)}, not {value!r}{hint}"
        )
    return value


def _base_url(name: str, value: Any) -> str:
    url = text(name, value)
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https") or not rest.strip("/"):
        raise OptionError(
            f"{name} must be an http(s) URL with a host, e.g. http://hermes.test, not {url!r}"
        )
    return url


def _clock(name: str, value: Any) -> Any:
    if value is not None and not (callable(getattr(value, "now", None)) and hasattr(value, "wait")):
        raise OptionError(
            f"{name} must be a Clock (RealClock, ManualClock, VirtualClock) or None, "
            f"not {type(value).__name__} {value!r}"
        )
    return value


def _callable(name: str, value: Any) -> Any:
    if value is not None and not callable(value):
        raise OptionError(f"{name} must be a callable returning a run id, or None, not {value!r}")
    return value


def _api_key(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) < 16:
        raise OptionError(
            "api_key must be a string of at least 16 characters: the real server refuses "
            "to start with a shorter key (spec §1.3)"
        )
    return value


SERVER_OPTIONS: dict[str, Callable[[str, Any], Any]] = {
    "api_key": _api_key,
    "base_url": _base_url,
    "clock": _clock,
    "model_name": text,
    "max_concurrent_runs": count,
    "approval_timeout": duration,
    "stop_latency": duration,
    "approval_stop_latency": duration,
    "keepalive": lambda n, v: duration(n, v, positive=True),
    "run_ids": _callable,
    "strict": flag,
}
"""How each `FakeRunsServer` option is checked; options not listed are not checked here."""


def check_option_names(function: Callable[..., Any], given: Mapping[str, Any], where: str) -> None:
    """Every keyword in `given` is a parameter of `function`, else the nearest is named."""
    import inspect

    parameters = inspect.signature(function).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    valid = [name for name in parameters if name != "self"]
    for name in given:
        if name not in parameters:
            raise unknown_option(name, valid, where)


def check_server_options(values: Mapping[str, Any]) -> None:
    """Check `FakeRunsServer(...)`'s arguments (its `locals()`: `self` and unknown names are
    skipped, so an option added later is simply not checked until it is listed)."""
    for name, check in SERVER_OPTIONS.items():
        if name in values:
            check(f"FakeRunsServer({name}=...)", values[name])
