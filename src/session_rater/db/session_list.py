"""The Sessions list at any scale: one page of recorded sessions, filtered and counted in the
database (never every recording loaded to show fifty), the choices its filters offer, and a
person's own self-assessment status of the sessions on that page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from session_rater.db import models as m
from session_rater.db.recordings import Reach
from session_rater.db.rows import StoreBase, recording_view
from session_rater.domain.model import Capacity, RatingStatus
from session_rater.domain.records import RecordingView


@dataclass(frozen=True)
class SessionFacets:
    """What the Sessions filters can offer within a person's reach, from aggregate queries."""

    total: int
    programmes: tuple[str, ...]
    sites: tuple[str, ...]
    tutors: tuple[tuple[int, str], ...]  # (person id, name), by name
    first: dt.date | None
    last: dt.date | None


class SessionListStore(StoreBase):
    @staticmethod
    def _session_conditions(within: Reach | None, *, programmes: Sequence[str] = (), sites: Sequence[str] = (),
                            tutor_id: int | None = None, date_from: dt.date | None = None,
                            date_to: dt.date | None = None, catch_up: bool | None = None) -> list:  # type: ignore[type-arg]  # fmt: skip
        where = [] if within is None else [within.condition()]
        if programmes:
            where.append(m.Recording.programme.in_(list(programmes)))
        if sites:
            where.append(m.Recording.site.in_(list(sites)))
        if tutor_id is not None:
            delivered = select(m.RecordingTutor.recording_id).where(m.RecordingTutor.person_id == tutor_id)
            where.append(m.Recording.id.in_(delivered))
        if date_from is not None:
            where.append(m.Recording.recorded_on >= date_from)
        if date_to is not None:
            where.append(m.Recording.recorded_on <= date_to)
        if catch_up is not None:
            where.append(m.Recording.is_catch_up.is_(catch_up))
        return where

    def session_facets(self, within: Reach | None = None) -> SessionFacets:
        """The number of sessions in reach, their programmes, sites, tutors and date range."""
        where = self._session_conditions(within)
        with self._sessions() as s:
            total, first, last = s.execute(
                select(func.count(), func.min(m.Recording.recorded_on), func.max(m.Recording.recorded_on)).where(*where)
            ).one()
            programmes = s.scalars(select(m.Recording.programme).where(*where).distinct().order_by(m.Recording.programme))
            sites = s.scalars(select(m.Recording.site).where(*where).distinct().order_by(m.Recording.site))
            in_reach = select(m.Recording.id).where(*where)
            tutors = s.execute(
                select(m.Person.id, m.Person.display_name)
                .where(m.Person.id.in_(select(m.RecordingTutor.person_id)
                                       .where(m.RecordingTutor.recording_id.in_(in_reach))))
                .order_by(m.Person.display_name, m.Person.id)
            ).all()  # fmt: skip
            return SessionFacets(int(total), tuple(programmes), tuple(sites), tuple((i, n) for i, n in tutors),
                                 first, last)  # fmt: skip

    def session_page(self, within: Reach | None = None, *, offset: int = 0, limit: int = 50,
                     **filters: object) -> tuple[int, list[RecordingView]]:  # fmt: skip
        """(how many sessions pass the filters, the ``limit`` of them from ``offset``), newest
        first: a count and one page, both selected in SQL."""
        where = self._session_conditions(within, **filters)  # type: ignore[arg-type]
        with self._sessions() as s:
            total = s.scalar(select(func.count()).select_from(m.Recording).where(*where)) or 0
            query = (select(m.Recording).where(*where)
                     .order_by(m.Recording.recorded_on.desc(), m.Recording.id.desc()).offset(max(offset, 0)).limit(limit))
            return int(total), [recording_view(r) for r in s.scalars(query).unique()]

    def own_self_assessments(self, person_id: int, recording_ids: Iterable[int]) -> dict[int, str]:
        """recording id -> the state of ``person_id``'s self-assessment of their own delivery
        ("draft", "submitted", or "correction" for a submitted one being corrected); sessions
        they have not started are left out."""
        ids = list(recording_ids)
        if not ids:
            return {}
        with self._sessions() as s:
            rows = s.execute(
                select(m.Rating.recording_id, m.Rating.version, m.Rating.status)
                .where(m.Rating.rater_id == person_id, m.Rating.capacity == Capacity.SELF_ASSESSMENT.value,
                       (m.Rating.tutor_id == person_id) | m.Rating.tutor_id.is_(None),
                       m.Rating.recording_id.in_(ids))
                .order_by(m.Rating.recording_id, m.Rating.version)
            ).all()  # fmt: skip
        state: dict[int, str] = {}
        for recording_id, version, status in rows:  # the newest version last
            if status == RatingStatus.SUBMITTED.value:
                state[recording_id] = "submitted"
            else:
                state[recording_id] = "correction" if version > 1 else "draft"
        return state
