#!/usr/bin/env python3
"""Record the five app scenarios of test_app_scenarios.py against the REAL hermes-agent
0.19.0 server (drift/real_hermes.py starts it on 127.0.0.1 with the scripted fake LLM),
into scenarios/hermes-0.19.0/ beside this file, or into --into DIR (a copy of this folder
is made there first, so the repository is left alone).

    AGENTFAKES_HERMES_VENV=~/.cache/agentfakes-hermes-venv python tests/recording/record_real.py

It runs pytest on test_app_scenarios.py with --agentfakes-record-mode=all against that
server (the key passed in an environment variable, never on the command line or disk),
then the same tests again offline (record mode none), and stops what it started.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
KEY_ENV = "AGENTFAKES_REAL_HERMES_KEY"
# the approval's command names the server's scratch dir, new for every server start
SCRUB = r"/\S*/victim"


def record(into: Path | None = None, url: str | None = None, key: str | None = None) -> int:
    """Record (against `url`/`key`, or a real server started here), then replay offline."""
    if url is None:
        sys.path.insert(0, str(ROOT / "drift"))
        from real_hermes import ensure_venv, running_hermes  # type: ignore[import-not-found]

        with running_hermes(venv=ensure_venv(), warm_up=True) as hermes:
            return record(into, hermes.base_url, hermes.api_key)
    folder = HERE
    if into is not None:
        folder = into / "recording"
        shutil.copytree(HERE, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.pyc"))
        (into / "__init__.py").touch()
    tests = str(folder / "test_app_scenarios.py")
    env = {**os.environ, KEY_ENV: key or ""}
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT)]
    recorded = subprocess.run(
        [
            *base,
            tests,
            "--agentfakes-record-mode=all",
            f"--agentfakes-hermes-url={url}",
            f"--agentfakes-hermes-key-env={KEY_ENV}",
            f"--agentfakes-scrub={SCRUB}",
        ],
        env=env,
        cwd=ROOT,
        check=False,
    )
    if recorded.returncode != 0:
        return recorded.returncode
    env.pop(KEY_ENV)
    return subprocess.run([*base, tests], env=env, cwd=ROOT, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--into", type=Path, default=None, help="record into a copy here")
    parser.add_argument("--hermes-url", default=None, help="a running server (else one starts)")
    parser.add_argument("--key-env", default="HERMES_API_KEY", help="its key's env var")
    args = parser.parse_args(argv)
    key = os.environ.get(args.key_env) if args.hermes_url else None
    return record(args.into, args.hermes_url, key)


if __name__ == "__main__":
    sys.exit(main())
