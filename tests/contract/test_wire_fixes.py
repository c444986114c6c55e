"""Wire fixes found by trying real clients and fuzzing against the real 0.19.0 server.

Each case runs in-process and over loopback (see conftest). Every one of them failed on
the flat 0.1 layout.
"""

from __future__ import annotations

import json

import pytest

from agentfakes.script import Script

from .conftest import CLOSED, MakeApi, assert_json, auto_clock, err, run404

CRASH = b"500 Internal Server Error\n\nServer got itself in trouble"


def test_early_failure_writes_error_before_last_event(make_api: MakeApi) -> None:
    """spec §3: keys in first-set order; `_set_run_status(error=..., last_event=...)`."""
    api = make_api(clock=auto_clock())
    api.server.script(Script().fail("kaboom"))
    run_id = api.create()
    response = api.get(f"/v1/runs/{run_id}")
    assert list(response.json())[-2:] == ["error", "last_event"]
    assert response.content.index(b'"error"') < response.content.index(b'"last_event"')


@pytest.mark.parametrize("method", ["OPTIONS", "GET"])
def test_cors_refusal_has_no_content_type(make_api: MakeApi, method: str) -> None:
    """spec §1.2: the CORS 403 is a bare status: empty body, no Content-Type header."""
    api = make_api()
    response = api.request(method, "/health", headers={"Origin": "http://app.example"})
    assert (response.status_code, response.content) == (403, b"")
    assert "content-type" not in response.headers


@pytest.mark.parametrize(
    ("name", "body", "headers"),
    [
        ("utf-8 BOM", b"\xef\xbb\xbf" + b'{"input": "hi"}', {}),
        ("utf-8 BOM, array", b"\xef\xbb\xbf[]", {}),
        ("utf-16", '{"input": "hi"}'.encode("utf-16"), {}),
        ("utf-32", '{"input": "hi"}'.encode("utf-32"), {}),
        ("latin-1 bytes", b'{"input": "caf\xe9"}', {}),
        (
            "unknown charset",
            b'{"input": "hi"}',
            {"Content-Type": "application/json; charset=x-nope"},
        ),
        ("too deep", b"[" * 100_000 + b"]" * 100_000, {}),
    ],
)
def test_bodies_that_are_not_strict_json_are_invalid_json(
    make_api: MakeApi, name: str, body: bytes, headers: dict[str, str]
) -> None:
    """aiohttp's `request.json()` decodes with the request charset (UTF-8 by default),
    strictly, then `json.loads`; any failure is the handler's 400 Invalid JSON."""
    api = make_api()
    response = api.post("/v1/runs", content=body, headers=headers)
    assert_json(response, 400, err("Invalid JSON", None))


def test_declared_charset_is_honoured(make_api: MakeApi) -> None:
    """The flip side: a UTF-16 body that says so in Content-Type is read as UTF-16."""
    api = make_api(clock=auto_clock())
    api.server.script(Script().answer("ok"))
    body = json.dumps({"input": "hi"}).encode("utf-16-le")
    response = api.post(
        "/v1/runs", content=body, headers={"Content-Type": "application/json; charset=utf-16-le"}
    )
    assert response.status_code == 202


def test_a_chunked_body_over_the_limit_is_invalid_json(make_api: MakeApi) -> None:
    """No Content-Length (chunked): the 413 middleware cannot see it; aiohttp's
    client_max_size then fails inside `request.json()`, which the handler reports as 400."""
    api = make_api()
    payload = b'{"input": "' + b"x" * 10_000_001 + b'"}'

    def chunks() -> object:
        for start in range(0, len(payload), 1 << 20):
            yield payload[start : start + (1 << 20)]

    response = api.post("/v1/runs", content=chunks())
    assert_json(response, 400, err("Invalid JSON", None))


def test_history_part_text_not_a_string_crashes_like_the_real_handler(
    make_api: MakeApi,
) -> None:
    """spec §2.1/§1.5: `" ".join(part.get("text", "") ...)` raises TypeError on a number."""
    api = make_api()
    body = {
        "input": [
            {"role": "user", "content": [{"type": "text", "text": 5}]},
            {"role": "user", "content": "now"},
        ]
    }
    response = api.post("/v1/runs", json=body)
    assert (response.status_code, response.content) == (500, CRASH)
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "path", ["/v1/runs/{run}", "/v1/runs/a{b", "/v1/runs/x}/events", "/v1/runs/{x}/stop"]
)
def test_a_segment_with_braces_is_no_run_id(make_api: MakeApi, path: str) -> None:
    """aiohttp's `{run_id}` matches `[^{}/]+`: such a path matches no route at all."""
    api = make_api()
    method = "POST" if path.endswith("/stop") else "GET"
    response = api.request(method, path)
    assert (response.status_code, response.content) == (404, b"404: Not Found")
    assert response.headers["content-type"].startswith("text/plain")


def test_events_404_pause_is_on_the_engine_clock(make_api: MakeApi) -> None:
    """spec §2.3: the ~1 s of polling before the 404 moves a manual clock by 1 s."""
    api = make_api(clock=auto_clock())
    api.server.script(Script().answer("hi"))
    run_id = api.create()
    assert api.read(run_id)[-1] == CLOSED
    before = api.clock.now()
    assert_json(api.get_events(run_id), 404, run404(run_id))
    assert api.clock.now() - before == 1.0
