"""Factories: realistic, seeded Runs, events, Results, tool calls and messages for tests.

Each factory is a small declarative class over one model, in the style of polyfactory:

    class RunUsageFactory(Factory[RunUsage]):
        __model__ = RunUsage
        input_tokens = Lazy(lambda _: rng().randint(120, 24_000))
        output_tokens = Lazy(lambda _: rng().randint(8, 3_200))
        total_tokens = Lazy(lambda v: v["input_tokens"] + v["output_tokens"])

A class attribute named like a model field is that field's default: a plain value, or a
`Lazy` computed at build time from the values resolved so far (every override, and every
declaration above it). `Param` declares a knob that is not a model field (`tools=3`).
`traits` are named presets that replace declarations. Randomness comes from `seeding`, so
`agentfakes.seed(n)` makes every factory reproducible; timestamps come from `time.time()`,
so freezegun (or a VirtualClock) controls them.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel

from agentfakes.models import (
    ApprovalRequest,
    ApprovalResponded,
    Message,
    MessageDelta,
    ReasoningAvailable,
    Result,
    ResultError,
    Run,
    RunCancelled,
    RunCompleted,
    RunEvent,
    RunFailed,
    RunStatus,
    RunUsage,
    StopReason,
    ToolCall,
    ToolCompleted,
    ToolResult,
    ToolStarted,
    Usage,
    carries_iteration_limit_notice,
    with_iteration_limit_notice,
)
from agentfakes.seeding import faker, new_call_id, new_run_id, rng

__all__ = [
    "Factory",
    "Lazy",
    "MessageFactory",
    "Param",
    "ResultFactory",
    "RunEventFactory",
    "RunFactory",
    "RunUsageFactory",
    "ToolCallFactory",
]

T = TypeVar("T", bound=BaseModel)
Values = dict[str, Any]
"""The values resolved so far while one object is being built, overrides included."""


# ---------------------------------------------------------------- the declarative core


class Lazy:
    """A field default computed at build time, so it can depend on the fields before it."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[Values], Any]) -> None:
        self.make = make


class Param:
    """A factory-only knob (e.g. `tools=3`): overridable and seen by `Lazy`, not a model field."""

    __slots__ = ("default",)

    def __init__(self, default: Any) -> None:
        self.default = default


def _resolve(declaration: Any, values: Values) -> Any:
    """A declaration's value: `Lazy` is called, plain values are copied (no shared lists)."""
    if isinstance(declaration, Lazy):
        return declaration.make(values)
    return copy.deepcopy(declaration)


def _trait_names(trait: str | Sequence[str] | None) -> list[str]:
    if trait is None:
        return []
    if isinstance(trait, str):
        return [trait]
    return list(trait)


