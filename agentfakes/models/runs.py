"""The run object of `GET /v1/runs/{id}` (spec §3), its status (§4) and its token usage.

`Run` parses a real server's JSON (unknown keys are kept) and `to_wire()` gives back the
exact dict the real server sends: absent fields absent, keys in the server's order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import ConfigDict, Field, ModelWrapValidatorHandler, PrivateAttr, model_validator

from agentfakes.models._base import _TokenCounts, _WireModel

RUN_ID_PATTERN = r"^run_[0-9a-f]{32}$"

# spec §9.4 / hermes run_agent.py `_format_turn_completion_explanation`: the notice Hermes
# puts in `output` when the agent ran out of tool iterations.
ITERATION_LIMIT_MARKER = "No reply: the maximum tool-iteration limit was reached"
ITERATION_LIMIT_NOTICE = (
    "⚠️ No reply: the maximum tool-iteration limit was reached before a final answer. "
    "Send `continue` to keep going, or raise `max_iterations`."
)


def with_iteration_limit_notice(summary: str | None) -> str:
    """The `output` Hermes reports when the iteration limit ends a run (spec §9.4)."""
    if not summary:
        return ITERATION_LIMIT_NOTICE
    return f"{summary}\n\n{ITERATION_LIMIT_NOTICE}"


def carries_iteration_limit_notice(output: str | None) -> bool:
    return bool(output) and ITERATION_LIMIT_MARKER in str(output)


def wire_json(data: Any) -> str:
    """JSON exactly as aiohttp's `json_response` writes it (json.dumps defaults, spec §0)."""
    return json.dumps(data)


class RunStatus(StrEnum):
    """The seven values of a run's `status` (spec §4). `started` is only in the 202 body."""

    QUEUED = "queued"
    RUNNING = "running"
    WAITING_FOR_APPROVAL = "waiting_for_approval"
    STOPPING = "stopping"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})


class RunUsage(_TokenCounts):
    """`usage` of a completed run: the agent's cumulative token counters (spec §3)."""

    model_config = ConfigDict(extra="allow")


# spec §3: after the seven keys every run has (object … model), these follow in the order
# they were first set; the server never removes a key.
_OPTIONAL_KEYS = ("last_event", "output", "usage", "error")


class Run(_WireModel):
    """The run object of `GET /v1/runs/{id}` (spec §3).

    A Run parsed from a dict or JSON (`Run.model_validate(wire)`) remembers the order of
    its keys, so `to_wire()` gives them back in that order (a run that failed before any
    event has `error` before `last_event`). A Run built by keyword uses the usual order.
    Two Runs that differ only in key order are equal: the order is not part of the contract.
    """

    object: Literal["hermes.run"] = "hermes.run"
    run_id: str = Field(pattern=RUN_ID_PATTERN)
    status: RunStatus
    updated_at: float
    created_at: float
    session_id: Any = None
    model: Any = "hermes-agent"
    last_event: str | None = None
    output: str | None = None
    usage: RunUsage | None = None
    error: str | None = None

    _wire_order: tuple[str, ...] | None = PrivateAttr(default=None)

    def __init__(self, /, **data: Any) -> None:
        super().__init__(**data)
        self._wire_order = None  # keyword order is the caller's, not the server's

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        run = handler(data)
        if isinstance(data, dict):
            run._wire_order = tuple(data)
        return run

    @model_validator(mode="after")
    def _fields_match_status(self) -> Self:
        if self.session_id is None:
            self.session_id = self.run_id
        if self.status is RunStatus.COMPLETED:
            if self.usage is None:
                self.usage = RunUsage()
        else:
            if self.output is not None or self.usage is not None:
                raise ValueError(
                    f"output and usage are only present on completed runs, not {self.status.value}"
                )
        if self.status is RunStatus.FAILED and self.error is None:
            raise ValueError("a failed run carries its error text in `error`")
        if self.status is not RunStatus.FAILED and self.error is not None:
            raise ValueError(f"error is only present on failed runs, not {self.status.value}")
        return self

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def to_wire(self) -> dict[str, Any]:
        """The JSON dict the real server sends: absent fields absent, in the server's order."""
        wire = run_wire(
            run_id=self.run_id,
            status=self.status,
            updated_at=self.updated_at,
            created_at=self.created_at,
            session_id=self.session_id,
            model=self.model,
            last_event=self.last_event,
            output=self.output,
            usage=self.usage,
            error=self.error,
        )
        wire.update(self._extras())
        if self._wire_order is not None:
            return _in_parsed_order(wire, self._wire_order)
        return wire

    def __eq__(self, other: Any) -> bool:  # `object` is a field here
        """Fields and extra keys, not key order (spec §3: the order is not part of the contract)."""
        if not isinstance(other, Run):
            return NotImplemented
        return (
            type(self) is type(other)
            and self.__dict__ == other.__dict__
            and self.__pydantic_extra__ == other.__pydantic_extra__
        )


def _in_parsed_order(wire: dict[str, Any], parsed: Sequence[str]) -> dict[str, Any]:
    """`wire` with the parsed keys in their parsed order; a key the parsed dict lacked goes
    after every key that precedes it in `wire` (one set later ends up last, as on the server)."""
    keys = [key for key in parsed if key in wire]
    placed = set(keys)
    before: list[str] = []
    for key in wire:
        if key not in placed:
            keys.insert(max((keys.index(k) + 1 for k in before), default=0), key)
            placed.add(key)
        before.append(key)
    return {key: wire[key] for key in keys}


def run_wire(
    *,
    run_id: str,
    status: RunStatus,
    updated_at: float,
    created_at: float,
    session_id: Any,
    model: Any,
    last_event: str | None,
    output: str | None,
    usage: RunUsage | None,
    error: str | None,
    key_order: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The run object of spec §3: `last_event` once set, `output`/`usage` only when
    completed, `error` only when failed; keys in the server's insertion order.

    `key_order` names the optional keys (`last_event`, `output`, `usage`, `error`) in the
    order they were first set on the run, as the real server's dict keeps them: a run that
    fails before any event writes `error` then `last_event`. Names of keys the run does not
    carry are skipped; present keys left out come after, in that default order.
    """
    wire: dict[str, Any] = {
        "object": "hermes.run",
        "run_id": run_id,
        "status": status.value,
        "updated_at": updated_at,
        "created_at": created_at,
        "session_id": session_id,
        "model": model,
    }
    optional: dict[str, Any] = {}
    if last_event is not None:
        optional["last_event"] = last_event
    if status is RunStatus.COMPLETED:
        optional["output"] = output
        optional["usage"] = (usage or RunUsage()).to_wire()
    elif status is RunStatus.FAILED:
        optional["error"] = error
    if key_order is not None:
        unknown = [key for key in key_order if key not in _OPTIONAL_KEYS]
        if unknown:
            raise ValueError(
                f"key_order names the run's optional keys ({', '.join(_OPTIONAL_KEYS)}), "
                f"not {', '.join(map(repr, unknown))}"
            )
        for key in key_order:
            if key in optional:
                wire[key] = optional.pop(key)
    wire.update(optional)
    return wire
