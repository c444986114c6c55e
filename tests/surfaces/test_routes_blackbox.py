"""Contract cases 1-5, 24 and 25 of beyond-runs §8 (probes, routing, skills, toolsets,
jobs), black-box: plain HTTP against `target`."""

from __future__ import annotations

import pytest

from tests.surfaces.conftest import Target, assert_json, assert_no_security_headers

INVALID_KEY = {
    "error": {
        "message": "Invalid API key",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}
HEALTH = {"status": "ok", "platform": "hermes-agent", "version": "0.19.0"}


@pytest.mark.parametrize("path", ["/health", "/v1/health"])
def test_case_01_health_needs_no_key(target: Target, path: str) -> None:
    assert_json(target.http.get(path), 200, HEALTH)
    assert_json(target.http.get(path, headers={"Authorization": "Bearer wrong"}), 200, HEALTH)


def test_case_02_detailed_health(target: Target) -> None:
    assert_json(target.http.get("/health/detailed"), 401, INVALID_KEY)
    body = target.get("/health/detailed").json()
    assert body["platforms"]["api_server"]["state"] == "connected"
    for key in ("status", "gateway_state", "gateway_busy", "gateway_drainable", "pid"):
        assert key in body
    assert "checks" in body["readiness"]


def test_case_03_models(target: Target) -> None:
    entry = target.get("/v1/models").json()["data"]
    assert len(entry) == 1
    model = entry[0]
    assert (
        model["id"],
        model["owned_by"],
        model["permission"],
        model["root"],
        model["parent"],
    ) == (
        "hermes-agent",
        "hermes",
        [],
        "hermes-agent",
        None,
    )
    assert target.http.get("/v1/models").status_code == 401


def test_case_04_capabilities(target: Target) -> None:
    body = target.get("/v1/capabilities").json()
    assert body["features"]["jobs_admin"] is False
    assert body["features"]["session_chat_streaming"] is True
    assert len(body["endpoints"]) == 21
    wrong = target.http.get("/v1/capabilities", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/health"), ("POST", "/v1/chat/completions"), ("GET", "/api/sessions")],
)
def test_case_05_origin_is_refused(target: Target, method: str, path: str) -> None:
    response = target.request(method, path, headers={"Origin": "https://example.com"})
    assert response.status_code == 403
    assert response.content == b""
    assert "content-type" not in response.headers


def test_case_24_steer_is_not_a_route(target: Target) -> None:
    path = "/v1/runs/run_00000000000000000000000000000000/steer"
    for response in (target.post(path, {"input": "x"}), target.http.post(path)):
        assert response.status_code == 404
        assert response.text == "404: Not Found"
        assert_no_security_headers(response)


def test_case_25_skills_and_toolsets(target: Target) -> None:
    assert_json(target.get("/v1/skills"), 200, {"object": "list", "data": []})
    toolsets = target.get("/v1/toolsets")
    body = toolsets.json()
    assert (body["object"], body["platform"]) == ("list", "api_server")
    first = body["data"][0]
    assert list(first) == ["name", "label", "description", "enabled", "configured", "tools"]
    assert b"\\u" in toolsets.content  # emoji labels, escaped
    assert target.http.get("/v1/toolsets").status_code == 401


def test_case_25_jobs(target: Target) -> None:
    assert_json(target.get("/api/jobs"), 200, {"jobs": []})
    assert_json(target.get("/api/jobs/not-a-job"), 400, {"error": "Invalid job ID format"})
    assert_json(target.get("/api/jobs/0123456789ab"), 404, {"error": "Job not found"})
    assert_json(
        target.post("/api/jobs", {"schedule": "every 1h"}), 400, {"error": "Name is required"}
    )
    assert_json(target.post("/api/jobs", {"name": "n"}), 400, {"error": "Schedule is required"})
    broken = target.post("/api/jobs", content=b"{nope")
    message = "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    assert_json(broken, 500, {"error": message})
    created = target.post("/api/jobs", {"name": "digest", "schedule": "every 2h", "prompt": "hi"})
    job = created.json()["job"]
    assert (job["schedule"], job["schedule_display"]) == (
        {"kind": "interval", "minutes": 120, "display": "every 120m"},
        "every 120m",
    )
    job_id = job["id"]
    assert target.get(f"/api/jobs/{job_id}").json()["job"]["name"] == "digest"
    paused = target.post(f"/api/jobs/{job_id}/pause").json()["job"]
    assert (paused["enabled"], paused["state"]) == (False, "paused")
    assert target.get("/api/jobs").json() == {"jobs": []}
    assert len(target.get("/api/jobs", params={"include_disabled": "true"}).json()["jobs"]) == 1
    resumed = target.post(f"/api/jobs/{job_id}/resume").json()["job"]
    assert resumed["state"] == "scheduled"
    nothing = target.request("PATCH", f"/api/jobs/{job_id}", json={"colour": "red"})
    assert_json(nothing, 400, {"error": "No valid fields to update"})
    assert_json(target.request("DELETE", f"/api/jobs/{job_id}"), 200, {"ok": True})