class Factory(Generic[T]):
    """Base of every factory: `build`, `build_batch`, traits, and strict override names."""

    __model__: type[T]
    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    _declarations: ClassVar[dict[str, Any]] = {}
    _params: ClassVar[frozenset[str]] = frozenset()
    _label: ClassVar[str] = "Factory.build()"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Collect the declarations once, in class order, and check the traits' field names."""
        super().__init_subclass__(**kwargs)
        if not hasattr(cls, "__model__"):
            return  # an abstract helper base (e.g. the event envelope), not a real factory
        fields = cls.__model__.model_fields
        params = {
            name
            for klass in cls.__mro__
            for name, value in vars(klass).items()
            if isinstance(value, Param)
        }
        declarations: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if name in fields or name in params:
                    declarations[name] = value.default if isinstance(value, Param) else value
        cls._declarations = declarations
        cls._params = frozenset(params)
        if "_label" not in vars(cls):
            cls._label = f"{cls.__name__}.build()"
        for trait, presets in cls.traits.items():
            unknown = set(presets) - cls._allowed_names()
            if unknown:
                raise TypeError(
                    f"{cls.__name__} trait {trait!r} sets unknown fields {sorted(unknown)}"
                )

    @classmethod
    def _allowed_names(cls) -> set[str]:
        return set(cls.__model__.model_fields) | cls._params

    @classmethod
    def _reject_unknown(cls, overrides: Mapping[str, Any]) -> None:
        """Fail on a misspelt override, naming it and every name that would have worked."""
        allowed = cls._allowed_names()
        for name in overrides:
            if name in allowed:
                continue
            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(
                f"{cls._label} got an unknown field {name!r}{hint}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )

    @classmethod
    def _trait(cls, name: str) -> Mapping[str, Any]:
        if name not in cls.traits:
            known = ", ".join(cls.traits) or "none"
            raise ValueError(f"{cls.__name__} has no trait {name!r}; traits: {known}")
        return cls.traits[name]

    @classmethod
    def build(cls, trait: str | Sequence[str] | None = None, **overrides: Any) -> T:
        """One object: declarations, then the named trait(s), then your overrides win."""
        cls._reject_unknown(overrides)
        declarations = dict(cls._declarations)
        for name in _trait_names(trait):
            declarations.update(cls._trait(name))
        values: Values = dict(overrides)
        for name, declaration in declarations.items():
            if name not in values:
                values[name] = _resolve(declaration, values)
        fields = {name: value for name, value in values.items() if name not in cls._params}
        return cls.__model__(**fields)

    @classmethod
    def build_batch(
        cls, n: int, trait: str | Sequence[str] | None = None, **overrides: Any
    ) -> list[T]:
        """`n` independent objects, each built like `build(trait, **overrides)`."""
        if n < 0:
            raise ValueError(f"build_batch needs n >= 0, got {n}")
        return [cls.build(trait, **overrides) for _ in range(n)]


# ---------------------------------------------------------------- realistic content

_PROMPTS = (
    "Summarize {path} in three bullet points.",
    "Why does `{test}` fail on main? Fix it if the fix is small.",
    "List the unfinished tasks under {folder} and group them by module.",
    "Draft release notes for version {version}.",
    "Check whether {url} is up and tell me the status code.",
    "Rename `{word}` to `{other}` across the repository and run the tests.",
    "What changed in {path} since the last release?",
    "Write a short reply to {name} about the {word} migration.",
)

_ANSWERS = (
    "Done. {s1}",
    "{s1} {s2}",
    "Here is the summary:\n\n- {s1}\n- {s2}\n- {s3}",
    "I checked {path}. {s1} {s2}",
    "All {n} tests pass now. {s1}",
)


def _fill(template: str) -> str:
    """A template filled with faker content (every key is drawn, so the rng use is fixed)."""
    fake = faker()
    return template.format(
        path=fake.file_path(depth=rng().randint(1, 3), extension="py", absolute=False),
        folder=fake.file_path(depth=2, absolute=False).rsplit("/", 1)[0] + "/",
        test=f"test_{fake.word()}_{fake.word()}",
        version=fake.numerify("#.%.#"),
        url=fake.url(),
        word=fake.word(),
        other=fake.word(),
        name=fake.first_name(),
        n=rng().randint(3, 240),
        s1=fake.sentence(nb_words=rng().randint(5, 12)),
        s2=fake.sentence(nb_words=rng().randint(5, 12)),
        s3=fake.sentence(nb_words=rng().randint(4, 9)),
    )


def _prompt() -> str:
    return _fill(rng().choice(_PROMPTS))


def _answer() -> str:
    return _fill(rng().choice(_ANSWERS))


def _truncated_output() -> str:
    """Hermes' output when the iteration limit ends a run: summary plus notice (spec §9.4)."""
    return with_iteration_limit_notice(f"Progress so far: {faker().sentence(nb_words=10)}")


def _redacted_key() -> str:
    """An API key as Hermes redacts it in errors: first 6 chars, `...`, last 4."""
    prefix = rng().choice(("sk-pro", "sk-ant", "sk-or-", "sk-123"))
    tail = "".join(rng().choice("0123456789abcdefABCDEF") for _ in range(4))
    return f"{prefix}...{tail}"


# (exception class an SDK would raise, the redacted text Hermes reports)
_PROVIDER_ERRORS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("InternalServerError", lambda: "HTTP 500: Internal Server Error"),
    ("AuthenticationError", lambda: f"HTTP 401: Invalid key {_redacted_key()}"),
    ("RateLimitError", lambda: "HTTP 429: Rate limit reached, retry in 20s"),
    ("InternalServerError", lambda: "HTTP 503: Service Unavailable"),
    ("InternalServerError", lambda: "HTTP 502: Bad Gateway"),
    (
        "BadRequestError",
        lambda: f"HTTP 400: maximum context length is {rng().choice((32768, 131072))} tokens",
    ),
    ("APIConnectionError", lambda: "Connection error."),
    ("APITimeoutError", lambda: "Request timed out."),
)


def _provider_error() -> tuple[str, str]:
    """(class name, message) of a provider failure like the ones Hermes reports (spec §3)."""
    class_name, message = rng().choice(_PROVIDER_ERRORS)
    return class_name, message()


@dataclass(frozen=True)
class _Tool:
    """How one Hermes tool's calls look: arguments, the event preview, a result, an error."""

    name: str
    arguments: Callable[[], dict[str, Any]]
    preview: Callable[[dict[str, Any]], str]
    value: Callable[[dict[str, Any]], Any]
    error: Callable[[dict[str, Any]], str]


def _shell_command() -> str:
    fake = faker()
    path = fake.file_path(depth=2, extension="py", absolute=False)
    return rng().choice(
        (
            "ls -la",
            "git status --short",
            f"pytest -q {path}",
            f"grep -rn '{fake.word()}' src/",
            f"cat {path}",
            "make test",
            f"du -sh {path.rsplit('/', 1)[0]}",
        )
    )


