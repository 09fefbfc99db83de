"""Over-scoring: how far tutors' and treatment managers' scores sit from the benchmark.

The answer comes first, in words a programme manager can act on ("tutors score their own
delivery 1.1 points above the benchmark; treatment managers 0.5; these raters most"), then the
raters ranked, the trend by quarter, the items over-scored most, independence of items, the
dependability sections (:mod:`session_rater.ui.dependability_sections`), and last the technical
detail folded away (tests, limits of agreement, the Bland-Altman plot, method and sources).

Every score is paired with the benchmark's score of the same session, tutor and item (master
scores where they exist, else the external assessors'), and the signed difference is summed
up by capacity, item, rater and quarter (:mod:`session_rater.domain.bias`); halo and
straight-line scoring come from :mod:`session_rater.domain.independence`. Figures are
:func:`session_rater.usecases.analysis.analyse`'s, through :mod:`session_rater.ui.analysis_data`.
Every chart has its text alternative and its figures beside it (:mod:`session_rater.ui.report_widgets`).
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd
import streamlit as st

from session_rater.domain.bias import (
    MIN_SESSIONS_FOR_INTERVAL,
    BiasEstimate,
    BiasReport,
)
from session_rater.domain.independence import (
    HALO_CORRELATION,
    MIN_ITEMS_PER_FORM,
    STRAIGHT_LINE_SD,
)
from session_rater.errors import SessionRaterError
from session_rater.ui import analysis_data as ad
from session_rater.ui.dependability_sections import render_dependability
from session_rater.ui.report_widgets import (
    as_of_note,
    HEAT_DIVERGING,
    TEXT,
    figure,
    label_limit,
    signed,
    small,
)
from session_rater.ui.pages.calibration import rater_calibrations, status_words
from session_rater.ui.state import page_start, reports_allowed
from session_rater.ui.text import plain
from session_rater.usecases.analysis import AnalysisReport
from session_rater.usecases.calibration import RaterCalibration
from session_rater.usecases.services import Services

__all__ = ["render"]

ROLE_COLOURS = {  # marks at 3:1 or more on white (WCAG 1.4.11)
    "tutor": "#c2410c",  # 5.2:1
    "treatment_manager": "#6d28d9",  # 7.1:1
    "external_assessor": "#15803d",  # 5.0:1
    "benchmark": "#52525b",  # 7.7:1
}
DIFFERENCE = "score − benchmark"
WHOSE = {
    "tutor": "Tutors' self-assessments",
    "treatment_manager": "Treatment managers' monitoring scores",
    "external_assessor": "External assessors' scores",
    "benchmark": "Master scores",
}
COLUMN_HEADS = {"tutor": "Tutors", "treatment_manager": "Managers", "external_assessor": "Assessors",
                "benchmark": "Master scores"}  # the item grid's columns: short enough for 320 px
WHO_SHORT = {"tutor": "tutors", "treatment_manager": "treatment managers", "external_assessor": "external assessors",
             "benchmark": "master scores"}  # fmt: skip
SOURCES = (
    ("Bland JM, Altman DG (1986). Statistical methods for assessing agreement between two methods of clinical "
     "measurement. Lancet 327:307-310 (mean difference, limits of agreement)."),
    ("Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap; Davison AC, Hinkley DV (1997). Bootstrap "
     "Methods and their Application, s. 3.8 (percentile intervals, resampling whole sessions)."),
    "Wilcoxon F (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1:80-83 (signed-rank test).",
    ("Thorndike EL (1920). A constant error in psychological ratings; Clark LA, Watson DA (1995). Constructing "
     "validity (halo: items scored as one impression)."),
)  # fmt: skip
HOW_MEAN = (
    f"Each item score is paired with the benchmark's score of the same session, tutor and item; the figure is "
    f"the mean of ({DIFFERENCE}). Positive = scored above the benchmark (over-scoring)."
)
HOW_CI = (
    f"95% percentile interval from {ad.N_BOOT:,} bootstrap resamples of whole sessions (seed {ad.SEED}); no "
    f"interval below {MIN_SESSIONS_FOR_INTERVAL} sessions."
)
CAREFUL_P = (
    f"too few sessions (n < {MIN_SESSIONS_FOR_INTERVAL}) for an interval; the test treats item scores as "
    "independent, which they are not within a session, so read it with care"
)
FLAG_NAMES = {
    "halo": "Halo (items scored as one impression)",
    "straight_line": "Straight-line scoring",
    "halo_not_assessed": "Not assessed for halo",
}


# -- formatting ------------------------------------------------------------------------------------


def _interval(e: BiasEstimate) -> str:
    if e.ci is None:
        return _no_interval(e.n_sessions)
    return f"{signed(e.ci[0])} to {signed(e.ci[1])}"


def _no_interval(n_sessions: int) -> str:
    return f"none: {n_sessions} session{'s' if n_sessions != 1 else ''} (an interval needs {MIN_SESSIONS_FOR_INTERVAL})"


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _p_text(e: BiasEstimate) -> str:
    """The test's p, never bare beside a missing interval: a tiny p from a few sessions' items
    looks sure and is not."""
    return _p(e.p_value) if e.ci is not None else f"{_p(e.p_value)} ({CAREFUL_P})"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _who(role: str) -> str:
    return WHOSE.get(role, ad.capacity_label(role))


def _points(x: float) -> str:
    return f"{abs(x):.2f} point{'s' if round(abs(x), 2) != 1 else ''} {'above' if x > 0 else 'below'}"


# -- the answer ------------------------------------------------------------------------------------


def _answer(report: AnalysisReport, quarters: pd.DataFrame, names: dict[object, str]) -> None:
    """The answer in a few sentences: how far each capacity is from the benchmark, how sure that
    is, which raters most, and whether the gap is closing."""
    bias = report.bias
    scale = report.categories
    on = f" on the {scale[0]:g}–{scale[-1]:g} scale" if scale else ""
    estimates = sorted(bias.by_role.estimates, key=lambda e: ad.ROLE_ORDER.index(str(e.key[0])))
    parts = []
    for e in estimates:
        who = WHO_SHORT.get(str(e.key[0]), ad.capacity_label(str(e.key[0])))
        if abs(e.mean_diff) < 0.05:
            parts.append(f"{who} score level with the benchmark")
        else:
            parts.append(f"{who} score {'their own delivery ' if e.key[0] == 'tutor' else ''}"
                         f"{_points(e.mean_diff)} the benchmark")
    st.markdown(f"**{_sentence('; '.join(parts))[:-1]}{on}.**")
    lines = [_sureness(estimates)]
    raters = sorted(bias.by_rater.estimates, key=lambda e: -e.mean_diff)
    over = [e for e in raters if e.mean_diff > 0.05][:3]
    if over:
        lines.append(
            "Furthest above it: " + ", ".join(
                f"**{plain(names.get(e.key[0], f'rater {e.key[0]}'))}** ({ad.capacity_label(str(e.key[1])).lower()}, "
                f"{signed(e.mean_diff)})" for e in over
            ) + ". The ranking of every rater follows."
        )  # fmt: skip
    trend = _trend_answer(quarters)
    if trend:
        lines.append(trend)
    st.markdown("\n".join(f"- {line}" for line in lines))
    _benchmark_line(bias)


def _sureness(estimates: list[BiasEstimate]) -> str:
    sure = [e for e in estimates if e.ci is not None and (e.ci[0] > 0 or e.ci[1] < 0)]
    unsure = [e for e in estimates if e.ci is not None and e not in sure]
    none = [e for e in estimates if e.ci is None]
    out = []
    if sure:
        sessions = " and ".join(str(e.n_sessions) for e in sure)
        whose = " and ".join(WHO_SHORT.get(str(e.key[0]), "") for e in sure)
        out.append(f"For {whose} this is no accident of which sessions were rated: the 95% interval"
                   f"{'s' if len(sure) > 1 else ''} ({sessions} sessions) lie{'' if len(sure) > 1 else 's'} wholly "
                   f"{'above' if sure[0].mean_diff > 0 else 'below'} zero.")  # fmt: skip
    for e in unsure:
        out.append(f"For {WHO_SHORT.get(str(e.key[0]), '')} the interval ({_interval(e)}) includes zero: these "
                   "sessions cannot tell a bias from chance.")  # fmt: skip
    for e in none:
        out.append(f"For {WHO_SHORT.get(str(e.key[0]), '')} there is no interval: only {e.n_sessions} session"
                   f"{'s' if e.n_sessions != 1 else ''} paired (an interval needs {MIN_SESSIONS_FOR_INTERVAL}), so read "
                   "the figure as a first indication.")  # fmt: skip
    return " ".join(out)


def _trend_answer(data: pd.DataFrame) -> str:
    if data.empty or data["period"].nunique() < 2:
        return ""
    out = []
    for role in [r for r in ad.ROLE_ORDER if r in set(data["rater_role"])]:
        rows = data[data["rater_role"] == role].sort_values("period")
        if len(rows) < 2:
            continue
        first, last = rows.iloc[0], rows.iloc[-1]
        apart = pd.notna(first["ci_low"]) and pd.notna(last["ci_low"]) and (
            first["ci_high"] < last["ci_low"] or last["ci_high"] < first["ci_low"])  # fmt: skip
        closer = abs(last["mean_diff"]) < abs(first["mean_diff"])
        if apart:
            verb = "narrowed" if closer else "widened"
            sure = "beyond chance (the two quarters' intervals do not overlap)"
        else:
            verb = "stayed about the same"
            sure = "within chance"
        out.append(f"{WHO_SHORT.get(role, role)}' gap {verb}, {signed(first['mean_diff'])} in {first['period']} to "
                   f"{signed(last['mean_diff'])} in {last['period']}, {sure}")  # fmt: skip
    if not out:
        return ""
    text = "Over the quarters, " + "; ".join(out) + "."
    return text[:1].upper() + text[1:]


def _benchmark_line(bias: BiasReport) -> None:
    used = {role for role, n in bias.reference.pairs_by_source.items() if n}
    note = ""
    if used == {"external_assessor"}:
        note = (" No master scores exist for these sessions, so the external assessors' scores are the benchmark; "
                "master scores, once recorded, take their place for the sessions they cover.")  # fmt: skip
    elif used == {"benchmark"}:
        note = " External assessors are then compared with the master scores like everyone else."
    small(f"**Benchmark used:** {bias.reference.describe()}.{note}")


def _no_benchmark(bias: BiasReport) -> None:
    st.warning(
        f"**Benchmark: none available.** There is {bias.reference.describe()}. Over-scoring is measured against "
        "master scores or, where there are none, an external assessor's scores of the same session and tutor: "
        "it needs sessions scored both by an external assessor (or with master scores) and by the tutor or a "
        "treatment manager.",
        icon=":material/flag:",
    )


def _metrics(bias: BiasReport) -> None:
    estimates = sorted(bias.by_role.estimates, key=lambda e: ad.ROLE_ORDER.index(str(e.key[0])))
    cols = st.columns(max(len(estimates), 1))
    for col, e in zip(cols, estimates, strict=False):
        with col:
            st.metric(
                f"{ad.capacity_label(str(e.key[0]))} vs benchmark",
                f"{signed(e.mean_diff)} points",
                border=True,
                help=f"{HOW_MEAN} Over {e.n:,} item scores in {e.n_sessions} sessions. {HOW_CI}",
            )
            small(f"95% interval {_interval(e)} · {e.share_over_by_1:.0%} of item scores at least 1 point above · "
                  f"{e.n:,} item scores, {e.n_sessions} sessions")  # fmt: skip


# -- raters ranked ---------------------------------------------------------------------------------
def _person_id(key: object) -> int | None:
    try:
        return int(key)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None



def _ranking(bias: BiasReport, names: dict[object, str], calibration: Mapping[int, RaterCalibration] | None = None) -> None:
    rows = [
        {"rater": names.get(e.key[0], f"rater {e.key[0]}"), "mean_diff": e.mean_diff, "interval": _interval(e),
         "capacity": ad.capacity_label(str(e.key[1])), "share_pct": 100 * e.share_over_by_1,
         "n_sessions": e.n_sessions}  # the figures next to the name: at 320 px the rest scrolls
        for e in sorted(bias.by_rater.estimates, key=lambda e: -e.mean_diff)
    ]  # fmt: skip
    if calibration is not None:  # issue 10: each rater's calibration against the master scores, last
        for row, e in zip(rows, sorted(bias.by_rater.estimates, key=lambda e: -e.mean_diff), strict=True):
            row["calibration"] = status_words(calibration.get(_person_id(e.key[0])))
    if not rows:
        return
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "rater": st.column_config.TextColumn("Rater"),
            "capacity": st.column_config.TextColumn("Scoring as"),
            "mean_diff": st.column_config.NumberColumn("Above the benchmark (points)", format="%+.2f", help=HOW_MEAN),
            "interval": st.column_config.TextColumn("95% interval", help=HOW_CI),
            "share_pct": st.column_config.ProgressColumn(
                "Item scores ≥ 1 point above", min_value=0, max_value=100, format="%.0f%%",
                help="Share of the rater's item scores at least one scale point above the benchmark's.",
            ),
            "n_sessions": st.column_config.NumberColumn("Sessions", help="Sessions paired with a benchmark score."),
            "calibration": st.column_config.TextColumn(
                "Calibration", help="Against the benchmark's master scores (the Calibration page): certified until a "
                "date (flagged when it ends within 30 days), not certified, expired, recalibration due, or not attempted"),
        },
    )  # fmt: skip
    small("Highest first. A rater scoring in two capacities has a row for each. The interval shows how far the figure "
          "could move with other sessions; a rater with few sessions has a wide one, or none.")  # fmt: skip


# -- by quarter ------------------------------------------------------------------------------------


def _trend(data: pd.DataFrame) -> None:
    if data.empty:
        return
    data = data.assign(
        capacity=data["rater_role"].map(ad.capacity_label),
        mean_text=[f"{signed(v)} points" for v in data["mean_diff"]],
        interval=[f"{signed(lo)} to {signed(hi)}" if pd.notna(lo) else _no_interval(int(s))
                  for lo, hi, s in zip(data["ci_low"], data["ci_high"], data["n_sessions"], strict=True)],
    )  # fmt: skip
    roles = [r for r in ad.ROLE_ORDER if r in set(data["rater_role"])]
    colour = alt.Color("capacity:N", title=None, legend=alt.Legend(orient="top", direction="vertical", labelLimit=300),
                       scale=alt.Scale(domain=[ad.capacity_label(r) for r in roles],
                                       range=[ROLE_COLOURS[r] for r in roles]))  # fmt: skip
    shape = alt.Shape("capacity:N", title=None, legend=None,
                      scale=alt.Scale(domain=[ad.capacity_label(r) for r in roles], range=["circle", "square", "diamond"][: len(roles)]))  # fmt: skip
    y_title = f"{DIFFERENCE} (points)"
    base = alt.Chart(data).encode(
        x=alt.X("period:O", title="Quarter recorded", axis=alt.Axis(labelAngle=0, labelOverlap=True)),
        color=colour,
        tooltip=[alt.Tooltip("period:O", title="Quarter"), alt.Tooltip("capacity:N", title="Capacity"),
                 alt.Tooltip("mean_text:N", title="Mean difference"), alt.Tooltip("interval:N", title="95% interval"),
                 alt.Tooltip("n_sessions:Q", title="Sessions")],
    )  # fmt: skip
    line = base.mark_line(strokeWidth=2.5).encode(y=alt.Y("mean_diff:Q", title=y_title))
    points = base.mark_point(filled=True, size=90, opacity=1).encode(y="mean_diff:Q", shape=shape)
    bars = base.mark_errorbar(ticks=True, thickness=2).encode(y=alt.Y("ci_low:Q", title=y_title), y2="ci_high:Q")
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color=TEXT, strokeDash=[4, 3]).encode(y=alt.Y("y:Q", title=y_title))
    table = data.sort_values(["period", "rater_role"])[["period", "capacity", "mean_diff", "interval", "n_sessions"]]
    figure(
        alt.layer(zero, bars, line, points).properties(height=300),
        words=_trend_words(data, roles),
        table=table,
        table_label="Figures of the chart: mean difference by quarter",
        column_config={"period": "Quarter", "capacity": "Capacity",
                       "mean_diff": st.column_config.NumberColumn("Mean difference", format="%+.2f"),
                       "interval": "95% interval", "n_sessions": "Sessions"},
    )  # fmt: skip


def _trend_words(data: pd.DataFrame, roles: list[str]) -> str:
    quarters = sorted(data["period"].unique())
    parts = []
    for role in roles:
        rows = data[data["rater_role"] == role].sort_values("period")
        values = ", ".join(f"{signed(v)} in {p}" for p, v in zip(rows["period"], rows["mean_diff"], strict=True))
        parts.append(f"{WHO_SHORT.get(role, role)}: {values}")
    return (f"Mean difference from the benchmark in each quarter, {quarters[0]} to {quarters[-1]}, one line per "
            f"capacity with its 95% interval and a dashed line at zero. " + _sentence("; ".join(parts)))  # fmt: skip


# -- by item ---------------------------------------------------------------------------------------


def _items(report: AnalysisReport, info: dict[str, ad.ItemInfo]) -> None:
    rows = []
    for e in report.bias.by_item.estimates:
        item_id, role = str(e.key[0]), str(e.key[1])
        item = info.get(item_id, ad.ItemInfo(len(info), "", item_id))
        rows.append({"item": item.title, "section": item.section, "order": item.order, "item_id": item_id,
                     "role": role, "capacity": COLUMN_HEADS.get(role, role), "mean_diff": e.mean_diff,
                     "interval": _interval(e), "n_sessions": e.n_sessions, "cell": signed(e.mean_diff, 1)})  # fmt: skip
    if not rows:
        return
    data = pd.DataFrame(rows)
    top = max(1.0, float(data["mean_diff"].abs().max()))
    items = list(data.sort_values("order")["item"].drop_duplicates())
    capacities = [c for c in (COLUMN_HEADS.get(r, r) for r in ad.ROLE_ORDER) if c in set(data["capacity"])]
    base = alt.Chart(data).encode(
        x=alt.X("capacity:N", sort=capacities, title=None,
                axis=alt.Axis(orient="top", labelAngle=0, labelLimit=160)),
        y=alt.Y("item:N", sort=items, title=None, axis=alt.Axis(labelLimit=label_limit())),
        tooltip=[alt.Tooltip("item:N", title="Item"), alt.Tooltip("section:N", title="Section"),
                 alt.Tooltip("capacity:N", title="Capacity"), alt.Tooltip("mean_diff:Q", title="Mean difference", format="+.2f"),
                 alt.Tooltip("interval:N", title="95% interval"), alt.Tooltip("n_sessions:Q", title="Sessions")],
    )  # fmt: skip
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("mean_diff:Q", scale=alt.Scale(domain=[-top, 0, top], range=HEAT_DIVERGING), legend=None)
    )
    text = base.mark_text(fontSize=12, color="black").encode(text="cell:N")
    wide = data.pivot_table(index=["order", "item"], columns="capacity", values="mean_diff", aggfunc="first")
    wide = wide.reset_index().sort_values("order").drop(columns="order")
    figure(
        (cells + text).properties(height=alt.Step(24)),
        words=_item_words(data),
        table=wide[["item", *[c for c in capacities if c in wide.columns]]],
        table_label="Figures of the chart: mean difference by item",
        column_config={"item": st.column_config.TextColumn("Item"),
                       **{c: st.column_config.NumberColumn(c, format="%+.2f") for c in capacities}},
    )  # fmt: skip
    small("Each cell: the mean difference from the benchmark, in points; red above it, blue below, the stronger the "
          "further. Items in the order of the checklist. Tutors: their self-assessments; Managers: treatment managers' "
          "monitoring.")  # fmt: skip


def _item_words(data: pd.DataFrame) -> str:
    parts = []
    for role in [r for r in ad.ROLE_ORDER if r in set(data["role"])]:
        rows = data[data["role"] == role].sort_values("mean_diff", ascending=False)
        most = "; ".join(f"“{t}” ({signed(v)})" for t, v in zip(rows["item"][:3], rows["mean_diff"][:3], strict=True))
        least = rows.iloc[-1]
        parts.append(f"{WHO_SHORT.get(role, role)} score most above it on {most}; least on “{least['item']}” "
                     f"({signed(least['mean_diff'])})")  # fmt: skip
    return (f"A grid of {data['item'].nunique()} items by capacity, each cell the mean difference from the benchmark. "
            + _sentence("; ".join(parts)))  # fmt: skip


# -- independence ----------------------------------------------------------------------------------


def _independence(report: AnalysisReport, names: dict[object, str]) -> None:
    flags = [f for f in report.independence.flags if f.flag != "halo_not_assessed"]
    not_assessed = [f for f in report.independence.flags if f.flag == "halo_not_assessed"]

    def bullets(rows) -> str:  # type: ignore[no-untyped-def]
        return "\n".join(f"- **{plain(names.get(f.rater_id, f'rater {f.rater_id}'))}** "
                         f"({ad.capacity_label(f.rater_role).lower()}). {FLAG_NAMES.get(f.flag, f.flag)}: {plain(f.detail)}."
                         for f in rows)  # fmt: skip

    if flags:
        st.markdown(bullets(flags))
    else:
        st.success("No rater's forms barely vary, and no rater's items move together as one impression.",
                   icon=":material/check_circle:")  # fmt: skip
    small(
        f"A form is one rater's scoring of one tutor in one session. **Straight-line**: a form of at least "
        f"{MIN_ITEMS_PER_FORM} scored items whose scores have a standard deviation below {STRAIGHT_LINE_SD} (at most "
        f"one item a point off the rest). **Halo**: across a rater's forms, the mean correlation between items is "
        f"above {HALO_CORRELATION}, i.e. the items rise and fall together (Thorndike 1920; Clark & Watson 1995 call "
        ".15-.50 healthy). The audit found tutors \"did not assess each performance criterion independently\" (C1.5)."
    )
    if not_assessed:
        with st.expander(f"Raters not assessed for halo ({len(not_assessed)})", icon=":material/help:"):
            st.markdown(bullets(not_assessed))


# -- technical detail ------------------------------------------------------------------------------


def _technical(svc: Services, filters: ad.Filters, report: AnalysisReport, names: dict[object, str]) -> None:
    bias = report.bias
    small("For analysts: the statistical tests, the spread of single differences, and how each figure was made.")
    with st.expander("Tests and limits of agreement, by capacity and by rater", icon=":material/functions:"):
        _tests_table(bias, names)
    by_tutor = [e for e in bias.by_tutor.estimates]
    if by_tutor:
        with st.expander("By tutor rated: how each tutor's delivery is scored against the benchmark", icon=":material/person:"):
            _by_tutor(by_tutor, names)
    with st.expander("Bland-Altman plot: each score against the benchmark's", icon=":material/scatter_plot:"):
        _bland_altman(svc, filters, bias, names)
    with st.expander("Method and sources", icon=":material/menu_book:"):
        _method(report)


def _tests_table(bias: BiasReport, names: dict[object, str]) -> None:
    rows = [{"who": f"All {WHO_SHORT.get(str(e.key[0]), str(e.key[0]))}", "capacity": ad.capacity_label(str(e.key[0])),
             **_test_row(e)} for e in bias.by_role.estimates]  # fmt: skip
    rows += [{"who": names.get(e.key[0], f"rater {e.key[0]}"), "capacity": ad.capacity_label(str(e.key[1])),
              **_test_row(e)} for e in sorted(bias.by_rater.estimates, key=lambda e: -e.mean_diff)]  # fmt: skip
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "who": st.column_config.TextColumn("Scores of"),
            "capacity": "Capacity",
            "mean_diff": st.column_config.NumberColumn("Mean diff.", format="%+.2f", help=HOW_MEAN),
            "interval": st.column_config.TextColumn("95% interval", help=HOW_CI),
            "limits": st.column_config.TextColumn(
                "Limits of agreement", help="Bland & Altman (1986): mean ± 1.96 SD of the differences; 95% of single "
                "differences are expected in this range."),
            "p_text": st.column_config.TextColumn(
                "Wilcoxon p", help="Two-sided Wilcoxon (1945) signed-rank test of 'differences centred on zero'. It "
                "treats item scores as independent, which they are not within a session: read it with the interval."),
            "n": st.column_config.NumberColumn("Item scores"),
            "n_sessions": st.column_config.NumberColumn("Sessions"),
        },
    )  # fmt: skip
    small("The interval resamples whole sessions and is the figure to rely on; the Wilcoxon test treats every item score "
          "as independent, so its p is smaller than the evidence warrants. Where a row has no interval, its p is shown "
          "with that warning.")  # fmt: skip


def _test_row(e: BiasEstimate) -> dict[str, object]:
    limits = "–" if e.limits is None else f"{signed(e.limits[0])} to {signed(e.limits[1])}"
    return {"mean_diff": e.mean_diff, "interval": _interval(e), "limits": limits, "p_text": _p_text(e), "n": e.n,
            "n_sessions": e.n_sessions}  # fmt: skip


def _by_tutor(estimates: list[BiasEstimate], names: dict[object, str]) -> None:
    rows = [{"tutor": names.get(e.key[0], "the session as a whole" if e.key[0] is None else f"tutor {e.key[0]}"),
             "capacity": ad.capacity_label(str(e.key[1])), "mean_diff": e.mean_diff, "interval": _interval(e),
             "share_pct": 100 * e.share_over_by_1, "n_sessions": e.n_sessions, "p_text": _p_text(e)}
            for e in estimates]  # fmt: skip
    st.dataframe(
        pd.DataFrame(rows).sort_values(["tutor", "capacity"]),
        hide_index=True,
        width="stretch",
        column_config={
            "tutor": st.column_config.TextColumn("Tutor rated"), "capacity": "Rated by",
            "mean_diff": st.column_config.NumberColumn("Mean difference", format="%+.2f", help=HOW_MEAN),
            "interval": st.column_config.TextColumn("95% interval", help=HOW_CI),
            "share_pct": st.column_config.ProgressColumn("≥ 1 point above", min_value=0, max_value=100, format="%.0f%%"),
            "n_sessions": "Sessions", "p_text": "Wilcoxon p",
        },
    )  # fmt: skip


def _bland_altman(svc: Services, filters: ad.Filters, bias: BiasReport, names: dict[object, str]) -> None:
    choices: dict[str, tuple[str, BiasEstimate]] = {}
    for e in sorted(bias.by_role.estimates, key=lambda e: ad.ROLE_ORDER.index(str(e.key[0]))):
        choices[f"All {_who(str(e.key[0]))[0].lower()}{_who(str(e.key[0]))[1:]}"] = ("role", e)
    for e in sorted(bias.by_rater.estimates, key=lambda e: -e.mean_diff):
        choices[ad.rater_label(e.key[0], str(e.key[1]), names)] = ("rater", e)
    chosen = st.selectbox("Scores of", list(choices), key="overscoring:ba")
    kind, estimate = choices[chosen]
    pairs = ad.paired_scores(svc, filters).pairs
    if kind == "role":
        pairs = pairs[pairs["rater_role"] == estimate.key[0]]
        role = str(estimate.key[0])
    else:
        pairs = pairs[(pairs["rater_id"] == estimate.key[0]) & (pairs["rater_role"] == estimate.key[1])]
        role = str(estimate.key[1])
    points = (
        pairs.assign(average=(pairs["score"] + pairs["reference"]) / 2)
        .groupby(["average", "difference"], as_index=False)
        .size()
        .rename(columns={"size": "count"})
    )
    colour = ROLE_COLOURS.get(role, "#1d4ed8")
    dots = alt.Chart(points).mark_circle(color=colour, opacity=1, stroke="white", strokeWidth=0.5).encode(
        x=alt.X("average:Q", title="Mean of score and benchmark", scale=alt.Scale(zero=False), axis=alt.Axis(tickCount=6)),
        y=alt.Y("difference:Q", title=f"{DIFFERENCE} (points)"),
        size=alt.Size("count:Q", title="Item scores", scale=alt.Scale(range=[40, 700], zero=False),
                      legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("average:Q", title="Mean of score and benchmark", format=".2f"),
                 alt.Tooltip("difference:Q", title=f"Difference ({DIFFERENCE})", format="+.2f"),
                 alt.Tooltip("count:Q", title="Item scores at this point")],
    )  # fmt: skip
    lines = [("Bias (mean difference)", estimate.mean_diff, "solid")]
    if estimate.limits is not None:
        lines += [("Upper limit of agreement", estimate.limits[1], "dash"),
                  ("Lower limit of agreement", estimate.limits[0], "dash")]  # fmt: skip
    lines.append(("No difference", 0.0, "zero"))
    rules_data = pd.DataFrame([{"what": w, "y": y, "style": s, "label": f"{w.split(' (')[0]} {signed(y)}"}
                               for w, y, s in lines])  # fmt: skip
    rules = alt.Chart(rules_data).mark_rule(size=2).encode(
        y="y:Q",
        color=alt.Color("style:N", scale=alt.Scale(domain=["solid", "dash", "zero"], range=[TEXT, TEXT, "#6b6b76"]),
                        legend=None),
        strokeDash=alt.StrokeDash("style:N", scale=alt.Scale(domain=["solid", "dash", "zero"],
                                                             range=[[1, 0], [6, 4], [2, 2]]), legend=None),
        tooltip=[alt.Tooltip("what:N", title="Line"), alt.Tooltip("y:Q", title="Points", format="+.2f")],
    )  # fmt: skip
    labels = alt.Chart(rules_data[rules_data["style"] != "zero"]).mark_text(
        align="right", dy=-7, x="width", color=TEXT, fontSize=12).encode(y="y:Q", text="label:N")  # fmt: skip
    whose = chosen[0].lower() + chosen[1:] if kind == "role" else chosen
    limits = (f"; 95% of single differences lie between {signed(estimate.limits[0])} and {signed(estimate.limits[1])} "
              "(the dashed limits of agreement)") if estimate.limits is not None else ""  # fmt: skip
    words = (f"Bland-Altman plot of {whose}: {len(pairs):,} item scores, each placed by the mean of the score and the "
             f"benchmark's (across) and their difference (up); the bigger the dot, the more scores there. The bias, "
             f"the solid line, is {signed(estimate.mean_diff)} points{limits}.")  # fmt: skip
    figure(
        (dots + rules + labels).properties(height=340),
        words=words,
        table=points.sort_values(["average", "difference"]),
        table_label="Figures of the chart: item scores at each point",
        column_config={"average": st.column_config.NumberColumn("Mean of score and benchmark", format="%.2f"),
                       "difference": st.column_config.NumberColumn(f"Difference ({DIFFERENCE})", format="%+.2f"),
                       "count": "Item scores"},
    )  # fmt: skip
    small("Dots above zero are over-scored. If the differences grow with the score, the limits understate them.")


def _method(report: AnalysisReport) -> None:
    bias = report.bias
    st.markdown(
        f"- **Benchmark**: {bias.reference.describe()}. A rater is never compared with their own capacity's "
        "scores; where several benchmark raters scored an item, their mean is the benchmark. Not-applicable items "
        "are left out.\n"
        f"- **Mean difference**: the mean of ({DIFFERENCE}) over a group's item scores.\n"
        f"- **95% interval**: {HOW_CI} Scores from one session are not independent (same video, same "
        "benchmark), so whole sessions are resampled.\n"
        "- **Wilcoxon p**: two-sided signed-rank test, zeros dropped; it treats item scores as independent.\n"
        "- **Limits of agreement**: mean ± 1.96 SD of the differences (Bland & Altman 1986).\n"
        f"- Scores analysed: {report.n_scores:,} ({report.n_not_applicable:,} not applicable left out); "
        f"{bias.n_pairs:,} pairs from {bias.n_sessions} sessions."
    )
    st.markdown("\n".join(f"- {s}" for s in SOURCES))


# -- the page --------------------------------------------------------------------------------------


def render() -> None:
    svc, me = page_start()
    st.title("Over-scoring", anchor=False)
    small("How far tutors' self-assessments and treatment managers' monitoring scores sit from the benchmark. Positive "
          "differences mean scoring above the benchmark: over-scoring. Hover over a figure for how it is computed.")  # fmt: skip
    if not reports_allowed(me):
        return
    filters, everything = ad.filter_bar(svc, key="overscoring", areas=me.report_areas())
    if everything.empty:
        st.info("No submitted ratings yet. Over-scoring needs sessions scored by the tutor or a treatment manager "
                "**and** by an external assessor (or with master scores) for the same tutor.",
                icon=":material/info:")  # fmt: skip
        return
    try:
        report = ad.report(svc, filters)
    except (SessionRaterError, ValueError) as exc:
        st.info(f"Nothing to analyse for {plain(filters.describe())}: {plain(exc)}. Widen the filters to include sessions with "
                "submitted ratings.", icon=":material/filter_alt_off:")  # fmt: skip
        return
    status = ad.figures_status(svc, filters)
    as_of_note(status.as_of, status.since, status.current)
    bias = report.bias
    names = ad.people_names(svc)
    if bias.n_pairs:
        quarters = ad.quarterly_bias(svc, filters)
        st.subheader("The answer", anchor=False)
        _answer(report, quarters, names)
        _metrics(bias)
        st.subheader("Raters ranked by how far they score above the benchmark", anchor=False)
        _ranking(bias, names, rater_calibrations(me))
        st.subheader("Is the gap closing? By quarter", anchor=False)
        _trend(quarters)
        st.subheader("Which items are over-scored most", anchor=False)
        _items(report, ad.item_info(svc, filters.apply(everything)))
    else:
        _no_benchmark(bias)
    st.subheader("Did raters assess each item independently?", anchor=False)
    _independence(report, names)
    render_dependability(svc, filters, report, names)
    if bias.n_pairs:
        st.subheader("Technical detail", anchor=False)
        _technical(svc, filters, report, names)
