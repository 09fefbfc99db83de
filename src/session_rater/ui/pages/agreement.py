"""Agreement: how closely raters agree when they score the same tutor in the same session.

One verdict in plain words first (:func:`session_rater.usecases.reports.verdict`), with why the
measures disagree where they do (the kappa paradox on a crowded scale, a steady gap between
capacities) and which to read for what. Then, per item, the reliability figures of :func:`session_rater.usecases.analysis.analyse` (Krippendorff's
alpha, Gwet's AC2, Fleiss' kappa, percent agreement, the ICC) with their intervals and
readings; the kappa-paradox warning; and a rater x rater matrix of pairwise agreement
(:func:`session_rater.ui.analysis_data.pairwise_agreement`).
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd
import streamlit as st

from session_rater.domain import readings
from session_rater.errors import SessionRaterError
from session_rater.ui import analysis_data as ad
from session_rater.ui.report_widgets import (
    as_of_note,
    HEAT_DIVERGING,
    HEAT_SEQUENTIAL,
    TEXT,
    figure,
    label_limit,
    small,
)
from session_rater.ui.state import page_start, reports_allowed
from session_rater.ui.text import plain
from session_rater.usecases.analysis import (
    MATRICES,
    MEASURES,
    AnalysisReport,
    MeasureResult,
)
from session_rater.usecases.services import Services

__all__ = ["render"]

NEEDS_TWO = (
    "Agreement needs **at least two raters on the same session and tutor**: for example a tutor's "
    "self-assessment and a treatment manager's monitoring of that tutor in that session, or an external "
    "assessor double-rating a monitored session."
)
PERCENT = {"percent_agreement", "percent_agreement_within_1"}
MARK = "#1d4ed8"  # the forest plot's dots and lines: 6.7:1 on white
CALIBRATION_PASS = 0.8
"""Observers of classroom video pass calibration at 80% agreement within one point of the master
codes (Teachstone CLASS): a working mark for 'within one point', not a published reliability scale."""
# How each measure is read, for the column help and the chart's background bands.
SCALES: dict[str, tuple[str, list[tuple[float, float, str]]]] = {
    "krippendorff_alpha_ordinal": ("Krippendorff (2004): ≥ .800 reliable, .667-.800 tentative conclusions only", [
        (-1.0, 0.667, "not reliable (below .667)"), (0.667, 0.8, "tentative (.667 to .800)"),
        (0.8, 1.0, "reliable (.800 or above)")]),
    "gwet_ac2_quadratic": ("Landis & Koch (1977): .41-.60 moderate, .61-.80 substantial, .81+ almost perfect", [
        (-1.0, 0.0, "poor"), (0.0, 0.2, "slight"), (0.2, 0.4, "fair"), (0.4, 0.6, "moderate"),
        (0.6, 0.8, "substantial"), (0.8, 1.0, "almost perfect")]),
    "fleiss_kappa": ("Landis & Koch (1977): .41-.60 moderate, .61-.80 substantial, .81+ almost perfect", [
        (-1.0, 0.0, "poor"), (0.0, 0.2, "slight"), (0.2, 0.4, "fair"), (0.4, 0.6, "moderate"),
        (0.6, 0.8, "substantial"), (0.8, 1.0, "almost perfect")]),
    "percent_agreement": ("no published verbal scale: not chance-corrected", []),
    "percent_agreement_within_1": (("no published verbal scale; calibration commonly asks 80% within one point "
                                   "of the master codes (Teachstone CLASS)"), [(0.8, 1.0, "80% or more within one point")]),
    "icc_2_1": (("Koo & Li (2016), judged on the 95% interval: < .50 poor, .50-.75 moderate, .75-.90 good, > .90 "
                "excellent"), [(-1.0, 0.5, "poor"), (0.5, 0.75, "moderate"), (0.75, 0.9, "good"), (0.9, 1.0, "excellent")]),
}  # fmt: skip
WHAT = {
    "krippendorff_alpha_ordinal": "1 − observed ÷ expected disagreement, disagreements weighted by how far apart "
    "the points are on the ordinal scale; missing ratings allowed. Interval: seeded bootstrap over units.",
    "gwet_ac2_quadratic": "Agreement corrected for chance as Gwet (2008) does, quadratic weights (near misses count "
    "as partial agreement); stays stable when ratings pile up at one end. Interval: Gwet's variance.",
    "fleiss_kappa": "Exact agreement corrected for chance from how often each point is used (Fleiss 1971); low "
    "when ratings pile up at one end even if raters agree. Interval: Gwet's variance.",
    "percent_agreement": "Share of pairs of ratings of the same item that are identical. Not chance-corrected.",
    "percent_agreement_within_1": "Share of pairs of ratings of the same item at most one point apart.",
    "icc_2_1": "Shrout & Fleiss (1979) ICC(2,1), absolute agreement between capacities: the capacities' mean "
    "scores of the same item; systematic over-scoring by one capacity lowers it. Interval: F distribution.",
}  # fmt: skip
PAIR_MEASURES = {
    "within_one": ("Within one point", "Share of the items both raters scored that they scored at most one point apart."),
    "exact": ("Exact agreement", "Share of the items both raters scored that they scored the same."),
    "kappa_w": ("Weighted kappa", ("Cohen's (1968) kappa with quadratic weights over the items both raters scored: "
                "agreement corrected for chance; near misses count as partial agreement.")),
    "mean_diff": ("Mean difference (row − column)", ("Mean of the row rater's score minus the column rater's, over the "
                  "items both scored: positive = the row rater scores higher.")),
}  # fmt: skip


def _number(x: float, percent: bool) -> str:
    if percent:
        return f"{x:.0%}"
    return f"{round(x, 2) + 0.0:.2f}".replace("-", "−")  # + 0.0: no "−0.00"


def _fmt(m: MeasureResult) -> str:
    return "–" if m.value is None else _number(m.value, m.name in PERCENT)


def _ci(m: MeasureResult) -> str:
    if m.ci is None:
        return "–"
    return f"{_number(m.ci[0], m.name in PERCENT)} to {_number(m.ci[1], m.name in PERCENT)}"


def _reading(m: MeasureResult) -> str:
    if m.reading is not None:
        return f"{m.reading.text} ({m.reading.scale}, on the {m.reading.basis})"
    if m.value is not None and m.name == "percent_agreement_within_1":
        side = "meets" if m.value >= CALIBRATION_PASS else "below"
        return f"{side} the {CALIBRATION_PASS:.0%} calibration mark (Teachstone CLASS observers, within one point)"
    return m.note or ("no verbal scale" if m.value is not None else "–")


def _rows(measures: Mapping[str, MeasureResult], **extra: object) -> list[dict[str, object]]:
    return [
        {
            **extra,
            "measure": MEASURES[name].label,
            "key": name,
            "value": m.value,
            "shown": _fmt(m),
            "interval": _ci(m),
            "low": m.ci[0] if m.ci else None,
            "high": m.ci[1] if m.ci else None,
            "units": m.n_units,
            "reading": _reading(m),
            "reading_short": m.reading.text if m.reading is not None else _reading(m).split(" (")[0],
            "method": m.method or m.note or "",
            "what": WHAT[name],
        }
        for name, m in measures.items()
    ]


def _overall(report: AnalysisReport) -> None:
    data = pd.DataFrame(_rows(report.agreement.overall))
    st.dataframe(
        data,
        hide_index=True,
        width="stretch",
        column_order=["measure", "shown", "interval", "units", "reading"],
        column_config={
            "measure": st.column_config.TextColumn("Measure"),
            "shown": st.column_config.TextColumn("Value"),
            "interval": st.column_config.TextColumn("95% interval"),
            "units": st.column_config.NumberColumn(
                "Items compared", help="Items of a session and tutor scored by two or more raters (for the ICC: "
                "scored in every capacity compared)."),
            "reading": st.column_config.TextColumn("Reading", help="The published scale each figure is read on, and "
                                                   "whether the point estimate or the interval was read."),
        },
    )
    with st.expander("What each measure is and how it was computed", icon=":material/menu_book:"):
        st.markdown("\n".join(f"- **{MEASURES[n].label}**: {WHAT[n]} *Read on*: {SCALES[n][0]}." for n in MEASURES))
        st.markdown("\n".join(f"- **Matrix '{k}'**: {v}" for k, v in MATRICES.items()))


def _warnings(report: AnalysisReport) -> None:
    warnings = list(report.agreement.warnings)
    if not warnings:
        return
    st.warning(
        f"**Ratings pile up at one end of the scale** on {len(warnings)} item(s), so kappa can be low although "
        "raters mostly agree (the kappa paradox; Feinstein & Cicchetti 1990). Read Gwet's AC2 beside kappa: "
        + warnings[0],
        icon=":material/warning:",
    )
    if len(warnings) > 1:
        with st.expander(f"The other {len(warnings) - 1} item(s)", icon=":material/warning:"):
            st.markdown("\n".join(f"- {w}" for w in warnings[1:]))


def _by_item(report: AnalysisReport, info: dict[str, ad.ItemInfo]) -> None:
    rows = []
    for item_id, measures in report.agreement.by_item.items():
        item = info.get(item_id, ad.ItemInfo(len(info), "", item_id))
        rows += _rows(measures, item=item.title, section=item.section, order=item.order)
    data = pd.DataFrame(rows).sort_values(["order", "measure"])
    names = {MEASURES[n].label: n for n in MEASURES}
    label = st.segmented_control("Measure", list(names), default=MEASURES["krippendorff_alpha_ordinal"].label,
                                 required=True, key="agreement:measure") or MEASURES["krippendorff_alpha_ordinal"].label  # fmt: skip
    key = names[label]
    chosen = data[data["key"] == key]
    small(f"**{label}**: {WHAT[key]} Read on {SCALES[key][0]}.")
    _forest(chosen, key, label)
    with st.expander("All measures side by side", icon=":material/table:"):
        wide = data.pivot_table(index=["order", "item"], columns="measure", values="value", aggfunc="first", sort=False)
        wide = wide.reset_index().sort_values("order").drop(columns="order")
        labels = [MEASURES[n].label for n in MEASURES if MEASURES[n].label in wide.columns]
        st.dataframe(
            wide[["item", *labels]],
            hide_index=True,
            width="stretch",
            column_config={
                "item": st.column_config.TextColumn("Item"),
                **{MEASURES[n].label: st.column_config.NumberColumn(
                    MEASURES[n].short, help=f"{MEASURES[n].label}: {WHAT[n]}",
                    format="percent" if n in PERCENT else "%.2f") for n in MEASURES},
            },
        )


def _forest(data: pd.DataFrame, key: str, label: str) -> None:
    shown = data[data["value"].notna()]
    if shown.empty:
        st.info(f"{label} could not be computed for any item: {data['method'].iloc[0] if len(data) else ''}")
        return
    low = min(0.0, float(shown[["value", "low"]].min().min())) if key not in PERCENT else 0.0
    bands = pd.DataFrame([{"from": max(a, low), "to": b, "band": text} for a, b, text in SCALES[key][1] if b > low])
    items = list(data.sort_values("order")["item"])
    y = alt.Y("item:N", sort=items, title=None, axis=alt.Axis(labelLimit=label_limit()))
    x_scale = alt.Scale(domain=[low, 1.0], nice=False)
    layers = []
    if not bands.empty:
        layers.append(alt.Chart(bands).mark_rect(opacity=0.18).encode(
            x=alt.X("from:Q", scale=x_scale), x2="to:Q",
            color=alt.Color("from:Q", scale=alt.Scale(scheme="greys"), legend=None),
            tooltip=[alt.Tooltip("band:N", title=f"Reading ({SCALES[key][0].split(':')[0]})")],
        ))  # fmt: skip
        bands["short"] = bands["band"].str.split(" (", regex=False).str[0]
        bands["middle"] = (bands["from"] + bands["to"]) / 2
        layers.append(alt.Chart(bands).mark_text(fontSize=12, color=TEXT, baseline="bottom").encode(
            x=alt.X("middle:Q", scale=x_scale), y=alt.value(-4), text="short:N"))  # fmt: skip
    tooltip = [
        alt.Tooltip("item:N", title="Item"),
        alt.Tooltip("shown:N", title=label),
        alt.Tooltip("interval:N", title="95% interval"),
        alt.Tooltip("units:Q", title="Sessions and tutors compared"),
        alt.Tooltip("reading:N", title="Reading"),
    ]
    base = alt.Chart(shown).encode(y=y, tooltip=tooltip)
    layers.append(base.mark_rule(strokeWidth=2, color=MARK).encode(x=alt.X("low:Q", scale=x_scale), x2="high:Q"))
    layers.append(base.mark_point(filled=True, size=90, color=MARK, opacity=1).encode(
        x=alt.X("value:Q", scale=x_scale, title=label, axis=alt.Axis(format=".0%" if key in PERCENT else ".1f"))))  # fmt: skip
    figure(
        alt.layer(*layers).properties(height=alt.Step(22)),
        words=_forest_words(shown, key, label),
        table=data[["item", "shown", "interval", "units", "reading_short"]],
        table_label=f"Figures of the chart: {label} by item",
        column_config={
            "item": st.column_config.TextColumn("Item"),
            "shown": st.column_config.TextColumn(label, help=WHAT[key]),
            "interval": "95% interval",
            "units": st.column_config.NumberColumn(
                "Tutors compared", help="Sessions and tutors in which two or more raters scored this item (for the "
                "ICC: scored in every capacity compared)."),
            "reading_short": st.column_config.TextColumn("Reading", help=f"Read on {SCALES[key][0]}."),
        },
    )  # fmt: skip
    small("Dot: the item's figure; line: its 95% interval. Grey bands: the published reading scale, named above the "
          "chart (darker = better).")  # fmt: skip


def _forest_words(shown: pd.DataFrame, key: str, label: str) -> str:
    ranked = shown.sort_values("value", ascending=False)
    high, low = ranked.iloc[0], ranked.iloc[-1]
    text = (f"{label} for each of {len(shown)} items, with its 95% interval, over the bands of its published reading. "
            f"Highest: “{high['item']}”, {high['shown']} ({_short(high['reading_short'])}); lowest: “{low['item']}”, "
            f"{low['shown']} ({_short(low['reading_short'])}).")  # fmt: skip
    readings_count = shown["reading_short"].map(_short).value_counts()
    if len(readings_count) and key not in PERCENT:
        text += " Items by reading: " + ", ".join(f"{n} {r}" for r, n in readings_count.items()) + "."
    return text


def _matrix(svc: Services, filters: ad.Filters) -> None:
    pairs = ad.rater_agreement(svc, filters)
    if pairs.empty:
        st.info(f"No two raters have scored the same tutor in the same session here. {NEEDS_TWO}",
                icon=":material/group:")  # fmt: skip
        return
    names = ad.people_names(svc)
    pairs = pairs.assign(
        a=[ad.rater_label(r, role, names) for r, role in zip(pairs["rater_a"], pairs["role_a"], strict=True)],
        b=[ad.rater_label(r, role, names) for r, role in zip(pairs["rater_b"], pairs["role_b"], strict=True)],
        a_short=[_short_label(r, role, names) for r, role in zip(pairs["rater_a"], pairs["role_a"], strict=True)],
        b_short=[_short_label(r, role, names) for r, role in zip(pairs["rater_b"], pairs["role_b"], strict=True)],
    )
    shared = pairs.groupby("a")["n"].sum().sort_values(ascending=False)
    keep = set(shared.index[: ad.MAX_MATRIX_RATERS])
    pairs = pairs[pairs["a"].isin(keep) & pairs["b"].isin(keep)]
    order_of = {r: i for i, r in enumerate(ad.ROLE_ORDER)}
    raters = sorted(set(pairs["a_short"]), key=lambda s: (order_of.get(
        pairs.loc[pairs["a_short"] == s, "role_a"].iloc[0], 9), s))  # fmt: skip
    choice = st.segmented_control("Show", list(PAIR_MEASURES), format_func=lambda k: PAIR_MEASURES[k][0],
                                  default="within_one", required=True, key="agreement:pair_measure") or "within_one"  # fmt: skip
    title, what = PAIR_MEASURES[choice]
    pairs = pairs.assign(
        kappa_text=[f"{k:.2f}" if pd.notna(k) else f"not defined: {note}" for k, note in
                    zip(pairs["kappa_w"], pairs["kappa_note"], strict=True)],
        cell=[_cell(v, choice) for v in pairs[choice]],
    )  # fmt: skip
    if choice in {"within_one", "exact"}:
        scale = alt.Scale(domain=[0, 1], range=HEAT_SEQUENTIAL)
    elif choice == "kappa_w":
        scale = alt.Scale(domain=[-1, 0, 1], range=HEAT_DIVERGING)
    else:
        top = max(1.0, float(pairs["mean_diff"].abs().max()))
        scale = alt.Scale(domain=[-top, 0, top], range=HEAT_DIVERGING)
    base = alt.Chart(pairs).encode(
        x=alt.X("b_short:N", sort=raters, title=None,
                axis=alt.Axis(orient="top", labelAngle=-45, labelAlign="left", labelLimit=170, labelOverlap=False)),
        y=alt.Y("a_short:N", sort=raters, title=None, axis=alt.Axis(labelLimit=label_limit(0.3, most=240), labelOverlap=False)),
        tooltip=[
            alt.Tooltip("a:N", title="Row rater"),
            alt.Tooltip("b:N", title="Column rater"),
            alt.Tooltip("n:Q", title="Items both scored"),
            alt.Tooltip("n_forms:Q", title="Sessions and tutors both scored"),
            alt.Tooltip("within_one:Q", title="Within one point", format=".0%"),
            alt.Tooltip("exact:Q", title="Exact agreement", format=".0%"),
            alt.Tooltip("kappa_text:N", title="Weighted kappa (quadratic)"),
            alt.Tooltip("mean_diff:Q", title="Mean difference (row − column)", format="+.2f"),
        ],
    )
    cells = base.mark_rect(stroke="white").encode(color=alt.Color(f"{choice}:Q", scale=scale, legend=None))
    # the figures where a cell is wide enough to hold them (at 320 px they are in the table beneath)
    text = base.mark_text(fontSize=12, color="black", opacity=alt.ExprRef("bandwidth('x') >= 34 ? 1 : 0")).encode(text="cell:N")
    table = pairs[pairs["a"] < pairs["b"]] if choice != "mean_diff" else pairs
    figure(
        (cells + text).properties(height=alt.Step(40)),
        words=_matrix_words(pairs, choice, title),
        table=table.sort_values(["a", "b"])[["a", "b", "n_forms", "n", "within_one", "exact", "kappa_text", "mean_diff"]],
        table_label="Figures of the chart: every pair of raters",
        column_config={
            "a": "Rater", "b": "Other rater", "n_forms": "Sessions and tutors both scored", "n": "Items both scored",
            "within_one": st.column_config.NumberColumn("Within one point", format="percent"),
            "exact": st.column_config.NumberColumn("Exact agreement", format="percent"),
            "kappa_text": "Weighted kappa",
            "mean_diff": st.column_config.NumberColumn("Mean difference (rater − other)", format="%+.2f"),
        },
    )  # fmt: skip
    dropped = len(shared) - len(keep)
    small(f"Each cell compares the rater of its row with the rater of its column over the items of the sessions and "
          f"tutors both scored. Empty cells: the two never scored the same tutor in the same session. {what}"
          + (f" The {dropped} raters with the fewest shared scores are left out." if dropped > 0 else ""))  # fmt: skip


ROLE_WORD = {"tutor": "self", "treatment_manager": "manager", "external_assessor": "assessor", "benchmark": "master"}


def _short_label(rater_id: object, role: str, names: dict[object, str]) -> str:
    """"Helen Price (manager)": the matrix's axes, short enough to leave room for the cells."""
    return f"{names.get(rater_id, f'rater {rater_id}')} ({ROLE_WORD.get(role, role)})"


