"""Typed helpers over st.session_state and the shared services, used by every page."""

from __future__ import annotations

import streamlit as st

from session_rater.ui.text import plain
from session_rater.errors import SessionRaterError
from session_rater.domain.access import Action
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services
from session_rater.ui.auth import current_user, sign_out_control
from session_rater.usecases.process import shared_services
from session_rater.usecases.rubric_versions import follow_rubric_changes

def services() -> Services:
    """The process's services; a start-up failure is shown as a message, not a traceback."""
    try:
        return shared_services()
    except SessionRaterError as exc:
        st.error(f"Session Rater cannot start: {plain(exc)}")
        st.stop()
        raise  # unreachable: st.stop() raises


MAX_ID = 2**63 - 1  # ids are signed 64-bit integers


def query_int(name: str) -> int | None:
    """A whole number from the URL's ``?name=``; None if absent or not an id that can exist."""
    value = st.query_params.get(name)
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and 0 <= number <= MAX_ID else None


def demo_banner(svc: Services) -> None:
    if svc.has_demo_data():
        st.sidebar.warning(
            "**Demo data.** The sessions, people and scores marked *demo* are invented to show "
            "what the tool does. Reset them with `session-rater demo`.",
            icon=":material/science:",
        )


def show_rubric_problems(svc: Services) -> None:
    """A broken rubric file never stops the app: say which one and why."""
    for name, error in svc.catalog.errors.items():
        with st.sidebar.expander(f":material/warning: Rubric {plain(name)} is broken", expanded=False):
            st.error("\n".join(f"- {plain(e)}" for e in error.errors))
            st.caption("Fix the file (an administrator can also add a corrected version on the Rubrics page); "
                       "the other rubrics work meanwhile.")


def pick_by_id(container, label: str, options: dict[int, object], format_func, *, param: str, required: bool, **kwargs):  # type: ignore[no-untyped-def]
    """A selectbox over ``options`` (id -> value) preselected from the URL's ``?param=``;
    the choice is written back to the URL so a reload or a shared link keeps it."""
    ids = list(options)
    wanted = query_int(param)
    default = ids.index(wanted) if wanted in options else (0 if required and ids else None)
    chosen = container.selectbox(label, ids, index=default, format_func=lambda i: format_func(options[i]), **kwargs)
    if chosen is not None:
        st.query_params[param] = str(chosen)
    return chosen


def refuse_unreachable(me: Permitted, visible: dict[int, object]) -> bool:
    """A session named in the URL (``?recording=``) that is not in reach is refused, not
    silently swapped for another: says so and returns True."""
    wanted = query_int("recording")
    if wanted is None and st.query_params.get("recording") is not None:
        st.error("The address names no session that exists (its number is not a session id). "
                 "Pick a session from the list.", icon=":material/block:")  # fmt: skip
        return True
    if wanted is None or wanted in visible:
        return False
    try:
        me.recording(wanted)
    except SessionRaterError as exc:
        st.error(plain(exc), icon=":material/block:")
        return True
    return False


def recording_label(recording) -> str:  # type: ignore[no-untyped-def]
    return f"{recording.recorded_on:%d/%m/%Y} · {recording.label}"


ME_KEY = "_sr_signed_in"


def signed_in() -> Permitted:
    """Who is signed in, asked once per run by app.py (the sign-in screen, and a stop, if
    nobody is); the pages read it with page_start."""
    me = current_user(services())
    if me is None:
        st.stop()
    st.session_state[ME_KEY] = me
    return me  # type: ignore[return-value]


def page_start() -> tuple[Services, Permitted]:
    """What every page does first: the services and who is signed in, the sign-out control,
    the demo-data banner and any broken rubric, in the sidebar."""
    svc = services()
    follow_rubric_changes(svc)  # a version added through another app process is used here too
    me = st.session_state.get(ME_KEY)
    if not isinstance(me, Permitted) or me.svc is not svc:
        me = signed_in()
    sign_out_control(svc, me)
    demo_banner(svc)
    show_rubric_problems(svc)
    return svc, me  # type: ignore[return-value]


def allowed(me: Permitted, action: Action) -> bool:
    """Whether ``me`` may use this page; if not, say why (the page then shows nothing else)."""
    decision = me.decide(action)
    if not decision:
        st.info(f"{decision.reason.capitalize()}.", icon=":material/lock:")
    return bool(decision)


def reports_allowed(me: Permitted) -> bool:
    """Reports across sessions are for programme managers and administrators; anyone else is
    told so (the rule is domain.access's, checked here before anything is computed)."""
    decision = me.may_see_reports()
    if not decision:
        st.info(f"{decision.reason.capitalize()}.", icon=":material/lock:")
    return bool(decision)
