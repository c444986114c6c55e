"""Seeding: one seeded source for everything, and the plugin's per-test, order-free seeds."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from agentfakes import seeding
from agentfakes.factories import RunFactory
from agentfakes.models import RUN_ID_PATTERN

pytest_plugins = ["pytester"]


# ---------------------------------------------------------------- the seeded source


def test_seed_makes_random_and_faker_repeat() -> None:
    seeding.seed(42)
    first = (seeding.rng().random(), seeding.faker().sentence(), seeding.new_run_id())
    seeding.seed(42)
    second = (seeding.rng().random(), seeding.faker().sentence(), seeding.new_run_id())
    assert first == second
    seeding.seed(43)
    assert (seeding.rng().random(), seeding.faker().sentence()) != first[:2]


def test_faker_draws_from_the_shared_random() -> None:
    seeding.seed(5)
    seeding.rng().random()  # one draw from the shared Random shifts what faker says next
    shifted = seeding.faker().sentence()
    seeding.seed(5)
    assert seeding.faker().sentence() != shifted


def test_current_seed_reports_the_last_seed() -> None:
    seeding.seed(1234)
    assert seeding.current_seed() == 1234


@pytest.mark.parametrize("bad", ["7", 1.5, True, None])
def test_seed_takes_only_an_int(bad: object) -> None:
    with pytest.raises(TypeError, match="seed\\(\\) takes an int"):
        seeding.seed(bad)  # type: ignore[arg-type]


def test_run_ids_are_seeded_and_shaped_like_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_uuid() -> uuid.UUID:
        raise AssertionError("run ids must come from the seeded Random, not uuid4")

    monkeypatch.setattr(uuid, "uuid4", no_uuid)
    seeding.seed(9)
    ids = [seeding.new_run_id() for _ in range(200)] + [RunFactory.build().run_id]
    assert all(re.fullmatch(RUN_ID_PATTERN, run_id) for run_id in ids)
    assert len(set(ids)) == len(ids)
    seeding.seed(9)
    assert seeding.new_run_id() == ids[0]
    assert re.fullmatch(r"call_[0-9a-f]{24}", seeding.new_call_id())


def test_surface_ids_are_seeded_and_shaped_like_hermes(monkeypatch: pytest.MonkeyPatch) -> None:
    """beyond-runs spec §4.1, §5.2, §5.3, §6.2: the shapes of hermes-agent 0.19.0's ids."""

    def no_uuid() -> uuid.UUID:
        raise AssertionError("ids must come from the seeded Random, not uuid4")

    monkeypatch.setattr(uuid, "uuid4", no_uuid)

    def draw() -> list[str]:
        return [
            seeding.new_response_id(),
            seeding.new_completion_id(),
            seeding.new_item_id("fc"),
            seeding.new_item_id("fco"),
            seeding.new_item_id("msg"),
            seeding.new_response_session_id(),
            seeding.new_session_id(),
        ]

    with freeze_time("2026-03-01 12:00:00"):
        seeding.seed(4)
        ids = draw()
        seeding.seed(4)
        assert draw() == ids
    response, completion, fc, fco, msg, response_session, session = ids
    assert re.fullmatch(r"resp_[0-9a-f]{28}", response)
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{29}", completion)
    assert re.fullmatch(r"fc_[0-9a-f]{24}", fc) and re.fullmatch(r"fco_[0-9a-f]{24}", fco)
    assert re.fullmatch(r"msg_[0-9a-f]{24}", msg)
    assert uuid.UUID(response_session).version == 4 and str(uuid.UUID(response_session)) == (
        response_session
    )
    epoch = int(datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp())
    assert re.fullmatch(rf"api_{epoch}_[0-9a-f]{{8}}", session)
    # cut from a uuid4's hex, as the server does: the version nibble is there too
    assert response[5 + 12] == "4" and completion[9 + 12] == "4"
    seeding.seed(5)
    assert len({seeding.new_response_id() for _ in range(500)}) == 500