def _lines(n: int) -> str:
    return "\n".join(faker().sentence(nb_words=rng().randint(3, 8)) for _ in range(n))


_TOOLS: dict[str, _Tool] = {
    tool.name: tool
    for tool in (
        _Tool(
            "terminal",
            lambda: {"command": _shell_command()},
            lambda a: str(a["command"]),
            lambda a: {"output": _lines(rng().randint(1, 4)), "exit_code": 0},
            lambda a: f"Command exited with status {rng().choice((1, 2, 127))}",
        ),
        _Tool(
            "read_file",
            lambda: {"path": faker().file_path(depth=rng().randint(1, 3), absolute=False)},
            lambda a: str(a["path"]),
            lambda a: {
                "content": _lines(rng().randint(2, 6)),
                "total_lines": rng().randint(8, 600),
            },
            lambda a: f"File not found: {a['path']}",
        ),
        _Tool(
            "write_file",
            lambda: {
                "path": faker().file_path(depth=2, extension="md", absolute=False),
                "content": _lines(3),
            },
            lambda a: str(a["path"]),
            lambda a: {"bytes_written": len(str(a["content"]).encode())},
            lambda a: f"Permission denied: {a['path']}",
        ),
        _Tool(
            "search_files",
            lambda: {"pattern": faker().word(), "path": "."},
            lambda a: str(a["pattern"]),
            lambda a: {
                "matches": [
                    f"{faker().file_path(depth=2, extension='py', absolute=False)}:"
                    f"{rng().randint(1, 400)}: {a['pattern']}"
                    for _ in range(rng().randint(1, 4))
                ]
            },
            lambda a: f"Invalid regex: {a['pattern']}(",
        ),
        _Tool(
            "web_search",
            lambda: {"query": " ".join(faker().words(rng().randint(2, 5)))},
            lambda a: str(a["query"]),
            lambda a: {
                "results": [
                    {"title": faker().sentence(nb_words=5), "url": faker().url()}
                    for _ in range(rng().randint(1, 3))
                ]
            },
            lambda a: "Search backend timed out after 30s",
        ),
        _Tool(
            "web_extract",
            lambda: {"urls": [faker().url()]},
            lambda a: str(a["urls"][0]),
            lambda a: {"content": faker().paragraph(nb_sentences=3)},
            lambda a: f"Failed to fetch {a['urls'][0]}: HTTP 403",
        ),
        _Tool(
            "execute_code",
            lambda: {"code": f"print(sum(range({rng().randint(2, 1000)})))"},
            lambda a: str(a["code"]).splitlines()[0],
            lambda a: {"stdout": f"{rng().randint(1, 500_000)}\n"},
            lambda a: "NameError: name 'data' is not defined",
        ),
    )
}

_GENERIC_TOOL = _Tool(
    "tool",
    lambda: {"input": faker().word()},
    lambda a: json.dumps(a)[:60],
    lambda a: {"ok": True},
    lambda a: "tool reported an error",
)


def _tool(name: str) -> _Tool:
    """The catalogue entry for a tool name; an unknown (custom) tool gets generic content."""
    return _TOOLS.get(name, _GENERIC_TOOL)


def _tool_name() -> str:
    return rng().choice(tuple(_TOOLS))


# Commands Hermes' terminal guard gates, with the descriptions of what they match (spec §5.4).
_DANGEROUS_COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("rm -rf /tmp/{word}-build", ("delete in root path", "recursive delete")),
    ("chmod -R 777 /var/www/{word}", ("world/other-writable permissions",)),
    ("chown -R root /srv/{word}", ("recursive chown to root",)),
    ("mkfs.ext4 /dev/sdb1", ("format filesystem",)),
    ("dd if=/dev/zero of=/dev/sdb bs=1M", ("disk copy",)),
    ("kill -9 -1", ("kill all processes",)),
)


def _gated_command() -> dict[str, Any]:
    """The approval keys of a terminal command that Hermes' guard stops (spec §5.4)."""
    template, findings = rng().choice(_DANGEROUS_COMMANDS)
    return {
        "command": template.format(word=faker().word()),
        "pattern_key": findings[0],
        "pattern_keys": list(findings),
        "description": "; ".join(findings),
        "allow_permanent": True,
    }


# ---------------------------------------------------------------- Runs and usage


class RunUsageFactory(Factory[RunUsage]):
    """A completed run's token counters; total is always input + output."""

    __model__ = RunUsage
    input_tokens = Lazy(lambda _: rng().randint(120, 24_000))
    output_tokens = Lazy(lambda _: rng().randint(8, 3_200))
    total_tokens = Lazy(lambda v: v["input_tokens"] + v["output_tokens"])
    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        # spec §9.8: a provider that reports no usage leaves the counters at 0
        "empty": {"input_tokens": 0, "output_tokens": 0},
    }


