"""The declarative core of every factory: `Factory`, `Lazy`, `Param`, traits, build verbs.

Each factory is a small declarative class over one model, in the style of polyfactory:

    class RunUsageFactory(Factory[RunUsage]):
        __model__ = RunUsage
        input_tokens = Lazy(lambda _: rng().randint(120, 24_000))
        output_tokens = Lazy(lambda _: rng().randint(8, 3_200))
        total_tokens = Lazy(lambda v: v["input_tokens"] + v["output_tokens"])

A class attribute named like a model field is that field's default: a plain value, or a
`Lazy` computed at build time from the values resolved so far (every override, and every
declaration above it). `Param` declares a knob that is not a model field (`tools=3`).
`traits` are named presets that replace declarations. Randomness comes from `seeding`, so
`agentfakes.seed(n)` makes every factory reproducible; timestamps follow the clock
(`time.time()`), so under freezegun or a VirtualClock the same seed gives the same
timestamps too, and on a real clock they move with it.

Why not polyfactory's `ModelFactory` (3.5.0, tried against these factories)? It cannot
carry this API without replacing most of it:
- It resolves fields in the *model's* field order, and every `PostGenerated` after all
  other fields with no order among them; ours resolve in declaration order, each seeing
  the ones above. `Result` declares `usage` before `turns`, so a `ResultFactory` whose
  usage depends on turns fails with `KeyError: 'turns'`.
- `__use_defaults__` is all or nothing: on, model defaults beat the factory's
  declarations (every `Result` came out with `turns=0`); off, undeclared fields get
  random junk (`session_id='4a9b528b69'`, `model='a6'`) and extra draws from the Random.
- No factory-only parameters (`tools=2` went to `Result(...)` and was silently dropped)
  and no strict overrides: on `Run` (extra="allow") `build(outptu="x")` adds a stray
  field where ours says "unknown field 'outptu' (did you mean 'output'?)".
- No traits, and `build(*_, **kwargs)` swallows positional arguments, so
  `build("failed")` silently gives a completed run; a lazy value passed as an override
  (how traits would be applied) reaches the model unresolved (ValidationError). The batch
  verb is `batch(size)`, not `build_batch(n)`.
- Seeding: `__random__` can share our Random, but `seed_random()` (a polyfactory user's
  natural call) swaps in a private `Random(seed)`, silently detaching it from
  `agentfakes.seed(n)`; and `polyfactory.factories.base` builds a `Faker()` at import,
  the start-up cost `seeding` avoids by building its Faker lazily.
Overriding `build`, `batch`, `process_kwargs`, `get_model_fields` and `seed_random` to
fix all that would leave polyfactory as a base class doing nothing, so the core is ours.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)
Values = dict[str, Any]
"""The values resolved so far while one object is being built, overrides included."""


# ---------------------------------------------------------------- the declarative core


class Lazy:
    """A field default computed at build time, so it can depend on the fields before it."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[Values], Any]) -> None:
        self.make = make


class Param:
    """A factory-only knob (e.g. `tools=3`): overridable and seen by `Lazy`, not a model field."""

    __slots__ = ("default",)

    def __init__(self, default: Any) -> None:
        self.default = default


def _resolve(declaration: Any, values: Values) -> Any:
    """A declaration's value: `Lazy` is called, plain values are copied (no shared lists)."""
    if isinstance(declaration, Lazy):
        return declaration.make(values)
    return copy.deepcopy(declaration)


def _trait_names(trait: str | Sequence[str] | None) -> list[str]:
    if trait is None:
        return []
    if isinstance(trait, str):
        return [trait]
    return list(trait)


class Factory(Generic[T]):
    """Base of every factory: `build`, `build_batch`, traits, and strict override names."""

    __model__: type[T]
    traits: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    _declarations: ClassVar[dict[str, Any]] = {}
    _params: ClassVar[frozenset[str]] = frozenset()
    _label: ClassVar[str] = "Factory.build()"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Collect the declarations once, in class order, and check the traits' field names."""
        super().__init_subclass__(**kwargs)
        if not hasattr(cls, "__model__"):
            return  # an abstract helper base (e.g. the event envelope), not a real factory
        fields = cls.__model__.model_fields
        params = {
            name
            for klass in cls.__mro__
            for name, value in vars(klass).items()
            if isinstance(value, Param)
        }
        declarations: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if name in fields or name in params:
                    declarations[name] = value.default if isinstance(value, Param) else value
        cls._declarations = declarations
        cls._params = frozenset(params)
        if "_label" not in vars(cls):
            cls._label = f"{cls.__name__}.build()"
        for trait, presets in cls.traits.items():
            unknown = set(presets) - cls._allowed_names()
            if unknown:
                raise TypeError(
                    f"{cls.__name__} trait {trait!r} sets unknown fields {sorted(unknown)}"
                )

    @classmethod
    def _allowed_names(cls) -> set[str]:
        return set(cls.__model__.model_fields) | cls._params

    @classmethod
    def _reject_unknown(cls, overrides: Mapping[str, Any]) -> None:
        """Fail on a misspelt override, naming it and every name that would have worked."""
        allowed = cls._allowed_names()
        for name in overrides:
            if name in allowed:
                continue
            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(
                f"{cls._label} got an unknown field {name!r}{hint}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )

    @classmethod
    def _trait(cls, name: str) -> Mapping[str, Any]:
        if name not in cls.traits:
            known = ", ".join(cls.traits) or "none"
            raise ValueError(f"{cls.__name__} has no trait {name!r}; traits: {known}")
        return cls.traits[name]

    @classmethod
    def build(cls, trait: str | Sequence[str] | None = None, **overrides: Any) -> T:
        """One object: declarations, then the named trait(s), then your overrides win."""
        cls._reject_unknown(overrides)
        declarations = dict(cls._declarations)
        for name in _trait_names(trait):
            declarations.update(cls._trait(name))
        values: Values = dict(overrides)
        for name, declaration in declarations.items():
            if name not in values:
                values[name] = _resolve(declaration, values)
        fields = {name: value for name, value in values.items() if name not in cls._params}
        return cls.__model__(**fields)

    @classmethod
    def build_batch(
        cls, n: int, trait: str | Sequence[str] | None = None, **overrides: Any
    ) -> list[T]:
        """`n` independent objects, each built like `build(trait, **overrides)`."""
        if n < 0:
            raise ValueError(f"build_batch needs n >= 0, got {n}")
        return [cls.build(trait, **overrides) for _ in range(n)]