def test_derived_chat_session_ids_are_content_hashes_not_draws() -> None:
    """beyond-runs spec §4.1 step 10, §6.1: `api-` + 16 hex of sha256(system \\n first message)."""
    seeding.seed(1)
    state = seeding.rng().getstate()
    first = seeding.derived_session_id(None, "Hello")
    assert re.fullmatch(r"api-[0-9a-f]{16}", first)
    assert seeding.rng().getstate() == state  # draws nothing: the same every run, any seed
    assert first == seeding.derived_session_id("", "Hello")  # no system prompt hashes as ""
    assert first != seeding.derived_session_id("Be brief.", "Hello")
    assert first != seeding.derived_session_id(None, "Hello!")
    digest = hashlib.sha256(b"Be brief.\nHello").hexdigest()
    assert seeding.derived_session_id("Be brief.", "Hello") == f"api-{digest[:16]}"


def test_faker_is_built_on_first_use() -> None:
    """Building a Faker scans locale modules: importing seeding must not pay for it."""
    code = textwrap.dedent(
        f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("seeding", {seeding.__file__!r})
        seeding = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(seeding)
        assert "faker" not in sys.modules and seeding._faker is None
        fake = seeding.faker()
        assert "faker" in sys.modules and seeding.faker() is fake
        assert fake.random is seeding.rng()
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_a_faker_built_late_says_what_one_built_early_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seeding.seed(5)
    early = [seeding.faker().sentence(), seeding.rng().random(), seeding.faker().name()]
    monkeypatch.setattr(seeding, "_faker", None)  # as if no one had asked for it yet
    seeding.seed(5)
    late = [seeding.faker().sentence(), seeding.rng().random(), seeding.faker().name()]
    assert late == early


def test_random_hex_keeps_leading_zeros() -> None:
    seeding.seed(0)
    assert all(len(seeding.random_hex(4)) == 8 for _ in range(500))


def test_derive_seed_depends_on_base_and_test_id() -> None:
    seed = seeding.derive_seed(1, "tests/test_x.py::test_a")
    assert seed == seeding.derive_seed(1, "tests/test_x.py::test_a")
    assert seed != seeding.derive_seed(1, "tests/test_x.py::test_b")
    assert seed != seeding.derive_seed(2, "tests/test_x.py::test_a")
    assert 0 <= seed < 2**64


def test_derive_seed_is_the_same_in_another_process() -> None:
    """xdist workers are other processes, with another hash() salt: the seed must not move."""
    code = "from agentfakes import seeding; print(seeding.derive_seed(3, 'tests/t.py::test_a'))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) == seeding.derive_seed(3, "tests/t.py::test_a")


def test_reproduce_hint_says_how_to_get_the_same_objects() -> None:
    derived = seeding.reproduce_hint(seed_used=99, base=7, nodeid="tests/t.py::test_a")
    assert "agentfakes seed: 99" in derived
    assert "pytest 'tests/t.py::test_a' --agentfakes-seed=7" in derived
    assert "agentfakes.seed(99)" in derived
    pinned = seeding.reproduce_hint(seed_used=5, base=None, nodeid="tests/t.py::test_b")
    assert "@pytest.mark.agentfakes_seed(5)" in pinned and "--agentfakes-seed" not in pinned


# ---------------------------------------------------------------- the pytest plugin

# A test module for pytester: each test records what the factories gave it, by test name.
RECORDING_TESTS = textwrap.dedent(
    """
    import pathlib
    import pytest

    OUT = pathlib.Path(__file__).parent / "built"

    def record(request, text):
        OUT.mkdir(exist_ok=True)
        (OUT / request.node.name).write_text(text)

    def test_a(request, run_factory):
        run = run_factory.completed()
        record(request, run.run_id + " " + run.output)

    def test_b(request, result_factory, event_factory):
        text = result_factory.build("with_tools").to_dict()["content"]
        record(request, text + " " + event_factory.sequence()[0].run_id)

    def test_c(request, tool_call_factory, message_factory, run_usage_factory):
        record(request, repr((tool_call_factory.build(), message_factory.build(),
                              run_usage_factory.build())))
    """
)


def built(pytester: pytest.Pytester) -> dict[str, str]:
    """What each recorded test built, then a clean slate for the next run."""
    out = pytester.path / "built"
    record = {path.name: path.read_text() for path in sorted(out.iterdir())}
    for path in out.iterdir():
        path.unlink()
    return record


def test_factory_fixtures_are_seeded_per_test_whatever_the_order(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_recording=RECORDING_TESTS)
    pytester.runpytest().assert_outcomes(passed=3)
    in_order = built(pytester)
    assert set(in_order) == {"test_a", "test_b", "test_c"}

    reverse = [f"test_recording.py::test_{name}" for name in "cba"]
    result = pytester.runpytest("-v", *reverse)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_c PASSED*", "*test_b PASSED*", "*test_a PASSED*"])
    assert built(pytester) == in_order

    pytester.runpytest("test_recording.py::test_b").assert_outcomes(passed=1)
    assert built(pytester) == {"test_b": in_order["test_b"]}


def test_the_seed_option_changes_every_test_and_repeats(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_recording=RECORDING_TESTS)
    pytester.runpytest("--agentfakes-seed=1").assert_outcomes(passed=3)
    first = built(pytester)
    pytester.runpytest("--agentfakes-seed=1").assert_outcomes(passed=3)
    assert built(pytester) == first
    pytester.runpytest("--agentfakes-seed=2").assert_outcomes(passed=3)
    other = built(pytester)
    assert all(other[name] != first[name] for name in first)


def test_the_same_objects_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_recording=RECORDING_TESTS)
    pytester.runpytest("-p", "no:xdist").assert_outcomes(passed=3)
    serial = built(pytester)
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=3)
    assert built(pytester) == serial


