"""README documents the plugin fully and links nothing outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_no_link_leaves_the_repository() -> None:
    assert "../" not in README
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target


def test_every_fixture_is_in_the_table() -> None:
    from agentfakes import pytest_plugin

    fixtures = [
        name
        for name, value in vars(pytest_plugin).items()
        if type(value).__name__ == "FixtureFunctionDefinition"
    ]
    assert len(fixtures) >= 12
    for name in fixtures:
        assert f"`{name}`" in README, name


def test_every_server_option_is_in_the_reference() -> None:
    from agentfakes.options import SERVER_OPTIONS

    for name in SERVER_OPTIONS:
        assert f"`{name}`" in README, name
