"""The Over-scoring page's dependability sections, self-contained: the page's ``render()`` calls
:func:`render_dependability` once, near its end.

* **How dependable is a tutor's score**: the D study read in plain words at the current
  monitoring rate, Phi against rated sessions per tutor for one, two and three raters per session
  (chart, its figures folded beside it), and the design and variance components;
* **Rater severity (many-facet Rasch)**: each rater's severity with its interval and fit beside
  their mean signed difference from the benchmark, erratic and too predictable raters flagged;
* **Tutors' scores with rater leniency taken out**: fair averages beside raw averages.

Figures: ``report.dependability`` (:mod:`session_rater.usecases.analysis.dependability`), cached
with the report, and the monitoring rate (:mod:`session_rater.ui.analysis_data`).
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from session_rater.domain.bias import BiasEstimate, BiasReport
from session_rater.ui import analysis_data as ad
from session_rater.ui.report_widgets import as_of_note
from session_rater.ui.report_widgets import TEXT, signed, small, themed
from session_rater.usecases.analysis import AnalysisReport, Dependability
from session_rater.usecases.analysis.dependability import (
    FIT_FLAGS,
    INFIT_ERRATIC,
    INFIT_PREDICTABLE,
    PHI_TARGET,
    describe_design,
    effect_words,
    sample_size_words,
)
from session_rater.usecases.services import Services

__all__ = ["render_dependability"]

RATER_COLOURS = {1: "#1f4e79", 2: "#9c3f0f", 3: "#2b6a2e"}  # 8.6, 6.9 and 6.6:1 on white
RATER_DASHES = {1: [1, 0], 2: [8, 4], 3: [2, 3]}  # lines told apart without colour too
PHI_TITLE = "Phi: dependability of a tutor's mean score"
SESSIONS_TITLE = "Rated sessions per tutor"
SOURCES = (
    "Brennan RL (2001). Generalizability Theory. New York: Springer (G and D studies, nested designs, Phi).",
    (
        "Henderson CR (1953). Estimation of variance and covariance components. Biometrics 9:226-252 (Method 1, "
        "for unbalanced data)."
    ),
    "Linacre JM (1989). Many-Facet Rasch Measurement. Chicago: MESA Press (rater severity, fair averages).",
    (
        "Linacre JM (2002). What do infit and outfit, mean-square and standardized mean? Rasch Measurement "
        "Transactions 16(2):878 (0.5-1.5: productive for measurement)."
    ),
    "Wright BD, Masters GN (1982). Rating Scale Analysis. Chicago: MESA Press (standard errors, infit, outfit).",
)
FIT_WORDS = {None: "as expected", "erratic": "erratic", "too predictable": "too predictable"}


def render_dependability(svc: Services, filters: ad.Filters, report: AnalysisReport, names: dict[object, str]) -> None:
    """The three sections, one after another, with their sources."""
    dep = report.dependability
    st.subheader("How dependable is a tutor's score", anchor=False)
    status = ad.dependability(svc, filters)
    if status.figures is None and status.computing:
        st.info(f"The G study and the Rasch model of {report.n_scores:,} scores are being computed now (they take a minute "
                "or more at this size, so they are worked out beside the page, not while you wait). The figures above "
                "are up to date. Open this page again in a minute or two to see how dependable a tutor's score is, "
                "and each rater's severity.", icon=":material/hourglass_top:")  # fmt: skip
        return
    as_of_note(status.as_of, status.since, status.current, "These three sections")
    _dependability(svc, filters, dep)
    st.subheader("Rater severity (many-facet Rasch)", anchor=False)
    _rater_severity(dep, report.bias, names)
    st.subheader("Tutors' scores with rater leniency taken out", anchor=False)
    _fair_averages(dep, names)
    with st.expander("Sources: dependability and rater severity", icon=":material/menu_book:"):
        st.markdown("\n".join(f"- {s}" for s in SOURCES))


_small = small  # notes in small type in the body colour (st.caption's grey is 3.9:1, below WCAG's 4.5:1)


def _sentence(note: str) -> str:
    return note[:1].upper() + note[1:] + ("" if note.endswith(".") else ".")


_signed = signed


# -- how dependable is a tutor's score -------------------------------------------------------------


def _dependability(svc: Services, filters: ad.Filters, dep: Dependability | None) -> None:
    if dep is None or dep.gstudy is None:
        note = dep.gstudy_note if dep is not None else "no scores"
        st.info(f"Not estimated for {filters.describe()}: {_sentence(note)}", icon=":material/info:")
        return
    seen = ad.monitored_sessions(svc, filters)
    reading = ad.dependability_reading(dep, seen, ad.monitoring_policy(svc))
    st.markdown("\n".join(f"- {sentence}" for sentence in reading))
    if dep.d_study:
        _d_study_chart(dep, seen.per_year)
    if dep.d_study_note:
        _small(_sentence(dep.d_study_note))
    _design(dep)


def _d_study_frame(dep: Dependability) -> pd.DataFrame:
    rows = [
        {
            "sessions": row.sessions,
            "raters": row.raters,
            "series": _raters(row.raters),
            "phi": row.phi,
            "erho2": row.erho2,
            "phi_text": f"{row.phi:.3f}",
        }
        for row in dep.d_study
    ]
    return pd.DataFrame(rows)


def _raters(n: int) -> str:
    return f"{n} rater{'s' if n != 1 else ''} per session"


def _d_study_chart(dep: Dependability, per_year: float | None) -> None:
    data = _d_study_frame(dep)
    columns = dep.rater_columns
    series = [_raters(r) for r in columns]
    x = alt.X(
        "sessions:Q",
        title=SESSIONS_TITLE,
        scale=alt.Scale(domain=[1, int(data["sessions"].max())], nice=False),
        axis=alt.Axis(values=sorted(set(data["sessions"])), format="d"),
    )
    # one legend for colour and dash (same field and title): each line's sample shows both
    legend = alt.Legend(orient="top", direction="vertical", labelLimit=300, labelColor=TEXT, symbolType="stroke", symbolStrokeWidth=2.5,
                        symbolSize=400)  # fmt: skip
    y = alt.Y("phi:Q", title=PHI_TITLE, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format=".1f", tickCount=6))
    lines = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(filled=True, size=55), strokeWidth=2.5)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=series, range=[RATER_COLOURS[r] for r in columns]),
                legend=legend,
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                title=None,
                scale=alt.Scale(domain=series, range=[RATER_DASHES[r] for r in columns]),
                legend=legend,
            ),
            tooltip=[
                alt.Tooltip("series:N", title="Raters"),
                alt.Tooltip("sessions:Q", title=SESSIONS_TITLE),
                alt.Tooltip("phi_text:N", title="Phi"),
                alt.Tooltip("erho2:Q", title="E ρ² (for ranking tutors)", format=".3f"),
            ],
        )
    )
    target_data = pd.DataFrame(
        {
            "y": [PHI_TARGET],
            "label": [f"Phi {PHI_TARGET:.2f} target"],  # short: the lines stay below it only near the left
            "what": [f"Phi {PHI_TARGET:.2f}: the usual minimum for a decision about one tutor"],
        }
    )
    target = (
        alt.Chart(target_data)
        .mark_rule(color="#444", strokeDash=[5, 4])
        .encode(y=alt.Y("y:Q", title=PHI_TITLE), tooltip=alt.Tooltip("what:N", title="Dashed line"))
    )
    target_label = (
        alt.Chart(target_data)
        .mark_text(align="left", dy=-9, x=6, color=TEXT, fontSize=12)
        .encode(y="y:Q", text="label:N")
    )
    layers = [target, lines, target_label]
    phi_now = dep.phi(per_year, 1) if per_year else None
    if per_year is not None and phi_now is not None and 1 <= per_year <= data["sessions"].max():
        now = pd.DataFrame(
            {
                "sessions": [per_year],
                "phi": [phi_now],
                "label": [f"Now: about {per_year:.1f} a year, Phi {phi_now:.2f}"],
            }
        )
        layers.append(
            alt.Chart(now)
            .mark_point(shape="diamond", size=180, filled=True, color=TEXT)
            .encode(x="sessions:Q", y="phi:Q", tooltip=alt.Tooltip("label:N", title="Current monitoring"))
        )
        right = per_year > data["sessions"].max() / 2  # the label on the side with room, at 320 px too
        layers.append(
            alt.Chart(now)
            .mark_text(align="right" if right else "left", dx=-10 if right else 10, dy=16, color=TEXT, fontSize=12)
            .encode(x="sessions:Q", y="phi:Q", text="label:N")
        )
    words = _d_study_words(dep, data, per_year, phi_now)
    chart = alt.layer(*layers).properties(height=340, description=words)  # the description: for screen readers
    st.altair_chart(themed(chart), width="stretch")
    _small("**Chart in words:** " + words)
    with st.expander("Figures of the chart: Phi and E ρ² by rated sessions and raters", icon=":material/table:"):
        wide = data.pivot(index="sessions", columns="raters", values=["phi", "erho2"])
        wide.columns = [f"{'phi' if kind == 'phi' else 'erho2'}_{raters}" for kind, raters in wide.columns]
        config = {"sessions": st.column_config.NumberColumn(SESSIONS_TITLE, format="%d")}
        for r in columns:
            config[f"phi_{r}"] = st.column_config.NumberColumn(f"Phi, {_raters(r)}", format="%.3f")
            config[f"erho2_{r}"] = st.column_config.NumberColumn(f"E ρ², {_raters(r)}", format="%.3f")
        st.dataframe(wide.reset_index(), hide_index=True, width="stretch", column_config=config)
        _small(
            "Phi counts everything that would change a tutor's score with other sessions, raters and items as error, "
            "including rater leniency and item difficulty: it suits a fixed standard (competent or not). E ρ² counts "
            "only what would change tutors' order: it suits ranking tutors."
        )


def _d_study_words(dep: Dependability, data: pd.DataFrame, per_year: float | None, phi_now: float | None) -> str:
    """The chart's text alternative: what each line does and where it crosses the .80 line."""
    last = int(data["sessions"].max())
    parts = []
    for raters, rows in data.groupby("raters", sort=True):
        rows = rows.sort_values("sessions")
        reached = rows.loc[rows["phi"] >= PHI_TARGET, "sessions"]
        crossing = (
            f"reaching {PHI_TARGET:.2f} at {int(reached.iloc[0])} sessions"
            if len(reached)
            else f"staying below {PHI_TARGET:.2f} up to {last} sessions"
        )
        parts.append(
            f"with {_raters(int(raters))}, Phi rises from {rows['phi'].iloc[0]:.2f} at one session to "
            f"{rows['phi'].iloc[-1]:.2f} at {last}, {crossing}"
        )
    text = (
        f"Phi (0 to 1) against rated sessions per tutor, 1 to {last}, one line for each number of raters per "
        f"session, and a dashed line at {PHI_TARGET:.2f}: " + "; ".join(parts) + "."
    )
    if per_year is not None and phi_now is not None and per_year <= last:
        text += (
            f" A diamond marks the current monitoring: about {per_year:.1f} rated sessions a year, Phi {phi_now:.2f}."
        )
    return text


