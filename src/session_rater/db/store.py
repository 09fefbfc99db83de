"""The storage layer: every read and write of the database goes through :class:`Store`.

It returns plain frozen views, never ORM objects, so pages and the CLI cannot lazy-load by
accident. It enforces the rules that protect saved data whoever calls it: scores must be on
the rubric's scale, a submitted rating is read-only, and a rubric version's definition is
frozen once recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Engine, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from session_rater.db import models as m
from session_rater.db.audit_models import AuditEntry
from session_rater.db.sampling_models import SampleAssignment, SampleDraw
from session_rater.db.engine import make_sessionmaker
from session_rater.domain.model import Capacity, RatingStatus, Role, ScoreRecord
from session_rater.domain.rubric import Rubric
from session_rater.errors import (
    IncompleteRatingError,
    NotFoundError,
    RatingError,
    RatingLockedError,
    RubricError,
    ScoreError,
    StaleEditError,
    UniformScoresError,
)
from session_rater.io.rubric_files import parse_rubric, rubric_fingerprint, rubric_to_dict


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


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


def _person_view(p: m.Person) -> PersonView:
    return PersonView(p.id, p.display_name, p.email, frozenset(p.role_names), p.is_demo)


def _recording_view(r: m.Recording) -> RecordingView:
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
        tutors=tuple(_person_view(t.person) for t in r.tutors),
    )


def _rating_view(r: m.Rating) -> RatingView:
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
        scores={s.item_id: _score_view(s) for s in r.scores},
        version=r.version,
        supersedes_id=r.supersedes_id,
        correction_reason=r.correction_reason,
        is_current=r.is_current,
        is_blind=r.is_blind,
        confirmed_uniform=r.confirmed_uniform,
    )


def _score_view(s: m.ItemScore) -> ItemScoreView:
    return ItemScoreView(s.item_id, s.score, s.not_applicable, s.evidence, s.moment_seconds, s.revision)


def _score_state(s: m.ItemScore | None) -> dict[str, object] | None:
    if s is None:
        return None
    return {"item_id": s.item_id, "score": s.score, "not_applicable": s.not_applicable,
            "evidence": s.evidence, "moment_seconds": s.moment_seconds}


def _audit(session: Session, actor_id: int | None, entity: str, entity_id: int, rating_id: int,
           action: str, before: dict | None, after: dict | None) -> None:  # type: ignore[type-arg]
    session.add(AuditEntry(actor_id=actor_id, entity=entity, entity_id=entity_id, rating_id=rating_id,
                           action=action, before=before, after=after))


_WHAT = {m.Person: "person", m.Recording: "recorded session", m.Rating: "rating"}


def _get(session: Session, model: type[m.Base], key: int, *, for_update: bool = False):  # type: ignore[no-untyped-def]
    """The row with primary key ``key``, or NotFoundError naming what was looked for."""
    row = session.get(model, key, with_for_update=for_update)
    if row is None:
        raise NotFoundError(f"There is no {_WHAT[model]} with id {key}.")
    return row


def _same_form(rating: m.Rating) -> tuple:  # type: ignore[type-arg]
    """Conditions selecting every version of ``rating``'s form."""
    tutor = m.Rating.tutor_id.is_(None) if rating.tutor_id is None else m.Rating.tutor_id == rating.tutor_id
    return (m.Rating.recording_id == rating.recording_id, tutor, m.Rating.rater_id == rating.rater_id,
            m.Rating.capacity == rating.capacity)


