"""What the agent-running handlers share: message content normalisation, the multimodal
400s, `_coerce_request_bool`, and the session header checks (beyond-runs §4.1, §5.1).

Each function mirrors the real helper it names (A:142-384, A:1539-1589, A:2724-2766),
raising `HandlerCrash` where the real one would raise into aiohttp's text 500.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

from agentfakes.api.config import MAX_SESSION_KEY
from agentfakes.api.errors import json_response, openai_error, short_error
from agentfakes.api.messages import ApiRequest, ApiResponse
from agentfakes.api.runs import HandlerCrash

MAX_TEXT = 65_536  # MAX_NORMALIZED_TEXT_LENGTH (A:126)
MAX_PARTS = 1_000  # MAX_CONTENT_LIST_SIZE (A:127)
TEXT_PARTS = frozenset({"text", "input_text", "output_text"})
IMAGE_PARTS = frozenset({"image_url", "input_image"})
FILE_PARTS = frozenset({"file", "input_file"})
_CONTROL = re.compile(r"[\r\n\x00]")


class ContentError(ValueError):
    """A bad content part: `code` and `message` as `_multimodal_validation_error` splits them."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}:{message}")
        self.code = code
        self.message = message


def request_bool(value: Any, default: bool = False) -> bool:
    """`_coerce_request_bool` (A:142-164)."""
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    if isinstance(value, str):
        normalized = value.strip().lower()
        if normalized in ("1", "true", "yes", "on"):
            return True
        if normalized in ("0", "false", "no", "off"):
            return False
        return default
    if isinstance(value, int | float):
        return bool(value)
    return default


def get(container: Any, key: str, default: Any = None) -> Any:
    """`x.get(key)` as the real handler calls it: on a non-dict it raises (text 500)."""
    if not isinstance(container, dict):
        raise HandlerCrash
    return container.get(key, default)


def chat_text(content: Any, depth: int = 0) -> str:
    """`_normalize_chat_content`: content flattened to text, images dropped (A:166-225)."""
    if depth > 10 or content is None:
        return ""
    if isinstance(content, str):
        return content[:MAX_TEXT]
    if isinstance(content, list):
        parts: list[str] = []
        total = 0
        for item in content[:MAX_PARTS]:
            if isinstance(item, str):
                if item:
                    parts.append(item[:MAX_TEXT])
                    total += len(parts[-1])
            elif isinstance(item, dict):
                kind = str(item.get("type") or "").strip().lower()
                text = item.get("text", "")
                if kind in TEXT_PARTS and text:
                    parts.append(str(text)[:MAX_TEXT])
                    total += len(parts[-1])
            elif isinstance(item, list):
                nested = chat_text(item, depth + 1)
                if nested:
                    parts.append(nested)
                    total += len(nested)
            if total >= MAX_TEXT:
                break
        return "\n".join(parts)[:MAX_TEXT]
    return str(content)[:MAX_TEXT]


