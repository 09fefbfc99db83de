"""Recorded sessions: add, list (within a person's reach, selected in SQL), look up, and their
ratings counted per capacity and status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, cast, false, func, or_, select, true

from session_rater.db import models as m
from session_rater.db.rows import (
    StoreBase,
    audit,
    get_row,
    recording_view,
)
from session_rater.domain.model import RatingStatus
from session_rater.domain.records import (
    PersonView,
    RecordingSpec,
    RecordingView,
)


_CHUNK = 5000  # ids per IN (...): under the databases' bound-parameter limits


@dataclass(frozen=True)
class Reach:
    """The sessions a person's scope reaches, as SQL: the same rule as domain.access.reaches
    (which Permitted applies again to what this selects)."""

    person_id: int
    areas: frozenset[str] = frozenset()
    teams: frozenset[tuple[str, str]] = frozenset()
    recordings: frozenset[int] = frozenset()

    def condition(self):  # type: ignore[no-untyped-def]
        delivered = select(m.RecordingTutor.recording_id).where(m.RecordingTutor.person_id == self.person_id)
        area = func.coalesce(m.Recording.area, "")
        parts = [m.Recording.id.in_(delivered)]
        if self.areas:
            parts.append(area.in_(sorted(self.areas)))
        parts += [and_(area == a, m.Recording.team == t) for a, t in sorted(self.teams)]
        if self.recordings:
            parts.append(m.Recording.id.in_(sorted(self.recordings)))
        return or_(*parts)


@dataclass(frozen=True)
class Narrowed(Reach):
    """A person's reach (or every session: ``everyone``) narrowed to what one report shows: the
    sessions of ``area``, of the ``of_teams`` or ``of_recordings`` (either), recorded between
    ``date_from`` and ``date_to`` (ends included; None: open). Every query that takes a
    :class:`Reach` as ``within`` takes one, so a report reads its area or period, not the country."""

    everyone: bool = False
    area: str | None = None
    of_teams: frozenset[tuple[str, str]] | None = None
    of_recordings: frozenset[int] = frozenset()
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def of(cls, reach: Reach | None, **narrower: Any) -> Narrowed:
        """``reach`` (None: every session, as for an administrator) narrowed by ``narrower``."""
        if reach is None:
            return cls(0, everyone=True, **narrower)
        return cls(reach.person_id, reach.areas, reach.teams, reach.recordings, **narrower)

    def condition(self):  # type: ignore[no-untyped-def]
        r = m.Recording
        parts = [] if self.everyone else [super().condition()]
        if self.area is not None:
            parts.append(func.coalesce(r.area, "") == self.area)
        if self.of_teams is not None:
            area = func.coalesce(r.area, "")
            either = [and_(area == a, r.team == t) for a, t in sorted(self.of_teams)]
            if self.of_recordings:
                either.append(r.id.in_(sorted(self.of_recordings)))
            parts.append(or_(*either) if either else false())
        if self.date_from is not None:
            parts.append(r.recorded_on >= self.date_from)
        if self.date_to is not None:
            parts.append(r.recorded_on <= self.date_to)
        return and_(*parts) if parts else true()


_RECORDING_COLUMNS = ("id", "file_path", "programme", "group_name", "session_number", "session_title", "recorded_on",
                      "site", "area", "is_catch_up", "is_demo", "team", "duration_seconds", "files_deleted_at",
                      "files_deleted_note")  # fmt: skip


def _recording_views(s: Any, where: list[Any], order_by: list[Any]) -> list[RecordingView]:
    """The recordings matching ``where``, as views (with their tutors in delivery order and
    the tutors' roles), from plain rows: what :func:`recording_view` makes of ORM objects."""
    r, rt, p = m.Recording, m.RecordingTutor, m.Person
    ids = select(r.id).where(*where)
    rows = s.execute(select(*(getattr(r, c) for c in _RECORDING_COLUMNS)).where(*where).order_by(*order_by)).all()
    if not rows:
        return []
    everyone = not where
    tutor_query = (select(rt.recording_id, p.id, p.display_name, p.email, p.is_demo)
                   .join(p, p.id == rt.person_id).order_by(rt.recording_id, rt.position))  # fmt: skip
    role_query = select(m.PersonRole.person_id, m.PersonRole.role)
    if not everyone:
        tutor_query = tutor_query.where(rt.recording_id.in_(ids))
        role_query = role_query.where(m.PersonRole.person_id.in_(select(rt.person_id).where(rt.recording_id.in_(ids))))
    roles: dict[int, set[str]] = {}
    for person_id, role in s.execute(role_query):
        roles.setdefault(person_id, set()).add(role)
    people: dict[int, PersonView] = {}
    tutors: dict[int, list[PersonView]] = {}
    for recording_id, pid, name, email, demo in s.execute(tutor_query):
        if pid not in people:
            people[pid] = PersonView(pid, name, email, frozenset(roles.get(pid, ())), bool(demo))
        tutors.setdefault(recording_id, []).append(people[pid])
    views = []
    for row in rows:
        fields = dict(zip(_RECORDING_COLUMNS, row, strict=True))
        fields["is_catch_up"], fields["is_demo"] = bool(fields["is_catch_up"]), bool(fields["is_demo"])
        views.append(RecordingView(**fields, tutors=tuple(tutors.get(fields["id"], ()))))
    return views


class RecordingStore(StoreBase):
    # -- recordings -----------------------------------------------------------------------
    def add_recording(self, spec: RecordingSpec, tutor_ids: Sequence[int], *, is_demo: bool = False) -> RecordingView:
        with self._sessions.begin() as s:
            recording = m.Recording(
                file_path=spec.file_path,
                programme=spec.programme,
                group_name=spec.group_name,
                session_number=spec.session_number,
                session_title=spec.session_title,
                recorded_on=spec.recorded_on,
                site=spec.site,
                area=spec.area,
                team=spec.team,
                is_catch_up=spec.is_catch_up,
                duration_seconds=spec.duration_seconds,
                content_hash=spec.content_hash,
                is_demo=is_demo,
            )
            recording.tutors = [
                m.RecordingTutor(person_id=pid, position=i) for i, pid in enumerate(tutor_ids)
            ]
            s.add(recording)
            s.flush()
            s.refresh(recording)
            return recording_view(recording)

    def log_recording_event(self, recording_id: int, action: str, after: dict[str, object], *, by: int | None) -> None:
        """An administrator's change to a recording's files (e.g. captions added) in the audit log."""
        with self._sessions.begin() as s:
            get_row(s, m.Recording, recording_id)
            audit(s, by, "recording", recording_id, None, action, None, after)  # type: ignore[arg-type]

    def list_recordings(self, *, within: Reach | None = None) -> list[RecordingView]:
        """Every recorded session, newest first; only those ``within`` reaches when given (the
        selection is made in SQL, so a tutor's list does not load a whole country's). Plain
        rows in three queries, no ORM objects: 20,006 recordings took 2-3 s of CPU through the
        ORM, and several pages read them on every run."""
        where = [] if within is None else [within.condition()]
        with self._sessions() as s:
            return _recording_views(s, where, [m.Recording.recorded_on.desc(), m.Recording.id])

    def recordings_by_id(self, recording_ids: Iterable[int], *, within: Reach | None = None) -> dict[int, RecordingView]:
        """The recordings of ``recording_ids`` (those ``within`` reaches, when given), by id: what a
        page shows, read by id in SQL (never the whole list to show a few)."""
        ids = sorted(set(recording_ids))
        found: dict[int, RecordingView] = {}
        with self._sessions() as s:
            for start in range(0, len(ids), _CHUNK):
                query = select(m.Recording).where(m.Recording.id.in_(ids[start : start + _CHUNK]))
                if within is not None:
                    query = query.where(within.condition())
                found.update((r.id, recording_view(r)) for r in s.scalars(query).unique())
        return found

    def reachable_ids(self, recording_ids: Iterable[int], within: Reach | None) -> set[int]:
        """Which of ``recording_ids`` exist and ``within`` reaches (every one that exists: None)."""
        ids = sorted(set(recording_ids))
        found: set[int] = set()
        with self._sessions() as s:
            for start in range(0, len(ids), _CHUNK):
                query = select(m.Recording.id).where(m.Recording.id.in_(ids[start : start + _CHUNK]))
                if within is not None:
                    query = query.where(within.condition())
                found.update(s.scalars(query))
        return found

    def kept_recording_files(self) -> list[tuple[int, str, str]]:
        """(id, label, file path as stored) of every recording whose files are kept (not
        deleted under the retention policy): what a check for missing files reads, three plain
        columns and no tutors (every recording's view took 0.7-1 s at 20,006 recordings)."""
        r = m.Recording
        query = (select(r.id, r.group_name, r.session_number, r.session_title, r.file_path)
                 .where(r.files_deleted_at.is_(None)).order_by(r.recorded_on.desc(), r.id))  # fmt: skip
        with self._sessions() as s:
            return [(rid, f"{group} · session {number}: {title}", path) for rid, group, number, title, path in s.execute(query)]

    def count_recordings(self, within: Reach | None = None) -> int:
        """How many recorded sessions ``within`` reaches (all: None), counted in SQL."""
        with self._sessions() as s:
            query = select(func.count()).select_from(m.Recording)
            if within is not None:
                query = query.where(within.condition())
            return int(s.scalar(query) or 0)

    def search_recordings(self, text: str = "", *, within: Reach | None = None, limit: int = 50) -> list[RecordingView]:
        """At most ``limit`` recorded sessions ``within`` reach whose group, title, site, area,
        team, date (YYYY-MM-DD) or a tutor's name contains ``text`` (any case), newest first: a
        session picker's choices, selected in SQL."""
        r = m.Recording
        newest = [r.recorded_on.desc(), r.id.desc()]
        query = select(r.id).order_by(*newest).limit(limit)
        if within is not None:
            query = query.where(within.condition())
        needle = text.strip().lower()
        if needle:
            like = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            tutored = (select(m.RecordingTutor.recording_id).join(m.Person, m.Person.id == m.RecordingTutor.person_id)
                       .where(func.lower(m.Person.display_name).like(like, escape="\\")))  # fmt: skip
            fields = [r.group_name, r.session_title, r.site, r.area, r.team, r.programme]
            parts = [func.lower(func.coalesce(f, "")).like(like, escape="\\") for f in fields]
            day = needle.split("/")
            iso = "-".join(reversed(day)) if len(day) > 1 and all(d.isdigit() for d in day) else needle
            parts.append(cast(r.recorded_on, String).like(f"%{iso}%"))
            if needle.isdigit():
                parts.append(r.id == int(needle))
            query = query.where(or_(*parts, r.id.in_(tutored)))
        with self._sessions() as s:  # the ids in SQL, then plain rows (50-200 ORM recordings took 0.1-0.3 s a picker)
            ids = list(s.scalars(query))
            return _recording_views(s, [r.id.in_(ids)], newest) if ids else []

    def recording_areas(self) -> list[str]:
        """The areas of every recorded session ("" where none is recorded), sorted: one DISTINCT
        query, not every recording read to list a dozen areas."""
        with self._sessions() as s:
            return sorted(s.scalars(select(func.coalesce(m.Recording.area, "")).distinct()))

    def recorded_dates(self, within: Reach | None = None) -> list[dt.date]:
        """The distinct days sessions ``within`` reach were recorded on, sorted (a report's
        choice of periods), read in SQL."""
        query = select(m.Recording.recorded_on).distinct()
        if within is not None:
            query = query.where(within.condition())
        with self._sessions() as s:
            return sorted(s.scalars(query))

    def get_recording(self, recording_id: int) -> RecordingView:
        with self._sessions() as s:
            return recording_view(get_row(s, m.Recording, recording_id))

    def recording_file_path(self, recording_id: int) -> str | None:
        """Where the recording's file is (as stored; None: no such recording), in one query:
        the recording route asks it on every request."""
        with self._sessions() as s:
            return s.scalar(select(m.Recording.file_path).where(m.Recording.id == recording_id))

    def rating_counts(self, recording_ids: Iterable[int] | None = None) -> dict[int, dict[tuple[str, str], int]]:
        """recording id -> {(capacity, status): number of ratings} (of ``recording_ids``; default all)."""
        with self._sessions() as s:
            query = (
                select(m.Rating.recording_id, m.Rating.capacity, m.Rating.status, func.count())
                .where((m.Rating.is_current.is_(True)) | (m.Rating.status == RatingStatus.DRAFT.value))
                .group_by(m.Rating.recording_id, m.Rating.capacity, m.Rating.status)
            )
            if recording_ids is not None:
                query = query.where(m.Rating.recording_id.in_(list(recording_ids)))
            rows = s.execute(query).all()
        counts: dict[int, dict[tuple[str, str], int]] = {}
        for recording_id, capacity, status, n in rows:
            counts.setdefault(recording_id, {})[(capacity, status)] = n
        return counts
