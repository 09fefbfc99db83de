"""Supervision feedback: one tutor, one monitored session. The treatment manager's score and
its descriptor beside the self-assessment and the reference for each item; strengths and
development points; the evidence notes, each a link to its moment in the recording; the
tutor's trend; "discussed in supervision on DATE" with the agreed action; and the PDF."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urljoin, urlsplit

import altair as alt
import pandas as pd
import streamlit as st

from session_rater.domain.model import format_moment
from session_rater.errors import RecordingMissingError, SessionRaterError
from session_rater.ui.downloads import download_link
from session_rater.ui.player import Note, Thumbnail, data_uri, player
from session_rater.ui.report_widgets import figure
from session_rater.usecases.captions import captions_url
from session_rater.ui.state import page_start, query_int, recording_label
from session_rater.ui.text import plain
from session_rater.usecases.supervision import (
    NO_NAMES_REMINDER,
    Supervision,
    SupervisionFeedback,
    moment_link,
)

__all__ = ["render"]


def _query_date(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(st.query_params.get(name, ""))
    except ValueError:
        return None


def _origin() -> str:
    parts = urlsplit(st.context.url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _pick(sup: Supervision) -> tuple[int, int] | None:
    choices = sup.choices()
    if not choices:
        st.info("No supervision feedback that you can see yet: it starts from a session whose treatment manager's "
                "rating of a tutor is submitted. Tutors see their own; treatment managers their teams' tutors; "
                "programme managers their area's.", icon=":material/info:")  # fmt: skip
        return None
    keys = [(r.id, t) for r, t in choices]
    labels = {(r.id, t): f"{next(p.display_name for p in r.tutors if p.id == t)} · {recording_label(r)}"
              for r, t in choices}  # fmt: skip
    wanted = (query_int("recording"), query_int("tutor"))
    if st.query_params.get("recording") is not None and wanted not in labels:
        st.error("The address names a session and tutor whose supervision feedback you cannot see (or that has no "
                 "submitted treatment manager's rating yet). Open Supervision from the menu to pick one of yours.",
                 icon=":material/block:")  # fmt: skip
        return None  # refused, never silently swapped for another
    chosen = st.selectbox("Tutor and monitored session", keys, index=keys.index(wanted) if wanted in labels else 0,
                          format_func=lambda k: labels[k])  # fmt: skip
    if chosen != wanted:
        st.query_params["recording"], st.query_params["tutor"] = str(chosen[0]), str(chosen[1])
        st.query_params.pop("at", None)
    return chosen


def _player(sup: Supervision, fb: SupervisionFeedback) -> None:
    me, svc, recording = sup.me, sup.svc, fb.recording
    if not fb.may_play:
        return
    try:
        svc.require_recording_file(recording)
    except RecordingMissingError as exc:
        st.warning(plain(exc), icon=":material/videocam_off:")
        return
    playback = svc.playback(recording)
    if not playback.playable:
        st.info(f"The recording cannot be played now ({plain(playback.message or playback.status)}).",
                icon=":material/videocam_off:")  # fmt: skip
        return
    src, cookie = me.recording_url(recording)
    captions = captions_url(me, recording)
    at = st.query_params.get("at")
    try:
        start = float(at) if at is not None else None
    except ValueError:
        start = None
    player(
        key=f"supervision-player:{recording.id}:{fb.tutor_id}", recording_id=recording.id,
        src=urljoin(st.context.url or "http://localhost:8501/", src), viewer_cookie=cookie,
        notes=[Note(t=n.moment_seconds, item=n.item_title, text=n.text) for n in fb.notes if n.moment_seconds is not None],
        thumbnails=[Thumbnail(t, data_uri(path)) for t, path in svc.thumbnails(recording, playback)],
        active_item=None, active_title=None, can_stamp=False, read_only=False, start_at=start, stamping=False,
        captions_src=urljoin(st.context.url or "http://localhost:8501/", captions) if captions else None,
    )  # fmt: skip


def _caption(fb: SupervisionFeedback) -> None:
    r = fb.recording
    reference = f"{fb.reference_source} by {', '.join(fb.reference_raters)}" if fb.reference_source else "none yet"
    st.caption(plain(
        f"{r.programme} · {r.group_name} · {r.site} · session {r.session_number}: {r.session_title}, recorded "
        f"{r.recorded_on:%d/%m/%Y}. Tutor: {fb.tutor_name}. Treatment manager: {fb.manager_name}. Reference: "
        f"{reference}. Checklist: {fb.rubric.title} v{fb.rubric.version}."
    ))  # fmt: skip


def _summary(fb: SupervisionFeedback) -> None:
    st.subheader("Strengths")
    if fb.strengths:
        st.caption(f"Scored at the top of the scale ({fb.rubric.maximum}) by the treatment manager.")
        st.markdown("\n".join(f"- {plain(i.title)}" for i in fb.strengths))
    else:
        st.write(f"No item was scored at the top of the scale ({fb.rubric.maximum}).")
    st.subheader("Development points")
    if fb.development:
        st.caption("Scored below the middle of the scale, or self-assessed a point or more above the treatment "
                   "manager's score.")  # fmt: skip
        st.markdown("\n".join(f"- **{plain(d.item.title)}**: {plain('; '.join(d.reasons))}" for d in fb.development))
    else:
        st.write("None: no low score, and no self-assessment a point or more above the treatment manager's.")


def _items(fb: SupervisionFeedback) -> None:
    st.subheader("Item by item")
    table = pd.DataFrame([{
        "Item": i.title, "Treatment manager": i.manager, "Meaning": i.manager_label, "Descriptor": i.descriptor,
        "Self-assessment": i.self_score, "Reference": i.reference,
        "Self above manager": "▲ by " + str(i.self_score - i.manager) if i.self_above_manager else "",  # type: ignore[operator]
    } for i in fb.items])  # fmt: skip
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Treatment manager": st.column_config.NumberColumn(format="%d", help="The treatment manager's score (empty: N/A)"),
        "Descriptor": st.column_config.TextColumn(width="large", help="What the treatment manager's score means on this item"),
        "Self-assessment": st.column_config.NumberColumn(format="%d", help="The tutor's own score"),
        "Reference": st.column_config.NumberColumn(format="%.1f", help=(
            "Master (benchmark) scores where they exist, else the external assessors' (their mean)")),
    })  # fmt: skip


def _notes(fb: SupervisionFeedback) -> None:
    st.subheader("Evidence notes")
    st.caption(plain(NO_NAMES_REMINDER))
    if not fb.notes:
        st.write("No evidence notes.")
        return
    lines = []
    for n in fb.notes:
        if n.moment_seconds is not None and fb.may_play:
            href = moment_link("", fb.recording.id, fb.tutor_id, n.moment_seconds)
            when = f"[{format_moment(n.moment_seconds)}]({href})"
        else:
            when = format_moment(n.moment_seconds) or "–"
        lines.append(f"- {when} · **{plain(n.item_title)}**: {plain(n.text or '(a moment without a note)')} "
                     f"· :small[{plain(n.who)}]")  # fmt: skip
    st.markdown("\n".join(lines))
    if fb.may_play:
        st.caption("A time opens the recording above at that moment; the notes under the player jump there too.")


def _trend(fb: SupervisionFeedback) -> None:
    st.subheader("Trend over the tutor's rated sessions")
    st.caption(f"Mean item score per session (N/A left out), {plain(fb.period_text())}.")
    rows = []
    for p in fb.trend:
        for who, value in (("Treatment manager", p.manager_mean), ("Self-assessment", p.self_mean),
                           ("Reference", p.reference_mean)):  # fmt: skip
            if value is not None:
                rows.append({"recorded_on": pd.Timestamp(p.recorded_on), "session": p.label, "who": who, "mean": value})
    if not rows:
        return
    data = pd.DataFrame(rows)
    chart = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=70)).encode(
        x=alt.X("recorded_on:T", title="Session recorded", axis=alt.Axis(format="%d/%m/%Y")),
        y=alt.Y("mean:Q", title="Mean item score", scale=alt.Scale(domain=[fb.rubric.minimum, fb.rubric.maximum])),
        color=alt.Color("who:N", title=None, legend=alt.Legend(orient="top"),
                        sort=["Treatment manager", "Self-assessment", "Reference"]),
        tooltip=[alt.Tooltip("session:N", title="Session"), alt.Tooltip("recorded_on:T", title="Recorded", format="%d/%m/%Y"),
                 alt.Tooltip("who:N", title="Scores of"), alt.Tooltip("mean:Q", title="Mean", format=".2f")],
    ).properties(height=260)  # fmt: skip
    table = data.assign(recorded_on=data["recorded_on"].dt.strftime("%d/%m/%Y"), mean=data["mean"].round(2))
    table = table.rename(columns={"recorded_on": "Recorded", "session": "Session", "who": "Scores of", "mean": "Mean"})
    figure(chart, words=trend_words(data), table=table, table_label="Figures of the chart: mean item score per session")


def trend_words(data: pd.DataFrame) -> str:
    """The trend chart in a sentence: for each line, its first and latest mean."""
    parts = []
    for who, line in data.sort_values("recorded_on").groupby("who", sort=False):
        first, last = line.iloc[0], line.iloc[-1]
        if len(line) == 1:
            parts.append(f"{who}: {first['mean']:.2f} on {first['recorded_on']:%d/%m/%Y}")
        else:
            parts.append(f"{who}: from {first['mean']:.2f} ({first['recorded_on']:%d/%m/%Y}) to {last['mean']:.2f} "
                         f"({last['recorded_on']:%d/%m/%Y}) over {len(line)} sessions")  # fmt: skip
    return "Mean item score per session. " + "; ".join(parts) + "."


def _discussions(sup: Supervision, fb: SupervisionFeedback) -> None:
    st.subheader("Discussed in supervision")
    earlier = [d for d in sup.earlier_actions(fb.tutor_id, dt.date.today()) if d.recording_id != fb.recording.id]
    if fb.discussions:
        for d in fb.discussions:
            st.markdown(f"- **{d.discussed_on:%d/%m/%Y}**: {plain(d.agreed_action)} "
                        f":small[(recorded by {plain(fb.discussed_by.get(d.recorded_by or -1, 'someone'))})]")  # fmt: skip
    else:
        st.write("Not yet discussed in supervision.")
    if earlier:
        st.caption("Actions agreed in earlier supervisions of this tutor:")
        st.markdown("\n".join(f"- {d.discussed_on:%d/%m/%Y} ({plain(fb.session_labels.get(d.recording_id, ''))}): "
                              f"{plain(d.agreed_action)}" for d in earlier[:5]))  # fmt: skip
    if not fb.may_record:
        return
    with st.form("supervision-discussion", clear_on_submit=True):
        c1, c2 = st.columns([1.4, 3])
        on = c1.date_input("Discussed in supervision on", value=dt.date.today(), format="DD/MM/YYYY",
                           min_value=fb.recording.recorded_on, max_value=dt.date.today())  # fmt: skip
        action = c2.text_input("Action agreed (a sentence or two)", max_chars=500)
        if st.form_submit_button("Record the discussion", icon=":material/event_available:"):
            try:
                sup.record_discussion(fb.recording.id, fb.tutor_id, on, action)
            except SessionRaterError as exc:
                st.error(plain(exc))
                return
            st.toast("Supervision discussion recorded.")
            st.rerun()


def render() -> None:
    _, me = page_start()
    st.title("Supervision feedback")
    sup = Supervision(me)
    chosen = _pick(sup)
    if chosen is None:
        return
    recording_id, tutor_id = chosen
    recording = me.recording(recording_id)
    c1, c2, _ = st.columns([1, 1, 2])
    date_from = c1.date_input("Trend from", value=_query_date("from"), format="DD/MM/YYYY",
                              help="The tutor's rated sessions shown in the trend (empty: from the first)")  # fmt: skip
    date_to = c2.date_input("Trend to", value=_query_date("to"), format="DD/MM/YYYY",
                            help="Empty: to the last rated session")  # fmt: skip
    for name, value in (("from", date_from), ("to", date_to)):
        if value:
            st.query_params[name] = value.isoformat()
        else:
            st.query_params.pop(name, None)
    blind = sup.blindness(recording, tutor_id)
    if not blind.allowed:
        st.info(plain(blind.reason), icon=":material/visibility_off:")
        return
    look_key = f"supervision:look:{recording_id}:{tutor_id}"
    if blind.unblinds and not st.session_state.get(look_key):
        st.warning(plain(blind.reason), icon=":material/visibility:")
        if st.button("Show the feedback and record me as not blind", icon=":material/visibility:"):
            st.session_state[look_key] = True
            st.rerun()
        return
    fb = sup.feedback(recording_id, tutor_id, date_from=date_from, date_to=date_to, look=blind.unblinds)
    _caption(fb)
    params = {"recording": str(recording_id), "tutor": str(tutor_id),
              **({"from": date_from.isoformat()} if date_from else {}), **({"to": date_to.isoformat()} if date_to else {})}  # fmt: skip
    download_link("Download PDF", "supervision.pdf", params, help="The feedback as a PDF, for the supervision file")
    left, right = st.columns([1.1, 1], gap="large")
    with left:
        _player(sup, fb)
        _notes(fb)
    with right:
        _summary(fb)
    left, right = st.columns([1.1, 1], gap="large")
    with left:
        _trend(fb)
    with right:
        _discussions(sup, fb)
    _items(fb)
