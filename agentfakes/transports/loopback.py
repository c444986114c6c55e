"""A real HTTP/1.1 server on 127.0.0.1 for ANY ASGI app, via uvicorn.

For clients that are not httpx (requests, aiohttp, curl, other languages, subprocesses):
`serve()` runs the app's ASGI adapter here, and the recording proxy is a second ASGI app on
the same runner. uvicorn speaks HTTP/1.1 (chunked SSE included). The socket is bound and
listening before `start()` returns, so there is no start-up race; only 127.0.0.1 is bound.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn

Scope = dict[str, Any]
AsgiApp = Any  # an ASGI 3 callable: (scope, receive, send) -> awaitable


class _Lifespan:
    """Wraps an ASGI app: answers uvicorn's lifespan messages and says when the loop runs."""

    def __init__(self, inner: AsgiApp) -> None:
        self.inner = inner
        self.started = threading.Event()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.inner(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
                self.started.set()
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


class _QuietAbortedCycles(logging.Filter):
    """uvicorn logs an error when a fault drops a connection on purpose: hide just that."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "ASGI callable returned without" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietAbortedCycles())


class LoopbackServer:
    """`asgi_app` served on 127.0.0.1; `with LoopbackServer(app) as url:` gives its base URL."""

    def __init__(self, asgi_app: AsgiApp, *, port: int = 0) -> None:
        self.asgi_app = asgi_app
        # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets whose proto
        # says TCP, and without it every response waits ~40 ms on Nagle + delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self._socket.listen(128)
        self.host, self.port = self._socket.getsockname()[:2]
        self.url = f"http://{self.host}:{self.port}"
        self._app = _Lifespan(asgi_app)
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
        return self.url

    def stop(self) -> None:
        """Stop uvicorn and join its thread (close the app's open streams first)."""
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

    def __repr__(self) -> str:
        return f"<LoopbackServer {self.url}>"
