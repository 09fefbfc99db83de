"""The treatment manager's monitoring report, per month or quarter: the sessions of their teams
monitored against the targets (10% of recorded sessions, 1 in 7 catch-up sessions, or the
sampling policy's), their overdue work, their double-rated sessions and how far they agreed
with the other rater, their mean signed difference from the benchmark with its interval, and
their calibration status.

A session counts as monitored by the manager when they have submitted a monitoring rating of
it (of any of its tutors). The reference for the difference is the master (benchmark) scores
where they exist, else the external assessors' (domain.bias).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from session_rater.db.recordings import Narrowed
from session_rater.domain.access import Action, reaches
from session_rater.domain.bias import BiasEstimate, bias_against_benchmark
from session_rater.domain.model import Capacity, Role
from session_rater.domain.records import PersonView, RecordingView
from session_rater.domain.report_periods import describe_period, period_bounds, periods
from session_rater.domain.sampling import ceil_percent
from session_rater.domain.sampling.work import QueueItem
from session_rater.errors import AccessDeniedError, PolicyError
from session_rater.io.pdf_report import PdfReport
from session_rater.usecases.calibration_status import calibration_status, status_label
from session_rater.usecases.coverage import Targets, targets_in_force
from session_rater.usecases.monitoring import Monitoring
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.reports import SEED, N_BOOT, capacity_label, load_scores, people_names

MANAGER_ROLE = Capacity.MONITORING.rater_role


@dataclass(frozen=True)
class TargetLine:
    """Monitoring against the targets, for one team (or "All teams")."""

    team: str
    recorded: int
    monitored: int
    target: int
    catch_up_recorded: int
    catch_up_monitored: int
    catch_up_required: int

    @property
    def meets_target(self) -> bool:
        return self.monitored >= self.target

    @property
    def catch_up_compliant(self) -> bool:
        return self.catch_up_monitored >= self.catch_up_required


@dataclass(frozen=True)
class SessionLine:
    recording_id: int
    recorded_on: dt.date
    label: str
    team: str
    catch_up: bool
    tutors: str
    monitored: bool


@dataclass(frozen=True)
class DoubleRated:
    """A (session, tutor) the manager rated that another rater rated too."""

    recorded_on: dt.date
    label: str
    tutor: str
    other: str  # "Ruth Okafor (external assessment)"
    n: int  # items both scored
    exact: float
    within_one: float
    mean_diff: float  # manager minus the other rater


@dataclass(frozen=True)
class MonitoringReport:
    manager: PersonView
    period: str
    period_text: str
    date_from: dt.date
    date_to: dt.date
    today: dt.date
    teams: tuple[str, ...]
    targets: Targets
    target_lines: tuple[TargetLine, ...]
    sessions: tuple[SessionLine, ...]
    overdue: tuple[QueueItem, ...]
    double_rated: tuple[DoubleRated, ...]
    bias: BiasEstimate | None
    reference: str
    calibration: str

    @property
    def pooled_agreement(self) -> tuple[int, float | None, float | None]:
        """(items compared, exact, within one) over every double-rated session."""
        n = sum(d.n for d in self.double_rated)
        if not n:
            return 0, None, None
        return (n, sum(d.exact * d.n for d in self.double_rated) / n,
                sum(d.within_one * d.n for d in self.double_rated) / n)  # fmt: skip


class MonitoringReports:
    """Treatment managers' monitoring reports as one signed-in person may see them."""

    def __init__(self, me: Permitted) -> None:
        self.me = me
        self.svc = me.svc

    def _areas_of(self, manager_id: int) -> set[str]:
        return {area for area, _ in self.svc.actor(self.svc.person(manager_id)).managed_teams}

    def managers(self) -> list[PersonView]:
        """The treatment managers whose report this person may see (the areas of the teams each
        manages read in one query, not each manager's whole scope)."""
        self.me.require(Action.VIEW_MONITORING_REPORT)
        areas = self.svc.accounts_store.managed_team_areas()
        return [p for p in self.svc.store.list_people(Role.TREATMENT_MANAGER)
                if self.me.decide(Action.VIEW_MONITORING_REPORT, manager_id=p.id,
                                  manager_areas=areas.get(p.id, frozenset()))]  # fmt: skip

    def _require(self, manager_id: int) -> PersonView:
        manager = self.svc.person(manager_id)
        if not manager.has_role(Role.TREATMENT_MANAGER):
            raise AccessDeniedError(f"{manager.display_name} is not a treatment manager: monitoring reports are theirs.")
        self.me.require(Action.VIEW_MONITORING_REPORT, manager_id=manager_id, manager_areas=self._areas_of(manager_id))
        return manager

    def _theirs(self, manager_id: int, start: dt.date | None = None, end: dt.date | None = None) -> Narrowed:
        """The manager's sessions (their teams', and any drawn for them) in this person's reach,
        recorded from ``start`` to ``end``, as SQL."""
        scope = self.svc.actor(self.svc.person(manager_id))
        return Narrowed.of(self.me.reach(), of_teams=scope.managed_teams, of_recordings=scope.monitoring_assignments,
                           date_from=start, date_to=end)  # fmt: skip

    def _sessions(self, manager_id: int, start: dt.date | None = None, end: dt.date | None = None) -> list[RecordingView]:
        """The manager's sessions recorded from ``start`` to ``end`` in this person's reach:
        selected in SQL, then checked against the access rule itself."""
        found = self.svc.store.list_recordings(within=self._theirs(manager_id, start, end))
        return [r for r in found if reaches(self.me.actor, self.svc.session_scope(r))]

    def periods(self, manager_id: int, kind: str) -> list[str]:
        """The months or quarters holding any of the manager's sessions, newest first (their
        distinct dates, read in SQL)."""
        self._require(manager_id)
        return periods(self.svc.store.recorded_dates(self._theirs(manager_id)), kind)

    def report(self, manager_id: int, period: str, *, today: dt.date | None = None) -> MonitoringReport:
        manager = self._require(manager_id)
        today = today or dt.date.today()
        start, end = period_bounds(period)
        mon = Monitoring(self.me)
        try:
            targets = targets_in_force(mon.policies_in_force(mon.catalog()), None)
        except (PolicyError, AccessDeniedError):
            targets = Targets()
        sessions = self._sessions(manager_id, start, end)
        ids = {r.id for r in sessions}
        scores = load_scores(self.svc)
        scores = scores[scores["session_id"].isin(ids)]
        mine = scores[(scores["rater_id"] == manager_id) & (scores["rater_role"] == MANAGER_ROLE)]
        monitored = set(mine["session_id"])
        lines = [SessionLine(r.id, r.recorded_on, r.label, r.team or "", r.is_catch_up,
                             ", ".join(t.display_name for t in r.tutors), r.id in monitored)
                 for r in sorted(sessions, key=lambda r: (r.recorded_on, r.id))]  # fmt: skip
        teams = sorted({line.team for line in lines} | {t for _, t in self.svc.actor(manager).managed_teams})
        target_lines = [self._target_line(team, [s for s in lines if s.team == team], targets) for team in teams]
        if len(target_lines) > 1:
            target_lines.append(self._target_line("All teams", lines, targets))
        overdue = [q for q in self.svc.sampling.work_queue(manager_id, today=today) if q.overdue]
        shown = self.svc.store.reachable_ids([q.recording_id for q in overdue], self.me.reach())
        overdue = [q for q in overdue if q.recording_id in shown]  # of the sessions this person may see
        names = people_names(self.svc)  # one narrow query
        bias, reference = self._bias(scores, manager_id)
        return MonitoringReport(
            manager=manager, period=period, period_text=describe_period(period), date_from=start, date_to=end,
            today=today, teams=tuple(teams), targets=targets, target_lines=tuple(target_lines), sessions=tuple(lines),
            overdue=tuple(overdue), double_rated=tuple(self._double_rated(scores, manager_id, sessions, names)),
            bias=bias, reference=reference,
            calibration=status_label(calibration_status([manager_id], svc=self.svc, today=today)[manager_id]),
        )  # fmt: skip

    @staticmethod
    def _target_line(team: str, lines: list[SessionLine], t: Targets) -> TargetLine:
        regular = [s for s in lines if not s.catch_up]
        catch_up = [s for s in lines if s.catch_up]
        return TargetLine(
            team, len(regular), sum(s.monitored for s in regular), int(ceil_percent(t.monitoring_percent, len(regular))),
            len(catch_up), sum(s.monitored for s in catch_up), -(-len(catch_up) // t.catch_up_one_in),
        )  # fmt: skip

    @staticmethod
    def _double_rated(scores: pd.DataFrame, manager_id: int, sessions: list[RecordingView],
                      names: dict[object, str]) -> list[DoubleRated]:  # fmt: skip
        scored = scores[scores["score"].notna()]
        mine = scored[(scored["rater_id"] == manager_id) & (scored["rater_role"] == MANAGER_ROLE)]
        others = scored[(scored["rater_role"] != "tutor") & ~((scored["rater_id"] == manager_id)
                                                               & (scored["rater_role"] == MANAGER_ROLE))]  # fmt: skip
        both = mine.merge(others, on=["session_id", "tutor_id", "item_id"], suffixes=("", "_other"))
        by_id = {r.id: r for r in sessions}
        out = []
        for (session_id, tutor_id, rater, role), part in both.groupby(
                ["session_id", "tutor_id", "rater_id_other", "rater_role_other"], sort=True):  # fmt: skip
            d = part["score"] - part["score_other"]
            recording = by_id[int(session_id)]
            out.append(DoubleRated(
                recording.recorded_on, recording.label, names.get(int(tutor_id), f"tutor {tutor_id}"),
                f"{names.get(int(rater), f'rater {rater}')} ({capacity_label(str(role)).lower()})", int(len(d)),
                float((d == 0).mean()), float((d.abs() <= 1).mean()), float(d.mean()),
            ))  # fmt: skip
        return sorted(out, key=lambda x: (x.recorded_on, x.label, x.tutor))

    @staticmethod
    def _bias(scores: pd.DataFrame, manager_id: int) -> tuple[BiasEstimate | None, str]:
        if scores["score"].notna().sum() == 0:
            return None, "no reference: no scores in this period"
        report = bias_against_benchmark(scores, n_boot=N_BOOT, seed=SEED)
        try:
            return report.by_rater.get(manager_id, MANAGER_ROLE), report.reference.describe()
        except KeyError:
            return None, report.reference.describe()

    def pdf(self, report: MonitoringReport, *, created: dt.date | None = None) -> bytes:
        return render_monitoring_pdf(report, created=created)


def bias_sentence(bias: BiasEstimate | None) -> str:
    """The mean signed difference in words, with its interval where there is one."""
    if bias is None:
        return ("No figure: none of this manager's scores in the period has a reference score (master or external "
                "assessor) of the same session, tutor and item.")  # fmt: skip
    text = (f"{bias.mean_diff:+.2f} points over {bias.n} item scores of {bias.n_sessions} session"
            f"{'s' if bias.n_sessions != 1 else ''}")  # fmt: skip
    if bias.ci is None:
        text += " (no interval: fewer than 5 sessions with a reference)"
    else:
        text += f", 95% interval {bias.ci[0]:+.2f} to {bias.ci[1]:+.2f}"
    return text + f"; {bias.share_over_by_1:.0%} of items scored at least one point above the reference."


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def render_monitoring_pdf(r: MonitoringReport, *, created: dt.date | None = None) -> bytes:
    t = r.targets
    report = PdfReport(
        f"Monitoring report: {r.manager.display_name}",
        metadata=[f"Treatment manager: {r.manager.display_name}", f"Period: {r.period_text}",
                  f"Teams: {', '.join(r.teams) or 'none'}",
                  f"Targets: {t.monitoring_percent:g}% of recorded sessions, 1 in {t.catch_up_one_in} catch-up sessions "
                  f"({t.source})", f"Overdue as of {r.today:%d/%m/%Y} · Calibration: {r.calibration}"],
        subject="Treatment manager's monitoring report", created=created,
        footer=f"Monitoring report: {r.manager.display_name}, {r.period}",
    )  # fmt: skip
    report.heading("Monitoring against the targets")
    report.table(["Team", "Recorded", "Monitored", "Target", "Met", "Catch-up recorded", "Catch-up monitored",
                  "Required (1 in " + str(t.catch_up_one_in) + ")", "Met"],
                 [[x.team, x.recorded, x.monitored, x.target, "yes" if x.meets_target else "NO", x.catch_up_recorded,
                   x.catch_up_monitored, x.catch_up_required, "yes" if x.catch_up_compliant else "NO"]
                  for x in r.target_lines],
                 widths=[17, 10, 11, 8, 6, 11, 12, 12, 6], align="lrrrlrrrl",
                 shade_rows=[len(r.target_lines) - 1] if len(r.target_lines) > 1 else [])  # fmt: skip
    report.paragraph("Monitored: sessions with this manager's submitted monitoring rating. Target: "
                     f"{t.monitoring_percent:g}% of regular sessions recorded, rounded up.", style="small")  # fmt: skip
    report.heading("Sessions recorded in the period")
    if r.sessions:
        report.table(["Recorded", "Session", "Team", "Tutors", "Catch-up", "Monitored"],
                     [[f"{s.recorded_on:%d/%m/%Y}", s.label, s.team, s.tutors, "yes" if s.catch_up else "",
                       "yes" if s.monitored else "not yet"] for s in r.sessions],
                     widths=[12, 33, 13, 20, 10, 12])  # fmt: skip
    else:
        report.paragraph("No session of this manager's teams was recorded in the period.")
    report.heading("Overdue work")
    if r.overdue:
        report.table(["Due", "Session", "Why drawn", "As", "Status"],
                     [[f"{q.due_on:%d/%m/%Y}" if q.due_on else "", q.label, q.reason,
                       "second rater" if q.as_second_rater else "first rater", q.status.replace("_", " ")]
                      for q in r.overdue], widths=[11, 35, 30, 12, 12])  # fmt: skip
    else:
        report.paragraph(f"Nothing overdue on {r.today:%d/%m/%Y}.")
    report.heading("Double-rated sessions and agreement")
    if r.double_rated:
        report.table(["Recorded", "Session", "Tutor", "Other rater", "Items", "Exact", "Within 1", "Mean diff."],
                     [[f"{d.recorded_on:%d/%m/%Y}", d.label, d.tutor, d.other, d.n, _pct(d.exact), _pct(d.within_one),
                       f"{d.mean_diff:+.2f}"] for d in r.double_rated],
                     widths=[13, 24, 12, 19, 7, 8, 9, 9], align="llllrrrr")  # fmt: skip
        n, exact, within = r.pooled_agreement
        report.paragraph(f"Over all {n} items compared: exact agreement {_pct(exact)}, within one point {_pct(within)}. "
                         "Mean diff.: this manager's score minus the other rater's.", style="small")  # fmt: skip
    else:
        report.paragraph("No session this manager rated in the period was rated by another rater too.")
    report.heading("Difference from the benchmark")
    report.paragraph(bias_sentence(r.bias))
    report.paragraph(f"Reference: {r.reference}. Positive means scoring above the reference (over-scoring). "
                     "The interval is a session-cluster bootstrap (seeded, so the same data give the same interval).",
                     style="small")  # fmt: skip
    report.heading("Calibration")
    report.paragraph(f"Status: {r.calibration}. Calibration is against the master scores of benchmark sessions, "
                     "by the certification rule in force (session-rater calibration lists every rater).")  # fmt: skip
    return report.to_bytes()
