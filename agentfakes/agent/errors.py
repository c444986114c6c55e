"""What FakeAgent raises at the test, and which exceptions it never turns into a Result."""

from __future__ import annotations


class FakeAgentError(RuntimeError):
    """A mistake in how the test scripted or drove the fake: always raised, never a Result."""


class TurnsExhaustedError(FakeAgentError):
    """The loop needed another model turn than the script holds (no silent default reply)."""


# Like RubyPi's Loop::PROGRAMMING_ERRORS (NoMethodError, NameError, ArgumentError,
# TypeError): bugs, re-raised instead of becoming an error Result. AssertionError is how a
# test fails, so it is never swallowed anywhere (loop, tools or event handlers).
NEVER_SWALLOWED: tuple[type[BaseException], ...] = (AssertionError, FakeAgentError)
PROGRAMMING_ERRORS: tuple[type[BaseException], ...] = (
    TypeError,
    NameError,
    AttributeError,
    *NEVER_SWALLOWED,
)
