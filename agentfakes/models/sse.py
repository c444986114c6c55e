"""The one SSE codec: how Hermes' event streams are written and read.

Writing is byte for byte what the real server sends: the Runs stream (spec §5.1) and the
chat, responses and session chat dialects (hermes-api-beyond-runs §2.3). Reading follows the
WHATWG event-stream rules (html.spec.whatwg.org, "Parsing an event stream") incrementally,
so a body split anywhere, even inside a UTF-8 character or between CR and LF, still parses.
It knows frames, not events: `events.parse_run_events` reads a Runs stream into RunEvents.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "KEEPALIVE",
    "STREAM_CLOSED",
    "SseFrame",
    "SseParser",
    "encode_done",
    "encode_event",
    "encode_frame",
    "parse_frame",
    "parse_frames",
]

KEEPALIVE = b": keepalive\n\n"  # after 30 s with nothing to send, on every stream (§5.1, §2.3)
STREAM_CLOSED = b": stream closed\n\n"  # the Runs stream's last frame (§5.1)
_DONE = b"data: [DONE]\n\n"  # the chat completions stream's last frame (§2.3)


class _WireShaped(Protocol):
    def to_wire(self) -> dict[str, Any]: ...


# ---------------------------------------------------------------- writing


def encode_frame(
    data: dict[str, Any], *, event: str | None = None, ensure_ascii: bool = True
) -> bytes:
    """One frame: an `event: <name>` line if named, then a single `data: <json>` line.

    The JSON is `json.dumps` with its defaults, as aiohttp writes it (spec §0); only the
    session chat stream writes raw UTF-8 (`ensure_ascii=False`, beyond-runs §2.3).
    """
    payload = json.dumps(data, ensure_ascii=ensure_ascii)
    if event is None:
        return f"data: {payload}\n\n".encode()
    if not event or "\n" in event or "\r" in event:
        raise ValueError(f"an SSE event name is one non-empty line, not {event!r}")
    return f"event: {event}\ndata: {payload}\n\n".encode()


def encode_event(event: _WireShaped) -> bytes:
    """A run event as the Runs stream writes it: `data: <json>\\n\\n`, no `event:` line (§5.1)."""
    return encode_frame(event.to_wire())


def encode_done() -> bytes:
    """`data: [DONE]\\n\\n`, the end of a chat completions stream (beyond-runs §2.3)."""
    return _DONE


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class SseFrame:
    """What the parser hands out: a dispatched event (`data`, and `event` if it was named),
    or one comment line (`comment`, without its `:` and one leading space)."""

    event: str | None = None
    data: str | None = None
    comment: str | None = None


_LINE_END = re.compile(r"\r\n|\r|\n")


class SseParser:
    """Feed it chunks as they arrive; it returns the frames each chunk completes.

    An event is dispatched at its blank line, its `data:` lines joined with "\\n"; a comment
    comes out as soon as its line ends. `id:`, `retry:` and unknown fields are read and
    ignored (Hermes sends none, §5.1). An unfinished frame at the end of the body is never
    returned, as WHATWG says: a client would not have seen it either.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._line = ""  # the unfinished last line
        self._data: list[str] = []
        self._event = ""
        self._started = False  # a BOM is skipped only at the very start
        self._after_cr = False  # the last chunk ended in CR: a LF opening the next ends no line

    def feed(self, chunk: bytes | str) -> list[SseFrame]:
        """The frames completed by `chunk` (bytes are UTF-8, possibly cut mid-character)."""
        text = self._decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
        if not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._after_cr and text.startswith("\n"):
            text = text[1:]
        self._after_cr = text.endswith("\r")
        lines = _LINE_END.split(self._line + text)
        self._line = lines.pop()
        frames: list[SseFrame] = []
        for line in lines:
            frame = self._read_line(line)
            if frame is not None:
                frames.append(frame)
        return frames

    def _read_line(self, line: str) -> SseFrame | None:
        if not line:  # the blank line: dispatch, unless no data came (then only reset)
            if not self._data:
                self._event = ""
                return None
            frame = SseFrame(event=self._event or None, data="\n".join(self._data))
            self._data, self._event = [], ""
            return frame
        if line.startswith(":"):
            return SseFrame(comment=line[1:].removeprefix(" "))
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None


def parse_frames(data: bytes | str) -> list[SseFrame]:
    """Every complete frame of a captured SSE body, comments included, in order."""
    return SseParser().feed(data)


def parse_frame(data: bytes | str) -> SseFrame:
    """The one event frame in `data`, its closing blank line optional (say, a line that
    `iter_lines()` gave); comments around it are skipped."""
    parser = SseParser()
    frames = [f for f in [*parser.feed(data), *parser.feed("\n\n")] if f.data is not None]
    if len(frames) != 1:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        raise ValueError(f"expected one SSE event frame, found {len(frames)} in {text[:80]!r}")
    return frames[0]
