"""Version strings of rubrics and policies: their natural order and the next one to suggest."""

from __future__ import annotations

import re


def version_sort_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Natural order of version strings: "1.2" < "1.10" < "2.0"."""
    parts = re.findall(r"\d+|[^\d]+", version)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def bumped(version: str) -> str:
    """A next version to suggest: "1.0" -> "1.1", "2" -> "3", "2.0-draft" -> "2.0-draft.1"."""
    head, _, last = version.rpartition(".")
    if last.isdigit():
        return f"{head}.{int(last) + 1}" if head else str(int(last) + 1)
    return f"{version}.1"
