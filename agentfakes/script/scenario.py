"""Scenario files: recorded runs as Scripts, in YAML, validated, hand-editable (issue 9).

A scenario holds what recorded it and its runs. Each run is matched by its input and
carries its Script (the builder's verbs and arguments, relative timings as waits), the
approval choices and the stop the app made, and the final run object:

    version: 1
    recorded: {agentfakes: 0.1.0, server: hermes-agent 0.19.0, at: '2026-12-02T03:00:00Z'}
    runs:
    - input: '[[scenario:approval]] clean up'
      script:
        steps:
        - tool_started: {name: terminal, preview: rm -rf /tmp/x}
        - approval: {command: rm -rf /tmp/x, description: delete in root path}
        - wait: {seconds: 0.04}
        - tool_completed: {name: terminal}
        - answer-like steps ...
      approvals: [{choice: once, after: 0.52}]
      final: {object: hermes.run, status: completed, ...}

A turn of another surface (issue 10) has `surface: chat | responses | sessions` (left out
for a run) and is matched by surface and input (the last user message, the `input`, the
session chat's `message`); its `final` is the JSON answer or the stream's last frame.

`Scenario.load(path)` / `Scenario.dump(path)`; a malformed file raises ScenarioError
naming the file, the line and the field, and what is allowed there.
"""

from __future__ import annotations

import inspect
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from agentfakes.errors import ScriptError
from agentfakes.models import APPROVAL_CHOICES
from agentfakes.script.builder import Script
from agentfakes.script.codec import VERBS, script_from_dict, script_to_dict
from agentfakes.script.scenario_yaml import atomic_write, dump_yaml, field_path, line_of

__all__ = [
    "SCENARIO_VERSION",
    "ApprovalRecord",
    "RecordedBy",
    "Scenario",
    "ScenarioError",
    "ScenarioRun",
    "StopRecord",
    "normalise_run",
]

SCENARIO_VERSION = 1
OUTCOMES = (*APPROVAL_CHOICES, "timeout")  # what became of an approval request
KINDS = ("approve", "deny", "timeout")  # the paths a run can take at a gate
STOP_MARGIN = 30.0  # how long a replayed run waits, past its recording, for the app's stop


class ScenarioError(ScriptError):
    """A scenario file that cannot be read: names the file, the line, the field, what is
    allowed. A ScriptError (and so a ValueError)."""


def outcome_kind(outcome: str) -> str:
    """once/session/always are one path for the engine ("approve"); deny; timeout."""
    return "approve" if outcome in ("once", "session", "always") else outcome


# ---------------------------------------------------------------- the schema


def _script_schema() -> dict[str, Any]:
    """JSON Schema of a Script as data: one `{verb: {argument: value}}` per step."""
    alternatives = []
    for verb in VERBS.values():
        names = list(inspect.signature(getattr(Script, verb)).parameters)[1:]
        alternatives.append(
            {
                "type": "object",
                "properties": {
                    verb: {
                        "type": ["object", "null"],
                        "properties": {name: {} for name in names},
                        "additionalProperties": False,
                    }
                },
                "required": [verb],
                "additionalProperties": False,
            }
        )
    return {
        "type": "object",
        "description": "A Script: the builder's steps by verb and arguments "
        "(see agentfakes.script.Script)",
        "properties": {
            "name": {"type": "string"},
            "steps": {"type": "array", "items": {"oneOf": alternatives}},
        },
        "required": ["steps"],
        "additionalProperties": False,
    }


def _to_script(value: Any) -> Any:
    script = value if isinstance(value, Script) else script_from_dict(value, where="script")
    return script.validate("script") if isinstance(script, Script) else script


def _to_branch(value: Any) -> Any:
    """A branch continues a run mid-way (its tools may have started before it): it is
    checked as part of the whole run (`ScenarioRun.replay_script`), here only its end."""
    script = value if isinstance(value, Script) else script_from_dict(value, where="script")
    if isinstance(script, Script) and script.terminal is None:
        raise ScriptError("script: a branch ends the run: end it with complete, fail, ...")
    return script


BranchData = Annotated[
    Script,
    BeforeValidator(_to_branch),
    PlainSerializer(script_to_dict, return_type=dict),
    WithJsonSchema(_script_schema()),
]

ScriptData = Annotated[
    Script,
    BeforeValidator(_to_script),
    PlainSerializer(script_to_dict, return_type=dict),
    WithJsonSchema(_script_schema()),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)


