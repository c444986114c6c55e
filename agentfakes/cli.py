"""`agentfakes demo | serve | drift`: see the fake work, run it for a client by hand, or
check it against a real server.

`demo` drives a scripted run through the in-process fake the way an app would (start,
stream, answer the approval, poll) and prints what crossed the wire. `serve` runs the
fake on 127.0.0.1 for curl or a client in another language, until Ctrl-C. `drift` runs
the black-box contract cases (`agentfakes.drift`) against a server and the fake.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from agentfakes import options
from agentfakes.errors import OptionError
from agentfakes.models import Result, parse_event
from agentfakes.models.sse import SseParser
from agentfakes.recording.commands import add_commands, run_command, serve_scenario
from agentfakes.script import Script
from agentfakes.server import DEFAULT_API_KEY, FakeRunsServer

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


DEMO_INPUT = "Deploy the app to staging"
DEMO_TEST = """\
from agentfakes import assert_completed
from agentfakes.cli import DEMO_SCRIPT


def test_deploy(fake_runs_server, fake_runs_client):
    fake_runs_server.script(DEMO_SCRIPT)
    run_id = fake_runs_client.post("/v1/runs", json={"input": "deploy"}).json()["run_id"]
    fake_runs_server.approve(run_id, "once")
    fake_runs_client.get(f"/v1/runs/{run_id}/events")  # the stream ends with the run
    assert_completed(fake_runs_server.runs[run_id], output="Deployed version 1.4.2 to staging.")
"""


def demo(out: _Printer) -> int:
    """Start a run, stream it, approve the gated command, poll the result: in virtual time,
    so the script's seconds cost nothing, and printed as a timeline."""
    from agentfakes.clocks import VirtualClock

    with VirtualClock() as clock:
        server = FakeRunsServer(clock=clock)
        server.script(DEMO_SCRIPT)
        headers = {"Authorization": f"Bearer {server.api_key}"}
        out.say(f"fake Hermes Runs API at {server.base_url} (in-process, virtual time)\n")

        def at() -> str:
            return f"{clock.elapsed:+8.3f}s"

        with server.mock(), httpx.Client(base_url=server.base_url, headers=headers) as client:
            created = client.post("/v1/runs", json={"input": DEMO_INPUT})
            run_id = created.json()["run_id"]
            out.say(f"{at()}  POST /v1/runs {{'input': {DEMO_INPUT!r}}} → {created.status_code}")
            out.say(f"{'':10}  run_id {run_id}")
            with client.stream("GET", f"/v1/runs/{run_id}/events") as stream:
                out.say(f"{at()}  GET /v1/runs/{{id}}/events → {stream.status_code} (SSE)")
                parser = SseParser()
                frames = (f for chunk in stream.iter_bytes() for f in parser.feed(chunk))
                for frame in frames:
                    if frame.data is None:
                        out.say(f"{at()}    : {frame.comment}")
                        continue
                    event = parse_event(frame.data)
                    out.say(f"{at()}    {event.event:<20} {_payload(event)}")
                    if event.event == "approval.request":
                        answer = client.post(f"/v1/runs/{run_id}/approval", json={"choice": "once"})
                        out.say(
                            f"{at()}  POST /v1/runs/{{id}}/approval once → {answer.status_code}"
                        )
            final = client.get(f"/v1/runs/{run_id}").json()
        output = final.get("output")
        out.say(f"{at()}  GET /v1/runs/{{id}} → status {final['status']}, output {output!r}")
        result = Result.from_run(final, server.runs[run_id].events)
    out.say(f"\nas an agent Result: success={result.success}, content={result.content!r}")
    out.say(
        f"{clock.elapsed:g} scripted seconds, no real waiting; requests: {len(server.requests)}"
    )
    out.say("\nThe same check as a pytest test (the fixtures come with the plugin):\n")
    out.say(DEMO_TEST.rstrip())
    return 0 if result.success else 1


