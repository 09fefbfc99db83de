"""What is stored, as plain frozen values: people, recorded sessions, ratings and their item
scores, audit entries. Storage returns these (never ORM objects), and pages, commands and
reports read them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from session_rater.domain.model import Capacity, RatingStatus, Role


@dataclass(frozen=True)
class PersonView:
    id: int
    display_name: str
    email: str | None
    roles: frozenset[str]
    is_demo: bool

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles



@dataclass(frozen=True)
class RecordingSpec:
    """What is known of a recording before it is stored."""

    file_path: str
    programme: str
    group_name: str
    session_number: int
    session_title: str
    recorded_on: dt.date
    site: str
    is_catch_up: bool = False
    area: str | None = None
    team: str | None = None
    duration_seconds: float | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class RecordingView:
    id: int
    file_path: str
    programme: str
    group_name: str
    session_number: int
    session_title: str
    recorded_on: dt.date
    site: str
    area: str | None
    is_catch_up: bool
    is_demo: bool
    team: str | None
    duration_seconds: float | None
    tutors: tuple[PersonView, ...]
    files_deleted_at: dt.datetime | None = None  # by the retention policy (its scores are kept)
    files_deleted_note: str | None = None

    @property
    def label(self) -> str:
        return f"{self.group_name} · session {self.session_number}: {self.session_title}"


@dataclass(frozen=True)
class ItemScoreView:
    item_id: str
    score: int | None
    not_applicable: bool
    evidence: str
    moment_seconds: float | None
    revision: int = 0  # how many times it has been saved: detects a stale edit

    @property
    def is_answered(self) -> bool:
        return self.score is not None or self.not_applicable


@dataclass(frozen=True)
class AuditView:
    id: int
    at: dt.datetime
    actor_id: int | None
    entity: str
    entity_id: int
    rating_id: int | None
    action: str
    before: dict | None  # type: ignore[type-arg]
    after: dict | None  # type: ignore[type-arg]


@dataclass(frozen=True)
class RatingView:
    id: int
    recording_id: int
    tutor_id: int | None
    rater_id: int
    rubric_id: str
    rubric_version: str
    capacity: Capacity
    status: RatingStatus
    started_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    is_demo: bool
    scores: dict[str, ItemScoreView] = field(default_factory=dict)
    version: int = 1
    supersedes_id: int | None = None
    correction_reason: str | None = None
    is_current: bool = True
    is_blind: bool = True
    confirmed_uniform: bool = False

    @property
    def is_submitted(self) -> bool:
        return self.status is RatingStatus.SUBMITTED


@dataclass(frozen=True)
class Scope:
    """What a person's roles reach beyond their own sessions."""

    managed_teams: frozenset[tuple[str, str]] = frozenset()
    areas: frozenset[str] = frozenset()
    assigned_recordings: frozenset[int] = frozenset()  # for external assessment
    monitoring_assignments: frozenset[int] = frozenset()  # drawn for monitoring (regular or catch-up)


@dataclass(frozen=True)
class AccountView:
    person: PersonView
    active: bool
    has_password: bool
    oidc_subject: str | None
    scope: Scope


@dataclass(frozen=True)
class AssignmentView:
    person_id: int
    recording_id: int
    assigned_by: int | None
    assigned_at: dt.datetime
    withdrawn_at: dt.datetime | None


@dataclass(frozen=True)
class LogEntry:
    """One line of the audit log or of the recording access log, for administrators."""

    at: dt.datetime
    actor_id: int | None
    entity: str
    entity_id: int | None
    action: str
    before: dict | None  # type: ignore[type-arg]
    after: dict | None  # type: ignore[type-arg]
