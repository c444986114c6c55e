#!/usr/bin/env python3
"""Run the REAL hermes-agent 0.19.0 API server on 127.0.0.1 against the scripted fake LLM.

Stdlib only, so the drift check can import it from any environment.  Hermes lives in its
own cached venv (``ensure_venv``); each ``running_hermes()`` gets a throwaway HOME /
HERMES_HOME with the reference profile, a fresh fake LLM (``fake_llm.py`` beside this
file) and a gateway on free loopback ports, and stops both processes by PID on exit.

    python drift/real_hermes.py install [--venv DIR]
    python drift/real_hermes.py serve   [--venv DIR] [--port N]   # until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERMES_VERSION = "0.19.0"
REQUIREMENTS = ("hermes-agent==0.19.0", "aiohttp==3.14.1")
VENV_ENV_VAR = "AGENTFAKES_HERMES_VENV"
MARKER_NAME = ".agentfakes-hermes-ready"
FAKE_LLM = Path(__file__).resolve().with_name("fake_llm.py")

__all__ = [
    "REFERENCE_PROFILE",
    "REQUIREMENTS",
    "HermesInstallError",
    "HermesStartError",
    "Profile",
    "RealHermes",
    "default_venv_path",
    "ensure_venv",
    "main",
    "render_config",
    "running_hermes",
]


class HermesInstallError(RuntimeError):
    """The Hermes venv could not be created; the message carries pip's own reason."""


class HermesStartError(RuntimeError):
    """The real server (or the fake LLM) did not come up; the message has the log tail."""


# ---- install ------------------------------------------------------------------------


