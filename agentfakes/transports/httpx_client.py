"""httpx transports over the app: a request in, the app's answer out, no sockets.

Used directly (`server.transport()`, `server.async_transport()`) and by `server.mock()`.
A transport gets the app and the clock, never the façade (seam 2). An SSE body is a lazy
byte stream: httpx pulls one frame at a time from the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx

from agentfakes.api import ApiRequest, ApiResponse, HermesApp, StreamBody, StreamDropped
from agentfakes.clocks import Clock
from agentfakes.faults import Fault, TransportFault


class SseByteStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A run's event stream as an httpx body, readable by sync and async clients alike."""

    def __init__(self, reader: StreamBody) -> None:
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


def serve_sync(app: HermesApp, clock: Clock, request: httpx.Request) -> httpx.Response:
    try:
        response = app.handle(to_api_request(request, request.read()))
    except TransportFault as fault:
        raise _transport_failure(clock, fault.fault, request) from None
    if response.delay:
        clock.skip(response.delay)
    return to_httpx_response(response, request)


async def serve_async(app: HermesApp, clock: Clock, request: httpx.Request) -> httpx.Response:
    try:
        response = app.handle(to_api_request(request, await request.aread()))
    except TransportFault as fault:
        raise _transport_failure(clock, fault.fault, request) from None
    if response.delay:
        await clock.skip_async(response.delay)
    return to_httpx_response(response, request)


def _transport_failure(clock: Clock, fault: Fault, request: httpx.Request) -> Exception:
    """The httpx exception an in-process client sees for a transport fault."""
    if fault.transport == "connect_error":
        return httpx.ConnectError("[Errno 111] Connection refused", request=request)
    if fault.transport == "read_timeout":
        if not clock.is_real:
            # the client waited its read timeout for nothing: on virtual time that costs nothing
            timeout = request.extensions.get("timeout", {}).get("read") or fault.seconds
            clock.skip(float(timeout))
        return httpx.ReadTimeout("The read operation timed out", request=request)
    return httpx.ReadError("[Errno 104] Connection reset by peer", request=request)


class FakeTransport(httpx.BaseTransport):
    """`httpx.Client(transport=server.transport())`."""

    def __init__(self, app: HermesApp, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return serve_sync(self.app, self.clock, request)


class AsyncFakeTransport(httpx.AsyncBaseTransport):
    """`httpx.AsyncClient(transport=server.async_transport())`."""

    def __init__(self, app: HermesApp, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await serve_async(self.app, self.clock, request)
