"""A Hypothesis state machine over every way into the engine (issue 12).

Random creates (random legal Scripts, valid and invalid bodies), polls, full and partial
stream reads, approvals with valid and invalid choices, stops, clock advances (ManualClock:
TTL sweeps and timeouts included), faults and unknown ids, all through the httpx transport
as a client would. After every step the spec's invariants hold:

* a terminal status never changes, nor does anything else on the terminal run object;
* a run has at most one terminal event, and it is the last; the run object agrees (§3);
* a stream is the run's record or a prefix of it, ending in `: stream closed` (§5);
* `last_event` and `updated_at` follow §3; every status is one the route may answer;
* no 500 but the crash paths of §1.5, and no Python exception reaches the client.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from reliability_support import (
    CRASH,
    INVALID_KEY,
    STATS,
    answer_of,
    expected_approval_body,
    expected_create,
    profile,
    run_not_found,
)

from agentfakes import FakeRunsServer, ManualClock, Script
from agentfakes.strategies import PlannedFault, fault_plans, scripts

TERMINAL = {"completed", "failed", "cancelled"}
STATUSES = {"queued", "running", "waiting_for_approval", "stopping", *TERMINAL}
LAST_EVENTS = {
    "tool.started",
    "tool.completed",
    "reasoning.available",
    "approval.request",
    "approval.responded",
    "run.stopping",
    "run.completed",
    "run.failed",
    "run.cancelled",
}
ROUTE_STATUSES = {  # spec §2: what each route may answer (401 aside)
    "create": {202, 400, 429, 500, 503},
    "poll": {200, 404},
    "events": {200, 404},
    "approval": {200, 400, 404, 409, 500},
    "stop": {200, 404},
}
FIRST_KEYS = ["object", "run_id", "status", "updated_at", "created_at", "session_id", "model"]
FAULT_ERRORS = (httpx.TransportError,)  # what faults may raise into a client
CHOICES = st.sampled_from(
    ["once", "session", "always", "deny", " Approve ", "ALLOW", "yes", "", "1", "none"]
)
RAW_BODIES = st.one_of(
    st.builds(lambda c, a: json.dumps({"choice": c, "all": a}).encode(), CHOICES, st.booleans()),
    st.sampled_from(
        [b"", b"{bad", b"[1]", b'"once"', b"null", b'{"choice": 1}', b"\xef\xbb\xbf{}"]
    ),
)
CREATE_BODIES = st.one_of(
    st.sampled_from(
        [b"", b"{bad", b"[1]", b"{}", b'{"input": ""}', b'{"input": ["hi"]}', b'{"input": 5}']
    ),
    st.builds(
        lambda text, session: json.dumps({"input": text, "session_id": session}).encode(),
        st.text(max_size=5),
        st.none() | st.just("s1"),
    ),
)
RAW_ANSWERS = [
    None,
    b'{"choice": "once"}',
    b'{"choice": "deny"}',
    b'{"choice": "session", "all": true}',
]
UNKNOWN_IDS = st.sampled_from(["run_nope", "run_" + "0" * 32, "run_%7Bx%7D"])


class EngineMachine(RuleBasedStateMachine):
    runs = Bundle("runs")

    @initialize()
    def start(self) -> None:
        self.clock = ManualClock(grace=0.0)  # one thread: no one else to give way to
        self.server = FakeRunsServer(clock=self.clock, strict=False, max_concurrent_runs=4)
        self.http = httpx.Client(
            transport=self.server.transport(),
            base_url=self.server.base_url,
            headers={"Authorization": f"Bearer {self.server.api_key}"},
            timeout=None,  # a gate may hold a stream for its whole timeout
        )
        self.terminal_wire: dict[str, dict[str, Any]] = {}
        self.updated: dict[str, float] = {}
        self.subscribed: set[str] = set()
        STATS["state machines"] += 1

    def teardown(self) -> None:
        if hasattr(self, "http"):
            self.http.close()

    # ------------------------------------------------------------ helpers

    def _fired(self) -> int:
        return len(self.server.faults.log)

    def _request(self, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response | None, bool]:
        """One request; (response or None after a fault's transport error, whether a fault
        fired on it). Any other exception fails the test: none may reach the client."""
        before = self._fired()
        STATS["requests"] += 1
        try:
            response = self.http.request(method, path, **kwargs)
        except FAULT_ERRORS:
            assert self._fired() > before, f"{method} {path}: a transport error without a fault"
            return None, True
        fired = self._fired() > before
        if response.status_code == 500 and not fired:
            assert response.text == CRASH, f"{method} {path}: a 500 that is not §1.5's"
        return response, fired

    def _record(self, run_id: str) -> Any:
        return self.server.runs[run_id]

    def _known(self, run_id: str) -> bool:
        with self.server.engine.lock:
            self.server.engine.tick()
            return self.server.engine.get(run_id) is not None

    def _check_wire(self, run_id: str, wire: dict[str, Any]) -> None:
        STATS["run objects checked"] += 1
        assert list(wire)[:7] == FIRST_KEYS
        status, last = wire["status"], wire.get("last_event")
        assert status in STATUSES and status != "queued"
        assert last is None or last in LAST_EVENTS
        assert wire["updated_at"] >= wire["created_at"]
        assert wire["updated_at"] >= self.updated.get(run_id, wire["created_at"])
        self.updated[run_id] = wire["updated_at"]
        assert ("output" in wire) == ("usage" in wire) == (status == "completed")
        assert ("error" in wire) == (status == "failed")
        if status in TERMINAL:
            assert last == f"run.{status}"
            before = self.terminal_wire.setdefault(run_id, wire)
            assert wire == before, "a terminal run object changed"
        record = self._record(run_id)
        marks = [e.timestamp for e in record.events if e.event != "message.delta"]
        if marks:  # §3: every non-delta event moves updated_at
            assert wire["updated_at"] >= max(marks)
        if status in TERMINAL:
            assert wire["updated_at"] == record.events[-1].timestamp

    # ------------------------------------------------------------ ways in

    @rule(
        target=runs,
        script=scripts(max_blocks=4),
        body=st.sampled_from(["text", "messages"]),
        follow=st.booleans(),
        answer=st.sampled_from(RAW_ANSWERS),
    )
    def create(self, script: Script, body: str, follow: bool, answer: bytes | None) -> Any:
        self.server.queue(script)
        payload: dict[str, Any] = {"input": "deploy"}
        if body == "messages":
            payload["input"] = [
                {"role": "user", "content": "hi"},
                {"role": "user", "content": "go"},
            ]
        with self.server.engine.lock:
            self.server.engine.tick()
            full = self.server.engine.at_capacity()
        response, fired = self._request("POST", "/v1/runs", json=payload)
        if response is None or fired:
            self.server.router.queue.clear()
            return multiple()
        assert response.status_code in ROUTE_STATUSES["create"]
        if full:
            assert response.status_code == 429 and response.headers["Retry-After"] == "1"
            self.server.router.queue.clear()
            return multiple()
        assert response.status_code == 202, response.text
        body_json = response.json()
        assert body_json["status"] == "started"
        STATS["runs created"] += 1
        if follow:  # as most apps do: read the stream straight away, to its end
            self.read_stream(body_json["run_id"], None, answer)
            self.poll(body_json["run_id"])
        return body_json["run_id"]

    @rule(raw=CREATE_BODIES)
    def create_with_any_body(self, raw: bytes) -> None:
        with self.server.engine.lock:
            self.server.engine.tick()
            full = self.server.engine.at_capacity()
        self.server.queue(Script().answer("ok"))
        response, fired = self._request("POST", "/v1/runs", content=raw)
        self.server.router.queue.clear()
        if response is None or fired:
            return
        expected = (429, None) if full else expected_create(raw)
        if expected is None:
            assert response.status_code == 202
            STATS["runs created"] += 1
        elif full:
            assert response.status_code == 429
        else:
            assert answer_of(response) == expected

    @rule(run_id=runs)
    def poll(self, run_id: str) -> None:
        known = self._known(run_id)
        response, fired = self._request("GET", f"/v1/runs/{run_id}")
        if response is None or fired:
            return
        assert response.status_code in ROUTE_STATUSES["poll"]
        if not known:
            assert answer_of(response) == (404, run_not_found(run_id))
            return
        assert response.status_code == 200
        self._check_wire(run_id, response.json())

    @rule(run_id=runs, limit=st.none() | st.integers(0, 4), answer=st.sampled_from(RAW_ANSWERS))
    def read_stream(self, run_id: str, limit: int | None, answer: bytes | None = None) -> None:
        """Read the stream to its end (limit None) or `limit` data frames, then hang up;
        answer each `approval.request` with `answer` as it arrives (None: let it wait)."""
        # Single use (§5.6): a read that reached the handler unregisters the stream, and a
        # stream is swept 300-360 s after creation; an HTTP fault answers before the handler.
        first = run_id not in self.subscribed and self._record(run_id).stream.registered
        before = self._fired()
        frames: list[dict[str, Any]] = []
        comments: list[str] = []
        try:
            with self.http.stream("GET", f"/v1/runs/{run_id}/events") as response:
                status = response.status_code
                if status != 200:
                    response.read()
                else:
                    for line in response.iter_lines():
                        if line.startswith("data: "):
                            try:
                                frames.append(json.loads(line[6:]))
                            except ValueError:
                                assert self._fired() > before, "a malformed frame without a fault"
                                continue
                            if frames[-1]["event"] == "approval.request" and answer is not None:
                                self.approve(run_id, answer)
                            if limit is not None and len(frames) >= limit:
                                break
                        elif line.startswith(":"):
                            comments.append(line)
                        assert len(frames) + len(comments) < 10_000, "the stream never ended"
        except FAULT_ERRORS:
            assert self._fired() > before
            return
        finally:
            if not self._record(run_id).stream.registered:
                self.subscribed.add(run_id)
        STATS["stream reads"] += 1
        if self._fired() > before:
            return
        assert status in ROUTE_STATUSES["events"]
        if not first:
            assert status == 404 and response.json() == run_not_found(run_id)
            return
        assert status == 200
        STATS["events checked"] += len(frames)
        recorded = [event.to_wire() for event in self._record(run_id).events]
        assert frames == recorded[: len(frames)], "the stream is not a prefix of the record"
        names = [frame["event"] for frame in frames]
        ends = [n for n in names if n in ("run.completed", "run.failed", "run.cancelled")]
        assert len(ends) <= 1 and (not ends or names[-1] == ends[0])
        if limit is None:
            assert ends and comments[-1] == ": stream closed", "a full read ends the run"
            assert frames == recorded, "a full read gives every event"
        assert set(comments) <= {": keepalive", ": stream closed"}

    @rule(run_id=runs, raw=RAW_BODIES)
    def approve(self, run_id: str, raw: bytes) -> None:
        known = self._known(run_id)
        record = self._record(run_id)
        pending = len(record.pending_approvals)
        terminal = record.is_terminal
        failure, choice, every = expected_approval_body(raw)
        response, fired = self._request("POST", f"/v1/runs/{run_id}/approval", content=raw)
        if response is None or fired:
            return
        assert response.status_code in ROUTE_STATUSES["approval"]
        got = answer_of(response)
        if not known:
            assert got == (404, run_not_found(run_id))
        elif failure is not None:
            assert got == failure
        elif terminal:
            assert got[0] == 409 and got[1]["error"]["code"] == "approval_not_active"
        elif pending == 0:
            assert got[0] == 409 and got[1]["error"]["code"] == "approval_not_pending"
        else:
            resolved = pending if every else 1
            assert got == (
                200,
                {
                    "object": "hermes.run.approval_response",
                    "run_id": run_id,
                    "choice": choice,
                    "resolved": resolved,
                },
            )
            STATS["approvals resolved"] += resolved

    @rule(run_id=runs)
    def stop(self, run_id: str) -> None:
        record = self._record(run_id)
        live = self._known(run_id) and not record.is_terminal
        response, fired = self._request("POST", f"/v1/runs/{run_id}/stop")
        if response is None or fired:
            return
        if live:
            assert answer_of(response) == (200, {"run_id": run_id, "status": "stopping"})
            assert self._record(run_id).status.value in ("stopping", *TERMINAL)
        else:
            assert answer_of(response) == (404, run_not_found(run_id))

    @rule(seconds=st.sampled_from([0.01, 0.5, 1.0, 30.0, 61.0, 301.0, 3700.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(run_id=UNKNOWN_IDS, route=st.sampled_from(["", "/events", "/approval", "/stop"]))
    def unknown_id(self, run_id: str, route: str) -> None:
        method = "GET" if route in ("", "/events") else "POST"
        response, fired = self._request(method, f"/v1/runs/{run_id}{route}", content=b"{bad")
        if response is None or fired:
            return
        expected_id = run_id.replace("%7B", "{").replace("%7D", "}")
        if "{" in expected_id:  # aiohttp's {name} never matches a brace: no route at all
            assert response.status_code == 404 and response.text == "404: Not Found"
        else:
            assert answer_of(response) == (404, run_not_found(expected_id))

    @rule(
        route=st.sampled_from(["/v1/runs", "/v1/runs/run_x", "/v1/models", "/health/detailed"]),
        key=st.sampled_from([None, "Bearer wrong-key-0123456789", "bearer KEY", "KEY"]),
    )
    def wrong_key(self, route: str, key: str | None) -> None:
        headers = {"Authorization": key or ""}
        method = "POST" if route == "/v1/runs" else "GET"
        response, fired = self._request(method, route, headers=headers, json={"input": "x"})
        if response is not None and not fired:
            assert answer_of(response) == (401, INVALID_KEY)

    @precondition(lambda self: len(self.server.faults.armed) < 3)
    @rule(plan=fault_plans(max_faults=1))
    def arm_fault(self, plan: Any) -> None:
        for planned in plan.faults:
            assert isinstance(planned, PlannedFault)
            planned.arm(self.server)
            STATS["faults armed"] += 1

    @rule(run_id=consumes(runs))
    def forget(self, run_id: str) -> None:
        """Drop a run from the bundle, so later rules pick fresher ones."""

    # ------------------------------------------------------------ invariants

    @invariant()
    def every_run_keeps_the_status_machine(self) -> None:
        if not hasattr(self, "server"):
            return
        for record in self.server.engine.history.values():
            names = record.event_names
            ends = [
                i
                for i, n in enumerate(names)
                if n in ("run.completed", "run.failed", "run.cancelled")
            ]
            assert len(ends) <= 1, f"{record.run_id}: {names}"
            if ends:
                assert ends[0] == len(names) - 1 and record.is_terminal
                assert record.status.value == names[-1].removeprefix("run.")
            else:
                assert not record.is_terminal
            statuses = [s.value for _, s in record.status_history]
            firsts = [i for i, s in enumerate(statuses) if s in TERMINAL]
            assert not firsts or firsts[0] == len(statuses) - 1, "left a terminal status"
            stamps = [e.timestamp for e in record.events]
            assert stamps == sorted(stamps), "events out of time order"
            assert record.last_event != "message.delta"


EngineMachine.TestCase.settings = profile(ci_examples=80, steps=40)
TestEngineStateMachine = EngineMachine.TestCase