_LAST_EVENT: dict[RunStatus, str | None] = {
    RunStatus.QUEUED: None,
    RunStatus.WAITING_FOR_APPROVAL: "approval.request",
    RunStatus.STOPPING: "run.stopping",
    RunStatus.COMPLETED: "run.completed",
    RunStatus.FAILED: "run.failed",
    RunStatus.CANCELLED: "run.cancelled",
}
# a running run was just created (no last_event yet, spec §3), or is between tool events
_RUNNING_LAST_EVENTS = (None, "tool.started", "tool.completed", "reasoning.available")


def _last_event(status: RunStatus) -> str | None:
    """The `last_event` a run in this status shows (spec §3, §4, §6.1, §7)."""
    if status is RunStatus.RUNNING:
        return rng().choice(_RUNNING_LAST_EVENTS)
    return _LAST_EVENT[status]


def _elapsed(status: RunStatus) -> float:
    """Seconds between a run's creation and its last update, plausible for its status."""
    if status is RunStatus.QUEUED:
        return 0.0  # queued lasts well under a millisecond (spec §4)
    if status.is_terminal:
        return round(rng().uniform(0.4, 90.0), 6)
    return round(rng().uniform(0.05, 30.0), 6)


def _status(values: Values) -> RunStatus:
    return RunStatus(values["status"])


def _run_updated_at(values: Values) -> float:
    if "created_at" in values:
        return float(values["created_at"]) + float(values["elapsed"])
    return time.time()


class RunFactory(Factory[Run]):
    """A Run as `GET /v1/runs/{id}` returns it, with fields that fit its status (spec §3)."""

    __model__ = Run
    run_id = Lazy(lambda _: new_run_id())
    status = RunStatus.COMPLETED
    elapsed = Param(Lazy(lambda v: _elapsed(_status(v))))
    updated_at = Lazy(_run_updated_at)
    created_at = Lazy(lambda v: float(v["updated_at"]) - float(v["elapsed"]))
    last_event = Lazy(lambda v: _last_event(_status(v)))
    output = Lazy(lambda v: _answer() if _status(v) is RunStatus.COMPLETED else None)
    usage = Lazy(lambda v: RunUsageFactory.build() if _status(v) is RunStatus.COMPLETED else None)
    error = Lazy(lambda v: _provider_error()[1] if _status(v) is RunStatus.FAILED else None)

    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        **{status.value: {"status": status} for status in RunStatus},
        # a completed run whose agent ran out of tool iterations (spec §4, §9.4)
        "truncated": {"status": RunStatus.COMPLETED, "output": Lazy(lambda _: _truncated_output())},
    }

    @classmethod
    def queued(cls, **overrides: Any) -> Run:
        """A run before its task's first step (rarely observable, spec §4)."""
        return cls.build("queued", **overrides)

    @classmethod
    def running(cls, **overrides: Any) -> Run:
        """A run whose agent is working."""
        return cls.build("running", **overrides)

    @classmethod
    def waiting_for_approval(cls, **overrides: Any) -> Run:
        """A run blocked on an approval gate (last_event `approval.request`)."""
        return cls.build("waiting_for_approval", **overrides)

    @classmethod
    def stopping(cls, **overrides: Any) -> Run:
        """A run after POST /stop, before the agent returned (last_event `run.stopping`)."""
        return cls.build("stopping", **overrides)

    @classmethod
    def completed(cls, **overrides: Any) -> Run:
        """A finished run with output and usage."""
        return cls.build("completed", **overrides)

    @classmethod
    def failed(cls, **overrides: Any) -> Run:
        """A run that failed: `error` text, no output or usage."""
        return cls.build("failed", **overrides)

    @classmethod
    def cancelled(cls, **overrides: Any) -> Run:
        """A stopped run: no output, usage or error."""
        return cls.build("cancelled", **overrides)

    @classmethod
    def truncated(cls, **overrides: Any) -> Run:
        """A completed run whose output carries Hermes' iteration-limit notice."""
        return cls.build("truncated", **overrides)


# ---------------------------------------------------------------- tool calls, messages, Results


def _tool_result(values: Values) -> ToolResult:
    tool = _tool(values["tool_name"])
    arguments: dict[str, Any] = values["arguments"]
    success = bool(values["success"])
    return ToolResult(
        name=values["tool_name"],
        success=success,
        value=tool.value(arguments) if success else None,
        error=None if success else tool.error(arguments),
        duration_ms=round(rng().uniform(4.0, 4_000.0), 1),
    )


class ToolCallFactory(Factory[ToolCall]):
    """One tool call with plausible arguments and a result (success by default)."""

    __model__ = ToolCall
    tool_name = Lazy(lambda _: _tool_name())
    arguments = Lazy(lambda v: _tool(v["tool_name"]).arguments())
    success = Param(True)
    result = Lazy(_tool_result)

    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "succeeded": {"success": True},
        "failed": {"success": False},
    }