def test_option_and_header_are_shown(pytester: pytest.Pytester) -> None:
    help_text = pytester.runpytest("--help")
    help_text.stdout.fnmatch_lines(["*--agentfakes-seed=N*base seed for agentfakes*"])
    pytester.makepyfile("def test_ok(): pass")
    run = pytester.runpytest("--agentfakes-seed=77")
    run.stdout.fnmatch_lines(["agentfakes: --agentfakes-seed=77"])


def test_marker_pins_the_seed_for_one_test(pytester: pytest.Pytester) -> None:
    seeding.seed(42)
    expected = RunFactory.build().run_id
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.agentfakes_seed(42)
        def test_pinned(agentfakes_seed, run_factory):
            assert agentfakes_seed == 42
            assert run_factory.build().run_id == {expected!r}

        def test_derived(agentfakes_seed):
            assert agentfakes_seed != 42
        """
    )
    for base in ("1", "2"):
        result = pytester.runpytest("--strict-markers", f"--agentfakes-seed={base}")
        result.assert_outcomes(passed=2)


def test_marker_without_one_seed_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.agentfakes_seed
        def test_bare():
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*agentfakes_seed takes one int*"])


def test_a_failing_test_reports_its_seed_and_how_to_reproduce(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_failing="""
        import pytest

        def test_derived(run_factory):
            assert run_factory.failed().error == "nope"

        @pytest.mark.agentfakes_seed(5)
        def test_pinned():
            assert False

        def test_passing():
            pass
        """
    )
    result = pytester.runpytest("--agentfakes-seed=3")
    result.assert_outcomes(failed=2, passed=1)
    derived = seeding.derive_seed(3, "test_failing.py::test_derived")
    result.stdout.fnmatch_lines(
        [
            "*- agentfakes -*",
            f"agentfakes seed: {derived} (derived from --agentfakes-seed=3 and the test id)",
            "reproduce: pytest 'test_failing.py::test_derived' --agentfakes-seed=3",
            f"or, in code: agentfakes.seed({derived}) before building the objects",
        ]
    )
    result.stdout.fnmatch_lines(
        ["agentfakes seed: 5 (the seed is pinned by @pytest.mark.agentfakes_seed(5))"]
    )
    assert result.stdout.str().count("agentfakes seed:") == 2  # not for the passing test


def test_the_seed_is_a_user_property(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_prop="def test_one(): pass")
    reprec = pytester.inline_run("--agentfakes-seed=11")
    (report,) = [r for r in reprec.getreports("pytest_runtest_logreport") if r.when == "call"]
    expected = seeding.derive_seed(11, "test_prop.py::test_one")
    assert ("agentfakes_seed", expected) in report.user_properties


def test_plugin_module_is_the_registered_entry_point() -> None:
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group="pytest11") if e.name == "agentfakes"]
    assert entry.value == "agentfakes.pytest_plugin"
