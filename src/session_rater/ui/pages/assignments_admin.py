"""Assignments (administration): which recorded sessions each external assessor may open and
rate. An administrator assigns a session to an assessor here and withdraws it again; a
withdrawn assignment is kept (with when it was withdrawn), never deleted, and the store writes
both to the audit log.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from session_rater.ui.text import plain
from session_rater.domain.records import AccountView, AssignmentView
from session_rater.domain.records import RecordingView
from session_rater.domain.access import Action
from session_rater.domain.model import Role
from session_rater.errors import SessionRaterError
from session_rater.usecases.assignments_admin import assigned_sessions
from session_rater.usecases.permitted import Permitted
from session_rater.ui.session_picker import NoSessions, session_choices
from session_rater.ui.state import allowed, page_start, recording_label

FLASH_KEY = "assignments:flash"
REVISION_KEY = "assignments:revision"


def _done(message: str) -> None:
    st.session_state[FLASH_KEY] = message
    st.session_state[REVISION_KEY] = st.session_state.get(REVISION_KEY, 0) + 1
    st.rerun()


def _key(name: str) -> str:
    return f"assignments:{st.session_state.get(REVISION_KEY, 0)}:{name}"


def _session_text(recordings: dict[int, RecordingView], recording_id: int) -> str:
    recording = recordings.get(recording_id)
    return recording_label(recording) if recording else f"session {recording_id}"


def _assign(me: Permitted, assessors: dict[int, AccountView], current: set[tuple[int, int]]) -> None:
    if not assessors:
        st.info("Nobody has the external assessor role yet. Give someone that role on the **People** page first.",
                icon=":material/person_search:")
        return
    try:  # every session when few; above a few hundred, a search box (outside the form) and its matches
        recordings = session_choices(me, st, key=_key("find"))
    except NoSessions:
        st.info("There are no recorded sessions to assign yet.", icon=":material/video_library:")
        return
    with st.form(_key("assign")):
        left, right = st.columns([1, 2])
        person_id = left.selectbox(
            "External assessor", list(assessors), format_func=lambda i: assessors[i].person.display_name,
            index=None, placeholder="Choose an assessor", key=_key("assessor"))
        recording_id = right.selectbox(
            "Recorded session", list(recordings), format_func=lambda i: _session_text(recordings, i),
            index=None, placeholder="Choose a session", key=_key("recording"))
        submitted = st.form_submit_button("Assign", type="primary", icon=":material/assignment_ind:")
    if not submitted:
        return
    if person_id is None or recording_id is None:
        st.error("Choose both an external assessor and a session. Nothing was assigned.")
        return
    name = assessors[person_id].person.display_name
    if (person_id, recording_id) in current:
        st.info(f"{plain(name)} already has {plain(_session_text(recordings, recording_id))}; nothing changed.")
        return
    try:
        me.assign(person_id, recording_id)
    except SessionRaterError as exc:
        st.error(f"{plain(exc)} Nothing was assigned.")
        return
    _done(f"Assigned {_session_text(recordings, recording_id)} to {name}. They can open and rate it now.")


def _table(assignments: list[AssignmentView], names: dict[int, str], recordings: dict[int, RecordingView]) -> None:
    if not assignments:
        st.caption("Nothing has been assigned here yet.")
        return
    show_withdrawn = st.toggle("Show withdrawn assignments too", value=True, key="assignments:show_withdrawn")
    rows = [
        {
            "assessor": names.get(a.person_id, f"person {a.person_id}"),
            "session": _session_text(recordings, a.recording_id),
            "session id": a.recording_id,
            "status": f"withdrawn {a.withdrawn_at:%d/%m/%Y %H:%M}" if a.withdrawn_at else "current",
            "assigned at": a.assigned_at,
            "assigned by": names.get(a.assigned_by, f"person {a.assigned_by}") if a.assigned_by else "system",
        }
        for a in assignments
        if show_withdrawn or a.withdrawn_at is None
    ]
    current = sum(a.withdrawn_at is None for a in assignments)
    st.caption(f"{current} current and {len(assignments) - current} withdrawn assignment(s). Times are UTC.")
    table = pd.DataFrame(rows, columns=["assessor", "session", "session id", "status", "assigned at", "assigned by"])
    table["assigned at"] = pd.to_datetime(table["assigned at"], utc=True)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "assessor": st.column_config.TextColumn("External assessor", width=120),
            "session": st.column_config.TextColumn("Session", width=400),
            "session id": st.column_config.NumberColumn("Id", width=50, help="The session's id (as in the audit log)"),
            "status": st.column_config.TextColumn("Status", width=150),
            "assigned at": st.column_config.DatetimeColumn("Assigned", format="DD/MM/YYYY HH:mm", width=130),
            "assigned by": st.column_config.TextColumn("Assigned by", width=100),
        },
    )


def _withdraw(me: Permitted, assignments: list[AssignmentView], names: dict[int, str],
              recordings: dict[int, RecordingView]) -> None:
    current = {(a.person_id, a.recording_id): a for a in assignments if a.withdrawn_at is None}
    if not current:
        st.caption("No current assignment to withdraw.")
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox(
        "Current assignment", list(current),
        format_func=lambda k: f"{names.get(k[0], k[0])} · {_session_text(recordings, k[1])}",
        index=None, placeholder="Choose an assignment to withdraw", key=_key("withdraw"))
    if right.button("Withdraw", icon=":material/remove_circle:", disabled=chosen is None, key=_key("withdraw:go"),
                    width="stretch"):
        person_id, recording_id = chosen  # type: ignore[misc]
        try:
            me.withdraw(person_id, recording_id)
        except SessionRaterError as exc:
            st.error(f"{plain(exc)} Nothing was withdrawn.")
            return
        _done(f"Withdrew {_session_text(recordings, recording_id)} from {names.get(person_id, person_id)}. "
              "Their ratings of it are kept.")
    st.caption("Withdrawing stops the assessor opening the session from now on; a rating they made is kept.")


def render() -> None:
    svc, me = page_start()
    st.title("Assignments")
    if not allowed(me, Action.MANAGE_ASSIGNMENTS):
        return
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    try:
        assignments = me.assignments()
        accounts = me.accounts()
    except SessionRaterError as exc:
        st.error(plain(exc))
        return
    names = {a.person.id: a.person.display_name + ("" if a.active else " (closed)") for a in accounts}
    assessors = {a.person.id: a for a in accounts if a.active and a.person.has_role(Role.EXTERNAL_ASSESSOR)}
    recordings = assigned_sessions(me, assignments)
    st.caption(
        "External assessors see and rate only the sessions assigned to them. Sessions drawn for them by the "
        "external audit rule of a sample (the **Sampling** page) count as assignments too; those are not "
        "listed or withdrawn here."
    )
    st.subheader("Assign a session", divider="gray")
    _assign(me, assessors, {(a.person_id, a.recording_id) for a in assignments if a.withdrawn_at is None})
    st.subheader("Assignments", divider="gray")
    _table(assignments, names, recordings)
    st.subheader("Withdraw an assignment", divider="gray")
    _withdraw(me, assignments, names, recordings)
