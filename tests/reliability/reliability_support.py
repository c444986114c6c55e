"""Shared pieces of the reliability suite: the Hypothesis profiles, the figures it reports,
and the spec oracle for request bodies (what the real server answers, spec §1–§2).

Profiles: `AGENTFAKES_RELIABILITY=ci` (default: fixed seed, small, bounded for CI) or
`long` (at least 1,000 examples per property, random seed) for local runs.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("AGENTFAKES_RELIABILITY", "ci")
if PROFILE not in ("ci", "long"):
    raise RuntimeError(f"AGENTFAKES_RELIABILITY must be 'ci' or 'long', got {PROFILE!r}")
LONG = PROFILE == "long"
STATS: Counter[str] = Counter()  # figures printed at the end of the session

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def profile(ci_examples: int, *, steps: int = 30) -> settings:
    """The settings for one property: `ci_examples` derandomized examples in CI, at least
    1,000 (random seed) in the long profile."""
    if LONG:
        return settings(
            max_examples=max(1000, ci_examples),
            stateful_step_count=steps * 2,
            deadline=None,
            database=None,
            suppress_health_check=_QUIET,
        )
    return settings(
        max_examples=ci_examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=_QUIET,
        print_blob=True,
    )


# ------------------------------------------------------------------ the spec oracle

CRASH = "500 Internal Server Error\n\nServer got itself in trouble"  # spec §1.5
Expected = tuple[int, Any]  # (status, JSON body or text)


def error(message: str, code: str | None = None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }


def parse_body(raw: bytes, content_type: str = "application/json") -> tuple[bool, Any]:
    """aiohttp's `request.json()`: decode with the charset (UTF-8 by default), `json.loads`;
    any failure is caught by the handler's `except Exception` (A:4789-4792)."""
    charset = "utf-8"
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return True, json.loads(raw.decode(charset))
    except Exception:
        return False, None


def expected_create(raw: bytes, content_type: str = "application/json") -> Expected | None:
    """POST /v1/runs checks 5–9 of spec §2.1 for this body (auth, draining, session key and
    cap passed); None means 202. The real code (A:4789-4850) run on the parsed body."""
    ok, body = parse_body(raw, content_type)
    if not ok:
        return 400, error("Invalid JSON")
    if not isinstance(body, dict):
        return 500, CRASH  # body.get(...) on a list, str, number or null
    raw_input = body.get("input")
    if not raw_input:
        return 400, error("Missing 'input' field")
    if isinstance(raw_input, str):
        user_message: Any = raw_input
    elif isinstance(raw_input, list):
        if not isinstance(raw_input[-1], dict):
            return 500, CRASH
        user_message = raw_input[-1].get("content", "")
    else:
        user_message = ""
    if not user_message:
        return 400, error("No user message found in input")
    history = body.get("conversation_history")
    if history:
        if not isinstance(history, list):
            return 400, error("'conversation_history' must be an array of message objects")
        for index, entry in enumerate(history):
            if not isinstance(entry, dict) or "role" not in entry or "content" not in entry:
                return 400, error(
                    f"conversation_history[{index}] must have 'role' and 'content' fields"
                )
    elif isinstance(raw_input, list) and len(raw_input) > 1:
        for message in raw_input[:-1]:
            if isinstance(message, dict) and message.get("role") and message.get("content"):
                content = message["content"]
                if isinstance(content, list):
                    texts = [
                        part.get("text", "")
                        for part in content
                        if isinstance(part, dict) and part.get("type") == "text"
                    ]
                    if not all(isinstance(text, str) for text in texts):
                        return 500, CRASH  # " ".join of a non-string
    return None


APPROVAL_CHOICES = ("once", "session", "always", "deny")
INVALID_CHOICE = error(
    "Invalid approval choice; expected one of: once, session, always, deny",
    "invalid_approval_choice",
)


def expected_approval_body(raw: bytes) -> tuple[Expected | None, str, bool]:
    """Checks 3–4 of spec §2.4 for this body: (an error, or None), the normalised choice
    and whether it resolves all pending approvals."""
    ok, body = parse_body(raw)
    if not ok:
        return (400, error("Invalid JSON")), "", False
    if not isinstance(body, dict):
        return (500, CRASH), "", False
    choice = str(body.get("choice", "")).strip().lower()
    choice = {"approve": "once", "approved": "once", "allow": "once"}.get(choice, choice)
    if choice not in APPROVAL_CHOICES:
        return (400, INVALID_CHOICE), choice, False
    return None, choice, _bool(body.get("all")) or _bool(body.get("resolve_all"))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(value, int | float):
        return bool(value)
    return False


def run_not_found(run_id: str) -> dict[str, Any]:
    return error(f"Run not found: {run_id}", "run_not_found")


INVALID_KEY = {
    "error": {
        "message": "Invalid API key",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}


def answer_of(response: Any) -> Expected:
    """(status, JSON or text) of an httpx response, for comparing with the oracle."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, response.json()
    return response.status_code, response.text
