"""Audit log (administration): every change the app recorded (ratings and their scores, people,
scope, assignments, unblinding) and every request for a recording, newest first, filtered by
kind, person and date and downloadable as CSV; and every version of a corrected rating.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd
import streamlit as st

from session_rater.ui.text import plain
from session_rater.domain.access import Action
from session_rater.domain.records import RatingView
from session_rater.errors import SessionRaterError
from session_rater.ui.downloads import download_link
from session_rater.ui.session_picker import NoSessions, session_choices
from session_rater.ui.state import allowed, page_start, recording_label
from session_rater.usecases.audit_trail import DEFAULT_LIMIT, LIMITS, SYSTEM, AuditTrail, LogFilters
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services

BY_SESSION, BY_ID = "Session, tutor and rater", "Rating id"


def _filters(trail: AuditTrail, kinds, people, dates, words, limit: int, page: int) -> LogFilters:  # type: ignore[no-untyped-def]
    """The filter widgets. Their choices come from the kinds of entry and the people there are
    (no scan of the log); the entries are then selected by them in SQL."""
    chosen_kinds = kinds.multiselect(
        "Kind", trail.kinds(), key="audit:entity", placeholder="Every kind",
        help="Person, Scope, Assignment: administration; Rating, Item score: ratings; Looked before rating: "
             "someone saw others' ratings first; Recording: a recording was played or refused",
    )  # fmt: skip
    who = people.multiselect("Person", trail.people(), key="audit:who", placeholder="Anyone",
                             help=f"Who made the change or played the recording ({SYSTEM}: nobody signed in)")
    today = dt.datetime.now(dt.UTC).date()
    first = min(trail.first_day() or today, today)
    period = dates.date_input("Between (UTC)", value=(first, today), format="DD/MM/YYYY", key="audit:dates")
    text = words.text_input("Containing", key="audit:text", placeholder="e.g. an email or a score",
                            help="Shows only entries whose description or record contains this text")
    start = end = None
    if isinstance(period, tuple) and period:
        start, end = period[0], period[-1]
    return LogFilters(limit, tuple(chosen_kinds), tuple(who), start, end, text, page)


def _log(trail: AuditTrail) -> None:
    kinds, people, dates, words, newest, older = st.columns([2, 2, 2.4, 2, 1.4, 1])
    limit = newest.selectbox("Entries to read", LIMITS, index=LIMITS.index(DEFAULT_LIMIT), key="audit:limit",
                             format_func=lambda n: f"{n:,}",
                             help="How many of the newest entries (changes and recording plays together) to read")
    page = older.number_input("Page", min_value=1, value=1, step=1, key="audit:page",
                              help="1: the newest entries; 2: the ones before them, and so on") - 1
    filters = _filters(trail, kinds, people, dates, words, limit, int(page))
    table = trail.read_filtered(filters)
    if table is None or table.empty:
        if page or filters.kinds or filters.people or filters.date_from:
            st.info("No entries of these kinds, people and dates" + (" on this page." if page else "."),
                    icon=":material/filter_alt_off:")  # fmt: skip
        else:
            st.info("Nothing has been recorded yet.", icon=":material/history:")
        return
    shown = filters.apply(table)
    older_ones = f" (older ones are on page {page + 2})" if len(table) >= limit else ""
    st.caption(f"{len(shown)} of the {len(table)} entries read{older_ones}, newest first. Times are UTC. "
               "The download also has each change's record as it was and as it became.")
    st.dataframe(
        shown[["at", "who", "kind", "what"]],
        hide_index=True,
        width="stretch",
        key="audit:table",
        column_config={
            "at": st.column_config.DatetimeColumn("At (UTC)", format="DD/MM/YYYY HH:mm:ss"),
            "who": "Who",
            "kind": "Kind",
            "what": st.column_config.TextColumn("What happened", width="large"),
        },
    )
    download_link("Download what is shown (CSV)", "audit-log.csv", filters.params(), disabled=shown.empty)


# -- rating versions ------------------------------------------------------------------------------


def _score_text(rating: RatingView, item_id: str) -> str:
    score = rating.scores.get(item_id)
    if score is None or not score.is_answered:
        return ""
    return "N/A" if score.not_applicable else str(score.score)


def _item_titles(svc: Services, rating: RatingView) -> dict[str, str]:
    try:
        rubric = svc.rubric_of(rating)
    except SessionRaterError:
        return {}
    return {item.id: item.title for item in rubric.items}


def _pick_rating(svc: Services, me: Permitted, names: dict[int, str]) -> int | None:
    how = st.radio("Find the rating by", [BY_SESSION, BY_ID], horizontal=True, key="audit:find_by")
    if how == BY_ID:
        value = st.number_input("Rating id", min_value=1, step=1, value=None, key="audit:rating_id",
                                placeholder="The id of any version")
        return int(value) if value is not None else None
    try:
        recordings = session_choices(me, st, key="audit:session")
    except NoSessions:
        st.caption("No recorded sessions yet.")
        return None
    recording_id = st.selectbox("Session", list(recordings), format_func=lambda i: recording_label(recordings[i]),
                                index=None, placeholder="Choose a session", key="audit:recording")
    if recording_id is None:
        return None
    forms: dict[tuple[int | None, int, str], list[RatingView]] = defaultdict(list)
    for rating in me.rating_forms_of(recording_id):
        forms[(rating.tutor_id, rating.rater_id, rating.capacity.value)].append(rating)
    if not forms:
        st.caption("Nobody has rated this session yet.")
        return None

    def label(key: tuple[int | None, int, str]) -> str:
        versions = forms[key]
        latest = max(versions, key=lambda r: r.version)
        tutor = names.get(key[0], "the session") if key[0] is not None else "the session"
        count = f"{len(versions)} versions" if len(versions) > 1 else "1 version"
        return f"{tutor} · rated by {names.get(key[1], key[1])} · {latest.capacity.label} · {count}"

    keys = sorted(forms, key=lambda k: (-len(forms[k]), label(k)))
    chosen = st.selectbox("Tutor and rater", keys, format_func=label, index=None,
                          placeholder="Choose a rating (corrected ones first)", key=f"audit:form:{recording_id}")
    return None if chosen is None else forms[chosen][0].id


def _versions(svc: Services, me: Permitted, names: dict[int, str]) -> None:
    rating_id = _pick_rating(svc, me, names)
    if rating_id is None:
        return
    try:
        history = me.rating_history(rating_id)
    except SessionRaterError as exc:
        st.error(plain(exc))
        return
    latest = history[-1]
    tutor = names.get(latest.tutor_id, "—") if latest.tutor_id is not None else "the session as a whole"
    try:
        session = recording_label(me.recording(latest.recording_id))
    except SessionRaterError:
        session = f"session {latest.recording_id}"
    st.markdown(f"**{len(history)} version(s)** of {plain(names.get(latest.rater_id, latest.rater_id))}'s "
                f"{latest.capacity.label.lower()} of {plain(tutor)} in {plain(session)} "
                f"(rubric {plain(latest.rubric_id)} v{plain(latest.rubric_version)}).")
    versions = pd.DataFrame(
        [
            {
                "version": r.version,
                "rating id": r.id,
                "status": r.status.value + (" (current)" if r.is_current else ""),
                "submitted at": f"{r.submitted_at:%d/%m/%Y %H:%M}" if r.submitted_at else "not yet",
                "correction reason": r.correction_reason or "",
                "blind": r.is_blind,
            }
            for r in history
        ]
    )
    st.dataframe(
        versions,
        hide_index=True,
        width="stretch",
        column_config={
            "version": st.column_config.NumberColumn("Version", width="small"),
            "rating id": st.column_config.NumberColumn("Rating id", width="small"),
            "status": st.column_config.TextColumn(
                "Status", help="current: the version that counts (a correction counts once it is submitted)"),
            "submitted at": st.column_config.TextColumn("Submitted (UTC)"),
            "correction reason": st.column_config.TextColumn("Why it was corrected", width="large"),
            "blind": st.column_config.CheckboxColumn(
                "Blind", help="Unticked: the rater had seen others' ratings of this session before rating it"),
        },
    )
    titles = _item_titles(svc, latest)
    item_ids = list(titles) + sorted({i for r in history for i in r.scores} - set(titles))
    scores = pd.DataFrame(
        [
            {"item": item_id, "title": titles.get(item_id, ""),
             **{f"v{r.version}": _score_text(r, item_id) for r in history}}
            for item_id in item_ids
        ]
    )
    shown = scores
    if len(history) > 1:
        version_columns = [f"v{r.version}" for r in history]
        scores["changed"] = scores[version_columns].nunique(axis=1) > 1
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.caption(f"Scores per item in each version (N/A: not applicable; blank: not scored). "
                     f"**{int(scores['changed'].sum())} item(s) changed** between versions, highlighted.")
        if right.toggle("Only the items that changed", key="audit:changed_only"):
            shown = scores[scores["changed"]].reset_index(drop=True)
    else:
        st.caption("Scores per item (N/A: not applicable; blank: not scored). This rating was never corrected.")
    highlight = "background-color: rgba(255, 189, 69, 0.25)"
    styled = shown.style.apply(
        lambda row: [highlight if row.get("changed", False) else ""] * len(row), axis=1)
    st.dataframe(styled, hide_index=True, width="stretch",
                 column_config={"item": st.column_config.TextColumn("Item", width=200),
                                "title": st.column_config.TextColumn("Item title", width="large"),
                                "changed": st.column_config.CheckboxColumn("Changed", width=70)})


def render() -> None:
    svc, me = page_start()
    st.title("Audit log")
    if not allowed(me, Action.VIEW_AUDIT_LOG):
        return
    trail = AuditTrail(me)
    _log(trail)
    st.subheader("Rating versions", divider="gray")
    st.caption("A submitted rating is corrected by a new version; the earlier versions are kept. "
               "Pick a rating to see every version and how its scores changed.")
    _versions(svc, me, trail.names())
