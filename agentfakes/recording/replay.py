"""`ScenarioPlayer`: a scenario file's runs as scripts for the fake server (replay).

The player is a script source the script book consults first: a new run whose input
equals a recorded run's input (each recorded run once, in file order) is driven by that
run's script. At the end it reports what a test should know: recorded runs no request
used, approval choices that differ from the recording without a branch for them, and
runs that ended otherwise than recorded (issue 9, "Replay").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from agentfakes.engine.run import RunRecord
from agentfakes.models import ApprovalResponded
from agentfakes.script import Script
from agentfakes.script.scenario import Scenario, ScenarioRun, outcome_kind

__all__ = ["ScenarioPlayer", "unmatched_to_stderr"]


class ScenarioPlayer:
    """Drives runs from a Scenario; `problems(records)` is its share of `verify()`.

    `fail_unmatched`: a run whose input matches no recorded run is still accepted and
    fails with an error text naming the input and the file (`agentfakes serve`), and
    `on_unmatched` hears the same text; otherwise such a run falls through to the test's
    own rules, queue and default script.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        fail_unmatched: bool = False,
        on_unmatched: Callable[[str], None] | None = None,
    ) -> None:
        self.scenario = scenario
        self.label = scenario.label
        self.fail_unmatched = fail_unmatched
        self.on_unmatched = on_unmatched
        self.scripts = [
            run.replay_script(f"{self.label} run {number}")
            for number, run in enumerate(scenario.runs, start=1)
        ]
        self.used = [False] * len(scenario.runs)

    @classmethod
    def of(cls, scenario: Scenario | str | os.PathLike[str], **options: object) -> ScenarioPlayer:
        loaded = scenario if isinstance(scenario, Scenario) else Scenario.load(Path(scenario))
        return cls(loaded, **options)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"<ScenarioPlayer {self.label} runs={len(self.used)} used={sum(self.used)}>"

    # -- the script book asks

    def select(self, text: str, surface: str = "runs") -> Script | None:
        """The script of the first unused recorded run on `surface` with exactly this
        input (a chat completion, a response, a session chat: the last user message)."""
        for index, run in enumerate(self.scenario.runs):
            if not self.used[index] and run.surface == surface and run.input == text:
                self.used[index] = True
                return self.scripts[index]
        if not self.fail_unmatched:
            return None
        message = (
            f"agentfakes: no {_what(surface)} in {self.label} has the input {text[:200]!r} "
            f"(recorded inputs: {', '.join(repr(r.input[:60]) for r in self.scenario.runs)})"
        )
        if self.on_unmatched is not None:
            self.on_unmatched(message)
        return Script().fail(message).named("unmatched input")

    def claims(self, text: str, surface: str = "runs") -> bool:
        """Whether an unused recorded run on `surface` has exactly this input
        (new_episodes asks)."""
        return any(
            not used and run.surface == surface and run.input == text
            for run, used in zip(self.scenario.runs, self.used, strict=True)
        )

    # -- the end of a test

    def unused(self) -> list[str]:
        return [
            f"{self.label}: run {number} (input {run.input[:80]!r}) was never replayed: "
            f"the app created no {_what(run.surface)} with that input"
            for number, (run, used) in enumerate(
                zip(self.scenario.runs, self.used, strict=True), start=1
            )
            if not used
        ]

    def problems(self, records: Iterable[RunRecord]) -> list[tuple[str, str]]:
        """("scenario_runs", …) for unused recorded runs; ("scenario_replay", …) for a
        replay that took another path than the recording and had no branch for it."""
        found = [("scenario_runs", text) for text in self.unused()]
        by_script = {id(script): index for index, script in enumerate(self.scripts)}
        for record in records:
            index = by_script.get(id(record.script))
            if index is None:
                continue
            found += [("scenario_replay", text) for text in self._check(record, index)]
        return found

    def _check(self, record: RunRecord, index: int) -> list[str]:
        run: ScenarioRun = self.scenario.runs[index]
        where = (
            f"{self.label}: run {index + 1} (input {run.input[:60]!r}, replayed as {record.run_id})"
        )
        problems = []
        expected = [a for a in run.approvals if a.choice != "timeout"]
        chosen = [e.choice for e in record.events if isinstance(e, ApprovalResponded)]
        branched = False
        for number, choice in enumerate(chosen):
            if number >= len(expected):
                problems.append(
                    f"{where}: the app answered approval {number + 1} with {choice!r}, but the "
                    "recording has no answered approval there"
                )
                continue
            recorded = expected[number]
            if choice == recorded.choice:
                continue
            kind = outcome_kind(choice)
            if kind != outcome_kind(recorded.choice) and kind in recorded.branches:
                branched = True
                continue
            why = (
                "once, session and always take one path in the fake, so a branch cannot "
                "tell them apart; record the test again"
                if kind == outcome_kind(recorded.choice)
                else f"and the scenario has no {kind!r} branch there"
            )
            problems.append(
                f"{where}: the app chose {choice!r} at approval {number + 1}, the recording "
                f"chose {recorded.choice!r}, {why}"
            )
        final = (run.final or {}).get("status")
        if not problems and not branched and record.is_terminal and final is not None:
            status = record.status.value
            if status != final:
                detail = f" ({record.error})" if record.error else ""
                stop = " The recording stopped the run; did the app stop it?" if run.stop else ""
                problems.append(
                    f"{where}: ended {status!r}{detail}, the recording ended {final!r}.{stop}"
                )
        return problems


def _what(surface: str) -> str:
    return {
        "runs": "run",
        "chat": "chat completion",
        "responses": "response",
        "sessions": "session chat",
    }.get(surface, "run")


def unmatched_to_stderr(message: str) -> None:
    """`agentfakes serve --scenario`: say on stderr which input matched no recorded run."""
    print(message, file=sys.stderr, flush=True)