def _openai_tool_call(call: ToolCall, call_id: str) -> dict[str, Any]:
    """An assistant message's `tool_calls` entry, as OpenAI-compatible APIs shape it."""
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": call.tool_name, "arguments": json.dumps(call.arguments)},
    }


def _tool_output(call: ToolCall) -> str:
    """What the model reads back from a tool: its value as JSON, or its error."""
    if call.result.success:
        return json.dumps(call.result.value)
    return json.dumps({"error": call.result.error})


def _message_content(values: Values) -> str | None:
    role = values["role"]
    if role == "user":
        return _prompt()
    if role == "system":
        return "You are Hermes, a helpful agent. Use tools when they help; be concise."
    if role == "tool":
        name = values["name"] or _tool_name()
        call = ToolCallFactory.build(tool_name=name)
        return _tool_output(call)
    if values["tool_calls"]:
        return None  # an assistant turn that only calls tools carries no text
    return _answer()


class MessageFactory(Factory[Message]):
    """One conversation message; the content fits the role (tool messages answer a call id)."""

    __model__ = Message
    role = "user"
    tool_call_id = Lazy(lambda v: new_call_id() if v["role"] == "tool" else None)
    name = Lazy(lambda v: _tool_name() if v["role"] == "tool" else None)
    tool_calls = None
    content = Lazy(_message_content)

    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "user": {"role": "user"},
        "assistant": {"role": "assistant"},
        "system": {"role": "system"},
        "tool": {"role": "tool"},
        "tool_call": {
            "role": "assistant",
            "tool_calls": Lazy(
                lambda _: [_openai_tool_call(ToolCallFactory.build(), new_call_id())]
            ),
        },
    }


def _stop_reason(values: Values) -> StopReason:
    return StopReason(values["stop_reason"])


def _result_turns(values: Values) -> int:
    """Turns as RubyPi counts them, and as `Result.from_run` maps a run."""
    stop = _stop_reason(values)
    tool_turns = len(values["tool_calls_made"])
    if stop is StopReason.MAX_ITERATIONS:
        return int(values["max_iterations"])
    if stop is StopReason.ERROR:
        return tool_turns
    return tool_turns + 1


def _result_content(values: Values) -> str | None:
    stop = _stop_reason(values)
    if stop is StopReason.ERROR:
        return None
    if stop is StopReason.MAX_ITERATIONS:
        return _truncated_output()
    return _answer()


def _result_error(values: Values) -> ResultError | None:
    if _stop_reason(values) is not StopReason.ERROR:
        return None
    class_name, message = _provider_error()
    return ResultError(class_name=class_name, message=message)


def _conversation(values: Values) -> list[Message]:
    """The messages a loop accumulates: prompt, each call and its output, the final answer."""
    messages = [Message(role="user", content=values["prompt"])]
    for call in values["tool_calls_made"]:
        call_id = new_call_id()
        messages.append(Message(role="assistant", tool_calls=[_openai_tool_call(call, call_id)]))
        messages.append(
            Message(
                role="tool", tool_call_id=call_id, name=call.tool_name, content=_tool_output(call)
            )
        )
    if values["content"] is not None:
        messages.append(Message(role="assistant", content=values["content"]))
    return messages


def _result_usage(values: Values) -> Usage:
    """Tokens summed over the turns: the prompt grows each turn, so input dominates."""
    turns = max(int(values["turns"]), 1)
    return Usage(
        input_tokens=sum(rng().randint(300, 3_000) for _ in range(turns)),
        output_tokens=sum(rng().randint(10, 600) for _ in range(turns)),
    )


class ResultFactory(Factory[Result]):
    """An agent loop's Result with RubyPi's semantics; traits for every stop_reason."""

    __model__ = Result
    stop_reason = StopReason.COMPLETE
    max_iterations = Param(10)
    tools = Param(0)
    prompt = Param(Lazy(lambda _: _prompt()))
    tool_calls_made = Lazy(lambda v: ToolCallFactory.build_batch(int(v["tools"])))
    turns = Lazy(_result_turns)
    content = Lazy(_result_content)
    error = Lazy(_result_error)
    messages = Lazy(_conversation)
    usage = Lazy(_result_usage)

    _truncated: ClassVar[Mapping[str, Any]] = {
        "stop_reason": StopReason.MAX_ITERATIONS,
        "tools": Lazy(lambda v: v["max_iterations"]),  # every turn called a tool
    }
    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "complete": {"stop_reason": StopReason.COMPLETE},
        "max_iterations": _truncated,
        "truncated": _truncated,
        "error": {"stop_reason": StopReason.ERROR},
        "with_tools": {"tools": Lazy(lambda _: rng().randint(1, 4))},
    }


# ---------------------------------------------------------------- single events


class _EnvelopeFactory(Factory[T]):
    """The envelope every event shares: a run id and a `time.time()` timestamp (spec §5.2)."""

    run_id = Lazy(lambda _: new_run_id())
    timestamp = Lazy(lambda _: time.time())


