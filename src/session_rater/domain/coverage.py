"""Coverage against the monitoring targets, per area, site, treatment manager or tutor and period
(pure: builds a pandas DataFrame from plain inputs).

What the inspectorate checked (HMIP 2002 follow-up audit of Think First, section B): treatment
managers "routinely monitoring 10% of videoed sessions" and "one in seven" catch-up sessions.
A session counts as *monitored* when a treatment manager has submitted a monitoring rating of it,
whether or not a draw picked it (given ``monitored``; without it, the older rule: when the rater a
draw assigned has submitted a rating of every tutor). A co-delivered session of which one tutor's
monitoring is submitted and the other's not is *partly rated*: it counts as monitored (a manager
has watched and rated it), and ``partly_rated`` says how many of the monitored are so. By tutor,
a session counts as monitored for a tutor only once that tutor's monitoring is submitted.
For each row of :func:`coverage_table`:

==================== ===========================================================================
recorded             regular (not catch-up) sessions recorded
sampled              of those, drawn for monitoring
rated                of those, monitored (see above; drawn or not)
partly_rated         of the monitored, those with a co-tutor's monitoring still to submit
target               ``ceil(monitoring_percent * recorded / 100)``
monitored_percent    ``100 * rated / recorded`` (empty when nothing was recorded)
target_percent       ``monitoring_percent``
meets_target         ``rated >= target``
catch_up_recorded    catch-up sessions recorded
catch_up_sampled     of those, drawn (by the catch-up or the monitoring rule)
catch_up_rated       of those, monitored (drawn or not)
catch_up_required    ``ceil(catch_up_recorded / catch_up_one_in)``
catch_up_compliant   ``catch_up_rated >= catch_up_required``
audit_sampled        sessions drawn for the external audit
audit_rated          of those, rated by the assigned external assessor
double_rated         sessions whose second rater has submitted too
overdue              ratings assigned (first or second rater) not submitted and due before today
==================== ===========================================================================

Rows are per value of ``by`` and, unless ``period`` is None, per month (``2026-03``) or quarter
(``2026Q1``) of the session's recording date. By ``tutor``, a co-delivered session counts for
each of its tutors. By ``treatment_manager``, rows are the raters of the monitoring and catch-up
assignments: ``sampled`` is what they were assigned, ``rated`` what they submitted, and the
columns about sessions recorded are empty (a manager's caseload is not a set of recordings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from session_rater.domain.sampling import NO_AREA, Rule, SessionFacts, ceil_percent

__all__ = [
    "COVERAGE_COLUMNS", "DIMENSIONS", "PERIODS", "AssignmentStatus", "CoverageCount", "MonitoredSession",
    "coverage_from_counts", "coverage_table",
]  # fmt: skip

DIMENSIONS: tuple[str, ...] = ("area", "site", "treatment_manager", "tutor")
PERIODS: tuple[str, ...] = ("month", "quarter")
_PERIOD_FREQ = {"month": "M", "quarter": "Q"}
_MONITORING_RULES = (Rule.MONITORING.value, Rule.CATCH_UP.value)

COVERAGE_COLUMNS: tuple[str, ...] = (
    "recorded", "sampled", "rated", "partly_rated", "target", "monitored_percent", "target_percent", "meets_target",
    "catch_up_recorded", "catch_up_sampled", "catch_up_rated", "catch_up_required", "catch_up_compliant",
    "audit_sampled", "audit_rated", "double_rated", "overdue",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AssignmentStatus:
    """One assignment and whether its rater(s) have submitted their rating."""

    recording_id: int
    rule: Rule
    rater_id: int | None
    second_rater_id: int | None
    due_on: dt.date | None
    rated: bool
    second_rated: bool = False


@dataclass(frozen=True, slots=True)
class MonitoredSession:
    """A session with at least one submitted monitoring rating (a treatment manager's), drawn or not."""

    recording_id: int
    rated_tutor_ids: frozenset[int]
    """The tutors whose delivery a treatment manager has rated and submitted."""
    whole_session: bool = False
    """A form for the session as a whole was submitted (a session with no tutor named)."""


@dataclass(frozen=True, slots=True)
class CoverageCount:
    """The counted figures of one group (an area, site, tutor id or treatment manager id) and
    month of recording, as the database aggregates them (``SamplingStore.coverage_counts``).
    Per treatment manager the columns about sessions recorded are None."""

    key: object
    year: int
    month: int
    recorded: int | None = None
    sampled: int = 0
    rated: int = 0
    partly_rated: int | None = None
    catch_up_recorded: int | None = None
    catch_up_sampled: int = 0
    catch_up_rated: int = 0
    audit_sampled: int | None = None
    audit_rated: int | None = None
    double_rated: int = 0
    overdue: int = 0


_COUNTED = ("recorded", "sampled", "rated", "partly_rated", "catch_up_recorded", "catch_up_sampled", "catch_up_rated",
            "audit_sampled", "audit_rated", "double_rated", "overdue")  # fmt: skip
_NOT_PER_MANAGER = ("recorded", "partly_rated", "catch_up_recorded", "audit_sampled", "audit_rated")


def _period_label(year: int, month: int, period: str) -> str:
    """``2026-03`` or ``2026Q1``, as pandas writes a month's or a quarter's Period."""
    return f"{year:04d}-{month:02d}" if period == "month" else f"{year:04d}Q{(month - 1) // 3 + 1}"


def coverage_from_counts(
    counts: Sequence[CoverageCount],
    *,
    by: str = "area",
    period: str | None = "month",
    monitoring_percent: float = 10.0,
    catch_up_one_in: int = 7,
    names: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """The table of :func:`coverage_table` (with ``monitored`` given) from figures already
    counted per group and month: the months are summed into quarters or all time here, then
    the targets, percentages and compliance are worked out by the same rules. Cost grows with
    the groups and months shown, not with the sessions recorded."""
    if by not in DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(DIMENSIONS)}, not {by!r}")
    if period is not None and period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)} or None, not {period!r}")
    if not 0 < monitoring_percent <= 100:
        raise ValueError(f"monitoring_percent must be above 0 and at most 100, not {monitoring_percent!r}")
    if catch_up_one_in < 1:
        raise ValueError(f"catch_up_one_in must be 1 or more, not {catch_up_one_in!r}")
    keys = [by] + (["period"] if period is not None else [])
    per_manager = by == "treatment_manager"
    summed: dict[tuple[object, ...], list[int]] = {}
    for c in counts:
        key: object = NO_AREA if by == "area" and c.key is None else c.key
        if key is None:  # pandas' groupby leaves out a group without a key
            continue
        group = (key,) if period is None else (key, _period_label(c.year, c.month, period))
        into = summed.setdefault(group, [0] * len(_COUNTED))
        for i, column in enumerate(_COUNTED):
            into[i] += getattr(c, column) or 0
    groups = sorted(summed)
    table = pd.DataFrame({k: pd.Series([g[i] for g in groups]) for i, k in enumerate(keys)})
    for i, column in enumerate(_COUNTED):
        values = [pd.NA if per_manager and column in _NOT_PER_MANAGER else summed[g][i] for g in groups]
        table[column] = pd.array(values, dtype="Int64")
    table = _finish(table, monitoring_percent, catch_up_one_in)
    if by in {"tutor", "treatment_manager"} and names is not None:
        table[by] = [names.get(int(i), f"person #{i}") for i in table[by]]
    return table[keys + list(COVERAGE_COLUMNS)]


