"""The generated reference docs are current, and the README starts with the two commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from grove.cli.docgen import GENERATED
from grove.common.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_docs_are_current(name: str) -> None:
    committed = (ROOT / "docs" / name).read_text()
    assert committed == GENERATED[name](), f"docs/{name} is stale: run `python -m grove.cli.docgen docs`"


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.env}`" in text and f"`{setting.flag}`" in text


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text().split("\n\n", 3)[:3]
    block = "\n".join(head)
    assert "make quickstart" in block and "make test" in block