def _design(dep: Dependability) -> None:
    gstudy = dep.gstudy
    if gstudy is None:
        return
    with st.expander("Design and variance components (G study)", icon=":material/functions:"):
        st.markdown(
            f"{describe_design(gstudy)}\n\n"
            f"Scores used: {dep.n_scores:,}; left out: {dep.left_out}: a tutor's own score is not evidence of their "
            "delivery, and its leniency is the mean signed difference above.\n\n"
            f"As scored ({sample_size_words(gstudy)}): **E ρ² = {gstudy.erho2:.2f}** (for ranking tutors), "
            f"**Phi = {gstudy.phi:.2f}** (against a fixed standard)."
        )
        total = sum(max(c.variance, 0.0) for c in gstudy.components)
        rows = [
            {
                "effect": c.effect,
                "meaning": effect_words(c.effect),
                "variance": c.variance,
                "share": 100 * max(c.variance, 0.0) / total if total > 0 else 0.0,
                "df": c.df,
                "ms": c.ms,
            }
            for c in gstudy.components
        ]
        st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            width="stretch",
            column_config={
                "effect": st.column_config.TextColumn("Effect", help="Brennan's (2001) notation."),
                "meaning": st.column_config.TextColumn("What it stands for", width="large"),
                "variance": st.column_config.NumberColumn("Variance", format="%.4f"),
                "share": st.column_config.ProgressColumn(
                    "Share",
                    min_value=0,
                    max_value=100,
                    format="%.0f%%",
                    help="Of the sum of the components, negative estimates taken as 0.",
                ),
                "df": st.column_config.NumberColumn("df", format="%.0f"),
                "ms": st.column_config.NumberColumn("Mean square", format="%.4f"),
            },
        )
        _small(
            "A negative estimate is sampling error around a small component: it is shown as estimated and taken as 0 "
            "in Phi (Brennan 2001, s. 3.4.3)."
        )


