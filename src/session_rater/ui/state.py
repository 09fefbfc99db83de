"""Typed helpers over st.session_state and the shared services, used by every page."""

from __future__ import annotations

import streamlit as st

from session_rater.db.store import PersonView
from session_rater.errors import SessionRaterError
from session_rater.services import Services
from session_rater.ui.server import shared_services

RATER_KEY = "stand_in_rater_id"


def services() -> Services:
    """The process's services; a start-up failure is shown as a message, not a traceback."""
    try:
        return shared_services()
    except SessionRaterError as exc:
        st.error(f"Session Rater cannot start: {exc}")
        st.stop()
        raise  # unreachable: st.stop() raises


def query_int(name: str) -> int | None:
    value = st.query_params.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def current_rater(svc: Services) -> PersonView | None:
    """Who is rating. Until accounts exist this is a stand-in picked in the sidebar; it is
    kept in the URL (``?rater=``) so that a reload or a new tab keeps it."""
    people = svc.store.list_people()
    if not people:
        st.sidebar.info("No people yet.")
        return None
    by_id = {p.id: p for p in people}
    if st.session_state.get(RATER_KEY) not in by_id:
        from_url = query_int("rater")
        st.session_state[RATER_KEY] = from_url if from_url in by_id else people[0].id

    def _label(pid: int) -> str:
        person = by_id[pid]
        roles = ", ".join(sorted(r.replace("_", " ") for r in person.roles))
        return f"{person.display_name} ({roles})"

    with st.sidebar:
        st.selectbox("Rating as", list(by_id), key=RATER_KEY, format_func=_label)
        st.caption(
            "**Stand-in for sign-in.** Until accounts exist, pick who you are. "
            "Blind rating and access control arrive with accounts."
        )
    st.query_params["rater"] = str(st.session_state[RATER_KEY])
    return by_id[st.session_state[RATER_KEY]]


def demo_banner(svc: Services) -> None:
    if svc.store.has_demo_data():
        st.sidebar.warning(
            "**Demo data.** The sessions, people and scores marked *demo* are invented to show "
            "what the tool does. Reset them with `session-rater demo`.",
            icon=":material/science:",
        )


def show_rubric_problems(svc: Services) -> None:
    """A broken rubric file never stops the app: say which one and why."""
    for name, error in svc.catalog.errors.items():
        with st.sidebar.expander(f":material/warning: Rubric {name} is broken", expanded=False):
            st.error("\n".join(f"- {e}" for e in error.errors))
            st.caption("Fix the file and restart the app; the other rubrics work meanwhile.")


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


def recording_label(recording) -> str:  # type: ignore[no-untyped-def]
    return f"{recording.recorded_on:%d/%m/%Y} · {recording.label}"


def page_start() -> tuple[Services, PersonView | None]:
    """What every page does first: the services, the stand-in rater picker, the demo-data
    banner and any broken rubric, in the sidebar. Returns the services and who is rating."""
    svc = services()
    rater = current_rater(svc)
    demo_banner(svc)
    show_rubric_problems(svc)
    return svc, rater


def reports_allowed(svc: Services, viewer: PersonView | None) -> bool:
    """Reports across sessions are for programme managers and administrators; anyone else is
    told so (the rule is domain.access's, checked here before anything is computed)."""
    if viewer is None:  # no people at all yet (stand-in picker): nothing to protect, nothing to show
        return True
    decision = svc.may_see_reports(viewer)
    if not decision:
        st.info(
            f"{decision.reason.capitalize()}. Pick a programme manager or administrator under **Rating as** "
            "to see this report.",
            icon=":material/lock:",
        )
    return bool(decision)