def _sessions_frame(sessions: Sequence[SessionFacts], period: str | None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "recording_id": [s.recording_id for s in sessions],
            "area": [NO_AREA if s.area is None else s.area for s in sessions],
            "site": [s.site for s in sessions],
            "recorded_on": pd.to_datetime([s.recorded_on for s in sessions]),
            "is_catch_up": np.array([s.is_catch_up for s in sessions], dtype=bool),
            "tutor": [s.tutor_ids for s in sessions],
        }
    )
    if period is not None:
        frame["period"] = frame["recorded_on"].dt.to_period(_PERIOD_FREQ[period]).astype(str)
    return frame


def _assignments_frame(assignments: Sequence[AssignmentStatus], today: dt.date) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "recording_id": [a.recording_id for a in assignments],
            "rule": [str(a.rule) for a in assignments],
            "rater_id": pd.array([a.rater_id for a in assignments], dtype="Int64"),
            "second_rater_id": pd.array([a.second_rater_id for a in assignments], dtype="Int64"),
            "late": [a.due_on is not None and a.due_on < today for a in assignments],
            "rated": [a.rated for a in assignments],
            "second_rated": [a.second_rated for a in assignments],
        }
    )
    frame["overdue"] = (frame["late"] & frame["rater_id"].notna() & ~frame["rated"]).astype(int) + (
        frame["late"] & frame["second_rater_id"].notna() & ~frame["second_rated"]
    ).astype(int)
    return frame


