"""Benchmarks (issue 10): the benchmark sessions and their state; designating a session cleared
for training use as a benchmark (reason, panel, lead); the panel lead's adjudication (where the
panel's blind ratings differ, the master score of each item with its rationale and evidence
moments, agreed and locked); a later change as a new version with its reason; the versions; and
exemplar clips of the scale.

Every decision is :class:`~session_rater.usecases.calibration.Calibration`'s: who may see master
scores (never before one's own rating of the benchmark is submitted), who locks them, what a
valid set is. The page shows its refusals and problems as they are given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd
import streamlit as st

from session_rater.domain.access import Action
from session_rater.domain.calibration import MasterScore
from session_rater.domain.calibration.records import BenchmarkState, BenchmarkView, MasterScoreSet
from session_rater.domain.rubric import Rubric
from session_rater.errors import AccessDeniedError, SessionRaterError
from session_rater.ui.state import page_start, pick_by_id, recording_label
from session_rater.ui.text import plain
from session_rater.usecases.calibration import Adjudication, Calibration
from session_rater.usecases.permitted import Permitted

__all__ = ["clock", "panels_of", "parse_moments", "render"]

STATE_LABELS = {
    BenchmarkState.PANEL_RATING: "Panel rating (blind)",
    BenchmarkState.ADJUDICATION: "Adjudication",
    BenchmarkState.MASTER_SCORED: "Master scored",
}
FLASH_KEY = "benchmarks:flash"
LOOK_KEY = "benchmarks:look"  # benchmark ids an overseer chose to look at (recorded as not blind)
NOT_APPLICABLE = "N/A"
_MOMENT = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")


def clock(seconds: float) -> str:
    """4:05, 1:02:03."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def parse_moment(text: str) -> float:
    """``m:ss`` or ``h:mm:ss`` as seconds; ValueError in words otherwise."""
    found = _MOMENT.match(text.strip())
    if not found or int(found.group(3)) > 59 or (found.group(1) and int(found.group(2)) > 59):
        raise ValueError(f"{text.strip()!r} is not a moment: write minutes and seconds, such as 4:05 (or 1:02:03)")
    hours, minutes, seconds = int(found.group(1) or 0), int(found.group(2)), int(found.group(3))
    return float(hours * 3600 + minutes * 60 + seconds)


def parse_moments(text: str) -> tuple[float, ...]:
    """Moments separated by commas (``4:05, 12:30``); an empty text is none."""
    return tuple(parse_moment(part) for part in text.split(",") if part.strip())


def panels_of(me: Permitted) -> list[BenchmarkView]:
    """The benchmarks whose panel ``me`` is on (the menu shows Benchmarks to them)."""
    try:
        return [b for b in Calibration(me).benchmarks() if me.person.id in b.panel]
    except SessionRaterError:
        return []


def _flash() -> None:
    if message := st.session_state.pop(FLASH_KEY, None):
        st.success(plain(message), icon=":material/check_circle:")


def _done(message: str) -> None:
    st.session_state[FLASH_KEY] = message
    st.rerun()


def _name(names: Mapping[int, str], person_id: int | None) -> str:
    return "–" if person_id is None else names.get(person_id, f"person {person_id}")


def _session_label(me: Permitted, bench: BenchmarkView) -> str:
    try:
        return recording_label(me.recording(bench.recording_id))
    except SessionRaterError:
        return f"session {bench.recording_id}"


def _session_words(me: Permitted, bench: BenchmarkView, names: Mapping[int, str]) -> str:
    return f"{_session_label(me, bench)} · tutor {_name(names, bench.tutor_id)}"


# -- the list ------------------------------------------------------------------------------------
def _benchmark_table(me: Permitted, benches: list[BenchmarkView], names: Mapping[int, str]) -> None:
    rows = [{
        "id": b.id,
        "session": _session_label(me, b),
        "tutor": _name(names, b.tutor_id),
        "state": STATE_LABELS.get(b.state, str(b.state)),
        "panel": ", ".join(_name(names, p) + (" (lead)" if p == b.panel_lead else "")
                           for p in sorted(b.panel, key=lambda p: p != b.panel_lead)),
        "designated": f"{b.designated_at:%d/%m/%Y} by {_name(names, b.designated_by)}",
        "reason": b.reason,
    } for b in benches]  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="benchmarks:table", column_config={
        "id": st.column_config.NumberColumn("Id", width=48),
        "session": st.column_config.TextColumn("Session", width="medium"), "tutor": "Tutor",
        "state": st.column_config.TextColumn("State", help="Panel rating: the panel rates it blind. Adjudication: "
                                             "every panel rating is in; the lead agrees the master scores. Master "
                                             "scored: locked (a change is a new version with a reason)."),
        "panel": "Panel", "designated": "Designated", "reason": "Why it is a benchmark",
    })  # fmt: skip


