#!/usr/bin/env python3
"""A scripted, deterministic OpenAI-compatible LLM for driving the real Hermes server.

Stdlib only; listens on 127.0.0.1 only.  ``POST /v1/chat/completions`` picks its
behaviour from the first ``[[scenario:NAME]]`` marker found in the request's *user*
messages (string content, or the ``text`` of list parts).  ``GET /v1/models`` lists
``fake-model``.  Anything else is a JSON 404.

The texts below are the contract with the fake server's script book: they are exact.

Per LLM call (every scenario, streamed or not) the usage is fixed::

    {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}

so a Hermes turn with k LLM calls reports 11k / 7k / 18k.

A text answer is split into deltas with ``re.findall(r"\\S+\\s*", text)`` (a word plus
its trailing blanks).  Streamed text (``stream: true``) is framed as OpenAI chunks::

    {"role": "assistant", "content": ""}   (role chunk, no text)
    {"content": "<delta>"}                 one chunk per delta, after its delay
    {} with finish_reason "stop"
    a chunk with "choices": [] and "usage"
    data: [DONE]

A streamed tool call is: a chunk with the call's ``id``, ``type`` and
``function.name`` (arguments ``""``); a chunk with the whole ``arguments`` JSON; a
finish chunk (``finish_reason: "tool_calls"``); the usage chunk; ``[DONE]``.
Non-streamed replies are one ``chat.completion`` object with the same text/tool call.

Ids are deterministic: completion ids ``chatcmpl-fake-<n>`` (n counts requests from 1,
per process); tool-call ids ``call_<scenario>_<k>`` where k = (tool results already in
the conversation) + 1; ``created`` is always 1700000000.

Scenarios (``tools`` = the request carries a non-empty ``tools`` list):

  complete  text ``Hello from the fake LLM. The answer is 42.``
            -> 9 deltas: "Hello ", "from ", "the ", "fake ", "LLM. ", "The ",
               "answer ", "is ", "42."
  approval  with tools and no tool result yet: a tool call
            ``terminal {"command": "rm -rf <scratch>/victim"}`` (Hermes' guard
            reports its first finding, "delete in root path"); before answering,
            ``<scratch>/victim/file.txt`` is (re)created so an approved rm has work.
            Once a tool result is present: ``The command was blocked.`` (4 deltas)
            if the last tool result contains "BLOCKED", else
            ``Removed the scratch directory.`` (4 deltas).
            Without tools: ``ok``.
  fail500   HTTP 500 ``{"error": {"message": "fake upstream exploded",
            "type": "server_error", "code": "internal_error"}}``
  fail401   HTTP 401 ``{"error": {"message": "fake upstream: invalid api key",
            "type": "invalid_request_error", "code": "invalid_api_key"}}``
  slow      text ``"tick " * 60`` -> 60 deltas "tick ", one every 0.5 s (~30 s);
            non-streamed: one reply after 30 s
  medium    text ``"step " * 9 + "done."`` -> 10 deltas, one every 0.3 s (~3 s);
            non-streamed: one reply after 3 s
  loop      with tools: always a tool call
            ``terminal {"command": "echo loop-iteration-<k>"}`` (never stops by
            itself, so Hermes hits agent.max_turns); without tools: ``ok``.
  tool      with tools and no tool result yet: ``terminal {"command": "echo tool-ran"}``;
            once a tool result is present (or without tools):
            ``The tool ran. The answer is 42.`` (7 deltas)
  stall     nothing at all for 35 s (not even headers), then text
            ``Answered after a stall.`` (4 deltas): a run with no event for 30+ s,
            to observe the Runs ``: keepalive`` comment
  echo      text ``turn <N>: <T>``; N = number of user messages received, T = the
            last user message's text with every marker removed, then stripped.
  (none)    text ``ok`` (one delta; e.g. Hermes' auxiliary title-generation calls)
  (unknown marker) as (none)

Every request is appended to ``--log`` as one JSON line (keys: seq, ts, method, path,
scenario, call_no, stream, tools, roles, last_user, messages, reply) and every client
disconnect mid-stream as ``{"seq", "ts", "event": "client_disconnected"}``.

Usage: fake_llm.py --log FILE [--port N] [--scratch ABS_DIR]
  --port 0 (default) picks a free port; the first stdout line is
  ``fake-llm listening on 127.0.0.1:<port>``.  --scratch defaults to
  ``<tempdir>/agentfakes-fake-llm-scratch``; it is created at start and, if this
  process created it, removed on exit (SIGINT or SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MARKER = re.compile(r"\[\[scenario:([a-z0-9_]+)\]\]")
WORD = re.compile(r"\S+\s*")
MODEL = "fake-model"
CREATED = 1700000000
USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}

COMPLETE_TEXT = "Hello from the fake LLM. The answer is 42."
TOOL_TEXT = "The tool ran. The answer is 42."
BLOCKED_TEXT = "The command was blocked."
REMOVED_TEXT = "Removed the scratch directory."
SLOW_TEXT, SLOW_DELAY = "tick " * 60, 0.5
MEDIUM_TEXT, MEDIUM_DELAY = "step " * 9 + "done.", 0.3
STALL_TEXT, STALL_PAUSE = "Answered after a stall.", 35.0
DEFAULT_TEXT = "ok"
ERRORS = {
    "fail500": (
        500,
        {
            "error": {
                "message": "fake upstream exploded",
                "type": "server_error",
                "code": "internal_error",
            }
        },
    ),
    "fail401": (
        401,
        {
            "error": {
                "message": "fake upstream: invalid api key",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        },
    ),
}


# ---- what to answer: pure functions of the request --------------------------------


@dataclass(frozen=True)
class Text:
    text: str
    delay: float = 0.0  # seconds before each delta
    pause: float = 0.0  # seconds before anything at all is sent

    @property
    def deltas(self) -> list[str]:
        return WORD.findall(self.text)


@dataclass(frozen=True)
class ToolCall:
    call_id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpError:
    status: int
    body: dict[str, Any]


Reply = Text | ToolCall | HttpError


def text_of(content: Any) -> str:
    """The text of a message content: a string, or the ``text`` of list parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def scenario_of(messages: list[dict[str, Any]]) -> str | None:
    for message in messages:
        if message.get("role") == "user":
            found = MARKER.search(text_of(message.get("content")))
            if found:
                return found.group(1)
    return None


