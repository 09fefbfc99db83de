"""Validity sessions: master-scored benchmark sessions blended blind into treatment managers'
My work at the sampling policy's ``validity_rate``, shown exactly as live monitoring is.

No Permitted here: the sampling use cases (usecases.monitoring) call these after a saved draw
and for My work, importing this module directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np

from session_rater.domain.calibration import validity_sessions_due
from session_rater.domain.model import Capacity, Role
from session_rater.domain.sampling.policy import DEFAULT_VALIDITY_RATE, Rule
from session_rater.domain.sampling.work import QueueItem, QueueStatus
from session_rater.usecases.services import Services


def _validity_reason(svc: Services, recording_id: int, percent: float, per_tutor: int) -> str:
    """The reason a live monitoring pick of this session would give (domain.sampling.draw)."""
    recording = svc.store.get_recording(recording_id)
    group = [r for r in svc.store.list_recordings()
             if r.group_name == recording.group_name and r.programme == recording.programme and not r.is_catch_up]  # fmt: skip
    need = max(1, -(-len(group) * int(percent) // 100))
    tail = f" and {per_tutor} per tutor" if per_tutor else ""
    return (f"monitoring: group {recording.group_name} needs {need} of {len(group)} sessions ({percent:g}%){tail}; "
            f"spreads the sample across the programme (session number {recording.session_number})")  # fmt: skip


def policy_validity_rate(policy: Mapping[str, Any] | None) -> float:
    """The ``validity_rate`` of a policy as stored with a draw (a snapshot from before the key
    existed: the default)."""
    rate = policy.get("validity_rate") if isinstance(policy, Mapping) else None
    return DEFAULT_VALIDITY_RATE if rate is None else float(rate)


def top_up_validity(svc: Services, rater_id: int, *, today: dt.date, rate: float | None = None,
                    rng: np.random.Generator | None = None) -> list[int]:  # fmt: skip
    """Add validity sessions to a treatment manager's work so that they make up ``rate`` of
    their monitoring assignments (by default the ``validity_rate`` of the policy of their latest
    draw): master-scored benchmarks they neither delivered nor rated, each shown as a monitoring
    assignment of their latest draw. The benchmark ids added."""
    live = [a for a in svc.sampling.assignments() if a.rule in (Rule.MONITORING, Rule.CATCH_UP)
            and rater_id in (a.rater_id, a.second_rater_id)]  # fmt: skip
    if not live:
        return []
    latest = max(live, key=lambda a: a.id)
    draw = svc.sampling.get_draw(latest.draw_id)
    rate = policy_validity_rate(draw.policy) if rate is None else rate
    if rate == 0:
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


def top_up_after_draw(svc: Services, *, seed: int, today: dt.date, rate: float | None = None) -> dict[int, list[int]]:
    """After a saved draw: top up every treatment manager's validity sessions at ``rate``, the
    ``validity_rate`` of the policy drawn (None: of the newest saved draw with ``seed``), seeded
    by the draw's seed, so the draw and its validity sessions reproduce together."""
    if rate is None:
        drawn = next((d for d in svc.sampling.list_draws() if d.seed == seed and not d.dry_run), None)
        rate = policy_validity_rate(drawn.policy if drawn else None)
    if rate == 0:
        return {}
    rng = np.random.default_rng(seed)
    raters = sorted({r for a in svc.sampling.assignments() if a.rule in (Rule.MONITORING, Rule.CATCH_UP)
                     for r in (a.rater_id, a.second_rater_id) if r is not None})  # fmt: skip
    added = {}
    for rater in raters:
        if svc.person(rater).has_role(Role.TREATMENT_MANAGER):
            picks = top_up_validity(svc, rater, today=today, rate=rate, rng=rng)
            if picks:
                added[rater] = picks
    return added


def validity_queue_items(svc: Services, rater_id: int, *, today: dt.date) -> list[QueueItem]:
    """The rater's validity sessions as My work items: the same fields, filled the same way, as a
    live monitoring assignment (domain.sampling.work.QueueItem).

    A co-tutored session asks a form per tutor, as a live one does, and counts them the same way
    while the validity session is hidden. Submitting the form of the benchmark's tutor reveals it
    (:func:`record_submission`) and completes it: the item leaves "To rate" then, whichever forms
    are left, since a validity session is not monitoring and the benchmark is of that one tutor."""
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
        benchmark_form = [r for r in forms if r.tutor_id == v.tutor_id]
        done = ((session_done > 0 or (n_tutors > 0 and tutors_done >= n_tutors)) and drafts == 0) or (
            not v.hidden and bool(benchmark_form) and all(r.is_submitted for r in benchmark_form))
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
