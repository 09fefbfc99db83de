"""Rate: the recording plays beside the rubric; every entry is saved as it is made.

Player and form live in one ``st.fragment``: a score click reruns only the fragment, and the
player component keeps its <video> element (same ``src``), so the video never restarts,
reloads or is re-read. The video streams from the app's own signed route by URL, never from a
path or bytes given to st.video (that loads the whole file into server memory on every run).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urljoin

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from session_rater.ui.text import plain
from session_rater.domain.records import RatingView, RecordingView
from session_rater.domain.model import Capacity, format_moment, parse_moment
from session_rater.domain.rubric import RatedUnit, Rubric
from session_rater.errors import RecordingMissingError, SessionRaterError, StaleEditError
from session_rater.usecases.permitted import Permitted
from session_rater.ui.state import (
    page_start,
    query_int,
)
from session_rater.ui.session_picker import NoSessions, pick_session
from session_rater.ui.player import Item, Note, Thumbnail, data_uri, player
from session_rater.ui import calibration_widgets
from session_rater.usecases.calibration import Calibration, Comparison
from session_rater.usecases.captions import captions_url
from session_rater.usecases.exemplar_clips import PlayableExemplar, playable_exemplars

NA = "na"
ERROR_KEY = "rate_form_error"
FLASH_KEY = "rate_form_flash"
RATING_CACHE = "rate_form_rating"
SUBMITTED_KEY = "rate_form_submitted"
SEEK_KEY = "rate_form_seek"  # (form prefix, seconds): a master's evidence moment asked for
# Fragments a callback reruns by name (st.rerun([...]) from a widget callback): a score click
# reruns its item, the progress line and the submit button, never the whole form or the player.
AREA_FRAGMENT = "rate-area"
PLAYER_FRAGMENT = "rate-player"
STATUS_FRAGMENT = "rate-status"
SUBMIT_FRAGMENT = "rate-submit"


def _item_fragment(item_id: str) -> str:
    return f"rate-item-{item_id}"


def _rerun_only(fragments: list[str]) -> None:
    """From a widget callback: rerun just these fragments, when the interaction was going to
    rerun a fragment anyway (a click in the browser reruns the fragment it was made in). A full
    run (a page load, or AppTest, which runs the whole script for every interaction) is left
    whole: it shows everything already."""
    ctx = get_script_run_ctx()
    if ctx is not None and ctx.fragment_ids_this_run:
        st.rerun(fragments)


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


def _tutor_key(recording_id: int) -> str:
    return f"rate:{recording_id}:tutor"


def _absolute(path: str) -> str:
    return urljoin(st.context.url or "http://localhost:8501/", path)


def _pick(me: Permitted) -> FormContext | None:
    """Which session, tutor, rubric and capacity this form is for (from the URL, else asked)."""
    svc, rater = me.svc, me.person
    try:
        picked = pick_session(me, st, key="rate", required=False, placeholder="Choose a recorded session")
    except NoSessions:
        st.info("No recorded sessions that you can rate yet: tutors see the sessions they delivered, "
                "treatment managers their teams', external assessors those assigned to them.")
        return None
    if picked is None:
        return None
    by_id, recording_id = picked
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
            index=list(tutors).index(wanted_tutor) if wanted_tutor in tutors and _tutor_key(recording_id) not in st.session_state else 0,
            key=_tutor_key(recording_id),
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
    """Widget callback: write the one value that changed, at once, then rerun only what shows it."""
    value = st.session_state[ctx.key(item_id, field)]
    shown = st.session_state.pop(ERROR_KEY, None)
    also = [_item_fragment(shown[0])] if shown and shown[0] not in (None, item_id) else []  # clear its message
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
            _rerun_only([_item_fragment(item_id), *also])
            return
    before = st.session_state.get(RATING_CACHE)
    before_rating = before[1] if before and before[0] == ctx.prefix else None
    _forget_rating()
    try:
        rating = me.start_rating(ctx.recording_id, ctx.tutor_id, ctx.capacity, ctx.rubric)
        saved = me.save_item(rating.id, item_id, **change, expected_revision=st.session_state.get(ctx.key(item_id, "rev")))
        st.session_state[ctx.key(item_id, "rev")] = saved.revision
    except StaleEditError as exc:
        _forget_item(ctx, item_id)  # show what is saved now
        st.session_state[ERROR_KEY] = (item_id, str(exc))
    except SessionRaterError as exc:
        st.session_state[ERROR_KEY] = (item_id, str(exc))
    # Rerun only what the change shows in. A score shows in its own item, which the click reruns
    # anyway; the submit button and the same-score warning change only once every item is
    # answered. A note or moment also shows under the player. Asking for more fragments than the
    # click's own costs a second script run (hundreds of ms on a busy machine), so it is asked
    # for only when needed.
    if field != "score":
        _rerun_only([_item_fragment(item_id), *also, PLAYER_FRAGMENT])
        return
    if before_rating is None:
        _rerun_only([_item_fragment(item_id), *also, SUBMIT_FRAGMENT])
        return
    answered = {i for i, sc in before_rating.scores.items() if sc.is_answered} | {item_id}
    if len(answered) == len(ctx.rubric.items):
        _rerun_only([_item_fragment(item_id), *also, SUBMIT_FRAGMENT])
    elif also:
        _rerun_only([_item_fragment(item_id), *also])


def _forget_rating() -> None:
    """The rating read once per interaction (see :func:`_rating`) is out of date."""
    st.session_state.pop(RATING_CACHE, None)


def _rating(me: Permitted, ctx: FormContext) -> RatingView | None:
    """This form's rating, read once per interaction: the item, progress, submit and player
    fragments that rerun after a click share one read instead of each querying it again."""
    cached = st.session_state.get(RATING_CACHE)
    if cached is not None and cached[0] == ctx.prefix:
        return cached[1]  # type: ignore[no-any-return]
    rating = me.find_rating(ctx.recording_id, ctx.tutor_id, ctx.capacity)
    st.session_state[RATING_CACHE] = (ctx.prefix, rating)
    return rating


def _forget_item(ctx: FormContext, item_id: str) -> None:
    """Drop the item's widget state so the next run shows what the database holds."""
    for field in ("score", "evidence", "moment", "rev"):
        st.session_state.pop(ctx.key(item_id, field), None)


