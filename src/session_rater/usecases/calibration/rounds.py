"""What a submitted rating settles for calibration: a validity session revealed, and each
calibration round it completes judged by the rule in force and kept with that rule."""

from __future__ import annotations

import datetime as dt

from session_rater.domain.calibration import AgreementWithMaster, Attempt
from session_rater.domain.calibration.records import AttemptRecord
from session_rater.domain.records import RatingView
from session_rater.errors import CertificationRuleError
from session_rater.usecases.calibration.comparison import compare_with_master, submitted_by
from session_rater.usecases.calibration.rule import rule_as_stored, rule_in_force
from session_rater.usecases.services import Services


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
            rating = submitted_by(svc, bench).get(rater_id)
            if master is None or rating is None:
                total = None
                break
            figures = compare_with_master(svc, bench, master, rating).figures
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
