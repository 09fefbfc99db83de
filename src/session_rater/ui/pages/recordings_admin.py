"""Recordings (administration): add recordings from the recordings folder, follow and cancel
conversions, find missing files, see what the retention policy deletes next (and place or
release holds), and read the access log.

Multi-gigabyte files are never uploaded through the browser: they are copied into the
recordings folder (SESSION_RATER_RECORDINGS_DIR) with their manifest.csv, then ingested here
or with ``session-rater ingest``. Conversions run in the server's background worker, so
leaving or reloading this page does not stop them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from session_rater.ui.session_picker import LIST_ALL_UP_TO, NoSessions, session_choices
from session_rater.ui.text import plain
from session_rater.domain.access import Action
from session_rater.domain.captions import MAX_CAPTIONS_BYTES, CaptionsError
from session_rater.errors import SessionRaterError
from session_rater.ui.downloads import download_link
from session_rater.ui.state import allowed, page_start, recording_label
from session_rater.usecases.calibration import Calibration
from session_rater.usecases.permitted import Permitted
from session_rater.domain.retention import HOLD_KINDS
from session_rater.usecases.recordings_admin import RecordingsAdmin
from session_rater.usecases.retention import RetentionAdmin


def _ingest_folder(admin: RecordingsAdmin) -> None:
    folder = admin.folder
    st.markdown(f"Recordings folder: {plain(folder)}")
    files = admin.files_in_folder()
    st.caption(
        f"{len(files)} video file(s) there. Ingesting probes each file, fingerprints it (so a moved or "
        "renamed file keeps its ratings), takes its details from manifest.csv, and queues a conversion "
        "when browsers cannot play it as it is. Files already known are left as they are."
    )
    if not folder.is_dir():
        st.error(f"The recordings folder {plain(folder)} does not exist. Create it or set SESSION_RATER_RECORDINGS_DIR.")
        return
    if st.button("Ingest the recordings folder", icon=":material/video_library:", disabled=not files):
        with st.status("Ingesting…", expanded=True) as status:
            progress = st.progress(0.0)

            def on_progress(path, stage, fraction) -> None:  # type: ignore[no-untyped-def]
                progress.progress(min(1.0, fraction), text=f"{path.name}: {stage}")

            try:
                report = admin.ingest_folder(on_progress)
            except SessionRaterError as exc:
                status.update(label="Nothing was ingested", state="error")
                st.error(plain(exc))
                return
            for outcome in report.outcomes:
                (st.error if not outcome.ok else st.markdown)(plain(outcome.line))
            status.update(label=report.summary, state="complete" if report.ok else "error")


PLACES_SHOWN = 200


def _captions(admin: RecordingsAdmin, me: Permitted) -> None:
    """Add a recording's captions (WebVTT): the player shows them and offers a transcript."""
    try:
        recordings = session_choices(me, st, key="captions")
    except NoSessions:
        st.caption("No recorded sessions yet.")
        return
    st.caption(
        f"The player shows a session's captions and a transcript when it has a WebVTT (.vtt) file: one beside the "
        f"recording with the same name (session.mp4 and session.vtt), or one added here (kept in the data folder; "
        f"it replaces an earlier one). Files of up to {MAX_CAPTIONS_BYTES // 1024 // 1024} MB, UTF-8 text."
    )
    with st.form("add_captions", clear_on_submit=True, border=True):
        recording_id = st.selectbox("Session the captions are for", list(recordings), format_func=lambda i: recording_label(recordings[i]),
                                    index=None, placeholder="Choose a recorded session")  # fmt: skip
        upload = st.file_uploader("Captions file (WebVTT, .vtt)", type=["vtt"],
                                  max_upload_size=max(1, MAX_CAPTIONS_BYTES // 1024 // 1024))
        if st.form_submit_button("Add the captions", icon=":material/closed_caption:"):
            try:
                if recording_id is None:
                    raise SessionRaterError("Choose the recording the captions are for.")
                if upload is None:
                    raise SessionRaterError("Choose the captions file (.vtt) to add.")
                cues = admin.add_captions(int(recording_id), upload.getvalue(), upload.name)
            except CaptionsError as exc:
                st.error(plain(f"Not added: {upload.name if upload else 'the file'} is not valid WebVTT."))
                for line in exc.errors:
                    st.error(plain(line))
            except SessionRaterError as exc:
                st.error(plain(exc))
            else:
                st.success(plain(f"Added {len(cues)} caption(s) to {recording_label(recordings[int(recording_id)])}: "
                                 "the player shows them from the next time the session is opened."))  # fmt: skip


def _places(me: Permitted) -> None:
    """Which area and team each session belongs to: that decides which treatment managers
    monitor it and which programme managers' reports include it."""
    total = me.count_recordings()
    if not total:
        st.caption("No recorded sessions yet.")
        return
    editor_key = "places"
    if total <= LIST_ALL_UP_TO:
        recordings = me.recordings()
    else:  # a whole country's sessions in one editor would be read and sent on every run
        text = st.text_input("Find sessions", key="places:find", placeholder="Group, date (DD/MM/YYYY), site, area or tutor",
                             help=f"{total:,} sessions: the {PLACES_SHOWN} newest that match are listed to change.")  # fmt: skip
        recordings = me.find_recordings(text or "", limit=PLACES_SHOWN)
        editor_key = f"places:{(text or '').strip()}" if (text or "").strip() else "places"  # edits belong to one list
        st.caption(f"The {len(recordings)} newest of {total:,} sessions" + (f" matching “{text.strip()}”" if text.strip() else "")
                   + ": search to find others.")  # fmt: skip
        if not recordings:
            return
    table = pd.DataFrame(
        [{"id": r.id, "session": recording_label(r), "site": r.site, "area": r.area or "", "team": r.team or ""}
         for r in recordings]
    )
    edited = st.data_editor(
        table, key=editor_key, hide_index=True, width="stretch", disabled=["id", "session", "site"],
        column_config={
            "id": st.column_config.NumberColumn("Id", width="small"),
            "session": st.column_config.TextColumn("Session", width="large"),
            "site": st.column_config.TextColumn("Site"),
            "area": st.column_config.TextColumn("Area", help="e.g. Cumbria: programme managers of the area see its reports"),
            "team": st.column_config.TextColumn("Team", help="e.g. Carlisle team: its treatment managers monitor it"),
        },
    )
    changed = edited[(edited["area"] != table["area"]) | (edited["team"] != table["team"])]
    if st.button(f"Save {len(changed)} change(s)", icon=":material/save:", disabled=changed.empty):
        for row in changed.itertuples(index=False):
            me.set_recording_place(int(row.id), row.area, row.team)
        st.session_state.pop(editor_key, None)
        st.session_state["places:saved"] = f"Saved where {len(changed)} session(s) belong; the change is in the audit log."
        st.rerun()
    if saved := st.session_state.pop("places:saved", None):
        st.success(saved, icon=":material/check:")


@st.fragment(run_every=2)
def _jobs(admin: RecordingsAdmin) -> None:
    """Conversions, refreshed every two seconds while this page is open."""
    jobs = admin.jobs(limit=50)
    if not jobs:
        st.caption("No conversions yet.")
        return
    for job in jobs:
        cols = st.columns([3, 2, 1])
        name = job.source_path.rsplit("/", 1)[-1]
        cols[0].markdown(f"**{plain(name)}** · {job.action} · recording {job.recording_id}")
        if job.is_active:
            cols[1].progress(job.progress, text=f"{job.status} {job.progress:.0%}")
            if cols[2].button("Cancel", key=f"cancel-{job.id}", disabled=job.cancel_requested):
                admin.cancel_job(job.id)
                st.rerun(scope="fragment")
        else:
            cols[1].markdown(plain(f"{job.status}" + (f": {job.message}" if job.message else "")))


MISSING_SHOWN = 200  # rows of the missing-files table (the count says how many in all)


@st.fragment
def _missing(admin: RecordingsAdmin) -> None:
    again = st.button("Check the files now", icon=":material/refresh:", key="missing:again",
                      help="Files are checked every few minutes (each check looks for every recording's file).")  # fmt: skip
    check = admin.missing(again=again)
    when = f"Checked {check.checked:,} recording(s) at {check.checked_at.astimezone():%H:%M:%S}."
    missing = check.missing
    if not missing:
        st.caption(f"Every recording's file is where the database says it is. {when}")
        return
    st.warning(
        f"{len(missing)} recording(s) are missing on disk. Their ratings are kept; put the file back or "
        "ingest it from its new place to re-link it."
    )
    st.caption(when + (f" The first {MISSING_SHOWN} are listed." if len(missing) > MISSING_SHOWN else ""))
    st.dataframe(
        pd.DataFrame([{"recording": m.recording_id, "session": m.label, "expected at": str(m.path)}
                      for m in missing[:MISSING_SHOWN]]),
        hide_index=True,
        width="stretch",
    )


REVIEW_PAGE = 50
"""Recordings of each retention table read and shown at a time: at national scale thousands are
past their period (7,578 at 300 k scores), counted in SQL, and the oldest listed first."""
DUE_MORE_KEY, KEPT_MORE_KEY = "retention:due_shown", "retention:kept_shown"


def _more(shown: int, total: int, state_key: str, button_key: str) -> None:
    """The count of what is listed and a button that lists REVIEW_PAGE more (oldest first)."""
    if shown >= total:
        return
    st.caption(f"The oldest {shown:,} of {total:,} are listed.")
    if st.button(f"Show {min(REVIEW_PAGE, total - shown):,} more", key=button_key, icon=":material/expand_more:"):
        st.session_state[state_key] = shown + REVIEW_PAGE
        st.rerun()


def _due_for_deletion(retention: RetentionAdmin, me: Permitted) -> None:
    """What the retention policy deletes next, what it keeps past its period and why, and the
    holds that keep recordings (placed and released here, each in the audit log)."""
    due_limit = int(st.session_state.get(DUE_MORE_KEY, REVIEW_PAGE))
    kept_limit = int(st.session_state.get(KEPT_MORE_KEY, REVIEW_PAGE))
    try:
        review = retention.review_page(due_limit=due_limit, kept_limit=kept_limit)
    except SessionRaterError as exc:
        st.error(str(exc))
        return
    policy = review.policy
    st.caption(f"Retention policy **{policy.id} v{policy.version}** ({policy.title}): {policy.rule}. "
               "`session-rater retention` deletes the files of the recordings due (run it on a schedule; "
               "`--dry-run` lists them). Scores, evidence notes and the audit log are never deleted.")
    if review.due_count:
        st.warning(f"{review.due_count:,} recording(s) are due for deletion.", icon=":material/auto_delete:")
        st.dataframe(pd.DataFrame([{"recording": d.recording_id, "session": d.label, "date": d.recorded_on,
                                    "kept until": d.keep_until, "why it goes": d.reason} for d in review.due]),
                     hide_index=True, width="stretch", key="retention_due")
        _more(len(review.due), review.due_count, DUE_MORE_KEY, "retention:due_more")
    else:
        st.caption("Nothing is due for deletion.")
    if review.kept_count:
        st.markdown(f"**Past their period but kept** · {review.kept_count:,} recording(s)")
        st.dataframe(pd.DataFrame([{"recording": d.recording_id, "session": d.label, "date": d.recorded_on,
                                    "why it is kept": d.reason} for d in review.kept]),
                     hide_index=True, width="stretch", key="retention_kept")
        _more(len(review.kept), review.kept_count, KEPT_MORE_KEY, "retention:kept_more")
    holds = retention.holds()
    labels = retention.recording_labels({h.recording_id for h in holds})
    st.markdown("**Holds** · a recording on hold is kept whatever the policy says, until the hold is released.")
    for hold in holds:
        cols = st.columns([4, 1])
        cols[0].write(f"#{hold.id} · {labels.get(hold.recording_id, f'recording {hold.recording_id}')} · "
                      f"{hold.kind}, since {hold.placed_at:%d/%m/%Y}: {hold.reason}")
        if cols[1].button("Release", key=f"release-hold-{hold.id}"):
            retention.release_hold(hold.id)
            st.rerun()
    try:  # every session, or above a few hundred those a search finds (never all of them on every run)
        offered = {i: f"{r.recorded_on:%d/%m/%Y} · {r.label}" for i, r in session_choices(me, st, key="hold").items()
                   if r.files_deleted_at is None}  # fmt: skip
    except NoSessions:
        offered = {}
    with st.form("place_hold", clear_on_submit=True, border=True):
        recording = st.selectbox("Recording", list(offered), format_func=lambda i: offered[i], index=None,
                                 placeholder="Choose a recorded session")
        kind = st.selectbox("Kind of hold", HOLD_KINDS)
        reason = st.text_input("Reason (kept with the hold and in the audit log)")
        if st.form_submit_button("Place the hold", icon=":material/lock:"):
            try:
                if recording is None:
                    raise SessionRaterError("Choose the recording to keep.")
                placed = retention.place_hold(int(recording), kind, reason)
            except SessionRaterError as exc:
                st.error(str(exc))
            else:
                st.success(f"Hold #{placed.id} placed: the recording is kept until it is released.")


def _training_use(me: Permitted) -> None:
    """Clear a recording for training use (issue 10): only a cleared recording can become a
    benchmark or give exemplar clips. It shows a recorded group of offenders, so the page says so
    and who cleared each one, and when, is kept (and in the audit log)."""
    cal = Calibration(me)
    cleared = cal.training_clearances()
    try:
        recordings = session_choices(me, st, key="training")
    except NoSessions:
        recordings = {}
    for recording_id in set(cleared) - set(recordings):  # the cleared ones, named in the table
        try:
            recordings[recording_id] = me.recording(recording_id)
        except SessionRaterError:
            pass
    names = me.people_names()
    st.caption("A recording cleared for training use can become a benchmark session (for calibrating raters) and "
               "give exemplar clips. Each recording shows a group of offenders: clear one only where consent to "
               "training use is on file. A clearance is kept with who gave it and when, and cannot be undone here.")
    if cleared:
        st.dataframe(pd.DataFrame([{
            "session": recording_label(recordings[c.recording_id]) if c.recording_id in recordings else f"recording {c.recording_id}",
            "cleared by": names.get(c.cleared_by, "–") if c.cleared_by is not None else "–",
            "cleared on": f"{c.cleared_at:%d/%m/%Y %H:%M}", "note": c.note} for c in cleared.values()]),
            hide_index=True, width="stretch", key="training_clearances")  # fmt: skip
    else:
        st.caption("No recording is cleared for training use yet.")
    waiting = {i: r for i, r in recordings.items() if i not in cleared}
    with st.form("clear_for_training", clear_on_submit=True, border=True):
        recording_id = st.selectbox("Recording to clear for training use", list(waiting), index=None,
                                    format_func=lambda i: recording_label(waiting[i]), placeholder="Choose a recorded session")  # fmt: skip
        note = st.text_input("Note (e.g. where the consent to training use is kept)")
        sure = st.checkbox("I confirm this recording, which shows a recorded group of offenders, may be used for "
                           "training raters")  # fmt: skip
        if st.form_submit_button("Clear for training use", icon=":material/school:"):
            try:
                if recording_id is None:
                    raise SessionRaterError("Choose the recording to clear.")
                if not sure:
                    raise SessionRaterError("Confirm that the recording may be used for training: nothing was cleared.")
                done = cal.clear_for_training(int(recording_id), note.strip())
            except SessionRaterError as exc:
                st.error(plain(exc))
            else:
                st.success(plain(f"Cleared {recording_label(waiting[int(recording_id)])} for training use on "
                                 f"{done.cleared_at:%d/%m/%Y}: it can now be designated a benchmark."))  # fmt: skip


def _access_log(admin: RecordingsAdmin) -> None:
    table = admin.access_log_table(limit=500)
    if table.empty:
        st.caption("No recording has been played yet.")
        return
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "when": st.column_config.DatetimeColumn("When (UTC)", format="DD/MM/YYYY HH:mm:ss"),
        "who": "Who", "session": "Session", "result": "Result"})  # fmt: skip
    download_link("Download the access log (CSV)", "recording-access-log.csv")


def render() -> None:
    _, me = page_start()
    st.title("Recordings")
    if not allowed(me, Action.MANAGE_RECORDINGS):
        return
    admin = RecordingsAdmin(me)
    st.subheader("Add recordings", divider="gray")
    _ingest_folder(admin)
    st.subheader("Where sessions belong", divider="gray")
    st.caption("A session's area and team decide who sees it: the treatment managers of that team monitor it, "
               "the programme managers of that area see it in their reports. Its tutors and administrators always do.")
    _places(me)
    st.subheader("Captions", divider="gray")
    _captions(admin, me)
    st.subheader("Conversions", divider="gray")
    _jobs(admin)
    st.subheader("Missing files", divider="gray")
    _missing(admin)
    st.subheader("Due for deletion", divider="gray")
    _due_for_deletion(RetentionAdmin(me), me)
    st.subheader("Training use", divider="gray")
    _training_use(me)
    st.subheader("Access log", divider="gray")
    st.caption("Every request for a recording by someone signed in: who, which, when, and whether it played or "
               "was refused. (Requests from nobody signed in are refused and noted in the server's log only.)")
    _access_log(admin)
