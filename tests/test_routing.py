"""ScriptRouter: input rules, then the FIFO queue, then the default; NoScriptError otherwise."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agentfakes.clocks import ManualClock
from agentfakes.engine.script_book import InputRule, ScriptRouter, input_text
from agentfakes.errors import NoScriptError, ScriptError
from agentfakes.script import Script
from agentfakes.server import FakeRunsServer

A = Script().complete("A").named("A")
B = Script().complete("B").named("B")
C = Script().complete("C").named("C")
DEFAULT = Script().complete("default").named("default")


@pytest.fixture
def router() -> ScriptRouter:
    return ScriptRouter()


@pytest.fixture
def server() -> FakeRunsServer:
    return FakeRunsServer(clock=ManualClock())


@pytest.fixture
def client(server: FakeRunsServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=server.transport(),
        base_url="http://hermes.test",
        headers={"Authorization": f"Bearer {server.api_key}"},
    ) as c:
        yield c


def output_for(client: httpx.Client, input: Any) -> Any:
    """Create a run with `input` and return the output of the script that drove it."""
    response = client.post("/v1/runs", json={"input": input})
    assert response.status_code == 202, response.text
    run = client.get(f"/v1/runs/{response.json()['run_id']}").json()
    return run["output"]


# ================================================================== matchers


class TestMatchers:
    def test_substring(self, router: ScriptRouter) -> None:
        router.add_rule("deploy", A, None)
        router.set_default(DEFAULT)
        assert router.select("please deploy now") is A
        assert router.select("please Deploy now") is DEFAULT  # case-sensitive
        assert router.select("depl") is DEFAULT

    def test_compiled_regex_searches(self, router: ScriptRouter) -> None:
        router.add_rule(re.compile(r"^rm\b", re.IGNORECASE), A, None)
        router.set_default(DEFAULT)
        assert router.select("RM -rf build") is A
        assert router.select("do not rm") is DEFAULT

    def test_callable(self, router: ScriptRouter) -> None:
        seen: list[str] = []

        def long_input(text: str) -> bool:
            seen.append(text)
            return len(text) > 10

        router.add_rule(long_input, A, None)
        router.set_default(DEFAULT)
        assert router.select("short") is DEFAULT
        assert router.select("a much longer input") is A
        assert seen == ["short", "a much longer input"]

    def test_callable_result_is_truthiness(self, router: ScriptRouter) -> None:
        router.add_rule(lambda text: text.count("x"), A, None)
        router.set_default(DEFAULT)
        assert router.select("none here") is DEFAULT
        assert router.select("xx") is A

    def test_re_prefix_string_on_the_server(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.on_input("re:^deploy (staging|prod)$", A).script(DEFAULT)
        matcher = server.router.rules[0].matcher
        assert isinstance(matcher, re.Pattern)
        assert matcher.pattern == "^deploy (staging|prod)$"
        assert output_for(client, "deploy prod") == "A"
        assert output_for(client, "deploy dev") == "default"
        assert output_for(client, "re:^deploy prod") == "default"

    def test_plain_string_on_the_server_stays_a_substring(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.on_input("a.b", A).script(DEFAULT)
        assert output_for(client, "axb") == "default"
        assert output_for(client, "see a.b here") == "A"

    @pytest.mark.parametrize("matcher", [42, None, b"bytes", ["deploy"]], ids=repr)
    def test_bad_matcher(self, router: ScriptRouter, matcher: Any) -> None:
        with pytest.raises(ScriptError) as info:
            router.add_rule(matcher, A, None)
        assert str(info.value) == (
            "on_input: match must be a substring, a compiled regex or a callable, "
            f"not {type(matcher).__name__}"
        )
        assert router.rules == []

    def test_describe(self) -> None:
        def is_deploy(text: str) -> bool:
            return True

        assert InputRule("x", A).describe() == "input containing 'x'"
        assert InputRule(re.compile("a+b"), A).describe() == "input matching /a+b/"
        assert InputRule(is_deploy, A).describe() == "input accepted by is_deploy"
        assert InputRule(lambda t: True, A).describe() == "input accepted by <lambda>"


# ================================================================== times=


class TestTimes:
    def test_times_limits_the_rule(self, router: ScriptRouter) -> None:
        router.add_rule("go", A, 2)
        router.set_default(DEFAULT)
        assert [router.select("go") for _ in range(4)] == [A, A, DEFAULT, DEFAULT]
        assert router.rules[0].used == 2

    def test_unlimited_by_default(self, router: ScriptRouter) -> None:
        router.add_rule("go", A, None)
        assert all(router.select("go") is A for _ in range(20))
        assert router.rules[0].used == 20

    def test_exhausted_rule_falls_through_to_the_next_rule(self, router: ScriptRouter) -> None:
        router.add_rule("go", A, 1)
        router.add_rule("go", B, None)
        assert [router.select("go") for _ in range(3)] == [A, B, B]

    def test_non_matching_input_does_not_use_up_times(self, router: ScriptRouter) -> None:
        router.add_rule("go", A, 1)
        router.set_default(DEFAULT)
        assert router.select("stop") is DEFAULT
        assert router.select("go") is A

    @pytest.mark.parametrize("times", [0, -1])
    def test_times_must_be_positive(self, router: ScriptRouter, times: int) -> None:
        with pytest.raises(
            ScriptError, match=rf"^on_input: times must be >= 1 or None, got {times}$"
        ):
            router.add_rule("go", A, times)

    def test_on_input_times_through_http(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.on_input("go", A, times=1).script(DEFAULT)
        assert [output_for(client, "go") for _ in range(2)] == ["A", "default"]


# ================================================================== order


class TestOrder:
    def test_first_matching_rule_wins(self, router: ScriptRouter) -> None:
        router.add_rule("deploy", A, None)
        router.add_rule("deploy prod", B, None)
        assert router.select("deploy prod") is A

    def test_rules_before_queue_before_default(self, router: ScriptRouter) -> None:
        router.set_default(DEFAULT)
        router.enqueue(B, C)
        router.add_rule("special", A, None)
        assert router.select("special") is A
        assert router.select("plain") is B
        assert router.select("special again") is A
        assert router.select("plain") is C
        assert router.select("plain") is DEFAULT
        assert router.select("plain") is DEFAULT  # the default is reused

    def test_queue_is_fifo_across_calls(self, router: ScriptRouter) -> None:
        router.enqueue(A, B)
        router.enqueue(C)
        assert [router.select("x") for _ in range(3)] == [A, B, C]
        with pytest.raises(NoScriptError):
            router.select("x")

    def test_a_new_default_replaces_the_old_one(self, router: ScriptRouter) -> None:
        router.set_default(A)
        router.set_default(B)
        assert router.select("x") is B

    def test_order_through_http(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(DEFAULT).queue(A, B).on_input("vip", C)
        outputs = [output_for(client, text) for text in ["x", "vip", "y", "z"]]
        assert outputs == ["A", "C", "B", "default"]


# ================================================================== the input text


class TestInputText:
    def test_string(self) -> None:
        assert input_text("hello") == "hello"

    def test_list_of_parts(self) -> None:
        parts = [
            {"type": "text", "text": "please"},
            {"type": "input_text", "text": "deploy"},
            {"type": "image_url", "image_url": "http://x"},
            "raw",
        ]
        assert input_text(parts) == "please deploy raw"

    def test_other_values(self) -> None:
        assert input_text(5) == "5"
        assert input_text(None) == "None"

    def test_message_list_input_through_http(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        server.on_input("deploy", A).script(DEFAULT)
        message = {
            "role": "user",
            "content": [{"type": "text", "text": "please"}, {"type": "text", "text": "deploy"}],
        }
        history = {"role": "user", "content": "deploy earlier (not the user message)"}
        assert output_for(client, [history, message]) == "A"
        assert output_for(client, [message | {"content": "no match"}]) == "default"
        # only the last message is matched, whatever the earlier ones say
        assert output_for(client, [history, {"role": "user", "content": "hi"}]) == "default"

    def test_callable_sees_joined_parts(self, server: FakeRunsServer, client: httpx.Client) -> None:
        seen: list[str] = []
        server.on_input(lambda text: seen.append(text) or True, A)
        content = [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]
        output_for(client, [{"role": "user", "content": content}])
        assert seen == ["one two"]


# ================================================================== errors


class TestNoScript:
    def test_message_without_anything_registered(self, router: ScriptRouter) -> None:
        with pytest.raises(NoScriptError) as info:
            router.select("hello there")
        assert str(info.value) == (
            "no script for a run with input 'hello there'.\n"
            "No input rules, no queued scripts and no default script are registered.\n"
            "Register one with server.script(Script()...), server.on_input(match, Script()...) "
            "or server.queue(Script()...)."
        )

    def test_message_lists_the_rules(self, router: ScriptRouter) -> None:
        def vip_only(text: str) -> bool:
            return False

        router.add_rule("deploy", A, None)
        router.add_rule(re.compile(r"rm\s"), B, None)
        router.add_rule(vip_only, C, None)
        with pytest.raises(NoScriptError) as info:
            router.select("just chatting")
        lines = str(info.value).splitlines()
        assert lines == [
            "no script for a run with input 'just chatting'.",
            "Input rules registered (none matched):",
            "  - input containing 'deploy'",
            "  - input matching /rm\\s/",
            "  - input accepted by vip_only",
            "Register one with server.script(Script()...), server.on_input(match, Script()...) "
            "or server.queue(Script()...).",
        ]

    def test_exhausted_rules_are_listed(self, router: ScriptRouter) -> None:
        router.add_rule("go", A, 1)
        router.select("go")
        with pytest.raises(NoScriptError, match="  - input containing 'go'"):
            router.select("go")

    def test_long_input_is_cut_to_80_characters(self, router: ScriptRouter) -> None:
        with pytest.raises(NoScriptError) as info:
            router.select("z" * 200)
        assert str(info.value).splitlines()[0] == f"no script for a run with input {'z' * 80!r}."

    def test_through_http(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.on_input("deploy", A)
        with pytest.raises(NoScriptError, match="input containing 'deploy'"):
            client.post("/v1/runs", json={"input": "hello"})
        assert len(server.runs) == 0
        assert [type(e) for e in server.errors] == [NoScriptError]


class TestRegistrationChecks:
    def test_rule_script_must_be_a_script(self, router: ScriptRouter) -> None:
        with pytest.raises(ScriptError) as info:
            router.add_rule("deploy", "complete", None)  # type: ignore[arg-type]
        assert str(info.value) == "script for input containing 'deploy' must be a Script, not str"
        assert router.rules == []

    def test_rule_script_is_validated(self, router: ScriptRouter) -> None:
        with pytest.raises(ScriptError, match=r"^script for input matching /x/ has no terminal"):
            router.add_rule(re.compile("x"), Script().delta("x"), None)
        assert router.rules == []

    def test_default_is_validated(self, router: ScriptRouter) -> None:
        with pytest.raises(ScriptError, match=r"^default script must be a Script, not NoneType$"):
            router.set_default(None)  # type: ignore[arg-type]
        with pytest.raises(ScriptError, match=r"^default script 'half' has no terminal step"):
            router.set_default(Script().delta("x").named("half"))
        assert router.default is None

    def test_queued_scripts_are_numbered(self, router: ScriptRouter) -> None:
        router.enqueue(A)
        with pytest.raises(ScriptError, match=r"^queued script #3 has no terminal step"):
            router.enqueue(B, Script().delta("x"))

    def test_a_refused_enqueue_queues_nothing(self, router: ScriptRouter) -> None:
        with pytest.raises(ScriptError):
            router.enqueue(A, Script().delta("x"))
        assert list(router.queue) == []

    def test_server_on_input_validates(self, server: FakeRunsServer) -> None:
        with pytest.raises(ScriptError, match=r"^on_input: times must be >= 1"):
            server.on_input("x", A, times=0)
        with pytest.raises(ScriptError, match=r"^script for input containing 'x' has no terminal"):
            server.on_input("x", Script())
        assert server.router.rules == []


class TestUnused:
    def test_unused_lists_rules_never_matched_and_leftover_queue(
        self, router: ScriptRouter
    ) -> None:
        router.add_rule("used", A, None)
        router.add_rule(re.compile("never"), B, None)
        router.enqueue(C, DEFAULT)
        router.select("used")
        router.select("x")  # takes C from the queue
        assert router.unused() == [
            "input matching /never/",
            f"queued script {DEFAULT!r}",
        ]

    def test_nothing_unused(self, router: ScriptRouter) -> None:
        router.add_rule("a", A, 1)
        router.enqueue(B)
        router.set_default(DEFAULT)  # a default never counts as unused
        router.select("a")
        router.select("b")
        assert router.unused() == []
