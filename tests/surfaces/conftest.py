"""Fixtures of the surfaces suite (chat completions, responses, sessions, jobs, probes).

Black-box modules (`test_*_blackbox.py`) talk plain HTTP to `target`, a server that
answers the prompts of the drift check's fake LLM: a `[[scenario:NAME]]` marker in the
user message picks the behaviour (complete, tool, fail500, slow), as
`drift/fake_llm.py` does for the real gateway; nothing in those tests reaches into the
fake. Scripted modules build their own `FakeRunsServer` and use its test-side views.

Each black-box case runs in-process (`server.mock()`) and over a socket (`server.serve()`).
The clock is a ManualClock nobody moves, so a scripted wait keeps work in flight.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from agentfakes import FakeRunsServer, ManualClock, Script

JSON_TYPE = "application/json; charset=utf-8"
SECURITY_HEADERS = (
    "content-security-policy",
    "permissions-policy",
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "x-xss-protection",
    "referrer-policy",
)
COMPLETE_TEXT = "Hello from the fake LLM. The answer is 42."
TOOL_TEXT = "The tool ran. The answer is 42."
UPSTREAM_ERROR = "HTTP 500: fake upstream exploded"
# The capture's config (beyond-runs §0): api_max_retries 1, max_concurrent_runs 2.
CAPTURE_CONFIG: dict[str, Any] = {"api_max_retries": 1, "max_concurrent_runs": 2}


def words(text: str) -> list[str]:
    """The fake LLM's deltas: each word with its trailing space."""
    parts = text.split(" ")
    return [p + " " for p in parts[:-1]] + [parts[-1]]


def _deltas(script: Script, text: str, first_prefix: str = "") -> Script:
    for index, word in enumerate(words(text)):
        script = script.delta(first_prefix + word if index == 0 else word)
    return script


def scenario_scripts(server: FakeRunsServer) -> None:
    """The drift fake LLM's scenarios as scripts (11/7/18 tokens per LLM call)."""
    # the real agent follows its text with reasoning.available (runs spec §5.3)
    complete = (
        _deltas(Script(), COMPLETE_TEXT)
        .reasoning(COMPLETE_TEXT)
        .complete(COMPLETE_TEXT, usage={"input_tokens": 11, "output_tokens": 7})
    )
    tool = Script().tool(
        "terminal",
        "echo tool-ran",
        arguments={"command": "echo tool-ran"},
        result='{"output": "tool-ran", "exit_code": 0, "error": null}',
    )
    tool = (
        _deltas(tool, TOOL_TEXT, "\n\n")
        .reasoning(TOOL_TEXT)
        .complete(TOOL_TEXT, usage={"input_tokens": 22, "output_tokens": 14})
    )
    server.on_input("[[scenario:complete]]", complete)
    server.on_input("[[scenario:tool]]", tool)
    server.on_input("[[scenario:fail500]]", Script().fail(UPSTREAM_ERROR))
    server.on_input("[[scenario:slow]]", Script().wait(3600).complete("slow"))
    server.script(complete)


@dataclass
class Target:
    """A black-box target: a base URL, its key and an HTTP client already pointed at it."""

    base_url: str
    api_key: str
    http: httpx.Client

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.api_key}", **kwargs.pop("headers", {})}
        if body is not None and "content" not in kwargs:
            kwargs["json"] = body
        return self.http.post(path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.api_key}", **kwargs.pop("headers", {})}
        return self.http.get(path, headers=headers, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.api_key}", **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)


# `AGENTFAKES_REAL_HERMES="<base url> <key>"` points the black-box modules at a real
# hermes-agent 0.19.0 behind the drift fake LLM (drift/real_hermes.py starts one) instead.
REAL_HERMES = os.environ.get("AGENTFAKES_REAL_HERMES", "").split()


@pytest.fixture(params=["real"] if REAL_HERMES else ["mock", "serve"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The fake, configured like the capture, opened in-process or on 127.0.0.1."""
    if request.param == "real":
        url, key = REAL_HERMES
        with httpx.Client(base_url=url, trust_env=False, timeout=60.0) as http:
            yield Target(url, key, http)
        return
    server = FakeRunsServer(clock=ManualClock(1796178195.0), strict=False, **CAPTURE_CONFIG)
    scenario_scripts(server)
    if request.param == "mock":
        with server.mock(verify=False), httpx.Client(base_url=server.base_url) as http:
            yield Target(server.base_url, server.api_key, http)
    else:
        with (
            server.serve(verify=False) as url,
            httpx.Client(base_url=url, trust_env=False, timeout=10.0) as http,
        ):
            yield Target(url, server.api_key, http)


# ---------------------------------------------------------------- assertions


def assert_json(response: httpx.Response, status: int, body: Any) -> None:
    """Status, content type, security headers and the exact json.dumps bytes."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == JSON_TYPE
    assert response.json() == body
    assert response.content == json.dumps(body).encode("ascii")
    assert_security_headers(response)


def assert_security_headers(response: httpx.Response) -> None:
    missing = [h for h in SECURITY_HEADERS if h not in response.headers]
    assert missing == [], missing


def assert_no_security_headers(response: httpx.Response) -> None:
    present = [h for h in SECURITY_HEADERS if h in response.headers]
    assert present == [], present


def assert_crash(response: httpx.Response) -> None:
    """aiohttp's text/plain 500 (beyond-runs §2.2 shape 6)."""
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "500 Internal Server Error\n\nServer got itself in trouble"
    assert_no_security_headers(response)


def sse_frames(body: bytes) -> list[bytes]:
    """A captured SSE body split into its frames, each with its closing blank line."""
    return [frame + b"\n\n" for frame in body.split(b"\n\n") if frame]


def short(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error"}}


def full(
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    err_type: str = "invalid_request_error",
) -> dict[str, Any]:
    return {"error": {"message": message, "type": err_type, "param": param, "code": code}}
