"""What-if: how far candidate library optimisations would move figures 1 and 2.

Run from the repository root (about 20 s):

    .venv/bin/python benchmarks/whatif_get.py

The library is not edited: each candidate is monkeypatched into this process only, and
every variant is measured interleaved with the same baseline, as in `bench_server.py`.
Two extra baselines show the floor the fake cannot go below while it stays faithful:
the baseline answering with the fake's exact status, headers and body (the seven
spec-mandated security headers cost the *client* time: httpx copies every response
header into an `email.message.Message` for its cookie jar, twice per response).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import respx
from bench_server import BASE_URL, auth, completed_run, new_server

import agentfakes.transports.httpx_client as ht
from agentfakes.api import ApiRequest, ApiResponse
from agentfakes.server import FakeRunsServer

# ---------------------------------------------------------------- the candidates

_HEADERS: dict[tuple[tuple[str, str], ...], httpx.Headers] = {}


def cached_headers_response(response: ApiResponse, request: httpx.Request) -> httpx.Response:
    """A: build each distinct header list into an `httpx.Headers` once, then copy it
    (`httpx.Headers(Headers)` copies the normalised list instead of re-encoding it)."""
    key = tuple(response.headers)
    headers = _HEADERS.get(key)
    if headers is None:
        headers = _HEADERS[key] = httpx.Headers(response.headers)
    if response.stream is not None:
        return httpx.Response(
            response.status,
            headers=headers,
            stream=ht.SseByteStream(response.stream),
            request=request,
        )
    return httpx.Response(response.status, headers=headers, content=response.body, request=request)


def items_api_request(request: httpx.Request, body: bytes) -> ApiRequest:
    """B: `Headers.items()` already lower-cases and comma-joins repeated headers."""
    return ApiRequest(
        method=request.method,
        path=request.url.path,
        headers=dict(request.headers.items()),
        body=body,
        query=request.url.query.decode("ascii", errors="replace"),
    )


def no_journal(self: FakeRunsServer, request: ApiRequest, status: int, run_id: str | None) -> None:
    """C (a bound, not a proposal): the journal's whole cost per request."""


def lazy_journal(
    self: FakeRunsServer, request: ApiRequest, status: int, run_id: str | None
) -> None:
    """D: keep what a JournalEntry needs as one tuple; redact, parse the body and match the
    run path only when a test reads the journal (this what-if never reads it)."""
    self.requests._entries.append((request, status, run_id, self.clock.now()))  # type: ignore[arg-type]


@contextmanager
def patched(*names: str) -> Any:
    saved = (ht.to_httpx_response, ht.to_api_request, FakeRunsServer._journal)
    try:
        if "A" in names:
            ht.to_httpx_response = cached_headers_response
        if "B" in names:
            ht.to_api_request = items_api_request
        if "C" in names:
            FakeRunsServer._journal = no_journal  # type: ignore[method-assign]
        if "D" in names:
            FakeRunsServer._journal = lazy_journal  # type: ignore[method-assign]
        yield
    finally:
        ht.to_httpx_response, ht.to_api_request = saved[0], saved[1]
        FakeRunsServer._journal = saved[2]  # type: ignore[method-assign]


# ---------------------------------------------------------------- measuring


def each(body: Callable[[], object], n: int) -> float:
    clock = time.perf_counter_ns
    out = []
    for _ in range(n):
        start = clock()
        body()
        out.append(clock() - start)
    return statistics.median(out)


def run(mode: str, rounds: int = 81, ops: int = 30) -> None:
    server = new_server()
    client = httpx.Client(base_url=BASE_URL, headers=auth(server))
    transport_client = httpx.Client(
        transport=server.transport(), base_url=BASE_URL, headers=auth(server)
    )
    with server.mock(verify=False):
        run_id, canned = completed_run(server, client)
    path = f"/v1/runs/{run_id}"
    exact = server.api.handle(ht.to_api_request(client.build_request("GET", path), b""))
    exact_headers, exact_body = list(exact.headers), exact.body

    def plain() -> httpx.Response:
        return httpx.Response(200, json=canned)

    def faithful() -> httpx.Response:
        return httpx.Response(200, headers=exact_headers, content=exact_body)

    def baseline(answer: Callable[[], httpx.Response]) -> tuple[Any, AbstractContextManager[Any]]:
        if mode == "mock":
            router = respx.MockRouter(assert_all_called=False)
            router.route(scheme="http", host="hermes.test").mock(side_effect=lambda r: answer())
            return client, router
        bare = httpx.MockTransport(lambda request: answer())
        return httpx.Client(transport=bare, base_url=BASE_URL, headers=auth(server)), nullcontext()

    fake_client = client if mode == "mock" else transport_client
    variants: dict[str, tuple[Any, Callable[[], AbstractContextManager[Any]]]] = {
        "baseline (canned JSON)": (baseline(plain)[0], lambda: baseline(plain)[1]),
        "baseline with the fake's exact headers+body": (
            baseline(faithful)[0],
            lambda: baseline(faithful)[1],
        ),
    }

    def fake_ctx(*names: str) -> Callable[[], AbstractContextManager[Any]]:
        def make() -> AbstractContextManager[Any]:
            stack = ExitStack()
            stack.enter_context(patched(*names))
            if mode == "mock":
                stack.enter_context(server.mock(verify=False))
            return stack

        return make

    variants["fake as is"] = (fake_client, fake_ctx())
    variants["fake + A (cached response Headers)"] = (fake_client, fake_ctx("A"))
    variants["fake + A + B (headers.items())"] = (fake_client, fake_ctx("A", "B"))
    variants["fake + A + B + D (lazy journal)"] = (fake_client, fake_ctx("A", "B", "D"))
    variants["fake + A + B + C (journal off: a bound)"] = (fake_client, fake_ctx("A", "B", "C"))

    results: dict[str, list[float]] = {name: [] for name in variants}
    order = list(variants)
    for index in range(rounds):
        names = order if index % 2 == 0 else order[::-1]
        for name in names:
            target_client, ctx = variants[name]
            with ctx():
                target_client.get(path)  # warm
                results[name].append(each(partial(target_client.get, path), ops))
        server.requests.clear()
    base = results["baseline (canned JSON)"]
    ratio_target = 1.10 if mode == "mock" else 1.50
    title = "server.mock() vs respx route" if mode == "mock" else "transport() vs MockTransport"
    print(f"\n{title} — GET /v1/runs/{{id}}, target ≤ {ratio_target:.2f}×")
    for name, values in results.items():
        ratios = [v / b for v, b in zip(values, base, strict=True)]
        ratio = statistics.median(ratios)
        print(
            f"  {name:<44} {statistics.median(values) / 1000:7.1f} µs  {ratio:5.2f}×  "
            f"{'PASS' if ratio <= ratio_target else 'MISS'}"
        )


if __name__ == "__main__":
    started = time.perf_counter()
    run("mock")
    run("transport")
    print(f"\ntook {time.perf_counter() - started:.1f} s")
