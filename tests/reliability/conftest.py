"""The reliability suite's figures, printed once at the end of the session."""

from __future__ import annotations

import pytest
from reliability_support import PROFILE, STATS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not STATS:
        return
    terminalreporter.section(f"agentfakes reliability ({PROFILE} profile)")
    for name, value in sorted(STATS.items()):
        terminalreporter.write_line(f"{name}: {value}")
