"""httpx transports over the fake server: a request in, the engine's answer out, no sockets.

Used directly (`server.transport()`, `server.async_transport()`) and by `server.mock()`.
An SSE body is a lazy byte stream: httpx pulls one frame at a time from the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx

from agentfakes.api import ApiRequest, ApiResponse
from agentfakes.clock import ManualClock
from agentfakes.faults import TransportFault, transport_fault_error
from agentfakes.sse import StreamDropped, StreamReader

if TYPE_CHECKING:
    from agentfakes.server import FakeRunsServer


class SseByteStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A run's event stream as an httpx body, readable by sync and async clients alike."""

    def __init__(self, reader: StreamReader) -> None:
        self.reader = reader

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.reader
        except StreamDropped:
            raise _incomplete_body() from None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.reader:
                yield chunk
        except StreamDropped:
            raise _incomplete_body() from None

    def close(self) -> None:
        self.reader.close()

    async def aclose(self) -> None:
        self.reader.close()


def _incomplete_body() -> httpx.RemoteProtocolError:
    """What httpx raises when a chunked body is cut short by the peer."""
    return httpx.RemoteProtocolError(
        "peer closed connection without sending complete message body (incomplete chunked read)"
    )


def to_api_request(request: httpx.Request, body: bytes) -> ApiRequest:
    # httpx.Headers joins repeated headers with ", " and its keys are lower-cased already.
    headers = dict(request.headers.items())
    return ApiRequest(
        method=request.method,
        path=request.url.path,
        headers=headers,
        body=body,
        query=request.url.query.decode("ascii", errors="replace"),
    )


_HEADERS_CACHE: dict[tuple[tuple[str, str], ...], httpx.Headers] = {}


def _headers(pairs: list[tuple[str, str]]) -> httpx.Headers:
    """httpx copies an existing Headers cheaply; the fake answers with few distinct sets."""
    key = tuple(pairs)
    cached = _HEADERS_CACHE.get(key)
    if cached is None:
        if len(_HEADERS_CACHE) > 256:
            _HEADERS_CACHE.clear()
        cached = _HEADERS_CACHE[key] = httpx.Headers(pairs)
    return cached


def to_httpx_response(response: ApiResponse, request: httpx.Request) -> httpx.Response:
    if response.stream is not None:
        return httpx.Response(
            response.status,
            headers=_headers(response.headers),
            stream=SseByteStream(response.stream),
            request=request,
        )
    return httpx.Response(
        response.status, headers=_headers(response.headers), content=response.body, request=request
    )


def serve_sync(server: FakeRunsServer, request: httpx.Request) -> httpx.Response:
    return _answer(server, request, request.read())


async def serve_async(server: FakeRunsServer, request: httpx.Request) -> httpx.Response:
    return _answer(server, request, await request.aread())


def _answer(server: FakeRunsServer, request: httpx.Request, body: bytes) -> httpx.Response:
    try:
        return to_httpx_response(server.handle(to_api_request(request, body)), request)
    except TransportFault as fault:
        if fault.fault.transport == "read_timeout" and isinstance(server.clock, ManualClock):
            # the client waited its read timeout for nothing: on virtual time that costs nothing
            timeout = request.extensions.get("timeout", {}).get("read") or fault.fault.seconds
            server.clock.advance(float(timeout))
        raise transport_fault_error(fault.fault, request) from None


class FakeTransport(httpx.BaseTransport):
    """`httpx.Client(transport=server.transport())`."""

    def __init__(self, server: FakeRunsServer) -> None:
        self.server = server

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return serve_sync(self.server, request)


class AsyncFakeTransport(httpx.AsyncBaseTransport):
    """`httpx.AsyncClient(transport=server.async_transport())`."""

    def __init__(self, server: FakeRunsServer) -> None:
        self.server = server

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await serve_async(self.server, request)
