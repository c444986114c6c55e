"""The probe endpoints: health, detailed health, models, capabilities (spec §8)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from agentfakes.api.config import HERMES_VERSION, GatewayConfig
from agentfakes.api.errors import json_response
from agentfakes.api.messages import ApiRequest, ApiResponse
from agentfakes.engine import RunStore

Params = dict[str, str]


def health(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    return json_response({"status": "ok", "platform": "hermes-agent", "version": HERMES_VERSION})


def health_detailed(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    store.tick()
    active = store.active_count()
    ok = {"status": "ok"}
    readiness = {
        "status": "ok",
        "checks": {
            "state_db": dict(ok),
            "config": dict(ok),
            "model": dict(ok),
            "disk": {**ok, "used_percent": 42.0, "free_bytes": 64_000_000_000},
            "gateway": {**ok, "state": "running", "connected_platforms": 1, "platforms": 1},
            "background_queues": {
                **ok,
                "active_api_runs": active,
                "process_completions": 0,
                "active_delegations": 0,
            },
        },
    }
    # The gateway's runtime status file, written when it came up: ISO strings (observed).
    started = datetime.fromtimestamp(config.started_at or store.clock.now(), UTC).isoformat()
    return json_response(
        {
            "status": readiness["status"],
            "readiness": readiness,
            "platform": "hermes-agent",
            "version": HERMES_VERSION,
            "gateway_state": "draining" if config.draining else "running",
            "platforms": {
                "api_server": {
                    "state": "connected",
                    "error_code": None,
                    "error_message": None,
                    "updated_at": started,
                }
            },
            "active_agents": active,
            "gateway_busy": active > 0,
            "gateway_drainable": True,
            "exit_reason": None,
            "updated_at": started,
            "pid": os.getpid(),
        }
    )


def models(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    name = config.model_name
    entry = {
        "id": name,
        "object": "model",
        "created": int(store.clock.now()),
        "owned_by": "hermes",
        "permission": [],
        "root": name,
        "parent": None,
    }
    return json_response({"object": "list", "data": [entry]})


def capabilities(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    return json_response(capabilities_body(config.model_name))


def capabilities_body(model_name: str) -> dict[str, Any]:
    """`GET /v1/capabilities` as hermes-agent 0.19.0 answers it (spec §8)."""
    runs_endpoints = {
        "runs": ("POST", "/v1/runs"),
        "run_status": ("GET", "/v1/runs/{run_id}"),
        "run_events": ("GET", "/v1/runs/{run_id}/events"),
        "run_approval": ("POST", "/v1/runs/{run_id}/approval"),
        "run_stop": ("POST", "/v1/runs/{run_id}/stop"),
    }
    other_endpoints = {
        "health": ("GET", "/health"),
        "health_detailed": ("GET", "/health/detailed"),
        "models": ("GET", "/v1/models"),
        "chat_completions": ("POST", "/v1/chat/completions"),
        "responses": ("POST", "/v1/responses"),
    }
    session_endpoints = {
        "skills": ("GET", "/v1/skills"),
        "toolsets": ("GET", "/v1/toolsets"),
        "sessions": ("GET", "/api/sessions"),
        "session_create": ("POST", "/api/sessions"),
        "session": ("GET", "/api/sessions/{session_id}"),
        "session_update": ("PATCH", "/api/sessions/{session_id}"),
        "session_delete": ("DELETE", "/api/sessions/{session_id}"),
        "session_messages": ("GET", "/api/sessions/{session_id}/messages"),
        "session_fork": ("POST", "/api/sessions/{session_id}/fork"),
        "session_chat": ("POST", "/api/sessions/{session_id}/chat"),
        "session_chat_stream": ("POST", "/api/sessions/{session_id}/chat/stream"),
    }
    endpoints = {
        name: {"method": method, "path": path}
        for name, (method, path) in {
            **other_endpoints,
            **runs_endpoints,
            **session_endpoints,
        }.items()
    }
    features: dict[str, Any] = dict.fromkeys(
        (
            "chat_completions",
            "chat_completions_streaming",
            "responses_api",
            "responses_streaming",
            "run_submission",
            "run_status",
            "run_events_sse",
            "run_stop",
            "run_approval_response",
            "tool_progress_events",
            "approval_events",
            "session_resources",
            "session_chat",
            "session_chat_streaming",
            "session_fork",
        ),
        True,
    )
    features.update(
        admin_config_rw=False,
        jobs_admin=False,
        memory_write_api=False,
        skills_api=True,
        audio_api=False,
        realtime_voice=False,
        session_continuity_header="X-Hermes-Session-Id",
        session_key_header="X-Hermes-Session-Key",
        cors=False,
    )
    return {
        "object": "hermes.api_server.capabilities",
        "platform": "hermes-agent",
        "model": model_name,
        "auth": {"type": "bearer", "required": True},
        "runtime": {
            "mode": "server_agent",
            "tool_execution": "server",
            "split_runtime": False,
            "description": (
                "The API server creates a server-side Hermes AIAgent; tools execute on the "
                "API-server host unless a future explicit split-runtime mode is enabled."
            ),
        },
        "features": features,
        "endpoints": endpoints,
    }
