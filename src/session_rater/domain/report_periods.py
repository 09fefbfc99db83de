"""Reporting periods: a month (``2026-05``) or a quarter (``2026Q2``), as the coverage figures
name them, and the first and last day of each."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

KINDS = ("month", "quarter")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def period_of(day: dt.date, kind: str) -> str:
    """The month (``2026-05``) or quarter (``2026Q2``) ``day`` lies in."""
    if kind == "month":
        return f"{day.year}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    raise ValueError(f"a period is a month or a quarter, not {kind!r}")


def period_bounds(label: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a period named like ``2026-05`` or ``2026Q2``."""
    if m := _MONTH.match(label):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ValueError(f"{label!r}: there is no month {month}")
        start = dt.date(year, month, 1)
        end = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
        return start, end
    if m := _QUARTER.match(label):
        year, quarter = int(m[1]), int(m[2])
        start = dt.date(year, 3 * quarter - 2, 1)
        end = dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - dt.timedelta(days=1)
        return start, end
    raise ValueError(f"{label!r} is not a period: write a month as 2026-05 or a quarter as 2026Q2")


def periods(days: Iterable[dt.date], kind: str) -> list[str]:
    """The periods that hold any of ``days``, newest first."""
    return sorted({period_of(d, kind) for d in days}, reverse=True)


def describe_period(label: str) -> str:
    start, end = period_bounds(label)
    if _MONTH.match(label):
        return f"{start:%B %Y}"
    return f"{label[-2:]} {start.year} ({start:%d/%m/%Y} to {end:%d/%m/%Y})"
