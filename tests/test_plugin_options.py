"""The marker schema, ini values and flags: checked when given, typos named with a fix."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


BAD_MARKERS = [
    ("aproval_timeout=5", "*has no option 'aproval_timeout' (did you mean 'approval_timeout'?)*"),
    ("transprt='loopback'", "*no option 'transprt' (did you mean 'transport'?)*"),
    ("clock='virtaul'", "*clock=...) must be one of 'virtual', 'real'*did you mean 'virtual'*"),
    ("clock=3", "*clock=...) must be 'virtual', 'real' or a Clock, not 3*"),
    ("checks={'fault': False}", "*no check 'fault' (did you mean 'faults'?)*"),
    ("checks=['faults']", "*checks=...) must be a dict of check name to bool*"),
    ("strict='no'", "*strict=...) must be True or False*"),
    ("scenario=3", "*scenario=...) must be True or a path*"),
    ("approval_timeout=float('nan')", "*approval_timeout=...) must be a non-negative*nan*"),
    ("max_concurrent_runs='10'", "*max_concurrent_runs=...) must be an int*"),
]


def test_bad_marker_keywords(pytester: pytest.Pytester) -> None:
    """Each bad keyword errors its own test, with the option named and a fix suggested."""
    tests = [
        f"@pytest.mark.agentfakes({marker})\ndef test_{n}(fake_runs_server):\n    pass\n"
        for n, (marker, _) in enumerate(BAD_MARKERS)
    ]
    pytester.makepyfile("import pytest\n\n" + "\n".join(tests))
    result = pytester.runpytest()
    result.assert_outcomes(errors=len(BAD_MARKERS))
    result.stdout.fnmatch_lines([message for _, message in BAD_MARKERS], consecutive=False)
    assert "Traceback" not in result.stdout.str()


def test_server_options_from_the_marker_reach_the_server(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.agentfakes(model_name="m-test", approval_timeout=5, max_concurrent_runs=1)
        def test_x(fake_runs_server):
            assert fake_runs_server.config.model_name == "m-test"
            assert fake_runs_server.engine.timing.approval_timeout == 5
            assert fake_runs_server.engine.settings.max_concurrent_runs == 1
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


MISSPELT = ["agentfake", "agentfakes_sed", "agentfakess"]


def test_a_misspelt_marker_name_fails(pytester: pytest.Pytester) -> None:
    tests = [
        f"@pytest.mark.{name}(transport='loopback')\ndef test_{n}():\n    pass\n"
        for n, name in enumerate(MISSPELT)
    ]
    pytester.makepyfile("import pytest\n\n" + "\n".join(tests))
    result = pytester.runpytest("-W", "ignore::pytest.PytestUnknownMarkWarning")
    result.assert_outcomes(errors=len(MISSPELT))
    result.stdout.fnmatch_lines(
        [f"*unknown marker @pytest.mark.{name} (did you mean 'agentfakes*" for name in MISSPELT],
        consecutive=False,
    )


def test_unrelated_markers_are_left_alone(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.slow
        @pytest.mark.parametrize("n", [1])
        def test_x(n):
            pass
        """
    )
    pytester.runpytest("-W", "ignore::pytest.PytestUnknownMarkWarning").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (
            "--agentfakes-transport=loopbak",
            "*--agentfakes-transport must be one of mock, loopback, not 'loopbak' "
            "(did you mean 'loopback'?)*",
        ),
        ("--agentfakes-clock=wall", "*--agentfakes-clock must be one of virtual, real*"),
        ("--agentfakes-seed=x", "*--agentfakes-seed*invalid int value*"),
    ],
)
def test_bad_flag(pytester: pytest.Pytester, flag: str, message: str) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest(flag)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.parametrize(
    ("ini", "message"),
    [
        ("agentfakes_clock = wall", "*ini agentfakes_clock must be one of 'virtual', 'real'*"),
        ("agentfakes_transport = mocks", "*did you mean 'mock'*"),
        (
            "agentfakes_clok = real",
            "*has no option 'agentfakes_clok' (did you mean 'agentfakes_clock'?)*",
        ),
    ],
)
def test_bad_ini_value(pytester: pytest.Pytester, ini: str, message: str) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_ini_sets_the_default_and_the_flag_overrides_it(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nagentfakes_clock = real\nagentfakes_transport = loopback\n")
    pytester.makepyfile(
        """
        def test_x(fake_runs_server, request):
            clock = "real" if fake_runs_server.clock.is_real else "virtual"
            print("CLOCK", clock, "URL", fake_runs_server.url)
        """
    )
    result = pytester.runpytest("-s")
    result.stdout.fnmatch_lines(["*CLOCK real URL http://127.0.0.1:*"])
    result = pytester.runpytest("-s", "--agentfakes-clock=virtual", "--agentfakes-transport=mock")
    result.stdout.fnmatch_lines(["*CLOCK virtual URL http://hermes.test*"])


def test_help_lists_the_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(
        [
            "*--agentfakes-seed=N*",
            "*--agentfakes-transport=mock|loopback*",
            "*--agentfakes-clock=virtual|real*",
            "*--agentfakes-coverage",
            "*--agentfakes-coverage-json=PATH*",
            "*agentfakes_clock*",
        ]
    )


def test_the_plugin_default_seed_is_the_library_default() -> None:
    from agentfakes import pytest_plugin, seeding

    assert pytest_plugin.DEFAULT_SEED == seeding.DEFAULT_SEED


def test_importing_the_plugin_does_not_import_the_fake() -> None:
    import subprocess
    import sys

    code = (
        "import sys, agentfakes.pytest_plugin; "
        "print(sorted(m for m in ('pydantic', 'faker', 'httpx', 'respx', 'agentfakes.server') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
