"""Rate: the recording plays beside the rubric; every entry is saved as it is made.

Player and form live in one ``st.fragment``: a score click reruns only the fragment, and the
player component keeps its <video> element (same ``src``), so the video never restarts,
reloads or is re-read. The video streams from the app's own signed route by URL, never from a
path or bytes given to st.video (that loads the whole file into server memory on every run).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import streamlit as st

from session_rater.ui.text import plain
from session_rater.domain.records import RatingView, RecordingView
from session_rater.domain.model import Capacity, format_moment, parse_moment
from session_rater.domain.rubric import RatedUnit, Rubric
from session_rater.errors import RecordingMissingError, SessionRaterError, StaleEditError
from session_rater.usecases.permitted import Permitted
from session_rater.ui.state import (
    refuse_unreachable,
    page_start,
    pick_by_id,
    query_int,
    recording_label,
)
from session_rater.ui.player import Item, Note, Thumbnail, data_uri, player
from session_rater.usecases.captions import captions_url

NA = "na"
ERROR_KEY = "rate_form_error"
FLASH_KEY = "rate_form_flash"


@dataclass(frozen=True)
class FormContext:
    """Everything that identifies one rater's form for one (session, tutor)."""

    recording_id: int
    tutor_id: int | None
    rater_id: int
    capacity: Capacity
    rubric: Rubric

    @property
    def prefix(self) -> str:
        return f"rate:{self.recording_id}:{self.tutor_id}:{self.rater_id}:{self.capacity.value}"

    def key(self, item_id: str, field: str) -> str:
        return f"{self.prefix}:{item_id}:{field}"

    @property
    def active_key(self) -> str:
        """Session-state key of the item the rater is working on (evidence moments go there)."""
        return f"{self.prefix}:active"


def _absolute(path: str) -> str:
    return urljoin(st.context.url or "http://localhost:8501/", path)


def _pick(me: Permitted) -> FormContext | None:
    """Which session, tutor, rubric and capacity this form is for (from the URL, else asked)."""
    svc, rater = me.svc, me.person
    recordings = me.recordings()
    if not recordings:
        st.info("No recorded sessions that you can rate yet: tutors see the sessions they delivered, "
                "treatment managers their teams', external assessors those assigned to them.")
        return None
    by_id = {r.id: r for r in recordings}
    if refuse_unreachable(me, by_id):
        return None
    recording_id = pick_by_id(
        st, "Session", by_id, recording_label, param="recording", required=False,
        placeholder="Choose a recorded session",
    )
    if recording_id is None:
        return None
    recording = by_id[recording_id]

    rubrics = svc.rubrics()
    if not rubrics:
        st.error("No valid rubric is available: fix the rubric files listed in the sidebar.")
        return None
    rubric = rubrics[0]
    if len(rubrics) > 1:
        rubric = st.selectbox("Checklist", rubrics, format_func=lambda r: f"{r.title} (v{r.version})")

    tutor_id: int | None = None
    if rubric.rated_unit is RatedUnit.TUTOR:
        tutors = {t.id: t for t in recording.tutors}
        wanted_tutor = query_int("tutor")
        tutor_id = st.radio(
            "Tutor rated",
            list(tutors),
            index=list(tutors).index(wanted_tutor) if wanted_tutor in tutors else 0,
            format_func=lambda tid: plain(tutors[tid].display_name),
            horizontal=True,
            help="Each co-tutor is rated separately on the same session.",
        )
        st.query_params["tutor"] = str(tutor_id)

    capacities = me.capacities(recording, tutor_id)
    if not capacities:
        st.warning(
            "You cannot rate this: tutors self-assess only their own delivery, and "
            "nobody monitors or assesses a session they delivered. Pick another tutor or session."
        )
        return None
    capacity = capacities[0]
    if len(capacities) > 1:
        capacity = st.radio("Rating as", capacities, format_func=lambda c: c.label, horizontal=True)

    existing = me.find_rating(recording_id, tutor_id, capacity)
    if existing is not None:
        rubric = svc.rubric_of(existing)  # the version it was started under, whatever the file says now
    return FormContext(recording_id, tutor_id, rater.id, capacity, rubric)


