"""Scripts as plain data (the scenario-file format's core): lossless and validated."""

from __future__ import annotations

import json

import pytest

from agentfakes.errors import ScriptError
from agentfakes.script import Script
from agentfakes.script.codec import VERBS, script_from_dict, script_to_dict

SCRIPTS = {
    "answer": Script().answer("Hello there, how are you?", chunk=5),
    "every verb": (
        Script()
        .delta("a")
        .reasoning("thinking")
        .tool_started("terminal", "ls -la", arguments={"command": "ls -la"})
        .wait(1.25)
        .approval(
            "rm -rf /tmp/x",
            "delete in root path",
            pattern_keys=["delete in root path", "recursive delete"],
            allow_permanent=False,
            timeout=5,
            on_deny=Script().tool_completed("terminal", error=True).fail("denied"),
            on_timeout=Script().tool_completed("terminal").answer("timed out"),
        )
        .tool_completed("terminal", duration=0.5, result="removed")
        .complete("done", usage={"input_tokens": 3, "output_tokens": 4, "total_tokens": 9})
    ),
    "iteration limit": Script().tool("terminal", duration=1).max_iterations("summary"),
    "failure": Script().fail("HTTP 500: upstream exploded"),
    "named": Script().delta("x").complete("x").named("greeting"),
    "smart deny": Script().approval("cmd", "why", smart_denied=True).complete(None),
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_round_trip_is_lossless(name: str) -> None:
    script = SCRIPTS[name]
    data = script_to_dict(script)
    assert json.loads(json.dumps(data)) == data  # plain JSON/YAML data
    again = script_from_dict(data)
    assert again == script
    assert again.name == script.name
    assert script_to_dict(again) == data


def test_every_step_kind_has_a_verb_the_builder_knows() -> None:
    for verb in VERBS.values():
        assert callable(getattr(Script, verb))


def test_defaults_are_left_out_so_files_stay_short() -> None:
    data = script_to_dict(Script().tool_started("t").tool_completed("t").complete("ok"))
    assert data == {
        "steps": [
            {"tool_started": {"name": "t"}},
            {"tool_completed": {"name": "t"}},
            {"complete": {"output": "ok"}},  # usage None: the server estimates it
        ]
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a script is a mapping with 'steps', got list"),
        ({"step": []}, r"unknown keys \['step'\]; a script has name, steps"),
        ({"steps": {}}, r"script.steps: a list of steps is required, got dict"),
        ({"steps": [{"delt": {"text": "x"}}]}, r"steps\[0\]: unknown step 'delt'; the steps are"),
        ({"steps": [{"delta": {"txt": "x"}}]}, r"unknown argument 'txt' \(did you mean 'text'\?\)"),
        ({"steps": [{"wait": {"seconds": -1}}]}, r"steps\[0\]: wait: seconds must be >= 0"),
        ({"steps": [{"delta": "x"}]}, r"steps\[0\].delta: arguments are a mapping, got str"),
        ({"steps": [{"delta": {"text": "a"}, "wait": {"seconds": 1}}]}, "one {verb: arguments}"),
        (
            {
                "steps": [
                    {"approval": {"command": "c", "description": "d", "on_deny": {"steps": 1}}}
                ]
            },
            r"steps\[0\].on_deny.steps: a list of steps is required",
        ),
        ({"steps": [{"complete": {"usage": {"input_tokens": "x"}}}]}, "complete.usage"),
    ],
)
def test_bad_data_names_the_place_and_what_is_allowed(data: object, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        script_from_dict(data)
