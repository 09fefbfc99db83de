"""Shared by the parts of the Store: ORM rows to frozen views, the audit entry, the row-or-NotFound
lookup, and the base that holds the engine and its sessions."""

from __future__ import annotations

from typing import Final

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from session_rater.db import models as m
from session_rater.db.audit_models import AuditEntry
from session_rater.db.engine import make_sessionmaker
from session_rater.domain.model import Capacity, RatingStatus
from session_rater.domain.records import (
    ItemScoreView,
    PersonView,
    RatingView,
    RecordingView,
)
from session_rater.domain.rubric import (
    Rubric,
)
from session_rater.errors import (
    NotFoundError,
)


class Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset()


def person_view(p: m.Person) -> PersonView:
    return PersonView(p.id, p.display_name, p.email, frozenset(p.role_names), p.is_demo)


def recording_view(r: m.Recording) -> RecordingView:
    return RecordingView(
        id=r.id,
        file_path=r.file_path,
        programme=r.programme,
        group_name=r.group_name,
        session_number=r.session_number,
        session_title=r.session_title,
        recorded_on=r.recorded_on,
        site=r.site,
        area=r.area,
        team=r.team,
        is_catch_up=r.is_catch_up,
        is_demo=r.is_demo,
        duration_seconds=r.duration_seconds,
        tutors=tuple(person_view(t.person) for t in r.tutors),
        files_deleted_at=r.files_deleted_at,
        files_deleted_note=r.files_deleted_note,
    )


def rating_view(r: m.Rating) -> RatingView:
    return RatingView(
        id=r.id,
        recording_id=r.recording_id,
        tutor_id=r.tutor_id,
        rater_id=r.rater_id,
        rubric_id=r.rubric_id,
        rubric_version=r.rubric_version,
        capacity=Capacity(r.capacity),
        status=RatingStatus(r.status),
        started_at=r.started_at,
        updated_at=r.updated_at,
        submitted_at=r.submitted_at,
        is_demo=r.is_demo,
        scores={s.item_id: score_view(s) for s in r.scores},
        version=r.version,
        supersedes_id=r.supersedes_id,
        correction_reason=r.correction_reason,
        is_current=r.is_current,
        is_blind=r.is_blind,
        confirmed_uniform=r.confirmed_uniform,
    )


def score_view(s: m.ItemScore) -> ItemScoreView:
    return ItemScoreView(s.item_id, s.score, s.not_applicable, s.evidence, s.moment_seconds, s.revision)


def score_state(s: m.ItemScore | None) -> dict[str, object] | None:
    if s is None:
        return None
    return {"item_id": s.item_id, "score": s.score, "not_applicable": s.not_applicable,
            "evidence": s.evidence, "moment_seconds": s.moment_seconds}


def audit(session: Session, actor_id: int | None, entity: str, entity_id: int, rating_id: int,
           action: str, before: dict | None, after: dict | None) -> None:  # type: ignore[type-arg]
    session.add(AuditEntry(actor_id=actor_id, entity=entity, entity_id=entity_id, rating_id=rating_id,
                           action=action, before=before, after=after))


WHAT = {m.Person: "person", m.Recording: "recorded session", m.Rating: "rating"}


def get_row(session: Session, model: type[m.Base], key: int, *, for_update: bool = False):  # type: ignore[no-untyped-def]
    """The row with primary key ``key``, or NotFoundError naming what was looked for."""
    row = session.get(model, key, with_for_update=for_update)
    if row is None:
        raise NotFoundError(f"There is no {WHAT[model]} with id {key}.")
    return row


def same_form(rating: m.Rating) -> tuple:  # type: ignore[type-arg]
    """Conditions selecting every version of ``rating``'s form."""
    tutor = m.Rating.tutor_id.is_(None) if rating.tutor_id is None else m.Rating.tutor_id == rating.tutor_id
    return (m.Rating.recording_id == rating.recording_id, tutor, m.Rating.rater_id == rating.rater_id,
            m.Rating.capacity == rating.capacity)



class StoreBase:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions: sessionmaker[Session] = make_sessionmaker(engine)
        self._rubric_cache: dict[tuple[str, str], Rubric] = {}