def _save(me: Permitted, ctx: FormContext, item_id: str, field: str) -> None:
    """Widget callback: write the one value that changed, at once."""
    value = st.session_state[ctx.key(item_id, field)]
    st.session_state.pop(ERROR_KEY, None)
    st.session_state[ctx.active_key] = item_id
    if field == "score":
        change = {"not_applicable": True} if value == NA else {"score": value, "not_applicable": False}
    elif field == "evidence":
        change = {"evidence": value or ""}
    else:
        try:
            change = {"moment_seconds": parse_moment(value or "")}
        except ValueError as exc:  # checked before anything is created or saved
            st.session_state[ERROR_KEY] = (item_id, f"Not saved: {exc}")
            return
    try:
        rating = me.start_rating(ctx.recording_id, ctx.tutor_id, ctx.capacity, ctx.rubric)
        saved = me.save_item(rating.id, item_id, **change, expected_revision=st.session_state.get(ctx.key(item_id, "rev")))
        st.session_state[ctx.key(item_id, "rev")] = saved.revision
    except StaleEditError as exc:
        _forget_item(ctx, item_id)  # show what is saved now
        st.session_state[ERROR_KEY] = (item_id, str(exc))
    except SessionRaterError as exc:
        st.session_state[ERROR_KEY] = (item_id, str(exc))


def _forget_item(ctx: FormContext, item_id: str) -> None:
    """Drop the item's widget state so the next run shows what the database holds."""
    for field in ("score", "evidence", "moment", "rev"):
        st.session_state.pop(ctx.key(item_id, field), None)


def _submit(me: Permitted, ctx: FormContext) -> None:
    st.session_state.pop(ERROR_KEY, None)
    try:
        rating = me.start_rating(ctx.recording_id, ctx.tutor_id, ctx.capacity, ctx.rubric)
        me.submit(rating.id, confirm_uniform=bool(st.session_state.get(f"{ctx.prefix}:uniform")))
    except SessionRaterError as exc:
        st.session_state[ERROR_KEY] = (None, str(exc))


def _correct(me: Permitted, ctx: FormContext, rating_id: int) -> None:
    st.session_state.pop(ERROR_KEY, None)
    try:
        me.correct(rating_id, st.session_state.get(f"{ctx.prefix}:reason", ""))
    except SessionRaterError as exc:
        st.session_state[ERROR_KEY] = (None, str(exc))
        return
    for item in ctx.rubric.items:
        _forget_item(ctx, item.id)


def _initial(key: str, value: object) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def _score_options(rubric: Rubric) -> list[object]:
    return [*rubric.scale_values, *([NA] if rubric.allow_not_applicable else [])]


def _store_stamp(me: Permitted, ctx: FormContext, seconds: float, item_id: str | None) -> None:
    """Save a moment stamped in the player for ``item_id`` and show it in that item's field."""
    if item_id is None:
        st.session_state[ERROR_KEY] = (None, "Score or annotate an item first: the moment is stored with that item's evidence.")
        return
    try:
        rating = me.start_rating(ctx.recording_id, ctx.tutor_id, ctx.capacity, ctx.rubric)
        saved = me.save_item(rating.id, item_id, moment_seconds=round(seconds, 1),
                             expected_revision=st.session_state.get(ctx.key(item_id, "rev")))
    except StaleEditError as exc:
        _forget_item(ctx, item_id)
        st.session_state[ERROR_KEY] = (item_id, str(exc))
        return
    except SessionRaterError as exc:
        st.session_state[ERROR_KEY] = (item_id, str(exc))
        return
    st.session_state[ctx.key(item_id, "moment")] = format_moment(seconds)
    st.session_state[ctx.key(item_id, "rev")] = saved.revision
    st.session_state[FLASH_KEY] = (
        f"Moment {format_moment(seconds)} added to “{ctx.rubric.item(item_id).title}”. "
        "Write what you saw in its evidence note."
    )


