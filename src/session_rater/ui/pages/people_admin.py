"""Placeholder until written."""

import streamlit as st

from session_rater.ui.state import page_start


def render() -> None:
    page_start()
    st.title("people_admin")