def _short(reading: str) -> str:
    return reading.split(" (")[0]


def _matrix_words(pairs: pd.DataFrame, choice: str, title: str) -> str:
    distinct = pairs[pairs["a"] < pairs["b"]] if choice != "mean_diff" else pairs
    shown = distinct[distinct[choice].notna()].sort_values(choice, ascending=False)
    text = f"A grid of {pairs['a'].nunique()} raters by the same raters. {title} in each cell: {PAIR_MEASURES[choice][1]}"
    if len(shown):
        high, low = shown.iloc[0], shown.iloc[-1]
        text += (f" Highest: {high['a']} with {high['b']}, {_cell(high[choice], choice)}; lowest: {low['a']} with "
                 f"{low['b']}, {_cell(low[choice], choice)}.")  # fmt: skip
    return text


def _cell(value: float | None, choice: str) -> str:
    if value is None or pd.isna(value):
        return "–"
    if choice in {"within_one", "exact"}:
        return f"{value:.0%}"
    return f"{value:+.2f}" if choice == "mean_diff" else f"{value:.2f}"


def _sources() -> None:
    references = (
        readings.KRIPPENDORFF_SOURCE, readings.LANDIS_KOCH_SOURCE, readings.KOO_LI_SOURCE,
        ("Gwet KL (2008). Computing inter-rater reliability and its variance in the presence of high agreement. "
        "Br J Math Stat Psychol 61:29-48."),
        "Feinstein AR, Cicchetti DV (1990). High agreement but low kappa: I. J Clin Epidemiol 43:543-549.",
        "Cohen J (1968). Weighted kappa. Psychol Bull 70:213-220.",
        ("Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater reliability. Psychol Bull "
        "86:420-428."),
    )  # fmt: skip
    with st.expander("Sources", icon=":material/menu_book:"):
        st.markdown("\n".join(f"- {r}" for r in references))