def _payload(event: Any) -> str:
    """The telling fields of an event, whole (no line is cut)."""
    data = event.model_dump(mode="json", exclude_none=True)
    for key in ("event", "run_id", "timestamp"):
        data.pop(key, None)
    return json.dumps(data, ensure_ascii=False)


@dataclass(frozen=True)
class ServeOptions:
    port: int = 8642
    answer: str = "Hello from agentfakes."
    api_key: str = DEFAULT_API_KEY
    model: str = "hermes-agent"
    max_concurrent_runs: int = 10
    approval_timeout: float = 60.0


def serve(settings: ServeOptions, *, stop: threading.Event | None = None) -> int:
    """Serve the fake on loopback until interrupted (or `stop` is set)."""
    try:
        server = FakeRunsServer(
            settings.api_key,
            strict=False,
            model_name=settings.model,
            max_concurrent_runs=settings.max_concurrent_runs,
            approval_timeout=settings.approval_timeout,
        )
    except OptionError as error:
        print(f"agentfakes serve: {error}", file=sys.stderr)
        return 2
    server.script(Script().answer(settings.answer))
    try:
        loopback = server.serve(port=settings.port)
        url = loopback.start()
    except OSError as error:
        print(
            f"agentfakes serve: cannot listen on 127.0.0.1:{settings.port} "
            f"({error.strerror or error}); is another server using it? Pick another with "
            "--port N, or --port 0 for any free port",
            file=sys.stderr,
        )
        return 2
    try:
        print(f"agentfakes: fake Hermes Runs API on {url}")
        print(f"API key: {server.api_key}   model: {settings.model}")
        print(
            f"try: curl -s -X POST {url}/v1/runs -H 'Authorization: Bearer {server.api_key}' "
            '-d \'{"input": "hi"}\'',
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            (stop or threading.Event()).wait()
        print("\nagentfakes: stopped")
    finally:
        loopback.stop()
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


def _typed(check: Callable[[str, Any], Any], name: str, convert: Callable[[str], Any]) -> Any:
    """An argparse `type=`: convert, then check with agentfakes.options (same messages)."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, not {text!r}") from None
        try:
            return check(name, value)
        except OptionError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def version() -> str:
    try:
        from importlib.metadata import version as installed

        return installed("agentfakes")
    except Exception:  # a checkout that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    defaults = ServeOptions()
    parser = argparse.ArgumentParser(prog="agentfakes", description=__doc__)
    parser.add_argument(
        "--version", action="version", version=f"agentfakes {version()} (hermes-agent 0.19.0)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="drive a scripted run through the in-process fake")
    serve_cmd = commands.add_parser(
        "serve",
        help="run the fake on 127.0.0.1 until Ctrl-C",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve_cmd.add_argument(
        "--port",
        type=_typed(options.port, "--port", int),
        default=defaults.port,
        help="port on 127.0.0.1 (0: any free port)",
    )
    serve_cmd.add_argument("--answer", default=defaults.answer, help="every run's answer")
    serve_cmd.add_argument(
        "--api-key", default=defaults.api_key, help="the bearer key clients must send (16+ chars)"
    )
    serve_cmd.add_argument(
        "--model", default=defaults.model, help="the model_name /v1/models advertises"
    )
    serve_cmd.add_argument(
        "--max-concurrent-runs",
        type=_typed(options.count, "--max-concurrent-runs", int),
        default=defaults.max_concurrent_runs,
        help="runs at once before a create gets 429",
    )
    serve_cmd.add_argument(
        "--approval-timeout",
        type=_typed(options.duration, "--approval-timeout", float),
        default=defaults.approval_timeout,
        help="seconds an approval waits before it times out",
    )
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
    return serve(
        ServeOptions(
            port=args.port,
            answer=args.answer,
            api_key=args.api_key,
            model=args.model,
            max_concurrent_runs=args.max_concurrent_runs,
            approval_timeout=args.approval_timeout,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
