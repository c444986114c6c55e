"""`GET /v1/skills` and `GET /v1/toolsets` (beyond-runs §3.4; A:2073-2158).

The toolsets are what hermes-agent 0.19.0 lists in a fresh `$HERMES_HOME` with the
default config (generated once from the installed package: name, label, description,
enabled for the api_server platform, configured, tools); a fresh home has no skills.
"""

from __future__ import annotations

import copy
from typing import Any

from agentfakes.api.config import GatewayConfig
from agentfakes.api.errors import json_response
from agentfakes.api.messages import ApiRequest, ApiResponse
from agentfakes.engine import RunStore

Params = dict[str, str]


def skills(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """GET /v1/skills: `{"object": "list", "data": []}` in a fresh home."""
    return json_response({"object": "list", "data": []})


def toolsets(
    store: RunStore, config: GatewayConfig, request: ApiRequest, params: Params
) -> ApiResponse:
    """GET /v1/toolsets: every configurable toolset and whether api_server enables it."""
    data = copy.deepcopy(TOOLSETS)
    return json_response({"object": "list", "platform": "api_server", "data": data})


TOOLSETS: list[dict[str, Any]] = [
    {
        "name": "web",
        "label": "🔍 Web Search & Scraping",
        "description": "web_search, web_extract",
        "enabled": True,
        "configured": True,
        "tools": ["web_extract", "web_search"],
    },
    {
        "name": "browser",
        "label": "🌐 Browser Automation",
        "description": "navigate, click, type, scroll",
        "enabled": True,
        "configured": True,
        "tools": [
            "browser_back",
            "browser_cdp",
            "browser_click",
            "browser_console",
            "browser_dialog",
            "browser_get_images",
            "browser_navigate",
            "browser_press",
            "browser_scroll",
            "browser_snapshot",
            "browser_type",
            "browser_vision",
            "web_search",
        ],
    },
    {
        "name": "terminal",
        "label": "💻 Terminal & Processes",
        "description": "terminal, process",
        "enabled": True,
        "configured": True,
        "tools": ["process", "terminal"],
    },
    {
        "name": "file",
        "label": "📁 File Operations",
        "description": "read, write, patch, search",
        "enabled": True,
        "configured": True,
        "tools": ["patch", "read_file", "search_files", "write_file"],
    },
    {
        "name": "code_execution",
        "label": "⚡ Code Execution",
        "description": "execute_code",
        "enabled": True,
        "configured": True,
        "tools": ["execute_code"],
    },
    {
        "name": "vision",
        "label": "👁️  Vision / Image Analysis",
        "description": "vision_analyze",
        "enabled": True,
        "configured": False,
        "tools": ["vision_analyze"],
    },
    {
        "name": "video",
        "label": "🎬 Video Analysis",
        "description": "video_analyze (requires video-capable model)",
        "enabled": False,
        "configured": True,
        "tools": ["video_analyze"],
    },
    {
        "name": "image_gen",
        "label": "🎨 Image Generation",
        "description": "image_generate",
        "enabled": True,
        "configured": True,
        "tools": ["image_generate"],
    },
    {
        "name": "video_gen",
        "label": "🎬 Video Generation",
        "description": "video_generate (text/image/reference)",
        "enabled": False,
        "configured": True,
        "tools": ["video_generate", "xai_video_edit", "xai_video_extend"],
    },
    {
        "name": "x_search",
        "label": "🐦 X (Twitter) Search",
        "description": "x_search (requires xAI OAuth or XAI_API_KEY)",
        "enabled": False,
        "configured": True,
        "tools": ["x_search"],
    },
    {
        "name": "tts",
        "label": "🔊 Text-to-Speech",
        "description": "text_to_speech",
        "enabled": False,
        "configured": True,
        "tools": ["text_to_speech"],
    },
    {
        "name": "skills",
        "label": "📚 Skills",
        "description": "list, view, manage",
        "enabled": True,
        "configured": True,
        "tools": ["skill_manage", "skill_view", "skills_list"],
    },
    {
        "name": "todo",
        "label": "📋 Task Planning",
        "description": "todo",
        "enabled": True,
        "configured": True,
        "tools": ["todo"],
    },
    {
        "name": "memory",
        "label": "💾 Memory",
        "description": "persistent memory across sessions",
        "enabled": True,
        "configured": True,
        "tools": ["memory"],
    },
    {
        "name": "context_engine",
        "label": "🧩 Context Engine",
        "description": "runtime tools from the active context engine",
        "enabled": False,
        "configured": True,
        "tools": [],
    },
    {
        "name": "session_search",
        "label": "🔎 Session Search",
        "description": "search past conversations",
        "enabled": True,
        "configured": True,
        "tools": ["session_search"],
    },
    {
        "name": "clarify",
        "label": "❓ Clarifying Questions",
        "description": "clarify",
        "enabled": False,
        "configured": True,
        "tools": ["clarify"],
    },
    {
        "name": "delegation",
        "label": "👥 Task Delegation",
        "description": "delegate_task",
        "enabled": True,
        "configured": True,
        "tools": ["delegate_task"],
    },
    {
        "name": "cronjob",
        "label": "⏰ Cron Jobs",
        "description": "create/list/update/pause/resume/run, with optional attached skills",
        "enabled": True,
        "configured": True,
        "tools": ["cronjob"],
    },
    {
        "name": "homeassistant",
        "label": "🏠 Home Assistant",
        "description": "smart home device control",
        "enabled": False,
        "configured": False,
        "tools": ["ha_call_service", "ha_get_state", "ha_list_entities", "ha_list_services"],
    },
    {
        "name": "spotify",
        "label": "🎵 Spotify",
        "description": "playback, search, playlists, library",
        "enabled": False,
        "configured": True,
        "tools": [
            "spotify_albums",
            "spotify_devices",
            "spotify_library",
            "spotify_playback",
            "spotify_playlists",
            "spotify_queue",
            "spotify_search",
        ],
    },
    {
        "name": "discord",
        "label": "💬 Discord (read/participate)",
        "description": "fetch messages, search members, create thread",
        "enabled": False,
        "configured": True,
        "tools": ["discord"],
    },
    {
        "name": "discord_admin",
        "label": "🛡️  Discord Server Admin",
        "description": "list channels/roles, pin, assign roles",
        "enabled": False,
        "configured": True,
        "tools": ["discord_admin"],
    },
    {
        "name": "yuanbao",
        "label": "🤖 Yuanbao",
        "description": "group info, member queries, DM",
        "enabled": False,
        "configured": True,
        "tools": [
            "yb_query_group_info",
            "yb_query_group_members",
            "yb_search_sticker",
            "yb_send_dm",
            "yb_send_sticker",
        ],
    },
    {
        "name": "computer_use",
        "label": "🖱️  Computer Use (macOS/Windows/Linux)",
        "description": "background desktop control via cua-driver",
        "enabled": False,
        "configured": True,
        "tools": ["computer_use"],
    },
]