def _submit(me: Permitted, ctx: FormContext) -> None:
    st.session_state.pop(ERROR_KEY, None)
    _forget_rating()
    try:
        rating = me.start_rating(ctx.recording_id, ctx.tutor_id, ctx.capacity, ctx.rubric)
        me.submit(rating.id, confirm_uniform=bool(st.session_state.get(f"{ctx.prefix}:uniform")))
        st.session_state[SUBMITTED_KEY] = ctx.prefix  # say what happens next, once, and focus it
    except SessionRaterError as exc:
        st.session_state[ERROR_KEY] = (None, str(exc))
    _rerun_only([AREA_FRAGMENT])  # everything is read-only now


def _rate_next(recording_id: int, tutor_id: int) -> None:
    """Open the co-tutor still to rate on the same session."""
    st.session_state[_tutor_key(recording_id)] = tutor_id
    st.query_params["tutor"] = str(tutor_id)
    _forget_rating()
    st.rerun()  # the whole page: another tutor is another form


def _correct(me: Permitted, ctx: FormContext, rating_id: int) -> None:
    st.session_state.pop(ERROR_KEY, None)
    _forget_rating()
    try:
        me.correct(rating_id, st.session_state.get(f"{ctx.prefix}:reason", ""))
    except SessionRaterError as exc:
        st.session_state[ERROR_KEY] = (None, str(exc))
    else:
        for item in ctx.rubric.items:
            _forget_item(ctx, item.id)
    _rerun_only([AREA_FRAGMENT])


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
    # The item's moment box exists already in this (fragment) run, so its state cannot be set:
    # dropped, it is shown from the database on the full run that follows.
    st.session_state.pop(ctx.key(item_id, "moment"), None)
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
    compared = _comparison(me, ctx) if locked else None
    if compared is not None:  # the master's evidence moments join the rater's own, once submitted
        notes += [Note(t=t, item=f"Master score {i.master}: {i.title}", text=i.rationale)
                  for i in compared.items for t in i.moments]  # fmt: skip
    seek = st.session_state.get(SEEK_KEY)
    start_at = seek[1] if seek and seek[0] == ctx.prefix else None
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
        start_at=start_at,
    )
    if stamp is not None and not locked:
        # The item the player says the rater is working on (focus or last input in its box) wins.
        item_id = stamp.item_id if stamp.item_id in {i.id for i in ctx.rubric.items} else active
        if item_id is not None:
            st.session_state[ctx.active_key] = item_id
        _store_stamp(me, ctx, stamp.seconds, item_id)
        _forget_rating()
        st.rerun()  # show the new note under the player and the moment in its item's field