class RecordedBy(_Model):
    """What recorded the file: agentfakes' version, the server's (from /health), when."""

    agentfakes: str | None = None
    server: str | None = Field(None, description="e.g. 'hermes-agent 0.19.0' from GET /health")
    at: str | None = Field(None, description="ISO 8601 UTC time of the recording")


class ApprovalRecord(_Model):
    """The app's answer to one approval request, and what to do for other answers."""

    choice: Literal["once", "session", "always", "deny", "timeout"]
    after: float | None = Field(None, ge=0, description="seconds after the request")
    branches: dict[Literal["approve", "deny", "timeout"], BranchData] = Field(
        default_factory=dict,
        description="the rest of the run if the app takes another path at this gate",
    )


class StopRecord(_Model):
    """The app stopped the run `after` seconds from its creation."""

    after: float = Field(ge=0)


class ScenarioRun(_Model):
    """One recorded run (or turn of another surface: a chat completion, a response, a
    session chat): its input and surface (how it is matched), script, the app's moves, the
    result (the run object; for another surface its JSON answer or its stream's last
    frame)."""

    input: str
    surface: Literal["runs", "chat", "responses", "sessions"] = Field(
        "runs",
        description="the surface the turn was on: runs, chat (chat completions), responses "
        "or sessions (session chat); a run of the Runs API when left out",
    )
    script: ScriptData
    approvals: list[ApprovalRecord] = Field(default_factory=list)
    stop: StopRecord | None = None
    polls: int = Field(0, ge=0, description="GETs of the run object the app made (a note)")
    final: dict[str, Any] | None = Field(None, description="the run object at the end")

    @model_validator(mode="after")
    def _branches_fit(self) -> ScenarioRun:
        if any(a.branches for a in self.approvals):
            self.replay_script("run")  # a branch that does not fit its gate fails here
        return self

    def replay_script(self, label: str) -> Script:
        """The Script that drives this run in replay: the recorded path, and at each gate
        the other paths from `branches` or a failure naming `label` and both choices."""
        data = script_to_dict(self.script)
        steps: list[dict[str, Any]] = data["steps"]
        gates = [i for i, step in enumerate(steps) if "approval" in step]
        for number in reversed(range(min(len(gates), len(self.approvals)))):
            at, record = gates[number], self.approvals[number]
            tail, recorded = steps[at + 1 :], outcome_kind(record.choice)
            paths: dict[str, list[dict[str, Any]]] = {}
            for kind in KINDS:
                if kind == recorded:
                    paths[kind] = tail
                elif kind in record.branches:
                    paths[kind] = script_to_dict(record.branches[kind])["steps"]
                else:
                    paths[kind] = [{"fail": {"error": _mismatch(label, number, record, kind)}}]
            arguments = dict(steps[at]["approval"] or {})
            arguments["on_deny"] = {"steps": paths["deny"]}
            arguments["on_timeout"] = {"steps": paths["timeout"]}
            steps = [*steps[:at], {"approval": arguments}, *paths["approve"]]
        return Script.from_dict({"steps": steps}).named(label)


def _mismatch(label: str, number: int, record: ApprovalRecord, kind: str) -> str:
    chose = {"approve": "approved it", "deny": "denied it", "timeout": "let it time out"}[kind]
    return (
        f"agentfakes: {label}: approval {number + 1} was recorded as {record.choice!r}, but "
        f"the app {chose}; record the test again, or add a {kind!r} branch to that approval"
    )


