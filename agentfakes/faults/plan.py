"""When a fault fires: `FaultPlan`, consulted by the api for every request.

`server.fault(...)` arms a `Fault` for matching requests (endpoint name, run, the nth
match, a count, a seeded probability). Matching is on endpoint names from the api's one
route table, never on URLs. Faults are strict by default: one that never fired fails the
test at teardown, naming it, unless armed `optional=True`. `server.chaos(rate, seed)` arms
random faults at a rate, reproducible from the seed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from agentfakes.faults.kinds import Fault, connection_reset, http_error


@dataclass(frozen=True)
class EndpointNames:
    """The endpoint names faults may name: each name or alias → the canonical names it
    covers, and which of them stream (stream faults apply only there)."""

    names: Mapping[str, tuple[str, ...]]
    streaming: frozenset[str]

    def resolve(self, name: str) -> tuple[str, ...]:
        if name == "any":
            return ("any",)
        try:
            return self.names[name]
        except KeyError:
            known = ", ".join(sorted(self.names))
            raise ValueError(
                f"fault on={name!r} is not an endpoint; use one of {known}, any"
            ) from None


@dataclass
class ArmedFault:
    """A fault and the requests it applies to."""

    fault: Fault
    on: tuple[str, ...]
    run_id: str | None = None
    nth: int | None = None
    times: int | None = 1
    probability: float | None = None
    optional: bool = False
    rng: random.Random = field(default_factory=random.Random, repr=False)
    covers: frozenset[str] = frozenset({"any"})  # the canonical endpoint names `on` means
    seen: int = 0
    fired: int = 0

    def describe(self) -> str:
        where = "/".join(self.on)
        parts = [f"{self.fault.describe()} on {where}"]
        if self.run_id:
            parts.append(f"for {self.run_id}")
        if self.nth:
            parts.append(f"at call #{self.nth}")
        if self.probability is not None:
            parts.append(f"with p={self.probability}")
        return " ".join(parts)

    def applies(self, endpoint: str, run_id: str | None) -> bool:
        """Whether this request is one this fault watches (and count it if so): `nth`
        counts the fault's own matches, whatever other faults take."""
        if "any" not in self.covers and endpoint not in self.covers:
            return False
        if self.run_id is not None and run_id != self.run_id:
            return False
        self.seen += 1
        return True

    def take(self, endpoint: str, run_id: str | None) -> bool:
        """Whether this watched request gets the fault (counts the firing when it does)."""
        if self.times is not None and self.fired >= self.times:
            return False
        if self.nth is not None and self.seen != self.nth:
            return False
        if self.probability is not None and self.rng.random() >= self.probability:
            return False
        self.fired += 1
        return True


class FaultPlan:
    """The faults armed on one server, consulted for every request."""

    def __init__(self, endpoints: EndpointNames) -> None:
        self.endpoints = endpoints
        self.armed: list[ArmedFault] = []
        self.log: list[tuple[str, str]] = []  # (endpoint, fault description) as fired

    def arm(
        self,
        fault: Fault,
        *,
        on: str | tuple[str, ...] | list[str] = "any",
        run_id: str | None = None,
        nth: int | None = None,
        times: int | None = 1,
        probability: float | None = None,
        seed: int | None = None,
        optional: bool = False,
    ) -> ArmedFault:
        endpoints = (on,) if isinstance(on, str) else tuple(on)
        covers = frozenset(name for given in endpoints for name in self.endpoints.resolve(given))
        streaming = self.endpoints.streaming
        if fault.kind == "stream" and covers - streaming - {"any"}:
            where = ", ".join(sorted(streaming))
            raise ValueError(
                f"{fault.describe()} only applies to on='events' (the streams: {where})"
            )
        if nth is not None and nth < 1:
            raise ValueError(f"nth counts matching requests from 1, got {nth}")
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None (every time), got {times}")
        if probability is not None and not 0 < probability <= 1:
            raise ValueError(f"probability must be in (0, 1], got {probability}")
        if fault.kind == "stream" and covers == {"any"}:
            covers = streaming
        armed = ArmedFault(
            fault,
            endpoints,
            covers=covers,
            run_id=run_id,
            nth=nth,
            times=times,
            probability=probability,
            optional=optional or probability is not None,
            rng=random.Random(seed),
        )
        self.armed.append(armed)
        return armed

    def chaos(self, rate: float, *, seed: int, faults: list[Fault] | None = None) -> None:
        """Random faults at `rate` on every request, the same ones for the same seed."""
        if not 0 < rate <= 1:
            raise ValueError(f"chaos rate must be in (0, 1], got {rate}")
        kinds = faults or [http_error(503), http_error(429), http_error(500), connection_reset()]
        chooser = random.Random(seed)
        chaos = _Chaos(kinds[0], ("any",), times=None, probability=rate, optional=True)
        chaos.rng, chaos.choices, chaos.chooser = random.Random(seed), kinds, chooser
        chaos.streaming = self.endpoints.streaming
        self.armed.append(chaos)

    def match(self, endpoint: str, run_id: str | None) -> Fault | None:
        """The fault this request meets, if any: every armed fault that watches it counts
        it, and the first one armed that fires on it wins."""
        if not self.armed:
            return None
        watching = [armed for armed in self.armed if armed.applies(endpoint, run_id)]
        for armed in watching:
            if armed.take(endpoint, run_id):
                fault = armed.fault  # chaos picks its fault in take()
                self.log.append((endpoint, fault.describe()))
                return fault
        return None

    def unfired(self) -> list[str]:
        return [a.describe() for a in self.armed if not a.optional and a.fired == 0]


@dataclass
class _Chaos(ArmedFault):
    choices: list[Fault] = field(default_factory=list)
    chooser: random.Random = field(default_factory=random.Random, repr=False)
    streaming: frozenset[str] = frozenset()

    def describe(self) -> str:
        return f"chaos at rate {self.probability}"

    def take(self, endpoint: str, run_id: str | None) -> bool:
        if not super().take(endpoint, run_id):
            return False
        self.fault = self.chooser.choice(
            [f for f in self.choices if f.kind != "stream" or endpoint in self.streaming]
        )
        return True
