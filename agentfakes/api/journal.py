"""`Journal`: every request the app made, with what the fake answered.

Each entry names its endpoint as the one route table does (`runs.create`, `runs.poll`, …);
nothing here parses URLs.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

REDACTED = "Bearer ***"
# The 0.1 short names of the Runs endpoints, still offered as `entry.action`.
_ACTIONS = {
    "runs.create": "create",
    "runs.poll": "poll",
    "runs.events": "events",
    "runs.approval": "approval",
    "runs.stop": "stop",
}


@dataclass(frozen=True)
class JournalEntry:
    """One request the app made and what the fake answered.

    Fields: `method` ("POST"), `path` ("/v1/runs"), `query` (raw, without "?"), `endpoint`
    (the route table's name: "runs.create", "runs.poll", "runs.events", "runs.approval",
    "runs.stop", "probes.health", …; "" for an unknown path), `run_id` (the run the request
    is about, or the one it created), `status` (0 when a transport fault answered), `body`
    (parsed JSON, else text, else None), `headers` (lower-cased, the key redacted) and `at`
    (the engine clock's time). Attributes are the API; `entry["body"]` reads the same field
    for code written against dicts, and `to_dict()` gives all of them.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int
    at: float
    query: str = ""
    run_id: str | None = field(default=None)
    endpoint: str = ""  # the route table's name: runs.create, runs.poll, probes.health, …

    @property
    def action(self) -> str:
        """The 0.1 short name: create, poll, events, approval, stop, or else the path."""
        return _ACTIONS.get(self.endpoint, self.path)

    def __getitem__(self, name: str) -> Any:
        """`entry["body"]` is `entry.body`: every field (and `action`) by name."""
        if name in _FIELDS or name == "action":
            return getattr(self, name)
        raise KeyError(f"a journal entry has no field {name!r}; fields: {', '.join(_FIELDS)}")

    def to_dict(self) -> dict[str, Any]:
        """Every field, as a plain dict (for JSON, or a snapshot)."""
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = (
    "method",
    "path",
    "query",
    "endpoint",
    "run_id",
    "status",
    "body",
    "headers",
    "at",
)


def parse_body(raw: bytes) -> Any:
    """The body as the app meant it: parsed JSON, else text, else None."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def redact(headers: dict[str, str]) -> dict[str, str]:
    """Lower-cased headers with the API key hidden."""
    return {k: (REDACTED if k == "authorization" else v) for k, v in headers.items()}


_SHARED_LIMIT = 64  # distinct header sets (and bodies) remembered for sharing
_SHARED_BODY_BYTES = 1024  # bodies up to this size are shared when they repeat

RawEntry = tuple[str, str, dict[str, str], bytes, int, float, str, "str | None", str]


class Journal(Sequence[JournalEntry]):
    """All requests in order, with helpers for the questions tests ask.

    Recording only keeps the raw pieces; entries (redacted headers, parsed body) are built
    when the test reads the journal, so the app's requests stay cheap.
    """

    def __init__(self) -> None:
        self._raw: list[RawEntry | JournalEntry] = []
        self._built: list[JournalEntry] = []
        # Recent distinct header sets and small bodies: an app sends the same headers
        # (and often the same body) again and again, so each request keeps a shared copy
        # instead of its own dict and strings (nothing mutates a recorded dict or body).
        self._headers: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        self._bodies: dict[bytes, bytes] = {}

    def record(self, entry: JournalEntry) -> None:
        self._raw.append(entry)

    def record_raw(self, entry: RawEntry) -> None:
        method, path, headers, body, status, at, query, run_id, endpoint = entry
        key = tuple(headers.items())
        shared = self._headers.get(key)
        if shared is None:
            if len(self._headers) >= _SHARED_LIMIT:
                self._headers.clear()
            shared = self._headers[key] = headers
        if body and len(body) <= _SHARED_BODY_BYTES:
            known = self._bodies.get(body)
            if known is None:
                if len(self._bodies) >= _SHARED_LIMIT:
                    self._bodies.clear()
                known = self._bodies[body] = body
            body = known
        if run_id is not None:
            run_id = sys.intern(run_id)  # one string per run, however many requests name it
        self._raw.append((method, path, shared, body, status, at, query, run_id, endpoint))

    @property
    def _entries(self) -> list[JournalEntry]:
        for item in self._raw[len(self._built) :]:
            if isinstance(item, JournalEntry):
                self._built.append(item)
                continue
            method, path, headers, body, status, at, query, run_id, endpoint = item
            self._built.append(
                JournalEntry(
                    method=method,
                    path=path,
                    headers=redact(headers),
                    body=parse_body(body),
                    status=status,
                    at=at,
                    query=query,
                    run_id=run_id,
                    endpoint=endpoint,
                )
            )
        return self._built

    @overload
    def __getitem__(self, index: int) -> JournalEntry: ...
    @overload
    def __getitem__(self, index: slice) -> list[JournalEntry]: ...
    def __getitem__(self, index: int | slice) -> JournalEntry | list[JournalEntry]:
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._raw)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(list(self._entries))

    def __repr__(self) -> str:
        lines = [f"  {e.method} {e.path} → {e.status}" for e in self._entries[-10:]]
        return f"<Journal {len(self)} requests>" + ("\n" + "\n".join(lines) if lines else "")

    def filter(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        run_id: str | None = None,
        action: str | None = None,
        status: int | None = None,
        endpoint: str | None = None,
    ) -> list[JournalEntry]:
        """Entries matching every given criterion (path: exact, or a regex with `re:`)."""
        out = []
        for entry in self._entries:
            if method is not None and entry.method != method.upper():
                continue
            if path is not None and not _path_matches(path, entry.path):
                continue
            if run_id is not None and entry.run_id != run_id:
                continue
            if action is not None and entry.action != action:
                continue
            if status is not None and entry.status != status:
                continue
            if endpoint is not None and entry.endpoint != endpoint:
                continue
            out.append(entry)
        return out

    def creates(self) -> list[JournalEntry]:
        return self.filter(endpoint="runs.create")

    def polls(self, run_id: str | None = None) -> list[JournalEntry]:
        return self.filter(endpoint="runs.poll", run_id=run_id)

    def streams(self, run_id: str | None = None) -> list[JournalEntry]:
        return self.filter(endpoint="runs.events", run_id=run_id)

    def stops(self, run_id: str | None = None) -> list[JournalEntry]:
        return self.filter(endpoint="runs.stop", run_id=run_id)

    def approvals(self, run_id: str | None = None) -> list[Any]:
        """The bodies the app POSTed to `/approval` (for one run, or all): the one helper
        that returns bodies, because the choice is the question a test asks
        (`== [{"choice": "once"}]`); `filter(endpoint="runs.approval")` gives the entries."""
        return [e.body for e in self.filter(endpoint="runs.approval", run_id=run_id)]

    def chat_completions(self) -> list[JournalEntry]:
        """Requests to `POST /v1/chat/completions`, JSON and streamed."""
        return self.filter(endpoint="chat.completions")

    def responses(self) -> list[JournalEntry]:
        """Requests to `/v1/responses`: create, get and delete."""
        return self._surface("responses.")

    def sessions(self) -> list[JournalEntry]:
        """Requests to `/api/sessions` and its sub-resources, session chat included."""
        return self._surface("sessions.")

    def jobs(self) -> list[JournalEntry]:
        """Requests to `/api/jobs`."""
        return self._surface("jobs.")

    def _surface(self, prefix: str) -> list[JournalEntry]:
        return [e for e in self._entries if (e.endpoint or "").startswith(prefix)]

    @property
    def last(self) -> JournalEntry:
        if not self._entries:
            raise IndexError("the journal is empty: the app made no request")
        return self._entries[-1]

    def clear(self) -> None:
        self._raw.clear()
        self._built.clear()
        self._headers.clear()
        self._bodies.clear()


def _path_matches(pattern: str, path: str) -> bool:
    if pattern.startswith("re:"):
        return re.search(pattern[3:], path) is not None
    return pattern == path