@st.fragment(key=AREA_FRAGMENT)
def rating_area(me: Permitted, ctx: FormContext, recording: RecordingView) -> None:
    """The player and the form. Each part is a fragment of its own that a callback reruns by
    name: a score click reruns only its item, the progress line and the submit button (a few
    elements instead of the 23 items and the player), so it answers at once and the video is
    never touched."""
    _forget_rating()  # a run of the whole area reads the rating afresh
    st.html(STICKY_PLAYER_CSS)
    left, right = st.columns([1.15, 1], gap="large")
    with left, st.container(key="rate-player-column"):
        _player_fragment(me, ctx, recording)
        _session_caption(recording, ctx)
    with right:
        _form(me, ctx)


STICKY_PLAYER_CSS = """<style>
@media (min-width: 640px) {
  /* The player stays beside the item being scored while the page scrolls (columns side by side). */
  [data-testid="stColumn"]:has(> div > .st-key-rate-player-column),
  [data-testid="stColumn"]:has(.st-key-rate-player-column) {
    position: sticky; top: 3.75rem; align-self: flex-start; z-index: 2;
    max-height: calc(100vh - 4.5rem); overflow-y: auto; }
}
</style>"""


@st.fragment(key=PLAYER_FRAGMENT)
def _player_fragment(me: Permitted, ctx: FormContext, recording: RecordingView) -> None:
    rating = _rating(me, ctx)
    _player(me, ctx, recording, rating.scores if rating else {}, bool(rating and rating.is_submitted))


def _session_caption(recording: RecordingView, ctx: FormContext) -> None:
    st.markdown(f"**{plain(recording.label)}**")
    st.caption(
        f"{plain(recording.programme)} · {plain(recording.site)} · {recording.recorded_on:%d %B %Y}"
        + (" · catch-up session" if recording.is_catch_up else "")
        + f" · tutors: {', '.join(plain(t.display_name) for t in recording.tutors)}"
    )
    st.caption(f"{ctx.capacity.label} on *{plain(ctx.rubric.title)}* v{plain(ctx.rubric.version)}. Score each item on its own evidence.")


def _form(me: Permitted, ctx: FormContext) -> None:
    rubric = ctx.rubric
    _status(me, ctx)
    examples = _examples(me, rubric)
    for section in rubric.sections:
        st.subheader(plain(section.title), divider="gray")
        if section.description:
            st.caption(plain(section.description))
        for item in section.items:
            # One fragment per item, named by it, so that its own callbacks rerun only it.
            st.fragment(key=_item_fragment(item.id))(_item)(me, ctx, item.id, examples.get(item.id, []))
    _submit_area(me, ctx)


@st.fragment(key=STATUS_FRAGMENT)
def _status(me: Permitted, ctx: FormContext) -> None:
    rubric = ctx.rubric
    rating = _rating(me, ctx)
    if FLASH_KEY in st.session_state:
        st.toast(st.session_state.pop(FLASH_KEY), icon=":material/schedule:")
    if rating is not None and not rating.is_blind:
        st.caption("Not blind: you saw other people's ratings of this session and tutor before rating it.")
    if rating is not None and rating.version > 1:
        st.info(f"Version {rating.version}, a correction: {plain(rating.correction_reason)}", icon=":material/history:")
    if rating is not None and rating.is_submitted:
        if st.session_state.get(SUBMITTED_KEY) == ctx.prefix:
            _what_happens_next(me, ctx, rating)
        st.success(
            f"Submitted {rating.submitted_at:%d/%m/%Y %H:%M} and read-only. "  # type: ignore[union-attr]
            f"{ctx.capacity.label} on {plain(rubric.title)} v{plain(rubric.version)}."
        )
        _comparison_area(me, ctx, rating)
        with st.expander("Correct this rating"):
            st.caption("A correction is a new version: this one is kept, and the reason is recorded.")
            st.text_area("Reason for the correction", key=f"{ctx.prefix}:reason",
                         placeholder="e.g. I scored the wrong tutor on two items")
            st.button("Start a correction", on_click=_correct, args=(me, ctx, rating.id), icon=":material/edit:")
    else:
        st.caption(f"{len(rubric.items)} items. Each score and note is saved as you make it. Submit, at the "
                   "end, once every item has a score or N/A.")


