"""The exceptions agentfakes raises at the user (never at the app under test's server).

`VerificationError` is the family `verify()` (and the pytest fixture's teardown) raises:
one message lists every problem; its subclasses say which kind when there is one kind.
"""

from __future__ import annotations


class AgentfakesError(Exception):
    """Base of every error agentfakes raises on its own account."""


class ScriptError(AgentfakesError, ValueError):
    """An illegal script or scenario: the message names the step and what is allowed."""


class OptionError(AgentfakesError, ValueError, TypeError):
    """A bad option (constructor argument, marker keyword, ini value, CLI flag): the message
    names it, says what is allowed and suggests the nearest valid name for a typo. A
    ValueError and a TypeError both, so either `except` catches it."""


class NoScriptError(AgentfakesError):
    """A run was started but no script was registered that could drive it."""


class UnmockedRequestError(AgentfakesError):
    """The app sent a request that the fake does not serve (another host, say)."""


class VerificationError(AgentfakesError, AssertionError):
    """What `verify()` found at the end of a test: every problem in one message.

    `problems` holds `(check, text)` pairs; check is one of "scripts", "faults",
    "approvals", "scenario_runs" or "no_script" (a run no script could drive)."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems: list[tuple[str, str]] = list(problems or [])


class UnusedScriptError(VerificationError):
    """Scripts were registered for runs that never happened (strict by default)."""


class UnfiredFaultError(VerificationError):
    """Faults were armed (not `optional=True`) that no request ever met."""


class PendingApprovalError(VerificationError):
    """Runs were still waiting for an approval nobody answered when the test ended."""


class UnusedScenarioRunError(VerificationError):
    """Runs of a scenario file were never replayed (see `agentfakes.recording`)."""


VERIFICATION_ERRORS: dict[str, type[VerificationError]] = {
    "scripts": UnusedScriptError,
    "faults": UnfiredFaultError,
    "approvals": PendingApprovalError,
    "scenario_runs": UnusedScenarioRunError,
}
"""The teardown checks by name (the names `checks=` opts out of) and the error each raises."""


def verification_error(problems: list[tuple[str, str]], title: str) -> VerificationError:
    """One error for all `problems`: the kind's subclass when they are all of one kind."""
    kinds = {check for check, _ in problems}
    cls = VERIFICATION_ERRORS.get(kinds.pop(), VerificationError) if len(kinds) == 1 else None
    message = title + "\n" + "\n".join(f"- {text}" for _, text in problems)
    return (cls or VerificationError)(message, problems)
