"""The app's pages, in one place: app.py routes with them, pages link with them."""

from __future__ import annotations

import streamlit as st


def pages() -> list[st.Page]:
    from session_rater.ui.pages import (
        agreement,
        compare,
        coverage,
        overscoring,
        queue,
        rate,
        recordings_admin,
        sampling,
        sessions,
    )

    return [
        st.Page(sessions.render, title="Sessions", icon=":material/video_library:", url_path="sessions", default=True),
        st.Page(queue.render, title="My work", icon=":material/assignment:", url_path="queue"),
        st.Page(rate.render, title="Rate", icon=":material/rate_review:", url_path="rate"),
        st.Page(compare.render, title="Compare", icon=":material/compare_arrows:", url_path="compare"),
        st.Page(coverage.render, title="Coverage", icon=":material/monitoring:", url_path="coverage"),
        st.Page(overscoring.render, title="Over-scoring", icon=":material/balance:", url_path="overscoring"),
        st.Page(agreement.render, title="Agreement", icon=":material/handshake:", url_path="agreement"),
        st.Page(sampling.render, title="Sampling", icon=":material/casino:", url_path="sampling"),
        st.Page(recordings_admin.render, title="Recordings", icon=":material/movie:", url_path="recordings"),
    ]


def goto(url_path: str, **params: object) -> None:
    """Switch to a page with query parameters (the rater stand-in travels along)."""
    target = next(p for p in pages() if p.url_path == url_path)
    query = {k: str(v) for k, v in params.items() if v is not None}
    if "rater" in st.query_params and "rater" not in query:
        query["rater"] = st.query_params["rater"]
    st.switch_page(target, query_params=query)
