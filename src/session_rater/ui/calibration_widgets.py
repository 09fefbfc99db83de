"""The rater's side of calibration (issue 10), as the Rate page and My work show it.

* :func:`comparison` after a rating of a master-scored benchmark is submitted: item by item the
  rater's score, the master score, the difference and the rationale, the master's evidence
  moments as buttons that seek the session's video there, the figures, and the rater's
  calibration status now.
* :func:`example_button`: "See an example" beside a score descriptor with an exemplar clip; the
  clip plays in a dialog of its own, so the session's video keeps its place.
* :func:`status_line`: the signed-in rater's calibration status and what to do about it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from session_rater.domain.calibration.records import CalibrationRound
from session_rater.domain.model import format_moment
from session_rater.domain.rubric import Rubric
from session_rater.ui.text import plain
from session_rater.usecases.calibration import Comparison, RaterCalibration
from session_rater.usecases.exemplar_clips import PlayableExemplar

EXPIRY_WARNING_DAYS = 30


def _signed(n: float) -> str:
    return f"{n:+g}".replace("-", "−") if n else "0"


def _rule_text(rule: object) -> str:
    within, bias = getattr(rule, "within_one_min", None), getattr(rule, "abs_bias_max", None)
    if within is None or bias is None:
        return ""
    return f"within one point on at least {within:.0%} of items and a mean difference of at most {bias:g} points either way"


def status_sentence(cal: RaterCalibration, today: dt.date) -> tuple[str, str]:
    """(kind, text): kind is "success", "warning", "error" or "info"."""
    s = cal.status
    figures = cal.figures
    said = ""
    if figures is not None:
        said = (f" Latest round: within one point on {figures.within_one:.0%} of items, exact on {figures.exact:.0%}, "
                f"mean difference {figures.mean_bias:+.2f} points.")  # fmt: skip
    rule = _rule_text(s.latest.rule) if s.latest else ""
    if s.status == "certified" and s.certified_until is not None:
        days = (s.certified_until - today).days
        if s.expiring_soon or days <= EXPIRY_WARNING_DAYS:
            return "warning", (f"Calibration: certified until {s.certified_until:%d/%m/%Y}, which is in "
                               f"{days} day{'' if days == 1 else 's'}. Ask your programme manager for a place in "
                               f"the next calibration round before then.{said}")  # fmt: skip
        return "success", f"Calibration: certified until {s.certified_until:%d/%m/%Y}.{said}"
    if s.status == "not_certified":
        return "error", (f"Calibration: not certified. Your latest calibration round did not meet the rule"
                         f"{' (' + rule + ')' if rule else ''}.{said} Look at where you differed from the master "
                         "scores (Rate page, on each benchmark you submitted) and ask your programme manager for "
                         "another round.")  # fmt: skip
    if s.status == "expired":
        until = f" on {s.certified_until:%d/%m/%Y}" if s.certified_until else ""
        return "error", (f"Calibration: your certification expired{until}. Ask your programme manager for a "
                         f"recalibration round.{said}")  # fmt: skip
    if s.status == "recalibration_due":
        since = f" since {s.drift_since:%d/%m/%Y}" if s.drift_since else ""
        until = f" (certified until {s.certified_until:%d/%m/%Y})" if s.certified_until else ""
        return "warning", (f"Calibration: recalibration due{until}. Your scores have drifted from the master "
                           f"scores{since}. Ask your programme manager for a recalibration round.{said}")  # fmt: skip
    return "info", ("Calibration: not attempted yet. You are certified by rating a calibration round's benchmark "
                    "sessions and matching the master scores closely enough; your programme manager adds you "
                    "to a round.")  # fmt: skip


ICONS = {"success": ":material/verified:", "warning": ":material/schedule:", "error": ":material/error:",
         "info": ":material/info:"}  # fmt: skip


def status_line(cal: RaterCalibration, today: dt.date, rounds: Sequence[CalibrationRound] = ()) -> None:
    """The rater's status, and the rounds they still have to complete (by when)."""
    kind, text = status_sentence(cal, today)
    for r in rounds:
        late = " (overdue)" if r.due_on < today else ""
        text += (f" Your calibration round “{r.title}” is due {r.due_on:%d/%m/%Y}{late}: rate its "
                 f"{len(r.benchmark_ids)} session{'' if len(r.benchmark_ids) == 1 else 's'} on the Rate page.")  # fmt: skip
    with st.container(key="calibration-status"):
        getattr(st, kind)(plain(text), icon=ICONS[kind])


