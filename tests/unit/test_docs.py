"""What users need to know is written down: every setting and every command is in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from session_rater.cli.main import build_parser
from session_rater.settings import SETTINGS_TABLE

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS_TABLE, ids=lambda s: s.env)
def test_every_setting_is_documented_in_the_readme(setting) -> None:  # type: ignore[no-untyped-def]
    assert f"`{setting.env}`" in README


def test_every_command_is_documented_in_the_readme() -> None:
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"session-rater {name}" in README, name


def test_the_quick_start_has_exactly_two_commands_and_ci_runs_the_second() -> None:
    quick_start = README.split("## Quick start")[1].split("```bash")[1].split("```")[0]
    commands = [line for line in quick_start.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert commands[1].strip() in ci