# -- rater severity --------------------------------------------------------------------------------


def _rater_severity(dep: Dependability | None, bias: BiasReport, names: dict[object, str]) -> None:
    if dep is None or dep.model is None:
        note = dep.model_note if dep is not None else "no scores"
        st.info(f"Not estimated: {_sentence(note or 'no model')}", icon=":material/info:")
        return
    if dep.model_note:
        st.warning(_sentence(dep.model_note), icon=":material/warning:")
    flagged = [r for r in dep.raters if r.flag]
    if flagged:
        st.markdown(
            "\n".join(
                f"- **{ad.rater_label(r.rater_id, r.rater_role, names)}** is {FIT_FLAGS[r.flag]} "
                f"(infit {r.infit:.2f}, outfit {r.outfit:.2f})."
                for r in flagged
                if r.flag
            )
        )
    else:
        st.success(
            f"No rater's fit is outside {INFIT_PREDICTABLE:g}–{INFIT_ERRATIC:g}: none scores erratically, and none so "
            "predictably as to suggest straight-lining.",
            icon=":material/check_circle:",
        )
    ranked = sorted(dep.raters, key=lambda r: r.severity)
    lenient, severe = ranked[0], ranked[-1]
    apart = lenient.interval[1] < severe.interval[0]
    st.markdown(
        f"Most lenient: **{ad.rater_label(lenient.rater_id, lenient.rater_role, names)}**, "
        f"{_signed(lenient.severity)} logits; most severe: **{ad.rater_label(severe.rater_id, severe.rater_role, names)}**, "
        f"{_signed(severe.severity)}. "
        + (
            "Their 95% intervals do not overlap: they differ in severity beyond chance."
            if apart
            else "Their 95% intervals overlap: the difference may be chance."
        )
    )
    by_rater = {(e.key[0], str(e.key[1])): e for e in bias.by_rater.estimates}
    reference_roles = {role for role, n in bias.reference.pairs_by_source.items() if n}
    rows = []
    for r in ranked:
        estimate = by_rater.get((r.rater_id, r.rater_role))
        low, high = r.interval
        rows.append(
            {
                "rater": names.get(r.rater_id, f"rater {r.rater_id}"),
                "capacity": ad.capacity_label(r.rater_role),
                "severity": r.severity,
                "interval": f"{_signed(low)} to {_signed(high)}",
                "infit": r.infit,
                "outfit": r.outfit,
                "fit": FIT_WORDS[r.flag],
                "mean_diff": estimate.mean_diff if estimate is not None else None,
                "msd": _mean_diff_text(estimate, r.rater_role in reference_roles),
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_order=["rater", "severity", "interval", "fit", "msd", "capacity", "infit", "outfit"],
        column_config={
            "rater": st.column_config.TextColumn("Rater"),
            "capacity": st.column_config.TextColumn("Capacity"),
            "severity": st.column_config.NumberColumn(
                "Severity (logits)",
                format="%+.2f",
                help="Positive: more severe than the average rater; negative: more lenient. Other raters' severity "
                "and the items' difficulty are taken into account.",
            ),
            "interval": st.column_config.TextColumn("95% interval", help="Severity ± 1.96 × its model standard error."),
            "infit": st.column_config.NumberColumn(
                "Infit",
                format="%.2f",
                help=f"1 = as the model expects; above {INFIT_ERRATIC:g}: erratic; below {INFIT_PREDICTABLE:g}: too "
                "predictable (straight-lining, central tendency, halo). Linacre (2002).",
            ),
            "outfit": st.column_config.NumberColumn(
                "Outfit", format="%.2f", help="As infit, but more sensitive to single surprising scores."
            ),
            "fit": st.column_config.TextColumn("Fit"),
            "msd": st.column_config.TextColumn(
                "Mean diff. vs benchmark",
                help="The mean signed difference from the benchmark (the table above): positive = over-scoring. "
                "The benchmark's own raters are not compared with themselves.",
            ),
        },
    )
    _small(
        "Severity comes from the many-facet Rasch model (Linacre 1989): each score is explained by the tutor's "
        "delivery, the item's difficulty and the rater's severity together, so a rater who scored only strong "
        "tutors is not called lenient for it. The mean signed difference compares a rater with the benchmark on the "
        "same sessions only. Self-assessments are left out of the model: their leniency is the mean signed "
        f"difference. {dep.model.description}."
    )


def _mean_diff_text(estimate: BiasEstimate | None, is_reference: bool) -> str:
    if estimate is not None:
        return f"{_signed(estimate.mean_diff)} points"
    return "– (the benchmark)" if is_reference else "– (no pairs)"


# -- tutors' fair averages -------------------------------------------------------------------------


def _fair_averages(dep: Dependability | None, names: dict[object, str]) -> None:
    if dep is None or dep.model is None or not dep.tutors:
        note = dep.model_note if dep is not None else "no scores"
        st.info(f"Not estimated: {_sentence(note or 'no model')}", icon=":material/info:")
        return
    tutors = sorted(dep.tutors, key=lambda t: -abs(t.moved))
    most = tutors[0]
    direction = "more lenient" if most.moved < 0 else "more severe"
    st.markdown(
        f"The largest move: **{names.get(most.tutor_id, f'tutor {most.tutor_id}')}**, from {most.raw_average:.2f} "
        f"to {most.fair_average:.2f} ({_signed(most.moved)} points): the raters of their sessions were {direction} "
        "than average. A raw average depends on who happened to rate the tutor; the fair average is the score a rater "
        "of average severity would give on an item of average difficulty, so tutors rated by lenient and by strict "
        "raters can be compared."
    )
    rows = [
        {
            "tutor": names.get(t.tutor_id, f"tutor {t.tutor_id}"),
            "raw": t.raw_average,
            "fair": t.fair_average,
            "moved": t.moved,
            "measure": t.measure,
            "interval": f"{_signed(t.measure - 1.96 * t.se)} to {_signed(t.measure + 1.96 * t.se)}",
        }
        for t in tutors
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "tutor": st.column_config.TextColumn("Tutor"),
            "raw": st.column_config.NumberColumn(
                "Raw average", format="%.2f", help="Mean of the tutor's item scores (self-assessments left out)."
            ),
            "fair": st.column_config.NumberColumn(
                "Fair average",
                format="%.2f",
                help="Expected score from a rater of average severity on an average item.",
            ),
            "moved": st.column_config.NumberColumn(
                "Moved", format="%+.2f", help="Fair minus raw: negative when the tutor's raters were lenient."
            ),
            "measure": st.column_config.NumberColumn("Measure (logits)", format="%+.2f"),
            "interval": st.column_config.TextColumn("95% interval", help="Measure ± 1.96 × its model standard error."),
        },
    )
