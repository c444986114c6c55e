#!/usr/bin/env python3
"""Drive the real Hermes server through the black-box cases and capture what it says.

Stdlib only.  Starts ``real_hermes.running_hermes()`` (reference profile), runs every
Runs contract case of hermes-runs-spec.md §10 that input markers can drive, plus a pass
over chat completions, responses and session chat, and writes the raw captures (status,
headers, exact body bytes, SSE frames with arrival times relative to the request) as
JSON.  ``OBSERVED.md`` is the human summary of one such capture.

    python drift/observe.py [--venv DIR] [--out drift/observed_raw.json] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_hermes

TERMINAL = {"completed", "failed", "cancelled"}
DROP_HEADERS = {"date", "server"}
SECURITY_HEADERS = {
    "content-security-policy",
    "permissions-policy",
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "x-xss-protection",
    "referrer-policy",
}


def mark(name: str, text: str = "") -> str:
    return f"[[scenario:{name}]] {text}".strip()


class Capture:
    """One HTTP exchange, as recorded."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        elapsed: float,
        frames: list[tuple[float, str]] | None = None,
    ):
        self.method, self.path, self.status = method, path, status
        self.headers, self.body, self.elapsed, self.frames = headers, body, elapsed, frames

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def events(self) -> list[dict[str, Any]]:
        """The JSON payloads of ``data:`` frames (not [DONE]) in order."""
        out = []
        for _, frame in self.frames or []:
            for line in frame.split("\n"):
                if line.startswith("data: ") and line != "data: [DONE]":
                    out.append(json.loads(line[6:]))
        return out

    def to_dict(self) -> dict[str, Any]:
        names = {k.lower() for k, _ in self.headers}
        collapse = names >= SECURITY_HEADERS  # all seven: one placeholder, in place
        headers: list[list[str]] = []
        for k, v in self.headers:
            if k.lower() in DROP_HEADERS:
                continue
            if collapse and k.lower() in SECURITY_HEADERS:
                if ["<the 7 security headers>", "as spec §1.2"] not in headers:
                    headers.append(["<the 7 security headers>", "as spec §1.2"])
                continue
            headers.append([k, v])
        d: dict[str, Any] = {
            "request": f"{self.method} {self.path}",
            "status": self.status,
            "headers": headers,
            "elapsed": round(self.elapsed, 3),
        }
        if self.frames is None:
            d["body"] = self.body.decode("utf-8", "replace")
        else:
            d["frames"] = [[round(t, 3), f] for t, f in self.frames]
        return d


