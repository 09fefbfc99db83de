"""My work: what the person rating is due to rate from the sampling draws, soonest due first,
with overdue work flagged, and a button that opens each session on the Rate page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import streamlit as st

from session_rater.ui.text import plain
from session_rater.domain.records import RecordingView
from session_rater.domain.sampling.work import QueueItem, QueueStatus
from session_rater.ui import nav
from session_rater.ui.state import page_start
from session_rater.usecases.monitoring import Monitoring

SHOW_KEY = "queue:show"
TO_DO, DONE, ALL = "To do", "Submitted", "All"
RULE_TEXT = {"monitoring": "Monitoring", "catch_up": "Catch-up", "external_audit": "External audit"}
STATUS_BADGE = {
    QueueStatus.NOT_STARTED: ("Not started", "gray", ":material/radio_button_unchecked:"),
    QueueStatus.IN_PROGRESS: ("In progress", "blue", ":material/pending:"),
    QueueStatus.SUBMITTED: ("Submitted", "green", ":material/check_circle:"),
}
BUTTON = {QueueStatus.NOT_STARTED: "Rate", QueueStatus.IN_PROGRESS: "Continue", QueueStatus.SUBMITTED: "View"}
DUE_SOON_DAYS = 7


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _due(item: QueueItem, today: dt.date) -> None:
    if item.due_on is None:
        st.markdown("No due date")
        return
    st.markdown(f"**Due {item.due_on:%d/%m/%Y}**")
    days = (item.due_on - today).days
    if item.overdue:
        st.badge(f"Overdue by {_days(-days)}", icon=":material/warning:", color="red",
                 help="Not submitted and past its due date.")  # fmt: skip
    elif item.status != QueueStatus.SUBMITTED and days <= DUE_SOON_DAYS:
        st.badge("Due today" if days == 0 else f"Due in {_days(days)}", icon=":material/schedule:", color="orange")


def _row(item: QueueItem, recording: RecordingView | None, today: dt.date) -> None:
    with st.container(border=True):
        due, session, rule, status, action = st.columns([1.7, 3.4, 1.8, 1.3, 1], vertical_alignment="center")
        with due:
            _due(item, today)
        tutors = ", ".join(plain(t.display_name) for t in recording.tutors) if recording else ""
        session.markdown(f"**{plain(item.label)}**")
        session.caption(
            f"Recorded {item.recorded_on:%d/%m/%Y} · {plain(item.site)} · {plain(item.programme)}"
            + (f" · tutors: {tutors}" if tutors else "")
        )
        role = "second rater (double rating)" if item.as_second_rater else "first rater"
        rule.markdown(f"{RULE_TEXT[item.rule.value]}  \n:gray[{role}]", help=f"Why this session: {plain(item.reason)}")
        label, colour, icon = STATUS_BADGE[item.status]
        with status:
            st.badge(label, icon=icon, color=colour,  # type: ignore[arg-type]
                     help=f"{item.ratings_submitted} form(s) submitted, {item.ratings_started} started")  # fmt: skip
        first_tutor = recording.tutors[0].id if recording and recording.tutors else None
        if action.button(BUTTON[item.status], key=f"queue-open-{item.assignment_id}-{int(item.as_second_rater)}",
                         icon=":material/rate_review:", width="stretch"):  # fmt: skip
            nav.goto("rate", recording=item.recording_id, tutor=first_tutor)


def _empty(mon: Monitoring, name: str, roles: frozenset[str]) -> None:
    if not mon.any_draws():
        st.info(
            "Nothing to rate yet. Work appears here after a monitoring sample is drawn, by an "
            "administrator on the **Sampling** page or with `session-rater sample --policy default`.",
            icon=":material/inbox:",
        )
        return
    who = ", ".join(sorted(r.replace("_", " ") for r in roles)) or "no role"
    st.info(
        f"Nothing is assigned to {name} ({who}). Monitoring and catch-up sessions go to treatment "
        "managers, the external audit to external assessors; nobody is given a session they delivered.",
        icon=":material/inbox:",
    )


def _shown(items: list[QueueItem], show: str) -> list[QueueItem]:
    if show == TO_DO:
        return [i for i in items if i.status != QueueStatus.SUBMITTED]
    if show == DONE:
        return [i for i in items if i.status == QueueStatus.SUBMITTED]
    return items


def render() -> None:
    _, me = page_start()
    rater = me.person
    st.title("My work")
    mon = Monitoring(me)
    today = dt.date.today()
    items = mon.work_queue(today)
    if not items:
        _empty(mon, rater.display_name, rater.roles)
        return
    to_do = [i for i in items if i.status != QueueStatus.SUBMITTED]
    overdue = [i for i in items if i.overdue]
    c1, c2, c3 = st.columns(3)
    c1.metric("To rate", len(to_do), help="Assigned to you by the sampling draws and not yet submitted")
    c2.metric("Overdue", len(overdue), help="Not submitted and past the due date")
    c3.metric("Submitted", len(items) - len(to_do), help="Every form for the session submitted, no draft left")
    show = st.segmented_control("Show", [TO_DO, DONE, ALL], key=SHOW_KEY, default=TO_DO if to_do else ALL,
                                required=True, label_visibility="collapsed")  # fmt: skip
    st.caption(
        f"Sessions {rater.display_name} is due to rate, soonest due first. Monitoring is due "
        "4 weeks after the session by default (see the policy on the Sampling page); hover over the rule "
        "to see why a session was picked. Co-delivered sessions are rated once per tutor on the Rate page."
    )
    recordings: Mapping[int, RecordingView] = {r.id: r for r in me.recordings()}
    shown = _shown(items, show or ALL)
    if not shown:
        st.success("Nothing left to rate." if show == TO_DO else "Nothing submitted yet.", icon=":material/done_all:")
    for item in shown:
        _row(item, recordings.get(item.recording_id), today)
