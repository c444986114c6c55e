"""`agentfakes record | serve --scenario | scenarios check | scenarios schema`: the library
calls behind the CLI (cli.py only parses arguments), issue 9 "Anything, not only httpx"."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from agentfakes.recording.options import DEFAULT_KEY_ENV
from agentfakes.script.scenario import Scenario, ScenarioError

__all__ = ["add_commands", "check_scenarios", "record", "run_command", "schema", "serve_scenario"]


def add_commands(commands: Any) -> None:
    """Add `record` and `scenarios` to the CLI's subparsers (and nothing else)."""
    rec = commands.add_parser(
        "record",
        help="run the recording proxy on 127.0.0.1 in front of a real Hermes server until "
        "Ctrl-C, then write the scenario file",
    )
    rec.add_argument("--upstream", required=True, metavar="URL", help="the real server")
    rec.add_argument("--out", required=True, type=Path, metavar="FILE", help="scenario file")
    rec.add_argument("--port", type=int, default=0, help="proxy port (default: a free one)")
    rec.add_argument(
        "--key-env",
        default=DEFAULT_KEY_ENV,
        metavar="NAME",
        help="the env var holding the real key (default %(default)s)",
    )
    rec.add_argument("--scrub", action="append", default=[], metavar="REGEX", help="repeatable")
    scenarios = commands.add_parser("scenarios", help="check scenario files, or print the schema")
    what = scenarios.add_subparsers(dest="scenarios_command", required=True)
    check = what.add_parser("check", help="validate files; list stale ones")
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    check.add_argument(
        "--server-version",
        default=None,
        metavar="VERSION",
        help="report files recorded against another server version (e.g. 0.19.0)",
    )
    what.add_parser("schema", help="print the scenario file JSON Schema")


def run_command(args: Any) -> int | None:
    """Run `record` / `scenarios` if that is the command; None for any other."""
    if args.command == "record":
        return record(
            args.upstream, args.out, port=args.port, key_env=args.key_env, scrub=args.scrub
        )
    if args.command == "scenarios":
        if args.scenarios_command == "schema":
            return schema(sys.stdout)
        return check_scenarios(args.paths, server_version=args.server_version)
    return None


def record(
    upstream: str,
    out: Path,
    *,
    port: int = 0,
    key_env: str = DEFAULT_KEY_ENV,
    scrub: Sequence[str] = (),
    stop: threading.Event | None = None,
    say: TextIO | None = None,
) -> int:
    """Serve the recording proxy until SIGINT (or `stop`), then write `out` atomically."""
    from agentfakes.recording.proxy import serve_proxy
    from agentfakes.recording.recorder import Recorder

    say = say or sys.stdout
    key = os.environ.get(key_env)
    if not key:
        print(f"agentfakes record: set ${key_env} to the real server's key", file=sys.stderr)
        return 2
    recorder = Recorder(upstream, key, scrub=scrub)
    version = recorder.probe_version()
    stop = stop or threading.Event()
    try:
        with serve_proxy(recorder.handle, port=port) as url:
            where = f"{upstream} ({version or 'version unknown'})"
            print(f"agentfakes record: proxy on {url} -> {where}", file=say)
            print("point the app at the proxy URL (any key); Ctrl-C to stop and write", file=say)
            print(f"PROXY_URL={url}", file=say, flush=True)
            _wait(stop)
        recorder.wait()
        scenario = recorder.scenario()
    finally:
        recorder.close()
    scenario.dump(out)
    print(f"agentfakes record: wrote {len(scenario.runs)} run(s) to {out}", file=say, flush=True)
    return 0


def _wait(stop: threading.Event) -> None:
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
        terminate = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.2):
                pass
        finally:
            signal.signal(signal.SIGINT, previous)
            signal.signal(signal.SIGTERM, terminate)
    else:
        stop.wait()


def serve_scenario(path: Path, port: int, *, stop: threading.Event | None = None) -> int:
    """`agentfakes serve --scenario FILE`: the fake on 127.0.0.1 replaying FILE; a run whose
    input matches no recorded run fails, naming the input and the file (stderr says so)."""
    from agentfakes.recording.replay import unmatched_to_stderr
    from agentfakes.server import FakeRunsServer

    try:
        scenario = Scenario.load(path)
    except ScenarioError as error:
        print(f"agentfakes serve: {error}", file=sys.stderr)
        return 2
    server = FakeRunsServer(strict=False)
    player = server.load_scenario(scenario, fail_unmatched=True)
    player.on_unmatched = unmatched_to_stderr
    with server.serve(port=port, verify=False) as url:
        print(f"agentfakes: replaying {path} ({len(scenario.runs)} runs) on {url}")
        print(f"API key: {server.api_key}", flush=True)
        _wait(stop or threading.Event())
    print("\nagentfakes: stopped")
    return 0


def check_scenarios(paths: Sequence[Path], *, server_version: str | None = None) -> int:
    """Validate each file (exit 1 on any error, file and field named); list stale ones."""
    bad = stale = 0
    for path in paths:
        try:
            scenario = Scenario.load(path)
        except ScenarioError as error:
            bad += 1
            print(f"error: {error}")
            continue
        if server_version is not None and scenario.stale(server_version):
            stale += 1
            against = scenario.recorded.server
            print(f"stale: {path}: recorded against {against}, not {server_version}")
        else:
            print(f"ok: {path} ({len(scenario.runs)} runs)")
    print(f"{len(paths)} file(s): {bad} invalid, {stale} stale")
    return 1 if bad else 0


def schema(out: TextIO) -> int:
    print(json.dumps(Scenario.json_schema(), indent=2), file=out)
    return 0
