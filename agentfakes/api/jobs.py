"""`/api/jobs`: the cron-job resources as 0.19.0 answers them (beyond-runs §6.3;
A:4104-4343, cron/jobs.py), over an in-memory job list.

Bodies are bare (`{"jobs"}`, `{"job"}`, `{"ok": true}`) and so are errors
(`{"error": "<text>"}`); invalid JSON on create or update is caught by the handler's broad
`except` and answered 500 with the decoder's message (quirk). Capabilities still say
`jobs_admin: false`. Nothing is ever run: `run` only schedules the job for now.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from agentfakes.api.config import GatewayConfig
from agentfakes.api.errors import bare_error, gateway_draining, json_response
from agentfakes.api.messages import ApiRequest, ApiResponse
from agentfakes.engine import RunStore
from agentfakes.seeding import random_uuid4

Params = dict[str, str]
JOB_ID = re.compile(r"[a-f0-9]{12}")
UPDATE_FIELDS = {"name", "schedule", "prompt", "deliver", "skills", "skill", "repeat", "enabled"}
MAX_NAME = 200
MAX_PROMPT = 5000
_DURATION = re.compile(
    r"^(\d+)\s*(m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days)$", re.IGNORECASE
)


class JobError(Exception):
    """What the real handler's broad `except` turns into a 500 `{"error": str(e)}`."""


def _jobs(store: RunStore) -> list[dict[str, Any]]:
    return store.cron_jobs


