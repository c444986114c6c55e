"""The recording flags, ini keys and file paths: light (pytest and the standard library
only), so the plugin can register them at start-up without importing the fake."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

__all__ = ["DEFAULT_KEY_ENV", "INI_MODE", "INI_SCRUB", "MODES", "add_options", "default_path"]

MODES = ("none", "once", "new_episodes", "all", "diff")
DEFAULT_KEY_ENV = "HERMES_API_KEY"
INI_MODE, INI_SCRUB = "agentfakes_record_mode", "agentfakes_scrub"
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]]+")


def add_options(group: Any, parser: pytest.Parser, *, ini_mode: bool = True) -> None:
    """The recording flags and ini keys (`ini_mode=False` if the plugin registers
    `agentfakes_record_mode` with its own ini values)."""
    group.addoption(
        "--agentfakes-record-mode",
        choices=MODES,
        default=None,
        dest="agentfakes_record_mode",
        help="for tests marked @pytest.mark.agentfakes(scenario=...): none (replay the "
        "scenario file offline; the default), once (record it if missing), new_episodes "
        "(record runs the file lacks), all (record again), diff (record and compare)",
    )
    group.addoption(
        "--agentfakes-hermes-url",
        default=None,
        dest="agentfakes_hermes_url",
        metavar="URL",
        help="the real Hermes server that recording forwards to",
    )
    group.addoption(
        "--agentfakes-hermes-key-env",
        default=DEFAULT_KEY_ENV,
        dest="agentfakes_hermes_key_env",
        metavar="NAME",
        help="the environment variable holding the real server's key (default %(default)s)",
    )
    group.addoption(
        "--agentfakes-scrub",
        action="append",
        default=[],
        dest="agentfakes_scrub",
        metavar="REGEX",
        help="replace matches with <scrubbed> in recorded bodies and headers (repeatable)",
    )
    if ini_mode:
        parser.addini(INI_MODE, "agentfakes record mode: " + "|".join(MODES), default="")
    parser.addini(INI_SCRUB, "regexes scrubbed from scenario recordings", type="linelist")


def record_mode(config: pytest.Config) -> str:
    mode = config.getoption("agentfakes_record_mode") or str(config.getini(INI_MODE) or "")
    mode = mode.strip() or "none"
    if mode not in MODES:
        raise pytest.UsageError(f"agentfakes: {INI_MODE} must be one of {', '.join(MODES)}")
    return mode


def default_path(item: pytest.Item) -> Path:
    """`<module dir>/scenarios/<module stem>/<Class>.<test[id]>.yaml`, unsafe characters
    replaced, so every test has its own file."""
    module = Path(str(item.path))
    name = item.name
    cls = getattr(item, "cls", None)
    if cls is not None:
        name = f"{cls.__name__}.{name}"
    safe = _UNSAFE.sub("_", name).strip("._") or "test"
    return module.parent / "scenarios" / module.stem / f"{safe}.yaml"


def scenario_path(item: pytest.Item, value: Any) -> Path:
    if value is True:
        return default_path(item)
    path = Path(os.fspath(value))
    return path if path.is_absolute() else Path(str(item.path)).parent / path
