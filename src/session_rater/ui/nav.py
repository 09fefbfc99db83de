"""The app's pages, in one place: app.py routes with them, pages link with them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from session_rater.domain.access import Action

if TYPE_CHECKING:
    from session_rater.permitted import Permitted


def pages(me: Permitted | None = None) -> list[st.Page]:
    """Every page; those ``me`` has no use for are hidden from the menu (each page checks
    again: hiding is never the check)."""
    from session_rater.ui.pages import (
        agreement,
        assignments_admin,
        audit_log,
        people_admin,
        rubrics_admin,
        compare,
        coverage,
        overscoring,
        queue,
        rate,
        recordings_admin,
        sampling,
        sessions,
    )

    everyone = me is None
    reports = everyone or bool(me.decide(Action.VIEW_REPORTS))
    admin = everyone or me.is_admin()
    overseer = everyone or bool(me.decide(Action.VIEW_COVERAGE))
    listed = [
        st.Page(sessions.render, title="Sessions", icon=":material/video_library:", default=True),  # at / (a default page has no other path)
        st.Page(queue.render, title="My work", icon=":material/assignment:", url_path="queue"),
        st.Page(rate.render, title="Rate", icon=":material/rate_review:", url_path="rate"),
        st.Page(compare.render, title="Compare", icon=":material/compare_arrows:", url_path="compare"),
        st.Page(coverage.render, title="Coverage", icon=":material/monitoring:", url_path="coverage"),
        st.Page(overscoring.render, title="Over-scoring", icon=":material/balance:", url_path="overscoring"),
        st.Page(agreement.render, title="Agreement", icon=":material/handshake:", url_path="agreement"),
        st.Page(sampling.render, title="Sampling", icon=":material/casino:", url_path="sampling"),
        st.Page(recordings_admin.render, title="Recordings", icon=":material/movie:", url_path="recordings"),
        st.Page(people_admin.render, title="People", icon=":material/group:", url_path="people"),
        st.Page(assignments_admin.render, title="Assignments", icon=":material/assignment_ind:", url_path="assignments"),
        st.Page(rubrics_admin.render, title="Rubrics", icon=":material/checklist:", url_path="rubrics"),
        st.Page(audit_log.render, title="Audit log", icon=":material/history:", url_path="audit"),
    ]
    hidden = set()
    if not reports:
        hidden |= {"overscoring", "agreement"}
    if not overseer:
        hidden |= {"coverage", "sampling"}
    if not admin:
        hidden |= {"recordings", "people", "assignments", "rubrics", "audit"}
    # Hidden, not left out: a link to a page one may not use opens it, and it says why.
    return [st.Page(p._page, title=p.title, icon=p.icon, url_path=p.url_path, default=p._default, visibility="hidden")
            if p.url_path in hidden else p for p in listed]


def goto(url_path: str, **params: object) -> None:
    """Switch to a page with query parameters."""
    target = next(p for p in pages() if p.url_path == url_path)
    query = {k: str(v) for k, v in params.items() if v is not None}
    st.switch_page(target, query_params=query)
