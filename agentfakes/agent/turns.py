"""The script vocabulary of FakeAgent: what the fake model does on each turn.

`reply`, `call_tool`, `call_tools` and `provider_error` build `ModelTurn`s; a turn may also
be a plain str or a function of the messages so far (`TurnFunction`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any, TypeAlias

from agentfakes.models import Message, Usage


class ProviderError(Exception):
    """A model provider failure, worded like Hermes' redacted provider errors.

    `ProviderError()` reads "HTTP 500: Internal Server Error"; `ProviderError(status=429)`
    "HTTP 429: Too Many Requests"; `ProviderError("kaboom")` is any text you like.
    """

    def __init__(self, message: str | None = None, *, status: int = 500) -> None:
        self.status = status
        if message is None:
            message = f"HTTP {status}: {_reason_phrase(status)}"
        super().__init__(message)

    @classmethod
    def invalid_key(cls, api_key: str = "sk-proj-test-0123456789") -> ProviderError:
        """The 401 a provider gives for a bad key, e.g. "HTTP 401: Invalid key sk-pro...6789"."""
        return cls(f"HTTP 401: Invalid key {redact_key(api_key)}", status=401)


def redact_key(secret: str) -> str:
    """Mask a secret the way Hermes shows it in errors: first 6 and last 4 characters."""
    if len(secret) < 18:
        return "***"
    return f"{secret[:6]}...{secret[-4:]}"


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@dataclass(frozen=True)
class ToolCallSpec:
    """One tool call the fake model requests; `id` defaults to call_1, call_2, … per agent."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"a tool call needs a non-empty str name, got {self.name!r}")
        if not isinstance(self.arguments, Mapping):
            raise TypeError(
                f"tool call {self.name!r}: arguments must be a mapping, "
                f"got {type(self.arguments).__name__}"
            )
        bad_keys = [key for key in self.arguments if not isinstance(key, str)]
        if bad_keys:
            raise TypeError(f"tool call {self.name!r}: argument names must be str, got {bad_keys}")
        if self.id is not None and (not isinstance(self.id, str) or not self.id):
            raise TypeError(f"tool call {self.name!r}: id must be a non-empty str or None")


@dataclass(frozen=True)
class ModelTurn:
    """What the fake model does on one turn: stream text, request tools, or fail.

    `deltas` sets how `text` is streamed (they must join to `text`); by default it is split
    at word boundaries. With `raises`, the text (if any) streams and then the exception is
    raised, as a provider whose stream breaks would.
    """

    text: str | None = None
    tool_calls: Sequence[ToolCallSpec] = ()
    usage: Usage = field(default_factory=Usage)
    raises: BaseException | None = None
    deltas: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if self.text is not None and not isinstance(self.text, str):
            raise TypeError(f"ModelTurn text must be a str or None, got {type(self.text).__name__}")
        calls = tuple(self.tool_calls)
        for call in calls:
            if not isinstance(call, ToolCallSpec):
                raise TypeError(
                    f"ModelTurn tool_calls must be ToolCallSpec objects, got {call!r}; "
                    'e.g. ToolCallSpec("search", {"q": "x"})'
                )
        object.__setattr__(self, "tool_calls", calls)
        if not isinstance(self.usage, Usage):
            raise TypeError(f"ModelTurn usage must be a Usage, got {type(self.usage).__name__}")
        if self.raises is not None:
            if not isinstance(self.raises, BaseException):
                raise TypeError(
                    f"ModelTurn raises must be an exception instance, got {self.raises!r}; "
                    "e.g. ProviderError() rather than ProviderError"
                )
            if calls:
                raise ValueError("a ModelTurn that raises cannot also request tool calls")
        if self.deltas is not None:
            deltas = tuple(self.deltas)
            if not all(isinstance(delta, str) for delta in deltas):
                raise TypeError("ModelTurn deltas must all be str")
            if "".join(deltas) != (self.text or ""):
                raise ValueError(
                    f"ModelTurn deltas {list(deltas)!r} do not join to its text {self.text!r}"
                )
            object.__setattr__(self, "deltas", deltas)

    def with_text(self, text: str) -> ModelTurn:
        """This turn, also saying `text` (e.g. "Let me search" before a tool call)."""
        return replace(self, text=text, deltas=None)

    def with_usage(self, input_tokens: int = 0, output_tokens: int = 0) -> ModelTurn:
        """This turn, reporting the given token usage."""
        return replace(self, usage=Usage(input_tokens=input_tokens, output_tokens=output_tokens))

    def stream(self) -> tuple[str, ...]:
        """The text_delta chunks this turn streams."""
        if self.deltas is not None:
            return tuple(self.deltas)
        return tuple(re.findall(r"^\s+|\S+\s*", self.text or ""))


TurnResult: TypeAlias = ModelTurn | str
TurnFunction: TypeAlias = Callable[[list[Message]], TurnResult | Awaitable[TurnResult]]
"""A dynamic turn: gets a copy of the messages so far (system first) and returns the turn."""
Turn: TypeAlias = ModelTurn | str | TurnFunction
"""What `turns=` holds: a ModelTurn, a str (short for `reply(str)`), or a TurnFunction."""


def reply(
    text: str, *, usage: Usage | None = None, deltas: Sequence[str] | None = None
) -> ModelTurn:
    """A turn that answers with `text` and calls no tools, so the loop completes."""
    return ModelTurn(text=text, usage=usage or Usage(), deltas=deltas)


def call_tool(name: str, /, **arguments: Any) -> ModelTurn:
    """A turn that calls one tool with keyword `arguments`, e.g. call_tool("search", q="x")."""
    return ModelTurn(tool_calls=(ToolCallSpec(name, arguments),))


def call_tools(
    *calls: ToolCallSpec, text: str | None = None, usage: Usage | None = None
) -> ModelTurn:
    """A turn that calls several tools at once, optionally saying `text` first."""
    if not calls:
        raise ValueError("call_tools() needs at least one ToolCallSpec")
    return ModelTurn(text=text, tool_calls=calls, usage=usage or Usage())


def provider_error(exc: BaseException | None = None, *, text: str | None = None) -> ModelTurn:
    """A turn whose provider call fails (default: "HTTP 500: Internal Server Error")."""
    return ModelTurn(text=text, raises=exc if exc is not None else ProviderError())


def check_turn(turn: object, *, where: str) -> None:
    """A script entry must be a ModelTurn, a str or a function; say where a wrong one sat."""
    if isinstance(turn, ModelTurn | str) or callable(turn):
        return
    raise TypeError(
        f"{where} must be a ModelTurn (reply(), call_tool(), call_tools(), "
        "provider_error()), a str, or a function of the messages; "
        f"got {type(turn).__name__} {turn!r}"
    )
