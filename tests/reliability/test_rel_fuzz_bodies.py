"""Fuzzed bodies for every POST endpoint, odd paths and methods for every route: each gets
exactly the real server's answer as the spec gives it (§1.1, §1.5, §1.6, §2.1, §2.4, §2.5).

The oracle (`reliability_support.expected_create` / `expected_approval_body`) replays the
real handler's checks on the parsed body; the fake must agree byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability_support import (
    CRASH,
    INVALID_KEY,
    STATS,
    answer_of,
    error,
    expected_approval_body,
    expected_create,
    profile,
    run_not_found,
)

from agentfakes import FakeRunsServer, ManualClock, Script

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
MESSAGE = st.fixed_dictionaries(
    {},
    optional={
        "role": st.sampled_from(["user", "assistant", "", None, 1]),
        "content": st.one_of(
            st.text(max_size=5),
            st.none(),
            st.integers(0, 2),
            st.lists(
                st.fixed_dictionaries(
                    {"type": st.sampled_from(["text", "input_text"])},
                    optional={"text": st.text(max_size=3) | st.integers(0, 2)},
                ),
                max_size=2,
            ),
        ),
    },
)
INPUTS = st.one_of(
    st.text(max_size=5),
    st.lists(MESSAGE | JSON, max_size=3),
    JSON,
)
CREATE_OBJECTS = st.fixed_dictionaries(
    {},
    optional={
        "input": INPUTS,
        "conversation_history": st.one_of(JSON, st.lists(MESSAGE, max_size=2)),
        "session_id": JSON,
        "model": JSON,
        "instructions": JSON,
    },
)


def encodings(value: Any) -> st.SearchStrategy[bytes]:
    """One JSON value as the bytes a client might send: plain, with a BOM, as UTF-16/32,
    with raw non-ASCII, or cut short."""
    text = json.dumps(value)
    return st.sampled_from(
        [
            text.encode(),
            json.dumps(value, ensure_ascii=False).encode(),
            b"\xef\xbb\xbf" + text.encode(),
            text.encode("utf-16"),
            text.encode("utf-32-le"),
            text.encode()[: max(0, len(text) // 2)],
            b"  \n" + text.encode() + b"\n",
        ]
    )


BODIES = st.one_of(
    CREATE_OBJECTS.flatmap(encodings),
    JSON.flatmap(encodings),
    st.binary(max_size=12),
    st.sampled_from(
        [
            b"",
            b"[" * 50_000 + b"]" * 50_000,
            b'{"input": "x"' + b" " * 10,
            b"NaN",
            b'{"input": NaN}',
        ]
    ),
)


@pytest.fixture(scope="module")
def client() -> Iterator[tuple[FakeRunsServer, httpx.Client]]:
    server = FakeRunsServer(clock=ManualClock(), strict=False, max_concurrent_runs=0)
    server.script(Script().answer("ok"))
    with httpx.Client(
        transport=server.transport(),
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.api_key}"},
    ) as http:
        yield server, http


@profile(ci_examples=300)
@given(raw=BODIES)
def test_create_answers_every_body_as_the_real_server(
    client: tuple[FakeRunsServer, httpx.Client], raw: bytes
) -> None:
    _server, http = client
    response = http.post("/v1/runs", content=raw)
    STATS["fuzzed bodies"] += 1
    expected = expected_create(raw)
    if expected is None:
        assert response.status_code == 202, (raw[:80], response.text)
        assert response.json()["status"] == "started"
    else:
        assert answer_of(response) == expected, raw[:80]
    if expected == (500, CRASH):
        assert response.headers["content-type"].startswith("text/plain")


@profile(ci_examples=200)
@given(
    raw=st.one_of(
        BODIES,
        st.builds(
            lambda v, a: json.dumps({"choice": v, "all": a}).encode(),
            JSON | st.sampled_from(["once", " Approve ", "ALLOW", "deny", "session", "always"]),
            JSON,
        ),
    )
)
def test_approval_answers_every_body_as_the_real_server(
    client: tuple[FakeRunsServer, httpx.Client], raw: bytes
) -> None:
    server, http = client
    server.queue(
        Script()
        .tool_started("terminal")
        .approval("rm -rf /", "root")
        .tool_completed("terminal")
        .answer("ok")
    )
    run_id = http.post("/v1/runs", json={"input": "gate"}).json()["run_id"]
    response = http.post(f"/v1/runs/{run_id}/approval", content=raw)
    STATS["fuzzed bodies"] += 1
    failure, choice, _ = expected_approval_body(raw)
    if failure is not None:
        assert answer_of(response) == failure, raw[:80]
    else:
        assert answer_of(response) == (
            200,
            {
                "object": "hermes.run.approval_response",
                "run_id": run_id,
                "choice": choice,
                "resolved": 1,
            },
        )
    http.post(f"/v1/runs/{run_id}/stop")  # 200, or 404 once the answer ended it
    # the same body on an unknown run: 404 comes before the body is read (spec §10.37)
    unknown = http.post("/v1/runs/run_nope/approval", content=raw)
    assert answer_of(unknown) == (404, run_not_found("run_nope"))


@profile(ci_examples=60)
@given(raw=BODIES)
def test_stop_never_reads_its_body(client: tuple[FakeRunsServer, httpx.Client], raw: bytes) -> None:
    server, http = client
    server.queue(Script().wait(10).answer("ok"))
    run_id = http.post("/v1/runs", json={"input": "x"}).json()["run_id"]
    response = http.post(f"/v1/runs/{run_id}/stop", content=raw)
    assert answer_of(response) == (200, {"run_id": run_id, "status": "stopping"})


def test_huge_chunked_and_odd_content_types(client: tuple[FakeRunsServer, httpx.Client]) -> None:
    _server, http = client
    big = http.post("/v1/runs", content=b"{}", headers={"Content-Length": "10000001"})
    assert answer_of(big) == (
        413,
        error("Request body too large.", "body_too_large"),
    )
    bad_length = http.post("/v1/runs", content=b"{}", headers={"Content-Length": "ten"})
    assert bad_length.status_code == 400
    assert bad_length.json()["error"]["code"] == "invalid_content_length"

    def chunks() -> Iterator[bytes]:
        yield b'{"inp'
        yield b'ut": "chunked"}'

    chunked = http.post("/v1/runs", content=chunks())
    assert chunked.status_code == 202  # no Content-Length: the body is read whole
    form = http.post(
        "/v1/runs",
        content=b'{"input": "form"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 202  # §1.6: the content type is never checked
    utf16 = json.dumps({"input": "x"}).encode("utf-16")
    declared = http.post(
        "/v1/runs", content=utf16, headers={"Content-Type": "application/json; charset=utf-16"}
    )
    assert declared.status_code == 202  # aiohttp decodes with the declared charset


ROUTES = [
    ("POST", "/v1/runs"),
    ("GET", "/v1/runs/run_x"),
    ("GET", "/v1/runs/run_x/events"),
    ("POST", "/v1/runs/run_x/approval"),
    ("POST", "/v1/runs/run_x/stop"),
    ("GET", "/health/detailed"),
    ("GET", "/v1/models"),
    ("GET", "/v1/capabilities"),
]
ALLOW = {  # spec §1.1: a wrong method gets 405 with the methods the path has
    "/v1/runs": "POST",
    "/v1/runs/run_x": "GET",
    "/v1/runs/run_x/events": "GET",
    "/v1/runs/run_x/approval": "POST",
    "/v1/runs/run_x/stop": "POST",
    "/health": "GET",
    "/v1/models": "GET",
}


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-key-0123456789", "bearer {key}", "{key}", "Bearer"]
)
def test_wrong_or_missing_key_gets_the_exact_401_everywhere(
    client: tuple[FakeRunsServer, httpx.Client], method: str, path: str, authorization: str | None
) -> None:
    server, http = client
    headers = {"Authorization": (authorization or "").format(key=server.api_key)}
    response = http.request(method, path, headers=headers, content=b"{bad")
    assert answer_of(response) == (401, INVALID_KEY)
    assert response.content == json.dumps(INVALID_KEY).encode()
    STATS["401 checks"] += 1


@pytest.mark.parametrize("path", sorted(ALLOW))
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_odd_methods_get_aiohttp_405_with_allow(
    client: tuple[FakeRunsServer, httpx.Client], path: str, method: str
) -> None:
    _server, http = client
    response = http.request(method, path)
    if method == ALLOW[path]:
        assert response.status_code != 405
        return
    assert response.status_code == 405 and response.text == "405: Method Not Allowed"
    assert ALLOW[path] in response.headers["Allow"]


@profile(ci_examples=120)
@given(
    path=st.one_of(
        st.sampled_from(
            [
                "/",
                "/v1",
                "/v1/runs/",
                "/v1/runs/a/b/c",
                "/v1/run",
                "/V1/RUNS",
                "/p/x/v1/nope",
                "//v1/runs",
            ]
        ),
        st.lists(
            st.sampled_from(["v1", "runs", "x", "events", "p", "health", "..", "%20"]), max_size=4
        ).map(lambda parts: "/" + "/".join(parts)),
    ),
    method=st.sampled_from(["GET", "POST", "DELETE"]),
)
def test_odd_paths_are_aiohttp_404_or_a_real_route(
    client: tuple[FakeRunsServer, httpx.Client], path: str, method: str
) -> None:
    _server, http = client
    response = http.request(method, path, content=b"{}")
    STATS["odd paths"] += 1
    assert response.status_code in (200, 202, 400, 401, 404, 405, 501), (path, response.status_code)
    if response.status_code == 404 and not response.headers["content-type"].startswith(
        "application/json"
    ):
        assert response.text == "404: Not Found"
    if response.status_code == 405:
        assert response.text == "405: Method Not Allowed" and response.headers["Allow"]
    assert response.status_code != 500
