"""The drop-in conftest gives the fixtures when plugin autoloading is off."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DROP_IN = Path(__file__).resolve().parent.parent / "conftest_plugin" / "conftest.py"
TEST = """
def test_uses_fixtures(fake_runs_server, run_factory):
    assert run_factory.completed().status == "completed"
    assert fake_runs_server.url == "http://hermes.test"
"""


def test_without_autoload_the_fixtures_are_missing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyfile(TEST)
    result = pytester.runpytest_subprocess()
    result.stdout.fnmatch_lines(["*fixture 'fake_runs_server' not found*"])


def test_drop_in_conftest_loads_the_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeconftest(DROP_IN.read_text())
    pytester.makepyfile(TEST)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