def default_venv_path() -> Path:
    """``$AGENTFAKES_HERMES_VENV``, else ``~/.cache/agentfakes/hermes-0.19.0``."""
    env = os.environ.get(VENV_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "agentfakes" / f"hermes-{HERMES_VERSION}"


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _venv_hermes(venv: Path) -> Path:
    return venv / ("Scripts/hermes.exe" if os.name == "nt" else "bin/hermes")


_PROBE = (
    "import json, importlib.metadata as m\n"
    "out = {}\n"
    "for name in ('hermes-agent', 'aiohttp'):\n"
    "    try: out[name] = m.version(name)\n"
    "    except m.PackageNotFoundError: out[name] = None\n"
    "print(json.dumps(out))\n"
)


def _installed_versions(venv: Path) -> dict[str, str | None]:
    python = _venv_python(venv)
    if not python.exists():
        return {}
    try:
        done = subprocess.run(
            [str(python), "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False
        )
        return dict(json.loads(done.stdout)) if done.returncode == 0 else {}
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return {}


def _is_complete(venv: Path) -> bool:
    wanted = dict(r.split("==") for r in REQUIREMENTS)
    return _venv_hermes(venv).exists() and _installed_versions(venv) == wanted


def _marker_text() -> str:
    return json.dumps({"requirements": list(REQUIREMENTS)}) + "\n"


def _run_logged(cmd: list[str], what: str, timeout: float) -> None:
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise HermesInstallError(
            f"{what} timed out after {timeout:.0f} s: {' '.join(cmd)}"
        ) from exc
    except OSError as exc:
        raise HermesInstallError(f"{what} could not start: {exc}") from exc
    if done.returncode != 0:
        output = (done.stdout or "") + (done.stderr or "")
        tail = "\n".join(output.strip().splitlines()[-40:])
        raise HermesInstallError(f"{what} failed (exit {done.returncode}): {' '.join(cmd)}\n{tail}")


def ensure_venv(
    path: str | os.PathLike[str] | None = None,
    *,
    python: str | None = None,
    timeout: float = 1800.0,
) -> Path:
    """Create (if missing) the venv holding ``hermes-agent==0.19.0 aiohttp==3.14.1``.

    Quick when the marker file is present.  A venv that already holds the right versions
    (checked with importlib.metadata) just gets the marker.  Otherwise the venv is created
    with ``python`` (default: this interpreter) and pip installs the pins; any failure
    raises ``HermesInstallError`` with pip's output tail.  Concurrent callers are
    serialised with a lock file beside the venv.
    """
    venv = Path(path).expanduser() if path is not None else default_venv_path()
    venv = venv.absolute()
    marker = venv / MARKER_NAME
    if marker.is_file() and marker.read_text() == _marker_text() and _venv_hermes(venv).exists():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(venv.with_name(venv.name + ".lock")):
        if marker.is_file() and marker.read_text() == _marker_text():
            return venv
        if not _is_complete(venv):
            if not _venv_python(venv).exists():
                _run_logged(
                    [python or sys.executable, "-m", "venv", str(venv)],
                    "creating the Hermes venv",
                    300,
                )
            _run_logged(
                [
                    str(_venv_python(venv)),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    *REQUIREMENTS,
                ],
                "pip install " + " ".join(REQUIREMENTS),
                timeout,
            )
            if not _is_complete(venv):
                raise HermesInstallError(
                    f"pip reported success but {venv} does not hold {', '.join(REQUIREMENTS)} "
                    f"(found {_installed_versions(venv)}, hermes entry point "
                    f"{'present' if _venv_hermes(venv).exists() else 'missing'})"
                )
        marker.write_text(_marker_text())
    return venv


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no lock, installs are rare there
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---- configuration ------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """The knobs of config.yaml the drift check depends on (defaults: the reference)."""

    approvals_timeout: int = 5  # Hermes default 60 s
    approvals_mode: str = "manual"  # default "smart" asks an auxiliary LLM
    max_concurrent_runs: int = 2  # default 10
    api_max_retries: int = 1  # default 3
    max_turns: int = 3  # default 90
    tirith_enabled: bool = False  # otherwise it downloads a binary
    toolsets: tuple[str, ...] = ("terminal",)


REFERENCE_PROFILE = Profile()


def render_config(profile: Profile, llm_base_url: str) -> str:
    """config.yaml for ``profile`` (YAML written by hand: scalars and flow lists only)."""
    toolsets = ", ".join(profile.toolsets)
    return "\n".join(
        [
            "model:",
            "  provider: custom",
            "  default: fake-model",
            f"  base_url: {llm_base_url}",
            "  api_key: fake-llm-key",
            "agent:",
            f"  max_turns: {profile.max_turns}",
            f"  api_max_retries: {profile.api_max_retries}",
            "approvals:",
            f"  mode: {profile.approvals_mode}",
            f"  timeout: {profile.approvals_timeout}",
            "security:",
            f"  tirith_enabled: {'true' if profile.tirith_enabled else 'false'}",
            "platform_toolsets:",
            f"  api_server: [{toolsets}]",
            "gateway:",
            "  api_server:",
            f"    max_concurrent_runs: {profile.max_concurrent_runs}",
            "",
        ]
    )


# ---- running ------------------------------------------------------------------------


@dataclass
class RealHermes:
    """A running real server: where it is, its key, and where its logs go."""

    base_url: str
    api_key: str
    llm_log: Path
    pids: dict[str, int]
    server_log: Path
    home: Path
    scratch: Path
    profile: Profile = field(default=REFERENCE_PROFILE)

    def llm_requests(self) -> list[dict[str, Any]]:
        """Every request the fake LLM has logged so far, in order."""
        if not self.llm_log.exists():
            return []
        return [json.loads(line) for line in self.llm_log.read_text().splitlines() if line]

    def server_log_tail(self, lines: int = 60) -> str:
        return _tail(self.server_log, lines)

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 30.0
    ) -> tuple[int, Any]:
        """One authenticated JSON request (a convenience for scripts): (status, JSON)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw.decode("utf-8", "replace")

    def warm_up(self, timeout: float = 60.0) -> None:
        """Drive one plain run to the end, then forget the LLM log.

        The first run after start-up builds the agent for ~5-8 s and blocks the
        server's event loop for up to ~5 s (even /health waits); later runs reach
        the LLM in ~0.3 s.  Warming up keeps timing-sensitive cases honest.
        """
        deadline = time.monotonic() + timeout
        status, body = self.request("POST", "/v1/runs", {"input": "warm-up"})
        if status != 202:
            raise HermesStartError(f"warm-up run refused: {status} {body}")
        run_id = body["run_id"]
        while time.monotonic() < deadline:
            status, run = self.request("GET", f"/v1/runs/{run_id}")
            if status == 200 and run["status"] in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.1)
        else:
            raise HermesStartError(
                f"warm-up run did not finish; log tail:\n{self.server_log_tail()}"
            )
        while time.monotonic() < deadline:  # the slot frees when the task is done
            _, detail = self.request("GET", "/health/detailed")
            if not detail["readiness"]["checks"]["background_queues"]["active_api_runs"]:
                break
            time.sleep(0.05)
        self.llm_log.write_text("")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment: no provider keys or proxies leak in from the caller."""
    keep = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "TERM")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.setdefault("PATH", os.defpath)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Terminate by PID, kill after ``grace`` s, then reap any leftovers of its group."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=grace)
    # started with start_new_session=True, so the group id is the child's own pid
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _wait_for_line(path: Path, prefix: str, proc: subprocess.Popen[bytes], deadline: float) -> str:
    while time.monotonic() < deadline:
        for line in _tail(path, 20).splitlines():
            if line.startswith(prefix):
                return line
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise HermesStartError(f"fake LLM did not start (exit {proc.poll()}):\n{_tail(path)}")