class Client:
    def __init__(self, base_url: str, key: str):
        host, port = base_url.removeprefix("http://").split(":")
        self.host, self.port, self.key = host, int(port), key

    def _headers(self, auth: str | bool | None, extra: dict[str, str] | None) -> dict[str, str]:
        h: dict[str, str] = {}
        if auth is True:
            h["Authorization"] = f"Bearer {self.key}"
        elif isinstance(auth, str):
            h["Authorization"] = auth
        h.update(extra or {})
        return h

    def req(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        auth: str | bool | None = True,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        timeout: float = 90.0,
        on_frame: Callable[[float, str], None] | None = None,
    ) -> Capture:
        h = self._headers(auth, headers)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        t0 = time.monotonic()
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            hdrs = list(resp.getheaders())
            ctype = resp.getheader("Content-Type") or ""
            if not (stream and ctype.startswith("text/event-stream")):
                body_bytes = resp.read()
                return Capture(method, path, resp.status, hdrs, body_bytes, time.monotonic() - t0)
            frames: list[tuple[float, str]] = []
            buf = b""
            while True:
                chunk = resp.read1(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n\n" in buf:
                    frame, buf = buf.split(b"\n\n", 1)
                    item = (time.monotonic() - t0, frame.decode("utf-8") + "\n\n")
                    frames.append(item)
                    if on_frame:
                        on_frame(*item)
            if buf:
                frames.append((time.monotonic() - t0, buf.decode("utf-8")))
            return Capture(method, path, resp.status, hdrs, b"", time.monotonic() - t0, frames)
        finally:
            conn.close()


class Subscriber(threading.Thread):
    """GET …/events in the background; frames are visible while it runs."""

    def __init__(self, client: Client, path: str, timeout: float = 120.0):
        super().__init__(daemon=True)
        self.client, self.path, self.timeout = client, path, timeout
        self.frames: list[tuple[float, str]] = []
        self.capture: Capture | None = None
        self.started_at = time.monotonic()

    def run(self) -> None:
        self.capture = self.client.req(
            "GET",
            self.path,
            stream=True,
            timeout=self.timeout,
            on_frame=lambda t, f: self.frames.append((t, f)),
        )

    def wait_for(self, needle: str, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, f in list(self.frames):
                if needle in f:
                    return t
            time.sleep(0.02)
        raise TimeoutError(f"{needle!r} not seen on {self.path}: {self.frames}")

    def finish(self, timeout: float = 60.0) -> Capture:
        self.join(timeout)
        if self.capture is None:
            raise TimeoutError(f"stream {self.path} did not end: {self.frames}")
        return self.capture


class Observer:
    def __init__(self, server: real_hermes.RealHermes):
        self.server = server
        self.c = Client(server.base_url, server.api_key)
        self.out: dict[str, Any] = {}
        self.t0 = time.monotonic()

    # -- helpers
    def rec(self, case: str, what: Any) -> Any:
        self.out.setdefault(case, []).append(what.to_dict() if isinstance(what, Capture) else what)
        return what

    def create(self, body: Any, **kw: Any) -> Capture:
        return self.c.req("POST", "/v1/runs", body, **kw)

    def start(self, text: str, **extra: Any) -> str:
        cap = self.create({"input": text, **extra})
        assert cap.status == 202, (cap.status, cap.body)
        return str(cap.json["run_id"])

    def get(self, rid: str) -> Capture:
        return self.c.req("GET", f"/v1/runs/{rid}")

    def wait_terminal(self, rid: str, timeout: float = 60.0) -> Capture:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cap = self.get(rid)
            if cap.status != 200 or cap.json["status"] in TERMINAL:
                return cap
            time.sleep(0.1)
        raise TimeoutError(f"run {rid} not terminal: {cap.body!r}")

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Until /health/detailed reports no active API runs (the cap is shared)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.c.req("GET", "/health/detailed").json
            queues = body["readiness"]["checks"]["background_queues"]
            if not queues.get("active_api_runs") and not body.get("active_agents"):
                return
            time.sleep(0.1)
        raise TimeoutError("server still busy")

    def subscribe(self, rid: str) -> Subscriber:
        sub = Subscriber(self.c, f"/v1/runs/{rid}/events")
        sub.start()
        return sub

    def llm_mark(self) -> int:
        return len(self.server.llm_requests())

    def llm_since(self, n: int) -> list[dict[str, Any]]:
        return self.server.llm_requests()[n:]

    # -- runs cases ------------------------------------------------------------------
    def cold_start(self) -> None:
        """The first run of a fresh server: how long until its first LLM call, and
        whether the server answers meanwhile (agent construction blocks the loop)."""
        t, wall = time.monotonic(), time.time()
        rid = self.start("first run after start-up")
        samples = []
        while time.monotonic() - t < 15:
            s0 = time.monotonic()
            cap = self.c.req("GET", "/health", auth=None)
            samples.append([round(s0 - t, 3), round(time.monotonic() - s0, 3), cap.status])
            if self.get(rid).json["status"] in TERMINAL:
                break
            time.sleep(0.05)
        self.rec(
            "cold_start",
            {
                "health_samples[sent_at, took, status]": samples,
                "llm_requests[at, method, path]": [
                    [round(e["ts"] - wall, 3), e.get("method"), e.get("path")]
                    for e in self.server.llm_requests()
                ],
            },
        )
        self.rec("cold_start", self.wait_terminal(rid))
        self.wait_idle()

    def probes(self) -> None:
        c = self.c
        for path in ("/health", "/v1/health"):
            self.rec("01_health", c.req("GET", path, auth=None))
        self.rec("01_health", c.req("GET", "/health", auth="Bearer wrong-key-wrong-key"))
        for auth in (None, "Bearer wrong-key-0123456789", f"bearer {c.key}", c.key):
            self.rec("02_models_401", c.req("GET", "/v1/models", auth=auth))
        self.rec("03_bearer_spaces", c.req("GET", "/v1/models", auth=f"Bearer    {c.key}  "))
        for method, path in (
            ("POST", "/v1/runs"),
            ("GET", "/v1/runs/run_nope"),
            ("GET", "/v1/runs/run_nope/events"),
            ("POST", "/v1/runs/run_nope/approval"),
            ("POST", "/v1/runs/run_nope/stop"),
        ):
            self.rec(
                "04_runs_401",
                c.req(method, path, {"choice": "once"} if "approval" in path else None, auth=None),
            )
        self.rec("05_models", c.req("GET", "/v1/models"))
        self.rec("06_capabilities", c.req("GET", "/v1/capabilities"))
        self.rec("07_health_detailed", c.req("GET", "/health/detailed", auth=None))
        self.rec("07_health_detailed", c.req("GET", "/health/detailed"))

    def create_validation(self) -> None:
        c = self.c
        cap = self.rec("08_create", self.create({"input": "hi"}))
        rid = cap.json["run_id"]
        self.rec("17_defaults", self.wait_terminal(rid))
        cap = self.rec(
            "09_session_key",
            self.create({"input": "hi"}, headers={"X-Hermes-Session-Key": "agent:main:x"}),
        )
        self.wait_terminal(cap.json["run_id"])
        self.rec(
            "10_session_key_long",
            self.create({"input": "hi"}, headers={"X-Hermes-Session-Key": "k" * 257}),
        )
        self.rec("11_invalid_json", self.create(None, raw=b"{bad"))
        self.rec("11_invalid_json", self.create(None, raw=b""))
        missing: list[dict[str, Any]] = [{}, {"input": ""}, {"input": []}, {"input": None}]
        for body in missing:
            self.rec("12_missing_input", self.create(body))
        no_user: list[dict[str, Any]] = [
            {"input": {"a": 1}},
            {"input": 5},
            {"input": [{"role": "user"}]},
        ]
        for body in no_user:
            self.rec("13_no_user_message", self.create(body))
        self.rec("14_history_not_list", self.create({"input": "x", "conversation_history": "abc"}))
        self.rec(
            "15_history_entry",
            self.create({"input": "x", "conversation_history": [{"role": "user"}]}),
        )
        self.rec("16_non_object_500", self.create(None, raw=b"[1]"))
        self.rec("16_non_object_500", self.create({"input": ["hi"]}))
        rid = self.start("x", session_id="s1", model="m1")
        self.rec("18_session_and_model", self.wait_terminal(rid))
        self.wait_idle()
        # 19: the cap (2) shared by runs
        a, b = self.start(mark("medium")), self.start(mark("medium"))
        self.rec("19_cap", self.create({"input": "third"}))
        self.rec("19_cap", self.create(None, raw=b"{bad"))
        self.rec(
            "19_cap",
            c.req(
                "POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}
            ),
        )
        self.rec("19_cap", c.req("GET", "/v1/models"))
        self.wait_terminal(a)
        self.wait_terminal(b)
        t = time.monotonic()
        while True:  # the slot frees when the task is done, a moment after the status
            cap = self.create({"input": "after"})
            if cap.status != 429 or time.monotonic() - t > 5:
                break
            time.sleep(0.05)
        self.rec("19_cap", cap)
        self.rec("19_cap", {"retried_for": round(time.monotonic() - t, 3)})
        self.wait_terminal(cap.json["run_id"])

    def poll(self) -> None:
        self.rec("20_get_unknown", self.get("run_nope"))
        rid = self.start(mark("medium"))
        self.rec("21_get_right_after", self.get(rid))
        sub = self.subscribe(rid)
        self.rec("21_get_right_after", self.get(rid))
        self.rec("medium_events", sub.finish())
        self.rec("medium_get", self.get(rid))

    def marker_run(self, case: str, text: str, *, late: bool = False, second: bool = False) -> str:
        """Create, subscribe (immediately or after the end), record stream and GET."""
        n = self.llm_mark()
        t = time.monotonic()
        rid = self.start(text)
        if late:
            self.wait_terminal(rid)
            time.sleep(0.2)
        sub = self.subscribe(rid)
        cap = sub.finish(120)
        self.rec(case, {"run_id": rid, "subscribed_after": round(sub.started_at - t, 3)})
        self.rec(case, cap)
        self.rec(case, self.get(rid))
        if second:
            self.rec(case, self.c.req("GET", f"/v1/runs/{rid}/events", stream=True))
        self.rec(case, {"llm_calls": self.llm_since(n)})
        self.wait_idle()
        return rid

    def events(self) -> None:
        self.marker_run("25_complete", mark("complete"), second=True)
        self.marker_run("none_marker", "hello there")
        self.marker_run("echo_marker", mark("echo", "say this back"))
        n = self.llm_mark()
        rid = self.start(
            mark("echo", "third"),
            conversation_history=[
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "one"},
            ],
        )
        self.rec("echo_with_history", self.wait_terminal(rid))
        self.rec("echo_with_history", {"llm_calls": self.llm_since(n)})
        self.wait_idle()
        self.marker_run("26_tool", mark("tool"))
        self.marker_run("27_late_replay", mark("complete"), late=True)
        self.rec("29_events_unknown", self.c.req("GET", "/v1/runs/run_nope/events", stream=True))
        self.marker_run("31_50_fail500", mark("fail500"))
        self.marker_run("50_fail401", mark("fail401"))
        self.marker_run("51_loop", mark("loop"))

    def keepalive(self) -> None:
        self.marker_run("30_keepalive_stall", mark("stall"))

    def approval_run(self, case: str, action: Callable[[str, Subscriber], None]) -> None:
        n = self.llm_mark()
        t = time.monotonic()
        rid = self.start(mark("approval"))
        sub = self.subscribe(rid)
        t_req = sub.wait_for('"approval.request"')
        self.rec(case, {"run_id": rid, "approval_request_at": round(t_req, 3)})
        self.rec(case, self.get(rid))
        action(rid, sub)
        cap = sub.finish(60)
        self.rec(case, cap)
        self.rec(case, self.get(rid))
        self.rec(case, {"llm_calls": self.llm_since(n), "total": round(time.monotonic() - t, 3)})
        self.wait_idle()

    def approvals(self) -> None:
        c = self.c

        def once(rid: str, sub: Subscriber) -> None:
            p = f"/v1/runs/{rid}/approval"
            for body in ({"choice": "yes"}, {}, {"choice": 1}):
                self.rec("36_invalid_choice", c.req("POST", p, body))
            self.rec("37_invalid_json", c.req("POST", p, raw=b"{bad"))
            self.rec("37_invalid_json", c.req("POST", "/v1/runs/run_nope/approval", raw=b"{bad"))
            self.rec("34_once", {"posted_at": round(time.monotonic() - sub.started_at, 3)})
            self.rec("34_once", c.req("POST", p, {"choice": "once"}))
            self.rec("34_once", self.get(rid))
            self.rec("38_not_pending", c.req("POST", p, {"choice": "once"}))

        self.approval_run("33_34_approval_once", once)
        rid = self.out["33_34_approval_once"][0]["run_id"]
        p = f"/v1/runs/{rid}/approval"
        self.rec("39_not_active", c.req("POST", p, {"choice": "once"}))
        self.rec("39_not_active", c.req("POST", p, {"choice": "yes"}))

        def alias(choice: str) -> Callable[[str, Subscriber], None]:
            def act(rid: str, sub: Subscriber) -> None:
                self.rec(
                    f"35_alias_{choice.strip()}",
                    c.req("POST", f"/v1/runs/{rid}/approval", {"choice": choice}),
                )

            return act

        for choice in (" Approve ", "approved", "ALLOW"):
            self.approval_run(f"35_alias_run_{choice.strip()}", alias(choice))

        def deny(rid: str, sub: Subscriber) -> None:
            self.rec("40_deny", {"posted_at": round(time.monotonic() - sub.started_at, 3)})
            self.rec("40_deny", c.req("POST", f"/v1/runs/{rid}/approval", {"choice": "deny"}))

        self.approval_run("40_deny", deny)

        def timeout(rid: str, sub: Subscriber) -> None:
            t_req = sub.wait_for('"approval.request"')
            while time.monotonic() - sub.started_at < t_req + 4.5:
                time.sleep(0.05)
            seen: list[list[Any]] = []  # [t since subscribe, status, last_event]
            posted = None
            while True:
                run = self.get(rid).json
                now = round(time.monotonic() - sub.started_at, 3)
                if not seen or seen[-1][1:] != [run["status"], run.get("last_event")]:
                    seen.append([now, run["status"], run.get("last_event")])
                if posted is None and any('"tool.completed"' in f for _, f in sub.frames):
                    posted = c.req("POST", f"/v1/runs/{rid}/approval", {"choice": "once"})
                    self.rec("42_timeout", {"approval_posted_after_tool_completed_at": now})
                    self.rec("42_timeout", posted)
                if run["status"] in TERMINAL:
                    break
                time.sleep(0.02)
            self.rec("42_timeout", {"status_transitions": seen})
            self.rec("42_timeout", c.req("POST", f"/v1/runs/{rid}/approval", {"choice": "once"}))

        self.approval_run("42_timeout", timeout)

        def stop(rid: str, sub: Subscriber) -> None:
            self.rec("45_stop_waiting", {"stop_at": round(time.monotonic() - sub.started_at, 3)})
            self.rec("45_stop_waiting", c.req("POST", f"/v1/runs/{rid}/stop"))
            self.rec("45_stop_waiting", self.get(rid))

        self.approval_run("45_stop_waiting", stop)

    def stops(self) -> None:
        c = self.c
        n = self.llm_mark()
        rid = self.start(mark("slow"))
        sub = self.subscribe(rid)
        sub.wait_for('"message.delta"')
        time.sleep(1.2)
        self.rec("44_stop", {"run_id": rid, "stop_at": round(time.monotonic() - sub.started_at, 3)})
        self.rec("44_stop", c.req("POST", f"/v1/runs/{rid}/stop"))
        self.rec("44_stop", self.get(rid))
        self.rec("47_second_stop", c.req("POST", f"/v1/runs/{rid}/stop"))
        self.rec("44_stop", sub.finish(60))
        self.rec("44_stop", self.get(rid))
        self.rec("44_stop", {"llm_calls": self.llm_since(n)})
        self.rec("46_stop_finished", c.req("POST", f"/v1/runs/{rid}/stop"))
        for case in ("25_complete", "31_50_fail500"):
            done = self.out[case][0]["run_id"]
            self.rec("46_stop_finished", c.req("POST", f"/v1/runs/{done}/stop"))
        self.rec("46_stop_finished", c.req("POST", "/v1/runs/run_nope/stop"))
        self.rec("24_cancelled_get", self.get(rid))
        self.wait_idle()

    # -- beyond runs -----------------------------------------------------------------
    def chat(self) -> None:
        c = self.c
        for name in ("complete", "tool", "fail500"):
            msgs = [{"role": "user", "content": mark(name, "chat")}]
            for stream in (False, True):
                n = self.llm_mark()
                case = f"chat_{name}_{'stream' if stream else 'json'}"
                self.rec(
                    case,
                    c.req(
                        "POST",
                        "/v1/chat/completions",
                        {"messages": msgs, "stream": stream},
                        stream=stream,
                    ),
                )
                self.rec(case, {"llm_calls": self.llm_since(n)})
                self.wait_idle()

    def responses(self) -> None:
        c = self.c
        for name in ("complete", "tool", "fail500"):
            for stream in (False, True):
                n = self.llm_mark()
                case = f"responses_{name}_{'stream' if stream else 'json'}"
                cap = self.rec(
                    case,
                    c.req(
                        "POST",
                        "/v1/responses",
                        {"input": mark(name, "responses"), "stream": stream},
                        stream=stream,
                    ),
                )
                rid = None
                if not stream and cap.status == 200:
                    rid = cap.json["id"]
                elif stream:
                    for ev in cap.events():
                        if ev.get("type") == "response.created":
                            rid = ev["response"]["id"]
                if rid:
                    self.rec(case, c.req("GET", f"/v1/responses/{rid}"))
                self.rec(case, {"llm_calls": self.llm_since(n)})
                self.wait_idle()

    def sessions(self) -> None:
        c = self.c
        for name in ("complete", "tool", "fail500"):
            for kind in ("chat", "stream"):
                sid = f"drift-{name}-{kind}"
                case = f"session_{name}_{kind}"
                self.rec(case, c.req("POST", "/api/sessions", {"id": sid}))
                path = f"/api/sessions/{sid}/chat" + ("/stream" if kind == "stream" else "")
                n = self.llm_mark()
                self.rec(
                    case,
                    c.req(
                        "POST",
                        path,
                        {"message": mark(name, f"session {kind}")},
                        stream=kind == "stream",
                    ),
                )
                self.rec(case, {"llm_calls": self.llm_since(n)})
                self.wait_idle()
                self.rec(case, c.req("GET", f"/api/sessions/{sid}/messages"))


STEPS = (
    "cold_start",
    "probes",
    "create_validation",
    "poll",
    "events",
    "approvals",
    "stops",
    "chat",
    "responses",
    "sessions",
    "keepalive",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=None)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().with_name("observed_raw.json")
    )
    parser.add_argument("--only", nargs="*", choices=STEPS, default=list(STEPS))
    parser.add_argument(
        "--server-log", type=Path, default=None, help="also save the gateway's log here"
    )
    args = parser.parse_args(argv)
    venv = real_hermes.ensure_venv(args.venv)
    t = time.monotonic()
    with real_hermes.running_hermes(venv=venv) as server:
        startup = time.monotonic() - t
        obs = Observer(server)
        obs.out["_meta"] = [
            {
                "startup_seconds": round(startup, 3),
                "profile": real_hermes.render_config(server.profile, "<llm>"),
            }
        ]
        for step in args.only:
            print(f"{time.monotonic() - t:7.1f}s  {step}", flush=True)
            getattr(obs, step)()
        obs.out["_llm_log"] = server.llm_requests()
        if args.server_log:
            args.server_log.write_text(server.server_log.read_text(errors="replace"))
    args.out.write_text(json.dumps(obs.out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {args.out} ({time.monotonic() - t:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
