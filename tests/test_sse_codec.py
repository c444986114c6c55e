"""The one SSE codec (agentfakes.models.sse): what it writes, byte for byte, and how it reads
back a body cut anywhere (spec §5.1, hermes-api-beyond-runs §2.3, WHATWG parsing rules)."""

from __future__ import annotations

import json

import pytest

from agentfakes.models import (
    ApprovalRequest,
    MessageDelta,
    RunCompleted,
    RunEvent,
    RunUsage,
    ToolCompleted,
    ToolStarted,
    parse_event,
    parse_run_events,
)
from agentfakes.models.sse import (
    KEEPALIVE,
    STREAM_CLOSED,
    SseFrame,
    SseParser,
    encode_done,
    encode_event,
    encode_frame,
    parse_frame,
    parse_frames,
)

RUN_ID = "run_" + "0" * 31 + "1"
T0 = 1795283646.25

EVENTS: list[RunEvent] = [
    MessageDelta(run_id=RUN_ID, timestamp=T0, delta="Déploiement ✓ "),
    ToolStarted(run_id=RUN_ID, timestamp=T0 + 1, tool="terminal", preview="rm -rf build"),
    ApprovalRequest(
        run_id=RUN_ID,
        timestamp=T0 + 2,
        command="rm -rf build",
        pattern_key="rm_rf",
        pattern_keys=["rm_rf"],
        description="delete in root path",
    ),
    ToolCompleted(run_id=RUN_ID, timestamp=T0 + 3, tool="terminal", duration=0.12345),
    RunCompleted(
        run_id=RUN_ID,
        timestamp=T0 + 4,
        output="Fertig 🎉",
        usage=RunUsage(input_tokens=10, output_tokens=5),
    ),
]
BODY = KEEPALIVE + b"".join(encode_event(event) for event in EVENTS) + STREAM_CLOSED


def feed_in_pieces(data: bytes, cuts: list[int]) -> list[SseFrame]:
    parser = SseParser()
    frames: list[SseFrame] = []
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        frames += parser.feed(data[start:end])
    return frames


# ---------------------------------------------------------------- writing


def test_a_run_event_is_one_data_line_of_ascii_json() -> None:
    frame = encode_event(EVENTS[0])
    assert frame == b'data: {"event": "message.delta", "run_id": "' + RUN_ID.encode() + (
        b'", "timestamp": 1795283646.25, "delta": "D\\u00e9ploiement \\u2713 "}\n\n'
    )
    assert frame == f"data: {json.dumps(EVENTS[0].to_wire())}\n\n".encode()
    assert frame.isascii()


def test_to_sse_is_the_codec_frame() -> None:
    for event in EVENTS:
        assert event.to_sse().encode() == encode_event(event)


def test_the_comment_and_terminator_constants() -> None:
    assert KEEPALIVE == b": keepalive\n\n"
    assert STREAM_CLOSED == b": stream closed\n\n"
    assert encode_done() == b"data: [DONE]\n\n"


def test_encode_frame_writes_the_named_dialects() -> None:
    assert encode_frame({"a": "é"}) == b'data: {"a": "\\u00e9"}\n\n'
    assert encode_frame({"a": "é"}, event="delta", ensure_ascii=False) == (
        'event: delta\ndata: {"a": "é"}\n\n'.encode()
    )


@pytest.mark.parametrize("name", ["", "two\nlines", "cr\r"])
def test_an_event_name_is_one_non_empty_line(name: str) -> None:
    with pytest.raises(ValueError, match="one non-empty line"):
        encode_frame({}, event=name)


# ---------------------------------------------------------------- round trips


def test_a_runs_stream_round_trips() -> None:
    parsed = parse_run_events(BODY)
    assert [event.to_wire() for event in parsed] == [event.to_wire() for event in EVENTS]
    assert parse_run_events(BODY.decode()) == parsed


def test_frames_keep_comments_in_order() -> None:
    frames = parse_frames(BODY)
    assert frames[0] == SseFrame(comment="keepalive")
    assert frames[-1] == SseFrame(comment="stream closed")
    assert [frame.event for frame in frames] == [None] * len(frames)
    assert [json.loads(f.data)["event"] for f in frames[1:-1] if f.data] == [
        event.event for event in EVENTS
    ]


def test_every_cut_point_gives_the_same_frames() -> None:
    """Cut once anywhere, including inside a multi-byte character (é ✓ 🎉)."""
    whole = parse_frames(BODY)
    for cut in range(1, len(BODY)):
        assert feed_in_pieces(BODY, [cut]) == whole, f"cut at byte {cut}"


def test_byte_by_byte_feeding_gives_the_same_frames() -> None:
    raw = encode_frame({"text": "naïve 🎉 ✓"}, event="message", ensure_ascii=False)
    assert feed_in_pieces(raw, list(range(1, len(raw)))) == parse_frames(raw)
    assert json.loads(parse_frames(raw)[0].data or "") == {"text": "naïve 🎉 ✓"}


def test_a_frame_is_returned_only_when_its_blank_line_arrives() -> None:
    parser = SseParser()
    assert parser.feed(b'data: {"a": 1}\n') == []
    assert parser.feed(b"\n") == [SseFrame(data='{"a": 1}')]


def test_an_unfinished_frame_at_the_end_is_dropped() -> None:
    assert parse_frames(b"data: 1\n\ndata: 2\n") == [SseFrame(data="1")]
    assert parse_frames(b"data: 1\n\n: trailing comment") == [SseFrame(data="1")]


