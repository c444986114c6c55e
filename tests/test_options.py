"""Validation at the edge: every FakeRunsServer option is checked at construction."""

from __future__ import annotations

import math
from typing import Any

import pytest

from agentfakes import FakeRunsServer, ManualClock
from agentfakes.errors import AgentfakesError, OptionError
from agentfakes.options import did_you_mean, nearest, unknown_option

NAN = float("nan")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("approval_timeout", NAN, "approval_timeout=...) must be a non-negative finite number"),
        ("approval_timeout", math.inf, "got inf"),
        ("approval_timeout", -1, "got -1"),
        ("approval_timeout", "60", "not str '60'"),
        ("approval_timeout", True, "not bool True"),
        ("stop_latency", "x", "stop_latency=...) must be a non-negative finite number"),
        ("stop_latency", -0.5, "got -0.5"),
        ("approval_stop_latency", NAN, "approval_stop_latency=...)"),
        ("keepalive", "x", "keepalive=...) must be a positive finite number of seconds"),
        ("keepalive", 0, "got 0"),
        ("max_concurrent_runs", "10", "max_concurrent_runs=...) must be an int >= 0, not str"),
        ("max_concurrent_runs", 2.5, "not float 2.5"),
        ("max_concurrent_runs", -1, "got -1"),
        ("max_concurrent_runs", True, "not bool"),
        ("model_name", "", "model_name=...) must be a non-empty string"),
        ("model_name", 3, "not int 3"),
        ("base_url", "hermes.test", "base_url=...) must be an http(s) URL with a host"),
        ("base_url", "ftp://x", "must be an http(s) URL"),
        ("clock", "real", "clock=...) must be a Clock"),
        ("run_ids", "run_1", "run_ids=...) must be a callable"),
        ("strict", "yes", "strict=...) must be True or False, not str"),
        ("api_key", None, "api_key must be a string of at least 16 characters"),
    ],
)
def test_bad_option_is_refused_at_construction(option: str, value: Any, message: str) -> None:
    with pytest.raises(OptionError) as raised:
        FakeRunsServer(**{option: value})
    assert message in str(raised.value)
    assert isinstance(raised.value, AgentfakesError)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, TypeError)


@pytest.mark.parametrize(
    "options",
    [
        {"approval_timeout": 0},
        {"approval_timeout": 5},
        {"max_concurrent_runs": 0},
        {"keepalive": 0.5, "stop_latency": 0.0},
        {"base_url": "https://hermes.example:8443/"},
        {"clock": ManualClock(), "run_ids": lambda: "run_" + "a" * 32, "strict": False},
    ],
)
def test_good_options_are_accepted(options: dict[str, Any]) -> None:
    server = FakeRunsServer(**options)
    assert server.strict is options.get("strict", True)


def test_a_nan_approval_timeout_no_longer_reaches_the_engine() -> None:
    """It used to hang the first run that reached an approval, holding the engine lock."""
    with pytest.raises(OptionError, match="got nan"):
        FakeRunsServer(approval_timeout=NAN)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (NAN, ValueError, "finite"),
        (math.inf, ValueError, "finite"),
        (-1, ValueError, "negative"),
        ("1", TypeError, "number of seconds"),
    ],
)
def test_manual_clock_refuses_a_bad_advance(
    value: Any, error: type[Exception], message: str
) -> None:
    clock = ManualClock()
    before = clock.now()
    with pytest.raises(error, match=message):
        clock.advance(value)
    assert clock.now() == before


def test_nearest_name_for_a_typo() -> None:
    valid = ["approval_timeout", "stop_latency", "keepalive"]
    assert nearest("aproval_timeout", valid) == "approval_timeout"
    assert nearest("zzz", valid) is None
    assert did_you_mean("keepalve", valid) == " (did you mean 'keepalive'?)"
    error = unknown_option("aproval_timeout", valid, "FakeRunsServer")
    assert str(error) == (
        "FakeRunsServer has no option 'aproval_timeout' (did you mean 'approval_timeout'?); "
        "valid options: approval_timeout, keepalive, stop_latency"
    )


def test_a_misspelt_constructor_option_names_the_nearest() -> None:
    with pytest.raises(OptionError) as raised:
        FakeRunsServer(aproval_timeout=5)  # type: ignore[call-arg]
    message = str(raised.value)
    assert message.startswith(
        "FakeRunsServer has no option 'aproval_timeout' (did you mean 'approval_timeout'?); "
        "valid options: api_key, "
    )
    assert FakeRunsServer("sk-test-0123456789abcdef", approval_timeout=3).base_url