# -- adjudication --------------------------------------------------------------------------------
def _panel_table(adj: Adjudication, rubric: Rubric, names: Mapping[int, str]) -> pd.DataFrame:
    differ = {d.item_id for d in adj.disagreements}
    master = adj.master.by_item() if adj.master else {}
    rows = []
    for item_id in adj.item_ids:
        row: dict[str, object] = {"Item": _item_title(rubric, item_id)}
        for member, scores in adj.panel_scores.items():
            row[_name(names, member)] = _score_words(scores.get(item_id))
        row["Panel differs"] = "yes" if item_id in differ else ""
        if adj.master:
            row["Master score"] = _score_words(master.get(item_id))
        rows.append(row)
    return pd.DataFrame(rows)


def _score_words(score: int | None) -> str:
    return NOT_APPLICABLE if score is None else str(score)


def _item_title(rubric: Rubric, item_id: str) -> str:
    try:
        return rubric.item(item_id).title
    except (KeyError, ValueError, SessionRaterError):
        return item_id


def _disagreements(adj: Adjudication, rubric: Rubric, names: Mapping[int, str]) -> None:
    if not adj.disagreements:
        st.markdown("The panel gave the same score on every item.")
        return
    st.markdown(f"**The panel differs on {len(adj.disagreements)} of {len(adj.item_ids)} items.** A master score "
                "there needs a rationale: the reason it is what it is, for the raters who will be compared with it.")
    for d in adj.disagreements:
        lead_first = sorted(d.scores.items(), key=lambda ms: ms[0] != adj.benchmark.panel_lead)
        scores = "; ".join(f"{plain(_name(names, m))}: {_score_words(s)}" for m, s in lead_first)
        st.markdown(f"- {plain(_item_title(rubric, d.item_id))} ({plain(d.item_id)}): {scores}")


