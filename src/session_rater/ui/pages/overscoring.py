"""Over-scoring: how far tutors' and treatment managers' scores sit from the benchmark.

Every score is paired with the benchmark's score of the same session, tutor and item (master
scores where they exist, else the external assessors'), and the signed difference is summed
up by capacity, item, rater and quarter (:mod:`session_rater.domain.bias`); halo and
straight-line scoring come from :mod:`session_rater.domain.independence`. Figures are
:func:`session_rater.usecases.analysis.analyse`'s, through :mod:`session_rater.ui.analysis_data`.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from session_rater.ui.text import plain
from session_rater.usecases.analysis import AnalysisReport
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
from session_rater.usecases.services import Services
from session_rater.ui import analysis_data as ad
from session_rater.ui.dependability_sections import render_dependability
from session_rater.ui.state import (
    page_start,
    reports_allowed,
)

__all__ = ["render"]

ROLE_COLOURS = {
    "tutor": "#e6550d",
    "treatment_manager": "#756bb1",
    "external_assessor": "#31a354",
    "benchmark": "#636363",
}
DIFFERENCE = "score − benchmark"
SOURCES = (
    ("Bland JM, Altman DG (1986). Statistical methods for assessing agreement between two methods of clinical "
    "measurement. Lancet 327:307-310 (mean difference, limits of agreement)."),
    ("Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap; Davison AC, Hinkley DV (1997). Bootstrap "
    "Methods and their Application, s. 3.8 (percentile intervals, resampling whole sessions)."),
    "Wilcoxon F (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1:80-83 (signed-rank test).",
    ("Thorndike EL (1920). A constant error in psychological ratings; Clark LA, Watson DA (1995). Constructing "
    "validity (halo: items scored as one impression)."),
)
HOW_MEAN = (
    f"Each item score is paired with the benchmark's score of the same session, tutor and item; the figure is "
    f"the mean of ({DIFFERENCE}). Positive = scored above the benchmark (over-scoring)."
)
HOW_CI = (
    f"95% percentile interval from {ad.N_BOOT:,} bootstrap resamples of whole sessions (seed {ad.SEED}); no "
    f"interval below {MIN_SESSIONS_FOR_INTERVAL} sessions."
)
WHOSE = {
    "tutor": "Tutors' self-assessments",
    "treatment_manager": "Treatment managers' monitoring scores",
    "external_assessor": "External assessors' scores",
    "benchmark": "Master scores",
}
X_TITLE = f"Mean difference, {DIFFERENCE} (points): ← below the benchmark · above it →"
Y_TREND = f"Mean difference, {DIFFERENCE} (points)"
FLAG_NAMES = {
    "halo": "Halo (items scored as one impression)",
    "straight_line": "Straight-line scoring",
    "halo_not_assessed": "Not assessed for halo",
}


# -- formatting ------------------------------------------------------------------------------------


def _signed(x: float | None, digits: int = 2) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:+.{digits}f}".replace("-", "−")


def _interval(e: BiasEstimate) -> str:
    if e.ci is None:
        return _no_interval(e.n_sessions)
    return f"{_signed(e.ci[0])} to {_signed(e.ci[1])}"


def _no_interval(n_sessions: int) -> str:
    return f"none: {n_sessions} session{'s' if n_sessions != 1 else ''} (needs {MIN_SESSIONS_FOR_INTERVAL})"


def _limits(e: BiasEstimate) -> str:
    return "–" if e.limits is None else f"{_signed(e.limits[0])} to {_signed(e.limits[1])}"


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _estimate_row(e: BiasEstimate) -> dict[str, object]:
    return {
        "n": e.n,
        "n_sessions": e.n_sessions,
        "mean_diff": e.mean_diff,
        "ci_low": e.ci[0] if e.ci else None,
        "ci_high": e.ci[1] if e.ci else None,
        "interval": _interval(e),
        "p_value": e.p_value,
        "p_text": _p(e.p_value),
        "share_over": e.share_over_by_1,
        "share_pct": 100 * e.share_over_by_1,
        "limits": _limits(e),
        "mean_text": f"{_signed(e.mean_diff)} points",
    }


def _tooltips(*first: alt.Tooltip) -> list[alt.Tooltip]:
    return [
        *first,
        alt.Tooltip("mean_text:N", title=f"Mean difference ({DIFFERENCE})"),
        alt.Tooltip("interval:N", title="95% interval"),
        alt.Tooltip("n:Q", title="Item scores paired"),
        alt.Tooltip("n_sessions:Q", title="Sessions"),
        alt.Tooltip("share_over:Q", title="Share scored ≥ 1 point above", format=".0%"),
        alt.Tooltip("p_text:N", title="Wilcoxon signed-rank p"),
        alt.Tooltip("how:N", title="How computed"),
    ]


# -- sections --------------------------------------------------------------------------------------


def _benchmark_statement(bias: BiasReport) -> None:
    reference = bias.reference
    if not bias.n_pairs:
        st.warning(
            f"**Benchmark: none available.** There is {reference.describe()}. Over-scoring is measured against "
            "master scores or, where there are none, an external assessor's scores of the same session and tutor: "
            "it needs sessions scored both by an external assessor (or with master scores) and by the tutor or a "
            "treatment manager.",
            icon=":material/flag:",
        )
        return
    used = {role for role, n in reference.pairs_by_source.items() if n}
    note = ""
    if used == {"external_assessor"}:
        note = (" No master (benchmark) scores exist for these sessions, so the external assessors' scores are the "
                "benchmark; master scores, once recorded, take their place for the sessions they cover.")  # fmt: skip
    elif used == {"benchmark"}:
        note = " External assessors are then compared with the master scores like everyone else."
    st.info(f"**Benchmark used:** {reference.describe()}.{note}", icon=":material/flag:")


def _headline(bias: BiasReport, scale: tuple[float, ...] | None) -> None:
    estimates = sorted(bias.by_role.estimates, key=lambda e: ad.ROLE_ORDER.index(str(e.key[0])))
    cols = st.columns(max(len(estimates), 1))
    for col, e in zip(cols, estimates, strict=False):
        col.metric(
            f"{ad.capacity_label(str(e.key[0]))} vs benchmark",
            f"{_signed(e.mean_diff)} points",
            border=True,
            help=f"{HOW_MEAN} Over {e.n:,} item scores in {e.n_sessions} sessions. 95% interval: {_interval(e)}. "
            f"{HOW_CI}",
        )
        col.caption(f"95% interval: {_interval(e)} · {e.share_over_by_1:.0%} of item scores ≥ 1 point above · "
                    f"{e.n:,} item scores")
    st.markdown("\n".join(f"- {sentence}" for sentence in _readings(estimates, scale)))
    st.caption("Sources: Bland & Altman (1986) for the mean difference and limits of agreement; Efron & "
               "Tibshirani (1993) and Davison & Hinkley (1997) for intervals that resample whole sessions; "
               "Wilcoxon (1945) for the signed-rank test. Full references at the foot of the page.")  # fmt: skip


def _readings(estimates: list[BiasEstimate], scale: tuple[float, ...] | None) -> list[str]:
    """One plain-English sentence per capacity: direction, size, how sure."""
    on = f" on the {scale[0]:g}–{scale[-1]:g} scale" if scale else ""
    out = []
    for e in estimates:
        who = WHOSE.get(str(e.key[0]), ad.capacity_label(str(e.key[0])))
        if abs(e.mean_diff) < 0.05:
            size = f"on average **level with** the benchmark{on}"
        else:
            size = f"on average **{abs(e.mean_diff):.2f} points {'above' if e.mean_diff > 0 else 'below'}** the benchmark{on}"
        text = f"**{who}** are {size}; {e.share_over_by_1:.0%} of their item scores are at least one point above it."
        if e.ci is not None:
            low, high = e.ci
            if low > 0:
                text += f" The 95% interval ({_interval(e)}) lies wholly above zero: the over-scoring is not an accident of which sessions were rated."
            elif high < 0:
                text += f" The 95% interval ({_interval(e)}) lies wholly below zero: they under-score."
            else:
                text += f" The 95% interval ({_interval(e)}) includes zero: these sessions cannot tell a bias from chance."
        else:
            text += (f" With {e.n_sessions} session{'s' if e.n_sessions != 1 else ''} paired there is no interval "
                     f"(it needs {MIN_SESSIONS_FOR_INTERVAL}): read the figure as indicative. The Wilcoxon test "
                     f"(p {_p(e.p_value)}) treats item scores as independent, which overstates certainty.")  # fmt: skip
        if e.limits is not None:
            text += f" Individual differences range from {_signed(e.limits[0])} to {_signed(e.limits[1])} points (95% limits of agreement)."
        out.append(text)
    return out


def _by_capacity_chart(bias: BiasReport) -> None:
    rows = [{"capacity": ad.capacity_label(str(e.key[0])), "role": str(e.key[0]), **_estimate_row(e), "how": HOW_MEAN}
            for e in bias.by_role.estimates]  # fmt: skip
    data = pd.DataFrame(rows)
    order = [ad.capacity_label(r) for r in ad.ROLE_ORDER]
    y = alt.Y("capacity:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    colour = alt.Color("role:N", scale=alt.Scale(domain=list(ROLE_COLOURS), range=list(ROLE_COLOURS.values())), legend=None)
    tooltip = _tooltips(alt.Tooltip("capacity:N", title="Capacity"))
    base = alt.Chart(data).encode(y=y, tooltip=tooltip)
    interval = base.mark_rule(strokeWidth=3).encode(x=alt.X("ci_low:Q", title=X_TITLE), x2="ci_high:Q", color=colour)
    ends = [*data["mean_diff"], *data["ci_low"].dropna(), *data["ci_high"].dropna()]
    reach = max(0.5, max(abs(v) for v in ends)) + 0.25
    x = alt.X("mean_diff:Q", title=X_TITLE,
              scale=alt.Scale(domain=[-reach, reach], nice=False), axis=alt.Axis(tickCount=9))
    point = base.mark_point(filled=True, size=220, opacity=1).encode(x=x, color=colour)
    label = base.mark_text(dy=-16, fontSize=13).encode(x="mean_diff:Q", text="mean_text:N")
    zero = alt.Chart(pd.DataFrame({"x": [0], "what": ["No difference from the benchmark"]})).mark_rule(
        color="#444", strokeDash=[4, 3]
    ).encode(x=alt.X("x:Q", title=X_TITLE), tooltip=alt.Tooltip("what:N", title="Dashed line"))
    st.altair_chart((zero + interval + point + label).properties(height=70 + 60 * len(data)), width="stretch")
    st.caption(f"Dot: mean difference; bar: 95% interval ({HOW_CI}) Right of the dashed line = above the benchmark.")


def _item_heat_map(report: AnalysisReport, info: dict[str, ad.ItemInfo]) -> None:
    rows = []
    for e in report.bias.by_item.estimates:
        item_id, role = str(e.key[0]), str(e.key[1])
        item = info.get(item_id, ad.ItemInfo(len(info), "", item_id))
        rows.append({"item": item.title, "section": item.section, "order": item.order, "item_id": item_id,
                     "capacity": ad.capacity_label(role), **_estimate_row(e), "how": HOW_MEAN,
                     "cell": _signed(e.mean_diff, 1)})  # fmt: skip
    if not rows:
        return
    data = pd.DataFrame(rows)
    top = max(1.0, float(data["mean_diff"].abs().max()))
    items = list(data.sort_values("order")["item"].drop_duplicates())
    capacities = [ad.capacity_label(r) for r in ad.ROLE_ORDER if ad.capacity_label(r) in set(data["capacity"])]
    base = alt.Chart(data).encode(
        x=alt.X("capacity:N", sort=capacities, title=None, axis=alt.Axis(orient="top", labelAngle=0, labelLimit=220)),
        y=alt.Y("item:N", sort=items, title=None, axis=alt.Axis(labelLimit=460)),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "mean_diff:Q",
            scale=alt.Scale(scheme="redblue", domain=[-top, top], reverse=True),
            title=["Mean difference", f"({DIFFERENCE})"],
            legend=alt.Legend(orient="right", gradientLength=200),
        ),
        tooltip=_tooltips(alt.Tooltip("item:N", title="Item"), alt.Tooltip("section:N", title="Section"),
                          alt.Tooltip("capacity:N", title="Capacity")),
    )
    text = base.mark_text(fontSize=12).encode(
        text="cell:N",
        color=alt.condition(f"abs(datum.mean_diff) > {0.6 * top}", alt.value("white"), alt.value("black")),
        tooltip=_tooltips(alt.Tooltip("item:N", title="Item"), alt.Tooltip("capacity:N", title="Capacity")),
    )
    st.altair_chart((cells + text).properties(height=alt.Step(24)), width="stretch")
    st.caption("Red: the capacity scores the item above the benchmark; blue: below; white: level. Items in the "
               "order of the checklist. Hover over a cell for its interval, number of pairs and test.")  # fmt: skip


def _raters_table(bias: BiasReport, names: dict[object, str]) -> None:
    rows = [{"rater": names.get(e.key[0], f"rater {e.key[0]}"), "capacity": ad.capacity_label(str(e.key[1])),
             **_estimate_row(e)} for e in bias.by_rater.estimates]  # fmt: skip
    if not rows:
        return
    data = pd.DataFrame(rows).sort_values("mean_diff", ascending=False)
    st.dataframe(
        data,
        hide_index=True,
        width="stretch",
        column_order=["rater", "capacity", "mean_diff", "interval", "share_pct", "n", "n_sessions", "p_text", "limits"],
        column_config={
            "rater": st.column_config.TextColumn("Rater", pinned=True),
            "capacity": st.column_config.TextColumn("Capacity", help="The capacity the rater scored in."),
            "mean_diff": st.column_config.NumberColumn("Mean diff.", format="%+.2f", help=HOW_MEAN, width="small"),
            "interval": st.column_config.TextColumn("95% interval", help=HOW_CI),
            "share_pct": st.column_config.ProgressColumn(
                "≥ 1 point above", min_value=0, max_value=100, format="%.0f%%",
                help="Share of the rater's item scores at least one scale point above the benchmark's.",
            ),
            "n": st.column_config.NumberColumn("Items", help="Item scores paired with a benchmark score.", width="small"),
            "n_sessions": st.column_config.NumberColumn("Sessions", help="Sessions those pairs come from.", width="small"),
            "p_text": st.column_config.TextColumn(
                "Wilcoxon p", width="small", help="Two-sided Wilcoxon (1945) signed-rank test of 'differences centred on zero'. "
                "It treats item scores as independent, which they are not within a session: read it with the interval.",
            ),
            "limits": st.column_config.TextColumn(
                "Limits of agreement", help="Bland & Altman (1986): mean ± 1.96 SD of the differences; 95% of single "
                "differences are expected in this range.",
            ),
        },
    )


def _bland_altman(svc: Services, filters: ad.Filters, bias: BiasReport, names: dict[object, str]) -> None:
    choices: dict[str, tuple[str, BiasEstimate]] = {}
    for e in sorted(bias.by_role.estimates, key=lambda e: ad.ROLE_ORDER.index(str(e.key[0]))):
        choices[f"All {WHOSE.get(str(e.key[0]), ad.capacity_label(str(e.key[0])))[0].lower()}"
                f"{WHOSE.get(str(e.key[0]), ad.capacity_label(str(e.key[0])))[1:]}"] = ("role", e)
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
    points["how"] = "x: (score + benchmark) ÷ 2; y: score − benchmark; the dot's size counts the item scores there."
    colour = ROLE_COLOURS.get(role, "#1f77b4")
    dots = alt.Chart(points).mark_circle(color=colour, opacity=0.7).encode(
        x=alt.X("average:Q", title="Mean of the score and the benchmark's score", scale=alt.Scale(zero=False),
                axis=alt.Axis(tickCount=8)),
        y=alt.Y("difference:Q", title=f"Difference, {DIFFERENCE} (points)"),
        size=alt.Size("count:Q", title="Item scores", scale=alt.Scale(range=[40, 900], zero=False)),
        tooltip=[
            alt.Tooltip("average:Q", title="Mean of score and benchmark", format=".2f"),
            alt.Tooltip("difference:Q", title=f"Difference ({DIFFERENCE})", format="+.2f"),
            alt.Tooltip("count:Q", title="Item scores at this point"),
            alt.Tooltip("how:N", title="How computed"),
        ],
    )
    lines = [("Bias (mean difference)", estimate.mean_diff, "solid", HOW_MEAN)]
    if estimate.limits is not None:
        how = "Bland & Altman (1986) 95% limit of agreement: bias ± 1.96 × SD of the differences."
        lines += [("Upper limit of agreement", estimate.limits[1], "dash", how),
                  ("Lower limit of agreement", estimate.limits[0], "dash", how)]  # fmt: skip
    lines.append(("No difference", 0.0, "zero", "Score equal to the benchmark's."))
    rules_data = pd.DataFrame(
        [{"what": w, "y": y, "style": s, "how": h, "label": f"{w.split(' (')[0]} {_signed(y)}"} for w, y, s, h in lines]
    )
    rules = alt.Chart(rules_data).mark_rule(size=2).encode(
        y="y:Q",
        color=alt.Color("style:N", scale=alt.Scale(domain=["solid", "dash", "zero"], range=[colour, colour, "#999"]),
                        legend=None),
        strokeDash=alt.StrokeDash("style:N", scale=alt.Scale(domain=["solid", "dash", "zero"],
                                                             range=[[1, 0], [6, 4], [2, 2]]), legend=None),
        tooltip=[alt.Tooltip("what:N", title="Line"), alt.Tooltip("y:Q", title="Points", format="+.2f"),
                 alt.Tooltip("how:N", title="How computed")],
    )  # fmt: skip
    labels = alt.Chart(rules_data[rules_data["style"] != "zero"]).mark_text(align="right", dy=-7, x="width").encode(
        y="y:Q", text="label:N"
    )
    st.altair_chart((dots + rules + labels).properties(height=360), width="stretch")
    st.caption(f"Bland-Altman plot of {chosen[0].lower() + chosen[1:] if kind == 'role' else chosen}: each item score against the "
               "benchmark's. Dots above zero are over-scored. The solid line is the bias, the dashed lines the 95% "
               "limits of agreement; if differences grow with the score the limits understate them.")  # fmt: skip


def _trend(svc: Services, filters: ad.Filters) -> None:
    data = ad.quarterly_bias(svc, filters)
    if data.empty:
        return
    data = data.assign(
        capacity=data["rater_role"].map(ad.capacity_label),
        mean_text=[f"{_signed(v)} points" for v in data["mean_diff"]],
        interval=[f"{_signed(lo)} to {_signed(hi)}" if pd.notna(lo) else _no_interval(int(s))
                  for lo, hi, s in zip(data["ci_low"], data["ci_high"], data["n_sessions"], strict=True)],
        p_text=data["p_value"].map(_p),
        share_over=data["share_over_by_1"],
        how=f"{HOW_MEAN} Pairs of sessions recorded in the quarter; the interval resamples that quarter's sessions.",
    )  # fmt: skip
    roles = [r for r in ad.ROLE_ORDER if r in set(data["rater_role"])]
    colour = alt.Color("capacity:N", title=None, legend=alt.Legend(orient="top", labelLimit=320),
                       scale=alt.Scale(domain=[ad.capacity_label(r) for r in roles],
                                       range=[ROLE_COLOURS[r] for r in roles]))  # fmt: skip
    base = alt.Chart(data).encode(
        x=alt.X("period:O", title="Quarter the sessions were recorded in", axis=alt.Axis(labelAngle=0)),
        color=colour,
        tooltip=_tooltips(alt.Tooltip("period:O", title="Quarter"), alt.Tooltip("capacity:N", title="Capacity")),
    )
    line = base.mark_line(point=alt.OverlayMarkDef(size=90, filled=True)).encode(
        y=alt.Y("mean_diff:Q", title=Y_TREND)
    )
    bars = base.mark_errorbar(ticks=True).encode(y=alt.Y("ci_low:Q", title=Y_TREND), y2="ci_high:Q")
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#444", strokeDash=[4, 3]).encode(
        y=alt.Y("y:Q", title=Y_TREND))
    st.altair_chart((zero + bars + line).properties(height=320), width="stretch")
    st.markdown("\n".join(f"- {s}" for s in _trend_sentences(data, roles)))


def _trend_sentences(data: pd.DataFrame, roles: list[str]) -> list[str]:
    quarters = sorted(data["period"].unique())
    if len(quarters) < 2:
        return [f"All the sessions paired fall in {quarters[0]}: a trend needs sessions from two or more quarters."]
    out = []
    for role in roles:
        rows = data[data["rater_role"] == role].sort_values("period")
        if len(rows) < 2:
            continue
        first, last = rows.iloc[0], rows.iloc[-1]
        change = last["mean_diff"] - first["mean_diff"]
        verb = "narrowed" if abs(last["mean_diff"]) < abs(first["mean_diff"]) else "widened"
        text = (f"**{ad.capacity_label(role)}**: {_signed(first['mean_diff'])} in {first['period']}, "
                f"{_signed(last['mean_diff'])} in {last['period']}: the gap {verb} by {abs(change):.2f} points.")  # fmt: skip
        if pd.isna(first["ci_low"]) or pd.isna(last["ci_low"]):
            text += (f" Without an interval for each quarter (a quarter needs {MIN_SESSIONS_FOR_INTERVAL} sessions "
                     "paired) this change may be chance.")  # fmt: skip
        elif first["ci_high"] < last["ci_low"] or last["ci_high"] < first["ci_low"]:
            text += " The two quarters' intervals do not overlap."
        else:
            text += " The two quarters' intervals overlap: the change may be chance."
        out.append(text)
    return out


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
    st.caption(
        f"A form is one rater's scoring of one tutor in one session. **Straight-line**: a form of at least "
        f"{MIN_ITEMS_PER_FORM} scored items whose scores have a standard deviation below {STRAIGHT_LINE_SD} (at most "
        f"one item a point off the rest). **Halo**: across a rater's forms, the mean correlation between items is "
        f"above {HALO_CORRELATION}, i.e. the items rise and fall together (Thorndike 1920; Clark & Watson 1995 call "
        ".15-.50 healthy). The audit found tutors \"did not assess each performance criterion independently\" (C1.5)."
    )
    if not_assessed:
        with st.expander(f"Raters not assessed for halo ({len(not_assessed)})", icon=":material/help:"):
            st.markdown(bullets(not_assessed))


def _by_tutor(bias: BiasReport, names: dict[object, str]) -> None:
    rows = [{"tutor": names.get(e.key[0], "the session as a whole" if e.key[0] is None else f"tutor {e.key[0]}"),
             "capacity": ad.capacity_label(str(e.key[1])), **_estimate_row(e)} for e in bias.by_tutor.estimates]  # fmt: skip
    if not rows:
        return
    with st.expander("By tutor rated: how each tutor's delivery is scored against the benchmark", icon=":material/person:"):
        st.dataframe(
            pd.DataFrame(rows).sort_values(["tutor", "capacity"]),
            hide_index=True,
            width="stretch",
            column_order=["tutor", "capacity", "mean_diff", "interval", "share_pct", "n", "n_sessions", "p_text"],
            column_config={
                "tutor": "Tutor rated", "capacity": "Rated by",
                "mean_diff": st.column_config.NumberColumn("Mean difference", format="%+.2f", help=HOW_MEAN),
                "interval": st.column_config.TextColumn("95% interval", help=HOW_CI),
                "share_pct": st.column_config.ProgressColumn("≥ 1 point above", min_value=0, max_value=100,
                                                             format="%.0f%%"),
                "n": "Item scores", "n_sessions": "Sessions", "p_text": "Wilcoxon p",
            },
        )


def _method(report: AnalysisReport) -> None:
    bias = report.bias
    with st.expander("Method and sources", icon=":material/menu_book:"):
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


def render() -> None:
    svc, me = page_start()
    st.title("Over-scoring")
    st.caption(
        "How far tutors' self-assessments and treatment managers' monitoring scores sit from the benchmark, "
        "item by item. Positive differences mean scoring above the benchmark: over-scoring. Hover over any "
        "figure for what it is and how it is computed."
    )
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
    bias = report.bias
    _benchmark_statement(bias)
    names = ad.people_names(svc)
    if bias.n_pairs:
        scale = report.categories
        _headline(bias, scale)
        st.subheader("By capacity")
        _by_capacity_chart(bias)
        st.subheader("By item")
        _item_heat_map(report, ad.item_info(svc, filters.apply(everything)))
        st.subheader("Raters ranked by their difference from the benchmark")
        _raters_table(bias, names)
        _by_tutor(bias, names)
        st.subheader("Bland-Altman plot")
        _bland_altman(svc, filters, bias, names)
        st.subheader("Is the gap closing? By quarter")
        _trend(svc, filters)
    st.subheader("Did raters assess each item independently?")
    _independence(report, names)
    render_dependability(svc, filters, report, names)
    _method(report)
