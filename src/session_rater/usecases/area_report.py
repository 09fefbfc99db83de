"""The programme manager's area report: coverage against the targets, over-scoring by capacity
with its trend, agreement between capacities, each rater's difference from the reference and
calibration status, and the items most often over-scored; as the page shows it, as a PDF and as
an XLSX whose "Data dictionary" sheet describes every column (usecases.data_dictionary).

The reference is the master (benchmark) scores where they exist, else the external assessors'
(domain.bias); every interval is a seeded session-cluster bootstrap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from session_rater.db.recordings import Narrowed
from session_rater.domain.access import Action, reaches
from session_rater.domain.bias import estimate_bias, pair_with_benchmark
from session_rater.domain.coverage import coverage_table
from session_rater.domain.model import Capacity, Role
from session_rater.errors import NotFoundError, PolicyError
from session_rater.io.pdf_report import PdfReport
from session_rater.io.spreadsheets import xlsx_bytes
from session_rater.usecases.calibration_status import calibration_status, status_label
from session_rater.usecases.coverage import Targets, targets_in_force
from session_rater.usecases.data_dictionary import TABLES, dictionary_frame, headings, keys
from session_rater.usecases.kept_figures import KeptFigures
from session_rater.usecases.monitoring import Monitoring
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.score_snapshot import scores_frame
from session_rater.usecases.services import Services
from session_rater.usecases.reports import (
    N_BOOT,
    ROLE_ORDER,
    SEED,
    bias_by_period,
    capacity_label,
    item_info,
    pairwise_agreement,
    people_names,
)

TOP_ITEMS = 10
ALL_SITES = "All sites"
KEEP_FIGURES = 16
"""Areas' figures kept in the process (per area, period and trend, with the state of the scores
they are of), the oldest dropped first: a second visitor, a PDF or an XLSX of the same report
computes nothing again."""
INLINE_SECONDS = 0.5
"""After a submission, an area's figures whose last computation took at most this long are brought
up to date on the page run (an area of 7,000 scores: 0.2-0.3 s); longer ones (areas at 3 million
scores) beside it, the page showing the figures it has, with their age."""
_Figures = tuple[str, dict[str, pd.DataFrame], "pd.DataFrame | None"]
_FIGURES = KeptFigures("area-report", keep=KEEP_FIGURES)


@dataclass(frozen=True)
class FiguresAge:
    """How current a report's figures are (see :class:`usecases.kept_figures.Kept`)."""

    as_of: dt.datetime | None = None
    since: int = 0
    computing: bool = False

    @property
    def current(self) -> bool:
        return self.since == 0 and not self.computing


@dataclass(frozen=True)
class AreaReport:
    area: str
    by: str  # "month" | "quarter"
    date_from: dt.date | None
    date_to: dt.date | None
    today: dt.date
    targets: Targets
    reference: str
    tables: dict[str, pd.DataFrame]  # keyed as data_dictionary.TABLES, columns as its keys
    age: FiguresAge = FiguresAge()  # of the figures of the scores (all but Coverage and the raters' names)

    def period_text(self) -> str:
        if self.date_from is None and self.date_to is None:
            return "every session recorded"
        start = f"{self.date_from:%d/%m/%Y}" if self.date_from else "the first session"
        end = f"{self.date_to:%d/%m/%Y}" if self.date_to else "the last"
        return f"sessions recorded {start} to {end}"

    @property
    def stem(self) -> str:
        span = "-".join(f"{d:%Y-%m-%d}" for d in (self.date_from, self.date_to) if d) or "all"
        return f"area-report-{''.join(c if c.isalnum() else '-' for c in self.area.lower())}-{span}"


