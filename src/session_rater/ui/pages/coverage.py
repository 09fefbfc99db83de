"""Coverage: sessions recorded, sampled and monitored against the policy's targets, per area,
site, treatment manager or tutor and per month or quarter, with a chart over time and CSV and
XLSX downloads. The figures are :func:`~session_rater.domain.coverage.coverage_table`'s, counted
in the database per group and month (usecases.coverage.figures)."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from session_rater.domain.access import Action
from session_rater.errors import PolicyError
from session_rater.ui.downloads import download_link
from session_rater.ui.pages.calibration import rater_calibrations, status_words
from session_rater.ui.report_widgets import figure
from session_rater.ui.state import allowed, page_start
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.coverage import GROUPINGS, PERIODS, Targets, coverage, figures
from session_rater.usecases.monitoring import Monitoring

__all__ = ["render"]

BY_KEY, PERIOD_KEY, POLICY_KEY = "coverage:by", "coverage:period", "coverage:policy"
MAX_CHART_LINES = 12
DISPLAY_ORDER = (  # overdue work next to the target, then catch-up, audit and double rating
    "recorded", "sampled", "rated", "partly_rated", "target", "monitored_percent", "target_percent", "meets_target", "overdue",
    "catch_up_recorded", "catch_up_sampled", "catch_up_rated", "catch_up_required", "catch_up_compliant",
    "audit_sampled", "audit_rated", "double_rated",
)  # fmt: skip
SHORT = "#f8d7da"  # a figure short of its target


def _headline(mon: Monitoring, today: dt.date, t: Targets) -> None:
    total = figures(mon, by="area", period=None, targets=t, today=today)
    recorded, sampled, rated, partly = (int(total[c].sum()) for c in ("recorded", "sampled", "rated", "partly_rated"))
    cu_rated, cu_required = int(total["catch_up_rated"].sum()), int(total["catch_up_required"].sum())
    p = f"{t.monitoring_percent:g}%"
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        f"Monitored (target {p})", f"{100 * rated / recorded:.1f}%" if recorded else "–", border=True,
        help=f"Regular sessions a treatment manager has submitted a monitoring rating of (drawn or not), as a "
        f"share of all regular sessions recorded: {rated} ÷ {recorded}, of which {partly} partly rated (one co-tutor "
        f"rated, the other not yet). Target: {p} ({t.source}).",
    )  # fmt: skip
    c2.metric("Sampled for monitoring", f"{sampled} of {recorded}", border=True,
              help="Regular sessions drawn for monitoring, of all regular sessions recorded.")  # fmt: skip
    if partly:
        st.caption(f"{partly} of the {rated} monitored sessions are partly rated: one co-tutor's monitoring is "
                   "submitted, the other's not yet. They count as monitored; rate the other tutor to complete them.")
    c3.metric(
        f"Catch-up monitored (1 in {t.catch_up_one_in})", f"{cu_rated} of {cu_required}", border=True,
        help=f"Catch-up sessions monitored (rating submitted), of those required: 1 in {t.catch_up_one_in} of "
        "each area's catch-up sessions, rounded up, summed over the areas.",
    )  # fmt: skip
    c4.metric("Overdue ratings (all rules)", int(total["overdue"].sum()), border=True,
              help="Ratings assigned (first or second rater, any rule) not submitted and due before today.")  # fmt: skip


def _chart(mon: Monitoring, today: dt.date, by: str, period: str, t: Targets) -> None:
    """Monitored % per period: all sessions, and each area, site or tutor; the target as a line."""
    per_area = figures(mon, by="area", period=period, targets=t, today=today)
    overall = per_area.groupby("period", as_index=False)[["recorded", "sampled", "rated"]].sum()
    overall.insert(0, "line", "All sessions")
    lines = [overall]
    if by != "treatment_manager":
        groups = per_area if by == "area" else figures(mon, by=by, period=period, targets=t, today=today)
        if 1 < groups[by].nunique() <= MAX_CHART_LINES:
            lines.append(groups.rename(columns={by: "line"})[["line", "period", "recorded", "sampled", "rated"]])
    data = pd.concat(lines, ignore_index=True)
    data = data[data["recorded"] > 0].astype({"recorded": "int64", "sampled": "int64", "rated": "int64"})
    data["monitored_percent"] = 100 * data["rated"] / data["recorded"]
    if data.empty:
        return
    x = alt.X("period:O", title=PERIODS[period], sort="ascending", axis=alt.Axis(labelAngle=0))
    line = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=70)).encode(
        x=x,
        y=alt.Y("monitored_percent:Q", title="Monitored %",
                scale=alt.Scale(domain=[0, max(100.0, float(data["monitored_percent"].max()))])),
        color=alt.Color("line:N", title=GROUPINGS[by] if by != "treatment_manager" else None,
                        legend=alt.Legend(orient="top"), sort=["All sessions"]),
        strokeWidth=alt.condition(alt.datum.line == "All sessions", alt.value(3.5), alt.value(1.5)),
        tooltip=[
            alt.Tooltip("line:N", title="Sessions of"),
            alt.Tooltip("period:O", title=PERIODS[period]),
            alt.Tooltip("recorded:Q", title="Recorded (regular sessions)"),
            alt.Tooltip("sampled:Q", title="Sampled for monitoring"),
            alt.Tooltip("rated:Q", title="Monitored (a manager's rating submitted)"),
            alt.Tooltip("monitored_percent:Q", title="Monitored % = 100 × monitored ÷ recorded", format=".1f"),
        ],
    )  # fmt: skip
    target = pd.DataFrame({"target": [t.monitoring_percent], "label": [f"Target {t.monitoring_percent:g}%"]})
    rule = alt.Chart(target).mark_rule(color="#b3261e", strokeDash=[6, 4], size=2).encode(
        y="target:Q",
        tooltip=[alt.Tooltip("label:N", title=f"Target ({t.source})")],
    )
    label = alt.Chart(target).mark_text(align="left", dx=4, dy=-7, color="#b3261e").encode(
        y="target:Q", x=alt.value(0), text="label:N"
    )
    figure((line + rule + label).properties(height=320), words=_chart_words(data, t.monitoring_percent),
           table=data.assign(monitored_percent=data["monitored_percent"].round(1)).rename(columns={
               "line": "Sessions of", "period": PERIODS[period], "recorded": "Recorded", "sampled": "Sampled",
               "rated": "Monitored", "monitored_percent": "Monitored %"}),
           table_label="Figures of the chart: monitored % per period")  # fmt: skip


def _chart_words(data: pd.DataFrame, target: float) -> str:
    """The chart in a sentence: all sessions' monitored % in the first and latest period, against the target."""
    overall = data[data["line"] == "All sessions"].sort_values("period")
    if overall.empty:
        return f"Monitored % per period against the {target:g}% target."
    first, last = overall.iloc[0], overall.iloc[-1]
    met = int((overall["monitored_percent"] >= target).sum())
    return (f"Monitored % of all sessions per period, against the {target:g}% target: {first['monitored_percent']:.1f}% "
            f"in {first['period']}, {last['monitored_percent']:.1f}% in {last['period']}; the target was met in "
            f"{met} of {len(overall)} periods.")  # fmt: skip


