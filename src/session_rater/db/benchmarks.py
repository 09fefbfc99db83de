"""Storage of the benchmark: training clearances, benchmark sessions and their panels, master
scores (a change is a new version with its reason), calibration rounds and attempts, validity
assignments and exemplar clips. Every change is written to the audit log in the same
transaction; nothing is deleted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from session_rater.db import benchmark_models as bm
from session_rater.db import models as m
from session_rater.db.rows import StoreBase, audit, get_row
from session_rater.domain.calibration.adjudication import MasterScore
from session_rater.domain.calibration.figures import AgreementWithMaster
from session_rater.domain.calibration.records import (
    AttemptRecord,
    BenchmarkState,
    BenchmarkView,
    CalibrationRound,
    ExemplarClip,
    MasterScoreSet,
    TrainingClearance,
    ValidityAssignment,
)
from session_rater.errors import CalibrationError, NotFoundError


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _clearance(r: bm.TrainingClearance) -> TrainingClearance:
    return TrainingClearance(r.recording_id, r.cleared_by, _aware(r.cleared_at), r.note)


def _benchmark(s: Session, r: bm.BenchmarkSession) -> BenchmarkView:
    panel = s.scalars(select(bm.BenchmarkPanelMember.person_id).where(bm.BenchmarkPanelMember.benchmark_id == r.id)
                      .order_by(bm.BenchmarkPanelMember.person_id))  # fmt: skip
    return BenchmarkView(r.id, r.recording_id, r.tutor_id, r.rubric_id, r.rubric_version, r.reason, r.designated_by,
                         _aware(r.designated_at), tuple(panel), r.panel_lead_id, BenchmarkState(r.state))  # fmt: skip


def _master_set(s: Session, v: bm.MasterScoreVersion) -> MasterScoreSet:
    rows = s.scalars(select(bm.MasterScoreRow).where(bm.MasterScoreRow.version_id == v.id))
    scores = tuple(MasterScore(r.item_id, r.score, r.rationale, tuple(float(x) for x in r.moments or ())) for r in rows)
    return MasterScoreSet(v.benchmark_id, v.version, v.agreed_by, _aware(v.agreed_at), v.reason, scores)


def _master_state(scores: Sequence[MasterScore]) -> dict[str, Any]:
    return {m_.item_id: {"score": m_.score, "rationale": m_.rationale, "moments": list(m_.moments)} for m_ in scores}


def _round(s: Session, r: bm.CalibrationRoundRow) -> CalibrationRound:
    sessions = s.scalars(select(bm.CalibrationRoundSession.benchmark_id)
                         .where(bm.CalibrationRoundSession.round_id == r.id).order_by(bm.CalibrationRoundSession.benchmark_id))  # fmt: skip
    raters = s.scalars(select(bm.CalibrationRoundRater.rater_id)
                       .where(bm.CalibrationRoundRater.round_id == r.id).order_by(bm.CalibrationRoundRater.rater_id))  # fmt: skip
    return CalibrationRound(r.id, r.title, r.due_on, r.created_by, _aware(r.created_at), tuple(sessions), tuple(raters))


def _attempt(r: bm.CalibrationAttempt) -> AttemptRecord:
    return AttemptRecord(r.id, r.round_id, r.rater_id, r.completed_on, r.n_items, r.exact_count, r.within_one_count,
                         r.difference_sum, r.passed, dict(r.rule))  # fmt: skip


def _validity(r: bm.ValidityAssignmentRow, b: bm.BenchmarkSession) -> ValidityAssignment:
    return ValidityAssignment(r.id, r.rater_id, r.benchmark_id, b.recording_id, b.tutor_id, r.hidden, r.due_on,
                              r.reason, _aware(r.created_at))  # fmt: skip


def _clip(r: bm.ExemplarClipRow) -> ExemplarClip:
    return ExemplarClip(r.id, r.benchmark_id, r.item_id, r.score, r.start_seconds, r.end_seconds, r.note, r.created_by)


class BenchmarkStore(StoreBase):
    # -- cleared for training use ----------------------------------------------------------
    def clear_for_training(self, recording_id: int, *, by: int | None, note: str = "") -> TrainingClearance:
        """Mark a recording as cleared for training use (once; a second clearance keeps the first)."""
        with self._sessions.begin() as s:
            get_row(s, m.Recording, recording_id)
            row = s.get(bm.TrainingClearance, recording_id)
            if row is None:
                row = bm.TrainingClearance(recording_id=recording_id, cleared_by=by, cleared_at=m.utcnow(), note=note)
                s.add(row)
                s.flush()
                audit(s, by, "training_clearance", recording_id, None, "clear", None,  # type: ignore[arg-type]
                      {"recording_id": recording_id, "note": note})
            return _clearance(row)

    def training_clearances(self) -> dict[int, TrainingClearance]:
        with self._sessions() as s:
            return {r.recording_id: _clearance(r) for r in s.scalars(select(bm.TrainingClearance))}

    # -- benchmark sessions ----------------------------------------------------------------
    def designate_benchmark(self, recording_id: int, tutor_id: int | None, *, rubric_id: str, rubric_version: str,
                            reason: str, panel: Sequence[int], panel_lead: int, by: int | None) -> BenchmarkView:  # fmt: skip
        if not reason.strip():
            raise CalibrationError("Say why this session is a benchmark (typical, hard, spread across the scale).")
        members = sorted(set(panel))
        if len(members) < 2:
            raise CalibrationError("A benchmark's panel has two or more members.")
        if panel_lead not in members:
            raise CalibrationError("The panel lead is one of the panel's members.")
        with self._sessions.begin() as s:
            get_row(s, m.Recording, recording_id)
            if s.get(bm.TrainingClearance, recording_id) is None:
                raise CalibrationError("Only a recording an administrator has cleared for training use can become a "
                                      "benchmark: it shows a group of offenders.")  # fmt: skip
            tutor = bm.BenchmarkSession.tutor_id.is_(None) if tutor_id is None else bm.BenchmarkSession.tutor_id == tutor_id
            if s.scalar(select(bm.BenchmarkSession.id).where(bm.BenchmarkSession.recording_id == recording_id, tutor)):
                raise CalibrationError("This session (and tutor) is already a benchmark.")
            row = bm.BenchmarkSession(recording_id=recording_id, tutor_id=tutor_id, rubric_id=rubric_id,
                                      rubric_version=rubric_version, reason=reason.strip(), designated_by=by,
                                      designated_at=m.utcnow(), panel_lead_id=panel_lead,
                                      state=BenchmarkState.PANEL_RATING.value)  # fmt: skip
            s.add(row)
            s.flush()
            s.add_all([bm.BenchmarkPanelMember(benchmark_id=row.id, person_id=p) for p in members])
            s.flush()
            audit(s, by, "benchmark", row.id, None, "designate", None,  # type: ignore[arg-type]
                  {"recording_id": recording_id, "tutor_id": tutor_id, "reason": reason.strip(), "panel": members,
                   "panel_lead": panel_lead, "rubric": f"{rubric_id} {rubric_version}"})  # fmt: skip
            return _benchmark(s, row)

    def benchmarks(self) -> list[BenchmarkView]:
        with self._sessions() as s:
            return [_benchmark(s, r) for r in s.scalars(select(bm.BenchmarkSession).order_by(bm.BenchmarkSession.id))]

    def get_benchmark(self, benchmark_id: int) -> BenchmarkView:
        with self._sessions() as s:
            row = s.get(bm.BenchmarkSession, benchmark_id)
            if row is None:
                raise NotFoundError(f"There is no benchmark session with id {benchmark_id}.")
            return _benchmark(s, row)

    def set_benchmark_state(self, benchmark_id: int, state: BenchmarkState, *, by: int | None) -> None:
        with self._sessions.begin() as s:
            row = s.get(bm.BenchmarkSession, benchmark_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"There is no benchmark session with id {benchmark_id}.")
            if row.state != state.value:
                audit(s, by, "benchmark", benchmark_id, None, "state", {"state": row.state},  # type: ignore[arg-type]
                      {"state": state.value})
                row.state = state.value

    # -- master scores ---------------------------------------------------------------------
    def save_master_scores(self, benchmark_id: int, scores: Sequence[MasterScore], *, by: int | None,
                           reason: str | None = None) -> MasterScoreSet:  # fmt: skip
        """Lock master scores: the first agreed (version 1), or a change (a new version, with its
        reason). Every earlier version is kept; the change is in the audit log."""
        with self._sessions.begin() as s:
            bench = s.get(bm.BenchmarkSession, benchmark_id, with_for_update=True)
            if bench is None:
                raise NotFoundError(f"There is no benchmark session with id {benchmark_id}.")
            latest = s.scalar(select(bm.MasterScoreVersion).where(bm.MasterScoreVersion.benchmark_id == benchmark_id)
                              .order_by(bm.MasterScoreVersion.version.desc()).limit(1))  # fmt: skip
            if latest is not None and not (reason or "").strip():
                raise CalibrationError("The master scores are locked: a change is a new version, so give its reason.")
            version = bm.MasterScoreVersion(benchmark_id=benchmark_id, version=1 if latest is None else latest.version + 1,
                                            agreed_by=by, agreed_at=m.utcnow(),
                                            reason=None if latest is None else reason.strip())  # type: ignore[union-attr]  # fmt: skip
            s.add(version)
            s.flush()
            s.add_all([bm.MasterScoreRow(version_id=version.id, item_id=x.item_id, score=x.score,
                                         rationale=x.rationale, moments=list(x.moments)) for x in scores])  # fmt: skip
            before = None if latest is None else _master_state(_master_set(s, latest).scores)
            audit(s, by, "master_scores", benchmark_id, None, "agree" if latest is None else "change",  # type: ignore[arg-type]
                  before, {"version": version.version, "reason": version.reason, "scores": _master_state(scores)})
            bench.state = BenchmarkState.MASTER_SCORED.value
            s.flush()
            return _master_set(s, version)

    def master_scores(self, benchmark_id: int) -> MasterScoreSet | None:
        """The master scores in force (the newest version), or None before they are agreed."""
        history = self.master_score_history(benchmark_id)
        return history[-1] if history else None

    def master_score_history(self, benchmark_id: int) -> list[MasterScoreSet]:
        with self._sessions() as s:
            rows = s.scalars(select(bm.MasterScoreVersion).where(bm.MasterScoreVersion.benchmark_id == benchmark_id)
                             .order_by(bm.MasterScoreVersion.version))  # fmt: skip
            return [_master_set(s, v) for v in rows]

    def master_scores_in_force(self) -> dict[int, MasterScoreSet]:
        """benchmark id -> its newest master scores, for every master-scored benchmark."""
        with self._sessions() as s:
            newest = (select(bm.MasterScoreVersion.benchmark_id, func.max(bm.MasterScoreVersion.version).label("v"))
                      .group_by(bm.MasterScoreVersion.benchmark_id).subquery())  # fmt: skip
            rows = s.scalars(select(bm.MasterScoreVersion).join(
                newest, (newest.c.benchmark_id == bm.MasterScoreVersion.benchmark_id)
                & (newest.c.v == bm.MasterScoreVersion.version)))  # fmt: skip
            return {v.benchmark_id: _master_set(s, v) for v in rows}

    def master_fingerprint(self) -> tuple[str, ...]:
        """What changes whenever master scores are agreed or changed (for the reports' caches)."""
        with self._sessions() as s:
            row = s.execute(select(func.count(), func.max(bm.MasterScoreVersion.id))).one()
        return tuple(map(str, row))

    # -- calibration rounds and attempts ----------------------------------------------------
    def create_round(self, title: str, due_on: dt.date, benchmark_ids: Sequence[int], rater_ids: Sequence[int], *,
                     by: int | None) -> CalibrationRound:  # fmt: skip
        if not title.strip():
            raise CalibrationError("Give the calibration round a title.")
        if not benchmark_ids or not rater_ids:
            raise CalibrationError("A calibration round has at least one benchmark session and one rater.")
        with self._sessions.begin() as s:
            for b in set(benchmark_ids):
                row = s.get(bm.BenchmarkSession, b)
                if row is None:
                    raise NotFoundError(f"There is no benchmark session with id {b}.")
                if row.state != BenchmarkState.MASTER_SCORED.value:
                    raise CalibrationError(f"Benchmark {b} has no agreed master scores yet: it cannot be used in a round.")
            r = bm.CalibrationRoundRow(title=title.strip(), due_on=due_on, created_by=by, created_at=m.utcnow())
            s.add(r)
            s.flush()
            s.add_all([bm.CalibrationRoundSession(round_id=r.id, benchmark_id=b) for b in sorted(set(benchmark_ids))])
            s.add_all([bm.CalibrationRoundRater(round_id=r.id, rater_id=p) for p in sorted(set(rater_ids))])
            s.flush()
            audit(s, by, "calibration_round", r.id, None, "create", None,  # type: ignore[arg-type]
                  {"title": r.title, "due_on": due_on.isoformat(), "benchmarks": sorted(set(benchmark_ids)),
                   "raters": sorted(set(rater_ids))})  # fmt: skip
            return _round(s, r)

    def rounds(self, rater_id: int | None = None) -> list[CalibrationRound]:
        query = select(bm.CalibrationRoundRow).order_by(bm.CalibrationRoundRow.id)
        if rater_id is not None:
            query = query.join(bm.CalibrationRoundRater).where(bm.CalibrationRoundRater.rater_id == rater_id)
        with self._sessions() as s:
            return [_round(s, r) for r in s.scalars(query)]

    def record_attempt(self, round_id: int, rater_id: int, completed_on: dt.date, figures: AgreementWithMaster,
                       *, passed: bool, rule: dict[str, Any]) -> AttemptRecord:  # fmt: skip
        """Keep a rater's completed round, judged by ``rule`` (stored as given). Once only."""
        with self._sessions.begin() as s:
            existing = s.scalar(select(bm.CalibrationAttempt).where(bm.CalibrationAttempt.round_id == round_id,
                                                                    bm.CalibrationAttempt.rater_id == rater_id))  # fmt: skip
            if existing is not None:
                return _attempt(existing)
            row = bm.CalibrationAttempt(round_id=round_id, rater_id=rater_id, completed_on=completed_on,
                                        n_items=figures.n_items, exact_count=figures.exact_count,
                                        within_one_count=figures.within_one_count,
                                        difference_sum=int(figures.difference_sum), passed=passed, rule=rule,
                                        recorded_at=m.utcnow())  # fmt: skip
            s.add(row)
            s.flush()
            audit(s, rater_id, "calibration_attempt", row.id, None, "complete", None,  # type: ignore[arg-type]
                  {"round_id": round_id, "rater_id": rater_id, "passed": passed, "n_items": figures.n_items,
                   "within_one": figures.within_one_count, "exact": figures.exact_count,
                   "difference_sum": int(figures.difference_sum), "rule": f"{rule.get('id')} {rule.get('version')}"})  # fmt: skip
            return _attempt(row)

    def attempts(self, rater_id: int | None = None) -> list[AttemptRecord]:
        query = select(bm.CalibrationAttempt).order_by(bm.CalibrationAttempt.completed_on, bm.CalibrationAttempt.id)
        if rater_id is not None:
            query = query.where(bm.CalibrationAttempt.rater_id == rater_id)
        with self._sessions() as s:
            return [_attempt(r) for r in s.scalars(query)]

    # -- validity sessions -----------------------------------------------------------------
    def add_validity(self, rater_id: int, benchmark_id: int, *, draw_id: int | None, policy_name: str, reason: str,
                     due_on: dt.date | None) -> ValidityAssignment:  # fmt: skip
        with self._sessions.begin() as s:
            bench = s.get(bm.BenchmarkSession, benchmark_id)
            if bench is None:
                raise NotFoundError(f"There is no benchmark session with id {benchmark_id}.")
            row = bm.ValidityAssignmentRow(rater_id=rater_id, benchmark_id=benchmark_id, hidden=True, draw_id=draw_id,
                                           policy_name=policy_name, reason=reason, due_on=due_on,
                                           created_at=m.utcnow())  # fmt: skip
            s.add(row)
            s.flush()
            audit(s, None, "validity_assignment", row.id, None, "create", None,  # type: ignore[arg-type]
                  {"rater_id": rater_id, "benchmark_id": benchmark_id})
            return _validity(row, bench)

    def validity_assignments(self, rater_id: int | None = None) -> list[ValidityAssignment]:
        query = (select(bm.ValidityAssignmentRow, bm.BenchmarkSession)
                 .join(bm.BenchmarkSession, bm.BenchmarkSession.id == bm.ValidityAssignmentRow.benchmark_id)
                 .order_by(bm.ValidityAssignmentRow.id))  # fmt: skip
        if rater_id is not None:
            query = query.where(bm.ValidityAssignmentRow.rater_id == rater_id)
        with self._sessions() as s:
            return [_validity(v, b) for v, b in s.execute(query)]

    def validity_draw_fields(self, assignment_id: int) -> tuple[int | None, str]:
        """(draw id, policy name) a validity assignment shows in My work, as a live one does."""
        with self._sessions() as s:
            row = s.get(bm.ValidityAssignmentRow, assignment_id)
            if row is None:
                raise NotFoundError(f"There is no validity assignment with id {assignment_id}.")
            return row.draw_id, row.policy_name

    def reveal_validity(self, assignment_id: int) -> None:
        """The rater submitted: the session may now be shown as a validity session."""
        with self._sessions.begin() as s:
            row = s.get(bm.ValidityAssignmentRow, assignment_id, with_for_update=True)
            if row is not None and row.hidden:
                row.hidden = False
                audit(s, row.rater_id, "validity_assignment", row.id, None, "reveal", {"hidden": True},  # type: ignore[arg-type]
                      {"hidden": False})

    # -- what a person is to rate ----------------------------------------------------------
    def benchmark_scope(self, person_id: int) -> tuple[frozenset[int], frozenset[int]]:
        """(recordings of the validity sessions blended into their work, recordings of the
        benchmarks they are to rate: on the panel or in a calibration round)."""
        with self._sessions() as s:
            validity = s.scalars(select(bm.BenchmarkSession.recording_id).join(
                bm.ValidityAssignmentRow, bm.ValidityAssignmentRow.benchmark_id == bm.BenchmarkSession.id)
                .where(bm.ValidityAssignmentRow.rater_id == person_id))  # fmt: skip
            panel = s.scalars(select(bm.BenchmarkSession.recording_id).join(
                bm.BenchmarkPanelMember, bm.BenchmarkPanelMember.benchmark_id == bm.BenchmarkSession.id)
                .where(bm.BenchmarkPanelMember.person_id == person_id))  # fmt: skip
            rounds = s.scalars(select(bm.BenchmarkSession.recording_id)
                               .join(bm.CalibrationRoundSession, bm.CalibrationRoundSession.benchmark_id == bm.BenchmarkSession.id)
                               .join(bm.CalibrationRoundRater, bm.CalibrationRoundRater.round_id == bm.CalibrationRoundSession.round_id)
                               .where(bm.CalibrationRoundRater.rater_id == person_id))  # fmt: skip
            return frozenset(validity), frozenset(panel) | frozenset(rounds)

    # -- exemplar clips --------------------------------------------------------------------
    def add_exemplar(self, benchmark_id: int, item_id: str, score: int, start: float, end: float, note: str, *,
                     by: int | None) -> ExemplarClip:  # fmt: skip
        if not 0 <= start < end:
            raise CalibrationError("An exemplar clip starts at 0 s or later and ends after it starts.")
        with self._sessions.begin() as s:
            bench = s.get(bm.BenchmarkSession, benchmark_id)
            if bench is None:
                raise NotFoundError(f"There is no benchmark session with id {benchmark_id}.")
            if bench.state != BenchmarkState.MASTER_SCORED.value:
                raise CalibrationError("Exemplar clips are marked on a master-scored benchmark session.")
            row = bm.ExemplarClipRow(benchmark_id=benchmark_id, item_id=item_id, score=score, start_seconds=start,
                                     end_seconds=end, note=note, created_by=by, created_at=m.utcnow())  # fmt: skip
            s.add(row)
            s.flush()
            audit(s, by, "exemplar_clip", row.id, None, "create", None,  # type: ignore[arg-type]
                  {"benchmark_id": benchmark_id, "item_id": item_id, "score": score, "start": start, "end": end,
                   "note": note})  # fmt: skip
            return _clip(row)

    def exemplars(self, benchmark_id: int | None = None) -> list[ExemplarClip]:
        query = select(bm.ExemplarClipRow).order_by(bm.ExemplarClipRow.item_id, bm.ExemplarClipRow.score,
                                                     bm.ExemplarClipRow.id)  # fmt: skip
        if benchmark_id is not None:
            query = query.where(bm.ExemplarClipRow.benchmark_id == benchmark_id)
        with self._sessions() as s:
            return [_clip(r) for r in s.scalars(query)]


def delete_demo_benchmarks(s: Session, demo_recordings: Any) -> None:
    """Remove the benchmark rows of demo recordings (``session-rater demo`` reloads them)."""
    from sqlalchemy import delete

    benches = select(bm.BenchmarkSession.id).where(bm.BenchmarkSession.recording_id.in_(demo_recordings))
    rounds = select(bm.CalibrationRoundSession.round_id).where(bm.CalibrationRoundSession.benchmark_id.in_(benches))
    round_ids = list(s.scalars(rounds))
    s.execute(delete(bm.ValidityAssignmentRow).where(bm.ValidityAssignmentRow.benchmark_id.in_(benches)))
    s.execute(delete(bm.CalibrationAttempt).where(bm.CalibrationAttempt.round_id.in_(round_ids)))
    s.execute(delete(bm.CalibrationRoundSession).where(bm.CalibrationRoundSession.round_id.in_(round_ids)))
    s.execute(delete(bm.CalibrationRoundRater).where(bm.CalibrationRoundRater.round_id.in_(round_ids)))
    s.execute(delete(bm.CalibrationRoundRow).where(bm.CalibrationRoundRow.id.in_(round_ids)))
    s.execute(delete(bm.ExemplarClipRow).where(bm.ExemplarClipRow.benchmark_id.in_(benches)))
    versions = select(bm.MasterScoreVersion.id).where(bm.MasterScoreVersion.benchmark_id.in_(benches))
    s.execute(delete(bm.MasterScoreRow).where(bm.MasterScoreRow.version_id.in_(versions)))
    s.execute(delete(bm.MasterScoreVersion).where(bm.MasterScoreVersion.benchmark_id.in_(benches)))
    s.execute(delete(bm.BenchmarkPanelMember).where(bm.BenchmarkPanelMember.benchmark_id.in_(benches)))
    s.execute(delete(bm.BenchmarkSession).where(bm.BenchmarkSession.recording_id.in_(demo_recordings)))
    s.execute(delete(bm.TrainingClearance).where(bm.TrainingClearance.recording_id.in_(demo_recordings)))
