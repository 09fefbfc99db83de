"""The layers of README's "How the code is laid out", checked on every run: the import-linter
contracts in pyproject.toml, and what import-linter cannot see (a page reaching the storage
through an attribute of the services)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "session_rater"
STORAGE_ATTRIBUTES = {"store", "media", "accounts_store", "sampling", "engine"}
"""Services' storage and its engine: the use cases' to use, never a page's or a command's."""


def _lint_imports() -> str:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports (import-linter) is not installed: it is in the [test] extra of pyproject.toml")
    return found


def test_every_layer_contract_holds() -> None:
    result = subprocess.run([_lint_imports(), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, f"A layer contract is broken:\n{result.stdout}\n{result.stderr}"
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("package", ["ui", "cli", "web"])
def test_entry_points_never_reach_the_storage_through_the_services(package: str) -> None:
    reaches = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in STORAGE_ATTRIBUTES:
                reaches.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
    assert not reaches, "Call a use case instead (usecases/, Permitted):\n" + "\n".join(reaches)
