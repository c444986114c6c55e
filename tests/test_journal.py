"""Journal: every request the app made, what the fake answered, and the helpers over them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from agentfakes.api.journal import REDACTED, Journal, JournalEntry, parse_body, redact
from agentfakes.api.routes import resolve
from agentfakes.clocks import DEFAULT_START, ManualClock
from agentfakes.script import Script
from agentfakes.server import FakeRunsServer

T0 = DEFAULT_START
GATED = Script().tool_started("t").approval("rm", "delete").wait(5).tool_completed("t").answer("x")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> FakeRunsServer:
    return FakeRunsServer(clock=clock).script(GATED)


@pytest.fixture
def client(server: FakeRunsServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=server.transport(),
        base_url="http://hermes.test",
        headers={"Authorization": f"Bearer {server.api_key}"},
    ) as c:
        yield c


def create(client: httpx.Client, text: str = "hello") -> str:
    response = client.post("/v1/runs", json={"input": text})
    assert response.status_code == 202
    return str(response.json()["run_id"])


def entry(**overrides: object) -> JournalEntry:
    fields: dict[str, object] = {
        "method": "GET",
        "path": "/health",
        "headers": {},
        "body": None,
        "status": 200,
        "at": T0,
    }
    fields.update(overrides)
    return JournalEntry(**fields)  # type: ignore[arg-type]


# ================================================================== recording


class TestRecording:
    def test_every_request_is_recorded_in_order(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> None:
        run_id = create(client, "deploy it")
        clock.advance(1)
        client.get(f"/v1/runs/{run_id}")
        client.post(f"/v1/runs/{run_id}/approval", json={"choice": "once"})
        client.post(f"/v1/runs/{run_id}/stop")
        client.get("/v1/runs/run_nope")
        client.get("/health")
        rows = [(e.method, e.path, e.status, e.run_id, e.at) for e in server.requests]
        assert rows == [
            ("POST", "/v1/runs", 202, run_id, T0),
            ("GET", f"/v1/runs/{run_id}", 200, run_id, T0 + 1),
            ("POST", f"/v1/runs/{run_id}/approval", 200, run_id, T0 + 1),
            ("POST", f"/v1/runs/{run_id}/stop", 200, run_id, T0 + 1),
            ("GET", "/v1/runs/run_nope", 404, "run_nope", T0 + 1),
            ("GET", "/health", 200, None, T0 + 1),
        ]
        assert server.requests[0].body == {"input": "deploy it"}
        assert server.requests[2].body == {"choice": "once"}
        assert server.requests[3].body is None

    def test_stream_request_is_recorded(self, server: FakeRunsServer, client: httpx.Client) -> None:
        server.script(Script().answer("hi"))
        run_id = create(client)
        with client.stream("GET", f"/v1/runs/{run_id}/events") as response:
            lines = list(response.iter_lines())
        assert ": stream closed" in lines
        last = server.requests.last
        assert (last.method, last.path, last.status, last.run_id, last.action) == (
            "GET",
            f"/v1/runs/{run_id}/events",
            200,
            run_id,
            "events",
        )

    def test_failed_requests_are_recorded(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        client.post("/v1/runs", content=b"{bad")
        client.post("/v1/runs", json={"input": ""})
        client.get("/v1/models", headers={"Authorization": "Bearer wrong-key-wrong-key"})
        client.post("/v1/runs", content=b"[1]")
        rows = [(e.status, e.body, e.run_id) for e in server.requests]
        assert rows == [
            (400, "{bad", None),
            (400, {"input": ""}, None),
            (401, None, None),
            (500, [1], None),
        ]

    def test_query_is_recorded(self, server: FakeRunsServer, client: httpx.Client) -> None:
        client.get("/health", params={"verbose": "1"})
        assert server.requests.last.query == "verbose=1"

    def test_authorization_is_redacted(self, server: FakeRunsServer, client: httpx.Client) -> None:
        run_id = create(client)
        client.get(f"/v1/runs/{run_id}", headers={"Authorization": "Bearer typo-key-0123456789"})
        assert all(e.headers["authorization"] == REDACTED == "Bearer ***" for e in server.requests)
        assert server.requests[-1].status == 401
        dumped = repr(list(server.requests)) + repr(server.requests)
        assert server.api_key not in dumped
        assert "typo-key" not in dumped

    def test_other_headers_are_kept_lower_cased(
        self, server: FakeRunsServer, client: httpx.Client
    ) -> None:
        client.post(
            "/v1/runs", json={"input": "x"}, headers={"X-Hermes-Session-Key": "agent:main:x"}
        )
        headers = server.requests.last.headers
        assert headers["x-hermes-session-key"] == "agent:main:x"
        assert headers["content-type"] == "application/json"
        assert all(name == name.lower() for name in headers)


# ================================================================== helpers


class TestHelpers:
    @pytest.fixture
    def two_runs(
        self, server: FakeRunsServer, client: httpx.Client, clock: ManualClock
    ) -> tuple[str, str]:
        first, second = create(client, "one"), create(client, "two")
        client.get(f"/v1/runs/{first}")
        client.get(f"/v1/runs/{second}")
        client.get(f"/v1/runs/{second}")
        client.post(f"/v1/runs/{first}/approval", json={"choice": "deny"})
        client.post(f"/v1/runs/{second}/approval", json={"choice": "once", "all": True})
        client.post(f"/v1/runs/{second}/approval", json={"choice": "nope"})
        client.post(f"/v1/runs/{second}/stop")
        with client.stream("GET", f"/v1/runs/{first}/events") as response:
            response.read()
        client.post("/p/team/v1/runs", json={"input": "three"})
        return first, second

    def test_creates(self, server: FakeRunsServer, two_runs: tuple[str, str]) -> None:
        creates = server.requests.creates()
        assert [e.body["input"] for e in creates] == ["one", "two", "three"]
        assert [e.path for e in creates] == ["/v1/runs", "/v1/runs", "/p/team/v1/runs"]

    def test_polls(self, server: FakeRunsServer, two_runs: tuple[str, str]) -> None:
        first, second = two_runs
        assert len(server.requests.polls()) == 3
        assert len(server.requests.polls(first)) == 1
        assert len(server.requests.polls(second)) == 2

    def test_streams_and_stops(self, server: FakeRunsServer, two_runs: tuple[str, str]) -> None:
        first, second = two_runs
        assert [e.run_id for e in server.requests.streams()] == [first]
        assert server.requests.streams(second) == []
        assert [e.run_id for e in server.requests.stops()] == [second]
        assert server.requests.stops(first) == []

    def test_approvals_are_bodies(self, server: FakeRunsServer, two_runs: tuple[str, str]) -> None:
        first, second = two_runs
        assert server.requests.approvals(first) == [{"choice": "deny"}]
        assert server.requests.approvals(second) == [
            {"choice": "once", "all": True},
            {"choice": "nope"},
        ]
        assert len(server.requests.approvals()) == 3

    def test_filter(self, server: FakeRunsServer, two_runs: tuple[str, str]) -> None:
        first, second = two_runs
        journal = server.requests
        assert len(journal.filter(method="post")) == len(journal.filter(method="POST")) == 7
        assert [e.path for e in journal.filter(path=f"/v1/runs/{first}")] == [f"/v1/runs/{first}"]
        approvals = journal.filter(path=r"re:/approval$")
        assert len(approvals) == 3
        assert [e.status for e in approvals] == [200, 200, 400]
        assert len(journal.filter(path=r"re:^/v1/runs/run_[0-9a-f]{32}$")) == 3
        assert journal.filter(status=400, run_id=second, action="approval")[0].body == {
            "choice": "nope"
        }
        assert journal.filter(method="GET", run_id=second, action="poll", status=200)
        assert journal.filter(method="DELETE") == []

    def test_filter_path_is_exact_without_prefix(
        self, server: FakeRunsServer, two_runs: tuple[str, str]
    ) -> None:
        assert server.requests.filter(path="/v1/run") == []
        assert server.requests.filter(path="re:/v1/run")

    def test_last(self, server: FakeRunsServer, two_runs: tuple[str, str]) -> None:
        assert server.requests.last.path == "/p/team/v1/runs"
        assert server.requests.last is server.requests[-1]

    def test_last_on_an_empty_journal(self) -> None:
        with pytest.raises(IndexError, match="the journal is empty: the app made no request"):
            _ = Journal().last

    def test_sequence_behaviour(self, server: FakeRunsServer, two_runs: tuple[str, str]) -> None:
        journal = server.requests
        assert len(journal) == 11
        assert journal[0].action == "create"
        assert [e.action for e in journal[1:5]] == ["create", "poll", "poll", "poll"]
        iterator = iter(journal)
        journal.record(entry())
        assert len(list(iterator)) == 11  # iteration is over a snapshot
        assert len(journal) == 12

    def test_clear(self, server: FakeRunsServer, two_runs: tuple[str, str]) -> None:
        server.requests.clear()
        assert len(server.requests) == 0
        assert server.requests.creates() == []


class TestRepr:
    def test_empty(self) -> None:
        assert repr(Journal()) == "<Journal 0 requests>"

    def test_lists_the_last_ten(self) -> None:
        journal = Journal()
        for index in range(12):
            journal.record(entry(path=f"/p{index}", status=200 + index))
        lines = repr(journal).splitlines()
        assert lines[0] == "<Journal 12 requests>"
        assert lines[1:] == [f"  GET /p{i} → {200 + i}" for i in range(2, 12)]

    def test_through_http(self, server: FakeRunsServer, client: httpx.Client) -> None:
        run_id = create(client)
        assert repr(server.requests) == "<Journal 1 requests>\n  POST /v1/runs → 202"
        client.get(f"/v1/runs/{run_id}")
        assert repr(server.requests).endswith(f"  GET /v1/runs/{run_id} → 200")


class TestEntryParts:
    @pytest.mark.parametrize(
        ("method", "path", "endpoint", "action"),
        [
            ("POST", "/v1/runs", "runs.create", "create"),
            ("POST", "/v1/runs/", "/v1/runs/", "/v1/runs/"),  # aiohttp: no such route
            ("POST", "/p/team/v1/runs", "runs.create", "create"),
            ("GET", "/v1/runs/run_x", "runs.poll", "poll"),
            ("GET", "/p/team/v1/runs/run_x", "runs.poll", "poll"),
            ("GET", "/v1/runs/run_x/events", "runs.events", "events"),
            ("POST", "/v1/runs/run_x/approval", "runs.approval", "approval"),
            ("POST", "/v1/runs/run_x/stop", "runs.stop", "stop"),
            ("GET", "/v1/runs", "/v1/runs", "/v1/runs"),  # a 405: no endpoint
            ("GET", "/health", "probes.health", "/health"),
            ("GET", "/v1/runs/{x}", "/v1/runs/{x}", "/v1/runs/{x}"),  # braces: no run id
        ],
    )
    def test_endpoint_and_action(self, method: str, path: str, endpoint: str, action: str) -> None:
        """The journal names an entry's endpoint as the one route table resolves it; the 0.1
        `action` short names are derived from it."""
        assert resolve(method, path).endpoint == endpoint
        assert entry(method=method, path=path, endpoint=endpoint).action == action

    def test_run_id_from_the_route(self) -> None:
        assert resolve("GET", "/v1/runs/run_abc/events").run_id == "run_abc"
        assert resolve("GET", "/p/x/v1/runs/run_abc").run_id == "run_abc"
        assert resolve("POST", "/v1/runs").run_id is None
        assert resolve("GET", "/health").run_id is None

    def test_parse_body(self) -> None:
        assert parse_body(b"") is None
        assert parse_body(b'{"a": [1, 2]}') == {"a": [1, 2]}
        assert parse_body(b'"text"') == "text"
        assert parse_body(b"not json") == "not json"
        assert parse_body(b"\xff\xfe") == "\ufffd\ufffd"

    def test_redact(self) -> None:
        headers = {"authorization": "Bearer secret", "accept": "*/*"}
        assert redact(headers) == {"authorization": "Bearer ***", "accept": "*/*"}
        assert headers["authorization"] == "Bearer secret"  # the input is not changed
        assert redact({"accept": "*/*"}) == {"accept": "*/*"}


class TestOneEntryType:
    def test_subscript_reads_the_same_fields(self) -> None:
        server = FakeRunsServer(clock=ManualClock()).script(Script().answer("hi"))
        with httpx.Client(transport=server.transport(), base_url=server.base_url) as client:
            headers = {"Authorization": f"Bearer {server.api_key}"}
            client.post("/v1/runs", json={"input": "x"}, headers=headers)
        created = server.requests.creates()[0]
        assert created["body"] == created.body == {"input": "x"}
        assert created["endpoint"] == "runs.create" and created["action"] == "create"
        assert created.to_dict() == {
            "method": "POST",
            "path": "/v1/runs",
            "query": "",
            "endpoint": "runs.create",
            "run_id": created.run_id,
            "status": 202,
            "body": {"input": "x"},
            "headers": created.headers,
            "at": DEFAULT_START,
        }
        with pytest.raises(KeyError, match="no field 'bodyy'; fields: method, path"):
            created["bodyy"]

    def test_approvals_gives_the_bodies_and_filter_the_entries(self) -> None:
        server = FakeRunsServer(clock=ManualClock())
        server.script(Script().approval("rm", "d").answer("ok"))
        headers = {"Authorization": f"Bearer {server.api_key}"}
        with httpx.Client(transport=server.transport(), base_url=server.base_url) as client:
            run_id = client.post("/v1/runs", json={"input": "x"}, headers=headers).json()["run_id"]
            client.get(f"/v1/runs/{run_id}", headers=headers)
            client.post(f"/v1/runs/{run_id}/approval", json={"choice": "once"}, headers=headers)
        assert server.requests.approvals(run_id) == [{"choice": "once"}]
        entries = server.requests.filter(endpoint="runs.approval", run_id=run_id)
        assert [e["body"] for e in entries] == server.requests.approvals(run_id)


@pytest.mark.parametrize(
    ("factory", "old", "new"),
    [
        ("ResultFactory", "complete", "completed"),
        ("ResultFactory", "error", "failed"),
        ("RunFactory", "completed", "complete"),
        ("RunFactory", "failed", "error"),
        ("RunFactory", "truncated", "max_iterations"),
    ],
)
def test_factory_traits_share_one_vocabulary(factory: str, old: str, new: str) -> None:
    import agentfakes

    cls = getattr(agentfakes, factory)
    built_old, built_new = cls.build(old), cls.build(new)
    key = "stop_reason" if factory == "ResultFactory" else "status"
    assert getattr(built_old, key) == getattr(built_new, key)
    assert bool(getattr(built_old, "truncated", False)) == bool(
        getattr(built_new, "truncated", False)
    )
