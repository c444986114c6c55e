"""`agentfakes demo | serve | drift`: see the fake work, run it for a client by hand, or
check it against a real server.

`demo` drives a scripted run through the in-process fake the way an app would (start,
stream, answer the approval, poll) and prints what crossed the wire. `serve` runs the
fake on 127.0.0.1 for curl or a client in another language, until Ctrl-C. `drift` runs
the black-box contract cases (`agentfakes.drift`) against a server and the fake.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import httpx

from agentfakes.models import Result, parse_event
from agentfakes.models.sse import SseFrame, SseParser
from agentfakes.recording.commands import add_commands, run_command, serve_scenario
from agentfakes.script import Script
from agentfakes.server import FakeRunsServer

DEMO_SCRIPT = (
    Script()
    .delta("Cleaning the build folder first.")
    .reasoning("Cleaning the build folder first.")
    .tool_started("terminal", preview="rm -rf build")
    .approval(command="rm -rf build", description="delete in root path", pattern_key="rm_rf")
    .wait(1.5)
    .tool_completed("terminal")
    .tool("terminal", preview="make deploy", duration=2.0)
    .answer("Deployed version 1.4.2 to staging.", usage={"input_tokens": 812, "output_tokens": 64})
)


def demo(out: _Printer) -> int:
    """Start a run, stream it, approve the gated command, poll the result."""
    server = FakeRunsServer()
    server.script(DEMO_SCRIPT)
    headers = {"Authorization": f"Bearer {server.api_key}"}
    out.say(f"fake Hermes Runs API at {server.base_url} (in-process, no sockets)\n")
    with server.mock(), httpx.Client(base_url=server.base_url, headers=headers) as client:
        created = client.post("/v1/runs", json={"input": "Deploy the app to staging"})
        out.say(f"POST /v1/runs → {created.status_code} {created.text}")
        run_id = created.json()["run_id"]
        with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
            kind = stream.headers["content-type"]
            out.say(f"GET /v1/runs/{{id}}/events → {stream.status_code} {kind}")
            parser = SseParser()
            frames = (frame for chunk in stream.iter_bytes() for frame in parser.feed(chunk))
            for frame in frames:
                for line in _frame_lines(frame):
                    out.say(f"  {line[:110]}{'…' if len(line) > 110 else ''}")
                if frame.data is not None and parse_event(frame.data).event == "approval.request":
                    answer = client.post(f"/v1/runs/{run_id}/approval", json={"choice": "once"})
                    out.say(f"  → POST /approval {{'choice': 'once'}} → {answer.status_code}")
        final = client.get(f"/v1/runs/{run_id}").json()
    out.say(f"GET /v1/runs/{{id}} → {json.dumps(final)[:200]}…")
    result = Result.from_run(final, server.runs[run_id].events)
    out.say(f"\nas an agent Result: {result!r}")
    out.say(
        f"requests the app made: {len(server.requests)}; approvals posted: "
        f"{server.requests.approvals(run_id)}"
    )
    return 0 if result.success else 1


def _frame_lines(frame: SseFrame) -> list[str]:
    """A parsed frame as the lines the server wrote (spec §5.1)."""
    if frame.comment is not None:
        return [f": {frame.comment}"]
    lines = [f"event: {frame.event}"] if frame.event is not None else []
    return lines + [f"data: {line}" for line in (frame.data or "").split("\n")]


def serve(port: int, answer: str) -> int:
    """Serve the fake on loopback until interrupted."""
    server = FakeRunsServer(strict=False)
    server.script(Script().answer(answer))
    stop = threading.Event()
    with server.serve(port=port) as url:
        print(f"agentfakes: fake Hermes Runs API on {url}")
        print(f"API key: {server.api_key}")
        print(
            f"try: curl -s -X POST {url}/v1/runs -H 'Authorization: Bearer {server.api_key}' "
            '-d \'{"input": "hi"}\''
        )
        try:
            stop.wait()
        except KeyboardInterrupt:
            print("\nagentfakes: stopped")
    return 0


def drift(url: str, key_env: str, scratch: str | None, only: list[str] | None) -> int:
    """The drift check against `url` (and the fake, side by side); 1 on any mismatch."""
    import os

    from agentfakes.drift import DEFAULT_SCRATCH
    from agentfakes.drift.runner import check_server

    key = os.environ.get(key_env)
    if not key:
        print(f"agentfakes drift: set {key_env} to the server's API key", file=sys.stderr)
        return 2
    return check_server(url, key, scratch=scratch or DEFAULT_SCRATCH, only=only)


class _Printer:
    def say(self, text: str) -> None:
        print(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agentfakes", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="drive a scripted run through the in-process fake")
    serve_cmd = commands.add_parser("serve", help="run the fake on 127.0.0.1 until Ctrl-C")
    serve_cmd.add_argument("--port", type=int, default=8642, help="port (0: any free port)")
    serve_cmd.add_argument("--answer", default="Hello from agentfakes.", help="every run's answer")
    serve_cmd.add_argument(
        "--scenario", type=Path, default=None, metavar="FILE", help="replay a scenario file"
    )
    drift_cmd = commands.add_parser(
        "drift", help="run the black-box contract cases against a real Hermes server"
    )
    drift_cmd.add_argument("--hermes-url", required=True, help="the real server's base URL")
    drift_cmd.add_argument(
        "--key-env", default="HERMES_API_KEY", help="env var holding its API key"
    )
    drift_cmd.add_argument(
        "--scratch", default=None, help="the scratch dir its fake LLM's `approval` deletes in"
    )
    drift_cmd.add_argument("--only", nargs="*", default=None, help="case names (substrings)")
    add_commands(commands)  # record, scenarios check | schema (agentfakes.recording)
    args = parser.parse_args(argv)
    handled = run_command(args)
    if handled is not None:
        return handled
    if args.command == "serve" and args.scenario is not None:
        return serve_scenario(args.scenario, args.port)
    if args.command == "demo":
        return demo(_Printer())
    if args.command == "drift":
        return drift(args.hermes_url, args.key_env, args.scratch, args.only)
    return serve(args.port, args.answer)


if __name__ == "__main__":
    sys.exit(main())
