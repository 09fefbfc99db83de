"""The audit's scoring summary and IQR: from a marks file kept elsewhere
(``session-rater audit-score``), or from marks entered or imported on the Audit page and kept
in the database; with, beside the monitoring criteria (C1), the evidence Session Rater holds:
monitoring coverage against the target, treatment managers' mean signed difference from the
benchmark, tutors' self-assessment bias.

The audit's marks are kept by the audit team (external assessors) and administrators
(Action.MANAGE_AUDIT). The evidence beside C1 covers the sessions of the audited area that the
person may see: an external assessor's assigned sessions, everything for an administrator.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from session_rater.db.reach_queries import ReachQueries
from session_rater.db.reports_store import ReportsStore
from session_rater.domain.access import Action, reaches
from session_rater.domain.audit_scoring import (
    AuditInstrument,
    AuditMarks,
    AuditScore,
    score_audit,
    unknown_criterion_message,
)
from session_rater.domain.bias import pair_with_benchmark, estimate_bias
from session_rater.domain.coverage import coverage_table
from session_rater.domain.model import Capacity
from session_rater.domain.report_records import AuditMarkSetView
from session_rater.errors import AuditError, FileContentError, NotFoundError, PolicyError, SessionRaterError
from session_rater.io.audit_files import (
    audit_marks_to_csv,
    audit_score_to_json,
    audit_score_to_text,
    entered_marks_to_csv,  # noqa: F401  (re-exported for the Audit page, which may not import io)
    load_audit_instrument,
    load_audit_marks,
    parse_audit_marks_csv,
)
from session_rater.io.pdf_report import render_audit_summary_pdf
from session_rater.settings import PROJECT_ROOT
from session_rater.usecases.coverage import Targets, targets_in_force
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.reports import N_BOOT, SEED, load_scores

DEFAULT_INSTRUMENT = PROJECT_ROOT / "audits" / "think-first-2002.yaml"
MONITORING_CRITERION = "C1"
"""The sub-section of the monitoring criteria ("C1.1" to "C1.5"): the evidence goes beside it."""


class AuditInputError(SessionRaterError):
    """The arguments, the instrument or the marks cannot be scored. ``problems``: each problem
    of a marks file, with its line number (empty for a problem of the arguments)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


# -- from a marks file (session-rater audit-score) ------------------------------------------------