def _comparison(me: Permitted, ctx: FormContext) -> Comparison | None:
    """The rater's scores beside the master scores, where this submitted form is of a master-scored
    benchmark (None otherwise, and always before the rater's own rating is submitted)."""
    try:
        return Calibration(me).comparison(ctx.recording_id, ctx.tutor_id)
    except SessionRaterError:
        return None


def _was_validity(me: Permitted, ctx: FormContext) -> bool:
    """Whether the form just submitted was a validity session (revealed by the submit)."""
    if ctx.capacity is not Capacity.MONITORING:
        return False
    try:
        return Calibration(me).was_validity(ctx.recording_id, ctx.tutor_id)
    except SessionRaterError:
        return False


def _comparison_area(me: Permitted, ctx: FormContext, rating: RatingView) -> None:
    cal = Calibration(me)
    try:
        just = st.session_state.get(SUBMITTED_KEY) == ctx.prefix
        found = cal.after_submit(rating) if just else cal.comparison(ctx.recording_id, ctx.tutor_id)
    except SessionRaterError:
        return
    if found is None:
        return
    try:
        status = cal.my_status()
    except SessionRaterError:  # e.g. the certification rule file is broken: the comparison still shows
        status = None
    calibration_widgets.comparison(found, status, key=ctx.prefix, on_seek=lambda t: _seek(ctx, t),
                                   today=dt.date.today())  # fmt: skip


def _seek(ctx: FormContext, seconds: float) -> None:
    """A master's evidence moment clicked: the session's player seeks there (its own fragment
    reruns; the video is the same element, so it only moves). A thousandth of a second is added
    on a second click of the same moment, so the player sees a new moment and seeks again."""
    before = st.session_state.get(SEEK_KEY)
    again = before is not None and before[0] == ctx.prefix and abs(before[1] - seconds) < 0.01
    st.session_state[SEEK_KEY] = (ctx.prefix, seconds + (0.001 if again and before[1] == seconds else 0.0))
    _rerun_only([PLAYER_FRAGMENT])


def _examples(me: Permitted, rubric: Rubric) -> dict[str, list[PlayableExemplar]]:
    """item -> the exemplar clips the rater may watch for it (see usecases.exemplar_clips)."""
    try:
        clips = playable_exemplars(me)
    except SessionRaterError:
        return {}
    found: dict[str, list[PlayableExemplar]] = {}
    items = {i.id for i in rubric.items}
    for clip in clips:
        if clip.item_id in items and clip.score in rubric.scale_values:
            found.setdefault(clip.item_id, []).append(clip)
    return found


NEXT_STEPS = {
    Capacity.MONITORING: "{tutor} sees your scores and evidence notes on the Supervision page, beside their "
                         "self-assessment, ready to discuss in supervision; it also counts in the monitoring "
                         "and over-scoring reports.",
    Capacity.SELF_ASSESSMENT: "Your treatment manager sees it beside their own monitoring rating on the "
                              "Supervision page, and it counts in the over-scoring reports.",
    Capacity.EXTERNAL: "It is the reference that tutors' and treatment managers' scores are compared with in the "
                       "over-scoring and agreement reports; the tutor sees it on the Supervision page.",
    Capacity.BENCHMARK: "It is the agreed master score that raters are calibrated against.",
}
VALIDITY_NEXT = ("This was a validity session: a benchmark session, its master scores agreed by a panel, put among "
                 "your monitoring work unannounced so that your scoring can be checked against them. Your scores "
                 "beside the master scores are below. It is not monitoring: {tutor} does not see it on the "
                 "Supervision page and it does not count towards monitoring coverage; it counts in your calibration "
                 "figures.")  # fmt: skip


