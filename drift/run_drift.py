#!/usr/bin/env python3
"""The drift check: the black-box contract cases against the real Hermes and the fake.

    python drift/run_drift.py [--venv DIR] [--only NAME ...] [--skip-real]

1. `ensure_venv()` installs hermes-agent 0.19.0 (+ aiohttp) into its cached venv; a failed
   install stops the check with pip's reason (exit 2), never a skip.
2. `running_hermes()` starts the real server on 127.0.0.1 with the reference profile and the
   scripted fake LLM (`fake_llm.py`), warmed up; the cases run against it.
3. The same cases run against the fake (`FakeRunsServer.serve()` on 127.0.0.1, reference
   profile and script book, a ManualClock), with the real server's scratch dir.
4. Five small app tests (a completed run, an approval approved and one denied, a stop
   mid-run, a provider failure) are recorded against the real server and replayed offline
   in the fake; each must see the same events and final run object.
5. The report shows all of it; every process started is stopped by PID. Exit 1 on any
   mismatch.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

import real_hermes  # noqa: E402

from agentfakes.drift import CaseResult, Target, format_report, run_cases  # noqa: E402
from agentfakes.drift.round_trip import (  # noqa: E402
    RoundTripResult,
    format_round_trip,
    round_trip,
)
from agentfakes.drift.runner import run_against_fake  # noqa: E402

BUDGET = 600.0  # the whole check, install included (CI bound)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_drift.py", description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=None, help="Hermes venv (default: the cached one)")
    parser.add_argument("--only", nargs="*", default=None, help="case names (substrings)")
    parser.add_argument(
        "--no-round-trip", action="store_true", help="skip the record -> replay round trip"
    )
    parser.add_argument("--skip-real", action="store_true", help="only the fake (debugging)")
    args = parser.parse_args(argv)
    only = args.only or None
    started = time.monotonic()
    results: list[CaseResult] = []
    trips: list[RoundTripResult] = []
    timings: list[str] = []

    if not args.skip_real:
        try:
            venv = real_hermes.ensure_venv(args.venv)
        except real_hermes.HermesInstallError as exc:
            print(f"drift: cannot install hermes-agent {real_hermes.HERMES_VERSION}:\n{exc}")
            return 2
        timings.append(f"venv ready {time.monotonic() - started:.1f} s ({venv})")
        mark = time.monotonic()
        with real_hermes.running_hermes(venv=venv, warm_up=True) as hermes:
            timings.append(
                f"real server up and warm {time.monotonic() - mark:.1f} s (pids {hermes.pids})"
            )
            scratch = str(hermes.scratch)
            mark = time.monotonic()
            target = Target(hermes.base_url, hermes.api_key, scratch=scratch, name="real")
            results += run_cases(target, only=only)
            timings.append(f"cases against the real server {time.monotonic() - mark:.1f} s")
            if not args.no_round_trip:
                mark = time.monotonic()
                trips = round_trip(hermes.base_url, hermes.api_key)
                timings.append(f"record -> replay round trip {time.monotonic() - mark:.1f} s")
            mark = time.monotonic()
        timings.append(f"real server stopped {time.monotonic() - mark:.1f} s")
    else:
        scratch = str(Path(os.environ.get("TMPDIR", "/tmp")) / "agentfakes-drift" / "scratch")

    mark = time.monotonic()
    results += run_against_fake(scratch=scratch, only=only, transport="serve")
    timings.append(f"cases against the fake {time.monotonic() - mark:.1f} s")

    print(format_report(results))
    if trips:
        print("\n" + format_round_trip(trips))
    total = time.monotonic() - started
    print("\n" + "\n".join(timings) + f"\ndrift check: {total:.1f} s in all")
    if total > BUDGET:
        print(f"drift: took {total:.0f} s, over the {BUDGET:.0f} s budget")
        return 1
    return 0 if all(r.passed for r in [*results, *trips]) else 1


if __name__ == "__main__":
    sys.exit(main())