def score_marks_file(marks_path: Path, *, instrument_path: Path = DEFAULT_INSTRUMENT,
                     mandatory: Sequence[str] | None = None) -> AuditScore:  # fmt: skip
    """The scoring summary of a marks CSV; AuditInputError says what is wrong (and scores nothing)."""
    path = Path(marks_path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise AuditInputError(f"{path} {what}; give the marks CSV (columns criterion_id,mark)")
    try:
        instrument = load_audit_instrument(instrument_path)
    except FileContentError as error:
        raise AuditInputError(f"{error}\nFix the instrument file, or leave out --instrument to use the shipped one.") from None
    instrument = with_mandatory(instrument, mandatory)
    try:
        marks = load_audit_marks(path, instrument)
    except FileContentError as error:
        raise AuditInputError(
            f"{error.problem_count:,d} problem(s) in {path}; nothing was scored. Fix them and run again "
            f"(marks are {instrument.describe_scale()}; see audits/README.md).", error.errors,
        ) from None  # fmt: skip
    try:
        return score_audit(marks, instrument)
    except SessionRaterError as error:
        raise AuditInputError(f"{path}: {error}") from None


def with_mandatory(instrument: AuditInstrument, mandatory: Sequence[str] | None) -> AuditInstrument:
    """The instrument with ``mandatory`` as its mandatory criteria (None: its own list)."""
    if mandatory is None:
        return instrument
    unknown = [c for c in mandatory if c not in instrument.criterion_ids]
    if unknown:
        raise AuditInputError("--mandatory: " + "; ".join(unknown_criterion_message(c, instrument) for c in unknown))
    return instrument.with_mandatory(mandatory)


def score_json(score: AuditScore) -> str:
    return json.dumps(audit_score_to_json(score), indent=2) + "\n"


def score_text(score: AuditScore) -> str:
    return audit_score_to_text(score)


# -- the Audit page -------------------------------------------------------------------------------

@dataclass(frozen=True)
class C1Evidence:
    """What Session Rater holds on monitoring, for the audited area."""

    lines: tuple[str, ...]

    def as_pdf_evidence(self, instrument: AuditInstrument) -> list[tuple[str, list[str]]]:
        c1 = [c.id for c in instrument.criteria if c.id.startswith(MONITORING_CRITERION + ".")]
        return [(MONITORING_CRITERION, list(self.lines))] if c1 else []


@dataclass(frozen=True)
class ScoredAudit:
    mark_set: AuditMarkSetView
    instrument: AuditInstrument
    marks: AuditMarks
    score: AuditScore


class Audits:
    """The audit's marks and scoring summary as one signed-in person may use them."""

    def __init__(self, me: Permitted) -> None:
        self.me = me
        self.svc = me.svc
        self.store = ReportsStore(me.svc.store.engine)

    def instrument(self, mandatory: Sequence[str] | None = None) -> AuditInstrument:
        self.me.require(Action.MANAGE_AUDIT)
        return with_mandatory(load_audit_instrument(DEFAULT_INSTRUMENT), mandatory)

    def mark_sets(self) -> list[AuditMarkSetView]:
        self.me.require(Action.MANAGE_AUDIT)
        return self.store.mark_sets()

    def areas(self) -> list[str]:
        """The areas of the sessions this person may see (the audited area is one of them), from
        the database by the rule of ``Permitted.reach`` (not every session read: issue 17)."""
        self.me.require(Action.MANAGE_AUDIT)
        return ReachQueries(self.svc.store.engine).recording_areas(self.me.reach())

    def parse(self, marks_csv: str, mandatory: Sequence[str], source: str) -> tuple[AuditInstrument, AuditMarks]:
        """Check a marks CSV against the instrument; FileContentError lists every problem."""
        instrument = self.instrument(mandatory)
        return instrument, parse_audit_marks_csv(marks_csv, instrument, source)

    def save(self, *, title: str, area: str, marks_csv: str, mandatory: Sequence[str],
             mark_set_id: int | None = None) -> ScoredAudit:  # fmt: skip
        """Keep an audit's marks (new, or replacing ``mark_set_id``'s): only marks that can be
        scored are kept, and the change is in the audit log."""
        self.me.require(Action.MANAGE_AUDIT)
        title, area = " ".join(title.split()), " ".join(area.split())
        if not title:
            raise AuditError("Give the audit a title (e.g. 'Follow-up audit, November 2002'); nothing was saved.")
        if not area:
            raise AuditError("Name the area audited; nothing was saved.")
        instrument, marks = self.parse(marks_csv, mandatory, "the marks")
        score = score_audit(marks, instrument)  # an AuditError says why it cannot be scored
        saved = self.store.save_mark_set(
            title=title, area=area, instrument_id=instrument.id, instrument_version=instrument.version,
            mandatory=list(instrument.mandatory), marks_csv=audit_marks_to_csv(marks, instrument),
            by=self.me.person.id, mark_set_id=mark_set_id,
        )  # fmt: skip
        return ScoredAudit(saved, instrument, marks, score)

    def scored(self, mark_set_id: int) -> ScoredAudit:
        self.me.require(Action.MANAGE_AUDIT)
        mark_set = self.store.mark_set(mark_set_id)
        instrument = self.instrument(mark_set.mandatory)
        if (instrument.id, instrument.version) != (mark_set.instrument_id, mark_set.instrument_version):
            raise NotFoundError(f"These marks were given under {mark_set.instrument_id} v{mark_set.instrument_version}, "
                                f"but the instrument file is now v{instrument.version}.")  # fmt: skip
        marks = parse_audit_marks_csv(mark_set.marks_csv, instrument, mark_set.title)
        return ScoredAudit(mark_set, instrument, marks, score_audit(marks, instrument))

    def c1_evidence(self, area: str, *, today: dt.date | None = None) -> C1Evidence:
        """Monitoring coverage against the target, treatment managers' mean signed difference
        from the benchmark and tutors' self-assessment bias, over the area's sessions this
        person may see."""
        from session_rater.usecases.monitoring import Monitoring

        self.me.require(Action.MANAGE_AUDIT)
        today = today or dt.date.today()
        in_area = [r for r in ReachQueries(self.svc.store.engine).recordings_in_area(area, self.me.reach())
                   if reaches(self.me.actor, self.svc.session_scope(r))]  # the rule of Permitted.recordings
        if not in_area:
            return C1Evidence((f"Session Rater holds no recorded session of {area} that you can see.",))
        ids = {r.id for r in in_area}
        lines = [f"Sessions of {area} in Session Rater that you can see: {len(in_area)}, recorded "
                 f"{min(r.recorded_on for r in in_area):%d/%m/%Y} to {max(r.recorded_on for r in in_area):%d/%m/%Y}."]
        targets = Targets()
        try:
            mon = Monitoring(self.me)
            targets = targets_in_force(mon.policies_in_force(mon.catalog()), None)
            roster = [s for s in mon.roster() if s.recording_id in ids]
            statuses = [a for a in mon.assignment_statuses(today) if a.recording_id in ids]
            monitored = [m for m in mon.monitored_sessions() if m.recording_id in ids]
        except (PolicyError, SessionRaterError):  # an assessor has no coverage view: count from the ratings
            roster, statuses, monitored = [], [], []
        scores = load_scores(self.svc)
        scores = scores[scores["session_id"].isin(ids)]
        if roster:
            total = coverage_table(roster, statuses, today=today, by="area", period=None, monitored=monitored,
                                   monitoring_percent=targets.monitoring_percent,
                                   catch_up_one_in=targets.catch_up_one_in)  # fmt: skip
            recorded, rated = int(total["recorded"].sum()), int(total["rated"].sum())
            share = f"{100 * rated / recorded:.1f}%" if recorded else "–"
            lines.append(f"Monitoring coverage: {rated} of {recorded} regular sessions monitored, that is with a treatment "
                         f"manager's rating submitted, drawn or not ({share}; target {targets.monitoring_percent:g}%).")  # fmt: skip
        monitored = scores.loc[scores["rater_role"] == Capacity.MONITORING.rater_role, "session_id"].nunique()
        regular = [r for r in in_area if not r.is_catch_up]
        lines.append(f"Sessions with a submitted treatment manager's rating: {monitored} of {len(in_area)} "
                     f"({len(regular)} regular, {len(in_area) - len(regular)} catch-up); target "
                     f"{targets.monitoring_percent:g}% of regular sessions, 1 in {targets.catch_up_one_in} catch-up.")  # fmt: skip
        if scores["score"].notna().any():
            paired = pair_with_benchmark(scores)
            if not paired.pairs.empty:
                by_role = estimate_bias(paired, n_boot=N_BOOT, seed=SEED).by_role
                for role, who in ((Capacity.MONITORING.rater_role, "Treatment managers' mean signed difference"),
                                  (Capacity.SELF_ASSESSMENT.rater_role, "Tutors' self-assessment bias")):  # fmt: skip
                    try:
                        e = by_role.get(role)
                    except KeyError:
                        lines.append(f"{who}: no pair with the reference.")
                        continue
                    interval = (f", 95% interval {e.ci[0]:+.2f} to {e.ci[1]:+.2f}" if e.ci
                                else " (no interval: fewer than 5 sessions)")  # fmt: skip
                    lines.append(f"{who} from the benchmark: {e.mean_diff:+.2f} points over {e.n} item scores of "
                                 f"{e.n_sessions} session{'s' if e.n_sessions != 1 else ''}{interval}; {e.share_over_by_1:.0%} scored a point or more "
                                 "above.")  # fmt: skip
                lines.append(f"Reference: {paired.reference.describe()}.")
        return C1Evidence(tuple(lines))

    def pdf(self, scored: ScoredAudit, *, created: dt.date | None = None) -> bytes:
        evidence = self.c1_evidence(scored.mark_set.area)
        return render_audit_summary_pdf(
            scored.score, area=scored.mark_set.area, audit=scored.mark_set.title, created=created,
            evidence=evidence.as_pdf_evidence(scored.instrument),
            evidence_title="What Session Rater holds on monitoring (beside C1)",
        )  # fmt: skip

    def csv(self, scored: ScoredAudit) -> bytes:
        """The marks as a marks CSV: what ``session-rater audit-score`` reads."""
        return scored.mark_set.marks_csv.encode("utf-8")