def list_jobs(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    include_disabled = "include_disabled=true" in request.query.lower() or (
        "include_disabled=1" in request.query
    )
    jobs = [
        {**job, "latest_execution": None}
        for job in _jobs(store)
        if include_disabled or job.get("enabled", True)
    ]
    return json_response({"jobs": jobs})


def create_job(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    try:
        body = _json(request)
        name = (body.get("name") or "").strip()
        schedule = (body.get("schedule") or "").strip()
        prompt = body.get("prompt", "")
        repeat = body.get("repeat")
        if not name:
            return json_response(bare_error("Name is required"), 400)
        if len(name) > MAX_NAME:
            return json_response(bare_error(f"Name must be ≤ {MAX_NAME} characters"), 400)
        if not schedule:
            return json_response(bare_error("Schedule is required"), 400)
        if len(prompt) > MAX_PROMPT:
            return json_response(bare_error(f"Prompt must be ≤ {MAX_PROMPT} characters"), 400)
        if repeat is not None and (not isinstance(repeat, int) or repeat < 1):
            return json_response(bare_error("Repeat must be a positive integer"), 400)
        job = _new_job(store, request, body, name, schedule, prompt, repeat)
        _jobs(store).append(job)
        return json_response({"job": job})
    except (JobError, ValueError, AttributeError, TypeError) as exc:
        return json_response(bare_error(str(exc)), 500)


def get_job(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    found = _find(store, config, request, params)
    if isinstance(found, ApiResponse):
        return found
    return json_response({"job": found})


def update_job(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    if not JOB_ID.fullmatch(params["job_id"]):
        return json_response(bare_error("Invalid job ID format"), 400)
    try:
        body = _json(request, "items")
        sanitized = {k: v for k, v in body.items() if k in UPDATE_FIELDS}
        if not sanitized:
            return json_response(bare_error("No valid fields to update"), 400)
        if "name" in sanitized and len(sanitized["name"]) > MAX_NAME:
            return json_response(bare_error(f"Name must be ≤ {MAX_NAME} characters"), 400)
        if "prompt" in sanitized and len(sanitized["prompt"]) > MAX_PROMPT:
            return json_response(bare_error(f"Prompt must be ≤ {MAX_PROMPT} characters"), 400)
        job = _by_id(store, params["job_id"])
        if job is None:
            return json_response(bare_error("Job not found"), 404)
        if "schedule" in sanitized:
            parsed = _parse_schedule(str(sanitized.pop("schedule")), store.clock.now())
            job["schedule"] = parsed
            job["schedule_display"] = parsed["display"]
        job.update(sanitized)
        return json_response({"job": job})
    except (JobError, ValueError, AttributeError, TypeError) as exc:
        return json_response(bare_error(str(exc)), 500)


def delete_job(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    found = _find(store, config, request, params)
    if isinstance(found, ApiResponse):
        return found
    _jobs(store).remove(found)
    return json_response({"ok": True})


def pause_job(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    found = _find(store, config, request, params)
    if isinstance(found, ApiResponse):
        return found
    found.update(
        enabled=False,
        state="paused",
        paused_at=_iso(store.clock.now()),
        paused_reason=None,
    )
    return json_response({"job": found})


def resume_job(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    found = _find(store, config, request, params)
    if isinstance(found, ApiResponse):
        return found
    now = store.clock.now()
    found.update(
        enabled=True,
        state="scheduled",
        paused_at=None,
        paused_reason=None,
        next_run_at=_next_run(found["schedule"], now),
    )
    return json_response({"job": found})


def run_job(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """POST …/run: (the key,) then draining, then the id (A:4323-4343)."""
    if config.draining:
        return gateway_draining()
    found = _find(store, config, request, params)
    if isinstance(found, ApiResponse):
        return found
    found.update(
        enabled=True,
        state="scheduled",
        paused_at=None,
        paused_reason=None,
        next_run_at=_iso(store.clock.now()),
    )
    return json_response({"job": found})


# ---------------------------------------------------------------- helpers


def _find(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> dict[str, Any] | ApiResponse:
    job_id = params["job_id"]
    if not JOB_ID.fullmatch(job_id):
        return json_response(bare_error("Invalid job ID format"), 400)
    job = _by_id(store, job_id)
    if job is None:
        return json_response(bare_error("Job not found"), 404)
    return job


def _by_id(store: RunStore, job_id: str) -> dict[str, Any] | None:
    return next((j for j in _jobs(store) if j["id"] == job_id), None)


def _json(request: ApiRequest, attribute: str = "get") -> dict[str, Any]:
    """`await request.json()` inside the handler's try: a decode error's text is the 500."""
    try:
        body = json.loads(request.body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise JobError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise JobError(str(exc)) from None
    if not isinstance(body, dict):
        raise JobError(f"'{type(body).__name__}' object has no attribute '{attribute}'")
    return body


def _iso(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat()


def _minutes(text: str) -> int:
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"Invalid duration: '{text}'")
    amount, unit = int(match.group(1)), match.group(2).lower()[0]
    return amount * {"m": 1, "h": 60, "d": 1440}[unit]


def _parse_schedule(schedule: str, now: float) -> dict[str, Any]:
    """`cron.jobs.parse_schedule`: interval, cron expression, timestamp or duration."""
    original = schedule.strip()
    if original.lower().startswith("every "):
        minutes = _minutes(original[6:])
        return {"kind": "interval", "minutes": minutes, "display": f"every {minutes}m"}
    parts = original.split()
    if len(parts) >= 5 and all(re.match(r"^[\d\*\-,/]+$", p) for p in parts[:5]):
        return {"kind": "cron", "expr": original, "display": original}
    if "T" in original or re.match(r"^\d{4}-\d{2}-\d{2}", original):
        try:
            moment = datetime.fromisoformat(original.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"Invalid timestamp '{original}': {exc}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        display = f"once at {moment.strftime('%Y-%m-%d %H:%M')}"
        return {"kind": "once", "run_at": moment.isoformat(), "display": display}
    try:
        minutes = _minutes(original)
    except ValueError:
        raise ValueError(
            f"Invalid schedule '{original}'. Use:\n"
            "  - Duration: '30m', '2h', '1d' (one-shot)\n"
            "  - Interval: 'every 30m', 'every 2h' (recurring)\n"
            "  - Cron: '0 9 * * *' (cron expression)\n"
            "  - Timestamp: '2026-02-03T14:00:00' (one-shot at time)"
        ) from None
    run_at = datetime.fromtimestamp(now, UTC) + timedelta(minutes=minutes)
    return {"kind": "once", "run_at": run_at.isoformat(), "display": f"once in {original}"}


def _next_run(schedule: dict[str, Any], now: float) -> str | None:
    """The next run: a one-shot's moment, now + an interval; None for cron (not computed)."""
    if schedule["kind"] == "once":
        return str(schedule["run_at"])
    if schedule["kind"] == "interval":
        moment = datetime.fromtimestamp(now, UTC) + timedelta(minutes=schedule["minutes"])
        return moment.isoformat()
    return None


def _new_job(
    store: RunStore,
    request: ApiRequest,
    body: dict[str, Any],
    name: str,
    schedule: str,
    prompt: Any,
    repeat: int | None,
) -> dict[str, Any]:
    """`cron.jobs.create_job`'s record, keys in its order."""
    now = store.clock.now()
    parsed = _parse_schedule(schedule, now)
    skills = body.get("skills") or []
    skills = [str(s) for s in skills] if isinstance(skills, list) else [str(skills)]
    origin: dict[str, str] = {"platform": "api_server", "chat_id": "api"}
    if request.header("user-agent"):
        origin["user_agent"] = request.header("user-agent")
    return {
        "id": random_uuid4().hex[:12],
        "name": name,
        "prompt": prompt,
        "skills": skills,
        "skill": skills[0] if skills else None,
        "model": None,
        "provider": None,
        "provider_snapshot": None,
        "model_snapshot": None,
        "base_url": None,
        "script": None,
        "no_agent": False,
        "context_from": None,
        "schedule": parsed,
        "schedule_display": parsed.get("display", schedule),
        "repeat": {"times": repeat, "completed": 0},
        "enabled": True,
        "state": "scheduled",
        "paused_at": None,
        "paused_reason": None,
        "created_at": _iso(now),
        "next_run_at": _next_run(parsed, now),
        "last_run_at": None,
        "last_status": None,
        "last_error": None,
        "last_delivery_error": None,
        "deliver": body.get("deliver", "local"),
        "origin": origin,
        "enabled_toolsets": None,
        "workdir": None,
    }