def _wait_for_health(url: str, proc: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    last = "no answer yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HermesStartError(
                f"hermes gateway exited with {proc.returncode} before "
                f"{url} answered; server log tail:\n{_tail(log)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (OSError, urllib.error.URLError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise HermesStartError(
        f"{url} did not answer 200 in time (last: {last}); server log tail:\n{_tail(log)}"
    )


@contextlib.contextmanager
def running_hermes(
    *,
    venv: str | os.PathLike[str] | None = None,
    profile: Profile = REFERENCE_PROFILE,
    port: int | None = None,
    startup_timeout: float = 90.0,
    warm_up: bool = False,
    keep_dir: bool = False,
) -> Iterator[RealHermes]:
    """Start the fake LLM and ``hermes gateway run -v``; yield a ``RealHermes``.

    ``venv`` defaults to ``default_venv_path()`` (it must already be installed: call
    ``ensure_venv`` first).  Ports are free 127.0.0.1 ports (``port`` fixes the API
    one).  ``warm_up`` drives one plain run first (see ``RealHermes.warm_up``).
    Everything lives in one temp dir, removed on exit unless ``keep_dir``.  A start-up
    failure raises ``HermesStartError`` with the log tail; on exit both processes are
    terminated by PID (killed after 10 s).
    """
    venv_path = Path(venv).expanduser() if venv is not None else default_venv_path()
    hermes = _venv_hermes(venv_path)
    if not hermes.exists():
        raise HermesStartError(
            f"{hermes} not found: run ensure_venv({str(venv_path)!r}) "
            f"or `python {Path(__file__).name} install` first"
        )
    root = Path(tempfile.mkdtemp(prefix="agentfakes-hermes-"))
    home, scratch, workdir = root / "home", root / "scratch", root / "work"
    hermes_home = home / ".hermes"
    for d in (hermes_home, scratch, workdir):
        d.mkdir(parents=True)
    llm_log, llm_out, server_log = root / "llm.jsonl", root / "llm.out", root / "gateway.log"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        deadline = time.monotonic() + startup_timeout
        with llm_out.open("wb") as out:
            llm = subprocess.Popen(
                [
                    sys.executable,
                    str(FAKE_LLM),
                    "--port",
                    "0",
                    "--log",
                    str(llm_log),
                    "--scratch",
                    str(scratch),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_clean_env(),
                cwd=workdir,
                start_new_session=True,
            )
        procs.append(llm)
        line = _wait_for_line(llm_out, "fake-llm listening on ", llm, deadline)
        llm_port = int(line.rsplit(":", 1)[1])
        (hermes_home / "config.yaml").write_text(
            render_config(profile, f"http://127.0.0.1:{llm_port}/v1")
        )

        api_key = "sk-drift-" + secrets.token_hex(16)
        api_port = port or _free_port()
        refusing_port = _free_port()
        while refusing_port == api_port:
            refusing_port = _free_port()
        refusing = f"http://127.0.0.1:{refusing_port}"  # nothing listens there
        env = _clean_env(
            HOME=str(home),
            HERMES_HOME=str(hermes_home),
            TMPDIR=str(root),
            API_SERVER_ENABLED="true",
            API_SERVER_KEY=api_key,
            API_SERVER_HOST="127.0.0.1",
            API_SERVER_PORT=str(api_port),
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            **{
                name: refusing
                for name in (
                    "HTTP_PROXY",
                    "HTTPS_PROXY",
                    "ALL_PROXY",
                    "http_proxy",
                    "https_proxy",
                    "all_proxy",
                )
            },
        )
        with server_log.open("wb") as out:
            gateway = subprocess.Popen(
                [str(hermes), "gateway", "run", "-v"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=workdir,
                start_new_session=True,
            )
        procs.append(gateway)
        base_url = f"http://127.0.0.1:{api_port}"
        _wait_for_health(base_url + "/health", gateway, server_log, deadline)
        server = RealHermes(
            base_url=base_url,
            api_key=api_key,
            llm_log=llm_log,
            pids={"fake_llm": llm.pid, "hermes": gateway.pid},
            server_log=server_log,
            home=home,
            scratch=scratch,
            profile=profile,
        )
        if warm_up:
            server.warm_up()
        yield server
    finally:
        for proc in reversed(procs):
            _stop(proc)
        if not keep_dir:
            shutil.rmtree(root, ignore_errors=True)


# ---- command line -------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="real_hermes.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    install = sub.add_parser("install", help="create the cached Hermes venv if missing")
    serve = sub.add_parser("serve", help="run the real server until Ctrl-C")
    for p in (install, serve):
        p.add_argument(
            "--venv",
            default=None,
            help=f"venv directory (default: ${VENV_ENV_VAR} or {default_venv_path()})",
        )
    serve.add_argument("--port", type=int, default=None, help="API port (default: a free one)")
    serve.add_argument("--keep", action="store_true", help="keep the temp dir and its logs")
    serve.add_argument(
        "--warm-up",
        action="store_true",
        help="drive one plain run before printing the URL (fast first run)",
    )
    args = parser.parse_args(argv)

    started = time.monotonic()
    venv = ensure_venv(args.venv)
    if args.command == "install":
        print(f"hermes-agent {HERMES_VERSION} ready in {venv} ({time.monotonic() - started:.1f} s)")
        return 0

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)  # even when started with SIGINT ignored (`cmd &`)
    started = time.monotonic()
    with running_hermes(
        venv=venv, port=args.port, keep_dir=args.keep, warm_up=args.warm_up
    ) as server:
        print(f"real Hermes {HERMES_VERSION} up in {time.monotonic() - started:.1f} s", flush=True)
        print(f"base URL : {server.base_url}")
        print(f"API key  : {server.api_key}")
        print(f"LLM log  : {server.llm_log}")
        print(f"srv log  : {server.server_log}")
        print(f"scratch  : {server.scratch}  (approval runs `rm -rf <scratch>/victim`)")
        print("steer the fake LLM with [[scenario:NAME]] in the input; Ctrl-C stops", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