def plan(scenario: str | None, body: dict[str, Any], scratch: Path) -> Reply:
    """The reply for one chat-completions request (see the module docstring)."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    has_tools = bool(body.get("tools"))
    results = [text_of(m.get("content")) for m in messages if m.get("role") == "tool"]
    next_call = f"call_{scenario}_{len(results) + 1}"
    if scenario in ERRORS:
        return HttpError(*ERRORS[scenario])
    if scenario == "complete":
        return Text(COMPLETE_TEXT)
    if scenario == "approval" and has_tools:
        if results:
            return Text(BLOCKED_TEXT if "BLOCKED" in results[-1] else REMOVED_TEXT)
        victim = scratch / "victim"
        victim.mkdir(parents=True, exist_ok=True)
        (victim / "file.txt").write_text("delete me\n")
        return ToolCall(next_call, "terminal", {"command": f"rm -rf {victim}"})
    if scenario == "loop" and has_tools:
        return ToolCall(
            next_call, "terminal", {"command": f"echo loop-iteration-{len(results) + 1}"}
        )
    if scenario == "tool":
        if has_tools and not results:
            return ToolCall(next_call, "terminal", {"command": "echo tool-ran"})
        return Text(TOOL_TEXT)
    if scenario == "slow":
        return Text(SLOW_TEXT, SLOW_DELAY)
    if scenario == "medium":
        return Text(MEDIUM_TEXT, MEDIUM_DELAY)
    if scenario == "stall":
        return Text(STALL_TEXT, pause=STALL_PAUSE)
    if scenario == "echo":
        users = [m for m in messages if m.get("role") == "user"]
        last = MARKER.sub("", text_of(users[-1].get("content")) if users else "").strip()
        return Text(f"turn {len(users)}: {last}")
    return Text(DEFAULT_TEXT)


def describe(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, Text):
        return {"kind": "text", "text": reply.text, "delay": reply.delay, "pause": reply.pause}
    if isinstance(reply, ToolCall):
        return {
            "kind": "tool_call",
            "id": reply.call_id,
            "name": reply.name,
            "arguments": reply.arguments,
        }
    return {"kind": "http_error", "status": reply.status}


# ---- the server ---------------------------------------------------------------------


class FakeLLM(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, log_path: Path, scratch: Path) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.log_path = log_path
        self.scratch = scratch
        self._lock = threading.Lock()
        self._seq = 0
        self._per_scenario: dict[str, int] = {}

    def next_numbers(self, scenario: str | None) -> tuple[int, int]:
        with self._lock:
            self._seq += 1
            key = scenario or "none"
            self._per_scenario[key] = self._per_scenario.get(key, 0) + 1
            return self._seq, self._per_scenario[key]

    def log(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock, self.log_path.open("a", encoding="utf-8") as f:
            f.write(line)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeLLM

    def log_message(self, format: str, *args: Any) -> None:  # keep stderr quiet
        pass

    # -- plumbing
    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_event(self, payload: dict[str, Any] | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    def do_GET(self) -> None:
        seq, _ = self.server.next_numbers(None)
        self.server.log({"seq": seq, "ts": time.time(), "method": "GET", "path": self.path})
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {
                            "id": MODEL,
                            "object": "model",
                            "created": CREATED,
                            "owned_by": "fake",
                            "context_length": 128000,
                        }
                    ],
                },
            )
        else:
            self._send_json(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        scenario = scenario_of(messages)
        seq, call_no = self.server.next_numbers(scenario)
        on_path = self.path.rstrip("/").endswith("/chat/completions")
        reply = plan(scenario, body, self.server.scratch) if on_path else None
        users = [m for m in messages if m.get("role") == "user"]
        self.server.log(
            {
                "seq": seq,
                "ts": time.time(),
                "method": "POST",
                "path": self.path,
                "scenario": scenario,
                "call_no": call_no,
                "stream": bool(body.get("stream")),
                "tools": [
                    t.get("function", {}).get("name")
                    for t in body.get("tools") or []
                    if isinstance(t, dict)
                ],
                "roles": [m.get("role") for m in messages],
                "last_user": text_of(users[-1].get("content"))[:300] if users else None,
                "messages": [_brief(m) for m in messages],
                "reply": describe(reply) if reply else None,
            }
        )
        if reply is None:
            self._send_json(404, {"error": {"message": "not found", "type": "not_found"}})
            return
        if isinstance(reply, HttpError):
            self._send_json(reply.status, reply.body)
            return
        completion_id = f"chatcmpl-fake-{seq}"
        if isinstance(reply, Text) and reply.pause:
            time.sleep(reply.pause)
        try:
            if body.get("stream"):
                self._stream(completion_id, reply)
            else:
                self._whole(completion_id, reply)
        except (BrokenPipeError, ConnectionResetError):
            self.server.log({"seq": seq, "ts": time.time(), "event": "client_disconnected"})
            self.close_connection = True

    # -- replies
    def _whole(self, completion_id: str, reply: Text | ToolCall) -> None:
        if isinstance(reply, Text):
            time.sleep(reply.delay * len(reply.deltas))
            message: dict[str, Any] = {"role": "assistant", "content": reply.text}
            finish = "stop"
        else:
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": reply.call_id,
                        "type": "function",
                        "function": {"name": reply.name, "arguments": json.dumps(reply.arguments)},
                    }
                ],
            }
            finish = "tool_calls"
        self._send_json(
            200,
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": CREATED,
                "model": MODEL,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": USAGE,
            },
        )

    def _stream(self, completion_id: str, reply: Text | ToolCall) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": MODEL,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        if isinstance(reply, Text):
            self._send_event(chunk({"role": "assistant", "content": ""}))
            for delta in reply.deltas:
                if reply.delay:
                    time.sleep(reply.delay)
                self._send_event(chunk({"content": delta}))
            self._send_event(chunk({}, "stop"))
        else:
            self._send_event(
                chunk(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": reply.call_id,
                                "type": "function",
                                "function": {"name": reply.name, "arguments": ""},
                            }
                        ],
                    }
                )
            )
            self._send_event(
                chunk(
                    {
                        "tool_calls": [
                            {"index": 0, "function": {"arguments": json.dumps(reply.arguments)}}
                        ]
                    }
                )
            )
            self._send_event(chunk({}, "tool_calls"))
        self._send_event(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": MODEL,
                "choices": [],
                "usage": USAGE,
            }
        )
        self._send_event("[DONE]")


def _brief(message: dict[str, Any]) -> list[str]:
    role = str(message.get("role"))
    text = text_of(message.get("content"))
    if role == "system":
        return [role, f"<{len(text)} chars>"]
    return [role, text[:160] + (" +tool_calls" if message.get("tool_calls") else "")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument(
        "--scratch", type=Path, default=Path(tempfile.gettempdir()) / "agentfakes-fake-llm-scratch"
    )
    args = parser.parse_args(argv)
    if not args.scratch.is_absolute():
        parser.error("--scratch must be an absolute path")
    created_scratch = not args.scratch.exists()
    args.scratch.mkdir(parents=True, exist_ok=True)
    server = FakeLLM(args.port, args.log, args.scratch)

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    print(f"fake-llm listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if created_scratch:
            shutil.rmtree(args.scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
