"""Area report for the programme manager: coverage, over-scoring by capacity with its trend,
agreement, raters' statuses and the items most often over-scored; PDF and XLSX (whose "Data
dictionary" sheet describes every column)."""

from __future__ import annotations

import datetime as dt
import functools

import altair as alt
import pandas as pd
import streamlit as st

from session_rater.domain.access import Action
from session_rater.ui.downloads import download_link
from session_rater.ui.report_widgets import as_of_note, small, themed
from session_rater.ui.state import allowed, page_start
from session_rater.ui.text import plain
from session_rater.usecases.area_report import TOP_ITEMS, AreaReports
from session_rater.usecases.data_dictionary import TABLES

__all__ = ["render"]

KINDS = {"quarter": "Quarter", "month": "Month"}
FORMATS = {
    "monitored_percent": st.column_config.NumberColumn(format="%.1f%%"),
    "mean_diff": st.column_config.NumberColumn(format="%+.2f"),
    "ci_low": st.column_config.NumberColumn(format="%+.2f"),
    "ci_high": st.column_config.NumberColumn(format="%+.2f"),
    "share_over_by_1": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent"),
    "exact": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent"),
    "within_one": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent"),
}


def _table(name: str, frame: pd.DataFrame, empty: str) -> None:
    """A table of the report with the data dictionary's headings, and its meanings as tooltips."""
    if frame.empty:
        st.write(empty)
        return
    described = {c.key: c for c in TABLES[name][1]}
    config = {key: {**FORMATS.get(key, st.column_config.Column()), "label": described[key].heading,
                    "help": described[key].meaning} for key in frame.columns}  # fmt: skip
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config, placeholder="–")  # type: ignore[arg-type]


@functools.cache
def _trend_spec() -> dict[str, object]:
    """The trend chart's Vega-Lite spec without its data, built (and validated) by Altair once per
    process: building and validating it on every run took 0.15-0.3 s of the page's time."""
    line = alt.Chart().mark_line(point=alt.OverlayMarkDef(size=70)).encode(
        x=alt.X("period:O", title="Period", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("mean_diff:Q", title="Mean difference from the reference (points)"),
        color=alt.Color("capacity:N", title=None, legend=alt.Legend(orient="top", labelLimit=0)),
        tooltip=[alt.Tooltip("period:O", title="Period"), alt.Tooltip("capacity:N", title="Capacity"),
                 alt.Tooltip("mean_diff:Q", title="Mean difference", format="+.2f"), alt.Tooltip("n:Q", title="Pairs")],
    )  # fmt: skip
    zero = alt.Chart().mark_rule(color="black", aria=False).encode(y=alt.datum(0))  # the zero line: decoration
    spec = themed((line + zero).properties(height=260)).to_dict()
    spec.pop("datasets", None)  # the layers take the page's data, given with the spec
    for layer in spec["layer"]:
        layer.pop("data", None)
    return spec


def _trend_chart(trend: pd.DataFrame) -> None:
    if trend.empty or trend["period"].nunique() < 2:
        return
    words = trend_words(trend)
    spec = {**_trend_spec(), "description": words}
    st.vega_lite_chart(trend[["period", "capacity", "mean_diff", "n"]], spec, width="stretch")
    small("**Chart in words:** " + words + " The table below holds its figures.")


def trend_words(trend: pd.DataFrame) -> str:
    """The over-scoring trend in a sentence: each capacity's first and latest period."""
    parts = []
    for capacity, line in trend.sort_values("period").groupby("capacity", sort=False):
        first, last = line.iloc[0], line.iloc[-1]
        parts.append(f"{plain(str(capacity))}: {first['mean_diff']:+.2f} in {first['period']}, "
                     f"{last['mean_diff']:+.2f} in {last['period']}")  # fmt: skip
    return ("Mean difference from the reference by period (above 0: scores above the reference). "
            + "; ".join(parts) + ".")


def render() -> None:
    _, me = page_start()
    st.title("Area report")
    if not allowed(me, Action.VIEW_AREA_REPORT):
        return
    reports = AreaReports(me)
    areas = reports.areas()
    if not areas:
        st.info("None of your areas has a recorded session yet.", icon=":material/info:")
        return
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    area = c1.selectbox("Area", areas, index=areas.index(st.query_params["area"]) if st.query_params.get("area") in areas else 0,
                        )  # fmt: skip
    st.query_params["area"] = area
    by = c2.segmented_control("Trend per", list(KINDS), format_func=lambda k: KINDS[k], default="quarter", required=True,
                              key="area-report:by") or "quarter"  # fmt: skip
    date_from: dt.date | None = c3.date_input("Sessions from", value=None, format="DD/MM/YYYY")  # type: ignore[assignment]
    date_to: dt.date | None = c4.date_input("to", value=None, format="DD/MM/YYYY")  # type: ignore[assignment]
    report = reports.report(area, by=by, date_from=date_from, date_to=date_to)
    t = report.targets
    st.caption(plain(f"{report.area}: {report.period_text()}. Targets: {t.monitoring_percent:g}% of recorded sessions, "
                     f"1 in {t.catch_up_one_in} catch-up sessions ({t.source}). Reference: {report.reference}. "
                     "Hover over a heading for what the column is; the XLSX has a data dictionary sheet."))  # fmt: skip
    params = {"area": area, "by": by, **({"from": date_from.isoformat()} if date_from else {}),
              **({"to": date_to.isoformat()} if date_to else {})}  # fmt: skip
    d1, d2, _ = st.columns([1, 1, 3])
    download_link("Download PDF", "area-report.pdf", params, container=d1, help="The area report as a PDF")
    download_link("Download XLSX", "area-report.xlsx", params, container=d2,
                  help="Every table as a sheet, with an About sheet and a Data dictionary sheet")  # fmt: skip
    age = report.age
    as_of_note(age.as_of, age.since, age.current, "The over-scoring, agreement and raters' figures")
    tb = report.tables
    st.subheader("Coverage")
    _table("Coverage", tb["Coverage"], "No session of the area was recorded in the period.")
    st.subheader("Over-scoring by capacity")
    _table("Over-scoring", tb["Over-scoring"], f"No figure: {plain(report.reference)}.")
    st.caption("Mean difference: score minus the reference; positive is over-scoring. No interval below five sessions.")
    st.markdown(f"**Trend per {by}**")
    _trend_chart(tb["Over-scoring trend"])
    _table("Over-scoring trend", tb["Over-scoring trend"], "No trend yet.")
    st.subheader("Agreement between capacities")
    _table("Agreement", tb["Agreement"], "No item was scored by raters of two capacities.")
    st.caption("Agreement is not accuracy: two lenient raters can agree and both be wrong.")
    st.subheader("Raters")
    _table("Raters", tb["Raters"], "No treatment manager or assessor has a submitted rating in the area yet.")
    st.subheader(f"Items most often over-scored (top {TOP_ITEMS})")
    _table("Items over-scored", tb["Items over-scored"], "No self-assessment or monitoring score has a reference.")
