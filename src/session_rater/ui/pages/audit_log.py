"""Audit log (administration): every change the app recorded (ratings and their scores, people,
scope, assignments, unblinding) and every request for a recording, newest first, filtered by
kind, person and date and downloadable as CSV; and every version of a corrected rating.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import pandas as pd
import streamlit as st

from session_rater.domain.records import LogEntry
from session_rater.domain.records import RatingView
from session_rater.domain.access import Action
from session_rater.errors import AccessDeniedError, SessionRaterError
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services
from session_rater.ui.state import allowed, page_start, recording_label

SYSTEM = "system"  # changes made with no one signed in: the demo loader, the command line, sign-in itself
LIMITS = (1000, 5000, 20000)
COLUMNS = ["at", "who", "entity", "id", "action", "before", "after"]
BY_SESSION, BY_ID = "Session, tutor and rater", "Rating id"


def compact(value: object) -> str:
    """A before/after record as one line of JSON ('' for none)."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=str)


def _names(svc: Services, me: Permitted) -> dict[int, str]:
    """Everyone's name, closed accounts included (the audit log outlives them)."""
    try:
        return {a.person.id: a.person.display_name for a in me.accounts()}
    except AccessDeniedError:
        return me.people_names()


def log_table(entries: list[LogEntry], names: dict[int, str]) -> pd.DataFrame:
    rows = [
        {
            "at": e.at,
            "who": SYSTEM if e.actor_id is None else names.get(e.actor_id, f"person {e.actor_id}"),
            "entity": e.entity,
            "id": e.entity_id,
            "action": e.action,
            "before": compact(e.before),
            "after": compact(e.after),
        }
        for e in entries
    ]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["id"] = table["id"].astype("Int64")
    return table


def _filters(table: pd.DataFrame, kinds, people, dates, words) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    entities = kinds.multiselect("Kind", sorted(table["entity"].unique()), key="audit:entity",
                                 placeholder="Every kind",
                                 help="For example person, scope, assignment: administration; rating, item_score: ratings; "
                                      "blindness: someone looked before rating; recording: a recording was played")
    who = people.multiselect("Person", sorted(table["who"].unique()), key="audit:who", placeholder="Anyone",
                             help=f"Who made the change or played the recording ({SYSTEM}: nobody signed in)")
    first, last = table["at"].min().date(), max(table["at"].max().date(), dt.datetime.now(dt.UTC).date())
    period = dates.date_input("Between (UTC)", value=(first, last), format="DD/MM/YYYY", key="audit:dates")
    text = words.text_input("Containing", key="audit:text", placeholder="e.g. an email or a score",
                            help="Shows only entries whose action, before or after contain this text")
    shown = table
    if entities:
        shown = shown[shown["entity"].isin(entities)]
    if who:
        shown = shown[shown["who"].isin(who)]
    if isinstance(period, tuple) and period:
        start, end = period[0], period[-1]
        day = shown["at"].map(lambda t: t.date())
        shown = shown[(day >= start) & (day <= end)]
    if text.strip():
        needle = text.strip().lower()
        haystack = shown["action"] + " " + shown["before"] + " " + shown["after"]
        shown = shown[haystack.str.lower().str.contains(needle, regex=False)]
    return shown.reset_index(drop=True)


def _log(svc: Services, me: Permitted) -> None:
    kinds, people, dates, words, newest = st.columns([2, 2, 2.4, 2, 1.4])
    limit = newest.selectbox("Entries to read", LIMITS, index=1, key="audit:limit",
                             format_func=lambda n: f"{n:,}",
                             help="How many of the newest entries (changes and recording plays together) to read")
    try:
        entries = me.audit_log(limit=limit)
    except SessionRaterError as exc:
        st.error(str(exc))
        return
    if not entries:
        st.info("Nothing has been recorded yet.", icon=":material/history:")
        return
    table = log_table(entries, _names(svc, me))
    shown = _filters(table, kinds, people, dates, words)
    older = " (older ones were not read)" if len(entries) >= limit else ""
    st.caption(f"{len(shown)} of the {len(table)} entries read{older}, newest first. Times are UTC. "
               "**before** and **after** are the record as it was and as it became.")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key="audit:table",
        column_config={
            "at": st.column_config.DatetimeColumn("At (UTC)", format="DD/MM/YYYY HH:mm:ss"),
            "who": "Who",
            "entity": "Kind",
            "id": st.column_config.NumberColumn("Id", help="The id of the person, session (for assignments, "
                                                "blindness and plays), rating or item score", format="%d"),
            "action": "Action",
            "before": st.column_config.TextColumn("Before", width="large"),
            "after": st.column_config.TextColumn("After", width="large"),
        },
    )
    st.download_button("Download what is shown (CSV)", shown.to_csv(index=False), "audit-log.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore", disabled=shown.empty)


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
    recordings = {r.id: r for r in me.recordings()}
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


def _versions(svc: Services, me: Permitted) -> None:
    names = _names(svc, me)
    rating_id = _pick_rating(svc, me, names)
    if rating_id is None:
        return
    try:
        history = me.rating_history(rating_id)
    except SessionRaterError as exc:
        st.error(str(exc))
        return
    latest = history[-1]
    tutor = names.get(latest.tutor_id, "—") if latest.tutor_id is not None else "the session as a whole"
    try:
        session = recording_label(me.recording(latest.recording_id))
    except SessionRaterError:
        session = f"session {latest.recording_id}"
    st.markdown(f"**{len(history)} version(s)** of {names.get(latest.rater_id, latest.rater_id)}'s "
                f"{latest.capacity.label.lower()} of {tutor} in {session} "
                f"(rubric {latest.rubric_id} v{latest.rubric_version}).")
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
    _log(svc, me)
    st.subheader("Rating versions", divider="gray")
    st.caption("A submitted rating is corrected by a new version; the earlier versions are kept. "
               "Pick a rating to see every version and how its scores changed.")
    _versions(svc, me)