def _started_preview(values: Values) -> str:
    tool = _tool(values["tool"])
    return tool.preview(tool.arguments())


class _MessageDeltaFactory(_EnvelopeFactory[MessageDelta]):
    __model__ = MessageDelta
    _label = "RunEventFactory.build('message.delta')"
    delta = Lazy(lambda _: " " + faker().word())


class _ReasoningAvailableFactory(_EnvelopeFactory[ReasoningAvailable]):
    __model__ = ReasoningAvailable
    _label = "RunEventFactory.build('reasoning.available')"
    text = Lazy(lambda _: faker().sentence(nb_words=12))


class _ToolStartedFactory(_EnvelopeFactory[ToolStarted]):
    __model__ = ToolStarted
    _label = "RunEventFactory.build('tool.started')"
    tool = Lazy(lambda _: _tool_name())
    preview = Lazy(_started_preview)


class _ToolCompletedFactory(_EnvelopeFactory[ToolCompleted]):
    __model__ = ToolCompleted
    _label = "RunEventFactory.build('tool.completed')"
    tool = Lazy(lambda _: _tool_name())
    duration = Lazy(lambda _: rng().uniform(0.01, 4.0))
    error = False


class _ApprovalRequestFactory(_EnvelopeFactory[ApprovalRequest]):
    __model__ = ApprovalRequest
    _label = "RunEventFactory.build('approval.request')"
    gate = Param(Lazy(lambda _: _gated_command()))
    command = Lazy(lambda v: v["gate"]["command"])
    pattern_key = Lazy(lambda v: v["gate"]["pattern_key"])
    pattern_keys = Lazy(lambda v: v["gate"]["pattern_keys"])
    description = Lazy(lambda v: v["gate"]["description"])
    allow_permanent = True


class _ApprovalRespondedFactory(_EnvelopeFactory[ApprovalResponded]):
    __model__ = ApprovalResponded
    _label = "RunEventFactory.build('approval.responded')"
    choice = "once"
    resolved = 1


class _RunCompletedFactory(_EnvelopeFactory[RunCompleted]):
    __model__ = RunCompleted
    _label = "RunEventFactory.build('run.completed')"
    output = Lazy(lambda _: _answer())
    usage = Lazy(lambda _: RunUsageFactory.build())


class _RunFailedFactory(_EnvelopeFactory[RunFailed]):
    __model__ = RunFailed
    _label = "RunEventFactory.build('run.failed')"
    error = Lazy(lambda _: _provider_error()[1])


class _RunCancelledFactory(_EnvelopeFactory[RunCancelled]):
    __model__ = RunCancelled
    _label = "RunEventFactory.build('run.cancelled')"


_EVENT_FACTORIES: dict[str, type[Factory[Any]]] = {
    "message.delta": _MessageDeltaFactory,
    "reasoning.available": _ReasoningAvailableFactory,
    "tool.started": _ToolStartedFactory,
    "tool.completed": _ToolCompletedFactory,
    "approval.request": _ApprovalRequestFactory,
    "approval.responded": _ApprovalRespondedFactory,
    "run.completed": _RunCompletedFactory,
    "run.failed": _RunFailedFactory,
    "run.cancelled": _RunCancelledFactory,
}


# ---------------------------------------------------------------- event sequences

Outcome = Literal["completed", "failed", "cancelled", "max_iterations"]
OUTCOMES: tuple[Outcome, ...] = ("completed", "failed", "cancelled", "max_iterations")
APPROVALS = ("once", "session", "always", "deny", "timeout")
"""How an approval gate ends: a POST with that choice, or `timeout` (no response, spec §7)."""


class _Unset(Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET


@dataclass
class _Step:
    """One planned event: its name, seconds after the previous event, and its payload."""

    event: str
    gap: float
    payload: dict[str, Any] = field(default_factory=dict)
    started_index: int | None = None  # tool.completed: where its tool.started is


def _gap(low: float, high: float) -> float:
    return rng().uniform(low, high)


def _word_chunks(text: str) -> list[str]:
    """Text cut like streamed tokens: one or two words each, whitespace kept, nothing lost."""
    words = re.findall(r"\s*\S+|\s+$", text)
    chunks: list[str] = []
    while words:
        size = min(rng().randint(1, 2), len(words))
        chunks.append("".join(words[:size]))
        del words[:size]
    return chunks


def _split_deltas(text: str, deltas: int | None) -> list[str]:
    """`text` as message.delta chunks that concatenate back to it exactly."""
    if deltas is None:
        return _word_chunks(text)
    if not 1 <= deltas <= len(text):
        raise ValueError(
            f"deltas must be between 1 and len(output)={len(text)} for a completed run, "
            f"got {deltas}"
        )
    cuts = sorted(rng().sample(range(1, len(text)), deltas - 1))
    bounds = [0, *cuts, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds)]