class AreaReports:
    def __init__(self, me: Permitted) -> None:
        self.me = me
        self.svc = me.svc

    def areas(self) -> list[str]:
        """The areas whose report this person may see."""
        self.me.require(Action.VIEW_AREA_REPORT)
        known = [a for a in self.svc.store.recording_areas() if a]  # one DISTINCT query
        return [a for a in known if self.me.decide(Action.VIEW_AREA_REPORT, area=a)]

    def report(self, area: str, *, by: str = "quarter", date_from: dt.date | None = None,
               date_to: dt.date | None = None, today: dt.date | None = None, wait: bool = False) -> AreaReport:  # fmt: skip
        """The report of ``area``. Its figures may be of the scores as they were a moment ago while
        newer ones are computed (``report.age`` says); ``wait``: of the scores as they are now (files)."""
        self.me.require(Action.VIEW_AREA_REPORT, area=area)
        if by not in ("month", "quarter"):
            raise NotFoundError(f"The area report is per month or quarter, not {by!r}.")
        today = today or dt.date.today()

        # the area's sessions of the period in this person's reach, selected in SQL (then checked
        # against the rule itself), never every session in reach
        shown = Narrowed.of(self.me.reach(), area=area, date_from=date_from, date_to=date_to)
        in_area = {r.id for r in self.svc.store.list_recordings(within=shown)
                   if reaches(self.me.actor, self.svc.session_scope(r))}  # fmt: skip
        mon = Monitoring(self.me)
        try:
            targets = targets_in_force(mon.policies_in_force(mon.catalog()), None)
        except PolicyError:
            targets = Targets()
        snapshot = scores_frame(self.svc)
        scores = snapshot.frame[snapshot.frame["session_id"].isin(in_area)].reset_index(drop=True)
        tables = {"Coverage": self._coverage(mon, shown, in_area, by, targets, today)}
        sessions = hashlib.sha256(np.sort(np.fromiter(in_area, np.int64, len(in_area))).tobytes()).digest()
        # the statistics of one state of the scores are computed once (seeded: always the same); after a
        # submission, slow ones are brought up to date beside the page (see usecases.kept_figures)
        kept = _FIGURES.get(self.svc, (self.svc.settings.database_url, by, sessions), snapshot,
                            lambda: self._figures(scores, by), inline_seconds=INLINE_SECONDS, wait=wait)  # fmt: skip
        reference, figure_tables, raters = kept.value
        tables.update(figure_tables)
        # who the raters are and their calibration status change apart from the scores: read each time
        tables["Raters"] = self._raters(raters)
        tables = {name: tables[name] for name in ("Coverage", "Over-scoring", "Over-scoring trend", "Agreement",
                                                  "Raters", "Items over-scored")}  # the sheets' order  # fmt: skip
        return AreaReport(area, by, date_from, date_to, today, targets, reference, tables,
                          FiguresAge(kept.as_of, kept.since, kept.computing))  # fmt: skip

    def _figures(self, scores: pd.DataFrame, by: str) -> _Figures:
        """The tables computed from the area's scores alone (bias, its trend, the items, agreement,
        each rater's sessions and difference from the reference)."""
        reference = "no reference: no session of the area has master or external assessors' scores"
        tables = {name: pd.DataFrame(columns=keys(name)) for name in
                  ("Over-scoring", "Over-scoring trend", "Agreement", "Items over-scored")}  # fmt: skip
        if not scores["score"].notna().any():
            return reference, tables, None
        by_rater = None
        paired = pair_with_benchmark(scores)
        if not paired.pairs.empty:
            estimates = estimate_bias(paired, n_boot=N_BOOT, seed=SEED)
            reference = paired.reference.describe()
            tables["Over-scoring"] = self._by_capacity(estimates.by_role.to_frame())
            tables["Over-scoring trend"] = self._trend(scores, by)
            tables["Items over-scored"] = self._items(estimates.by_item.to_frame(), scores)
            by_rater = estimates.by_rater.to_frame()
        tables["Agreement"] = self._agreement(scores)
        return reference, tables, self._rater_figures(scores, by_rater)

    # -- the tables ---------------------------------------------------------------------------
    def _coverage(self, mon: Monitoring, shown: Narrowed, in_area: set[int], by: str, t: Targets,
                  today: dt.date) -> pd.DataFrame:  # fmt: skip
        """Coverage of the area's sessions: the roster, assignments and monitored sessions of
        ``shown`` only (selected in SQL), as Coverage computes them."""
        mon.me.require(Action.VIEW_COVERAGE)
        sampling = self.svc.sampling
        roster = [s for s in sampling.roster(shown) if s.recording_id in in_area]
        if not roster:
            return pd.DataFrame(columns=keys("Coverage"))
        statuses = [a for a in sampling.assignment_statuses(today=today, within=shown) if a.recording_id in in_area]
        monitored = [s for s in sampling.monitored_sessions(shown) if s.recording_id in in_area]  # drawn or not
        kwargs = {"today": today, "monitoring_percent": t.monitoring_percent, "catch_up_one_in": t.catch_up_one_in,
                  "monitored": monitored}
        per_site = coverage_table(roster, statuses, by="site", period=by, **kwargs)  # type: ignore[arg-type]
        total = coverage_table(roster, statuses, by="area", period=None, **kwargs)  # type: ignore[arg-type]
        total = total.rename(columns={"area": "site"}).assign(site=ALL_SITES, period="whole period")
        return pd.concat([per_site, total], ignore_index=True)[keys("Coverage")]

    @staticmethod
    def _label_roles(frame: pd.DataFrame, column: str = "rater_role") -> pd.DataFrame:
        order = {role: k for k, role in enumerate(ROLE_ORDER)}
        frame = frame.assign(_order=frame[column].map(order)).sort_values("_order", kind="stable")
        return frame.assign(capacity=frame[column].map(capacity_label)).drop(columns="_order")

    def _by_capacity(self, by_role: pd.DataFrame) -> pd.DataFrame:
        return self._label_roles(by_role)[keys("Over-scoring")].reset_index(drop=True)

    def _trend(self, scores: pd.DataFrame, by: str) -> pd.DataFrame:
        scores = scores.assign(period=[f"{d.year}-{d.month:02d}" if by == "month" else f"{d.year}Q{(d.month - 1) // 3 + 1}"
                                       for d in scores["recorded_on"]])  # fmt: skip
        trend = bias_by_period(scores, "period")
        if trend.empty:
            return pd.DataFrame(columns=keys("Over-scoring trend"))
        return self._label_roles(trend).sort_values(["period"], kind="stable")[keys("Over-scoring trend")].reset_index(drop=True)

    def _items(self, by_item: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
        info = item_info(self.svc, scores)
        over = by_item[by_item["rater_role"].isin([Capacity.SELF_ASSESSMENT.rater_role, Capacity.MONITORING.rater_role])]
        over = over.assign(item=over["item_id"].map(lambda i: info[i].title if i in info else i))
        over = self._label_roles(over).sort_values(["share_over_by_1", "mean_diff"], ascending=False, kind="stable")
        return over.head(TOP_ITEMS)[keys("Items over-scored")].reset_index(drop=True)

    def _agreement(self, scores: pd.DataFrame) -> pd.DataFrame:
        pairs = pairwise_agreement(scores)
        if pairs.empty:
            return pd.DataFrame(columns=keys("Agreement"))
        order = {role: k for k, role in enumerate(ROLE_ORDER)}
        a_first = [(order.get(ra, 9), str(ia)) < (order.get(rb, 9), str(ib)) for ra, ia, rb, ib in
                   pairs[["role_a", "rater_a", "role_b", "rater_b"]].itertuples(index=False)]  # fmt: skip
        pairs = pairs[a_first]
        pairs = pairs.assign(exact_n=pairs["exact"] * pairs["n"], within_n=pairs["within_one"] * pairs["n"],
                             diff_n=pairs["mean_diff"] * pairs["n"])  # fmt: skip
        grouped = pairs.groupby(["role_a", "role_b"], sort=False)[["n", "exact_n", "within_n", "diff_n"]].sum().reset_index()
        grouped = grouped.assign(exact=grouped["exact_n"] / grouped["n"], within_one=grouped["within_n"] / grouped["n"],
                                 mean_diff=grouped["diff_n"] / grouped["n"],
                                 capacity_a=grouped["role_a"].map(capacity_label),
                                 capacity_b=grouped["role_b"].map(capacity_label),
                                 _order=[order.get(a, 9) * 10 + order.get(b, 9) for a, b in
                                         grouped[["role_a", "role_b"]].itertuples(index=False)])  # fmt: skip
        return grouped.sort_values("_order")[keys("Agreement")].reset_index(drop=True)

    @staticmethod
    def _rater_figures(scores: pd.DataFrame, by_rater: pd.DataFrame | None) -> pd.DataFrame:
        """Each rater's (but self-assessment's) sessions and difference from the reference."""
        raters = scores[scores["rater_role"] != Capacity.SELF_ASSESSMENT.rater_role]
        counts = raters.groupby(["rater_id", "rater_role"])["session_id"].nunique().reset_index(name="sessions")
        if by_rater is not None:
            return counts.merge(by_rater[["rater_id", "rater_role", "mean_diff", "ci_low", "ci_high"]],
                                on=["rater_id", "rater_role"], how="left")  # fmt: skip
        return counts.assign(mean_diff=float("nan"), ci_low=float("nan"), ci_high=float("nan"))

    def _raters(self, counts: pd.DataFrame | None) -> pd.DataFrame:
        """The raters' figures with their names and calibration statuses (read on each report)."""
        if counts is None:
            return pd.DataFrame(columns=keys("Raters"))
        ids = [int(i) for i in counts["rater_id"]]
        names = people_names(self.svc)  # one narrow query
        status = calibration_status(ids, svc=self.svc)
        counts = counts.assign(rater=[names.get(i, f"rater {i}") for i in ids],
                               calibration=[status_label(status[i]) for i in ids])  # fmt: skip
        counts = self._label_roles(counts).sort_values(["capacity", "rater"], kind="stable")
        return counts[keys("Raters")].reset_index(drop=True)

    # -- files --------------------------------------------------------------------------------
    def xlsx(self, report: AreaReport) -> bytes:
        return area_report_xlsx(report)

    def pdf(self, report: AreaReport, *, created: dt.date | None = None) -> bytes:
        return render_area_pdf(report, created=created)


def warm_area_report(svc: Services) -> None:
    """Compute the figures of the report the page opens on (the first area, per quarter, every
    session) as an administrator sees it, so that its first visitor does not wait for them: for
    the app's warm-up, after the scores' snapshot (a third of a second an area at 300 k scores)."""
    admins = svc.store.list_people(Role.ADMINISTRATOR)
    if not admins:
        return
    reports = AreaReports(Permitted(svc, admins[0]))
    areas = reports.areas()
    if areas:
        reports.report(areas[0])


def _about(r: AreaReport) -> pd.DataFrame:
    t = r.targets
    return pd.DataFrame([
        ("Area", r.area), ("Sessions", r.period_text()), ("Trend per", r.by),
        ("Targets", f"{t.monitoring_percent:g}% of recorded sessions, 1 in {t.catch_up_one_in} catch-up ({t.source})"),
        ("Reference", r.reference), ("Overdue as of", f"{r.today:%d/%m/%Y}"),
        ("Made by", "Session Rater, Area report"),
        ("Data dictionary", "The sheet 'Data dictionary' says what every column holds and how it is computed."),
    ], columns=["Figure", "Value"])  # fmt: skip


def area_report_xlsx(r: AreaReport) -> bytes:
    sheets = {"About": _about(r)}
    widths: dict[str, list[float]] = {"About": [18, 100]}
    for name, frame in r.tables.items():
        sheets[name] = frame.rename(columns=headings(name))
        widths[name] = [max(12.0, min(40.0, len(h) + 4.0)) for h in sheets[name].columns]
    sheets["Data dictionary"] = dictionary_frame()
    widths["Data dictionary"] = [20, 24, 20, 110]
    return xlsx_bytes(sheets, widths)


def _fmt(value: object, kind: str = "") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return "–"
    if kind == "pct":
        return f"{float(value):.0%}"  # type: ignore[arg-type]
    if kind == "diff":
        return f"{float(value):+.2f}"  # type: ignore[arg-type]
    if kind == "pct1":
        return f"{float(value):.1f}%"  # type: ignore[arg-type]
    if isinstance(value, bool) or str(value) in ("True", "False"):
        return "yes" if str(value) == "True" else "NO"
    return str(value)


def _interval(low: object, high: object) -> str:
    if low is None or high is None or pd.isna(low) or pd.isna(high):  # type: ignore[arg-type]
        return "–"
    return f"{float(low):+.2f} to {float(high):+.2f}"  # type: ignore[arg-type]


def render_area_pdf(r: AreaReport, *, created: dt.date | None = None) -> bytes:
    t = r.targets
    report = PdfReport(f"Area report: {r.area}", metadata=[
        f"Area: {r.area} · {r.period_text()} · trend per {r.by}",
        f"Targets: {t.monitoring_percent:g}% of recorded sessions, 1 in {t.catch_up_one_in} catch-up sessions ({t.source})",
        f"Reference: {r.reference}", f"Overdue as of {r.today:%d/%m/%Y}",
    ], subject="Programme manager's area report", created=created, footer=f"Area report: {r.area}")  # fmt: skip
    tb = r.tables
    report.heading("Coverage")
    cov = tb["Coverage"]
    if cov.empty:
        report.paragraph("No session of the area was recorded in the period.")
    else:
        report.table(["Site", "Period", "Recorded", "Monitored", "Target", "Met", "Catch-up monitored", "Overdue"],
                     [[row.site, row.period, _fmt(row.recorded), f"{_fmt(row.rated)} ({_fmt(row.monitored_percent, 'pct1')})",
                       _fmt(row.target), _fmt(row.meets_target),
                       f"{_fmt(row.catch_up_rated)} of {_fmt(row.catch_up_required)} required"
                       + ("" if str(row.catch_up_compliant) == "True" else " (short)"), _fmt(row.overdue)]
                      for row in cov.itertuples(index=False)],
                     widths=[14, 13, 11, 15, 9, 7, 20, 11], align="llrrrlrr", shade_rows=[len(cov) - 1])  # fmt: skip
        report.paragraph("Monitored: sampled sessions whose assigned treatment manager has submitted a rating. "
                         "Sessions are sampled by the draws of the Sampling page.", style="small")  # fmt: skip
    report.heading("Over-scoring by capacity")
    ov = tb["Over-scoring"]
    if ov.empty:
        report.paragraph(f"No figure: {r.reference}.")
    else:
        report.table(["Capacity", "Pairs", "Sessions", "Mean difference", "95% interval", "Share 1+ above"],
                     [[row.capacity, row.n, row.n_sessions, _fmt(row.mean_diff, "diff"), _interval(row.ci_low, row.ci_high),
                       _fmt(row.share_over_by_1, "pct")] for row in ov.itertuples(index=False)],
                     widths=[28, 9, 10, 15, 22, 16], align="lrrrrr")  # fmt: skip
        report.paragraph("Mean difference: score minus reference; positive is over-scoring. No interval below five "
                         "sessions.", style="small")  # fmt: skip
    trend = tb["Over-scoring trend"]
    if not trend.empty:
        report.heading(f"Trend per {r.by}", level=2)
        report.table(["Period", "Capacity", "Pairs", "Mean difference", "95% interval"],
                     [[row.period, row.capacity, row.n, _fmt(row.mean_diff, "diff"), _interval(row.ci_low, row.ci_high)]
                      for row in trend.itertuples(index=False)], widths=[14, 34, 10, 18, 24], align="llrrr")  # fmt: skip
    report.heading("Agreement between capacities")
    ag = tb["Agreement"]
    if ag.empty:
        report.paragraph("No item was scored by raters of two capacities.")
    else:
        report.table(["Capacity A", "Capacity B", "Items", "Exact", "Within one", "Mean diff. (A - B)"],
                     [[row.capacity_a, row.capacity_b, row.n, _fmt(row.exact, "pct"), _fmt(row.within_one, "pct"),
                       _fmt(row.mean_diff, "diff")] for row in ag.itertuples(index=False)],
                     widths=[26, 26, 9, 10, 12, 17], align="llrrrr")  # fmt: skip
        report.paragraph("Agreement is not accuracy: two lenient raters can agree and both be wrong. Read it beside "
                         "the difference from the reference.", style="small")  # fmt: skip
    report.heading("Raters")
    rt = tb["Raters"]
    if rt.empty:
        report.paragraph("No treatment manager or assessor has a submitted rating in the area yet.")
    else:
        report.table(["Rater", "Capacity", "Sessions", "Mean difference", "95% interval", "Calibration"],
                     [[row.rater, row.capacity, row.sessions, _fmt(row.mean_diff, "diff"),
                       _interval(row.ci_low, row.ci_high), row.calibration] for row in rt.itertuples(index=False)],
                     widths=[18, 23, 11, 14, 18, 16], align="llrrrl")  # fmt: skip
        report.paragraph("Raters whose scores are the reference (external assessors, when there are no master scores) "
                         "have no difference from it.", style="small")  # fmt: skip
    report.heading(f"Items most often over-scored (top {TOP_ITEMS})")
    it = tb["Items over-scored"]
    if it.empty:
        report.paragraph("No figure: no self-assessment or monitoring score has a reference.")
    else:
        report.table(["Item", "Capacity", "Pairs", "Share 1+ above", "Mean difference"],
                     [[row.item, row.capacity, row.n, _fmt(row.share_over_by_1, "pct"), _fmt(row.mean_diff, "diff")]
                      for row in it.itertuples(index=False)], widths=[42, 24, 8, 13, 13], align="llrrr")  # fmt: skip
    report.heading("What the columns mean")
    report.paragraph("Every column of this report, and of its XLSX, is described in the XLSX's 'Data dictionary' "
                     "sheet; 'session-rater export --dictionary' prints the same dictionary.", style="small")  # fmt: skip
    for name in ("Over-scoring", "Agreement", "Items over-scored"):
        report.paragraph(f"{name}: {TABLES[name][0]}", style="small")
    return report.to_bytes()
