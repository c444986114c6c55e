"""The `fake_runs_server` fixture's decisions: its options, its clock, its warnings.

One clock per test: the fixture runs on the `virtual_clock` fixture's VirtualClock unless
told `clock="real"` (or given a Clock); a test that brings its own time patch (freezegun,
time-machine) is stopped with a message that says how to choose one.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import pytest

from agentfakes.errors import OptionError
from agentfakes.pytest_plugin._schema import MarkerOptions, parse_marker

if TYPE_CHECKING:
    from agentfakes.server import FakeRunsServer

REAL_WAIT_WARNING = 2.0  # real seconds of scripted waiting before a real-clock test is warned


def setting(config: pytest.Config, name: str, default: str) -> str:
    """A flag if given, else the ini value, else the default."""
    value = config.getoption(name)
    if value is None:
        value = str(config.getini(name) or "").strip() or default
    return str(value)


def options_for(request: pytest.FixtureRequest) -> MarkerOptions:
    """Marker over flag over ini over default. The default clock is virtual in-process and
    real on loopback: the clients that need loopback (requests, aiohttp, a subprocess) block
    in the kernel, where a virtual clock cannot see them and would jump past them."""
    config = request.config
    transport = setting(config, "agentfakes_transport", "mock")
    clock = setting(config, "agentfakes_clock", "")
    marker = request.node.get_closest_marker("agentfakes")
    options = MarkerOptions(transport=transport, clock=clock)
    if marker is not None:
        message = ""
        try:
            options = parse_marker(marker.kwargs, marker.args, transport=transport, clock=clock)
        except OptionError as error:
            message = f"{request.node.nodeid}: {error}"
        if message:
            pytest.fail(message, pytrace=False)  # outside `except`: no "during handling"
    if options.clock == "":
        options.clock = "real" if options.transport == "loopback" else "virtual"
    return options


def _other_clock(request: pytest.FixtureRequest) -> str | None:
    """A time patch the test brings itself (freezegun, time-machine), if one is visible."""
    if request.node.get_closest_marker("freeze_time"):  # pytest-freezegun's marker
        return "freezegun"
    function = getattr(request, "function", None)
    wrapper_file = getattr(getattr(function, "__code__", None), "co_filename", "")
    for name in ("freezegun", "time_machine"):  # their decorators wrap the test function
        if name in wrapper_file:
            return name
    freezegun = sys.modules.get("freezegun.api")
    if freezegun is not None and getattr(freezegun, "freeze_factories", None):
        from agentfakes.clocks.virtual import active_clock

        if active_clock() is None:
            return "freezegun"
    return None


def clock_for(request: pytest.FixtureRequest, options: MarkerOptions) -> Any:
    wants_virtual_fixture = "virtual_clock" in request.fixturenames
    if options.clock == "real" and wants_virtual_fixture:
        pytest.fail(
            f"{request.node.nodeid} asks for the virtual_clock fixture and for clock='real': "
            "one clock per test; drop one of them",
            pytrace=False,
        )
    if options.clock == "virtual" or (wants_virtual_fixture and isinstance(options.clock, str)):
        other = _other_clock(request)
        if other is not None:
            pytest.fail(
                f"{request.node.nodeid} patches time with {other} while fake_runs_server runs "
                "on its VirtualClock: one clock per test. Use the virtual_clock fixture "
                "(VirtualClock(start=...) sets the instant, clock.advance() moves it), or mark "
                "the test @pytest.mark.agentfakes(clock='real') to keep your own patch",
                pytrace=False,
            )
        return request.getfixturevalue("virtual_clock")
    if options.clock == "real":
        from agentfakes.clocks import RealClock

        return RealClock()
    return options.clock


def warn_real_waits(request: pytest.FixtureRequest, server: FakeRunsServer) -> None:
    """A real-clock test that sat through scripted time or an approval timeout hears of it."""
    for record in server.runs.values():
        moments = [e.timestamp for e in record.events] + [at for at, _ in record.status_history]
        spent = max(moments, default=record.created_at) - record.created_at
        if spent > REAL_WAIT_WARNING:
            request.node.warn(
                pytest.PytestWarning(
                    f"{request.node.nodeid}: run {record.run_id} made the test wait {spent:.1f} s "
                    "of real time on scripted waits or an approval timeout; fake_runs_server "
                    "runs on virtual time unless clock='real' (drop it, or "
                    "--agentfakes-clock=virtual)"
                )
            )