class Scenario(_Model):
    """A scenario file: `version`, `recorded` (what recorded it), `runs`."""

    version: Literal[1] = 1
    recorded: RecordedBy = Field(default_factory=RecordedBy)
    runs: list[ScenarioRun] = Field(default_factory=list)
    source: str | None = Field(None, exclude=True, description="the file it came from")

    # -- reading

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Scenario:
        """Read and validate a scenario file (ScenarioError names file, line and field)."""
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"{where}: cannot read the scenario file: {exc}") from None
        return cls.loads(text, source=where)

    @classmethod
    def loads(cls, text: str, *, source: str = "<scenario>") -> Scenario:
        """Parse scenario YAML (`source` names it in error messages)."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ScenarioError(f"{source}{line}: not valid YAML: {problem}") from None
        return cls.from_data(data, source=source, text=text)

    @classmethod
    def from_data(
        cls, data: Any, *, source: str = "<scenario>", text: str | None = None
    ) -> Scenario:
        """Validate plain data (what the YAML holds)."""
        if not isinstance(data, dict):
            raise ScenarioError(
                f"{source}:1: a scenario is a mapping with version, recorded and runs, "
                f"got {type(data).__name__ if data is not None else 'an empty file'}"
            )
        version = data.get("version")
        if version != SCENARIO_VERSION:
            raise ScenarioError(
                f"{source}{line_of(text, ['version'])}: version: this agentfakes reads scenario "
                f"version {SCENARIO_VERSION}, the file says {version!r}"
            )
        try:
            scenario = cls.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(_explain(exc, source, text)) from None
        return scenario.model_copy(update={"source": source})

    # -- writing

    def to_data(self) -> dict[str, Any]:
        data = self.model_dump(mode="python", exclude_none=False, exclude={"source"})
        for run in data.get("runs", []):
            if run.get("surface") == "runs":  # the default: files of Runs stay as they were
                del run["surface"]
        return data

    def dumps(self) -> str:
        """The scenario as YAML text (keys in a reading order, block style)."""
        return dump_yaml(self.to_data())

    def dump(self, path: str | os.PathLike[str]) -> Path:
        """Write the file atomically: a temp file beside it, then a rename (safe when
        pytest-xdist workers write at once; a reader never sees half a file)."""
        target = Path(path)
        atomic_write(target, self.dumps())
        return target

    # -- reading it back

    @property
    def label(self) -> str:
        return self.source or "scenario"

    def stale(self, server: str) -> bool:
        """Recorded against another server version than `server` ("hermes-agent 0.19.0"
        or just "0.19.0")."""
        recorded = self.recorded.server
        if recorded is None:
            return False
        return recorded != server and recorded.rsplit(" ", 1)[-1] != server

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema `agentfakes scenarios schema` publishes."""
        schema = cls.model_json_schema(mode="validation")
        schema["properties"].pop("source", None)
        schema["$id"] = "https://agentfakes.dev/schemas/scenario-v1.json"
        schema["title"] = "agentfakes scenario file"
        return schema


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- normalising


_ID_KEYS = ("run_id", "session_id")
_TIME_KEYS = ("created_at", "updated_at", "timestamp")


def normalise_run(run: dict[str, Any]) -> dict[str, Any]:
    """A run object with ids and timestamps replaced, for comparing a replay with its
    recording: `run_id` -> "<run_id>", a default `session_id` likewise, times -> 0."""
    run_id = run.get("run_id")
    out: dict[str, Any] = {}
    for key, value in run.items():
        if key in _TIME_KEYS:
            out[key] = 0
        elif key in _ID_KEYS and value == run_id:
            out[key] = "<run_id>"
        else:
            out[key] = value
    return out


_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)|\[(\d+)\]")


def _explain(exc: ValidationError, source: str, text: str | None) -> str:
    """Each pydantic error as `file:line: field: problem` (what is allowed included)."""
    lines = []
    for error in exc.errors(include_url=False):
        loc = [part for part in error["loc"] if part != "function-after"]
        message = str(error["msg"]).removeprefix("Value error, ")
        field = field_path(loc)
        path = list(loc)
        if message.startswith("script"):
            # the codec names the step: "script.steps[2].approval: ..." -> go to that line
            head = message.split(":", 1)[0].split(" ", 1)[0]
            parts = [m.group(1) or int(m.group(2)) for m in _PATH_PART.finditer(head)]
            if parts and parts[0] == "script" and path and path[-1] == "script":
                prefix = field_path(loc[:-1])
                where = line_of(text, [*path[:-1], *parts])
                lines.append(f"{source}{where}: {prefix + '.' if prefix else ''}{message}")
                continue
        if error["type"] == "extra_forbidden":
            message = f"unknown field; allowed here: {_allowed(loc)}"
        elif error["type"] == "literal_error":
            message = f"{message} (got {error.get('input')!r})"
        lines.append(f"{source}{line_of(text, path)}: {field}: {message}")
    return "\n".join(lines)


def _allowed(loc: list[Any]) -> str:
    owners: dict[str, type[BaseModel]] = {
        "runs": ScenarioRun,
        "recorded": RecordedBy,
        "approvals": ApprovalRecord,
        "stop": StopRecord,
    }
    owner: type[BaseModel] = Scenario
    for part in loc[:-1]:
        if not isinstance(part, int):
            owner = owners.get(str(part), owner)
    return ", ".join(name for name in owner.model_fields if name != "source")