def _master_form(cal: Calibration, adj: Adjudication, rubric: Rubric, names: Mapping[int, str], *,
                 revising: bool) -> None:  # fmt: skip
    """One row per item: the master score, the evidence moments and the rationale; then either
    agree and lock (first time) or save a new version with its reason."""
    bench = adj.benchmark
    current = {m.item_id: m for m in adj.master.scores} if adj.master else {}
    differ = {d.item_id for d in adj.disagreements}
    options = [*rubric.scale_values, NOT_APPLICABLE]
    key = f"benchmarks:{bench.id}:{'revise' if revising else 'agree'}"
    with st.form(key, border=True):
        st.caption(f"Scale {rubric.minimum} to {rubric.maximum}, or {NOT_APPLICABLE} where the item does not apply. "
                   + ("" if revising else "Where the panel agreed, their score is filled in; choose one where it differed. ")
                   + "Evidence moments are times in the recording as minutes and seconds (4:05), several separated by "
                   "commas. A rationale is required where the panel differed.")
        entries = {}
        for item_id in adj.item_ids:
            was = current.get(item_id)
            panel = " · ".join(f"{_name(names, m)} {_score_words(s.get(item_id))}" for m, s in adj.panel_scores.items())
            label = _item_title(rubric, item_id)
            st.markdown(f"**{plain(label)}** · panel: {plain(panel)}" + (" · **the panel differs**" if item_id in differ else ""))
            score_col, moments_col, why_col = st.columns([1, 1, 3])
            default = None
            agreed = {s.get(item_id) for s in adj.panel_scores.values()}
            if was is not None:
                default = options.index(NOT_APPLICABLE if was.score is None else was.score)
            elif len(agreed) == 1:  # the panel agreed: their score to start from (the lead still locks it)
                default = options.index(NOT_APPLICABLE if None in agreed else next(iter(agreed)))
            score = score_col.selectbox(f"Master score: {label}", options, index=default, key=f"{key}:{item_id}:score",
                                        placeholder="Choose", label_visibility="collapsed")  # fmt: skip
            moments = moments_col.text_input(f"Evidence moments: {label}", key=f"{key}:{item_id}:moments",
                                             value=", ".join(clock(m) for m in was.moments) if was else "",
                                             placeholder="m:ss", label_visibility="collapsed")  # fmt: skip
            why = why_col.text_input(f"Rationale: {label}", key=f"{key}:{item_id}:why", value=was.rationale if was else "",
                                     placeholder="Rationale" + (" (required)" if item_id in differ else " (optional)"),
                                     label_visibility="collapsed")  # fmt: skip
            entries[item_id] = (score, moments, why)
        reason = st.text_input("Why the master scores change (kept with the new version)", key=f"{key}:reason") if revising else ""
        label = "Save the changed master scores as a new version" if revising else "Agree and lock the master scores"
        submitted = st.form_submit_button(label, type="primary", icon=":material/lock:")
    if not submitted:
        return
    masters, problems = [], []
    for item_id, (score, moments, why) in entries.items():
        if score is None:
            problems.append(f"{_item_title(rubric, item_id)}: no master score yet")
            continue
        try:
            found = parse_moments(moments or "")
        except ValueError as exc:
            problems.append(f"{_item_title(rubric, item_id)}: {exc}")
            continue
        masters.append(MasterScore(item_id, None if score == NOT_APPLICABLE else int(score), (why or "").strip(), found))
    if revising and not reason.strip():
        problems.insert(0, "say why the master scores change")
    if problems:
        st.error("Nothing was saved. " + plain("; ".join(problems)) + ".", icon=":material/error:")
        return
    try:
        saved = (cal.revise_master_scores(bench.id, masters, reason.strip()) if revising
                 else cal.agree_master_scores(bench.id, masters))  # fmt: skip
    except SessionRaterError as exc:
        st.error("Nothing was saved. " + plain(exc), icon=":material/error:")
        return
    _done(f"Master scores version {saved.version} of benchmark {bench.id} are locked.")


def _history(cal: Calibration, bench: BenchmarkView, rubric: Rubric, names: Mapping[int, str], look: bool) -> None:
    try:
        versions = cal.master_score_history(bench.id, look=look)
    except SessionRaterError as exc:
        st.info(plain(exc), icon=":material/lock:")
        return
    if not versions:
        st.caption("No master scores yet.")
        return
    rows = []
    previous: MasterScoreSet | None = None
    for v in versions:
        changed = ([_item_title(rubric, m.item_id) for m in v.scores if previous and previous.by_item().get(m.item_id) != m.score]
                   if previous else [])  # fmt: skip
        rows.append({"Version": v.version, "Agreed": f"{v.agreed_at:%d/%m/%Y %H:%M} by {_name(names, v.agreed_by)}",
                     "Reason": v.reason or "first agreed", "Scores changed": ", ".join(changed) or "–"})  # fmt: skip
        previous = v
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"benchmarks:{bench.id}:history")


def _master_table(master: MasterScoreSet, rubric: Rubric, names: Mapping[int, str]) -> None:
    st.markdown(f"**Master scores, version {master.version}**, agreed {master.agreed_at:%d/%m/%Y} by "
                f"{plain(_name(names, master.agreed_by))}" + (f": {plain(master.reason)}" if master.reason else "."))
    st.dataframe(pd.DataFrame([{
        "Item": _item_title(rubric, m.item_id), "Master score": _score_words(m.score), "Rationale": m.rationale,
        "Evidence moments": ", ".join(clock(t) for t in m.moments)} for m in master.scores]),
        hide_index=True, width="stretch", key=f"benchmarks:{master.benchmark_id}:master", column_config={
            "Item": st.column_config.TextColumn(width="medium"), "Master score": st.column_config.TextColumn(width="small"),
            "Rationale": st.column_config.TextColumn(width="large")})  # fmt: skip