def _player(me: Permitted, ctx: FormContext, recording: RecordingView, scores: dict, locked: bool) -> None:  # type: ignore[type-arg]
    svc = me.svc
    try:
        svc.require_recording_file(recording)
    except RecordingMissingError as exc:
        st.error(plain(exc), icon=":material/videocam_off:")
        return
    playback = svc.playback(recording)
    if playback.status in {"queued", "converting"}:
        st.info(
            f"This recording is being converted so that browsers can play it ({playback.progress:.0%} done). "
            "You can score from notes meanwhile; reload the page to watch it when it is ready.",
            icon=":material/hourglass_top:",
        )
        return
    if not playback.playable:
        st.error(f"This recording cannot be played: {plain(playback.message or playback.status)}.", icon=":material/videocam_off:")
        return
    active = st.session_state.get(ctx.active_key)
    notes = [
        Note(t=s.moment_seconds, item=ctx.rubric.item(item_id).title, text=s.evidence)
        for item_id, s in scores.items()
        if s.moment_seconds is not None
    ]
    src, cookie = me.recording_url(recording)
    captions = captions_url(me, recording)
    stamp = player(
        key=f"player:{ctx.prefix}",
        recording_id=recording.id,
        src=_absolute(src),
        viewer_cookie=cookie,
        notes=notes,
        thumbnails=[Thumbnail(t, data_uri(path)) for t, path in svc.thumbnails(recording, playback)],
        active_item=active,
        active_title=ctx.rubric.item(active).title if active else None,
        can_stamp=not locked,
        read_only=locked,
        items=[Item(i.id, i.title, ctx.key(i.id, "box")) for i in ctx.rubric.items],
        captions_src=_absolute(captions) if captions else None,
    )
    if stamp is not None and not locked:
        # The item the player says the rater is working on (focus or last input in its box) wins.
        item_id = stamp.item_id if stamp.item_id in {i.id for i in ctx.rubric.items} else active
        if item_id is not None:
            st.session_state[ctx.active_key] = item_id
        _store_stamp(me, ctx, stamp.seconds, item_id)
        st.rerun(scope="fragment")  # show the new note under the player and in the form


@st.fragment
def rating_area(me: Permitted, ctx: FormContext, recording: RecordingView) -> None:
    """The player and the form: reruns on its own when anything in it changes."""
    left, right = st.columns([1.15, 1], gap="large")
    rating = me.find_rating(ctx.recording_id, ctx.tutor_id, ctx.capacity)
    locked = bool(rating and rating.is_submitted)
    with left:
        _player(me, ctx, recording, rating.scores if rating else {}, locked)
        _session_caption(recording, ctx)
    with right:
        _form(me, ctx, rating)


def _session_caption(recording: RecordingView, ctx: FormContext) -> None:
    st.markdown(f"**{plain(recording.label)}**")
    st.caption(
        f"{plain(recording.programme)} · {plain(recording.site)} · {recording.recorded_on:%d %B %Y}"
        + (" · catch-up session" if recording.is_catch_up else "")
        + f" · tutors: {', '.join(plain(t.display_name) for t in recording.tutors)}"
    )
    st.caption(f"{ctx.capacity.label} on *{plain(ctx.rubric.title)}* v{plain(ctx.rubric.version)}. Score each item on its own evidence.")


