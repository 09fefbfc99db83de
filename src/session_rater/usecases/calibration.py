"""Calibration against the benchmark (issue 10), as one signed-in person may use it.

* An administrator clears a recording for training use; a programme manager designates a
  cleared session (and tutor) as a benchmark, with a reason, a panel of two or more and its lead.
* The panel rates it blind in the capacity ``benchmark`` through the usual rating use cases
  (Permitted.start_rating and friends). When every panel rating is in, :meth:`Calibration.adjudication`
  gives the panel's scores and the items where they differ; the panel lead agrees and locks the
  master scores (:meth:`agree_master_scores`); a later change is a new version with a reason.
* A programme manager makes a calibration round (master-scored benchmarks, raters, a due date).
  After a rater submits their rating of a benchmark, :meth:`comparison` gives their scores beside
  the master's, with the rationale and evidence moments, and their figures; when their round is
  complete, their attempt is judged by the rule in force and kept with that rule.
* Validity sessions are blended into treatment managers' My work (:func:`top_up_validity`) at the
  validity rate, showing exactly the fields a live monitoring assignment shows.
* A rater's status (:func:`rater_statuses`) comes from their attempts and their drift chart.

Master scores, rationales and other panel members' ratings are never shown to anyone before their
own rating of that benchmark is submitted; a programme manager or administrator may look first
and is then recorded as not blind for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from session_rater.domain.access import Action
from session_rater.domain.calibration import (
    AgreementWithMaster,
    Attempt,
    CertificationRule,
    DriftChart,
    MasterScore,
    PanelDisagreement,
    RaterStatus,
    agreement_with_master,
    check_master_scores,
    compare_items,
    ewma_chart,
    panel_disagreements,
    rater_status,
    validity_sessions_due,
)
from session_rater.domain.calibration.records import (
    AttemptRecord,
    BenchmarkState,
    BenchmarkView,
    CalibrationRound,
    ExemplarClip,
    MasterScoreSet,
    TrainingClearance,
)
from session_rater.domain.model import Capacity, Role
from session_rater.domain.records import RatingView
from session_rater.domain.rubric import Rubric
from session_rater.domain.sampling.policy import Rule
from session_rater.domain.sampling.work import QueueItem, QueueStatus
from session_rater.errors import (
    AccessDeniedError,
    CalibrationError,
    CertificationRuleError,
    NotFoundError,
)
from session_rater.io.calibration_files import load_certification_rule
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import DEFAULT_RUBRIC_ID, Services

VALIDITY_RATE = 0.1
"""Validity sessions per monitoring assignment (about 1 in 10 of a treatment manager's)."""

CALIBRATION_ROLES = (Role.TREATMENT_MANAGER, Role.EXTERNAL_ASSESSOR, Role.TUTOR)


# -- values --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Adjudication:
    benchmark: BenchmarkView
    item_ids: tuple[str, ...]
    panel_scores: Mapping[int, Mapping[str, int | None]]  # member -> item -> score
    disagreements: tuple[PanelDisagreement, ...]
    master: MasterScoreSet | None


@dataclass(frozen=True)
class ComparedItem:
    item_id: str
    title: str
    rater: int | None
    master: int | None
    rationale: str
    moments: tuple[float, ...]

    @property
    def difference(self) -> int | None:
        return None if self.rater is None or self.master is None else self.rater - self.master


@dataclass(frozen=True)
class Comparison:
    """What a rater sees after submitting their rating of a benchmark session."""

    benchmark_id: int
    recording_id: int
    tutor_id: int | None
    master_version: int
    items: tuple[ComparedItem, ...]
    figures: AgreementWithMaster
    attempts: tuple[AttemptRecord, ...]  # rounds this submission completed


@dataclass(frozen=True)
class RaterCalibration:
    """One rater's calibration: their status and the figures of their latest attempt."""

    rater_id: int
    name: str
    roles: tuple[str, ...]
    status: RaterStatus
    drift: DriftChart

    @property
    def figures(self) -> AgreementWithMaster | None:
        return self.status.latest.figures if self.status.latest else None


# -- the rule ------------------------------------------------------------------------------------
def rule_in_force(svc: Services) -> CertificationRule:
    """The certification rule file named by SESSION_RATER_CERTIFICATION_RULE."""
    return load_certification_rule(svc.settings.certification_rule)


def rule_as_stored(rule: CertificationRule) -> dict[str, Any]:
    return dataclasses.asdict(rule)


def rule_from_stored(stored: Mapping[str, Any]) -> CertificationRule:
    names = {f.name for f in dataclasses.fields(CertificationRule)}
    return CertificationRule(**{k: v for k, v in stored.items() if k in names})


def stored_attempt(record: AttemptRecord) -> Attempt:
    from fractions import Fraction

    figures = AgreementWithMaster(record.n_items, record.exact_count, record.within_one_count,
                                  Fraction(record.difference_sum))  # fmt: skip
    return Attempt(record.rater_id, record.completed_on, figures, rule_from_stored(record.rule))


# -- reading the benchmark -------------------------------------------------------------------------
def benchmark_of(svc: Services, recording_id: int, tutor_id: int | None) -> BenchmarkView | None:
    return next((b for b in svc.store.benchmarks() if b.recording_id == recording_id and b.tutor_id == tutor_id), None)


def _rubric(svc: Services, bench: BenchmarkView) -> Rubric:
    return svc.store.rubric_version(bench.rubric_id, bench.rubric_version)


def _own_scores(rating: RatingView) -> dict[str, int | None]:
    return {i: (None if s.not_applicable else s.score) for i, s in rating.scores.items()}


def _submitted_by(svc: Services, bench: BenchmarkView) -> dict[int, RatingView]:
    """rater -> their current submitted rating of the benchmark's (session, tutor), any capacity."""
    return {r.rater_id: r for r in svc.store.ratings_of_recording(bench.recording_id) if r.tutor_id == bench.tutor_id}


def _compare(svc: Services, bench: BenchmarkView, master: MasterScoreSet, rating: RatingView) -> Comparison:
    rubric = _rubric(svc, bench)
    item_ids = [i.id for i in rubric.items]
    compared = compare_items(item_ids, _own_scores(rating), master.by_item())
    figures = agreement_with_master(compared)
    by_item = {m.item_id: m for m in master.scores}
    items = tuple(ComparedItem(c.item_id, rubric.item(c.item_id).title, c.rater, c.master,
                               by_item[c.item_id].rationale if c.item_id in by_item else "",
                               by_item[c.item_id].moments if c.item_id in by_item else ())
                  for c in compared)  # fmt: skip
    return Comparison(bench.id, bench.recording_id, bench.tutor_id, master.version, items, figures, ())


def drift_chart(svc: Services, rater_id: int, rule: CertificationRule,
                masters: Mapping[int, MasterScoreSet] | None = None) -> DriftChart:  # fmt: skip
    """The rater's signed difference from the master scores, one point per benchmark session
    they rated (calibration or validity; never as a member of its panel), on the EWMA chart."""
    masters = svc.store.master_scores_in_force() if masters is None else masters
    points = []
    for bench in svc.store.benchmarks():
        master = masters.get(bench.id)
        if master is None or rater_id in bench.panel:
            continue
        rating = _submitted_by(svc, bench).get(rater_id)
        if rating is None or rating.submitted_at is None:
            continue
        try:
            figures = agreement_with_master(compare_items([m.item_id for m in master.scores], _own_scores(rating),
                                                          master.by_item()))  # fmt: skip
        except ValueError:
            continue
        points.append((rating.submitted_at.date(), figures.mean_bias))
    return ewma_chart(points, limit=rule.abs_bias_max, lam=rule.drift_lambda)


def status_of(svc: Services, rater_id: int, *, today: dt.date, rule: CertificationRule | None = None,
              masters: Mapping[int, MasterScoreSet] | None = None) -> tuple[RaterStatus, DriftChart]:  # fmt: skip
    rule = rule or rule_in_force(svc)
    attempts = [stored_attempt(a) for a in svc.store.attempts(rater_id)]
    chart = drift_chart(svc, rater_id, rule, masters)
    return rater_status(attempts, today=today, drift=chart), chart


def rater_statuses(svc: Services, *, today: dt.date, person_ids: Iterable[int] | None = None) -> list[RaterCalibration]:
    """Every rater's calibration (treatment managers, external assessors, tutors; or ``person_ids``)."""
    rule = rule_in_force(svc)
    masters = svc.store.master_scores_in_force()
    people = svc.store.list_people()
    wanted = set(person_ids) if person_ids is not None else None
    found = []
    for p in people:
        if wanted is not None and p.id not in wanted:
            continue
        if wanted is None and not any(p.has_role(r) for r in CALIBRATION_ROLES):
            continue
        status, chart = status_of(svc, p.id, today=today, rule=rule, masters=masters)
        found.append(RaterCalibration(p.id, p.display_name, tuple(sorted(p.roles)), status, chart))
    return found


# -- completing a round --------------------------------------------------------------------------
def complete_rounds(svc: Services, rater_id: int, *, today: dt.date) -> list[AttemptRecord]:
    """Judge and keep the attempt of each round of ``rater_id`` that is now complete (every one
    of its benchmarks rated and submitted) and not yet kept, by the rule in force now."""
    done = {a.round_id for a in svc.store.attempts(rater_id)}
    masters = svc.store.master_scores_in_force()
    benches = {b.id: b for b in svc.store.benchmarks()}
    kept = []
    for rnd in svc.store.rounds(rater_id=rater_id):
        if rnd.id in done:
            continue
        total: AgreementWithMaster | None = None
        for bench_id in rnd.benchmark_ids:
            bench, master = benches[bench_id], masters.get(bench_id)
            rating = _submitted_by(svc, bench).get(rater_id)
            if master is None or rating is None:
                total = None
                break
            figures = _compare(svc, bench, master, rating).figures
            total = figures if total is None else total + figures
        if total is None:
            continue
        rule = rule_in_force(svc)
        passed = Attempt(rater_id, today, total, rule).passed
        kept.append(svc.store.record_attempt(rnd.id, rater_id, today, total, passed=passed,
                                             rule=rule_as_stored(rule)))  # fmt: skip
    return kept


def record_submission(svc: Services, rating: RatingView, *, today: dt.date | None = None) -> list[AttemptRecord]:
    """What a submitted rating settles for calibration (Permitted.submit calls it): the rater's
    validity session of that (session, tutor) is revealed, and each round of theirs it completes
    is judged and kept. The attempts kept."""
    if not rating.is_submitted:
        return []
    for v in svc.store.validity_assignments(rating.rater_id):
        if v.recording_id == rating.recording_id and v.tutor_id == rating.tutor_id and v.hidden:
            svc.store.reveal_validity(v.id)
    if not svc.store.rounds(rater_id=rating.rater_id):
        return []
    try:
        return complete_rounds(svc, rating.rater_id, today=today or dt.date.today())
    except CertificationRuleError:  # the rating is submitted; the round is judged once the rule file is fixed
        return []


# -- validity sessions in My work ------------------------------------------------------------------
def _validity_reason(svc: Services, recording_id: int, percent: float, per_tutor: int) -> str:
    """The reason a live monitoring pick of this session would give (domain.sampling.draw)."""
    recording = svc.store.get_recording(recording_id)
    group = [r for r in svc.store.list_recordings()
             if r.group_name == recording.group_name and r.programme == recording.programme and not r.is_catch_up]  # fmt: skip
    need = max(1, -(-len(group) * int(percent) // 100))
    tail = f" and {per_tutor} per tutor" if per_tutor else ""
    return (f"monitoring: group {recording.group_name} needs {need} of {len(group)} sessions ({percent:g}%){tail}; "
            f"spreads the sample across the programme (session number {recording.session_number})")  # fmt: skip


def top_up_validity(svc: Services, rater_id: int, *, today: dt.date, rate: float = VALIDITY_RATE,
                    rng: np.random.Generator | None = None) -> list[int]:  # fmt: skip
    """Add validity sessions to a treatment manager's work so that they make up ``rate`` of
    their monitoring assignments: master-scored benchmarks they neither delivered nor rated,
    each shown as a monitoring assignment of their latest draw. The benchmark ids added."""
    live = [a for a in svc.sampling.assignments() if a.rule in (Rule.MONITORING, Rule.CATCH_UP)
            and rater_id in (a.rater_id, a.second_rater_id)]  # fmt: skip
    if not live:
        return []
    mine = svc.store.validity_assignments(rater_id)
    masters = svc.store.master_scores_in_force()
    excluded = {v.benchmark_id for v in mine}
    for bench in svc.store.benchmarks():
        recording = svc.store.get_recording(bench.recording_id)
        rated = any(r.rater_id == rater_id for r in svc.store.ratings_of_recording(bench.recording_id,
                                                                                   submitted_only=False))  # fmt: skip
        if rater_id in {t.id for t in recording.tutors} or rated or rater_id in bench.panel:
            excluded.add(bench.id)
    picks = validity_sessions_due(monitoring_assignments=len(live), validity_assigned=len(mine), rate=rate,
                                  candidates=sorted(masters), excluded=excluded,
                                  rng=rng or np.random.default_rng())  # fmt: skip
    latest = max(live, key=lambda a: a.id)
    draw = svc.sampling.get_draw(latest.draw_id)
    monitoring = draw.policy.get("monitoring", {}) if isinstance(draw.policy, dict) else {}
    percent, per_tutor = float(monitoring.get("percent", 10)), int(monitoring.get("min_sessions_per_tutor", 1))
    notice = int(draw.policy.get("min_notice_days", 7)) if isinstance(draw.policy, dict) else 7
    due_days = int(monitoring.get("due_days_after_session", 28))
    benches = {b.id: b for b in svc.store.benchmarks()}
    for bench_id in picks:
        bench = benches[bench_id]
        recorded = svc.store.get_recording(bench.recording_id).recorded_on
        due = max(recorded + dt.timedelta(days=due_days), today + dt.timedelta(days=notice))
        svc.store.add_validity(rater_id, bench_id, draw_id=latest.draw_id, policy_name=latest.policy_name,
                               reason=_validity_reason(svc, bench.recording_id, percent, per_tutor), due_on=due)  # fmt: skip
    return picks


def top_up_after_draw(svc: Services, *, seed: int, today: dt.date) -> dict[int, list[int]]:
    """After a saved draw: top up every treatment manager's validity sessions (seeded by the
    draw's seed, so the draw and its validity sessions reproduce together)."""
    rng = np.random.default_rng(seed)
    raters = sorted({r for a in svc.sampling.assignments() if a.rule in (Rule.MONITORING, Rule.CATCH_UP)
                     for r in (a.rater_id, a.second_rater_id) if r is not None})  # fmt: skip
    added = {}
    for rater in raters:
        if svc.person(rater).has_role(Role.TREATMENT_MANAGER):
            picks = top_up_validity(svc, rater, today=today, rng=rng)
            if picks:
                added[rater] = picks
    return added


def validity_queue_items(svc: Services, rater_id: int, *, today: dt.date) -> list[QueueItem]:
    """The rater's validity sessions as My work items: the same fields, filled the same way, as a
    live monitoring assignment (domain.sampling.work.QueueItem)."""
    items = []
    for v in svc.store.validity_assignments(rater_id):
        recording = svc.store.get_recording(v.recording_id)
        # Counted exactly as SamplingStore.work_queues counts a live assignment's forms.
        forms = [r for r in svc.store.ratings_of_recording(v.recording_id, submitted_only=False)
                 if r.rater_id == rater_id and r.capacity is Capacity.MONITORING]  # fmt: skip
        tutors_done = len({r.tutor_id for r in forms if r.is_submitted and r.tutor_id is not None})
        session_done = sum(1 for r in forms if r.is_submitted and r.tutor_id is None)
        drafts = sum(1 for r in forms if not r.is_submitted)
        n_tutors = len(recording.tutors)
        done = (session_done > 0 or (n_tutors > 0 and tutors_done >= n_tutors)) and drafts == 0
        status = QueueStatus.SUBMITTED if done else QueueStatus.IN_PROGRESS if forms else QueueStatus.NOT_STARTED
        draw_id, policy_name = svc.store.validity_draw_fields(v.id)
        items.append(QueueItem(
            assignment_id=v.id, draw_id=draw_id or 0, policy_name=policy_name, rule=Rule.MONITORING, rater_id=rater_id,
            as_second_rater=False, recording_id=v.recording_id,
            label=f"{recording.group_name} · session {recording.session_number}: {recording.session_title}",
            programme=recording.programme, group_name=recording.group_name, session_number=recording.session_number,
            recorded_on=recording.recorded_on, site=recording.site, area=recording.area, reason=v.reason,
            due_on=v.due_on, ratings_started=len(forms), ratings_submitted=tutors_done + session_done, status=status,
            overdue=not done and v.due_on is not None and v.due_on < today,
        ))  # fmt: skip
    return items


# -- the use cases, for one signed-in person ---------------------------------------------------------
class Calibration:
    def __init__(self, me: Permitted) -> None:
        self.me = me
        self.svc = me.svc

    # administrator
    def clear_for_training(self, recording_id: int, note: str = "") -> TrainingClearance:
        self.me.require(Action.CLEAR_FOR_TRAINING)
        return self.svc.store.clear_for_training(recording_id, by=self.me.person.id, note=note)

    def training_clearances(self) -> dict[int, TrainingClearance]:
        return self.svc.store.training_clearances()

    # programme manager
    def designate(self, recording_id: int, tutor_id: int | None, *, reason: str, panel: Sequence[int],
                  panel_lead: int, rubric: Rubric | None = None) -> BenchmarkView:  # fmt: skip
        recording = self.me.recording(recording_id)
        self.me.require(Action.DESIGNATE_BENCHMARK, recording)
        if tutor_id is not None and tutor_id not in {t.id for t in recording.tutors}:
            raise CalibrationError("The tutor of a benchmark is one who delivered the session.")
        if set(panel) & {t.id for t in recording.tutors}:
            raise CalibrationError("A tutor who delivered the session cannot be on its panel.")
        rubric = rubric or self.svc.catalog.latest(DEFAULT_RUBRIC_ID)
        self.svc.store.record_rubric_version(rubric)
        return self.svc.store.designate_benchmark(recording_id, tutor_id, rubric_id=rubric.id,
                                                  rubric_version=rubric.version, reason=reason, panel=panel,
                                                  panel_lead=panel_lead, by=self.me.person.id)  # fmt: skip

    def _hidden_validity(self) -> set[int]:
        """The benchmarks this person has as validity sessions not yet submitted: nothing may
        tell them those are benchmarks."""
        return {v.benchmark_id for v in self.svc.store.validity_assignments(self.me.person.id) if v.hidden}

    def benchmark(self, benchmark_id: int) -> BenchmarkView:
        try:
            bench = self.svc.store.get_benchmark(benchmark_id)
        except NotFoundError:
            bench = None
        if bench is None or bench.id in self._hidden_validity():
            raise AccessDeniedError(f"Benchmark {benchmark_id} does not exist or is not one you can open.")
        self.me.recording(bench.recording_id)  # in reach, or refused as not found
        return bench

    def _may_see_master(self, bench: BenchmarkView, *, look: bool) -> None:
        """Blindness: the master scores, rationales and panel ratings of a benchmark only after
        one's own rating of it is submitted; an overseer who looks first is recorded not blind."""
        recording = self.me.recording(bench.recording_id)
        own = self.svc.store.has_submitted(self.me.person.id, bench.recording_id, bench.tutor_id)
        decision = self.me.decide(Action.SEE_MASTER_SCORES, recording, tutor_id=bench.tutor_id,
                                  own_rating_submitted=own)  # fmt: skip
        if not decision:
            raise AccessDeniedError(f"{decision.reason.capitalize()}.")
        if decision.not_blind:
            if not look:
                raise AccessDeniedError("Confirm that you want to look: you will be recorded as not blind for this "
                                        "benchmark session, and a rating you make of it later is marked so.")  # fmt: skip
            self.svc.store.record_unblinding(self.me.person.id, bench.recording_id, bench.tutor_id)

    # panel
    def adjudication(self, benchmark_id: int, *, look: bool = False) -> Adjudication:
        """The panel's scores and where they differ, once every panel rating is in."""
        bench = self.benchmark(benchmark_id)
        self._may_see_master(bench, look=look)
        rubric = _rubric(self.svc, bench)
        by = _submitted_by(self.svc, bench)
        missing = [p for p in bench.panel if p not in by or by[p].capacity is not Capacity.BENCHMARK]
        if missing:
            raise CalibrationError(f"{len(missing)} of the panel's {len(bench.panel)} ratings are not in yet: "
                                   "adjudication starts when every panel member has submitted.")  # fmt: skip
        panel = {p: _own_scores(by[p]) for p in bench.panel}
        items = tuple(i.id for i in rubric.items)
        if bench.state is BenchmarkState.PANEL_RATING:
            self.svc.store.set_benchmark_state(bench.id, BenchmarkState.ADJUDICATION, by=self.me.person.id)
            bench = self.svc.store.get_benchmark(bench.id)
        return Adjudication(bench, items, panel, tuple(panel_disagreements(items, panel)),
                            self.svc.store.master_scores(bench.id))  # fmt: skip

    def agree_master_scores(self, benchmark_id: int, masters: Sequence[MasterScore]) -> MasterScoreSet:
        """The panel lead locks the master scores (checked: every item, on the scale, a rationale
        where the panel disagreed, moments within the recording)."""
        adjudication = self.adjudication(benchmark_id)
        bench = adjudication.benchmark
        if self.me.person.id != bench.panel_lead:
            raise AccessDeniedError("Only the panel lead agrees the master scores.")
        if adjudication.master is not None:
            raise CalibrationError("The master scores are locked: change them with a reason (a new version).")
        rubric = _rubric(self.svc, bench)
        duration = self.svc.store.get_recording(bench.recording_id).duration_seconds
        problems = check_master_scores(adjudication.item_ids, (rubric.minimum, rubric.maximum),
                                       adjudication.panel_scores, masters, duration=duration)  # fmt: skip
        if problems:
            raise CalibrationError("The master scores cannot be locked yet: " + "; ".join(problems))
        return self.svc.store.save_master_scores(bench.id, masters, by=self.me.person.id)

    def revise_master_scores(self, benchmark_id: int, masters: Sequence[MasterScore], reason: str) -> MasterScoreSet:
        """A change of locked master scores: a new version with its reason (panel lead, or the
        programme manager of the area), in the audit log."""
        adjudication = self.adjudication(benchmark_id, look=True)
        bench = adjudication.benchmark
        recording = self.me.recording(bench.recording_id)
        if self.me.person.id != bench.panel_lead and not self.me.decide(Action.DESIGNATE_BENCHMARK, recording):
            raise AccessDeniedError("Only the panel lead or the area's programme manager changes master scores.")
        if adjudication.master is None:
            raise CalibrationError("There are no master scores to change yet: agree them first.")
        rubric = _rubric(self.svc, bench)
        problems = check_master_scores(adjudication.item_ids, (rubric.minimum, rubric.maximum),
                                       adjudication.panel_scores, masters,
                                       duration=recording.duration_seconds)  # fmt: skip
        if problems:
            raise CalibrationError("The changed master scores cannot be locked: " + "; ".join(problems))
        return self.svc.store.save_master_scores(bench.id, masters, by=self.me.person.id, reason=reason)

    def master_scores(self, benchmark_id: int, *, look: bool = False) -> MasterScoreSet | None:
        bench = self.benchmark(benchmark_id)
        self._may_see_master(bench, look=look)
        return self.svc.store.master_scores(benchmark_id)

    def master_score_history(self, benchmark_id: int, *, look: bool = False) -> list[MasterScoreSet]:
        bench = self.benchmark(benchmark_id)
        self._may_see_master(bench, look=look)
        return self.svc.store.master_score_history(benchmark_id)

    def add_exemplar(self, benchmark_id: int, item_id: str, score: int, start: float, end: float,
                     note: str) -> ExemplarClip:  # fmt: skip
        bench = self.benchmark(benchmark_id)
        if self.me.person.id not in bench.panel:
            raise AccessDeniedError("Exemplar clips are marked by a member of the benchmark's panel.")
        rubric = _rubric(self.svc, bench)
        rubric.item(item_id)
        if score not in rubric.scale_values:
            raise CalibrationError(f"{score} is not on the scale {rubric.minimum} to {rubric.maximum}.")
        return self.svc.store.add_exemplar(bench.id, item_id, score, start, end, note, by=self.me.person.id)

    def exemplars(self) -> list[ExemplarClip]:
        """The exemplar clips of the scale, less those cut from this person's own hidden validity
        sessions (a clip of the session being rated would say it is a benchmark)."""
        hidden = self._hidden_validity()
        return [c for c in self.svc.store.exemplars() if c.benchmark_id not in hidden]

    # programme manager: rounds
    def create_round(self, title: str, due_on: dt.date, benchmark_ids: Sequence[int],
                     rater_ids: Sequence[int]) -> CalibrationRound:  # fmt: skip
        self.me.require(Action.MANAGE_CALIBRATION)
        for rater in rater_ids:
            person = self.svc.person(rater)
            if not any(person.has_role(r) for r in CALIBRATION_ROLES):
                raise CalibrationError(f"{person.display_name} is not a rater (treatment manager, external assessor "
                                       "or tutor).")  # fmt: skip
            for bench_id in benchmark_ids:
                bench = self.svc.store.get_benchmark(bench_id)
                if rater in bench.panel or rater in {t.id for t in self.svc.recording(bench.recording_id).tutors}:
                    raise CalibrationError(f"{person.display_name} delivered or master-scored benchmark {bench_id}: "
                                           "they cannot calibrate on it.")  # fmt: skip
        return self.svc.store.create_round(title, due_on, benchmark_ids, rater_ids, by=self.me.person.id)

    def rounds(self) -> list[CalibrationRound]:
        if self.me.decide(Action.MANAGE_CALIBRATION):
            return self.svc.store.rounds()
        return self.svc.store.rounds(rater_id=self.me.person.id)

    # the Benchmark pages (issue 10): what they list
    def benchmarks(self) -> list[BenchmarkView]:
        """The benchmark sessions this person works on: every one in reach for a programme manager
        or administrator; those whose panel they are on for anyone else (never a hidden validity one)."""
        hidden = self._hidden_validity()
        manager = bool(self.me.decide(Action.MANAGE_CALIBRATION))
        found = []
        for bench in self.svc.store.benchmarks():
            if bench.id in hidden or not (manager or self.me.person.id in bench.panel):
                continue
            try:
                self.me.recording(bench.recording_id)
            except (AccessDeniedError, NotFoundError):
                continue
            found.append(bench)
        return found

    def rubric_of(self, benchmark_id: int) -> Rubric:
        """The rubric version a benchmark is scored on (its items' titles, its scale)."""
        return _rubric(self.svc, self.benchmark(benchmark_id))

    def round_progress(self, round_id: int) -> list[tuple[int, int, AttemptRecord | None]]:
        """Each rater of a round: (rater, how many of its benchmarks they have submitted, their
        attempt once the round is complete for them)."""
        self.me.require(Action.MANAGE_CALIBRATION)
        rnd = next((r for r in self.svc.store.rounds() if r.id == round_id), None)
        if rnd is None:
            raise NotFoundError(f"There is no calibration round {round_id}.")
        benches = {b.id: b for b in self.svc.store.benchmarks()}
        submitted = {b: _submitted_by(self.svc, benches[b]) for b in rnd.benchmark_ids if b in benches}
        found = []
        for rater in rnd.rater_ids:
            done = sum(1 for by in submitted.values() if rater in by)
            attempt = next((a for a in self.svc.store.attempts(rater) if a.round_id == rnd.id), None)
            found.append((rater, done, attempt))
        return found

    # any rater: after submitting
    def after_submit(self, rating: RatingView, *, today: dt.date | None = None) -> Comparison | None:
        """Call after a rating is submitted: a validity session is revealed, a completed round's
        attempt is kept, and the comparison is returned (None: not a master-scored benchmark)."""
        if rating.rater_id != self.me.person.id or not rating.is_submitted:
            return None
        record_submission(self.svc, rating, today=today)  # already done by Permitted.submit: a no-op then
        found = self.comparison(rating.recording_id, rating.tutor_id)
        if found is None:
            return None
        rounds = {r.id for r in self.svc.store.rounds(rater_id=self.me.person.id) if found.benchmark_id in r.benchmark_ids}
        attempts = tuple(a for a in self.svc.store.attempts(self.me.person.id) if a.round_id in rounds)
        return dataclasses.replace(found, attempts=attempts)

    def comparison(self, recording_id: int, tutor_id: int | None) -> Comparison | None:
        """One's own scores of a master-scored benchmark beside the master scores (after submitting)."""
        bench = benchmark_of(self.svc, recording_id, tutor_id)
        if bench is None or self.me.person.id in bench.panel:
            return None
        master = self.svc.store.master_scores(bench.id)
        rating = _submitted_by(self.svc, bench).get(self.me.person.id)
        if master is None or rating is None:
            return None
        return _compare(self.svc, bench, master, rating)

    # status
    def my_status(self, today: dt.date | None = None) -> RaterCalibration:
        return rater_statuses(self.svc, today=today or dt.date.today(), person_ids=[self.me.person.id])[0]

    def statuses(self, today: dt.date | None = None) -> list[RaterCalibration]:
        self.me.require(Action.MANAGE_CALIBRATION)
        return rater_statuses(self.svc, today=today or dt.date.today())

    # My work
    def top_up_validity(self, rater_id: int, *, today: dt.date | None = None, seed: int | None = None) -> list[int]:
        self.me.require(Action.MANAGE_CALIBRATION)
        if not self.svc.person(rater_id).has_role(Role.TREATMENT_MANAGER):
            raise NotFoundError("Validity sessions go to treatment managers' My work.")
        rng = np.random.default_rng(seed)
        return top_up_validity(self.svc, rater_id, today=today or dt.date.today(), rng=rng)


# -- the command line's report (``session-rater calibration``) -----------------------------------
def calibration_report(svc: Services, *, today: dt.date | None = None) -> dict[str, Any]:
    """Each rater's status as the JSON contract of ``session-rater calibration --format json``:
    ``{"rule": {"within_one_min", "abs_bias_max", "valid_months"}, "raters": [{"rater_id", "name",
    "roles", "status", "within_one", "exact", "mean_bias", "n_items", "certified_until"}]}``, the
    figures those of the latest attempt (shares from 0 to 1; ``mean_bias`` rater minus master)."""
    rule = rule_in_force(svc)
    raters = []
    for r in rater_statuses(svc, today=today or dt.date.today()):
        figures = r.figures
        raters.append({
            "rater_id": r.rater_id, "name": r.name, "roles": list(r.roles), "status": r.status.status,
            "within_one": None if figures is None else figures.within_one,
            "exact": None if figures is None else figures.exact,
            "mean_bias": None if figures is None else figures.mean_bias,
            "n_items": 0 if figures is None else figures.n_items,
            "certified_until": None if r.status.certified_until is None else r.status.certified_until.isoformat(),
        })  # fmt: skip
    return {"rule": {"within_one_min": rule.within_one_min, "abs_bias_max": rule.abs_bias_max,
                     "valid_months": rule.valid_months}, "raters": raters}  # fmt: skip


def calibration_text(report: Mapping[str, Any]) -> str:
    rule = report["rule"]
    head = (f"Rule: within one point on at least {rule['within_one_min']:.0%} of items, mean difference at most "
            f"{rule['abs_bias_max']:g} points either way; valid for {rule['valid_months']} months")  # fmt: skip
    lines = [head, ""]
    for r in report["raters"]:
        figures = ("" if r["within_one"] is None else
                   f"  within one {r['within_one']:.0%}, exact {r['exact']:.0%}, mean {r['mean_bias']:+.2f} "
                   f"over {r['n_items']} items")  # fmt: skip
        until = f" until {r['certified_until']}" if r["certified_until"] else ""
        lines.append(f"{r['rater_id']:>5}  {r['name']:<28} {r['status'].replace('_', ' ')}{until}{figures}")
    if not report["raters"]:
        lines.append("No raters (treatment managers, external assessors, tutors) yet.")
    return "\n".join(lines) + "\n"
