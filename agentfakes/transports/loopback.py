"""`server.serve()`: the fake server on a real socket, 127.0.0.1 only, via uvicorn.

For clients that are not httpx (requests, aiohttp, curl, other languages, subprocesses).
uvicorn speaks HTTP/1.1 (chunked SSE included); this module is only a small ASGI app that
hands each request to the engine and writes back its answer, frame by frame for streams.
The socket is bound and listening before `serve()` returns, so there is no start-up race.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from agentfakes.api import ApiRequest, ApiResponse, text_response
from agentfakes.errors import AgentfakesError
from agentfakes.faults import TransportFault
from agentfakes.sse import StreamDropped, StreamReader

if TYPE_CHECKING:
    from agentfakes.server import FakeRunsServer

SERVER_HEADER = "Python/3.11 aiohttp/3.14.1"  # what the real server announces

Scope = dict[str, Any]
Message = dict[str, Any]


class _Asgi:
    """The ASGI app: request in, engine answer out."""

    def __init__(self, server: FakeRunsServer) -> None:
        self.server = server
        self.readers: set[StreamReader] = set()
        self.started = threading.Event()  # uvicorn's loop runs and will serve the socket

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = ApiRequest(
            method=scope["method"],
            path=scope["path"],
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            body=body,
            query=scope.get("query_string", b"").decode("latin-1"),
        )
        try:
            response = self.server.handle(request)
        except TransportFault as fault:
            await self._socket_failure(fault, send)
            return
        except AgentfakesError as exc:  # no script for a run, say: tell the client plainly
            response = text_response(500, f"agentfakes: {exc}".encode())
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

    async def _stream(self, reader: StreamReader, receive: Any, send: Any) -> None:
        """Write each frame as its own chunk; a client that goes away closes the reader."""
        self.readers.add(reader)

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            reader.close()
            self.server.engine.signal.notify()

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
            engine = self.server.engine
            deadline = engine.clock.now() + fault.fault.seconds
            while engine.clock.now() < deadline:
                await engine.clock.wait_async(engine.signal, engine.signal.version, deadline)
        _abort(send, reset=kind == "connection_reset")

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
                self.started.set()
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close_streams(self) -> None:
        for reader in list(self.readers):
            reader.close()
        self.server.engine.signal.notify()


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


class _QuietAbortedCycles(logging.Filter):
    """uvicorn logs an error when a fault drops a connection on purpose: hide just that."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "ASGI callable returned without" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietAbortedCycles())


class LoopbackServer:
    """A running loopback server; `with server.serve() as url:` gives its base URL."""

    def __init__(self, server: FakeRunsServer, *, port: int = 0, verify: bool = True) -> None:
        self.server = server
        self.verify = verify
        # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets whose proto
        # says TCP, and without it every response waits ~40 ms on Nagle + delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self._socket.listen(128)
        self.host, self.port = self._socket.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        self._app = _Asgi(server)
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            lifespan="on",
            server_header=False,
            date_header=True,
            timeout_graceful_shutdown=1,
            access_log=False,
        )
        self._uvicorn = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Start serving in a background thread; the socket already accepts connections."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._uvicorn.run,
                kwargs={"sockets": [self._socket]},
                name=f"agentfakes-loopback-{self.port}",
                daemon=True,
            )
            self._thread.start()
            if not self._app.started.wait(timeout=10):
                raise RuntimeError(f"agentfakes: the loopback server on {self.url} did not start")
            self.server.loopback_url = self.url
        return self.url

    def stop(self) -> None:
        """Close open streams, stop uvicorn and join its thread."""
        self._app.close_streams()
        self.server.loopback_url = None
        self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with contextlib.suppress(OSError):
            self._socket.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None and self.verify:
            self.server.verify()

    def __repr__(self) -> str:
        return f"<LoopbackServer {self.url}>"
