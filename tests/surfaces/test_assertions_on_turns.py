"""assert_completed / assert_failed / assert_tool_called on chat completions, responses and
session chat: a turn record by its script's terminal step, a wire dict by what it shows."""

from __future__ import annotations

import re

import httpx
import pytest

from agentfakes import (
    FakeRunsServer,
    ManualClock,
    Script,
    assert_completed,
    assert_failed,
    assert_tool_called,
)

TOOL = (
    Script()
    .tool("terminal", "ls", arguments={"command": "ls"}, result="a.txt")
    .complete("one file")
)
FAIL = Script().fail("HTTP 500: upstream exploded")


def _server() -> tuple[FakeRunsServer, httpx.Client]:
    server = FakeRunsServer(clock=ManualClock(), api_max_retries=1, strict=False)
    server.on_input("files", TOOL)
    server.on_input("boom", FAIL)
    http = httpx.Client(
        transport=server.transport(),
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.api_key}"},
    )
    return server, http


def chat(http: httpx.Client, text: str) -> dict[str, object]:
    body = {"messages": [{"role": "user", "content": text}]}
    return http.post("/v1/chat/completions", json=body).json()  # type: ignore[no-any-return]


def test_chat_completion_dicts() -> None:
    _, http = _server()
    assert_completed(chat(http, "files"), output="one file")
    assert_failed(chat(http, "boom"), error="HTTP 500")
    with pytest.raises(AssertionError, match="to be completed, but it failed"):
        assert_completed(chat(http, "boom"))
    with pytest.raises(TypeError, match="carries no tool calls"):
        assert_tool_called(chat(http, "files"), "terminal")


def test_turn_records_are_judged_by_their_script() -> None:
    server, http = _server()
    chat(http, "files")
    http.post("/v1/responses", json={"input": "boom"})
    tool_turn, failed_turn = server.turns
    assert_completed(tool_turn, output="one file")
    assert_tool_called(tool_turn, "terminal", times=1, arguments={"command": "ls"}, succeeded=True)
    assert_failed(failed_turn, error=re.compile("upstream"))


def test_a_response_cannot_show_a_provider_failure() -> None:
    _, http = _server()
    response = http.post("/v1/responses", json={"input": "boom"}).json()
    assert_completed(response, output=re.compile("^API call failed"))
    with pytest.raises(AssertionError, match="provider failure on this surface") as caught:
        assert_failed(response)
    assert "this text looks like one" in str(caught.value)
    tool_response = http.post("/v1/responses", json={"input": "files"}).json()
    assert_tool_called(tool_response, "terminal", arguments={"command": "ls"})
    with pytest.raises(AssertionError):
        assert_tool_called(tool_response, "read_file")


def test_session_chat_answers() -> None:
    server, http = _server()
    http.post("/api/sessions", json={"id": "s1"})
    answer = http.post("/api/sessions/s1/chat", json={"message": "files"}).json()
    assert_completed(answer, output="one file")
    with pytest.raises(TypeError, match="session chat answer carries no tool calls"):
        assert_tool_called(answer, "terminal")
    assert_tool_called(server.turns[-1], "terminal")
