"""Storage of sampling: the roster the sampler reads, the draws it saves, and the work queues.

Like :class:`~session_rater.db.store.Store` it returns plain frozen views, never ORM objects.
It enforces what protects a sample whoever calls it: a draw is saved whole or not at all; an
assignment is only ever added, never deleted or rewritten (a top-up adds what is missing); a
session is drawn at most once per rule of a policy; and nobody is assigned a session they
delivered (checked again here, against the database, whatever the sampler said).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, case, distinct, extract, false, func, insert, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from session_rater.db import models as m
from session_rater.db.accounts_models import ManagedTeam, PersonArea
from session_rater.db import benchmark_models as bm
from session_rater.db import sampling_models as sm
from session_rater.db.engine import make_sessionmaker
from session_rater.db.recordings import Reach
from session_rater.domain.coverage import AssignmentStatus, CoverageCount, MonitoredSession
from session_rater.domain.model import Capacity, RatingStatus
from session_rater.domain.sampling import (
    Draw,
    PersonFacts,
    Rule,
    Selection,
    SessionFacts,
)
from session_rater.domain.sampling.work import AssignmentView, DrawView, QueueItem, QueueStatus, TutorStatus
from session_rater.errors import NotFoundError, SamplingError

__all__ = ["AssignmentView", "DrawView", "QueueItem", "SamplingError", "SamplingStore"]


def _in_reach(within: Reach) -> Any:
    """The ids of the recorded sessions ``within`` reaches, as a subquery."""
    return select(m.Recording.id).where(within.condition())


@dataclass(frozen=True)
class _Progress:
    """An assignment's rater's progress, as SQL over the ratings joined to it (grouped by
    assignment): the capacity the assignment asks, forms per tutor submitted, session-level
    forms submitted, drafts open, and the session's tutors."""

    capacity: Any
    tutors_done: Any
    session_done: Any
    drafts: Any
    tutor_count: Any


def _progress() -> _Progress:
    a, r = sm.SampleAssignment, m.Rating
    submitted = r.status == RatingStatus.SUBMITTED.value
    return _Progress(
        capacity=case((a.rule == Rule.EXTERNAL_AUDIT.value, Capacity.EXTERNAL.value), else_=Capacity.MONITORING.value),
        tutors_done=func.count(distinct(case((submitted & r.tutor_id.is_not(None), r.tutor_id)))),
        session_done=func.coalesce(func.sum(case((submitted & r.tutor_id.is_(None), 1), else_=0)), 0),
        drafts=func.coalesce(func.sum(case((r.status == RatingStatus.DRAFT.value, 1), else_=0)), 0),
        # A correlated count (the primary key's index, per assignment), not a join to a grouped
        # subquery: SQLite scanned that subquery once per assignment (55 s for 18,605 of them).
        tutor_count=select(func.count()).select_from(m.RecordingTutor)
        .where(m.RecordingTutor.recording_id == a.recording_id).scalar_subquery(),
    )  # fmt: skip


def _recording_label(group_name: str, session_number: int, title: str) -> str:
    return f"{group_name} · session {session_number}: {title}"


def _submissions(owner_column: Any, policy_name: str | None = None, within: Reach | None = None,
                 recorded_before: dt.date | None = None) -> Any:  # fmt: skip
    """Per assignment with a rating started by its rater in ``owner_column``: the tutors with a
    submitted rating, the submitted whole-session ratings, the drafts and the session's tutors
    (the rule of :meth:`SamplingStore.work_queues`, over that rater's ratings of the session)."""
    a, r = sm.SampleAssignment, m.Rating
    p = _progress()
    capacity = p.capacity
    query = (
        select(a.id, p.tutors_done.label("tutors_done"), p.session_done.label("session_done"),
               p.drafts.label("drafts"), p.tutor_count.label("n_tutors"))
        .join(r, and_(r.recording_id == a.recording_id, r.rater_id == owner_column, r.capacity == capacity))
        .group_by(a.id)
    )  # fmt: skip
    return _narrowed(query, policy_name, within, recorded_before)