# ---------------------------------------------------------------- WHATWG line and field rules


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_lf_crlf_and_cr_line_ends(end: str) -> None:
    body = f": keepalive{end}{end}event: x{end}data: a{end}data: b{end}{end}"
    assert parse_frames(body) == [SseFrame(comment="keepalive"), SseFrame(event="x", data="a\nb")]


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    parser = SseParser()
    frames = parser.feed(b"data: a\r") + parser.feed(b"\ndata: b\r") + parser.feed(b"\n\r\n")
    assert frames == [SseFrame(data="a\nb")]


def test_a_lone_cr_then_lf_in_separate_chunks_is_not_a_blank_line() -> None:
    parser = SseParser()
    assert parser.feed("data: a\r") == []
    assert parser.feed("\n") == []  # the LF of the CRLF above, not a second line end
    assert parser.feed("\n") == [SseFrame(data="a")]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert parse_frames("data: one\ndata:two\ndata:  three\ndata\n\n") == [
        SseFrame(data="one\ntwo\n three\n")
    ]


def test_only_one_leading_space_is_stripped_and_empty_data_still_dispatches() -> None:
    assert parse_frames("data:\n\n") == [SseFrame(data="")]
    assert parse_frames("data:   x\n\n") == [SseFrame(data="  x")]


def test_a_frame_without_data_is_not_dispatched_and_resets_its_event_name() -> None:
    assert parse_frames("event: lost\n\ndata: x\n\n") == [SseFrame(data="x")]


def test_id_retry_and_unknown_fields_are_ignored() -> None:
    assert parse_frames("id: 7\nretry: 100\nfoo: bar\ndata: x\n\n") == [SseFrame(data="x")]


def test_a_leading_bom_is_skipped_once() -> None:
    assert parse_frames("\ufeffdata: x\n\n") == [SseFrame(data="x")]
    parser = SseParser()
    assert parser.feed(b"\xef\xbb") + parser.feed(b"\xbfdata: x\n\n") == [SseFrame(data="x")]


def test_a_comment_without_its_space() -> None:
    assert parse_frames(":ping\n\n") == [SseFrame(comment="ping")]


# ---------------------------------------------------------------- the three other dialects


def test_chat_completions_dialect() -> None:
    """data frames, `event: hermes.tool.progress` for tools, `data: [DONE]` (§2.3, §4.3)."""
    chunk = {"object": "chat.completion.chunk", "choices": [{"delta": {"content": "Hi"}}]}
    progress = {"tool": "terminal", "toolCallId": "call_1", "status": "running"}
    body = (
        encode_frame(chunk)
        + encode_frame(progress, event="hermes.tool.progress")
        + KEEPALIVE
        + encode_done()
    )
    assert parse_frames(body) == [
        SseFrame(data=json.dumps(chunk)),
        SseFrame(event="hermes.tool.progress", data=json.dumps(progress)),
        SseFrame(comment="keepalive"),
        SseFrame(data="[DONE]"),
    ]


def test_responses_dialect() -> None:
    """`event: <type>` on every frame, the JSON repeats it, no terminator (§2.3, §5.3)."""
    events = [
        {"type": "response.created", "sequence_number": 0},
        {"type": "response.completed", "sequence_number": 1},
    ]
    body = b"".join(encode_frame(e, event=str(e["type"])) for e in events)
    assert body.startswith(b'event: response.created\ndata: {"type": "response.created"')
    frames = parse_frames(body)
    assert [(f.event, json.loads(f.data or "")) for f in frames] == [(e["type"], e) for e in events]


def test_session_chat_dialect_writes_raw_utf8() -> None:
    """`event: <name>`, JSON with ensure_ascii=False, ends with `event: done` (§2.3)."""
    body = encode_frame({"delta": "¡olé!"}, event="delta", ensure_ascii=False) + encode_frame(
        {}, event="done", ensure_ascii=False
    )
    assert "¡olé!".encode() in body
    assert parse_frames(body) == [
        SseFrame(event="delta", data='{"delta": "¡olé!"}'),
        SseFrame(event="done", data="{}"),
    ]


# ---------------------------------------------------------------- one frame, run events


def test_parse_frame_takes_one_frame_with_or_without_its_blank_line() -> None:
    assert parse_frame("data: x") == SseFrame(data="x")
    assert parse_frame(b": keepalive\r\n\r\ndata: x\r\n\r\n") == SseFrame(data="x")
    with pytest.raises(ValueError, match="expected one SSE event frame, found 0"):
        parse_frame(": keepalive\n\n")
    with pytest.raises(ValueError, match="expected one SSE event frame, found 2"):
        parse_frame("data: 1\n\ndata: 2\n\n")


def test_parse_event_reads_a_whole_frame() -> None:
    frame = encode_event(EVENTS[1])
    assert parse_event(frame) == EVENTS[1]
    assert parse_event(frame.decode().strip()) == EVENTS[1]
    assert parse_event(frame.replace(b"\n", b"\r\n")) == EVENTS[1]
    assert parse_event(json.dumps(EVENTS[1].to_wire())) == EVENTS[1]


def test_a_frame_that_is_not_a_run_event_names_its_position() -> None:
    body = KEEPALIVE + encode_event(EVENTS[0]) + encode_done()
    with pytest.raises(ValueError, match=r"SSE frame 2 is not a Hermes run event: '\[DONE\]'"):
        parse_run_events(body)