def _partial_deltas(count: int) -> list[str]:
    """The first `count` chunks of an answer cut off mid-stream (stop or failure)."""
    chunks: list[str] = []
    while len(chunks) < count:
        chunks += _word_chunks((" " if chunks else "") + faker().sentence(nb_words=10))
    return chunks[:count]


def _plan_tools(tools: int, approval: str | None) -> list[_Step]:
    """Each tool call's events; with `approval`, the first call is the gated one."""
    steps: list[_Step] = []
    for index in range(tools):
        if approval is not None and index == 0:
            steps += _gated_tool(approval, started=len(steps))
        else:
            steps += _plain_tool(started=len(steps))
    return steps


def _plain_tool(started: int) -> list[_Step]:
    """tool.started then tool.completed (spec §5.3, contract case 26)."""
    tool = _tool_name()
    preview = _tool(tool).preview(_tool(tool).arguments())
    return [
        _Step("tool.started", _gap(0.3, 2.5), {"tool": tool, "preview": preview}),
        _Step(
            "tool.completed",
            _gap(0.01, 3.0),
            {"tool": tool, "error": False},
            started_index=started,
        ),
    ]


def _gated_tool(approval: str, started: int) -> list[_Step]:
    """A terminal command the guard stops: the approval gate fires inside it (spec §5.5)."""
    gate = _gated_command()
    steps = [
        _Step("tool.started", _gap(0.3, 2.5), {"tool": "terminal", "preview": gate["command"]}),
        _Step("approval.request", _gap(0.001, 0.05), gate),
    ]
    if approval == "timeout":
        # spec §7: a timeout sends no event; the tool is BLOCKED once the wait runs out
        completed_gap, failed = _gap(5.0, 60.0), True
    else:
        steps.append(
            _Step("approval.responded", _gap(1.0, 30.0), {"choice": approval, "resolved": 1})
        )
        # spec §5.5: a denied tool reports error: true, an approved one runs normally
        completed_gap, failed = _gap(0.005, 0.5), approval == "deny"
    steps.append(
        _Step(
            "tool.completed",
            completed_gap,
            {"tool": "terminal", "error": failed},
            started_index=started,
        )
    )
    return steps


def _delta_steps(chunks: list[str], first_gap: float) -> list[_Step]:
    return [
        _Step("message.delta", first_gap if i == 0 else _gap(0.005, 0.08), {"delta": chunk})
        for i, chunk in enumerate(chunks)
    ]


def _plan_ending(
    outcome: Outcome,
    deltas: int | None,
    output: str | _Unset | None,
    usage: RunUsage | None,
    error: str | None,
) -> list[_Step]:
    """The events after the tools, ending with the one terminal event (spec §5.5, §9.4)."""
    if outcome == "max_iterations":
        if deltas:
            raise ValueError("the iteration-limit path emits no message.delta (spec §9.4)")
        text = _truncated_output() if output is UNSET else output
        usage = usage or RunUsageFactory.build()
        return [_Step("run.completed", _gap(0.5, 3.0), {"output": text, "usage": usage})]
    if outcome == "completed":
        text = _answer() if output is UNSET else output
        steps: list[_Step] = []
        if text:
            steps += _delta_steps(_split_deltas(text, deltas), _gap(0.3, 2.0))
            # spec §9.4: the final answer's turn reports its text after its deltas
            steps.append(_Step("reasoning.available", _gap(0.001, 0.02), {"text": text[:500]}))
        usage = usage or RunUsageFactory.build()
        steps.append(_Step("run.completed", _gap(0.001, 0.05), {"output": text, "usage": usage}))
        return steps
    if outcome == "failed":
        steps = _delta_steps(_partial_deltas(deltas or 0), _gap(0.3, 2.0))
        message = error if error is not None else _provider_error()[1]
        return [*steps, _Step("run.failed", _gap(0.2, 3.0), {"error": message})]
    count = rng().randint(1, 5) if deltas is None else deltas
    steps = _delta_steps(_partial_deltas(count), _gap(0.3, 2.0))
    return [*steps, _Step("run.cancelled", _gap(0.05, 1.0))]


def _timestamps(steps: list[_Step], started_at: float, ended_at: float | None) -> list[float]:
    """Non-decreasing times from the gaps; stretched to end exactly at `ended_at` if given."""
    offsets: list[float] = []
    total = 0.0
    for step in steps:
        total += step.gap
        offsets.append(total)
    if ended_at is None:
        return [started_at + offset for offset in offsets]
    if ended_at < started_at:
        raise ValueError(f"ended_at ({ended_at}) is before started_at ({started_at})")
    scale = (ended_at - started_at) / total if total else 0.0
    stamps = [min(started_at + offset * scale, ended_at) for offset in offsets]
    stamps[-1] = ended_at
    return stamps


_EVENT_MODELS: dict[str, type[BaseModel]] = {
    name: factory.__model__ for name, factory in _EVENT_FACTORIES.items()
}


