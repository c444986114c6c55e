"""YAML for scenario files: how they are written (one line per step, literal blocks for
multi-line text), where a field is in the text (for error messages), atomic writes."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml


def dump_yaml(data: Any) -> str:
    """Scenario data as YAML: keys in the models' order, empty optional parts left out."""
    return yaml.dump(
        _flow_steps(_prune(data)), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )


def atomic_write(target: Path, text: str) -> None:
    """Write `text` to `target` via a unique temp file in the same folder and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


class _Dumper(yaml.SafeDumper):
    """Block style, one line per step; multi-line strings as literal blocks."""


class _Flow(dict[str, Any]):
    """A step's arguments, written on one line: `- delta: {text: 'Hel'}`."""


def _represent_flow(dumper: yaml.SafeDumper, value: _Flow) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=True)


def _flow_steps(data: Any) -> Any:
    """Every step of every script in `data` on one line, unless it holds branches."""
    if isinstance(data, dict):
        out = {key: _flow_steps(value) for key, value in data.items()}
        if isinstance(out.get("steps"), list):
            out["steps"] = [_flow_step(step) for step in out["steps"]]
        return out
    if isinstance(data, list):
        return [_flow_steps(value) for value in data]
    return data


def _flow_step(step: Any) -> Any:
    if not isinstance(step, dict) or len(step) != 1:
        return step
    ((verb, arguments),) = step.items()
    if isinstance(arguments, dict) and not {"on_deny", "on_timeout"} & set(arguments):
        return {verb: _Flow(arguments)}
    return {verb: _flow_steps(arguments)}


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not value.endswith((" ", "\t")) and "\r" not in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if "\n" in value or "\r" in value:  # "\n\nRemoved " reads best escaped, on one line
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Flow, _represent_flow)


def _prune(data: Any) -> Any:
    """Leave out empty optional parts (no approvals, no stop, no branches); a Script's own
    data is kept as the codec wrote it (there None can mean "absent")."""
    if isinstance(data, dict):
        return {
            key: value if key in ("script", "branches") else _prune(value)
            for key, value in data.items()
            if not (value is None or (isinstance(value, list | dict) and not value))
        }
    if isinstance(data, list):
        return [_prune(value) for value in data]
    return data


def field_path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(text: str | None, path: list[Any]) -> str:
    """`:N`, the line of the YAML node at `path` (as deep as the path goes), or ""."""
    if text is None:
        return ""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return ""
    if node is None:
        return ""
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode) and not isinstance(part, int):
            child = next((v for k, v in node.value if k.value == part), None)
            if child is None:  # an unknown key: point at the key itself
                key = next((k for k, _ in node.value if k.value == part), None)
                child = key
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node = child
    return f":{node.start_mark.line + 1}"