def _per_recording(assignments: pd.DataFrame) -> pd.DataFrame:
    monitoring = assignments["rule"].isin(_MONITORING_RULES)
    audit = assignments["rule"] == Rule.EXTERNAL_AUDIT.value
    flags = pd.DataFrame(
        {
            "recording_id": assignments["recording_id"],
            "mon_sampled": monitoring,
            "mon_rated": monitoring & assignments["rated"],
            "audit_sampled": audit,
            "audit_rated": audit & assignments["rated"],
            "double_rated": assignments["second_rated"],
            "overdue": assignments["overdue"],
        }
    )
    return flags.groupby("recording_id").agg(
        mon_sampled=("mon_sampled", "any"), mon_rated=("mon_rated", "any"), audit_sampled=("audit_sampled", "any"),
        audit_rated=("audit_rated", "any"), double_rated=("double_rated", "any"), overdue=("overdue", "sum"),
    )  # fmt: skip


def _finish(table: pd.DataFrame, monitoring_percent: float, catch_up_one_in: int) -> pd.DataFrame:
    recorded = table["recorded"].astype("Int64")
    table["target"] = pd.array(ceil_percent(monitoring_percent, recorded.fillna(0).to_numpy(np.int64)), dtype="Int64")
    table.loc[recorded.isna(), "target"] = pd.NA
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = 100 * table["rated"].astype("Float64") / recorded.astype("Float64")
    table["monitored_percent"] = percent.where(recorded > 0, pd.NA)
    table["target_percent"] = float(monitoring_percent)
    table["meets_target"] = (table["rated"] >= table["target"]).astype("boolean")
    catch_up = table["catch_up_recorded"].astype("Int64")
    table["catch_up_required"] = (catch_up + catch_up_one_in - 1) // catch_up_one_in
    table["catch_up_compliant"] = (table["catch_up_rated"] >= table["catch_up_required"]).astype("boolean")
    return table


def coverage_table(
    sessions: Sequence[SessionFacts],
    assignments: Sequence[AssignmentStatus],
    *,
    today: dt.date,
    by: str = "area",
    period: str | None = "month",
    monitoring_percent: float = 10.0,
    catch_up_one_in: int = 7,
    names: Mapping[int, str] | None = None,
    monitored: Sequence[MonitoredSession] | None = None,
) -> pd.DataFrame:
    """Coverage per ``by`` (area, site, treatment_manager or tutor) and ``period`` (month,
    quarter or None for all time), with the columns described in the module docstring.

    Take ``monitoring_percent`` and ``catch_up_one_in`` from the policy in force
    (``policy.monitoring.percent``, ``policy.catch_up.one_in``). ``names`` shows people by name
    instead of id in the treatment_manager and tutor columns. ``monitored``: the sessions with a
    submitted monitoring rating (see the module docstring); without it a session counts as
    monitored only when its assigned rater submitted every tutor's form.
    """
    if by not in DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(DIMENSIONS)}, not {by!r}")
    if period is not None and period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)} or None, not {period!r}")
    if not 0 < monitoring_percent <= 100:
        raise ValueError(f"monitoring_percent must be above 0 and at most 100, not {monitoring_percent!r}")
    if catch_up_one_in < 1:
        raise ValueError(f"catch_up_one_in must be 1 or more, not {catch_up_one_in!r}")
    keys = [by] + (["period"] if period is not None else [])
    frame = _sessions_frame(sessions, period)
    assigned = _assignments_frame(assignments, today)
    if by == "treatment_manager":
        table = _by_rater(frame, assigned, keys)
    else:
        per = _per_recording(assigned)
        frame = frame.join(per, on="recording_id")
        for column in per.columns:
            frame[column] = frame[column].fillna(0 if column == "overdue" else False)
        frame["partly"] = False
        if monitored is not None:
            frame = _monitored(frame, monitored)
        if by == "tutor":
            frame = frame.explode("tutor").dropna(subset=["tutor"])
            if monitored is not None:  # monitored for a tutor once that tutor's rating is submitted
                frame["mon_rated"] = [t in rated or whole for t, rated, whole
                                      in zip(frame["tutor"], frame["rated_tutors"], frame["whole"], strict=True)]  # fmt: skip
                frame["partly"] = False
        regular, catch_up = ~frame["is_catch_up"], frame["is_catch_up"]
        frame = frame.assign(
            recorded=regular, sampled=regular & frame["mon_sampled"], rated=regular & frame["mon_rated"],
            partly_rated=regular & frame["mon_rated"] & frame["partly"],
            catch_up_recorded=catch_up, catch_up_sampled=catch_up & frame["mon_sampled"],
            catch_up_rated=catch_up & frame["mon_rated"],
        )  # fmt: skip
        counted = ["recorded", "sampled", "rated", "partly_rated", "catch_up_recorded", "catch_up_sampled", "catch_up_rated",
                   "audit_sampled", "audit_rated", "double_rated", "overdue"]  # fmt: skip
        table = frame.groupby(keys, sort=True)[counted].sum().astype("Int64").reset_index()
    table = _finish(table, monitoring_percent, catch_up_one_in)
    if by in {"tutor", "treatment_manager"} and names is not None:
        table[by] = [names.get(int(i), f"person #{i}") for i in table[by]]
    return table[keys + list(COVERAGE_COLUMNS)]


