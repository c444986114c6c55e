"""The wire models: `Run.to_wire()` gives keys back in the real server's order (spec §3),
including the order a parsed run arrived in, and `run_wire(key_order=...)` reproduces it."""

from __future__ import annotations

import json
from typing import Any

import pytest

import agentfakes.models as models
from agentfakes.models import Run, RunStatus, RunUsage, run_wire

RUN_ID = "run_c667" + "0" * 28
HEAD = ["object", "run_id", "status", "updated_at", "created_at", "session_id", "model"]

# spec §3 example of a completed run [V]
COMPLETED_JSON = (
    '{"object": "hermes.run", "run_id": "' + RUN_ID + '", "status": "completed", '
    '"updated_at": 1795283646.4093668, "created_at": 1795283646.345946, '
    '"session_id": "' + RUN_ID + '", "model": "hermes-agent", "last_event": "run.completed", '
    '"output": "Hello Done", "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}}'
)
# a run that failed before any event: the server set `error`, then `last_event`
FAILED_EARLY_JSON = (
    '{"object": "hermes.run", "run_id": "' + RUN_ID + '", "status": "failed", '
    '"updated_at": 2.0, "created_at": 1.0, "session_id": "' + RUN_ID + '", '
    '"model": "hermes-agent", "error": "HTTP 401: Invalid key sk-pro...6789", '
    '"last_event": "run.failed"}'
)


def fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "run_id": RUN_ID,
        "status": RunStatus.RUNNING,
        "updated_at": 2.0,
        "created_at": 1.0,
        "session_id": RUN_ID,
        "model": "hermes-agent",
        "last_event": None,
        "output": None,
        "usage": None,
        "error": None,
    }
    return base | overrides


# ---------------------------------------------------------------- Run: parsed order


@pytest.mark.parametrize("text", [COMPLETED_JSON, FAILED_EARLY_JSON], ids=["completed", "failed"])
def test_a_parsed_run_serialises_back_byte_for_byte(text: str) -> None:
    assert json.dumps(Run.model_validate_json(text).to_wire()) == text
    assert json.dumps(Run.model_validate(json.loads(text)).to_wire()) == text


def test_a_run_failed_before_any_event_keeps_error_before_last_event() -> None:
    run = Run.model_validate_json(FAILED_EARLY_JSON)
    assert list(run.to_wire()) == [*HEAD, "error", "last_event"]


def test_an_unknown_key_keeps_its_place() -> None:
    wire = json.loads(COMPLETED_JSON)
    wire = {**dict(list(wire.items())[:7]), "profile": "default", **dict(list(wire.items())[7:])}
    run = Run.model_validate(wire)
    assert run.to_wire() == wire
    assert list(run.to_wire()) == list(wire)


def test_a_run_built_by_keyword_uses_the_servers_usual_order() -> None:
    run = Run(
        error="kaboom",
        last_event="run.failed",
        status=RunStatus.FAILED,
        created_at=1.0,
        updated_at=2.0,
        run_id=RUN_ID,
    )
    assert list(run.to_wire()) == [*HEAD, "last_event", "error"]


def test_key_order_is_not_part_of_equality() -> None:
    parsed = Run.model_validate_json(FAILED_EARLY_JSON)
    built = Run(
        run_id=RUN_ID,
        status=RunStatus.FAILED,
        updated_at=2.0,
        created_at=1.0,
        last_event="run.failed",
        error="HTTP 401: Invalid key sk-pro...6789",
    )
    assert parsed == built
    assert list(parsed.to_wire()) != list(built.to_wire())
    assert parsed != built.model_copy(update={"error": "other"})


def test_a_key_set_after_parsing_comes_last_as_on_the_server() -> None:
    running = Run.model_validate({**fields(last_event="tool.started"), "status": "running"})
    failed = running.model_copy(update={"status": RunStatus.FAILED, "error": "kaboom"})
    assert list(failed.to_wire()) == [*HEAD, "last_event", "error"]


def test_keys_a_partial_dict_lacked_go_after_the_key_they_follow() -> None:
    run = Run.model_validate(
        {"run_id": RUN_ID, "status": "completed", "created_at": 1.0, "updated_at": 2.0}
    )
    assert list(run.to_wire()) == [
        "object",
        "run_id",
        "status",
        "created_at",
        "updated_at",
        "session_id",
        "model",
        "output",
        "usage",
    ]


# ---------------------------------------------------------------- run_wire(key_order=...)


def test_run_wire_default_order() -> None:
    wire = run_wire(**fields(status=RunStatus.FAILED, last_event="run.failed", error="x"))
    assert list(wire) == [*HEAD, "last_event", "error"]


def test_run_wire_follows_key_order() -> None:
    wire = run_wire(
        **fields(status=RunStatus.FAILED, last_event="run.failed", error="x"),
        key_order=("error", "last_event"),
    )
    assert list(wire) == [*HEAD, "error", "last_event"]
    assert json.dumps(wire) == FAILED_EARLY_JSON.replace("HTTP 401: Invalid key sk-pro...6789", "x")


def test_run_wire_skips_absent_keys_and_appends_unlisted_ones() -> None:
    completed = fields(
        status=RunStatus.COMPLETED, last_event="run.completed", output="Hi", usage=RunUsage()
    )
    wire = run_wire(**completed, key_order=["usage", "error"])
    assert list(wire) == [*HEAD, "usage", "last_event", "output"]
    assert "error" not in wire


def test_run_wire_rejects_a_key_it_does_not_order() -> None:
    with pytest.raises(ValueError, match=r"not 'last-event', 'status'"):
        run_wire(**fields(), key_order=["last-event", "status"])


# ---------------------------------------------------------------- the package's names


def test_every_exported_name_is_importable() -> None:
    for name in models.__all__:
        assert getattr(models, name) is not None, name