def _adjudication(cal: Calibration, me: Permitted, bench: BenchmarkView, names: Mapping[int, str]) -> bool:
    """The adjudication, the master scores and their versions; False when this person may not
    see them yet (the use case's reason is shown)."""
    looked = set(st.session_state.get(LOOK_KEY, ()))
    look = bench.id in looked
    try:
        rubric = cal.rubric_of(bench.id)
        adj = cal.adjudication(bench.id, look=look)
    except AccessDeniedError as exc:
        st.info(plain(exc), icon=":material/visibility_off:")
        confirm = me.decide(Action.MANAGE_CALIBRATION) and "Confirm that you want to look" in str(exc)
        if confirm and st.button("Look, and be recorded as not blind for this session", icon=":material/visibility:",
                                 key=f"benchmarks:{bench.id}:look"):
            st.session_state[LOOK_KEY] = sorted(looked | {bench.id})
            st.rerun()
        return False
    except SessionRaterError as exc:
        st.info(plain(exc), icon=":material/hourglass_top:")
        return True
    lead = me.person.id == bench.panel_lead
    _disagreements(adj, rubric, names)
    with st.expander("Every item: each panel member's score" + (" and the master score" if adj.master else ""),
                     icon=":material/table:"):
        st.dataframe(_panel_table(adj, rubric, names), hide_index=True, width="stretch",
                     key=f"benchmarks:{bench.id}:panel")  # fmt: skip
    if adj.master is None:
        if lead:
            st.markdown("**Agree the master scores.** Once locked, a change is a new version with its reason.")
            _master_form(cal, adj, rubric, names, revising=False)
        else:
            st.caption(f"The panel lead, {plain(_name(names, bench.panel_lead))}, agrees and locks the master scores.")
        return True
    _master_table(adj.master, rubric, names)
    if lead or me.decide(Action.DESIGNATE_BENCHMARK, me.recording(bench.recording_id)):
        with st.expander("Change the master scores (a new version, with a reason)", icon=":material/edit:"):
            _master_form(cal, adj, rubric, names, revising=True)
    st.markdown("**Versions**")
    _history(cal, bench, rubric, names, look)
    return True


# -- exemplar clips ------------------------------------------------------------------------------
def _exemplars(cal: Calibration, me: Permitted, bench: BenchmarkView, names: Mapping[int, str]) -> None:
    try:
        rubric = cal.rubric_of(bench.id)
    except SessionRaterError as exc:
        st.info(plain(exc))
        return
    clips = [c for c in cal.exemplars() if c.benchmark_id == bench.id]
    if clips:
        st.dataframe(pd.DataFrame([{"Item": _item_title(rubric, c.item_id), "Score level": c.score,
                                    "From": clock(c.start_seconds), "To": clock(c.end_seconds), "What it shows": c.note,
                                    "Marked by": _name(names, c.created_by)} for c in clips]),
                     hide_index=True, width="stretch", key=f"benchmarks:{bench.id}:clips")  # fmt: skip
    else:
        st.caption("No exemplar clips from this session yet.")
    if me.person.id not in bench.panel:
        st.caption("Exemplar clips are marked by a member of the benchmark's panel.")
        return
    items = {i.id: i.title for i in rubric.items}
    with st.form(f"benchmarks:{bench.id}:clip", clear_on_submit=True, border=True):
        item = st.selectbox("Item", list(items), format_func=lambda i: items[i], index=None, placeholder="Choose an item")
        left, middle, right = st.columns(3)
        score = left.selectbox("Score level it shows", list(rubric.scale_values), index=None, placeholder="Choose")
        start = middle.text_input("Starts at (m:ss)", placeholder="4:05")
        end = right.text_input("Ends at (m:ss)", placeholder="4:40")
        note = st.text_input("What it shows")
        submitted = st.form_submit_button("Add the exemplar clip", icon=":material/movie_edit:")
    if not submitted:
        return
    try:
        if item is None or score is None:
            raise ValueError("choose the item and the score level the clip shows")
        begins, ends = parse_moment(start), parse_moment(end)
        if ends <= begins:
            raise ValueError("the clip ends after it starts")
        cal.add_exemplar(bench.id, item, int(score), begins, ends, note.strip())
    except (ValueError, SessionRaterError) as exc:
        st.error("The clip was not added: " + plain(exc) + ".", icon=":material/error:")
        return
    _done(f"Added the exemplar clip {clock(begins)} to {clock(ends)} ({items[item]}, score {score}).")