def _what_happens_next(me: Permitted, ctx: FormContext, rating: RatingView) -> None:
    """After a submit: what happens to the rating, where the tutor sees it, and the co-tutor
    still to rate. The message takes the keyboard focus (and so a screen reader's attention)."""
    recording = me.recording(ctx.recording_id)
    names = {t.id: t.display_name for t in recording.tutors}
    tutor = plain(names.get(ctx.tutor_id, "The tutor")) if ctx.tutor_id is not None else "The tutors"
    validity = _was_validity(me, ctx)  # revealed by this submit; never before it
    with st.container(key="rate-result"):
        st.success(
            f"Rating submitted. {ctx.capacity.label} of {tutor if ctx.tutor_id is not None else 'the session'} "
            f"is now locked (a correction makes a new version). "
            + (VALIDITY_NEXT if validity else NEXT_STEPS[ctx.capacity]).format(tutor=tutor),
            icon=":material/task_alt:",
        )
        if validity:
            others = [plain(n) for t, n in names.items() if t != ctx.tutor_id]
            if others:
                st.info(f"{' and '.join(others)}, on this session too, need{'s' if len(others) == 1 else ''} no "
                        f"rating from you: the benchmark is of {tutor}'s delivery.", icon=":material/person:")  # fmt: skip
        for other in [] if validity else _co_tutors_to_rate(me, ctx, recording):
            st.info(f"{plain(names[other])}, the co-tutor on this session, still needs your rating.",
                    icon=":material/person:")
            st.button(f"Rate {plain(names[other])} next", key=f"{ctx.prefix}:next:{other}", type="primary",
                      on_click=_rate_next, args=(ctx.recording_id, other), icon=":material/arrow_forward:")
    st.html(FOCUS_RESULT_JS, unsafe_allow_javascript=True)


FOCUS_RESULT_JS = """<script>
(() => {
  const doc = window.parent && window.parent.document ? window.parent.document : document;
  const focus = (tries) => {
    const box = doc.querySelector('.st-key-rate-result');
    if (!box) { if (tries > 0) setTimeout(() => focus(tries - 1), 50); return; }
    box.setAttribute('tabindex', '-1');
    box.setAttribute('role', 'status');
    box.focus({preventScroll: false});
    box.scrollIntoView({block: 'center'});
  };
  focus(40);
})();
</script>"""


def _co_tutors_to_rate(me: Permitted, ctx: FormContext, recording: RecordingView) -> list[int]:
    """The session's other tutors that this rater may rate in this capacity and has not submitted."""
    if ctx.tutor_id is None:
        return []
    left = []
    for tutor in recording.tutors:
        if tutor.id == ctx.tutor_id or ctx.capacity not in me.capacities(recording, tutor.id):
            continue
        other = me.find_rating(ctx.recording_id, tutor.id, ctx.capacity)
        if other is None or not other.is_submitted:
            left.append(tutor.id)
    return left


def _label(rubric: Rubric, value: object) -> str:
    return plain(rubric.not_applicable_label if value == NA else f"{value} · {rubric.point(int(value)).label}")  # type: ignore[call-overload]


def _item(me: Permitted, ctx: FormContext, item_id: str, examples: list[PlayableExemplar] | None = None) -> None:
    """One item: its score, evidence note and moment (a fragment of its own: see _form)."""
    rubric = ctx.rubric
    item = rubric.item(item_id)
    rating = _rating(me, ctx)
    saved = rating.scores.get(item.id) if rating else None
    locked = bool(rating and rating.is_submitted)
    error = st.session_state.get(ERROR_KEY)
    options = _score_options(rubric)
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
            format_func=lambda value: _label(rubric, value),
            captions=captions,
            key=ctx.key(item.id, "score"),
            on_change=_save,
            args=(me, ctx, item.id, "score"),
            disabled=locked,
            label_visibility="collapsed",
        )
        for clip in examples or []:  # beside the descriptors: plays in a dialog, the session's video stays put
            calibration_widgets.example_button(rubric, item.title, clip, key=ctx.key(item.id, f"example-{clip.clip.id}"),
                                               src=_absolute(clip.src))  # fmt: skip
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
            placeholder="e.g. 12:05",  # no help icon: it would be one more tab stop on each of 23 items
        )
        if error and error[0] == item.id:
            st.error(plain(error[1]))


@st.fragment(key=SUBMIT_FRAGMENT)
def _submit_area(me: Permitted, ctx: FormContext) -> None:
    rating = _rating(me, ctx)
    scores = rating.scores if rating else {}
    locked = bool(rating and rating.is_submitted)
    answered = sum(1 for s in scores.values() if s.is_answered)
    total = len(ctx.rubric.items)
    error = st.session_state.get(ERROR_KEY)
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
        if answered < total:
            st.caption("Submit is enabled once every item has a score or N/A.")


def render() -> None:
    _, me = page_start()
    st.title("Rate a session")
    ctx = _pick(me)
    if ctx is None:
        return
    rating_area(me, ctx, me.recording(ctx.recording_id))
