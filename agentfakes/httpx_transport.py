"""httpx transports over the fake server: a request in, the engine's answer out, no sockets.

Used directly (`server.transport()`, `server.async_transport()`) and by `server.mock()`.
An SSE body is a lazy byte stream: httpx pulls one frame at a time from the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx

from agentfakes.api import ApiRequest, ApiResponse
from agentfakes.sse import StreamReader

if TYPE_CHECKING:
    from agentfakes.server import FakeRunsServer


class SseByteStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A run's event stream as an httpx body, readable by sync and async clients alike."""

    def __init__(self, reader: StreamReader) -> None:
        self.reader = reader

    def __iter__(self) -> Iterator[bytes]:
        yield from self.reader

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.reader:
            yield chunk

    def close(self) -> None:
        self.reader.close()

    async def aclose(self) -> None:
        self.reader.close()


def to_api_request(request: httpx.Request, body: bytes) -> ApiRequest:
    headers: dict[str, str] = {}
    for name, value in request.headers.multi_items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return ApiRequest(
        method=request.method,
        path=request.url.path,
        headers=headers,
        body=body,
        query=request.url.query.decode("ascii", errors="replace"),
    )


def to_httpx_response(response: ApiResponse, request: httpx.Request) -> httpx.Response:
    if response.stream is not None:
        return httpx.Response(
            response.status,
            headers=response.headers,
            stream=SseByteStream(response.stream),
            request=request,
        )
    return httpx.Response(
        response.status, headers=response.headers, content=response.body, request=request
    )


def serve_sync(server: FakeRunsServer, request: httpx.Request) -> httpx.Response:
    return to_httpx_response(server.handle(to_api_request(request, request.read())), request)


async def serve_async(server: FakeRunsServer, request: httpx.Request) -> httpx.Response:
    body = await request.aread()
    return to_httpx_response(server.handle(to_api_request(request, body)), request)


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