def _verdict(report: AnalysisReport, scores: pd.DataFrame, filters: ad.Filters) -> None:
    """The answer first: one verdict, why the measures disagree where they do, which to read for what."""
    found = ad.verdict(report, scores)
    st.markdown(f"**{found.headline}**")
    lines, nested = [], False
    for reason in found.reasons:
        lines.append(("    - " if nested else "- ") + reason)
        nested = nested or reason.endswith(":")  # the causes of a disagreement, under their lead
    st.markdown("\n".join(lines))
    st.markdown(found.trust)
    units = report.agreement.overall["percent_agreement"].n_units or 0
    small(f"From {units:,} item scores of a session and tutor rated by two or more raters ({plain(filters.describe())}).")


def render() -> None:
    svc, me = page_start()
    st.title("Agreement", anchor=False)
    small(
        "How closely raters agree when they score the same tutor in the same session, item by item. Agreement is "
        "not accuracy: two lenient raters can agree perfectly and both over-score, which the **Over-scoring** page "
        "measures. Hover over a figure for what it is and how it is computed."
    )
    if not reports_allowed(me):
        return
    filters, everything = ad.filter_bar(svc, key="agreement", areas=me.report_areas())
    if everything.empty:
        st.info(f"No submitted ratings yet. {NEEDS_TWO}", icon=":material/info:")
        return
    try:
        report = ad.report(svc, filters)
    except (SessionRaterError, ValueError) as exc:
        st.info(f"Nothing to analyse for {plain(filters.describe())}: {plain(exc)}. Widen the filters to include sessions with "
                "submitted ratings.", icon=":material/filter_alt_off:")  # fmt: skip
        return
    status = ad.figures_status(svc, filters)
    as_of_note(status.as_of, status.since, status.current)
    overall = report.agreement.overall
    if all(m.value is None for m in overall.values()):
        reasons = sorted({m.note for m in overall.values() if m.note})
        st.info(f"No agreement figure can be computed for {plain(filters.describe())}. {NEEDS_TWO} "
                f"({'; '.join(reasons)})", icon=":material/group:")  # fmt: skip
        return
    st.subheader("The answer", anchor=False)
    _verdict(report, filters.apply(everything), filters)
    st.subheader("All items together", anchor=False)
    _overall(report)
    _warnings(report)
    st.subheader("By item", anchor=False)
    _by_item(report, ad.item_info(svc, filters.apply(everything)))
    st.subheader("Rater by rater", anchor=False)
    _matrix(svc, filters)
    _sources()