# -- designating -----------------------------------------------------------------------------------
def _designate(cal: Calibration, me: Permitted, names: Mapping[int, str]) -> None:
    cleared = cal.training_clearances()
    recordings = {rid: r for rid, r in cal.cleared_sessions().items() if r.tutors}
    if not recordings:
        st.caption("No recording in your reach is cleared for training use yet: an administrator clears one on the "
                   "Recordings page.")
        return
    recording_id = st.selectbox("Session (cleared for training use)", list(recordings), index=None,
                                format_func=lambda i: recording_label(recordings[i]), placeholder="Choose a session",
                                key="benchmarks:designate:recording")  # fmt: skip
    if recording_id is None:
        return
    clearance = cleared[recording_id]
    st.caption(plain(f"Cleared for training use by {_name(names, clearance.cleared_by)} on "
                     f"{clearance.cleared_at:%d/%m/%Y}" + (f": {clearance.note}" if clearance.note else ".")))
    recording = recordings[recording_id]
    tutors = {t.id: t.display_name for t in recording.tutors}
    delivered = set(tutors)
    people = {p: n for p, n in sorted(names.items(), key=lambda kv: kv[1]) if p not in delivered}
    with st.form("benchmarks:designate", border=True):
        tutor = st.selectbox("Tutor whose delivery is the benchmark", list(tutors), format_func=lambda i: tutors[i])
        reason = st.text_input("Why this session is a benchmark (typical, hard, spread across the scale)")
        panel = st.multiselect("Panel (two or more; they rate it blind)", list(people), format_func=lambda i: people[i],
                               placeholder="Choose the panel's members")  # fmt: skip
        lead = st.selectbox("Panel lead (agrees the master scores)", list(people), format_func=lambda i: people[i],
                            index=None, placeholder="Choose one of the panel")  # fmt: skip
        submitted = st.form_submit_button("Designate the benchmark", type="primary", icon=":material/verified:")
    if not submitted:
        return
    try:
        bench = cal.designate(recording_id, tutor, reason=reason, panel=panel,
                              panel_lead=lead if lead is not None else -1)  # fmt: skip
    except SessionRaterError as exc:
        st.error("Nothing was designated. " + plain(exc), icon=":material/error:")
        return
    _done(f"Benchmark {bench.id} designated: its panel rates it blind, in the capacity benchmark, on the Rate page.")


def render() -> None:
    _, me = page_start()
    st.title("Benchmarks")
    cal = Calibration(me)
    manager = bool(me.decide(Action.MANAGE_CALIBRATION))
    benches = cal.benchmarks()
    if not manager and not benches:
        st.info("Benchmark sessions are for programme managers, administrators and the members of a benchmark's "
                "panel.", icon=":material/lock:")
        return
    names = me.people_names()
    _flash()
    st.caption("A benchmark is a recorded session (and tutor) whose master scores a panel has agreed: raters calibrate "
               "against it. The panel rates it blind; where they differ, the panel lead agrees each item's master "
               "score with its rationale. Master scores are shown to nobody before their own rating of it is "
               "submitted (a programme manager or administrator who looks first is recorded as not blind).")
    if benches:
        _benchmark_table(me, benches, names)
    else:
        st.caption("No benchmark sessions yet.")
    if benches:
        st.subheader("Adjudication and master scores", divider="gray")
        by_id = {b.id: b for b in benches}
        chosen = pick_by_id(st, "Benchmark", by_id, lambda b: f"{b.id} · {_session_words(me, b, names)} · "
                            f"{STATE_LABELS.get(b.state, str(b.state)).lower()}", param="benchmark", required=True,
                            key="benchmarks:chosen")  # fmt: skip
        if chosen is not None:
            bench = by_id[chosen]
            may_see = _adjudication(cal, me, bench, names)
            st.subheader("Exemplar clips", divider="gray")
            st.caption("Short clips of this session that show a score level of an item, for raters learning the scale.")
            if may_see:
                _exemplars(cal, me, bench, names)
            else:  # a clip's score level is a master score
                st.caption("Shown once you may see this session's master scores.")
    if manager:
        st.subheader("Designate a benchmark", divider="gray")
        _designate(cal, me, names)