def comparison(cmp: Comparison, status: RaterCalibration | None, *, key: str,
               on_seek: Callable[[float], None], today: dt.date) -> None:  # fmt: skip
    """The comparison after submitting a benchmark session's rating."""
    with st.container(key="rate-comparison", border=True):
        st.subheader("Your scores beside the master scores", anchor=False)
        st.caption("This session is a benchmark: a panel agreed its master scores. Where you differ, read the "
                   "rationale and watch the moments the panel points to.")
        f = cmp.figures
        st.markdown(f"**{f.exact:.0%}** exact agreement ({f.exact_count} of {f.n_items} items) · "
                    f"**{f.within_one:.0%}** within one point ({f.within_one_count}) · "
                    f"**{f.mean_bias:+.2f}** mean signed difference (your score minus the master's: above 0, "
                    "you scored higher)")  # fmt: skip
        table = pd.DataFrame(
            [{"Item": i.title,
              "Yours": "N/A" if i.rater is None else str(i.rater),
              "Master": "N/A" if i.master is None else str(i.master),
              "Difference": "" if i.difference is None else _signed(i.difference)}
             for i in cmp.items])  # fmt: skip
        st.table(table.set_index("Item"))
        explained = [i for i in cmp.items if i.rationale or i.moments]
        if explained:
            st.markdown("**The panel's rationale and evidence moments** (a moment's button plays the session "
                        "from there)")  # fmt: skip
        for i in explained:
            with st.container(border=True):
                diff = "" if i.difference is None else f", difference {_signed(i.difference)}"
                st.markdown(f"**{plain(i.title)}**: yours {'N/A' if i.rater is None else i.rater}, "
                            f"master {'N/A' if i.master is None else i.master}{diff}")  # fmt: skip
                if i.rationale:
                    st.caption(plain(i.rationale))
                if i.moments:
                    cols = st.columns(max(4, len(i.moments)))
                    for k, t in enumerate(i.moments):
                        cols[k].button(format_moment(t), key=f"{key}:seek:{i.item_id}:{k}", icon=":material/play_arrow:",
                                       on_click=on_seek, args=(t,),
                                       help=f"Play the session from {format_moment(t)}: {i.title}")  # fmt: skip
        if cmp.attempts:
            for attempt in cmp.attempts:
                if attempt.passed:
                    st.success(f"This completes your calibration round: passed on {attempt.completed_on:%d/%m/%Y}.",
                               icon=":material/verified:")  # fmt: skip
                else:
                    st.error(f"This completes your calibration round: not passed on {attempt.completed_on:%d/%m/%Y}.",
                             icon=":material/error:")  # fmt: skip
        if status is not None:
            kind, text = status_sentence(status, today)
            getattr(st, kind)(plain(text), icon=ICONS[kind])


def example_label(rubric: Rubric, clip: PlayableExemplar) -> str:
    return f"See an example of {clip.score} · {rubric.point(clip.score).label}"


def _play(clip: PlayableExemplar, src: str, title: str) -> None:
    if clip.clip.note:
        st.caption(plain(clip.clip.note))
    st.video(src)  # the clip alone, cut from the benchmark session (web.exemplars)
    st.caption(f"The clip runs from {format_moment(clip.clip.start_seconds)} to "
               f"{format_moment(clip.clip.end_seconds)} of a benchmark session. Close this to go back to your "
               "session: its video keeps its place.")  # fmt: skip


def example_button(rubric: Rubric, item_title: str, clip: PlayableExemplar, *, key: str, src: str) -> None:
    """A "See an example" button; clicked, the clip plays in a dialog (the page stays as it is)."""
    label = example_label(rubric, clip)
    if st.button(label, key=key, icon=":material/smart_display:", type="tertiary",
                 help=f"An exemplar clip of “{item_title}” scored {clip.score}"):  # fmt: skip
        title = f"{item_title}: {clip.score} · {rubric.point(clip.score).label}"
        st.dialog(title, width="large")(_play)(clip, src, title)
