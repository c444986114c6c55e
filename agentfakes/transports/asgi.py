"""The app as an ASGI application, for the loopback runner (or any ASGI server).

Request in, `HermesApp.handle`, answer out — frame by frame for streams, with the socket
failures transport faults call for. It gets the app and the clock (seam 2).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from agentfakes.api import ApiRequest, ApiResponse, HermesApp, StreamBody, StreamDropped
from agentfakes.api.errors import text_response
from agentfakes.clocks import ChangeSignal, Clock
from agentfakes.errors import AgentfakesError
from agentfakes.faults import TransportFault

SERVER_HEADER = "Python/3.11 aiohttp/3.14.1"  # what the real server announces

Scope = dict[str, Any]


async def read_request(scope: Scope, receive: Any) -> ApiRequest | None:
    """An ASGI HTTP request as an `ApiRequest` (headers lower-cased, the whole body), or
    None if the client went away first."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    return ApiRequest(
        method=scope["method"],
        path=scope["path"],
        headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
        body=body,
        query=scope.get("query_string", b"").decode("latin-1"),
    )


class HermesAsgi:
    """The ASGI app: request in, the app's answer out."""

    def __init__(self, app: HermesApp, clock: Clock, signal: ChangeSignal) -> None:
        self.app = app
        self.clock = clock
        self.signal = signal  # notified when a client goes away, so waiting readers look
        self.readers: set[StreamBody] = set()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = await read_request(scope, receive)
        if request is None:
            return
        try:
            response = self.app.handle(request)
        except TransportFault as fault:
            await self._socket_failure(fault, send)
            return
        except AgentfakesError as exc:  # no script for a run, say: tell the client plainly
            response = text_response(500, f"agentfakes: {exc}".encode())
        if response.delay:
            await self.clock.skip_async(response.delay)
        await self._start(send, response)
        if response.stream is None:
            await send({"type": "http.response.body", "body": response.body})
            return
        await self._stream(response.stream, receive, send)

    async def _start(self, send: Any, response: ApiResponse) -> None:
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        headers.append((b"server", SERVER_HEADER.encode()))
        if response.stream is None:
            headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})

    async def _stream(self, reader: StreamBody, receive: Any, send: Any) -> None:
        """Write each frame as its own chunk; a client that goes away closes the reader."""
        self.readers.add(reader)

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            reader.close()
            self.signal.notify()

        watcher = asyncio.ensure_future(watch_disconnect())
        try:
            async for chunk in reader:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except StreamDropped:
            _abort(send, reset=False)
        except OSError:
            pass
        finally:
            watcher.cancel()
            reader.close()
            self.readers.discard(reader)

    async def _socket_failure(self, fault: TransportFault, send: Any) -> None:
        """Act out a transport fault on the real socket (spec-free: what networks do)."""
        kind = fault.fault.transport
        if kind == "read_timeout":
            clock, signal = self.clock, self.signal
            deadline = clock.now() + fault.fault.seconds
            while clock.now() < deadline:
                await clock.wait_async(signal, signal.version, deadline)
        _abort(send, reset=kind == "connection_reset")

    def close_streams(self) -> None:
        for reader in list(self.readers):
            reader.close()
        self.signal.notify()


def _abort(send: Any, *, reset: bool) -> None:
    """Drop the client's connection now: with a TCP RST when `reset`, else a plain close.

    ASGI has no verb for this, so reach the asyncio transport behind uvicorn's `send`
    (its request cycle keeps it as `.transport`)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("agentfakes: cannot reach the socket behind this ASGI server")
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
