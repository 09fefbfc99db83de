"""Sessions: the recorded sessions, filtered and paged in the database, with their ratings
counted per capacity and, for a tutor, the state of their own self-assessment."""

from __future__ import annotations

import streamlit as st

from session_rater.domain.model import Capacity
from session_rater.ui import nav
from session_rater.ui.state import page_start
from session_rater.ui.text import plain
from session_rater.usecases.sessions_list import (
    PAGE_SIZE,
    SessionFilter,
    session_facets,
    session_frame,
    sessions_page,
    shows_self_assessment,
    tutor_choices,
)

SHORT = {
    Capacity.SELF_ASSESSMENT: "Self",
    Capacity.MONITORING: "Manager",
    Capacity.EXTERNAL: "External",
    Capacity.BENCHMARK: "Benchmark",
}
WIDTH = {Capacity.SELF_ASSESSMENT: 42, Capacity.MONITORING: 62, Capacity.EXTERNAL: 62, Capacity.BENCHMARK: 74}
PAGE_KEY = "sessions_page_no"
TABLE_KEY = "sessions_table"
OPEN_KEY = "sessions_open"  # the keyboard path: a session of this page chosen by name
FILTERS_KEY = "_sessions_filters"
SEEN_KEY = "_sessions_seen"  # (table choice, keyboard choice) of the last run: which changed
SHOWN_KEY = "_sessions_shown"


def _turn(step: int) -> None:
    st.session_state[PAGE_KEY] = max(1, int(st.session_state.get(PAGE_KEY, 1)) + step)


def render() -> None:
    _, me = page_start()
    st.title("Recorded sessions")
    facets = session_facets(me)
    if not facets.total:
        if me.is_admin():
            st.info("No recorded sessions yet. Add them on the **Recordings** page (or with `session-rater ingest`), "
                    "then the people who rate them on **People**.")
        else:
            st.info("No recorded sessions that you can see yet. Tutors see the sessions they delivered, treatment "
                    "managers their teams', external assessors those assigned to them; an administrator adds "
                    "recordings and assignments.")
        return

    cols = st.columns([2, 2, 2, 2.8, 1.2])  # the date range needs room for two whole dates
    programmes = cols[0].multiselect("Programme", facets.programmes)
    sites = cols[1].multiselect("Site", facets.sites)
    tutor_names = dict(facets.tutors)
    tutor = cols[2].selectbox("Tutor", list(tutor_names), index=None, placeholder="Any tutor",
                              format_func=lambda i: tutor_names[i])
    dates = cols[3].date_input("Recorded between", value=(facets.first, facets.last), format="DD/MM/YYYY")
    catch_up = cols[4].selectbox("Catch-up", ["All", "Catch-up only", "Regular only"])
    date_from, date_to = (dates[0], dates[-1]) if isinstance(dates, tuple) and dates else (None, None)
    filters = SessionFilter(
        programmes=tuple(programmes), sites=tuple(sites), tutor_id=tutor, date_from=date_from, date_to=date_to,
        catch_up={"All": None, "Catch-up only": True, "Regular only": False}[catch_up],
    )
    if st.session_state.get(FILTERS_KEY) != filters:  # new filters: back to the first page, nothing open
        st.session_state[FILTERS_KEY] = filters
        st.session_state[PAGE_KEY] = 1
        for key in (TABLE_KEY, OPEN_KEY, SEEN_KEY, SHOWN_KEY):
            st.session_state.pop(key, None)
    requested = int(st.session_state.get(PAGE_KEY, 1))
    page = sessions_page(me, filters, requested)
    if page.page != requested or st.session_state.get(SHOWN_KEY) != page.page:  # another page: nothing open
        for key in (TABLE_KEY, OPEN_KEY, SEEN_KEY):
            st.session_state.pop(key, None)
    st.session_state[PAGE_KEY] = st.session_state[SHOWN_KEY] = page.page

    shown = page.rows
    st.caption(
        f"{page.matching} of {facets.total} sessions"
        + (f", showing {page.first}-{page.last}" if page.pages > 1 else "")
        + ". Columns per capacity count **submitted** ratings (one per tutor rated); drafts are counted "
        "separately. Choose a session above the table, or select its row, to rate or compare it."
    )
    if shown.empty:
        st.info("No session matches these filters.")
        return
    ids = [int(i) for i in shown["id"]]
    labels = {int(r["id"]): f"{r['date']:%d/%m/%Y} · {r['group']} session {r['session']}: {r['title']}"
              for _, r in shown.iterrows()}  # fmt: skip
    from_keys = st.selectbox("Open a session on this page", ids, index=None, key=OPEN_KEY,
                             format_func=lambda i: labels[i], placeholder="Type or choose a session, then Enter",
                             help="The keyboard's way to the table's rows: Tab here, type part of the name, Enter. (In the table, "
                             "Enter or Shift+Space on a cell opens its row's session.)")
    # The session opened shows here, between the choice and the table: a keyboard user reaches
    # its Rate and Compare buttons without tabbing through the table's cells.
    detail = st.container(key="sessions_detail")
    st.html(ENTER_OPENS_ROW_JS, unsafe_allow_javascript=True)
    tutor_column = shows_self_assessment(me)
    view = shown.set_index("id").assign(title=lambda t: t["session"].astype(str) + ". " + t["title"])
    event = st.dataframe(
        view,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=TABLE_KEY,
        # Every column fits 1440 px beside the sidebar (Drafts was off-screen): widths in pixels.
        column_order=[
            "date", "group", "title", "tutors",  # the group names the site (Barrow TF-01)
            *(["yours"] if tutor_column else []), *(c.value for c in Capacity), "drafts", "video",
        ],
        column_config={
            "date": st.column_config.DateColumn("Date", format="DD/MM/YYYY", width=78),
            "group": st.column_config.TextColumn("Group", width=100),
            "title": st.column_config.TextColumn("Session", width=160,
                                                 help="Session number in the programme manual, and its title"),
            "tutors": st.column_config.TextColumn("Tutors", width=122),
            "yours": st.column_config.TextColumn(
                "Your self-assessment", width=128,
                help="Your own self-assessment of the sessions you delivered: not started, draft or submitted",
            ),
            **{
                c.value: st.column_config.NumberColumn(SHORT[c], help=f"Submitted {c.label.lower()} ratings",
                                                       width=WIDTH[c])
                for c in Capacity
            },
            "drafts": st.column_config.NumberColumn("Drafts", help="Ratings started but not yet submitted",
                                                    width=50),
            "video": st.column_config.TextColumn(
                "Video", width=54,
                help="ready: can be watched; converting: being made playable for browsers; missing: the file is not on disk",
            ),
        },
    )
    if page.pages > 1:
        c1, c2, c3 = st.columns([1, 2, 1], vertical_alignment="bottom")
        c1.button("Previous page", icon=":material/chevron_left:", disabled=page.page <= 1, on_click=_turn, args=(-1,),
                  width="stretch")
        c2.number_input(f"Page (of {page.pages}, {PAGE_SIZE} sessions each)", min_value=1, max_value=page.pages,
                        step=1, key=PAGE_KEY)
        c3.button("Next page", icon=":material/chevron_right:", disabled=page.page >= page.pages, on_click=_turn,
                  args=(1,), width="stretch")

    rows = event.selection.rows if event else []
    from_table = ids[rows[0]] if rows and rows[0] < len(ids) else None
    seen_table, seen_keys = st.session_state.get(SEEN_KEY, (None, None))
    st.session_state[SEEN_KEY] = (from_table, from_keys)
    if from_keys is not None and from_keys != seen_keys:
        chosen = from_keys
    elif from_table is not None and from_table != seen_table:
        chosen = from_table
    else:
        chosen = from_keys if from_keys is not None else from_table
    if chosen is not None:
        with detail:
            _show_session(me, chosen, shown)