def _events(run_id: str, steps: list[_Step], stamps: list[float]) -> list[RunEvent]:
    events: list[RunEvent] = []
    for step, stamp in zip(steps, stamps, strict=True):
        payload = dict(step.payload)
        if step.started_index is not None:
            payload["duration"] = stamp - stamps[step.started_index]
        event: Any = _EVENT_MODELS[step.event](run_id=run_id, timestamp=stamp, **payload)
        events.append(event)
    return events


class RunEventFactory:
    """Run events (spec §5.3): one of any type, or a whole spec-ordered stream for one run."""

    EVENTS: ClassVar[tuple[str, ...]] = tuple(_EVENT_FACTORIES)

    @classmethod
    def _factory(cls, event: str) -> type[Factory[Any]]:
        try:
            return _EVENT_FACTORIES[event]
        except KeyError:
            raise ValueError(
                f"unknown event {event!r}; run events are: {', '.join(_EVENT_FACTORIES)}"
            ) from None

    @classmethod
    def build(cls, event: str = "message.delta", **overrides: Any) -> RunEvent:
        """One event of the given type, e.g. `build("tool.completed", error=True)`."""
        built: RunEvent = cls._factory(event).build(**overrides)
        return built

    @classmethod
    def build_batch(cls, n: int, event: str = "message.delta", **overrides: Any) -> list[RunEvent]:
        """`n` independent events of one type (pass `run_id=` to put them in one run)."""
        return list(cls._factory(event).build_batch(n, **overrides))

    @classmethod
    def sequence(
        cls,
        run_id: str | None = None,
        outcome: Outcome = "completed",
        tools: int | None = None,
        approval: str | None = None,
        deltas: int | None = None,
        *,
        output: str | _Unset | None = UNSET,
        usage: RunUsage | None = None,
        error: str | None = None,
        started_at: float | None = None,
        ended_at: float | None = None,
    ) -> list[RunEvent]:
        """Every event of one run, in the order the server streams them (spec §5.5).

        `tools` tool calls, each `tool.started` then `tool.completed`; with `approval`
        (`once`, `session`, `always`, `deny` or `timeout`) the first one is a gated terminal
        command: `approval.request`, `approval.responded` (none on timeout) between its
        start and completion, which carries `error: true` when denied or timed out. Then, by
        `outcome`: completed streams `deltas` message.delta chunks of `output`,
        `reasoning.available` and `run.completed`; max_iterations only `run.completed` with
        the iteration-limit notice; failed `run.failed` (after `deltas` partial chunks, if
        asked); cancelled a few partial chunks then `run.cancelled`. Timestamps start after
        `started_at` (default: now) and, if `ended_at` is given, end exactly there.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; outcomes: {', '.join(OUTCOMES)}")
        if approval is not None and approval not in APPROVALS:
            raise ValueError(f"unknown approval {approval!r}; approvals: {', '.join(APPROVALS)}")
        if deltas is not None and deltas < 0:
            raise ValueError(f"deltas must be >= 0, got {deltas}")
        if tools is None:
            tools = 3 if outcome == "max_iterations" else int(approval is not None)
        if tools < 0:
            raise ValueError(f"tools must be >= 0, got {tools}")
        if approval is not None and tools == 0:
            raise ValueError("an approval gate sits inside a tool call: tools must be >= 1")
        if outcome == "max_iterations" and tools == 0:
            raise ValueError("a run that hit the iteration limit called tools: tools must be >= 1")

        run_id = run_id or new_run_id()
        steps = _plan_tools(tools, approval)
        steps += _plan_ending(outcome, deltas, output, usage, error)
        start = time.time() if started_at is None else started_at
        return _events(run_id, steps, _timestamps(steps, start, ended_at))

    @classmethod
    def sequence_for(
        cls,
        run: Run,
        *,
        tools: int | None = None,
        approval: str | None = None,
        deltas: int | None = None,
    ) -> list[RunEvent]:
        """The events a finished `run` streamed: its run_id, output, usage or error, and
        timestamps from its `created_at` to its `updated_at` (the terminal event)."""
        if not run.is_terminal:
            raise ValueError(
                f"run {run.run_id} is still {run.status.value}; sequence_for builds the "
                "events of a finished run (completed, failed or cancelled)"
            )
        outcome: Outcome
        if run.status is RunStatus.COMPLETED:
            truncated = carries_iteration_limit_notice(run.output)
            outcome = "max_iterations" if truncated else "completed"
        elif run.status is RunStatus.FAILED:
            outcome = "failed"
        else:
            outcome = "cancelled"
        return cls.sequence(
            run.run_id,
            outcome,
            tools=tools,
            approval=approval,
            deltas=deltas,
            output=run.output,
            usage=run.usage,
            error=run.error,
            started_at=run.created_at,
            ended_at=run.updated_at,
        )
