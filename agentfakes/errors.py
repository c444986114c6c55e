"""The exceptions agentfakes raises at the user (never at the app under test's server)."""

from __future__ import annotations


class AgentfakesError(Exception):
    """Base of every error agentfakes raises on its own account."""


class ScriptError(AgentfakesError, ValueError):
    """An illegal script or scenario: the message names the step and what is allowed."""


class NoScriptError(AgentfakesError):
    """A run was started but no script was registered that could drive it."""


class UnmockedRequestError(AgentfakesError):
    """The app sent a request that the fake does not serve (another host, say)."""


class UnusedScriptError(AgentfakesError, AssertionError):
    """Scripts were registered for runs that never happened (strict by default)."""
