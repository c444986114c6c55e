"""`server.mock()`: respx routes every httpx request for `base_url` to the app.

Requests to any other host fail with a message that names the host and how to allow it;
the failure is respx's "not mocked" assertion, so another respx router the test has
active still gets its chance to serve that host. Async clients are served by the async
path (`serve_async`), so waiting for an answer never blocks their event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpx
import respx
from respx.models import AllMockedAssertionError

from agentfakes.api import HermesApp
from agentfakes.clocks import Clock
from agentfakes.errors import UnmockedRequestError
from agentfakes.transports.httpx_client import serve_async, serve_sync

_ASYNC_CLIENT: ContextVar[bool] = ContextVar("agentfakes_async_client", default=False)


class UnmockedRequest(UnmockedRequestError, AllMockedAssertionError):
    """A request for a host the fake does not serve."""


class _AppRouter(respx.MockRouter):
    """Tells the app's route whether an async client sent the request (respx calls side
    effects the same way for both)."""

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        token = _ASYNC_CLIENT.set(True)
        try:
            return await super().async_handler(request)
        finally:
            _ASYNC_CLIENT.reset(token)


@contextmanager
def mock_app(
    app: HermesApp, clock: Clock, base_url: str, *, pass_through: tuple[str, ...]
) -> Iterator[respx.MockRouter]:
    """Route httpx requests for `base_url` to `app` while the context is open."""
    base = httpx.URL(base_url)
    pattern: dict[str, Any]
    router = _AppRouter(assert_all_called=False, assert_all_mocked=True)
    pattern = {"scheme": base.scheme, "host": base.host}
    if base.port is not None:
        pattern["port"] = base.port

    def serve(request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        if _ASYNC_CLIENT.get():
            return serve_async(app, clock, request)  # respx awaits it
        return serve_sync(app, clock, request)

    router.route(**pattern).mock(side_effect=serve)
    for host in pass_through:
        router.route(host=host).pass_through()

    def refuse(request: httpx.Request) -> httpx.Response:
        allowed = ", ".join([base_url, *pass_through])
        raise UnmockedRequest(
            f"agentfakes: the app sent {request.method} {request.url}, but only {allowed} "
            f"is served in-process and nothing may reach the network. Point the app at "
            f"{base_url}, or allow the host with "
            f"server.mock(pass_through=[{request.url.host!r}])."
        )

    router.route().mock(side_effect=refuse)
    with router:
        yield router
