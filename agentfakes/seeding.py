"""One process-wide, seeded source of randomness for every factory and generated id.

Everything random in agentfakes (faker text, token counts, run ids, timing gaps) is drawn
from the single `random.Random` below, and the shared `Faker` draws from that same object.
`seed(n)` therefore makes everything that follows reproducible: same seed, same objects,
byte for byte (timestamps come from the clock, which freezegun or a VirtualClock controls).
"""

from __future__ import annotations

import hashlib
import random

from faker import Faker

DEFAULT_SEED = 20_240_601
"""The seed in force until someone calls `seed()`; the pytest plugin's default, too."""

_rng = random.Random(DEFAULT_SEED)
_faker = Faker("en_US")
# faker draws from our Random, so one `seed()` reseeds both (its stub omits this setter)
_faker.random = _rng  # type: ignore[attr-defined]
_current_seed = DEFAULT_SEED


def seed(n: int) -> None:
    """Reseed the shared Random (and so the shared Faker): same seed, same objects."""
    global _current_seed
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"seed() takes an int, not {type(n).__name__}: {n!r}")
    _rng.seed(n)
    _current_seed = n


def current_seed() -> int:
    """The seed last passed to `seed()` (for failure messages that say how to reproduce)."""
    return _current_seed


def rng() -> random.Random:
    """The shared Random every factory draws from; never make a private one."""
    return _rng


def faker() -> Faker:
    """The shared Faker (en_US), drawing from `rng()`, for realistic text."""
    return _faker


def random_hex(nbytes: int) -> str:
    """`nbytes` random bytes as lowercase hex, from the seeded Random (not os.urandom)."""
    return f"{_rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def new_run_id() -> str:
    """A run id shaped like the server's `run_` + uuid4().hex (spec §6.4), but seeded."""
    return f"run_{random_hex(16)}"


def new_call_id() -> str:
    """An OpenAI-style tool call id (`call_` + 24 hex) for conversation messages."""
    return f"call_{random_hex(12)}"


def derive_seed(base: int, key: str) -> int:
    """A seed for one test from (base seed, test id): stable across processes and workers.

    `hash()` is salted per process, so a digest is used: the same test gets the same seed
    whatever order the tests run in and whichever pytest-xdist worker runs it.
    """
    digest = hashlib.sha256(f"{base}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def reproduce_hint(*, seed_used: int, base: int | None, nodeid: str) -> str:
    """What a failing test's report says about its seed and how to get the same objects."""
    if base is None:
        how = f"the seed is pinned by @pytest.mark.agentfakes_seed({seed_used})"
        command = f"pytest '{nodeid}'"
    else:
        how = f"derived from --agentfakes-seed={base} and the test id"
        command = f"pytest '{nodeid}' --agentfakes-seed={base}"
    return (
        f"agentfakes seed: {seed_used} ({how})\n"
        f"reproduce: {command}\n"
        f"or, in code: agentfakes.seed({seed_used}) before building the objects"
    )