def validate_score(rubric: Rubric, item_id: str, score: object) -> int:
    """The score as an int on the rubric's scale, or ScoreError saying what is allowed."""
    allowed = f"scores on {rubric.title!r} are whole numbers from {rubric.minimum} to {rubric.maximum}"
    if isinstance(score, bool) or not isinstance(score, int | float | str):
        raise ScoreError(f"Score {score!r} for item {item_id!r} is not a number: {allowed}.")
    try:
        number = float(score)
    except ValueError:
        raise ScoreError(f"Score {score!r} for item {item_id!r} is not a number: {allowed}.") from None
    if not number.is_integer() or int(number) not in rubric.scale_values:
        raise ScoreError(f"Score {score!r} for item {item_id!r} is not on the scale: {allowed}.")
    return int(number)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions: sessionmaker[Session] = make_sessionmaker(engine)
        self._rubric_cache: dict[tuple[str, str], Rubric] = {}

    # -- people ---------------------------------------------------------------------------
    def add_person(
        self, display_name: str, roles: Iterable[Role], *, email: str | None = None, is_demo: bool = False
    ) -> PersonView:
        with self._sessions.begin() as s:
            person = m.Person(display_name=display_name, email=email, is_demo=is_demo)
            person.roles = [m.PersonRole(role=Role(r).value) for r in set(roles)]
            s.add(person)
            s.flush()
            return _person_view(person)

    def list_people(self, role: Role | None = None) -> list[PersonView]:
        with self._sessions() as s:
            query = select(m.Person).where(m.Person.active.is_(True)).order_by(m.Person.display_name)
            if role is not None:
                query = query.join(m.PersonRole).where(m.PersonRole.role == role.value)
            return [_person_view(p) for p in s.scalars(query).unique()]

    def get_person(self, person_id: int) -> PersonView:
        with self._sessions() as s:
            return _person_view(_get(s, m.Person, person_id))

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
            return _recording_view(recording)

    def list_recordings(self, *, within: Reach | None = None) -> list[RecordingView]:
        """Every recorded session, newest first; only those ``within`` reaches when given (the
        selection is made in SQL, so a tutor's list does not load a whole country's)."""
        with self._sessions() as s:
            query = select(m.Recording).order_by(m.Recording.recorded_on.desc(), m.Recording.id)
            if within is not None:
                query = query.where(within.condition())
            return [_recording_view(r) for r in s.scalars(query).unique()]

    def get_recording(self, recording_id: int) -> RecordingView:
        with self._sessions() as s:
            return _recording_view(_get(s, m.Recording, recording_id))

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

    # -- rubric versions ------------------------------------------------------------------
    def record_rubric_version(self, rubric: Rubric) -> None:
        """Snapshot ``rubric`` at its version. Idempotent (also when several raters start at
        once); refuses a changed definition under an existing version, which would silently
        alter what earlier ratings meant."""
        fingerprint = rubric_fingerprint(rubric)
        for attempt in (1, 2):
            try:
                with self._sessions.begin() as s:
                    existing = s.get(m.RubricVersion, (rubric.id, rubric.version))
                    if existing is None:
                        s.add(
                            m.RubricVersion(
                                rubric_id=rubric.id,
                                version=rubric.version,
                                title=rubric.title,
                                fingerprint=fingerprint,
                                definition=rubric_to_dict(rubric),
                            )
                        )
                        return
                    if existing.fingerprint == fingerprint:
                        return
                    raise RubricError(
                        f"{rubric.id} v{rubric.version}",
                        [
                            f"rubric {rubric.id!r} version {rubric.version!r} differs from the definition "
                            "already used for ratings under that version; give the edited file a new "
                            "`version` (e.g. bump 1.0 to 1.1) so earlier ratings keep their meaning"
                        ],
                    )
            except IntegrityError:  # recorded by another rater at the same moment: compare with it
                if attempt == 2:
                    raise

    def rubric_version(self, rubric_id: str, version: str, *, session: Session | None = None) -> Rubric:
        """The definition of a rubric as it was at ``version`` (from the snapshot)."""
        key = (rubric_id, version)
        if key not in self._rubric_cache:
            if session is None:
                with self._sessions() as s:
                    return self.rubric_version(rubric_id, version, session=s)
            row = session.get(m.RubricVersion, key)
            if row is None:
                raise NotFoundError(f"Rubric {rubric_id!r} version {version!r} is not recorded.")
            self._rubric_cache[key] = parse_rubric(row.definition, f"{rubric_id} v{version} (database)")
        return self._rubric_cache[key]

    # -- ratings --------------------------------------------------------------------------
    def _rating_query(self, recording_id: int, tutor_id: int | None, rater_id: int, capacity: Capacity):  # type: ignore[no-untyped-def]
        tutor_clause = m.Rating.tutor_id.is_(None) if tutor_id is None else m.Rating.tutor_id == tutor_id
        return (
            select(m.Rating)
            .where(
                m.Rating.recording_id == recording_id,
                tutor_clause,
                m.Rating.rater_id == rater_id,
                m.Rating.capacity == capacity.value,
            )
            .order_by(m.Rating.version.desc())
        )

    def find_rating(
        self, recording_id: int, tutor_id: int | None, rater_id: int, capacity: Capacity
    ) -> RatingView | None:
        """The rater's newest version (a correction in progress, or the rating that counts)."""
        with self._sessions() as s:
            rating = s.scalars(self._rating_query(recording_id, tutor_id, rater_id, capacity)).first()
            return None if rating is None else _rating_view(rating)

    def start_rating(
        self,
        recording_id: int,
        tutor_id: int | None,
        rater_id: int,
        capacity: Capacity,
        rubric: Rubric,
        *,
        is_demo: bool = False,
    ) -> RatingView:
        """The rater's rating of this (recording, tutor) in this capacity, created if new."""
        found = self.find_rating(recording_id, tutor_id, rater_id, capacity)
        if found is not None:
            return found
        self.record_rubric_version(rubric)
        blind = not self.is_unblinded(rater_id, recording_id, tutor_id)  # before taking a connection
        try:
            with self._sessions.begin() as s:
                _get(s, m.Recording, recording_id)
                rating = m.Rating(
                    recording_id=recording_id,
                    tutor_id=tutor_id,
                    rater_id=rater_id,
                    rubric_id=rubric.id,
                    rubric_version=rubric.version,
                    capacity=capacity.value,
                    status=RatingStatus.DRAFT.value,
                    is_demo=is_demo,
                    is_blind=blind,
                )
                s.add(rating)
                s.flush()
                _audit(s, rater_id, "rating", rating.id, rating.id, "create", None,
                       {"recording_id": recording_id, "tutor_id": tutor_id, "capacity": capacity.value,
                        "rubric": f"{rubric.id} v{rubric.version}"})
                return _rating_view(rating)
        except IntegrityError:  # another tab or process created it first
            found = self.find_rating(recording_id, tutor_id, rater_id, capacity)
            if found is None:
                raise
            return found

    def get_rating(self, rating_id: int) -> RatingView:
        with self._sessions() as s:
            return _rating_view(_get(s, m.Rating, rating_id))

    def save_item(
        self,
        rating_id: int,
        item_id: str,
        *,
        score: Any = UNSET,
        not_applicable: bool | _Unset = UNSET,
        evidence: str | _Unset = UNSET,
        moment_seconds: float | None | _Unset = UNSET,
        expected_revision: int | None = None,
        actor_id: int | None = None,
    ) -> ItemScoreView:
        """Save what the rater entered for one item, at once. Only the fields given change.

        ``score=None`` clears the score; ``not_applicable=True`` clears the score and marks N/A.
        ``expected_revision`` is the item's revision the rater's page showed: if the item has
        been saved since (another tab, another person), nothing is saved and
        :class:`StaleEditError` says so. Every change is written to the audit log.
        """
        now = m.utcnow()
        for attempt in (1, 2):
            try:
                with self._sessions.begin() as s:
                    rating = _get(s, m.Rating, rating_id, for_update=True)
                    if rating.status == RatingStatus.SUBMITTED.value:
                        raise RatingLockedError(
                            "This rating was submitted and is read-only; nothing was changed. "
                            "To change it, make a correction (with a reason)."
                        )
                    rubric = self.rubric_version(rating.rubric_id, rating.rubric_version, session=s)
                    if item_id not in {i.id for i in rubric.items}:
                        raise ScoreError(
                            f"Item {item_id!r} is not on rubric {rubric.id!r} version {rubric.version!r}."
                        )
                    row = s.scalars(
                        select(m.ItemScore).where(m.ItemScore.rating_id == rating_id, m.ItemScore.item_id == item_id)
                    ).first()
                    current_revision = row.revision if row is not None else 0
                    if expected_revision is not None and expected_revision != current_revision:
                        raise StaleEditError(
                            f"“{rubric.item(item_id).title}” was changed in another tab or by someone else after "
                            "you opened this form, so your change was not saved. The saved value is shown now; "
                            "enter yours again if it should replace it."
                        )
                    before = _score_state(row)
                    if row is None:
                        row = m.ItemScore(rating_id=rating_id, item_id=item_id, evidence="", not_applicable=False,
                                          revision=0)
                        s.add(row)
                    if not isinstance(score, _Unset):
                        row.score = None if score is None else validate_score(rubric, item_id, score)
                        if row.score is not None:
                            row.not_applicable = False
                    if not isinstance(not_applicable, _Unset):
                        if not_applicable and not rubric.allow_not_applicable:
                            raise ScoreError(
                                f"Rubric {rubric.title!r} does not allow 'not applicable'; score item {item_id!r} instead."
                            )
                        row.not_applicable = bool(not_applicable)
                        if row.not_applicable:
                            row.score = None
                    if not isinstance(evidence, _Unset):
                        row.evidence = evidence
                    if not isinstance(moment_seconds, _Unset):
                        if moment_seconds is not None and (moment_seconds != moment_seconds or moment_seconds < 0):
                            raise ScoreError(f"A moment in the recording must be 0 s or later, not {moment_seconds!r}.")
                        row.moment_seconds = moment_seconds
                    after = _score_state(row)
                    if after != before:
                        row.revision = current_revision + 1
                        row.updated_at = now
                        rating.updated_at = now
                        s.flush()
                        _audit(s, actor_id, "item_score", row.id, rating_id,
                               "create" if before is None else "update", before, after)
                    return _score_view(row)
            except IntegrityError:
                if attempt == 2:  # the other writer's row exists now: the retry updates it
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def submit_rating(self, rating_id: int, *, confirm_uniform: bool = False, actor_id: int | None = None) -> RatingView:
        """Lock the rating. Every item must be scored or marked N/A.

        A form that gives every item the same score is accepted only with ``confirm_uniform``
        (the audit found tutors "did not assess each performance criterion independently");
        the confirmation is recorded. Submitting a correction makes it the version that counts.
        """
        with self._sessions.begin() as s:
            rating = _get(s, m.Rating, rating_id, for_update=True)
            if rating.status == RatingStatus.SUBMITTED.value:
                raise RatingLockedError("This rating was already submitted; nothing was changed.")
            rubric = self.rubric_version(rating.rubric_id, rating.rubric_version, session=s)
            answered = {sc.item_id for sc in rating.scores if sc.score is not None or sc.not_applicable}
            missing = [item.id for item in rubric.items if item.id not in answered]
            if missing:
                raise IncompleteRatingError(
                    f"{len(missing)} item(s) still need a score or N/A before you can submit: "
                    + ", ".join(missing)
                )
            scored = {sc.score for sc in rating.scores if sc.score is not None}
            uniform = len(scored) == 1 and sum(sc.score is not None for sc in rating.scores) > 1
            if uniform and not confirm_uniform:
                raise UniformScoresError(
                    f"Every scored item has the same score ({scored.pop()}). Check that you assessed each item "
                    "on its own evidence, then confirm to submit."
                )
            now = m.utcnow()
            rating.status = RatingStatus.SUBMITTED.value
            rating.submitted_at = now
            rating.updated_at = now
            rating.confirmed_uniform = uniform
            if rating.supersedes_id is not None:
                for older in s.scalars(select(m.Rating).where(*_same_form(rating), m.Rating.id != rating.id)):
                    older.is_current = False
                rating.is_current = True
            s.flush()
            _audit(s, actor_id, "rating", rating.id, rating.id, "submit", {"status": "draft"},
                   {"status": "submitted", "version": rating.version, "confirmed_uniform": uniform})
            return _rating_view(rating)

    def correct_rating(self, rating_id: int, reason: str, *, actor_id: int | None = None) -> RatingView:
        """Start a correction of a submitted rating: a new draft version with the same scores,
        which the rater edits and submits. Earlier versions are kept; the reason is required."""
        reason = (reason or "").strip()
        old_view = self.get_rating(rating_id)
        blind = old_view.is_blind and not self.is_unblinded(old_view.rater_id, old_view.recording_id, old_view.tutor_id)
        if not reason:
            raise RatingError("A correction needs a reason (what was wrong, and why it is being changed); nothing was changed.")
        with self._sessions.begin() as s:
            old = _get(s, m.Rating, rating_id, for_update=True)
            newest = s.scalars(select(m.Rating).where(*_same_form(old)).order_by(m.Rating.version.desc())).first()
            if newest is not None and newest.id != old.id:
                raise RatingError(
                    f"Version {newest.version} of this rating already exists; correct that one instead. Nothing was changed."
                )
            if old.status != RatingStatus.SUBMITTED.value:
                raise RatingError("Only a submitted rating is corrected; this one is still a draft, so edit it directly.")
            new = m.Rating(
                recording_id=old.recording_id, tutor_id=old.tutor_id, rater_id=old.rater_id,
                rubric_id=old.rubric_id, rubric_version=old.rubric_version, capacity=old.capacity,
                status=RatingStatus.DRAFT.value, is_demo=old.is_demo, version=old.version + 1,
                supersedes_id=old.id, correction_reason=reason, is_current=False, is_blind=blind,
            )
            new.scores = [
                m.ItemScore(item_id=sc.item_id, score=sc.score, not_applicable=sc.not_applicable,
                            evidence=sc.evidence, moment_seconds=sc.moment_seconds, revision=0)
                for sc in old.scores
            ]
            s.add(new)
            s.flush()
            _audit(s, actor_id, "rating", new.id, new.id, "correct", {"version": old.version, "rating_id": old.id},
                   {"version": new.version, "reason": reason})
            return _rating_view(new)

    # -- blind rating -----------------------------------------------------------------------
    def has_submitted(self, person_id: int, recording_id: int, tutor_id: int | None) -> bool:
        """Whether ``person_id`` has a submitted rating of this (session, tutor), in any capacity."""
        tutor = m.Rating.tutor_id.is_(None) if tutor_id is None else m.Rating.tutor_id == tutor_id
        with self._sessions() as s:
            found = s.scalar(
                select(func.count())
                .select_from(m.Rating)
                .where(m.Rating.recording_id == recording_id, tutor, m.Rating.rater_id == person_id,
                       m.Rating.status == RatingStatus.SUBMITTED.value)
            )
            return bool(found)

    def record_unblinding(self, person_id: int, recording_id: int, tutor_id: int | None) -> None:
        """``person_id`` has seen others' ratings of this (session, tutor). Their ratings of it
        not yet submitted (a draft, a correction) and any they start later are not blind."""
        tutor = m.Rating.tutor_id.is_(None) if tutor_id is None else m.Rating.tutor_id == tutor_id
        already = self.is_unblinded(person_id, recording_id, tutor_id)
        with self._sessions.begin() as s:
            if not already:
                s.add(AuditEntry(actor_id=person_id, entity="blindness", entity_id=recording_id, rating_id=None,
                                 action="saw_others", before=None, after={"tutor_id": tutor_id}))
            s.execute(
                update(m.Rating)
                .where(m.Rating.recording_id == recording_id, tutor, m.Rating.rater_id == person_id,
                       m.Rating.status == RatingStatus.DRAFT.value)
                .values(is_blind=False)
            )

    def is_unblinded(self, person_id: int, recording_id: int, tutor_id: int | None) -> bool:
        with self._sessions() as s:
            entries = s.scalars(
                select(AuditEntry.after).where(
                    AuditEntry.actor_id == person_id, AuditEntry.entity == "blindness",
                    AuditEntry.entity_id == recording_id,
                )
            )
            return any((after or {}).get("tutor_id") == tutor_id for after in entries)

    def rating_history(self, rating_id: int) -> list[RatingView]:
        """Every version of the form ``rating_id`` belongs to, oldest first (for administrators)."""
        with self._sessions() as s:
            rating = _get(s, m.Rating, rating_id)
            rows = s.scalars(select(m.Rating).where(*_same_form(rating)).order_by(m.Rating.version))
            return [_rating_view(r) for r in rows]

    def audit_entries(self, *, rating_id: int | None = None, limit: int = 1000) -> list[AuditView]:
        """The newest audit entries first."""
        with self._sessions() as s:
            query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if rating_id is not None:
                query = query.where(AuditEntry.rating_id == rating_id)
            return [
                AuditView(e.id, e.at, e.actor_id, e.entity, e.entity_id, e.rating_id, e.action, e.before, e.after)
                for e in s.scalars(query)
            ]

    def ratings_of_recording(self, recording_id: int, *, submitted_only: bool = True) -> list[RatingView]:
        with self._sessions() as s:
            query = select(m.Rating).where(m.Rating.recording_id == recording_id).order_by(m.Rating.id)
            if submitted_only:  # the version that counts of each form
                query = query.where(m.Rating.status == RatingStatus.SUBMITTED.value, m.Rating.is_current.is_(True))
            return [_rating_view(r) for r in s.scalars(query).unique()]

    def submitted_ratings(self, rubric_id: str | None = None) -> list[RatingView]:
        with self._sessions() as s:
            query = (
                select(m.Rating)
                .where(m.Rating.status == RatingStatus.SUBMITTED.value, m.Rating.is_current.is_(True))
                .order_by(m.Rating.id)
            )
            if rubric_id is not None:
                query = query.where(m.Rating.rubric_id == rubric_id)
            return [_rating_view(r) for r in s.scalars(query).unique()]

    def score_records(self, rubric_id: str | None = None) -> list[ScoreRecord]:
        """Every submitted item score in long format (N/A as ``score=None``)."""
        return [
            ScoreRecord(r.recording_id, r.tutor_id, r.rater_id, r.capacity, item.item_id, item.score)
            for r in self.submitted_ratings(rubric_id)
            for item in r.scores.values()
            if item.is_answered
        ]

    def submission_fingerprint(self) -> tuple[str, ...]:
        """What changes whenever the submitted scores do, in one aggregate query: the number of
        current submitted ratings, the newest submission time (a correction moves it) and the
        highest rating and recording ids (a demo reset, new recordings). For caches."""
        with self._sessions() as s:
            ratings = s.execute(
                select(func.count(), func.max(m.Rating.submitted_at), func.max(m.Rating.id)).where(
                    m.Rating.status == RatingStatus.SUBMITTED.value, m.Rating.is_current.is_(True)
                )
            ).one()
            recordings = s.execute(select(func.count(), func.max(m.Recording.id))).one()
        return tuple(map(str, (*ratings, *recordings)))

    # -- housekeeping ---------------------------------------------------------------------
    def is_empty(self) -> bool:
        with self._sessions() as s:
            return s.scalar(select(func.count()).select_from(m.Recording)) == 0 and (
                s.scalar(select(func.count()).select_from(m.Person)) == 0
            )

    def has_demo_data(self) -> bool:
        with self._sessions() as s:
            return bool(s.scalar(select(func.count()).select_from(m.Recording).where(m.Recording.is_demo.is_(True))))

    def delete_demo_data(self) -> None:
        """Remove the demo rows (and only those). Refuses if real ratings point at demo rows."""
        with self._sessions.begin() as s:
            demo_people = select(m.Person.id).where(m.Person.is_demo.is_(True))
            demo_recordings = select(m.Recording.id).where(m.Recording.is_demo.is_(True))
            real_on_demo = s.scalar(
                select(func.count())
                .select_from(m.Rating)
                .where(m.Rating.is_demo.is_(False))
                .where(
                    m.Rating.recording_id.in_(demo_recordings)
                    | m.Rating.rater_id.in_(demo_people)
                    | m.Rating.tutor_id.in_(demo_people)
                )
            )
            if real_on_demo:
                raise RatingError(
                    f"{real_on_demo} rating(s) not marked as demo refer to demo sessions or people, "
                    "so the demo data was left in place. Export them first (session-rater export)."
                )
            demo_ratings = select(m.Rating.id).where(m.Rating.is_demo.is_(True))
            s.execute(delete(AuditEntry).where(AuditEntry.rating_id.in_(demo_ratings)))
            s.execute(delete(AuditEntry).where(AuditEntry.entity == "blindness",
                                               AuditEntry.entity_id.in_(demo_recordings)))
            s.execute(delete(AuditEntry).where(AuditEntry.entity.in_(("person", "scope")),
                                               AuditEntry.entity_id.in_(demo_people)))
            s.execute(delete(AuditEntry).where(AuditEntry.entity == "assignment",
                                               AuditEntry.entity_id.in_(demo_recordings)))
            s.execute(delete(m.ItemScore).where(m.ItemScore.rating_id.in_(demo_ratings)))
            s.execute(update(m.Rating).where(m.Rating.is_demo.is_(True)).values(supersedes_id=None, version=1))
            s.execute(delete(m.Rating).where(m.Rating.is_demo.is_(True)))
            real_work_for_demo_people = s.scalar(
                select(func.count())
                .select_from(SampleAssignment)
                .where(SampleAssignment.recording_id.not_in(demo_recordings))
                .where(SampleAssignment.rater_id.in_(demo_people) | SampleAssignment.second_rater_id.in_(demo_people))
            )
            if real_work_for_demo_people:
                raise RatingError(
                    f"{real_work_for_demo_people} sample assignment(s) of real sessions are assigned to demo people, "
                    "so the demo data was left in place. Draw those samples once real raters exist."
                )
            # Sample assignments of demo sessions go with them (a draw keeps its record of the seed).
            s.execute(delete(SampleAssignment).where(SampleAssignment.recording_id.in_(demo_recordings)))
            s.execute(update(SampleDraw).where(SampleDraw.drawn_by.in_(demo_people)).values(drawn_by=None))
            s.execute(delete(m.RecordingTutor).where(m.RecordingTutor.recording_id.in_(demo_recordings)))
            s.execute(delete(m.Recording).where(m.Recording.is_demo.is_(True)))
            s.execute(delete(m.PersonRole).where(m.PersonRole.person_id.in_(demo_people)))
            s.execute(delete(m.Person).where(m.Person.is_demo.is_(True)))
