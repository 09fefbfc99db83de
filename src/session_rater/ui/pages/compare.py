"""Compare: one session and tutor, every rater side by side (grouped by capacity) with the evidence
behind their scores; and, across sessions, how far
self-assessments and treatment managers sit from the external assessors on each item."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from session_rater.ui.report_widgets import small, themed
from session_rater.ui.text import plain
from session_rater.domain.compare import ALL_ITEMS
from session_rater.domain.model import Capacity, format_moment
from session_rater.domain.records import RecordingView
from session_rater.usecases.compare_session import EvidenceNote, SessionComparison, compare_one_session
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.reports import fingerprint
from session_rater.usecases.services import Services
from session_rater.ui.session_picker import NoSessions, pick_session
from session_rater.ui.state import (
    page_start,
    reports_allowed,
    pick_by_id,
)

LABELS = {c.value: c.label for c in Capacity}


SPREAD = ("Spread", "")


def _highlight_spread(row: pd.Series) -> list[str]:
    spread = row.get(SPREAD, 0)
    colour = "background-color: #fde2c8" if spread >= 2 else ("background-color: #fff3cd" if spread >= 1 else "")
    return [colour] * len(row)


def score_table(view: SessionComparison) -> pd.DataFrame:
    """Items down, raters across grouped under their capacity (a two-level header), and the spread."""
    table = view.scores.copy()
    table.columns = pd.MultiIndex.from_tuples(
        [(plain(c.capacity.label), plain(c.rater)) for c in view.columns], names=["Capacity", "Rater"]
    )
    table[SPREAD] = view.spread
    table.index = pd.Index([plain(title) for _, title in view.items], name="Item")
    return table


def _notes(view: SessionComparison) -> None:
    st.subheader("Evidence behind the scores")
    if view.notes_withheld:
        st.caption(
            f"{view.notes_withheld} evidence note(s) of others' ratings are not shown to you: notes are supervision "
            "material, seen by the tutor, their treatment manager, the area's programme manager and administrators."
        )
    if not view.notes:
        st.caption("No evidence notes or moments in these ratings" + (" that you can see." if view.notes_withheld else "."))
        return
    by_item: dict[str, list[EvidenceNote]] = {}
    for note in view.notes:
        by_item.setdefault(note.item_id, []).append(note)
    for notes in by_item.values():
        lines = []
        for n in notes:
            score = "N/A" if n.not_applicable else ("not scored" if n.score is None else f"scored {n.score}")
            moment = "" if n.moment_seconds is None else f", at {format_moment(n.moment_seconds)}"
            text = f": {plain(n.note)}" if n.note else ""
            lines.append(f"- {plain(n.capacity.label)}, {plain(n.rater)} ({score}{moment}){text}")
        st.markdown(f"**{plain(notes[0].item)}**  \n" + "\n".join(lines))


def _one_session(me: Permitted) -> None:
    c1, c2 = st.columns(2)
    try:
        picked = pick_session(me, c1, key="compare", required=True)
    except NoSessions:
        st.info("No recorded sessions that you can see yet.")
        return
    if picked is None:
        return
    by_id, recording_id = picked
    if recording_id is None:
        return
    tutors = {t.id: t for t in by_id[recording_id].tutors}
    tutor_id = pick_by_id(c2, "Tutor", tutors, lambda t: t.display_name, param="tutor", required=True)
    if not _may_see(me, by_id[recording_id], tutor_id):
        return
    view = compare_one_session(me, recording_id, tutor_id)
    if not view.columns:
        st.info("No submitted ratings of this tutor in this session yet.")
        return
    st.caption(
        "Each submitted rating in its own column, under its capacity: raters of one capacity are never averaged. "
        "Rows are shaded where raters differ by one point (yellow) or two or more (orange). "
        "Empty cells: N/A or not scored. Checklist versions: "
        + "; ".join(f"{plain(c.rater)} v{plain(c.rubric_version)}" for c in view.columns) + "."
    )
    table = score_table(view)
    st.table(
        table.style.apply(_highlight_spread, axis=1).format("{:.0f}", na_rep="–").format("{:g}", subset=[SPREAD], na_rep="–"),
        alt=f"Scores of each item by each of the {len(view.columns)} raters, grouped by capacity, with the spread.",
    )
    _notes(view)


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


@st.cache_data(show_spinner="Comparing every session's scores…", max_entries=8)
def _overall(_svc: Services, stamp: tuple[object, ...], rubric_id: str) -> pd.DataFrame:
    """Across sessions, computed once per state of the submitted scores (``stamp``: a new
    submission or correction is seen at the next visit), not on every visit."""
    return _svc.compare_overall(rubric_id)


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
    table = _overall(svc, fingerprint(svc), rubric.id)
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
    words = _chart_words(per_item)
    st.altair_chart(themed((chart + rule).properties(description=words)), width="stretch")
    small("**Chart in words:** " + words + " The table below holds its figures.")
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


def _chart_words(per_item: pd.DataFrame) -> str:
    """The per-item chart in a sentence: for each capacity, the items furthest above the external assessors."""
    parts = []
    for capacity, rows in per_item.groupby("Capacity", sort=False):
        top = rows.sort_values("mean_difference", ascending=False).head(2)
        items = ", ".join(f"{plain(str(r['item']))} ({r['mean_difference']:+.2f})" for _, r in top.iterrows())
        parts.append(f"{capacity}: furthest above on {items}")
    return "Mean difference from the external assessors per item (above 0: scored higher). " + "; ".join(parts) + "."


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
