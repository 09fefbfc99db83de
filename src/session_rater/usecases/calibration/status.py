"""Each rater's calibration status (from their attempts and their drift chart), and the report
of ``session-rater calibration`` (its JSON is a contract)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from session_rater.domain.calibration import (
    AgreementWithMaster,
    CertificationRule,
    DriftChart,
    RaterStatus,
    agreement_with_master,
    compare_items,
    ewma_chart,
    rater_status,
)
from session_rater.domain.calibration.records import AttemptRecord, BenchmarkView, MasterScoreSet
from session_rater.domain.model import Role
from session_rater.domain.records import RatingView
from session_rater.usecases.calibration.comparison import own_scores, submitted_by
from session_rater.usecases.calibration.rule import rule_in_force, stored_attempt
from session_rater.usecases.services import Services

CALIBRATION_ROLES = (Role.TREATMENT_MANAGER, Role.EXTERNAL_ASSESSOR, Role.TUTOR)


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


def drift_chart(svc: Services, rater_id: int, rule: CertificationRule,
                masters: Mapping[int, MasterScoreSet] | None = None, *,
                read: _ReadOnce | None = None) -> DriftChart:  # fmt: skip
    """The rater's signed difference from the master scores, one point per benchmark session
    they rated (calibration or validity; never as a member of its panel), on the EWMA chart."""
    masters = svc.store.master_scores_in_force() if masters is None else masters
    read = read or _ReadOnce(svc)
    points = []
    for bench in read.benchmarks:
        master = masters.get(bench.id)
        if master is None or rater_id in bench.panel:
            continue
        rating = read.submitted(bench).get(rater_id)
        if rating is None or rating.submitted_at is None:
            continue
        try:
            figures = agreement_with_master(compare_items([m.item_id for m in master.scores], own_scores(rating),
                                                          master.by_item()))  # fmt: skip
        except ValueError:
            continue
        points.append((rating.submitted_at.date(), figures.mean_bias))
    return ewma_chart(points, limit=rule.abs_bias_max, lam=rule.drift_lambda)


class _ReadOnce:
    """What a rater's status reads (the benchmarks, their submitted ratings, the attempts), read
    once for every rater on a page: read per rater, 2,000 raters took 17 s of the Over-scoring
    page (issue 17)."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.benchmarks = svc.store.benchmarks()
        self._attempts: dict[int, list[AttemptRecord]] | None = None
        self._submitted: dict[int, dict[int, RatingView]] = {}

    def attempts(self, rater_id: int) -> list[AttemptRecord]:
        if self._attempts is None:
            self._attempts = {}
            for attempt in self.svc.store.attempts():
                self._attempts.setdefault(attempt.rater_id, []).append(attempt)
        return self._attempts.get(rater_id, [])

    def submitted(self, bench: BenchmarkView) -> dict[int, RatingView]:
        if bench.id not in self._submitted:
            self._submitted[bench.id] = submitted_by(self.svc, bench)
        return self._submitted[bench.id]


def status_of(svc: Services, rater_id: int, *, today: dt.date, rule: CertificationRule | None = None,
              masters: Mapping[int, MasterScoreSet] | None = None,
              read: _ReadOnce | None = None) -> tuple[RaterStatus, DriftChart]:  # fmt: skip
    rule = rule or rule_in_force(svc)
    read = read or _ReadOnce(svc)
    attempts = [stored_attempt(a) for a in read.attempts(rater_id)]
    chart = drift_chart(svc, rater_id, rule, masters, read=read)
    return rater_status(attempts, today=today, drift=chart), chart


def rater_statuses(svc: Services, *, today: dt.date, person_ids: Iterable[int] | None = None) -> list[RaterCalibration]:
    """Every rater's calibration (treatment managers, external assessors, tutors; or ``person_ids``)."""
    rule = rule_in_force(svc)
    masters = svc.store.master_scores_in_force()
    wanted = {int(i) for i in person_ids} if person_ids is not None else None
    people = svc.store.list_people(ids=wanted)  # the people asked about only (My work asks of one)
    read = _ReadOnce(svc)
    found = []
    for p in people:
        if wanted is not None and p.id not in wanted:
            continue
        if wanted is None and not any(p.has_role(r) for r in CALIBRATION_ROLES):
            continue
        status, chart = status_of(svc, p.id, today=today, rule=rule, masters=masters, read=read)
        found.append(RaterCalibration(p.id, p.display_name, tuple(sorted(p.roles)), status, chart))
    return found


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
