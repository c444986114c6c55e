"""In-process recording: respx routes the app's httpx requests for the fake's base URL to
the `Recorder`; only the real server's host passes through (the recorder's own upstream
requests); every other host is still refused, as in `server.mock()`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpx
import respx

from agentfakes.api import ApiResponse, StreamBody, StreamDropped
from agentfakes.recording.recorder import Recorder
from agentfakes.transports.httpx_client import to_api_request
from agentfakes.transports.respx_mock import UnmockedRequest

__all__ = ["recording_mock"]

_ASYNC: ContextVar[bool] = ContextVar("agentfakes_recording_async", default=False)


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A held (or locally replayed) stream as an httpx body, for sync and async clients."""

    def __init__(self, reader: StreamBody) -> None:
        self.reader = reader

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.reader
        except StreamDropped:
            raise httpx.RemoteProtocolError("peer closed connection mid-body") from None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.reader:
                yield chunk
        except StreamDropped:
            raise httpx.RemoteProtocolError("peer closed connection mid-body") from None

    def close(self) -> None:
        self.reader.close()

    async def aclose(self) -> None:
        self.reader.close()


def _to_httpx(response: ApiResponse, request: httpx.Request) -> httpx.Response:
    headers = httpx.Headers(response.headers)
    if response.stream is not None:
        stream = _Body(response.stream)
        return httpx.Response(response.status, headers=headers, stream=stream, request=request)
    return httpx.Response(response.status, headers=headers, content=response.body, request=request)


class _Router(respx.MockRouter):
    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        token = _ASYNC.set(True)
        try:
            return await super().async_handler(request)
        finally:
            _ASYNC.reset(token)


@contextmanager
def recording_mock(recorder: Recorder, base_url: str) -> Iterator[respx.MockRouter]:
    """While open, httpx requests for `base_url` are recorded against the real server."""
    base = httpx.URL(base_url)
    upstream = httpx.URL(recorder.upstream)
    router = _Router(assert_all_called=False, assert_all_mocked=True)
    pattern: dict[str, Any] = {"scheme": base.scheme, "host": base.host}
    if base.port is not None:
        pattern["port"] = base.port

    def serve_sync(request: httpx.Request) -> httpx.Response:
        response = recorder.handle(to_api_request(request, request.read()))
        return _to_httpx(response, request)

    async def serve_async(request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = await asyncio.to_thread(recorder.handle, to_api_request(request, body))
        return _to_httpx(response, request)

    def serve(request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        return serve_async(request) if _ASYNC.get() else serve_sync(request)

    router.route(**pattern).mock(side_effect=serve)
    passing: dict[str, Any] = {"host": upstream.host}
    if upstream.port is not None:
        passing["port"] = upstream.port
    router.route(**passing).pass_through()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise UnmockedRequest(
            f"agentfakes (recording): the app sent {request.method} {request.url}, but only "
            f"{base_url} (recorded against {recorder.upstream}) is served, and nothing else "
            "may reach the network"
        )

    router.route().mock(side_effect=refuse)
    with router:
        yield router
