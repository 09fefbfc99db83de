"""Compare: one session and tutor, every capacity side by side; and, across sessions, how far
self-assessments and treatment managers sit from the external assessors on each item."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from session_rater.ui.text import plain
from session_rater.domain.compare import ALL_ITEMS
from session_rater.domain.model import Capacity
from session_rater.domain.records import RecordingView
from session_rater.usecases.permitted import Permitted
from session_rater.ui.state import (
    refuse_unreachable,
    page_start,
    reports_allowed,
    pick_by_id,
    recording_label,
)

LABELS = {c.value: c.label for c in Capacity}


def _highlight_spread(row: pd.Series) -> list[str]:
    spread = row.get("Spread", 0)
    colour = "background-color: #fde2c8" if spread >= 2 else ("background-color: #fff3cd" if spread >= 1 else "")
    return [colour] * len(row)


def _one_session(me: Permitted) -> None:
    recordings = me.recordings()
    if not recordings:
        st.info("No recorded sessions that you can see yet.")
        return
    by_id = {r.id: r for r in recordings}
    if refuse_unreachable(me, by_id):
        return
    c1, c2 = st.columns(2)
    recording_id = pick_by_id(c1, "Session", by_id, recording_label, param="recording", required=True)
    tutors = {t.id: t for t in by_id[recording_id].tutors}
    tutor_id = pick_by_id(c2, "Tutor", tutors, lambda t: t.display_name, param="tutor", required=True)
    if not _may_see(me, by_id[recording_id], tutor_id):
        return
    table, ratings = me.compare_session(recording_id, tutor_id)
    if table.empty:
        st.info("No submitted ratings of this tutor in this session yet.")
        return
    people = me.people_names()
    st.caption(
        "Submitted ratings: "
        + "; ".join(f"{r.capacity.label} by {plain(people.get(r.rater_id, r.rater_id))} (v{plain(r.rubric_version)})" for r in ratings)
        + ". Where a capacity has several raters the cell shows their mean. Rows are shaded where "
        "capacities differ by one point (yellow) or two or more (orange). Empty cells: N/A or not scored."
    )
    shown = table.drop(columns=["differs"]).rename(columns={**LABELS, "item": "Item", "spread": "Spread"})
    number_columns = [c for c in shown.columns if c != "Item"]
    st.dataframe(
        shown.style.apply(_highlight_spread, axis=1).format("{:.1f}", subset=number_columns, na_rep="–"),
        hide_index=True,
        width="stretch",
        height=min(40 + 35 * len(shown), 820),
    )


def _may_see(me: Permitted, recording: RecordingView, tutor_id: int) -> bool:
    """Blind rating: others' scores stay hidden until the viewer has submitted their own."""
    decision = me.may_see_ratings(recording, tutor_id)
    if not decision:
        st.info(
            f"{decision.reason.capitalize()}. Ratings stay blind so that each rater scores the "
            "session independently, as the inspectorate asked.",
            icon=":material/visibility_off:",
        )
        return False
    confirmed = f"compare:look:{recording.id}:{tutor_id}"
    already = decision.not_blind and me.is_unblinded(recording, tutor_id)
    if decision.not_blind and not already and not st.session_state.get(confirmed):
        st.warning(
            "You have not rated this tutor in this session. If you look at the ratings now, "
            "you are recorded as not blind for it, and a rating you make of it later is marked so.",
            icon=":material/visibility:",
        )
        if st.button("Show the ratings and record me as not blind", icon=":material/visibility:"):
            st.session_state[confirmed] = True  # Permitted.compare_session records it as it shows them
            st.rerun()
        return False
    if decision.not_blind:
        st.caption("You are recorded as not blind for this session and tutor.")
    return True


def _across_sessions(me: Permitted) -> None:
    if not reports_allowed(me):
        return
    svc = me.svc
    rubrics = svc.rubrics()
    if not rubrics:
        st.error("No valid rubric is available.")
        return
    rubric = rubrics[0]
    if len(rubrics) > 1:
        rubric = st.selectbox("Checklist", rubrics, format_func=lambda r: r.title)
    table = svc.compare_overall(rubric.id)
    if table.empty:
        st.info("No pairs yet: these figures need sessions rated both by an external assessor and by tutors or treatment managers.")
        return
    pooled = table[table["item_id"] == ALL_ITEMS]
    cols = st.columns(len(pooled))
    for col, (_, row) in zip(cols, pooled.iterrows(), strict=True):
        col.metric(
            f"{LABELS[row['capacity']]} vs external",
            f"{row['mean_difference']:+.2f} points",
            help=f"Mean of (score − external assessor's score) over {row['n']} item scores of the same "
            "session and tutor. Positive means scoring above the external assessors (over-scoring).",
        )
        col.caption(f"Exact agreement {row['exact_agreement']:.0%} · within one point {row['within_one']:.0%} · n = {row['n']}")
    per_item = table[table["item_id"] != ALL_ITEMS].copy()
    per_item["Capacity"] = per_item["capacity"].map(LABELS)
    chart = (
        alt.Chart(per_item)
        .mark_bar()
        .encode(
            y=alt.Y("item:N", sort=list(dict.fromkeys(per_item["item"])), title=None),
            x=alt.X("mean_difference:Q", title="Mean signed difference from external assessors (points)"),
            color=alt.Color("Capacity:N", legend=alt.Legend(orient="top")),
            yOffset="Capacity:N",
            tooltip=[
                alt.Tooltip("item:N", title="Item"),
                alt.Tooltip("Capacity:N"),
                alt.Tooltip("mean_difference:Q", title="Mean difference (score − external)", format="+.2f"),
                alt.Tooltip("n:Q", title="Pairs"),
                alt.Tooltip("exact_agreement:Q", title="Exact agreement", format=".0%"),
                alt.Tooltip("within_one:Q", title="Within one point", format=".0%"),
            ],
        )
        .properties(height=alt.Step(9))
    )
    rule = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="black").encode(x="x:Q")
    st.altair_chart(chart + rule, width="stretch")
    st.dataframe(
        per_item[["item", "Capacity", "n", "mean_difference", "exact_agreement", "within_one"]],
        hide_index=True,
        width="stretch",
        column_config={
            "item": "Item",
            "n": st.column_config.NumberColumn("Pairs", help="Item scores paired with an external assessor's score of the same session and tutor"),
            "mean_difference": st.column_config.NumberColumn("Mean difference", format="%+.2f", help="Score minus external assessor's score; positive = over-scoring"),
            "exact_agreement": st.column_config.ProgressColumn("Exact agreement", min_value=0, max_value=1, format="percent"),
            "within_one": st.column_config.ProgressColumn("Within one point", min_value=0, max_value=1, format="percent"),
        },
    )


def render() -> None:
    _, me = page_start()
    st.title("Compare scores")
    one, across = st.tabs(["One session and tutor", "Across sessions: over-scoring by item"])
    with one:
        _one_session(me)
    with across:
        st.caption(
            "Reference: the external assessors' scores of the same session and tutor (a benchmark of "
            "master scores replaces them once one exists). Descriptive figures; intervals and "
            "chance-corrected agreement come with the statistics engine."
        )
        _across_sessions(me)
