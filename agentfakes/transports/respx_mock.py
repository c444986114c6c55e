"""`server.mock()`: respx routes every httpx request for `base_url` to the fake server.

Requests to any other host fail with a message that names the host and how to allow it;
the failure is respx's "not mocked" assertion, so another respx router the test has
active still gets its chance to serve that host.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import respx
from respx.models import AllMockedAssertionError

from agentfakes.errors import UnmockedRequestError
from agentfakes.httpx_transport import serve_sync

if TYPE_CHECKING:
    from agentfakes.server import FakeRunsServer


class UnmockedRequest(UnmockedRequestError, AllMockedAssertionError):
    """A request for a host the fake does not serve."""


@contextmanager
def mock_server(
    server: FakeRunsServer, *, pass_through: tuple[str, ...], verify: bool
) -> Iterator[FakeRunsServer]:
    base = httpx.URL(server.base_url)
    pattern: dict[str, Any]
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
    pattern = {"scheme": base.scheme, "host": base.host}
    if base.port is not None:
        pattern["port"] = base.port
    router.route(**pattern).mock(side_effect=lambda request: serve_sync(server, request))
    for host in pass_through:
        router.route(host=host).pass_through()

    def refuse(request: httpx.Request) -> httpx.Response:
        allowed = ", ".join([server.base_url, *pass_through])
        raise UnmockedRequest(
            f"agentfakes: the app sent {request.method} {request.url}, but only {allowed} "
            f"is served in-process and nothing may reach the network. Point the app at "
            f"{server.base_url}, or allow the host with "
            f"server.mock(pass_through=[{request.url.host!r}])."
        )

    router.route().mock(side_effect=refuse)
    with router:
        yield server
    if verify:
        server.verify()