def _highlight(table: pd.DataFrame) -> pd.DataFrame:
    styles = pd.DataFrame("", index=table.index, columns=table.columns)
    if "meets_target" in table:
        styles.loc[table["meets_target"].eq(False).fillna(False), "monitored_percent"] = f"background-color: {SHORT}"
    if "catch_up_compliant" in table:
        styles.loc[table["catch_up_compliant"].eq(False).fillna(False), "catch_up_rated"] = f"background-color: {SHORT}"
    styles.loc[table["overdue"].fillna(0) > 0, "overdue"] = f"background-color: {SHORT}"
    return styles


def _pick_policy(catalog_error: str | None, in_force: list) -> str | None:  # type: ignore[type-arg]
    """The label of the policy whose targets are shown (a choice only when several are in force)."""
    if catalog_error:
        st.warning(f"The sampling policies could not be read, so the defaults are used: {catalog_error}")
    labels = [e.policy.label for e in in_force]
    if len(labels) > 1:
        default = next((i for i, e in enumerate(in_force) if e.policy.name == "default"), 0)
        return st.selectbox("Targets from policy", labels, index=default, key=POLICY_KEY)
    return labels[0] if labels else None


def _calibration(me: Permitted, by: str) -> None:
    """Grouped by treatment manager or tutor: each one's calibration against the benchmark's
    master scores (issue 10), for those who may see it (programme managers, administrators)."""
    if by not in ("treatment_manager", "tutor"):
        return
    found = rater_calibrations(me)
    if not found:
        return
    rows = [{"Rater": r.name, "Calibration": status_words(r)} for r in found.values() if by in r.roles]
    if rows:
        st.markdown(f"**{GROUPINGS[by]}s' calibration** against the benchmark's master scores (the Calibration page)")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="coverage:calibration")


