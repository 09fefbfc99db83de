"""Coverage: sessions recorded, sampled and monitored against the policy's targets, per area,
site, treatment manager or tutor and per month or quarter (the figures are
:func:`~session_rater.domain.coverage.coverage_table`'s), over the sessions the person may see:
counted in the database per group and month, then finished by
:func:`~session_rater.domain.coverage.coverage_from_counts`, so the page reads a row per group
and month, never every session.
The Coverage page shows it; its CSV and XLSX are the same table (see usecases.exports).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from session_rater.domain.coverage import coverage_from_counts
from session_rater.domain.sampling import SamplingPolicy
from session_rater.errors import PolicyError
from session_rater.io.spreadsheets import csv_bytes, xlsx_bytes
from session_rater.usecases.monitoring import Monitoring, PolicyInForce

GROUPINGS = {"area": "Area", "site": "Site", "treatment_manager": "Treatment manager", "tutor": "Tutor"}
PERIODS = {"month": "Month", "quarter": "Quarter", "all": "All time"}
MANAGER_HIDDEN = {
    "recorded", "partly_rated", "target", "monitored_percent", "target_percent", "meets_target", "catch_up_recorded",
    "catch_up_required", "catch_up_compliant", "audit_sampled", "audit_rated",
}  # per treatment manager there is no share of sessions recorded  # fmt: skip


@dataclass(frozen=True)
class Targets:
    """The targets the figures are measured against, and where they come from."""

    monitoring_percent: float = 10.0
    catch_up_one_in: int = 7
    source: str = "the inspectorate's defaults (no sampling policy in force)"

    @classmethod
    def of(cls, policy: SamplingPolicy) -> Targets:
        return cls(
            policy.monitoring.percent if policy.monitoring else cls.monitoring_percent,
            policy.catch_up.one_in if policy.catch_up else cls.catch_up_one_in,
            f"policy {policy.label}",
        )


def column_definitions(by: str, t: Targets) -> dict[str, tuple[str, str]]:
    """Column -> (heading, what it is and how it is computed): the tooltips and the XLSX's
    "About" sheet."""
    p, n = f"{t.monitoring_percent:g}", t.catch_up_one_in
    if by == "treatment_manager":
        head = {
            "treatment_manager": ("Treatment manager", "The rater the monitoring and catch-up work was assigned to."),
            "sampled": ("Assigned", "Regular sessions assigned to this treatment manager, as first or second rater."),
            "rated": ("Submitted", "Of those, how many they have submitted a rating for."),
            "catch_up_sampled": ("Catch-up assigned", "Catch-up sessions assigned to them, as first or second rater."),
            "catch_up_rated": ("Catch-up submitted", "Of those, how many they have submitted."),
            "double_rated": ("Second ratings", "Sessions they rated as second rater (double rating) and submitted."),
        }
    else:
        head = {
            "area": ("Area", "The probation area the session was recorded in."),
            "site": ("Site", "Where the session was delivered."),
            "tutor": ("Tutor", "A tutor who delivered the session; a co-delivered session counts for each tutor."),
            "sampled": ("Sampled", "Of the regular sessions recorded, how many a draw picked for treatment manager monitoring."),
            "rated": ("Monitored", ("Regular sessions a treatment manager has submitted a monitoring rating of, "
                                    "whether or not a draw picked them. A co-delivered session counts once either "
                                    "tutor's monitoring is submitted (see Partly rated); by tutor, once that tutor's is.")),
            "partly_rated": ("Partly rated", ("Of the monitored, co-delivered sessions with one tutor's monitoring "
                                              "submitted and the other's still to come. They count as monitored.")),
            "catch_up_sampled": ("Catch-up sampled", "Catch-up sessions drawn for monitoring (by the catch-up rule)."),
            "catch_up_rated": ("Catch-up monitored", "Catch-up sessions a treatment manager has submitted a monitoring rating of, drawn or not."),
            "double_rated": ("Double rated", "Sessions whose second rater has also submitted, so agreement can be measured."),
        }  # fmt: skip
    return {
        **head,
        "period": ("Period", "The month (2026-03) or quarter (2026Q1) the session was recorded in."),
        "recorded": ("Recorded", "Regular sessions recorded (catch-up sessions are counted separately)."),
        "target": ("Target", f"Sessions that must be monitored: {p}% of recorded, rounded up = ceil({p} × recorded ÷ 100)."),
        "monitored_percent": ("Monitored %", "100 × monitored ÷ recorded. Empty when nothing was recorded."),
        "target_percent": ("Target %", f"The monitoring target of {t.source}: {p}% of regular sessions."),
        "meets_target": ("Meets target", "Monitored ≥ target."),
        "catch_up_recorded": ("Catch-up recorded", "Catch-up sessions recorded."),
        "catch_up_required": ("Catch-up required", f"1 in {n}: ceil(catch-up recorded ÷ {n})."),
        "catch_up_compliant": ("Catch-up compliant", f"Catch-up monitored ≥ required (1 in {n})."),
        "audit_sampled": ("Audit sampled", "Sessions drawn for the external audit."),
        "audit_rated": ("Audit rated", "Of those, how many the assigned external assessor has submitted."),
        "overdue": ("Overdue", "Ratings assigned (first or second rater, any rule) not submitted and due before today."),
    }


@dataclass(frozen=True)
class CoverageTable:
    table: pd.DataFrame
    definitions: dict[str, tuple[str, str]]
    targets: Targets
    by: str
    period: str  # "month" | "quarter" | "all"
    today: dt.date

    @property
    def about(self) -> list[tuple[str, str]]:
        return [("Grouped by", GROUPINGS[self.by]), ("Period", PERIODS[self.period]), ("Targets", self.targets.source),
                ("Overdue as of", f"{self.today:%d/%m/%Y}"), ("Made by", "Session Rater, Coverage")]  # fmt: skip

    @property
    def stem(self) -> str:
        return f"coverage-by-{self.by.replace('_', '-')}-{self.period}-{self.today:%Y-%m-%d}"

    def csv(self) -> bytes:
        """The table as shown, with the column names of the coverage definitions."""
        return csv_bytes(self.table)

    def xlsx(self) -> bytes:
        """The table with readable headings, and an "About" sheet saying what each column is
        and what the figures were computed from."""
        readable = self.table.rename(columns={c: self.definitions[c][0] for c in self.table.columns
                                              if c in self.definitions})  # fmt: skip
        notes = pd.DataFrame(
            [*self.about, ("", ""), *((self.definitions[c][0], self.definitions[c][1])
                                      for c in self.table.columns if c in self.definitions)],
            columns=["Figure", "What it is and how it is computed"],
        )  # fmt: skip
        return xlsx_bytes({"Coverage": readable, "About": notes},
                          {"Coverage": [18] * len(readable.columns), "About": [22, 100]})  # fmt: skip


def targets_in_force(in_force: Sequence[PolicyInForce], label: str | None) -> Targets:
    """The targets of the policy labelled ``label`` (default: the policy named "default", else
    the first); the inspectorate's defaults when no policy is in force."""
    if not in_force:
        return Targets()
    policies = {e.policy.label: e.policy for e in in_force}
    if label in policies:
        return Targets.of(policies[label])
    default = next((e.policy for e in in_force if e.policy.name == "default"), in_force[0].policy)
    return Targets.of(default)


