"""The work a draw creates, as plain values: the draws made, each assignment of a session to a
rater under a rule, and a rater's queue of sessions to rate with how far they have got."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from session_rater.domain.model import Capacity
from session_rater.domain.sampling.policy import Rule, Selection


@dataclass(frozen=True)
class DrawView:
    id: int
    policy_name: str
    policy_version: str
    seed: int
    drawn_on: dt.date
    drawn_at: dt.datetime
    drawn_by: int | None
    dry_run: bool
    policy: dict[str, Any]
    shortfalls: tuple[str, ...]
    assignments: int


@dataclass(frozen=True)
class AssignmentView:
    id: int
    draw_id: int
    policy_name: str
    recording_id: int
    rule: Rule
    reason: str
    rater_id: int | None
    second_rater_id: int | None
    due_on: dt.date | None
    created_at: dt.datetime

    def as_selection(self) -> Selection:
        return Selection(self.recording_id, self.rule, self.reason, self.rater_id, self.second_rater_id, self.due_on)


class QueueStatus:
    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    SUBMITTED = "submitted"


class TutorStatus:
    """How far a rater has got with one tutor of a session (co-tutors are rated separately)."""

    NOT_STARTED = "not started"
    DRAFT = "draft"
    SUBMITTED = "submitted"


@dataclass(frozen=True)
class TutorProgress:
    """One tutor of a queued session, and the rater's form for them."""

    tutor_id: int | None  # None: a form for the session as a whole (a session with no tutor named)
    name: str
    status: str  # a TutorStatus


@dataclass(frozen=True)
class QueueItem:
    """One session a rater is due to rate, and how far they have got."""

    assignment_id: int
    draw_id: int
    policy_name: str
    rule: Rule
    rater_id: int
    as_second_rater: bool
    recording_id: int
    label: str
    programme: str
    group_name: str
    session_number: int
    recorded_on: dt.date
    site: str
    area: str | None
    reason: str
    due_on: dt.date | None
    ratings_started: int
    ratings_submitted: int
    status: str
    overdue: bool
    tutors: tuple[TutorProgress, ...] = ()
    """Each tutor of the session, in delivery order, with this rater's progress on them."""

    @property
    def capacity(self) -> Capacity:
        return self.rule.capacity

    @property
    def next_tutor(self) -> TutorProgress | None:
        """The tutor to open next: one with a draft to finish, else the first not started, else
        (all submitted) the first tutor, to view."""
        for wanted in (TutorStatus.DRAFT, TutorStatus.NOT_STARTED):
            found = next((t for t in self.tutors if t.status == wanted), None)
            if found is not None:
                return found
        return self.tutors[0] if self.tutors else None
