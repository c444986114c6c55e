"""One process-wide, seeded source of randomness and of every generated id.

Everything random in agentfakes (faker text, token counts, run/response/call ids, timing
gaps) is drawn from the single `random.Random` below, and the shared `Faker` draws from
that same object. `seed(n)` therefore makes everything that follows reproducible: same
seed, same objects, byte for byte. Timestamps (and the epoch in created session ids) come
from the clock, which freezegun or a VirtualClock controls.

The Faker is built on first use, not at import: building one scans faker's locale modules,
which costs start-up time that `import agentfakes` should not pay. Built late or early, it
draws from the shared Random, so `seed(n)` gives the same text either way.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from faker import Faker

DEFAULT_SEED = 20_240_601
"""The seed in force until someone calls `seed()`; the pytest plugin's default, too."""

_rng = random.Random(DEFAULT_SEED)
_faker: Faker | None = None
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
    """The shared Faker (en_US), drawing from `rng()`, for realistic text; built on first use."""
    global _faker
    if _faker is None:
        from faker import Faker

        fake = Faker("en_US")
        # faker draws from our Random, so one `seed()` reseeds both (its stub omits this setter)
        fake.random = _rng  # type: ignore[attr-defined]
        _faker = fake
    return _faker


def random_hex(nbytes: int) -> str:
    """`nbytes` random bytes as lowercase hex, from the seeded Random (not os.urandom)."""
    return f"{_rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def random_uuid4() -> uuid.UUID:
    """A version-4 UUID from the seeded Random: what `uuid.uuid4()` gives the real server."""
    return uuid.UUID(int=_rng.getrandbits(128), version=4)


# ---------------------------------------------------------------- ids, shaped like the server's


def new_run_id() -> str:
    """A run id shaped like the server's `run_` + uuid4().hex (spec §6.4), but seeded."""
    return f"run_{random_hex(16)}"


def new_call_id() -> str:
    """An OpenAI-style tool call id (`call_` + 24 hex) for conversation messages."""
    return f"call_{random_hex(12)}"


def new_response_id() -> str:
    """A Responses API id: `resp_` + uuid4().hex[:28] (beyond-runs spec §5.2, §5.3)."""
    return f"resp_{random_uuid4().hex[:28]}"


def new_completion_id() -> str:
    """A chat completion id: `chatcmpl-` + uuid4().hex[:29] (beyond-runs spec §4.1 step 11)."""
    return f"chatcmpl-{random_uuid4().hex[:29]}"


def new_item_id(kind: Literal["fc", "fco", "msg"]) -> str:
    """A Responses output item id: `fc_`, `fco_` or `msg_` + uuid4().hex[:24] (spec §5.3)."""
    return f"{kind}_{random_uuid4().hex[:24]}"


def new_session_id() -> str:
    """The id `POST /api/sessions` gives a session created without one: `api_<epoch>_<8hex>`.

    beyond-runs spec §6.2; the epoch is whole seconds of the clock (freezegun or a
    VirtualClock controls it), the 8 hex digits come from the seeded Random.
    """
    return f"api_{int(time.time())}_{random_uuid4().hex[:8]}"


def new_response_session_id() -> str:
    """The session id of an unchained `/v1/responses` request: a UUID4 (spec §5.1 step 12)."""
    return str(random_uuid4())


def derived_session_id(system_prompt: str | None, first_user_message: str) -> str:
    """A chat session id without `X-Hermes-Session-Id`: `api-` + 16 hex of a content hash.

    beyond-runs spec §4.1 step 10, §6.1: sha256 of `<system prompt or "">\\n<first user
    message>`, so every turn of one conversation (and, the quirk, every conversation with
    the same opening) shares it. Not random: it draws nothing from the seeded Random.
    """
    text = f"{system_prompt or ''}\n{first_user_message}"
    return f"api-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"


# ---------------------------------------------------------------- per-test seeds


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