def _form(me: Permitted, ctx: FormContext, rating: RatingView | None) -> None:
    rubric = ctx.rubric
    scores = rating.scores if rating else {}
    locked = bool(rating and rating.is_submitted)
    answered = sum(1 for s in scores.values() if s.is_answered)
    total = len(rubric.items)
    error = st.session_state.get(ERROR_KEY)

    head = st.container()
    if FLASH_KEY in st.session_state:
        st.toast(st.session_state.pop(FLASH_KEY), icon=":material/schedule:")
    if rating is not None and not rating.is_blind:
        head.caption("Not blind: you saw other people's ratings of this session and tutor before rating it.")
    if rating is not None and rating.version > 1:
        head.info(f"Version {rating.version}, a correction: {plain(rating.correction_reason)}", icon=":material/history:")
    if locked:
        head.success(
            f"Submitted {rating.submitted_at:%d/%m/%Y %H:%M} and read-only. "  # type: ignore[union-attr]
            f"{ctx.capacity.label} on {plain(rubric.title)} v{plain(rubric.version)}."
        )
        with head.expander("Correct this rating"):
            st.caption("A correction is a new version: this one is kept, and the reason is recorded.")
            st.text_area("Reason for the correction", key=f"{ctx.prefix}:reason",
                         placeholder="e.g. I scored the wrong tutor on two items")
            st.button("Start a correction", on_click=_correct, args=(me, ctx, rating.id),  # type: ignore[union-attr]
                      icon=":material/edit:")
    else:
        head.progress(answered / total, text=f"{answered} of {total} items scored or N/A · saved as you go")
    options = _score_options(rubric)

    def label(value: object) -> str:
        return plain(rubric.not_applicable_label if value == NA else f"{value} · {rubric.point(int(value)).label}")  # type: ignore[call-overload]

    with st.container(height=640, border=False):
        for section in rubric.sections:
            st.subheader(plain(section.title), divider="gray")
            if section.description:
                st.caption(plain(section.description))
            for item in section.items:
                saved = scores.get(item.id)
                current = NA if saved and saved.not_applicable else (saved.score if saved else None)
                # Widgets start from what is saved; after that their state is the rater's, unless the
                # item was saved elsewhere (another tab or person) since this page last saw it.
                revision = saved.revision if saved else 0
                if st.session_state.get(ctx.key(item.id, "rev"), revision) != revision:
                    _forget_item(ctx, item.id)
                st.session_state[ctx.key(item.id, "rev")] = revision
                _initial(ctx.key(item.id, "score"), current)
                _initial(ctx.key(item.id, "evidence"), saved.evidence if saved else "")
                _initial(ctx.key(item.id, "moment"), format_moment(saved.moment_seconds) if saved else "")
                with st.container(border=True, key=ctx.key(item.id, "box")):  # the player finds the item by it
                    st.markdown(f"**{plain(item.title)}**")
                    if item.guidance:
                        st.caption(plain(item.guidance))
                    captions = [
                        "" if value == NA else plain(rubric.descriptor(item.id, int(value)))  # type: ignore[call-overload]
                        for value in options
                    ]
                    st.radio(
                        f"Score for {item.title}",  # collapsed: the accessible name only, never Markdown
                        options,
                        format_func=label,
                        captions=captions,
                        key=ctx.key(item.id, "score"),
                        on_change=_save,
                        args=(me, ctx, item.id, "score"),
                        disabled=locked,
                        label_visibility="collapsed",
                    )
                    left, right = st.columns([4, 1])
                    left.text_area(
                        "Evidence",
                        key=ctx.key(item.id, "evidence"),
                        on_change=_save,
                        args=(me, ctx, item.id, "evidence"),
                        disabled=locked,
                        height=68,
                        placeholder="What did you see or hear? (saved when you click away)",
                    )
                    right.text_input(
                        "At (m:ss)",
                        key=ctx.key(item.id, "moment"),
                        on_change=_save,
                        args=(me, ctx, item.id, "moment"),
                        disabled=locked,
                        placeholder="e.g. 12:05",
                        help="The moment in the recording this evidence refers to.",
                    )
                    if error and error[0] == item.id:
                        st.error(plain(error[1]))
    if error and error[0] is None:
        st.error(plain(error[1]))
    scored = [sc.score for sc in scores.values() if sc.score is not None]
    uniform = len(scored) > 1 and len(set(scored)) == 1
    if not locked and uniform and answered == total:
        st.warning(
            f"Every scored item has the same score ({scored[0]}). The inspectorate found raters who did not "
            "assess each criterion independently: check each item against its descriptors before submitting."
        )
        st.checkbox("I assessed each item on its own evidence; submit these scores", key=f"{ctx.prefix}:uniform")
    if not locked:
        st.button(
            "Submit rating",
            type="primary",
            disabled=answered < total or (uniform and not st.session_state.get(f"{ctx.prefix}:uniform")),
            on_click=_submit,
            args=(me, ctx),
            help="Locks the rating. Every item needs a score or N/A first.",
            width="stretch",
        )


def render() -> None:
    _, me = page_start()
    st.title("Rate a session")
    ctx = _pick(me)
    if ctx is None:
        return
    rating_area(me, ctx, me.recording(ctx.recording_id))
