"""Ratings: start, save item by item, submit, correct (a new version with a reason), blindness,
history and the audit entries of each change; and the submitted scores read back for
comparison and export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from session_rater.db import models as m
from session_rater.db.audit_models import AuditEntry
from session_rater.db.engine import READ_ONLY
from session_rater.db.rows import (
    UNSET,
    Unset,
    audit,
    get_row,
    rating_view,
    same_form,
    score_state,
    score_view,
)
from session_rater.db.rubric_versions import RubricVersionStore
from session_rater.domain.model import Capacity, RatingStatus, ScoreRecord
from session_rater.domain.records import (
    AuditView,
    ItemScoreView,
    RatingView,
)
from session_rater.domain.rubric import (
    Rubric,
    validate_score,
)
from session_rater.errors import (
    IncompleteRatingError,
    RatingError,
    RatingLockedError,
    ScoreError,
    StaleEditError,
    UniformScoresError,
)


class SubmittedScore(NamedTuple):
    rating_id: int
    recording_id: int
    tutor_id: int | None
    rater_id: int
    capacity: str
    rubric_id: str
    rubric_version: str
    submitted_at: dt.datetime | None
    item_id: str
    score: int | None
    not_applicable: bool


@dataclass(frozen=True)
class ItemEntry:
    """One item of a :class:`RatingSpec`: a score, or not applicable (``score`` None), with an
    optional evidence note and moment."""

    score: int | None
    evidence: str = ""
    moment_seconds: float | None = None


@dataclass(frozen=True)
class RatingSpec:
    """A whole rating stored in one go (:meth:`RatingStore.add_ratings`): whose, of what, its
    items, and whether it is submitted (a draft may leave items out)."""

    recording_id: int
    tutor_id: int | None
    rater_id: int
    capacity: Capacity
    items: Mapping[str, ItemEntry] = field(default_factory=dict)
    submit: bool = True
    confirm_uniform: bool = False
    is_demo: bool = False


def _audit_row(at: object, actor_id: int | None, entity: str, entity_id: int, rating_id: int, action: str,
               before: object, after: object) -> dict[str, object]:  # fmt: skip
    """An audit entry as a row for a bulk insert (:func:`session_rater.db.rows.audit` adds one)."""
    return {"at": at, "actor_id": actor_id, "entity": entity, "entity_id": entity_id, "rating_id": rating_id,
            "action": action, "before": before, "after": after}  # fmt: skip


class RatingStore(RubricVersionStore):
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
            return None if rating is None else rating_view(rating)

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
                get_row(s, m.Recording, recording_id)
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
                audit(s, rater_id, "rating", rating.id, rating.id, "create", None,
                       {"recording_id": recording_id, "tutor_id": tutor_id, "capacity": capacity.value,
                        "rubric": f"{rubric.id} v{rubric.version}"})
                return rating_view(rating)
        except IntegrityError:  # another tab or process created it first
            found = self.find_rating(recording_id, tutor_id, rater_id, capacity)
            if found is None:
                raise
            return found

    def get_rating(self, rating_id: int) -> RatingView:
        with self._sessions() as s:
            return rating_view(get_row(s, m.Rating, rating_id))

    def save_item(
        self,
        rating_id: int,
        item_id: str,
        *,
        score: Any = UNSET,
        not_applicable: bool | Unset = UNSET,
        evidence: str | Unset = UNSET,
        moment_seconds: float | None | Unset = UNSET,
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
                    rating = get_row(s, m.Rating, rating_id, for_update=True)
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
                    before = score_state(row)
                    if row is None:
                        row = m.ItemScore(rating_id=rating_id, item_id=item_id, evidence="", not_applicable=False,
                                          revision=0)
                        s.add(row)
                    if not isinstance(score, Unset):
                        row.score = None if score is None else validate_score(rubric, item_id, score)
                        if row.score is not None:
                            row.not_applicable = False
                    if not isinstance(not_applicable, Unset):
                        if not_applicable and not rubric.allow_not_applicable:
                            raise ScoreError(
                                f"Rubric {rubric.title!r} does not allow 'not applicable'; score item {item_id!r} instead."
                            )
                        row.not_applicable = bool(not_applicable)
                        if row.not_applicable:
                            row.score = None
                    if not isinstance(evidence, Unset):
                        row.evidence = evidence
                    if not isinstance(moment_seconds, Unset):
                        if moment_seconds is not None and (moment_seconds != moment_seconds or moment_seconds < 0):
                            raise ScoreError(f"A moment in the recording must be 0 s or later, not {moment_seconds!r}.")
                        row.moment_seconds = moment_seconds
                    after = score_state(row)
                    if after != before:
                        row.revision = current_revision + 1
                        row.updated_at = now
                        rating.updated_at = now
                        s.flush()
                        audit(s, actor_id, "item_score", row.id, rating_id,
                               "create" if before is None else "update", before, after)
                    return score_view(row)
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
            rating = get_row(s, m.Rating, rating_id, for_update=True)
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
                for older in s.scalars(select(m.Rating).where(*same_form(rating), m.Rating.id != rating.id)):
                    older.is_current = False
                rating.is_current = True
            s.flush()
            audit(s, actor_id, "rating", rating.id, rating.id, "submit", {"status": "draft"},
                   {"status": "submitted", "version": rating.version, "confirmed_uniform": uniform})
            return rating_view(rating)

    def correct_rating(self, rating_id: int, reason: str, *, actor_id: int | None = None) -> RatingView:
        """Start a correction of a submitted rating: a new draft version with the same scores,
        which the rater edits and submits. Earlier versions are kept; the reason is required."""
        reason = (reason or "").strip()
        old_view = self.get_rating(rating_id)
        blind = old_view.is_blind and not self.is_unblinded(old_view.rater_id, old_view.recording_id, old_view.tutor_id)
        if not reason:
            raise RatingError("A correction needs a reason (what was wrong, and why it is being changed); nothing was changed.")
        with self._sessions.begin() as s:
            old = get_row(s, m.Rating, rating_id, for_update=True)
            newest = s.scalars(select(m.Rating).where(*same_form(old)).order_by(m.Rating.version.desc())).first()
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
            audit(s, actor_id, "rating", new.id, new.id, "correct", {"version": old.version, "rating_id": old.id},
                   {"version": new.version, "reason": reason})
            return rating_view(new)

    def add_ratings(self, specs: Sequence[RatingSpec], rubric: Rubric) -> int:
        """Store many whole ratings in one transaction (the demo's hundreds of forms), checked
        as :meth:`start_rating`, :meth:`save_item` and :meth:`submit_rating` check them, with
        the audit entries those would write (create, each item, submit). Returns how many.

        Item by item, a few hundred forms take tens of seconds (one transaction per click);
        in one transaction, about a second.
        """
        self.record_rubric_version(rubric)
        items = {item.id for item in rubric.items}
        now = m.utcnow()
        ratings, scores = [], []
        for spec in specs:
            unknown = sorted(set(spec.items) - items)
            if unknown:
                raise ScoreError(f"Items {', '.join(unknown)} are not on rubric {rubric.id!r} version {rubric.version!r}.")
            if any(e.score is None for e in spec.items.values()) and not rubric.allow_not_applicable:
                raise ScoreError(f"Rubric {rubric.title!r} does not allow 'not applicable'.")
            scored = {e.score for e in spec.items.values() if e.score is not None}
            uniform = len(scored) == 1 and sum(e.score is not None for e in spec.items.values()) > 1
            if spec.submit:
                if set(spec.items) != items:
                    raise IncompleteRatingError(
                        f"{len(items - set(spec.items))} item(s) still need a score or N/A before submitting."
                    )
                if uniform and not spec.confirm_uniform:
                    raise UniformScoresError(f"Every scored item has the same score ({scored.pop()}): confirm it.")
            ratings.append({
                "recording_id": spec.recording_id, "tutor_id": spec.tutor_id, "rater_id": spec.rater_id,
                "rubric_id": rubric.id, "rubric_version": rubric.version, "capacity": spec.capacity.value,
                "status": (RatingStatus.SUBMITTED if spec.submit else RatingStatus.DRAFT).value,
                "submitted_at": now if spec.submit else None, "started_at": now, "updated_at": now,
                "is_demo": spec.is_demo, "version": 1, "is_current": True, "is_blind": True,
                "confirmed_uniform": spec.submit and uniform,
            })  # fmt: skip
            scores.append([
                {"item_id": item_id, "score": None if e.score is None else validate_score(rubric, item_id, e.score),
                 "not_applicable": e.score is None, "evidence": e.evidence, "moment_seconds": e.moment_seconds,
                 "revision": 1, "updated_at": now}
                for item_id, e in spec.items.items()
            ])  # fmt: skip
        if not specs:
            return 0
        with self._sessions.begin() as s:
            db = s.connection()  # Core: the ORM's bulk RETURNING splices its batches in quadratic time
            ids = [db.execute(insert(m.Rating).returning(m.Rating.id), rating).scalar_one() for rating in ratings]
            rows = [{**row, "rating_id": rating_id} for rating_id, form in zip(ids, scores, strict=True) for row in form]
            if rows:
                db.execute(insert(m.ItemScore), rows)
            score_id = {(r, i): n for n, r, i in db.execute(
                select(m.ItemScore.id, m.ItemScore.rating_id, m.ItemScore.item_id).where(m.ItemScore.rating_id.in_(ids)))}  # fmt: skip
            entries: list[dict[str, object]] = []
            for spec, rating, rating_id, form in zip(specs, ratings, ids, scores, strict=True):
                made = {"recording_id": spec.recording_id, "tutor_id": spec.tutor_id, "capacity": spec.capacity.value,
                        "rubric": f"{rubric.id} v{rubric.version}"}  # fmt: skip
                entries.append(_audit_row(now, spec.rater_id, "rating", rating_id, rating_id, "create", None, made))
                for row in form:
                    state = {key: row[key] for key in ("item_id", "score", "not_applicable", "evidence", "moment_seconds")}
                    entries.append(_audit_row(now, None, "item_score", score_id[rating_id, row["item_id"]], rating_id,
                                              "create", None, state))  # fmt: skip
                if spec.submit:
                    submitted = {"status": "submitted", "version": 1, "confirmed_uniform": rating["confirmed_uniform"]}
                    entries.append(_audit_row(now, None, "rating", rating_id, rating_id, "submit", {"status": "draft"},
                                              submitted))  # fmt: skip
            db.execute(insert(AuditEntry), entries)
        return len(specs)

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
            rating = get_row(s, m.Rating, rating_id)
            rows = s.scalars(select(m.Rating).where(*same_form(rating)).order_by(m.Rating.version))
            return [rating_view(r) for r in rows]

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
            return [rating_view(r) for r in s.scalars(query).unique()]

    def submitted_ratings(self, rubric_id: str | None = None) -> list[RatingView]:
        with self._sessions() as s:
            query = (
                select(m.Rating)
                .where(m.Rating.status == RatingStatus.SUBMITTED.value, m.Rating.is_current.is_(True))
                .order_by(m.Rating.id)
            )
            if rubric_id is not None:
                query = query.where(m.Rating.rubric_id == rubric_id)
            return [rating_view(r) for r in s.scalars(query).unique()]

    def submitted_scores(
        self, *, rubric_id: str | None = None, recording_id: int | None = None, tutor_id: int | None | Unset = UNSET,
        batch: int = 20_000,
    ) -> Iterator[SubmittedScore]:
        """The answered item scores of the ratings that count (submitted, current), as plain rows
        streamed from one query in batches: constant memory whatever the size of the database
        (no ORM objects; the bulk path of exports and reports). Ordered by rating, then item id."""
        query = (
            select(m.Rating.id, m.Rating.recording_id, m.Rating.tutor_id, m.Rating.rater_id, m.Rating.capacity,
                   m.Rating.rubric_id, m.Rating.rubric_version, m.Rating.submitted_at, m.ItemScore.item_id,
                   m.ItemScore.score, m.ItemScore.not_applicable)
            .join(m.ItemScore, m.ItemScore.rating_id == m.Rating.id)
            .where(m.Rating.status == RatingStatus.SUBMITTED.value, m.Rating.is_current.is_(True),
                   or_(m.ItemScore.score.is_not(None), m.ItemScore.not_applicable.is_(True)))
            .order_by(m.Rating.id, m.ItemScore.item_id)
        )  # fmt: skip
        if rubric_id is not None:
            query = query.where(m.Rating.rubric_id == rubric_id)
        if recording_id is not None:
            query = query.where(m.Rating.recording_id == recording_id)
        if not isinstance(tutor_id, Unset):
            query = query.where(m.Rating.tutor_id.is_(None) if tutor_id is None else m.Rating.tutor_id == tutor_id)
        with self.engine.connect() as connection:
            options = {"stream_results": True, "yield_per": batch, READ_ONLY: True}
            result = connection.execution_options(**options).execute(query)
            for partition in result.partitions(batch):
                for row in partition:
                    yield SubmittedScore(*row)

    def score_records(self, rubric_id: str | None = None, *, recording_id: int | None = None,
                      tutor_id: int | None | Unset = UNSET) -> list[ScoreRecord]:  # fmt: skip
        """The submitted item scores in long format (N/A as ``score=None``): every one, or a
        rubric's, or one session's (and tutor's), selected in the database."""
        return [
            ScoreRecord(s.recording_id, s.tutor_id, s.rater_id, Capacity(s.capacity), s.item_id,
                        None if s.not_applicable else s.score)
            for s in self.submitted_scores(rubric_id=rubric_id, recording_id=recording_id, tutor_id=tutor_id)
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
