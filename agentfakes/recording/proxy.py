"""The recording proxy: an ASGI app that hands every request to a `Recorder` and writes
its answer back (streams chunk by chunk). `LoopbackServer` (transports/loopback.py) runs
it on 127.0.0.1, for apps that are not httpx or not in this process (`agentfakes record`).

The recorder blocks on the network, so each request runs in a worker thread; the event
loop stays free for the app's other requests (a poll while its stream is open)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from agentfakes.api import ApiRequest, ApiResponse, StreamDropped
from agentfakes.transports.asgi import read_request
from agentfakes.transports.loopback import LoopbackServer

__all__ = ["RecordingProxy", "serve_proxy"]

Scope = dict[str, Any]


class RecordingProxy:
    """ASGI 3: request in, `handle(ApiRequest)` in a thread, answer out."""

    def __init__(self, handle: Callable[[ApiRequest], ApiResponse]) -> None:
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = await read_request(scope, receive)
        if request is None:
            return
        try:
            response = await asyncio.to_thread(self.handle, request)
        except Exception as exc:  # the upstream is down, say: tell the app plainly
            text = f"agentfakes recording proxy: {type(exc).__name__}: {exc}".encode()
            response = ApiResponse(502, [("content-type", "text/plain; charset=utf-8")], text)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        if response.stream is None:
            headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if response.stream is None:
            await send({"type": "http.response.body", "body": response.body})
            return
        reader = response.stream

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            reader.close()

        watcher = asyncio.ensure_future(watch_disconnect())
        try:
            async for chunk in reader:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except (StreamDropped, OSError):
            pass
        finally:
            watcher.cancel()
            reader.close()


def serve_proxy(handle: Callable[[ApiRequest], ApiResponse], *, port: int = 0) -> LoopbackServer:
    """The proxy on 127.0.0.1 (a free port by default); `with serve_proxy(...) as url:`."""
    return LoopbackServer(RecordingProxy(handle), port=port)
