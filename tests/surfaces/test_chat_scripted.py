"""Chat completions driven by scripts: routing per surface, tool arguments, timing on the
engine clock, the shared concurrency slot, stored sessions and idempotency."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from agentfakes import FakeRunsServer, ManualClock, Script
from agentfakes.errors import NoScriptError, ScriptError

CHAT = "/v1/chat/completions"


def client(server: FakeRunsServer) -> httpx.Client:
    return httpx.Client(
        transport=server.transport(),
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.api_key}"},
    )


def ask(text: str, **extra: object) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": text}], **extra}


def test_surface_routing_keeps_runs_and_chat_apart() -> None:
    server = FakeRunsServer(clock=ManualClock())
    server.on_input("deploy", Script().complete("run says hi"), surface="runs")
    server.on_input("deploy", Script().complete("chat says hi"), surface="chat")
    with client(server) as http:
        chat = http.post(CHAT, json=ask("deploy now")).json()
        run_id = http.post("/v1/runs", json={"input": "deploy now"}).json()["run_id"]
    assert chat["choices"][0]["message"]["content"] == "chat says hi"
    assert server.runs[run_id].output == "run says hi"
    server.verify()


def test_queue_and_default_per_surface() -> None:
    server = FakeRunsServer(clock=ManualClock())
    server.queue(Script().complete("queued for chat"), surface="chat")
    server.queue(Script().complete("queued for anyone"))
    server.script(Script().complete("chat default"), surface="chat")
    with client(server) as http:
        run_id = http.post("/v1/runs", json={"input": "x"}).json()["run_id"]
        answers = [
            http.post(CHAT, json=ask("x")).json()["choices"][0]["message"]["content"]
            for _ in range(2)
        ]
    assert server.runs[run_id].output == "queued for anyone"
    assert answers == ["queued for chat", "chat default"]


def test_a_bad_surface_is_refused() -> None:
    with pytest.raises(ScriptError, match="surface must be one of"):
        FakeRunsServer().on_input("x", Script().complete("y"), surface="chats")


def test_no_script_names_the_surface() -> None:
    server = FakeRunsServer(clock=ManualClock())
    server.on_input("x", Script().complete("y"), surface="runs")
    with client(server) as http, pytest.raises(NoScriptError, match="a chat turn"):
        http.post(CHAT, json=ask("hello"))


def test_turns_are_not_runs() -> None:
    server = FakeRunsServer(clock=ManualClock())
    server.script(Script().complete("hi"))
    with client(server) as http:
        http.post(CHAT, json=ask("hello"))
    assert len(server.runs) == 0
    assert [t.surface for t in server.store.turns.values()] == ["chat"]


def test_a_streamed_turn_follows_the_engine_clock_and_holds_a_slot() -> None:
    clock = ManualClock(1000.0)
    server = FakeRunsServer(clock=clock, max_concurrent_runs=1)
    server.on_input("slow", Script().delta("a").wait(45).delta("b").complete("ab"))
    server.on_input("run", Script().complete("done"))
    with client(server) as http:
        with http.stream("POST", CHAT, json=ask("slow", stream=True)) as response:
            frames = response.iter_raw()
            assert b'"role": "assistant"' in next(frames)
            assert b'"content": "a"' in next(frames)
            busy = http.post("/v1/runs", json={"input": "run"})
            assert busy.status_code == 429
            rest = b"".join(frames)
        assert rest.count(b": keepalive\n\n") == 1  # 30 s of silence inside the 45 s wait
        assert rest.index(b": keepalive") < rest.index(b'"content": "b"')
        assert rest.endswith(b"data: [DONE]\n\n")
        assert clock.now() == 1045.0
        assert http.post("/v1/runs", json={"input": "run"}).status_code == 202


def test_a_json_answer_waits_for_the_scripted_end() -> None:
    clock = ManualClock(1000.0)
    server = FakeRunsServer(clock=clock)
    server.script(Script().tool("terminal", duration=2.5).wait(1).complete("done"))
    with client(server) as http:
        body = http.post(CHAT, json=ask("go")).json()
    assert body["created"] == 1000
    assert clock.now() == 1003.5


def test_turns_are_stored_in_their_session_with_tool_rows() -> None:
    server = FakeRunsServer(clock=ManualClock(), llm_model="gpt-test")
    server.script(
        Script()
        .tool("terminal", "ls", arguments={"command": "ls"}, result="a.txt")
        .complete("one file")
    )
    with client(server) as http:
        session_id = http.post(CHAT, json=ask("list")).headers["x-hermes-session-id"]
    session = server.store.sessions.get(session_id)
    assert session is not None
    assert session.source == "api_server"
    assert session.model == "gpt-test"
    assert [m["role"] for m in session.messages] == ["user", "assistant", "tool", "assistant"]
    call = session.messages[1]["tool_calls"][0]
    assert call["function"] == {"name": "terminal", "arguments": '{"command": "ls"}'}
    assert session.messages[2]["content"] == "a.txt"
    assert session.messages[2]["tool_call_id"] == call["id"]


def test_session_id_header_continues_from_stored_history() -> None:
    server = FakeRunsServer(clock=ManualClock())
    server.script(Script().complete("ok"))
    with client(server) as http:
        for turn in ("turn 1", "turn 2", "turn 3"):
            http.post(
                CHAT,
                json={
                    "messages": [
                        {"role": "user", "content": "ignored history"},
                        {"role": "user", "content": turn},
                    ]
                },
                headers={"X-Hermes-Session-Id": "my-session"},
            )
    turns = list(server.store.turns.values())
    assert turns[0].history == []
    assert [m["content"] for m in turns[2].history] == ["turn 1", "ok", "turn 2", "ok"]
    session = server.store.sessions.get("my-session")
    assert session is not None and len(session.messages) == 6


def test_idempotent_replay_runs_no_new_turn() -> None:
    server = FakeRunsServer(clock=ManualClock())
    server.queue(Script().complete("first"), Script().complete("second"))
    with client(server) as http:
        headers = {"Idempotency-Key": "k"}
        a = http.post(CHAT, json=ask("x"), headers=headers).json()
        b = http.post(CHAT, json=ask("x"), headers=headers).json()
        c = http.post(CHAT, json=ask("y"), headers=headers).json()
    assert len(server.store.turns) == 2
    assert a["choices"] == b["choices"] and a["id"] != b["id"]
    assert c["choices"][0]["message"]["content"] == "second"


def test_a_failure_quotes_the_configured_retries() -> None:
    server = FakeRunsServer(clock=ManualClock(), api_max_retries=5)
    server.script(Script().fail("HTTP 429: slow down"))
    with client(server) as http:
        body = http.post(CHAT, json=ask("x")).json()
    assert body["choices"][0]["message"]["content"] == (
        "API call failed after 5 retries: HTTP 429: slow down"
    )


def test_chat_faults_use_the_endpoint_name() -> None:
    from agentfakes.faults import http_error

    server = FakeRunsServer(clock=ManualClock())
    server.script(Script().complete("hi"))
    server.fault(http_error(503), on="chat.completions")
    with client(server) as http:
        assert http.post(CHAT, json=ask("x")).status_code == 503
        assert http.post(CHAT, json=ask("x")).status_code == 200
    assert [e.endpoint for e in server.requests] == ["chat.completions"] * 2


def test_async_client_streams_a_chat() -> None:
    asyncio.run(_stream_async())


async def _stream_async() -> None:
    server = FakeRunsServer(clock=ManualClock())
    server.script(Script().delta("Hel").delta("lo").complete("Hello"))
    async with (
        httpx.AsyncClient(
            transport=server.async_transport(),
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {server.api_key}"},
        ) as http,
        http.stream("POST", CHAT, json=ask("hi", stream=True)) as response,
    ):
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    contents = re.findall(rb'"content": "([^"]*)"', body)
    assert contents == [b"Hel", b"lo"]


def _streamed(server: FakeRunsServer, path: str, body: dict[str, object]) -> bytes:
    with client(server) as http, http.stream("POST", path, json=body) as response:
        return b"".join(response.iter_raw())


def test_stream_faults_on_a_chat_stream() -> None:
    from agentfakes.faults import drop_stream, malformed_frame, no_terminal, stall

    server = FakeRunsServer(clock=ManualClock(1000.0), strict=False)
    server.script(Script().delta("a").delta("b").delta("c").complete("abc"))
    server.fault(no_terminal(), on="chat.completions")
    cut = _streamed(server, CHAT, ask("x", stream=True))
    assert (
        b'"content": "c"' in cut and b"[DONE]" not in cut and b'"finish_reason": "stop"' not in cut
    )

    server.fault(malformed_frame(after=1), on="chat.completions")
    broken = _streamed(server, CHAT, ask("x", stream=True))
    assert broken.count(b"\n\n") == 6 and b'"content": "a"' not in broken

    server.fault(stall(40, after=2), on="chat.completions")
    stalled = _streamed(server, CHAT, ask("x", stream=True))
    assert stalled.count(b": keepalive\n\n") == 1
    assert server.clock.now() == 1040.0

    server.fault(drop_stream(after=2), on="chat.completions")
    with pytest.raises(httpx.HTTPError):
        _streamed(server, CHAT, ask("x", stream=True))


def test_a_stream_fault_cuts_a_responses_stream() -> None:
    from agentfakes.faults import no_terminal

    server = FakeRunsServer(clock=ManualClock(), strict=False)
    server.script(Script().delta("hi").complete("hi"))
    server.fault(no_terminal(), on="responses.create")
    body = _streamed(server, "/v1/responses", {"input": "x", "stream": True})
    assert b"response.output_text.delta" in body and b"response.completed" not in body


def test_a_response_stream_left_early_is_stored_incomplete() -> None:
    clock = ManualClock(1000.0)
    server = FakeRunsServer(clock=clock)
    server.script(Script().delta("part").wait(60).delta(" two").complete("part two"))
    with client(server) as http:
        body = {"input": "x", "stream": True}
        with http.stream("POST", "/v1/responses", json=body) as response:
            frames = response.iter_raw()
            created = next(frames)
            response_id = created.split(b'"id": "')[1].split(b'"')[0].decode()
            assert b"in_progress" in created
            while b"output_text.delta" not in next(frames):
                pass
        stored = http.get(f"/v1/responses/{response_id}").json()
    assert stored["status"] == "incomplete"
    assert stored["output"][-1]["content"][0]["text"] == "part"
    assert len(server.store.turns) == 1 and server.store.active_count() == 0


def test_profile_prefix_and_journal_helpers() -> None:
    server = FakeRunsServer(clock=ManualClock())
    server.script(Script().complete("hi"))
    with client(server) as http:
        assert http.post("/p/default/v1/chat/completions", json=ask("x")).status_code == 200
        assert http.post("/p/ops/v1/responses", json={"input": "x"}).status_code == 200
        http.post("/api/sessions", json={"id": "s"})
        http.get("/api/jobs")
    journal = server.requests
    assert [e.endpoint for e in journal.chat_completions()] == ["chat.completions"]
    assert [e.endpoint for e in journal.responses()] == ["responses.create"]
    assert [e.endpoint for e in journal.sessions()] == ["sessions.create"]
    assert [e.endpoint for e in journal.jobs()] == ["jobs.list"]