def render() -> None:
    _, me = page_start()
    st.title("Coverage")
    if not allowed(me, Action.VIEW_COVERAGE):
        return
    mon = Monitoring(me)
    today = dt.date.today()
    per_area = mon.coverage_counts("area", today)  # one row per area and month, counted in SQL
    if not per_area:
        st.info("No recorded sessions yet. Load the demo with `session-rater demo`, or ingest recordings.")
        return
    try:
        catalog_error, in_force = None, mon.policies_in_force(mon.catalog())
    except PolicyError as exc:
        catalog_error, in_force = "; ".join(exc.errors), []

    left, right = st.columns([3, 2])
    by = left.segmented_control("Group by", list(GROUPINGS), format_func=lambda key: GROUPINGS[key], default="area",
                                required=True, key=BY_KEY) or "area"  # fmt: skip
    period_choice = right.segmented_control("Period", list(PERIODS), format_func=lambda key: PERIODS[key], default="quarter",
                                            required=True, key=PERIOD_KEY) or "month"  # fmt: skip
    period = None if period_choice == "all" else period_choice
    policy_label = _pick_policy(catalog_error, in_force)
    view = coverage(mon, by=by, period=period_choice, policy_label=policy_label, today=today)
    targets = view.targets
    st.caption(
        f"Measured against {targets.source}: treatment managers monitor {targets.monitoring_percent:g}% of "
        f"recorded sessions and 1 in {targets.catch_up_one_in} catch-up sessions. A session counts as "
        f"monitored once a treatment manager has **submitted** a monitoring rating of it, whether or not a draw "
        f"picked it; drawn but not yet rated does not count. A co-delivered session with one tutor rated and the "
        f"other not yet is *partly rated*: it counts as monitored, and the Partly rated column shows how many. "
        f"Overdue as of {today:%d/%m/%Y}. Hover over a heading for what it is and how it is computed."
    )
    if not any(c.sampled or c.catch_up_sampled or c.audit_sampled for c in per_area):  # no session in reach drawn
        st.info("No sample has been drawn yet, so nothing is sampled: draw one on the **Sampling** page (or with "
                "`session-rater sample --policy default`). Sessions rated without a draw count as monitored.",
                icon=":material/info:")  # fmt: skip
    _headline(mon, today, targets)

    table, definitions = view.table, view.definitions
    if by == "treatment_manager":
        st.caption("Per treatment manager: the monitoring and catch-up work assigned to them and what they have "
                   "submitted (sessions recorded are counted per area, site or tutor, not per manager).")  # fmt: skip

    st.subheader(f"By {GROUPINGS[by].lower()}" + ("" if period is None else f" and {period}"))
    if table.empty:
        st.info("No monitoring work has been assigned to a treatment manager yet." if by == "treatment_manager"
                else "Nothing to show.")  # fmt: skip
    else:
        styled = table.style.apply(_highlight, axis=None).format(
            {"monitored_percent": "{:.1f}%", "target_percent": "{:g}%"}, na_rep="–"
        )
        keys = [by] + (["period"] if period else [])
        st.dataframe(
            styled, hide_index=True, width="stretch", placeholder="–",
            column_order=[*keys, *(c for c in DISPLAY_ORDER if c in table.columns)],
            column_config={
                c: (st.column_config.CheckboxColumn if c in {"meets_target", "catch_up_compliant"} else
                    st.column_config.Column)(definitions[c][0], help=definitions[c][1], pinned=c in keys)
                for c in table.columns
            },
        )  # fmt: skip
        st.caption("Shaded: monitored % below the target, catch-up below 1 in "
                   f"{targets.catch_up_one_in}, or overdue ratings.")  # fmt: skip
        params = {"by": by, "period": period_choice, **({"policy": policy_label} if policy_label else {})}
        d1, d2, _ = st.columns([1, 1, 3])
        download_link("Download CSV", "coverage.csv", params, container=d1,
                      help="The table as it is shown, with the column names of the coverage definitions.")
        download_link("Download XLSX", "coverage.xlsx", params, container=d2,
                      help="An Excel workbook: the table, and an About sheet defining each figure.")

    _calibration(me, by)
    st.subheader("Coverage over time")
    st.caption(
        f"Monitored % of regular sessions by the {'month' if period is None else period} they were recorded in, "
        f"against the {targets.monitoring_percent:g}% target (dashed line)."
        + (" By treatment manager there is no share of sessions recorded: all sessions are shown."
           if by == "treatment_manager" else "")
    )  # fmt: skip
    _chart(mon, today, by, period or "month", targets)
