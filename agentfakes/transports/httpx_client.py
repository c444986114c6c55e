"""httpx transports over the app: a request in, the app's answer out, no sockets.

Used directly (`server.transport()`, `server.async_transport()`) and by `server.mock()`.
A transport gets the app and the clock, never the façade (seam 2). An SSE body is a lazy
byte stream: httpx pulls the frames from the run as they come due; frames already
buffered when it asks come as one chunk, as one socket read would return them.

The request's httpx timeouts hold as they would on a socket, on the engine clock (real,
manual or virtual): an answer or a stream chunk that would come later than the read
timeout raises `httpx.ReadTimeout` at that moment; `None` waits as long as the script
says. Connecting, writing and waiting for the pool take no time in-process (nor on
loopback), so those timeouts cannot fire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx

from agentfakes.api import ApiRequest, ApiResponse, HermesApp, StreamBody, StreamDropped
from agentfakes.api.streaming import StreamTimedOut, TimedStreamBody
from agentfakes.clocks import Clock
from agentfakes.faults import Fault, TransportFault


class SseByteStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A run's event stream as an httpx body, readable by sync and async clients alike."""

    def __init__(
        self,
        reader: StreamBody,
        request: httpx.Request | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.reader = reader
        self.request = request
        self.read_timeout = read_timeout

    def __iter__(self) -> Iterator[bytes]:
        reader = self.reader
        chunks = (
            reader.chunks(self.read_timeout, coalesce=True)
            if isinstance(reader, TimedStreamBody)
            else reader
        )
        try:
            yield from chunks
        except StreamDropped:
            raise _incomplete_body() from None
        except StreamTimedOut:
            raise _read_timeout(self.request) from None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        reader = self.reader
        chunks = (
            reader.achunks(self.read_timeout, coalesce=True)
            if isinstance(reader, TimedStreamBody)
            else reader
        )
        try:
            async for chunk in chunks:
                yield chunk
        except StreamDropped:
            raise _incomplete_body() from None
        except StreamTimedOut:
            raise _read_timeout(self.request) from None

    def close(self) -> None:
        self.reader.close()

    async def aclose(self) -> None:
        self.reader.close()


def _incomplete_body() -> httpx.RemoteProtocolError:
    """What httpx raises when a chunked body is cut short by the peer."""
    return httpx.RemoteProtocolError(
        "peer closed connection without sending complete message body (incomplete chunked read)"
    )


def _read_timeout(request: httpx.Request | None) -> httpx.ReadTimeout:
    """What httpx raises when a socket read times out."""
    return httpx.ReadTimeout("The read operation timed out", request=request)


def _server_disconnected(request: httpx.Request) -> httpx.RemoteProtocolError:
    """What httpx raises when the server closes the connection before any answer."""
    return httpx.RemoteProtocolError(
        "Server disconnected without sending a response.", request=request
    )


def read_timeout_of(request: httpx.Request) -> float | None:
    """The request's read timeout in seconds (httpx puts it in `extensions`); None: none."""
    timeout = request.extensions.get("timeout")
    if not isinstance(timeout, dict):
        return None
    read = timeout.get("read")
    return None if read is None else float(read)


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


_HEADERS_CACHE: dict[tuple[tuple[tuple[str, str], ...], int], httpx.Headers] = {}


def _headers(pairs: list[tuple[str, str]], length: int = 0) -> httpx.Headers:
    """The answer's headers, then `Content-Length: <length>` unless it is 0 or already
    there: what `httpx.Response(content=body)` ends with. httpx copies an existing Headers
    cheaply and the fake answers with few distinct sets (a run id has a fixed length), so
    each set is normalised once."""
    key = (tuple(pairs), length)
    cached = _HEADERS_CACHE.get(key)
    if cached is None:
        if len(_HEADERS_CACHE) > 256:
            _HEADERS_CACHE.clear()
        if length and all(name.lower() != "content-length" for name, _ in pairs):
            pairs = [*pairs, ("Content-Length", str(length))]
        cached = _HEADERS_CACHE[key] = httpx.Headers(pairs)
    return cached


def to_httpx_response(
    response: ApiResponse, request: httpx.Request, read_timeout: float | None = None
) -> httpx.Response:
    """The app's answer as the response a transport returns: the body as a stream the
    client reads (as from a socket), not read here first (`content=` would read it at
    once, and respx would then read it again through httpcore)."""
    if response.stream is not None:
        return httpx.Response(
            response.status,
            headers=_headers(response.headers),
            stream=SseByteStream(response.stream, request, read_timeout),
            request=request,
        )
    body = response.body
    return httpx.Response(
        response.status,
        headers=_headers(response.headers, len(body)),
        stream=httpx.ByteStream(body),
        request=request,
    )


def _head_wait(response: ApiResponse, read_timeout: float | None) -> tuple[float, bool]:
    """How long the answer takes to come, and whether the read times out first."""
    if read_timeout is not None and response.delay > read_timeout:
        return read_timeout, True
    return response.delay, False


def serve_sync(app: HermesApp, clock: Clock, request: httpx.Request) -> httpx.Response:
    read_timeout = read_timeout_of(request)
    try:
        response = app.handle(to_api_request(request, request.read()))
    except TransportFault as fault:
        wait, error = _transport_failure(fault.fault, request, read_timeout)
        if wait:
            clock.skip(wait)
        raise error from None
    wait, timed_out = _head_wait(response, read_timeout)
    if wait:
        clock.skip(wait)
    if timed_out:
        _discard(response)
        raise _read_timeout(request)
    return to_httpx_response(response, request, read_timeout)


async def serve_async(app: HermesApp, clock: Clock, request: httpx.Request) -> httpx.Response:
    read_timeout = read_timeout_of(request)
    try:
        response = app.handle(to_api_request(request, await request.aread()))
    except TransportFault as fault:
        wait, error = _transport_failure(fault.fault, request, read_timeout)
        if wait:
            await clock.skip_async(wait)
        raise error from None
    wait, timed_out = _head_wait(response, read_timeout)
    if wait:
        await clock.skip_async(wait)
    if timed_out:
        _discard(response)
        raise _read_timeout(request)
    return to_httpx_response(response, request, read_timeout)


def _discard(response: ApiResponse) -> None:
    """The client gave up before the answer: a stream it will never read is closed."""
    if response.stream is not None:
        response.stream.close()


def _transport_failure(
    fault: Fault, request: httpx.Request, read_timeout: float | None
) -> tuple[float, Exception]:
    """How long the client waits, and the httpx exception it then sees, for a transport
    fault: as on loopback, a silent server holds the line `fault.seconds` then closes it."""
    if fault.transport == "connect_error":
        return 0.0, httpx.ConnectError("[Errno 111] Connection refused", request=request)
    if fault.transport == "read_timeout":
        if read_timeout is not None and read_timeout <= fault.seconds:
            return read_timeout, _read_timeout(request)
        return fault.seconds, _server_disconnected(request)
    return 0.0, httpx.ReadError("[Errno 104] Connection reset by peer", request=request)


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