ENTER_OPENS_ROW_JS = """<script>
// Enter on a cell of the sessions table opens that row's session, as Shift+Space (the grid's own
// row selection) does; focus then goes to the session's first button above the table.
(() => {
  const doc = window.parent && window.parent.document ? window.parent.document : document;
  if (doc.__srEnterOpensRow) return;
  doc.__srEnterOpensRow = true;
  doc.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    const grid = e.target.closest && e.target.closest(".st-key-sessions_table");
    if (!grid || e.target.closest("input, textarea, button, [role=menu]")) return;
    e.preventDefault();
    e.stopPropagation();
    const heading = () => (doc.querySelector(".st-key-sessions_detail h3") || {}).textContent || "";
    const row = e.target.closest("tr");
    const selected = row && row.getAttribute("aria-selected") === "true";
    const before = selected ? null : heading();  // a row already open: only move the focus
    if (!selected) {
      e.target.dispatchEvent(new KeyboardEvent("keydown", {key: " ", code: "Space", keyCode: 32, which: 32,
                                                             shiftKey: true, bubbles: true, cancelable: true, composed: true}));
    }
    let tries = 80;
    const focus = () => {
      const button = doc.querySelector(".st-key-sessions_detail [data-testid=stButton] button");
      if (button && (before === null || heading() !== before)) {
        button.focus(); button.scrollIntoView({block: "center"}); return;
      }
      if (tries-- > 0) setTimeout(focus, 100);
    };
    setTimeout(focus, 100);
  }, true);
})();
</script>"""


def _show_session(me, chosen: int, shown) -> None:  # type: ignore[no-untyped-def]
    """The session opened: its tutors, each with Rate and Compare where the viewer may use them."""
    recording = me.recording(chosen)
    st.subheader(plain(recording.label))
    st.caption(f"{plain(recording.programme)} · {plain(recording.site)} · {recording.recorded_on:%d %B %Y}"
               + (" · catch-up session" if recording.is_catch_up else ""))
    frame = session_frame(me, recording)
    if frame is not None:
        st.image(str(frame), width=160, caption="A frame from the middle of the recording")
    for choice in tutor_choices(me, recording):
        tutor_view = choice.tutor
        c1, c2, c3 = st.columns([3, 1, 1])
        c1.markdown(f"**{plain(tutor_view.display_name)}**" + (" (you)" if choice.own else ""))
        if choice.may_rate:
            if c2.button("Rate", key=f"rate-{recording.id}-{tutor_view.id}", icon=":material/rate_review:",
                         width="stretch"):  # fmt: skip
                nav.goto("rate", recording=recording.id, tutor=tutor_view.id)
        else:
            c2.caption(f"Not yours to rate: {plain(choice.rate_reason)}.")
        if choice.may_compare:
            if c3.button("Compare", key=f"cmp-{recording.id}-{tutor_view.id}", icon=":material/compare_arrows:",
                         width="stretch"):  # fmt: skip
                nav.goto("compare", recording=recording.id, tutor=tutor_view.id)
        else:
            c3.caption(f"Compare: {plain(choice.compare_reason)}.")
