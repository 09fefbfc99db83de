"""Sessions: the recorded sessions, filtered, with their ratings counted per capacity."""

from __future__ import annotations

import streamlit as st

from session_rater.ui.text import plain
from session_rater.domain.model import Capacity
from session_rater.usecases.services import filter_sessions
from session_rater.ui import nav
from session_rater.ui.player import data_uri
from session_rater.ui.state import page_start

SHORT = {
    Capacity.SELF_ASSESSMENT: "Self",
    Capacity.MONITORING: "Manager",
    Capacity.EXTERNAL: "External",
    Capacity.BENCHMARK: "Benchmark",
}


def render() -> None:
    svc, me = page_start()
    st.title("Recorded sessions")
    table = me.sessions_table()
    if table.empty:
        if me.is_admin():
            st.info("No recorded sessions yet. Add them on the **Recordings** page (or with `session-rater ingest`), "
                    "then the people who rate them on **People**.")
        else:
            st.info("No recorded sessions that you can see yet. Tutors see the sessions they delivered, treatment "
                    "managers their teams', external assessors those assigned to them; an administrator adds "
                    "recordings and assignments.")
        return

    cols = st.columns([2, 2, 2, 2, 1.4])
    programmes = cols[0].multiselect("Programme", sorted(table["programme"].unique()))
    sites = cols[1].multiselect("Site", sorted(table["site"].unique()))
    tutor_names = sorted({n for names in table["tutors"] for n in names.split(", ")})
    tutor = cols[2].selectbox("Tutor", tutor_names, index=None, placeholder="Any tutor")
    dates = cols[3].date_input(
        "Recorded between", value=(table["date"].min(), table["date"].max()), format="DD/MM/YYYY"
    )
    catch_up = cols[4].selectbox("Catch-up", ["All", "Catch-up only", "Regular only"])
    date_from, date_to = (dates[0], dates[-1]) if isinstance(dates, tuple) and dates else (None, None)
    shown = filter_sessions(
        table,
        programmes=programmes,
        sites=sites,
        tutor=tutor,
        date_from=date_from,
        date_to=date_to,
        catch_up={"All": None, "Catch-up only": True, "Regular only": False}[catch_up],
    )
    st.caption(
        f"{len(shown)} of {len(table)} sessions. Columns per capacity count **submitted** ratings "
        "(one per tutor rated); drafts are counted separately. Select a row to rate or compare it."
    )
    view = shown.set_index("id").assign(thumbnail=lambda t: t["thumbnail"].map(lambda p: data_uri(p) if p else None))
    event = st.dataframe(
        view,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="sessions_table",
        column_order=[
            "thumbnail", "date", "group", "session", "title", "site", "tutors", "catch_up",
            *(c.value for c in Capacity), "drafts", "demo", "video",
        ],
        column_config={
            "date": st.column_config.DateColumn("Date", format="DD/MM/YYYY"),
            "group": "Group",
            "session": st.column_config.NumberColumn("No.", help="Session number in the programme manual"),
            "title": "Session",
            "site": "Site",
            "tutors": "Tutors",
            "catch_up": st.column_config.CheckboxColumn("Catch-up"),
            **{
                c.value: st.column_config.NumberColumn(SHORT[c], help=f"Submitted {c.label.lower()} ratings")
                for c in Capacity
            },
            "drafts": st.column_config.NumberColumn("Drafts", help="Ratings started but not yet submitted"),
            "demo": st.column_config.CheckboxColumn("Demo", help="Invented demo data"),
            "thumbnail": st.column_config.ImageColumn("", help="A frame from the middle of the recording"),
            "video": st.column_config.TextColumn(
                "Video", help="ready: can be watched; converting: being made playable for browsers; missing: the file is not on disk"
            ),
        },
    )
    rows = event.selection.rows if event else []
    if not rows:
        return
    row = shown.iloc[rows[0]]
    recording = me.recording(int(row["id"]))
    st.subheader(plain(recording.label))
    st.caption(f"{plain(recording.programme)} · {plain(recording.site)} · {recording.recorded_on:%d %B %Y}"
               + (" · catch-up session" if recording.is_catch_up else ""))
    for tutor_view in recording.tutors:
        c1, c2, c3 = st.columns([3, 1, 1])
        c1.markdown(f"**{plain(tutor_view.display_name)}**")
        if c2.button("Rate", key=f"rate-{recording.id}-{tutor_view.id}", icon=":material/rate_review:", width="stretch"):
            nav.goto("rate", recording=recording.id, tutor=tutor_view.id)
        if c3.button("Compare", key=f"cmp-{recording.id}-{tutor_view.id}", icon=":material/compare_arrows:", width="stretch"):
            nav.goto("compare", recording=recording.id, tutor=tutor_view.id)
