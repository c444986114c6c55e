"""`ApiRequest` and `ApiResponse`: what every transport hands the app and gets back.

The seam between the api and the transports (ARCHITECTURE.md, seam 2): a transport turns
its client's request into an `ApiRequest`, calls `HermesApp.handle`, and writes the
`ApiResponse` back — a body of bytes, or a stream it iterates (sync or async) and closes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class ApiRequest:
    """A request as every transport hands it in: headers lower-cased, body raw."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    query: str = ""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


class StreamBody(Protocol):
    """A streamed response body: bytes chunk by chunk, read once, sync or async."""

    def __iter__(self) -> Iterator[bytes]: ...

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    def close(self) -> None: ...


class StreamDropped(Exception):
    """A stream fault cut the connection mid-body; each transport acts it out."""


@dataclass
class ApiResponse:
    """What the server answers: a body, or a stream of SSE frames.

    `delay` is time the real server spends before it answers (the ~1 s of polling before a
    stream 404, spec §2.3); the transport lets it pass on its clock, outside the store lock.
    """

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: StreamBody | None = None
    run_id: str | None = None  # the run this request created or touched, for the journal
    delay: float = 0.0

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")

    def json(self) -> Any:
        return json.loads(self.body)
