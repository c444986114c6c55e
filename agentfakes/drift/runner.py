"""Run the black-box cases against a Target and report, case by case.

A case that fails may leave a run going; against a real server the runner then waits
(bounded) until the server has no active run, so the next case starts with a free cap.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

from agentfakes.drift.cases import CASES, Case
from agentfakes.drift.client import DriftClient, DriftMismatch, Target
from agentfakes.drift.profile import REFERENCE_PROFILE, ServerProfile
from agentfakes.drift.script_book import DEFAULT_SCRATCH, reference_server

__all__ = [
    "CaseResult",
    "check_server",
    "format_report",
    "run_against_fake",
    "run_case",
    "run_cases",
    "select_cases",
]

# A fake on a ManualClock served over loopback: its stream reader jumps the clock after
# this long with nothing happening, so a case has time to answer an approval first.
LOOPBACK_GRACE = 0.1


@dataclass
class CaseResult:
    """How one case went against one target."""

    target: str
    case: str
    spec: str
    seconds: float
    mismatch: DriftMismatch | None = None
    error: str | None = None  # anything else that went wrong (a timeout, a refused connection)

    @property
    def passed(self) -> bool:
        return self.mismatch is None and self.error is None

    @property
    def outcome(self) -> str:
        if self.mismatch is not None:
            return "MISMATCH"
        return "ERROR" if self.error is not None else "ok"

    @property
    def detail(self) -> str:
        if self.mismatch is not None:
            return str(self.mismatch)
        return self.error or ""


def select_cases(only: Iterable[str] | None = None) -> list[Case]:
    """Every case, or those whose name contains one of `only` (an unknown name is an error)."""
    if only is None:
        return list(CASES.values())
    wanted = list(only)
    chosen = [c for c in CASES.values() if any(w in c.name for w in wanted)]
    unknown = [w for w in wanted if not any(w in c.name for c in CASES.values())]
    if unknown:
        names = ", ".join(CASES)
        raise ValueError(f"no drift case matches {unknown}; the cases are: {names}")
    return chosen


def run_case(target: Target, case: Case) -> CaseResult:
    client = DriftClient(target, case.name)
    started = time.monotonic()
    result = CaseResult(target.name, case.name, case.spec, 0.0)
    try:
        case.run(client)
    except DriftMismatch as mismatch:
        result.mismatch = mismatch
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        result.error = f"{type(exc).__name__}: {exc} (at {where.name}:{where.lineno})"
    finally:
        result.seconds = time.monotonic() - started
        if not result.passed:
            _settle(client)
        client.close()
    return result


def run_cases(target: Target, *, only: Iterable[str] | None = None) -> list[CaseResult]:
    """Run every case (or those named in `only`) against `target`, in catalogue order."""
    return [run_case(target, case) for case in select_cases(only)]


def _settle(client: DriftClient, limit: float = 45.0) -> None:
    """After a failed case: stop what it left going and, on a real server, wait until
    nothing is active, so the next case has the whole cap."""
    for run_id in client.runs:
        try:
            client.stop(run_id)
            if run_id not in client.consumed:
                client.read(run_id)
            elif not client.target.real_time:
                # A consumed stream answers 404 after the server's ~1 s pause, which on a
                # fake's manual clock is what moves its time on to the cancel.
                client.events_error(run_id)
        except (httpx.HTTPError, DriftMismatch):
            pass
    if not client.target.real_time:
        return
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            detail = client.get("/health/detailed").json()
            if not detail["readiness"]["checks"]["background_queues"]["active_api_runs"]:
                return
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return
        time.sleep(0.2)


def format_report(results: Sequence[CaseResult]) -> str:
    """A table of cases × targets, then every mismatch in full."""
    targets = list(dict.fromkeys(r.target for r in results))
    cases = list(dict.fromkeys(r.case for r in results))
    by_key = {(r.target, r.case): r for r in results}
    width = max([len(c) for c in cases] + [4])
    header = f"{'case':<{width}}  " + "  ".join(f"{t:<16}" for t in targets)
    lines = [header, "-" * len(header)]
    for name in cases:
        cells = []
        for target in targets:
            r = by_key.get((target, name))
            cells.append(f"{r.outcome} {r.seconds:5.2f}s" if r else "-")
        lines.append(f"{name:<{width}}  " + "  ".join(f"{cell:<16}" for cell in cells))
    failed = [r for r in results if not r.passed]
    for target in targets:
        mine = [r for r in results if r.target == target]
        passed = sum(r.passed for r in mine)
        seconds = sum(r.seconds for r in mine)
        lines.append(f"{target}: {passed}/{len(mine)} cases pass ({seconds:.1f} s)")
    if failed:
        lines.append("")
        lines += [f"[{r.target}] {r.detail}" for r in failed]
    return "\n".join(lines)


def run_against_fake(
    *,
    scratch: str = DEFAULT_SCRATCH,
    profile: ServerProfile = REFERENCE_PROFILE,
    only: Iterable[str] | None = None,
    transport: str = "serve",
) -> list[CaseResult]:
    """The cases against the fake with the reference book, on a ManualClock: over loopback
    (`serve`) or in-process (`mock`, which refuses every other host while it runs)."""
    from agentfakes.clocks import ManualClock

    if transport == "serve":
        server = reference_server(profile, scratch=scratch, clock=ManualClock(grace=LOOPBACK_GRACE))
        with server.serve() as url:
            target = Target(url, server.api_key, profile, scratch, real_time=False, name="fake")
            return run_cases(target, only=only)
    if transport == "mock":
        server = reference_server(profile, scratch=scratch, clock=ManualClock())
        with server.mock():
            target = Target(
                server.base_url, server.api_key, profile, scratch, real_time=False, name="fake"
            )
            return run_cases(target, only=only)
    raise ValueError(f"transport must be 'serve' or 'mock', not {transport!r}")


def check_server(
    url: str,
    api_key: str,
    *,
    scratch: str = DEFAULT_SCRATCH,
    only: Iterable[str] | None = None,
    with_fake: bool = True,
    write: Callable[[str], object] = print,
) -> int:
    """`agentfakes drift`: the cases against the server at `url` (and the fake, for the
    side-by-side report); print the report; 0 when every case passes everywhere, else 1."""
    chosen = [case.name for case in select_cases(only)]
    results = run_cases(Target(url, api_key, scratch=scratch, name="server"), only=chosen)
    if with_fake:
        results += run_against_fake(scratch=scratch, only=chosen, transport="mock")
    write(format_report(results))
    return 0 if all(r.passed for r in results) else 1