def _monitored(frame: pd.DataFrame, monitored: Sequence[MonitoredSession]) -> pd.DataFrame:
    """``mon_rated`` from the submitted monitoring ratings (drawn or not); ``partly`` where a
    co-tutor's is still to come."""
    found = {m.recording_id: m for m in monitored}
    rated = [found[r].rated_tutor_ids if r in found else frozenset() for r in frame["recording_id"]]
    whole = [found[r].whole_session if r in found else False for r in frame["recording_id"]]
    return frame.assign(
        rated_tutors=rated, whole=whole,
        mon_rated=[bool(r) or w for r, w in zip(rated, whole, strict=True)],
        partly=[bool(r) and not w and not set(tutors) <= r for r, w, tutors in zip(rated, whole, frame["tutor"], strict=True)],
    )  # fmt: skip


def _by_rater(sessions: pd.DataFrame, assigned: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    monitoring = assigned[assigned["rule"].isin(_MONITORING_RULES)]
    late = monitoring["late"]
    slots = pd.concat(
        [
            pd.DataFrame({"treatment_manager": monitoring["rater_id"], "recording_id": monitoring["recording_id"],
                          "rated": monitoring["rated"], "overdue": late & ~monitoring["rated"], "second": False}),
            pd.DataFrame({"treatment_manager": monitoring["second_rater_id"], "recording_id": monitoring["recording_id"],
                          "rated": monitoring["second_rated"], "overdue": late & ~monitoring["second_rated"],
                          "second": True}),
        ]
    ).dropna(subset=["treatment_manager"])  # fmt: skip
    slots = slots.merge(sessions[["recording_id", "is_catch_up"] + (["period"] if "period" in keys else [])],
                        on="recording_id", how="inner")  # fmt: skip
    regular, catch_up = ~slots["is_catch_up"], slots["is_catch_up"]
    slots = slots.assign(
        sampled=regular, rated_regular=regular & slots["rated"], catch_up_sampled=catch_up,
        catch_up_rated=catch_up & slots["rated"], double_rated=slots["second"] & slots["rated"],
    )  # fmt: skip
    table = (
        slots.groupby(keys, sort=True)
        .agg(sampled=("sampled", "sum"), rated=("rated_regular", "sum"), catch_up_sampled=("catch_up_sampled", "sum"),
             catch_up_rated=("catch_up_rated", "sum"), double_rated=("double_rated", "sum"), overdue=("overdue", "sum"))
        .astype("Int64")
        .reset_index()
    )  # fmt: skip
    for column in ("recorded", "partly_rated", "catch_up_recorded", "audit_sampled", "audit_rated"):
        table[column] = pd.array([pd.NA] * len(table), dtype="Int64")
    table["treatment_manager"] = table["treatment_manager"].astype("int64")
    return table
