"""The OpenAI Python SDK (2.24.0, the version the quirk was checked with against the real
0.19.0 server) against the fake, in-process (its httpx client on `server.transport()`) and
over a socket (`serve()`): chat completions and responses, plain and streamed, and the
real quirk that a `hermes.tool.progress` frame reaches the caller as a chunk whose
`choices` is None (beyond-runs §7 item 3)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from agentfakes import FakeRunsServer, ManualClock, Script

openai = pytest.importorskip("openai")

HELLO = (
    Script()
    .delta("Hel")
    .delta("lo!")
    .complete("Hello!", usage={"input_tokens": 5, "output_tokens": 2})
)
TOOL = (
    Script()
    .tool("terminal", "ls", arguments={"command": "ls"}, result="a.txt")
    .delta("\n\nOne file.")
    .complete("One file.", usage={"input_tokens": 9, "output_tokens": 3})
)


@pytest.fixture(params=["transport", "serve"])
def client(request: pytest.FixtureRequest) -> Iterator[tuple[FakeRunsServer, object]]:
    server = FakeRunsServer(clock=ManualClock(1796178195.0), strict=False)
    server.on_input("hello", HELLO)
    server.on_input("files", TOOL)
    if request.param == "transport":
        http = httpx.Client(transport=server.transport())
        sdk = openai.OpenAI(
            api_key=server.api_key,
            base_url=f"{server.base_url}/v1",
            http_client=http,
            max_retries=0,
        )
        yield server, sdk
        http.close()
    else:
        with server.serve() as url:
            yield server, openai.OpenAI(api_key=server.api_key, base_url=f"{url}/v1", max_retries=0)


def test_chat_completion(client: tuple[FakeRunsServer, object]) -> None:
    _, sdk = client
    completion = sdk.chat.completions.create(  # type: ignore[attr-defined]
        model="hermes-agent", messages=[{"role": "user", "content": "hello"}]
    )
    assert completion.choices[0].message.content == "Hello!"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == 7


def test_chat_stream(client: tuple[FakeRunsServer, object]) -> None:
    _, sdk = client
    stream = sdk.chat.completions.create(  # type: ignore[attr-defined]
        model="hermes-agent", messages=[{"role": "user", "content": "hello"}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Hello!"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage.total_tokens == 7


def test_the_sdk_chokes_on_tool_progress_frames(client: tuple[FakeRunsServer, object]) -> None:
    """The real quirk, reproduced: the progress frame becomes a chunk with no choices, so
    the usual `chunk.choices[0]` raises TypeError mid-stream."""
    _, sdk = client
    stream = sdk.chat.completions.create(  # type: ignore[attr-defined]
        model="hermes-agent", messages=[{"role": "user", "content": "files"}], stream=True
    )
    chunks = list(stream)
    progress = [c for c in chunks if c.choices is None]
    assert len(progress) == 2
    assert progress[0].model_extra["status"] == "running"
    assert progress[0].model_extra["tool"] == "terminal"
    with pytest.raises(TypeError):
        "".join(c.choices[0].delta.content or "" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "\n\nOne file."


def test_responses_create(client: tuple[FakeRunsServer, object]) -> None:
    _, sdk = client
    response = sdk.responses.create(model="hermes-agent", input="files")  # type: ignore[attr-defined]
    assert response.status == "completed"
    assert response.output_text == "One file."
    assert [item.type for item in response.output] == [
        "function_call",
        "function_call_output",
        "message",
    ]
    again = sdk.responses.retrieve(response.id)  # type: ignore[attr-defined]
    assert again.id == response.id


def test_responses_stream(client: tuple[FakeRunsServer, object]) -> None:
    _, sdk = client
    events = list(
        sdk.responses.create(model="hermes-agent", input="hello", stream=True)  # type: ignore[attr-defined]
    )
    assert [e.type for e in events] == [
        "response.created",
        "response.output_item.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[-1].response.output_text == "Hello!"


def test_a_client_probes_capabilities_then_streams(client: tuple[FakeRunsServer, object]) -> None:
    _, sdk = client
    capabilities = sdk.get("/capabilities", cast_to=object)  # type: ignore[attr-defined]
    assert capabilities["features"]["chat_completions_streaming"] is True
    stream = sdk.chat.completions.create(  # type: ignore[attr-defined]
        model=capabilities["model"], messages=[{"role": "user", "content": "hello"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello!"