def multimodal(content: Any) -> Any:
    """`_normalize_multimodal_content` (A:240-355): text-only content collapses to a
    string; with images, a list of text/image_url parts. Raises ContentError."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content[:MAX_TEXT]
    if not isinstance(content, list):
        return chat_text(content)
    parts: list[dict[str, Any]] = []
    for part in content[:MAX_PARTS]:
        if isinstance(part, str):
            if part:
                parts.append({"type": "text", "text": part[:MAX_TEXT]})
            continue
        if not isinstance(part, dict):
            continue
        raw_type = part.get("type")
        kind = str(raw_type or "").strip().lower()
        if kind in TEXT_PARTS:
            text = part.get("text")
            if text is None:
                continue
            text = text if isinstance(text, str) else str(text)
            if text:
                parts.append({"type": "text", "text": text[:MAX_TEXT]})
            continue
        if kind in IMAGE_PARTS:
            parts.append(_image_part(part))
            continue
        if kind in FILE_PARTS:
            raise ContentError(
                "unsupported_content_type",
                "Inline image inputs are supported, but uploaded files and document inputs "
                "are not supported on this endpoint.",
            )
        raise ContentError(
            "unsupported_content_type",
            f"Unsupported content part type {raw_type!r}. "
            "Only text and image_url/input_image parts are supported.",
        )
    if not parts:
        return ""
    if all(p["type"] == "text" for p in parts):
        return "\n".join(p["text"] for p in parts if p.get("text"))
    return parts


def _image_part(part: dict[str, Any]) -> dict[str, Any]:
    detail = part.get("detail")
    ref = part.get("image_url")
    if isinstance(ref, dict):
        url = ref.get("url")
        detail = ref.get("detail", detail)
    else:
        url = ref
    if not isinstance(url, str) or not url.strip():
        raise ContentError("invalid_image_url", "Image parts must include a non-empty image URL.")
    url = url.strip()
    lowered = url.lower()
    if lowered.startswith("data:"):
        if not lowered.startswith("data:image/") or "," not in url:
            raise ContentError(
                "unsupported_content_type",
                "Only image data URLs are supported. Non-image data payloads are not supported.",
            )
    elif not (lowered.startswith("http://") or lowered.startswith("https://")):
        raise ContentError(
            "invalid_image_url", "Image inputs must use http(s) URLs or data:image/... URLs."
        )
    image: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
    if detail is not None:
        if not isinstance(detail, str) or not detail.strip():
            raise ContentError(
                "invalid_content_part", "Image detail must be a non-empty string when provided."
            )
        image["image_url"]["detail"] = detail.strip()
    return image


def has_visible_payload(content: Any) -> bool:
    """`_content_has_visible_payload` (A:358-371)."""
    if isinstance(content, str):
        return bool(content.strip())
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                kind = str(part.get("type") or "").strip().lower()
                if kind in TEXT_PARTS and str(part.get("text") or "").strip():
                    return True
                if kind in IMAGE_PARTS:
                    return True
    return False


def content_error(exc: ContentError, param: str) -> ApiResponse:
    """`_multimodal_validation_error`: the full envelope with `param` and `code` (A:373-384)."""
    return json_response(openai_error(exc.message, code=exc.code, param=param), 400)


def hashable(value: Any) -> bool:
    """`role in {"user", "assistant"}` raises TypeError for an unhashable role."""
    return isinstance(value, Hashable)


def session_key(request: ApiRequest) -> tuple[str | None, ApiResponse | None]:
    """`_parse_session_key_header` (A:1539-1589): the key, or the 400 for it."""
    raw = request.header("x-hermes-session-key").strip()
    if not raw:
        return None, None
    if _CONTROL.search(raw):
        return None, json_response(short_error("Invalid session key"), 400)
    if len(raw) > MAX_SESSION_KEY:
        return None, json_response(short_error("Session key too long"), 400)
    return raw, None


def session_id_header(request: ApiRequest) -> tuple[str | None, ApiResponse | None]:
    """`X-Hermes-Session-Id` as chat completions checks it (A:2724-2752)."""
    raw = request.header("x-hermes-session-id").strip()
    if not raw:
        return None, None
    if _CONTROL.search(raw) or _path_unsafe(raw):
        return None, json_response(short_error("Invalid session ID"), 400)
    if len(raw) > MAX_SESSION_KEY:
        return None, json_response(short_error("Session ID too long"), 400)
    return raw, None


def _path_unsafe(value: str) -> bool:
    """`gateway.session._is_path_unsafe`."""
    if ".." in value or "/" in value or "\\" in value:
        return True
    return len(value) >= 2 and value[0].isalpha() and value[1] == ":"


def session_headers(session_id: str, key: str | None) -> list[tuple[str, str]]:
    headers = [("X-Hermes-Session-Id", session_id)]
    if key:
        headers.append(("X-Hermes-Session-Key", key))
    return headers