def _narrowed(query: Any, policy_name: str | None, within: Reach | None, recorded_before: dt.date | None) -> Any:
    """``query`` over assignments, kept to one policy's, to sessions ``within`` reaches and to
    sessions recorded before a day, where given."""
    a = sm.SampleAssignment
    if policy_name is not None:
        query = query.where(a.policy_name == policy_name)
    if within is not None:
        query = query.where(a.recording_id.in_(_in_reach(within)))
    if recorded_before is not None:
        query = query.where(a.recording_id.in_(select(m.Recording.id).where(m.Recording.recorded_on < recorded_before)))
    return query


def open_assignments(recorded_before: dt.date | None = None) -> Any:
    """The sample assignments (of sessions recorded before ``recorded_before``, when given)
    still awaiting a submitted rating: a rater not yet chosen or not done, or a second rater
    chosen and not done. Columns id, recording_id, rule, due_on; selected in SQL with the rule
    :meth:`SamplingStore.assignment_statuses` applies in Python (a retention review counts and
    pages the sessions these keep without reading every assignment)."""
    a = sm.SampleAssignment

    def done(owner_column: Any) -> Any:
        sub = _submissions(owner_column, recorded_before=recorded_before).subquery()
        finished = and_(or_(sub.c.session_done > 0, and_(sub.c.n_tutors > 0, sub.c.tutors_done >= sub.c.n_tutors)),
                        sub.c.drafts == 0)  # fmt: skip
        return select(sub.c.id).where(finished)

    waiting = or_(a.rater_id.is_(None), a.id.not_in(done(a.rater_id)),
                  and_(a.second_rater_id.is_not(None), a.id.not_in(done(a.second_rater_id))))  # fmt: skip
    query = select(a.id, a.recording_id, a.rule, a.due_on).where(waiting)
    if recorded_before is not None:
        query = query.where(a.recording_id.in_(select(m.Recording.id).where(m.Recording.recorded_on < recorded_before)))
    return query


class SamplingStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions: sessionmaker[Session] = make_sessionmaker(engine)

    # -- what the sampler reads -----------------------------------------------------------
    def roster(self, within: Reach | None = None) -> list[SessionFacts]:
        """Every recorded session with its tutors (in delivery order), by recording id; only
        those ``within`` reaches when given (selected in SQL)."""
        with self._sessions() as s:
            tutors: dict[int, list[int]] = defaultdict(list)
            tutor_query = select(m.RecordingTutor.recording_id, m.RecordingTutor.person_id).order_by(
                m.RecordingTutor.recording_id, m.RecordingTutor.position
            )
            if within is not None:
                tutor_query = tutor_query.where(m.RecordingTutor.recording_id.in_(_in_reach(within)))
            for recording_id, person_id in s.execute(tutor_query):
                tutors[recording_id].append(person_id)
            query = select(
                m.Recording.id, m.Recording.programme, m.Recording.group_name, m.Recording.area,
                m.Recording.site, m.Recording.session_number, m.Recording.recorded_on, m.Recording.is_catch_up,
            ).order_by(m.Recording.id)  # fmt: skip
            if within is not None:
                query = query.where(within.condition())
            rows = s.execute(query).all()
        return [
            SessionFacts(rid, programme, group, area, site, number, recorded_on, bool(catch_up), tuple(tutors.get(rid, ())))
            for rid, programme, group, area, site, number, recorded_on, catch_up in rows
        ]

    def people(self) -> list[PersonFacts]:
        """Everyone, with their roles and the areas they cover: those of the teams they manage
        and their programme-manager areas; any area where neither is recorded."""
        with self._sessions() as s:
            roles: dict[int, set[str]] = defaultdict(set)
            for person_id, role in s.execute(select(m.PersonRole.person_id, m.PersonRole.role)):
                roles[person_id].add(role)
            areas: dict[int, set[str]] = defaultdict(set)
            for person_id, area in s.execute(select(ManagedTeam.person_id, ManagedTeam.area)):
                areas[person_id].add(area)
            for person_id, area in s.execute(select(PersonArea.person_id, PersonArea.area)):
                areas[person_id].add(area)
            rows = s.execute(select(m.Person.id, m.Person.display_name, m.Person.active).order_by(m.Person.id)).all()
        return [PersonFacts(pid, name, frozenset(roles.get(pid, ())), frozenset(areas[pid]) if pid in areas else None,
                            bool(active)) for pid, name, active in rows]

    def previous_selections(self, policy_name: str) -> list[Selection]:
        """Everything earlier (saved, not dry-run) draws of ``policy_name`` assigned."""
        return [a.as_selection() for a in self.assignments(policy_name)]

    # -- draws ----------------------------------------------------------------------------
    def save_draw(
        self,
        draw: Draw,
        policy_snapshot: Mapping[str, Any],
        *,
        drawn_by: int | None = None,
        dry_run: bool = False,
    ) -> DrawView:
        """Save the draw and add its new selections as assignments, in one transaction.

        ``draw.previous`` must be exactly what the database holds for the policy: if another
        draw was saved in between, nothing is saved and :class:`SamplingError` says to draw
        again. A dry run is recorded (for the audit trail) without assignments.
        """
        if (policy_snapshot.get("name"), policy_snapshot.get("version")) != (draw.policy_name, draw.policy_version):
            raise SamplingError(
                f"the policy snapshot is {policy_snapshot.get('name')!r} v{policy_snapshot.get('version')}, "
                f"but the draw was made under {draw.policy_name!r} v{draw.policy_version}"
            )
        try:
            with self._sessions.begin() as s:
                held = {
                    (rule, recording_id)
                    for rule, recording_id in s.execute(
                        select(sm.SampleAssignment.rule, sm.SampleAssignment.recording_id).where(
                            sm.SampleAssignment.policy_name == draw.policy_name
                        )
                    )
                }
                if held != {(str(p.rule), p.recording_id) for p in draw.previous}:
                    raise SamplingError(
                        f"the sample of policy {draw.policy_name!r} changed since this draw was made "
                        f"(it now holds {len(held)} assignment(s), the draw was made on top of "
                        f"{len(draw.previous)}); nothing was saved: draw again"
                    )
                if not dry_run:
                    self._check_conflicts(s, draw.selections)
                row = sm.SampleDraw(
                    policy_name=draw.policy_name,
                    policy_version=draw.policy_version,
                    seed=draw.seed,
                    drawn_on=draw.drawn_on,
                    drawn_by=drawn_by,
                    dry_run=dry_run,
                    policy=dict(policy_snapshot),
                    shortfalls=list(draw.shortfalls),
                )
                s.add(row)
                s.flush()
                if draw.selections and not dry_run:
                    now = m.utcnow()
                    s.execute(
                        insert(sm.SampleAssignment),
                        [
                            {
                                "draw_id": row.id,
                                "policy_name": draw.policy_name,
                                "recording_id": sel.recording_id,
                                "rule": str(sel.rule),
                                "reason": sel.reason,
                                "rater_id": sel.rater_id,
                                "second_rater_id": sel.second_rater_id,
                                "due_on": sel.due_on,
                                "created_at": now,
                            }
                            for sel in draw.selections
                        ],
                    )
                return self._draw_view(row, 0 if dry_run else len(draw.selections))
        except IntegrityError as exc:
            raise SamplingError(
                f"the draw could not be saved ({exc.orig.__class__.__name__}): a session is already drawn "
                "under the same rule, or a person or recording no longer exists; nothing was saved: draw again"
            ) from None

    @staticmethod
    def _check_conflicts(s: Session, selections: Sequence[Selection]) -> None:
        recordings = {sel.recording_id for sel in selections}
        delivered: dict[int, set[int]] = defaultdict(set)
        ids = sorted(recordings)
        for start in range(0, len(ids), 5000):  # stay under the databases' bound-parameter limits
            for recording_id, person_id in s.execute(
                select(m.RecordingTutor.recording_id, m.RecordingTutor.person_id).where(
                    m.RecordingTutor.recording_id.in_(ids[start : start + 5000])
                )
            ):
                delivered[recording_id].add(person_id)
        conflicts = [
            sel for sel in selections
            if {sel.rater_id, sel.second_rater_id} & delivered.get(sel.recording_id, set())
        ]  # fmt: skip
        if conflicts:
            first = conflicts[0]
            raise SamplingError(
                f"{len(conflicts)} assignment(s) would have a person rate a session they delivered "
                f"(e.g. recording {first.recording_id}); nothing was saved"
            )

    @staticmethod
    def _draw_view(row: sm.SampleDraw, assignments: int) -> DrawView:
        return DrawView(
            id=row.id,
            policy_name=row.policy_name,
            policy_version=row.policy_version,
            seed=row.seed,
            drawn_on=row.drawn_on,
            drawn_at=row.drawn_at,
            drawn_by=row.drawn_by,
            dry_run=row.dry_run,
            policy=dict(row.policy),
            shortfalls=tuple(row.shortfalls or ()),
            assignments=assignments,
        )

    def list_draws(self, policy_name: str | None = None) -> list[DrawView]:
        """Draws, newest first, with how many assignments each added."""
        counts = (
            select(sm.SampleAssignment.draw_id, func.count().label("n"))
            .group_by(sm.SampleAssignment.draw_id)
            .subquery()
        )
        query = (
            select(sm.SampleDraw, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.draw_id == sm.SampleDraw.id)
            .order_by(sm.SampleDraw.id.desc())
        )
        if policy_name is not None:
            query = query.where(sm.SampleDraw.policy_name == policy_name)
        with self._sessions() as s:
            return [self._draw_view(row, n) for row, n in s.execute(query)]

    def get_draw(self, draw_id: int) -> DrawView:
        for draw in self.list_draws():
            if draw.id == draw_id:
                return draw
        raise NotFoundError(f"There is no sample draw with id {draw_id}.")

    def last_policy_snapshot(self, policy_name: str) -> dict[str, Any] | None:
        """The policy definition stored with the newest saved draw of ``policy_name``."""
        with self._sessions() as s:
            snapshot = s.scalar(
                select(sm.SampleDraw.policy)
                .where(sm.SampleDraw.policy_name == policy_name, sm.SampleDraw.dry_run.is_(False))
                .order_by(sm.SampleDraw.id.desc())
                .limit(1)
            )
        return None if snapshot is None else dict(snapshot)

    def assignments(self, policy_name: str | None = None, *, within: Reach | None = None,
                    draw_id: int | None = None) -> list[AssignmentView]:  # fmt: skip
        """Assignments of saved draws in the order they were made (of sessions ``within``
        reach, of one draw, when given)."""
        query = select(sm.SampleAssignment).order_by(sm.SampleAssignment.id)
        if policy_name is not None:
            query = query.where(sm.SampleAssignment.policy_name == policy_name)
        if within is not None:
            query = query.where(sm.SampleAssignment.recording_id.in_(_in_reach(within)))
        if draw_id is not None:
            query = query.where(sm.SampleAssignment.draw_id == draw_id)
        with self._sessions() as s:
            return [
                AssignmentView(
                    a.id, a.draw_id, a.policy_name, a.recording_id, Rule(a.rule), a.reason, a.rater_id,
                    a.second_rater_id, a.due_on, a.created_at,
                )
                for a in s.scalars(query)
            ]  # fmt: skip

    # -- work queues ----------------------------------------------------------------------
    def _queue_rows(self, owner_column: Any, rater_id: int | None, within: Reach | None = None) -> list[tuple[Any, ...]]:
        a, rec, r = sm.SampleAssignment, m.Recording, m.Rating
        p = _progress()
        query = (
            select(
                a.id, a.draw_id, a.policy_name, a.rule, owner_column, a.recording_id, rec.group_name,
                rec.session_number, rec.session_title, rec.programme, rec.recorded_on, rec.site, rec.area,
                a.reason, a.due_on, func.count(r.id), p.tutors_done, p.session_done, p.drafts, p.tutor_count,
            )
            .join(rec, rec.id == a.recording_id)
            .outerjoin(r, and_(r.recording_id == a.recording_id, r.rater_id == owner_column, r.capacity == p.capacity))
            .where(owner_column.is_not(None) if rater_id is None else owner_column == rater_id)
            .group_by(a.id, rec.id)
        )  # fmt: skip
        if within is not None:
            query = query.where(within.condition())
        with self._sessions() as s:
            return [tuple(row) for row in s.execute(query)]

    @staticmethod
    def _monitored_pairs() -> Any:
        """The distinct (recording, tutor) pairs with a submitted monitoring rating (the rule of
        :meth:`monitored_sessions`), as a query."""
        r = m.Rating
        v, b = bm.ValidityAssignmentRow, bm.BenchmarkSession
        validity = (  # a validity rating (issue 10) measures the rater against the master scores: not monitoring
            select(v.id).join(b, b.id == v.benchmark_id)
            .where(v.rater_id == r.rater_id, b.recording_id == r.recording_id, b.tutor_id.is_not_distinct_from(r.tutor_id))
        )  # fmt: skip
        return (
            select(r.recording_id, r.tutor_id)
            .where(r.capacity == Capacity.MONITORING.value, r.status == RatingStatus.SUBMITTED.value,
                   r.is_current.is_(True), ~validity.exists())
            .group_by(r.recording_id, r.tutor_id)
        )  # fmt: skip

    def monitored_sessions(self, within: Reach | None = None) -> list[MonitoredSession]:
        """Every session (``within`` reach, when given) with a submitted monitoring rating (the
        version that counts), drawn or not, with the tutors so rated: the distinct (session,
        tutor) pairs, found in SQL. A rater's rating of their validity session's benchmark
        (session, tutor) is not monitoring."""
        r = m.Rating
        query = self._monitored_pairs()
        if within is not None:
            query = query.where(r.recording_id.in_(_in_reach(within)))
        tutors: dict[int, set[int]] = defaultdict(set)
        whole: set[int] = set()
        with self._sessions() as s:
            for recording_id, tutor_id in s.execute(query):
                if tutor_id is None:
                    whole.add(recording_id)
                else:
                    tutors[recording_id].add(tutor_id)
        return [MonitoredSession(rid, frozenset(tutors.get(rid, ())), rid in whole) for rid in sorted(set(tutors) | whole)]

    def rating_progress(self, rater_id: int, recording_ids: Sequence[int]) -> dict[tuple[int, int | None, str], str]:
        """(recording id, tutor id or None, capacity) -> how far ``rater_id`` has got with that
        form: TutorStatus.DRAFT while any version is a draft (a correction in progress too),
        else SUBMITTED. Forms not started are absent."""
        r = m.Rating
        drafts = func.sum(case((r.status == RatingStatus.DRAFT.value, 1), else_=0))
        query = (
            select(r.recording_id, r.tutor_id, r.capacity, drafts)
            .where(r.rater_id == rater_id, r.recording_id.in_(list(recording_ids)))
            .group_by(r.recording_id, r.tutor_id, r.capacity)
        )
        with self._sessions() as s:
            return {
                (recording_id, tutor_id, capacity): TutorStatus.DRAFT if n_drafts else TutorStatus.SUBMITTED
                for recording_id, tutor_id, capacity, n_drafts in s.execute(query)
            }

    def work_queues(self, *, today: dt.date, rater_id: int | None = None,
                    within: Reach | None = None) -> dict[int, list[QueueItem]]:  # fmt: skip
        """rater id -> what they are due to rate (as first or second rater), soonest due first.

        A session is *submitted* when the rater has submitted a form for the session as a whole
        or one for each of its tutors, with no draft left; *overdue* when it is not submitted
        and its due date is before ``today``.
        """
        queues: dict[int, list[QueueItem]] = defaultdict(list)
        for second, column in ((False, sm.SampleAssignment.rater_id), (True, sm.SampleAssignment.second_rater_id)):
            for (
                aid, draw_id, policy, rule, owner, recording_id, group_name, number, title, programme, recorded_on,
                site, area, reason, due_on, started, tutors_done, session_done, drafts, n_tutors,
            ) in self._queue_rows(column, rater_id, within):  # fmt: skip
                done = (session_done > 0 or (n_tutors > 0 and tutors_done >= n_tutors)) and drafts == 0
                status = QueueStatus.SUBMITTED if done else QueueStatus.IN_PROGRESS if started else QueueStatus.NOT_STARTED
                queues[owner].append(
                    QueueItem(
                        assignment_id=aid, draw_id=draw_id, policy_name=policy, rule=Rule(rule), rater_id=owner,
                        as_second_rater=second, recording_id=recording_id,
                        label=_recording_label(group_name, number, title), programme=programme,
                        group_name=group_name, session_number=number, recorded_on=recorded_on, site=site,
                        area=area, reason=reason, due_on=due_on, ratings_started=int(started),
                        ratings_submitted=int(tutors_done) + int(session_done), status=status,
                        overdue=not done and due_on is not None and due_on < today,
                    )
                )  # fmt: skip
        for items in queues.values():
            items.sort(key=lambda q: (q.status == QueueStatus.SUBMITTED, q.due_on or dt.date.max, q.assignment_id))
        return dict(queues)

    def work_queue(self, rater_id: int, *, today: dt.date) -> list[QueueItem]:
        """What ``rater_id`` is due to rate: unsubmitted first, soonest due first."""
        return self.work_queues(today=today, rater_id=rater_id).get(rater_id, [])

    @staticmethod
    def _done_by(owner_column: Any) -> Any:
        """(assignment id, done): whether the rater in ``owner_column`` has submitted (the rule
        of :meth:`work_queues`), for the assignments with a rating of theirs started, as a query."""
        a, r = sm.SampleAssignment, m.Rating
        p = _progress()
        done = case((and_(or_(p.session_done > 0, and_(p.tutor_count > 0, p.tutors_done >= p.tutor_count)),
                          p.drafts == 0), 1), else_=0)  # fmt: skip
        return (
            select(a.id.label("assignment_id"), done.label("done"))
            .join(r, and_(r.recording_id == a.recording_id, r.rater_id == owner_column, r.capacity == p.capacity))
            .group_by(a.id)
        )

    def coverage_counts(self, by: str, *, today: dt.date, within: Reach | None = None) -> list[CoverageCount]:
        """The coverage figures counted in SQL per ``by`` (area, site, tutor or treatment_manager)
        and month of recording, over the sessions ``within`` reach (every assignment's policy):
        the rules of :func:`~session_rater.domain.coverage.coverage_table` with ``monitored``
        given, so the page reads one row per group and month, never every session.
        :func:`~session_rater.domain.coverage.coverage_from_counts` finishes the table."""
        a, rec = sm.SampleAssignment, m.Recording
        first = self._done_by(a.rater_id).subquery("first_done")
        second = self._done_by(a.second_rater_id).subquery("second_done")
        rated = and_(a.rater_id.is_not(None), func.coalesce(first.c.done, 0) == 1)
        second_rated = and_(a.second_rater_id.is_not(None), func.coalesce(second.c.done, 0) == 1)
        late = and_(a.due_on.is_not(None), a.due_on < today)
        status = (
            select(a.recording_id, a.rule, a.rater_id, a.second_rater_id,
                   case((rated, 1), else_=0).label("rated"), case((second_rated, 1), else_=0).label("second_rated"),
                   case((late, 1), else_=0).label("late"))
            .outerjoin(first, first.c.assignment_id == a.id)
            .outerjoin(second, second.c.assignment_id == a.id)
        )  # fmt: skip
        if within is not None:
            status = status.where(a.recording_id.in_(_in_reach(within)))
        st_ = status.cte("statuses")
        month = (extract("year", rec.recorded_on), extract("month", rec.recorded_on))
        regular, catch_up = ~rec.is_catch_up, rec.is_catch_up

        def count(condition: Any) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        monitoring_rule = st_.c.rule.in_((Rule.MONITORING.value, Rule.CATCH_UP.value))
        if by == "treatment_manager":
            slots = union_all(
                select(st_.c.rater_id.label("rater_id"), st_.c.recording_id, st_.c.rated.label("rated"),
                       st_.c.late, literal(0).label("second"))
                .where(monitoring_rule, st_.c.rater_id.is_not(None)),
                select(st_.c.second_rater_id, st_.c.recording_id, st_.c.second_rated, st_.c.late, literal(1))
                .where(monitoring_rule, st_.c.second_rater_id.is_not(None)),
            ).subquery("slots")  # fmt: skip
            done = slots.c.rated == 1
            query = (
                select(slots.c.rater_id, *month, count(regular), count(and_(regular, done)), count(catch_up),
                       count(and_(catch_up, done)), count(and_(slots.c.second == 1, done)),
                       count(and_(slots.c.late == 1, ~done)))
                .join(rec, rec.id == slots.c.recording_id)
                .group_by(slots.c.rater_id, *month)
            )  # fmt: skip
            with self._sessions() as s:
                return [
                    CoverageCount(key, int(year), int(mon), sampled=sampled, rated=n_rated, catch_up_sampled=cu_sampled,
                                  catch_up_rated=cu_rated, double_rated=double, overdue=overdue)
                    for key, year, mon, sampled, n_rated, cu_sampled, cu_rated, double, overdue in s.execute(query)
                ]  # fmt: skip
        audit = st_.c.rule == Rule.EXTERNAL_AUDIT.value
        overdue = (case((and_(st_.c.late == 1, st_.c.rater_id.is_not(None), st_.c.rated == 0), 1), else_=0)
                   + case((and_(st_.c.late == 1, st_.c.second_rater_id.is_not(None), st_.c.second_rated == 0), 1),
                          else_=0))  # fmt: skip
        flags = (
            select(st_.c.recording_id, func.max(case((monitoring_rule, 1), else_=0)).label("mon_sampled"),
                   func.max(case((audit, 1), else_=0)).label("audit_sampled"),
                   func.max(case((and_(audit, st_.c.rated == 1), 1), else_=0)).label("audit_rated"),
                   func.max(st_.c.second_rated).label("double_rated"), func.sum(overdue).label("overdue"))
            .group_by(st_.c.recording_id)
            .subquery("flags")
        )  # fmt: skip
        pairs = self._monitored_pairs()
        if within is not None:
            pairs = pairs.where(m.Rating.recording_id.in_(_in_reach(within)))
        pairs = pairs.cte("monitored_pairs")
        monitored = (
            select(pairs.c.recording_id, func.max(case((pairs.c.tutor_id.is_(None), 1), else_=0)).label("whole"),
                   func.count(pairs.c.tutor_id).label("tutors"))
            .group_by(pairs.c.recording_id)
            .subquery("monitored")
        )  # fmt: skip
        rt = m.RecordingTutor
        unrated = (  # tutors of a session with no monitoring submitted for them
            select(rt.recording_id, func.count().label("n"))
            .where(~select(pairs.c.recording_id)
                   .where(pairs.c.recording_id == rt.recording_id, pairs.c.tutor_id == rt.person_id).exists())
            .group_by(rt.recording_id)
            .subquery("unrated")
        )  # fmt: skip
        whole = func.coalesce(monitored.c.whole, 0) == 1
        sampled = func.coalesce(flags.c.mon_sampled, 0) == 1
        if by == "tutor":  # a co-delivered session counts for each tutor: monitored once that tutor's is submitted
            pair = pairs.alias("tutor_pair")
            key: Any = rt.person_id
            mon_rated = or_(pair.c.recording_id.is_not(None), whole)
            partly: Any = false()
        else:
            key = rec.area if by == "area" else rec.site
            mon_rated = or_(func.coalesce(monitored.c.tutors, 0) > 0, whole)
            partly = and_(func.coalesce(monitored.c.tutors, 0) > 0, ~whole, func.coalesce(unrated.c.n, 0) > 0)
        query = select(
            key, *month, count(regular), count(and_(regular, sampled)), count(and_(regular, mon_rated)),
            count(and_(regular, mon_rated, partly)), count(catch_up), count(and_(catch_up, sampled)),
            count(and_(catch_up, mon_rated)), func.coalesce(func.sum(flags.c.audit_sampled), 0),
            func.coalesce(func.sum(flags.c.audit_rated), 0), func.coalesce(func.sum(flags.c.double_rated), 0),
            func.coalesce(func.sum(flags.c.overdue), 0),
        ).select_from(rec)  # fmt: skip
        if by == "tutor":
            query = query.join(rt, rt.recording_id == rec.id).outerjoin(
                pair, and_(pair.c.recording_id == rec.id, pair.c.tutor_id == rt.person_id))
        else:
            query = query.outerjoin(unrated, unrated.c.recording_id == rec.id)
        query = (query.outerjoin(flags, flags.c.recording_id == rec.id)
                 .outerjoin(monitored, monitored.c.recording_id == rec.id).group_by(key, *month))  # fmt: skip
        if within is not None:
            query = query.where(within.condition())
        with self._sessions() as s:
            return [
                CoverageCount(key_, int(year), int(mon), *(int(n) for n in counts))
                for key_, year, mon, *counts in s.execute(query)
            ]

    def _submitted_by(self, owner_column: Any, policy_name: str | None, within: Reach | None,
                      recorded_before: dt.date | None = None) -> dict[int, bool]:  # fmt: skip
        """assignment id -> whether its rater in ``owner_column`` has submitted (the rule of
        :meth:`work_queues`), aggregated in SQL over that rater's ratings of the session only."""
        query = _submissions(owner_column, policy_name, within, recorded_before)
        with self._sessions() as s:
            return {
                aid: (session_done > 0 or (n_tutors > 0 and tutors_done >= n_tutors)) and drafts == 0
                for aid, tutors_done, session_done, drafts, n_tutors in s.execute(query)
            }

    def assignment_statuses(self, *, today: dt.date, policy_name: str | None = None, within: Reach | None = None,
                            recorded_before: dt.date | None = None) -> list[AssignmentStatus]:  # fmt: skip
        """Every assignment (of sessions ``within`` reach, and recorded before
        ``recorded_before``, when given) with whether each of its raters has submitted, for
        coverage: whether each rater is done is aggregated in SQL over the assignments with a
        rating started (most have none), not a work queue built per rater."""
        a = sm.SampleAssignment
        first = self._submitted_by(a.rater_id, policy_name, within, recorded_before)
        second = self._submitted_by(a.second_rater_id, policy_name, within, recorded_before)
        query = _narrowed(select(a.id, a.recording_id, a.rule, a.rater_id, a.second_rater_id, a.due_on).order_by(a.id),
                          policy_name, within, recorded_before)  # fmt: skip
        with self._sessions() as s:
            rows = s.execute(query).all()
        return [
            AssignmentStatus(
                recording_id=recording_id, rule=Rule(rule), rater_id=rater_id, second_rater_id=second_rater_id,
                due_on=due_on, rated=rater_id is not None and first.get(aid, False),
                second_rated=second_rater_id is not None and second.get(aid, False),
            )
            for aid, recording_id, rule, rater_id, second_rater_id, due_on in rows
        ]  # fmt: skip
