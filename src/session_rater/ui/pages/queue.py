"""My work: what the person rating is due to rate from the sampling draws, soonest due first,
with overdue work flagged, and a button that opens each session on the Rate page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import streamlit as st

from session_rater.ui.text import plain
from session_rater.domain.records import RecordingView
from session_rater.domain.sampling.work import QueueItem, QueueStatus, TutorProgress, TutorStatus
from session_rater.errors import SessionRaterError
from session_rater.ui import calibration_widgets, nav
from session_rater.ui.state import page_start
from session_rater.usecases.calibration import CALIBRATION_ROLES, Calibration
from session_rater.usecases.exemplar_clips import open_rounds
from session_rater.usecases.monitoring import Monitoring
from session_rater.usecases.permitted import Permitted

SHOW_KEY = "queue:show"
PAGE = 25
"""Sessions drawn at a time: a treatment manager may hold a hundred or more after a national
draw, and every row is a bordered box of widgets for the browser to lay out (issue 17)."""
MORE_KEY = "queue:shown"
TO_DO, DONE, ALL = "To do", "Submitted", "All"
RULE_TEXT = {"monitoring": "Monitoring", "catch_up": "Catch-up", "external_audit": "External audit"}
TUTOR_BADGE = {
    TutorStatus.NOT_STARTED: ("not started", "gray", ":material/radio_button_unchecked:"),
    TutorStatus.DRAFT: ("draft", "blue", ":material/pending:"),
    TutorStatus.SUBMITTED: ("submitted", "green", ":material/check_circle:"),
}
BUTTON = {QueueStatus.NOT_STARTED: "Rate", QueueStatus.IN_PROGRESS: "Continue", QueueStatus.SUBMITTED: "View"}
DUE_SOON_DAYS = 7
WRAP_LABELS = """<style>
/* A button says whom it opens ("Continue rating Jo Bell"): wrap a long name, never cut it off. */
[class*="st-key-queue-open-"] button div, [class*="st-key-queue-open-"] button p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
</style>"""


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


def _action_label(item: QueueItem, tutor: TutorProgress | None) -> str:
    """Says what the button opens: whom, and whether to start, go on or look."""
    if tutor is None:
        return BUTTON[item.status]
    name = plain(tutor.name)
    if tutor.status == TutorStatus.DRAFT:
        return f"Continue rating {name}"
    if tutor.status == TutorStatus.NOT_STARTED:
        return f"Rate {name}"
    return f"View your rating of {name}"


def _tutors(item: QueueItem) -> None:
    """Each tutor of the session and this rater's form for them: co-tutors are rated separately."""
    for tutor in item.tutors:
        label, colour, icon = TUTOR_BADGE[tutor.status]
        st.badge(f"{plain(tutor.name)}: {label}", icon=icon, color=colour)  # type: ignore[arg-type]


def _row(item: QueueItem, recording: RecordingView | None, today: dt.date) -> None:
    with st.container(border=True):
        due, session, rule, action = st.columns([1.5, 3.2, 1.6, 2.6], vertical_alignment="center")
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
        following = item.next_tutor
        with action:
            _tutors(item)
            if st.button(_action_label(item, following), key=f"queue-open-{item.assignment_id}-{int(item.as_second_rater)}",
                         icon=":material/rate_review:", width="stretch",
                         help=f"{item.ratings_submitted} form(s) submitted, {item.ratings_started} started"):  # fmt: skip
                nav.goto("rate", recording=item.recording_id, tutor=following.tutor_id if following else None)


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


def _calibration(me: Permitted, today: dt.date) -> None:
    """The rater's own calibration status, and what to do about it (raters only)."""
    if not any(me.person.has_role(r) for r in CALIBRATION_ROLES):
        return
    try:
        status = Calibration(me).my_status(today)
        rounds = open_rounds(me)
    except SessionRaterError as exc:  # e.g. the certification rule file is broken: the work still shows
        st.caption(f"Calibration status unavailable: {plain(exc)}")
        return
    calibration_widgets.status_line(status, today, rounds)


def render() -> None:
    _, me = page_start()
    rater = me.person
    st.title("My work")
    st.html(WRAP_LABELS)
    mon = Monitoring(me)
    today = dt.date.today()
    _calibration(me, today)
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
        "to see why a session was picked. Co-delivered sessions are rated once per tutor: each tutor's form "
        "shows as not started, draft or submitted, and the button opens the tutor still to rate."
    )
    listed = _shown(items, show or ALL)
    limit = max(PAGE, int(st.session_state.get(MORE_KEY, PAGE)))
    shown = listed[:limit]
    recordings: Mapping[int, RecordingView] = mon.recordings_of(i.recording_id for i in shown)
    if not shown:
        st.success("Nothing left to rate." if show == TO_DO else "Nothing submitted yet.", icon=":material/done_all:")
    for item in shown:
        _row(item, recordings.get(item.recording_id), today)
    if len(listed) > len(shown):
        more = min(PAGE, len(listed) - len(shown))
        st.caption(f"Showing the first {len(shown)} of {len(listed)}, soonest due first.")
        if st.button(f"Show {more} more", key="queue-more", icon=":material/expand_more:"):
            st.session_state[MORE_KEY] = limit + PAGE
            st.rerun()
