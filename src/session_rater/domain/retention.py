"""How long recordings are kept: a retention policy applied to one recording at a time.

A recording is *due for deletion* when its retention period has run out (the session date
plus the policy's period) and nothing keeps it: no hold (a benchmark, a complaint, an
investigation ...) and, when the policy says so, no open audit (a sample draw assigned it and
the assignment is not yet submitted). Deletion removes the files, never the scores. Pure: the
facts come from storage, the decision is made here.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

HOLD_KINDS = ("benchmark", "complaint", "audit", "legal", "other")


@dataclass(frozen=True)
class Period:
    """A span of years, months and days (calendar arithmetic: 29 Feb + 1 year is 28 Feb)."""

    years: int = 0
    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if min(self.years, self.months, self.days) < 0 or (self.years, self.months, self.days) == (0, 0, 0):
            raise ValueError("a retention period is a positive number of years, months and/or days")

    def after(self, day: dt.date) -> dt.date:
        months = day.month - 1 + self.months + 12 * self.years
        year, month = day.year + months // 12, months % 12 + 1
        moved = dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
        return moved + dt.timedelta(days=self.days)

    def __str__(self) -> str:
        parts = [(self.years, "year"), (self.months, "month"), (self.days, "day")]
        return ", ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)


@dataclass(frozen=True)
class RetentionPolicy:
    id: str
    version: str
    title: str
    keep_after_session: Period
    keep_while_audit_open: bool
    fingerprint: str  # SHA-256 of the policy file as applied, for the audit log

    @property
    def rule(self) -> str:
        rule = f"recordings are kept for {self.keep_after_session} after the session"
        if self.keep_while_audit_open:
            rule += ", and in any case until every audit that sampled them is closed"
        return rule + "; recordings on hold are kept until the hold is released"


@dataclass(frozen=True)
class Hold:
    id: int
    recording_id: int
    kind: str
    reason: str
    placed_by: int | None
    placed_at: dt.datetime
    released_at: dt.datetime | None = None
    released_by: int | None = None
    release_note: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None


def open_audit_words(rule: str, due_on: dt.date | None) -> str:
    """An open audit as a retention decision names it: "external audit sample not yet
    submitted, due 01/06/2026"."""
    due = f", due {due_on:%d/%m/%Y}" if due_on else ""
    return f"{rule.replace('_', ' ')} sample not yet submitted{due}"


@dataclass(frozen=True)
class RecordingFacts:
    """What the retention decision needs to know of one recording."""

    recording_id: int
    label: str
    recorded_on: dt.date
    files_deleted_at: dt.datetime | None
    holds: Sequence[Hold] = ()  # active ones
    open_audits: Sequence[str] = ()  # e.g. "external_audit draw 3 (policy default)"


@dataclass(frozen=True)
class RetentionDecision:
    recording_id: int
    label: str
    recorded_on: dt.date
    keep_until: dt.date  # the end of the retention period
    due: bool  # the files are to be deleted now
    reason: str  # why it goes, or why it stays

    @property
    def kept_on_purpose(self) -> bool:
        """Past its period but kept (a hold, an open audit)."""
        return not self.due and "past its retention period" in self.reason


def decide(policy: RetentionPolicy, facts: RecordingFacts, today: dt.date) -> RetentionDecision | None:
    """The policy applied to one recording on ``today``; None when its files are already gone."""
    if facts.files_deleted_at is not None:
        return None
    until = policy.keep_after_session.after(facts.recorded_on)

    def decision(due: bool, reason: str) -> RetentionDecision:
        return RetentionDecision(facts.recording_id, facts.label, facts.recorded_on, until, due, reason)

    if today <= until:
        return decision(False, f"within its retention period (kept until {until:%d/%m/%Y})")
    past = f"past its retention period (ended {until:%d/%m/%Y})"
    if facts.holds:
        held = "; ".join(f"{h.kind} hold #{h.id}: {h.reason}" for h in facts.holds)
        return decision(False, f"{past}, but on hold: {held}")
    if policy.keep_while_audit_open and facts.open_audits:
        return decision(False, f"{past}, but an audit that sampled it is open: {'; '.join(facts.open_audits)}")
    return decision(True, f"{past}: the session was on {facts.recorded_on:%d/%m/%Y}, kept {policy.keep_after_session}")