def coverage(mon: Monitoring, *, by: str, period: str, policy_label: str | None = None,
             today: dt.date | None = None) -> CoverageTable:  # fmt: skip
    """The coverage table the person may see, grouped ``by`` per ``period``."""
    if by not in GROUPINGS or period not in PERIODS:
        raise ValueError(f"coverage by {by!r} per {period!r}: choose by from {list(GROUPINGS)}, period from {list(PERIODS)}")
    today = today or dt.date.today()
    try:
        in_force = mon.policies_in_force(mon.catalog())
    except PolicyError:
        in_force = []
    targets = targets_in_force(in_force, policy_label)
    table = figures(mon, by=by, period=None if period == "all" else period, targets=targets, today=today)
    if by == "treatment_manager":
        table = table[[c for c in table.columns if c not in MANAGER_HIDDEN]]
    return CoverageTable(table, column_definitions(by, targets), targets, by, period, today)


def figures(mon: Monitoring, *, by: str, period: str | None, targets: Targets, today: dt.date) -> pd.DataFrame:
    """The coverage table (every column of the domain's) of the sessions the person may see,
    grouped ``by`` per ``period`` ("month", "quarter" or None: all time), tutors and managers
    by name."""
    names = mon.rater_names() if by in {"tutor", "treatment_manager"} else None
    return coverage_from_counts(mon.coverage_counts(by, today), by=by, period=period, names=names,
                                monitoring_percent=targets.monitoring_percent, catch_up_one_in=targets.catch_up_one_in)
