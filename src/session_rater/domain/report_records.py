"""What the reports keep, as plain frozen values (storage returns these, never ORM objects)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MAX_AGREED_ACTION = 500
"""A supervision's agreed action is a short sentence or two, not minutes of the meeting."""


@dataclass(frozen=True)
class SupervisionDiscussion:
    """"Discussed in supervision on DATE", with the action agreed, for one tutor and session."""

    id: int
    recording_id: int
    tutor_id: int
    discussed_on: dt.date
    agreed_action: str
    recorded_by: int | None
    recorded_at: dt.datetime


@dataclass(frozen=True)
class AuditMarkSetView:
    """One audit's marks (the marks CSV), with the instrument version they were given under."""

    id: int
    title: str
    area: str
    instrument_id: str
    instrument_version: str
    mandatory: tuple[str, ...]
    marks_csv: str
    created_by: int | None
    created_at: dt.datetime
    updated_by: int | None
    updated_at: dt.datetime
