"""The data dictionary: every column of the area report's tables and of the scores export, what
it holds and how it is computed. The area report's XLSX carries it as its "Data dictionary"
sheet, and ``session-rater export --dictionary`` writes the same table as CSV.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from session_rater.io.spreadsheets import csv_bytes


@dataclass(frozen=True)
class Column:
    key: str  # the column's name in CSV and in code
    heading: str  # its heading in the XLSX and the PDF
    meaning: str


def _c(key: str, heading: str, meaning: str) -> Column:
    return Column(key, heading, meaning)


MEAN_DIFF = ("Mean signed difference from the reference (score minus reference) over the pairs: positive is "
             "over-scoring (Bland & Altman 1986).")  # fmt: skip
INTERVAL = ("95% interval of the mean difference: percentile interval of a session-cluster bootstrap (1,000 "
            "resamples, seed 2002); empty below 5 sessions.")  # fmt: skip

TABLES: dict[str, tuple[str, tuple[Column, ...]]] = {
    "Coverage": ("Sessions recorded, sampled and monitored against the targets, per site and period.", (
        _c("site", "Site", "Where the sessions were delivered ('All sites' totals the area)."),
        _c("period", "Period", "The month (2026-05) or quarter (2026Q2) the sessions were recorded in."),
        _c("recorded", "Recorded", "Regular (not catch-up) sessions recorded."),
        _c("sampled", "Sampled", "Of those, drawn for treatment manager monitoring."),
        _c("rated", "Monitored", "Regular sessions a treatment manager has submitted a monitoring rating of, drawn or "
           "not (a co-delivered session once either tutor's is submitted)."),
        _c("target", "Target", "Sessions that must be monitored: the target percentage of recorded, rounded up."),
        _c("monitored_percent", "Monitored %", "100 x monitored / recorded."),
        _c("meets_target", "Meets target", "Monitored >= target."),
        _c("catch_up_recorded", "Catch-up recorded", "Catch-up sessions recorded."),
        _c("catch_up_rated", "Catch-up monitored", "Catch-up sessions with a treatment manager's monitoring rating submitted, drawn or not."),
        _c("catch_up_required", "Catch-up required", "1 in 7 (or the policy's rule) of catch-up sessions, rounded up."),
        _c("catch_up_compliant", "Catch-up compliant", "Catch-up monitored >= required."),
        _c("double_rated", "Double rated", "Sessions whose second rater has also submitted."),
        _c("overdue", "Overdue", "Ratings assigned and not submitted, due before the report's date."),
    )),
    "Over-scoring": ("Over-scoring by capacity: each capacity's scores against the reference.", (
        _c("capacity", "Capacity", "Who scored: tutor self-assessment, treatment manager monitoring, external assessment."),
        _c("n", "Pairs", "Item scores paired with a reference score of the same session, tutor and item."),
        _c("n_sessions", "Sessions", "Sessions those pairs come from."),
        _c("mean_diff", "Mean difference", MEAN_DIFF),
        _c("ci_low", "Interval low", INTERVAL),
        _c("ci_high", "Interval high", INTERVAL),
        _c("share_over_by_1", "Share 1+ above", "Share of pairs scored at least one point above the reference."),
    )),
    "Over-scoring trend": ("The same figures per period: the trend of over-scoring.", (
        _c("period", "Period", "The month or quarter the sessions were recorded in."),
        _c("capacity", "Capacity", "Who scored."),
        _c("n", "Pairs", "Item scores paired with a reference score."),
        _c("mean_diff", "Mean difference", MEAN_DIFF),
        _c("ci_low", "Interval low", INTERVAL),
        _c("ci_high", "Interval high", INTERVAL),
    )),
    "Agreement": ("Agreement between capacities on the items both scored (agreement is not accuracy).", (
        _c("capacity_a", "Capacity A", "The first capacity of the pair."),
        _c("capacity_b", "Capacity B", "The second capacity of the pair."),
        _c("n", "Items compared", "Item scores of the same session and tutor scored by a rater of each capacity."),
        _c("exact", "Exact agreement", "Share of those items scored the same."),
        _c("within_one", "Within one point", "Share scored at most one point apart."),
        _c("mean_diff", "Mean difference (A - B)", "Mean of capacity A's score minus capacity B's."),
    )),
    "Raters": ("Each rater's difference from the reference and calibration status.", (
        _c("rater", "Rater", "A treatment manager or external assessor who rated sessions of the area."),
        _c("capacity", "Capacity", "The capacity they rated in."),
        _c("sessions", "Sessions rated", "Sessions with their submitted rating."),
        _c("mean_diff", "Mean difference", MEAN_DIFF),
        _c("ci_low", "Interval low", INTERVAL),
        _c("ci_high", "Interval high", INTERVAL),
        _c("calibration", "Calibration", "Calibration status against master scores (not attempted until calibration is in use)."),
    )),
    "Items over-scored": ("The items most often scored a point or more above the reference.", (
        _c("item", "Item", "The checklist item."),
        _c("capacity", "Capacity", "Tutor self-assessment or treatment manager monitoring."),
        _c("n", "Pairs", "Item scores paired with a reference score."),
        _c("share_over_by_1", "Share 1+ above", "Share of pairs scored at least one point above the reference."),
        _c("mean_diff", "Mean difference", MEAN_DIFF),
    )),
    "Scores export": ("session-rater export: one row per submitted item score.", (
        _c("session_id", "session_id", "The recorded session's id."),
        _c("tutor_id", "tutor_id", "The tutor rated (empty: the session rated as a whole)."),
        _c("rater_id", "rater_id", "The person who rated."),
        _c("rater_role", "rater_role", "The capacity: tutor, treatment_manager, external_assessor or benchmark."),
        _c("rubric_id", "rubric_id", "The checklist's id."),
        _c("rubric_version", "rubric_version", "The checklist version the rating was made under."),
        _c("item_id", "item_id", "The checklist item."),
        _c("score", "score", "The score on the checklist's scale; empty means not applicable / not observed."),
        _c("submitted_at", "submitted_at", "When the rating was submitted (ISO 8601, UTC)."),
    )),
}
"""Table name -> (what the table is, its columns)."""


def dictionary_frame() -> pd.DataFrame:
    """The data dictionary: one row per column of every table."""
    return pd.DataFrame(
        [(table, c.heading, c.key, c.meaning) for table, (_, columns) in TABLES.items() for c in columns],
        columns=["table", "column", "key", "meaning"],
    )


def dictionary_csv() -> bytes:
    return csv_bytes(dictionary_frame())


def headings(table: str) -> dict[str, str]:
    return {c.key: c.heading for c in TABLES[table][1]}


def keys(table: str) -> list[str]:
    return [c.key for c in TABLES[table][1]]
