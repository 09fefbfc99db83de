"""The analysis pages' data, cached: the figures of :mod:`session_rater.usecases.reports`
held by ``st.cache_data``, and the filter bar above each report page.

* :func:`load_scores` builds the long-format scores (the columns ``session-rater export``
  writes, ``score`` NaN for "not applicable") with the recording's programme, site, date and
  quarter beside each row;
* :func:`report`, :func:`paired_scores`, :func:`quarterly_bias` and :func:`rater_agreement`
  compute the figures for one set of :class:`Filters`, with a fixed bootstrap seed so that a
  page shows the same intervals on every visit; the report holds the G study and Rasch model
  (``report.dependability``), and :func:`monitored_sessions` how many sessions of each tutor a
  treatment manager rated a year, for the reading of the D study.

The scores themselves are the process's incremental snapshot
(:mod:`session_rater.usecases.score_snapshot`: read once, then only what changed), shared by
every visitor and never pickled. Every figure is held by ``st.cache_data`` under the database,
the filters and the snapshot's stamp (:func:`fingerprint`), so a new submission or correction
is seen at the next page run while an unchanged database is never analysed twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from session_rater.domain.bias import PairedScores, pair_with_benchmark
from session_rater.errors import SessionRaterError
from session_rater.usecases import reports
from session_rater.usecases.apart import run_apart
from session_rater.usecases.analysis import AnalysisReport, Dependability, analyse
from session_rater.usecases.analysis.dependability import DEPENDABILITY_COLUMNS, assess_dependability
from session_rater.usecases.reports import (
    CAPACITY_LABELS,
    MAX_MATRIX_RATERS,
    N_BOOT,
    ROLE_ORDER,
    SEED,
    Filters,
    ItemInfo,
    MonitoredSessions,
    MonitoringPolicy,
    bias_by_period,
    capacity_label,
    dependability_reading,
    fingerprint,
    item_info,
    pairwise_agreement,
    people_names,
    rater_label,
    scale_of,
    verdict,
)
from session_rater.usecases.score_snapshot import scores_frame, submissions_since
from session_rater.usecases.services import Services

__all__ = [
    "CAPACITY_LABELS",
    "MAX_MATRIX_RATERS",
    "ROLE_ORDER",
    "N_BOOT",
    "SEED",
    "DependabilityStatus",
    "Filters",
    "FiguresStatus",
    "figures_status",
    "dependability",
    "ItemInfo",
    "MonitoredSessions",
    "MonitoringPolicy",
    "capacity_label",
    "default_filters",
    "filter_bar",
    "fingerprint",
    "item_info",
    "dependability_reading",
    "load_scores",
    "monitored_sessions",
    "monitoring_policy",
    "paired_scores",
    "people_names",
    "quarterly_bias",
    "rater_agreement",
    "rater_label",
    "report",
    "verdict",
    "warm_default_figures",
]

T = TypeVar("T")

# -- the database ----------------------------------------------------------------------------------


def load_scores(svc: Services) -> pd.DataFrame:
    """Every submitted item score (N/A as NaN) with its recording's programme, site and date:
    the process's snapshot (shared by every visitor; never change it in place)."""
    return reports.load_scores(svc)


# -- the figures -----------------------------------------------------------------------------------


# Up to INLINE_SCORES scores every figure is computed on the page run, as it always was (well under
# a second). Above it (national scale) a figure is computed once per state of the scores and kept;
# when the scores change (a submission, a correction), the page shows the figure it has, with when it
# was computed and how many ratings came since (figures_status), while the new one is computed in a
# thread beside it: no visitor waits for a recomputation. Only the first computation of a figure for
# a filter waits (the G study and Rasch model not even that: their sections say they are coming).

INLINE_SCORES = 60_000
"""Up to this many (filtered) scores, figures are computed on the page run."""
_KEEP = 32  # figures kept per kind (filters in use); the oldest goes first


@dataclasses.dataclass(frozen=True)
class FiguresStatus:
    """How current a page's figures are: ``as_of`` when they were computed, ``since`` how many
    ratings were submitted or corrected after the scores they were computed on, ``computing``
    whether newer ones are being computed now. ``current``: they are of the scores as they are."""

    as_of: dt.datetime | None
    since: int
    computing: bool

    @property
    def current(self) -> bool:
        return self.since == 0 and not self.computing


@dataclasses.dataclass(frozen=True)
class DependabilityStatus(FiguresStatus):
    """:class:`FiguresStatus` of the G study and Rasch model, with them (``figures`` None: not
    computed yet for these filters)."""

    figures: Dependability | None = None

    @property
    def current(self) -> bool:
        return self.figures is not None and super().current


@dataclasses.dataclass(frozen=True)
class _Computed:
    stamp: tuple[object, ...]
    value: object
    error: Exception | None
    at: dt.datetime
    newest: str


_LATEST: dict[tuple[object, ...], _Computed] = {}
_RUNNING: dict[tuple[object, ...], threading.Event] = {}  # set when the computation ends
_LOCK = threading.Lock()


def _latest(kind: str, svc: Services, filters: Filters, compute: Callable[[Services, pd.DataFrame], T], *,
            wait_first: bool = True, spinner: str | None = None) -> tuple[T | None, FiguresStatus]:  # fmt: skip
    """``compute(svc, filtered scores)``, kept per state of the scores (see the notes above)."""
    snapshot = scores_frame(svc)
    key = (kind, svc.settings.database_url, filters.key())
    with _LOCK:
        done = _LATEST.get(key)
    if done is None or done.stamp != snapshot.stamp:
        scores = filters.apply(snapshot.frame)
        if int(scores["score"].notna().sum()) <= INLINE_SCORES or (done is None and wait_first):
            on_page = spinner is not None and get_script_run_ctx(suppress_warning=True) is not None
            with st.spinner(spinner) if on_page else contextlib.nullcontext():  # type: ignore[arg-type]
                done = _wait_or_run(key, snapshot.stamp, snapshot.newest, svc, scores, compute)
        else:
            with _LOCK:
                start = key not in _RUNNING
                if start:
                    _RUNNING[key] = threading.Event()
            if start:
                threading.Thread(target=_run, args=(key, snapshot.stamp, snapshot.newest, svc, scores, compute),
                                 daemon=True, name=f"figures-{kind}").start()  # fmt: skip
            if done is None:
                return None, FiguresStatus(None, 0, True)
            status = FiguresStatus(done.at, submissions_since(svc, done.newest), True)
            if done.error is not None:
                raise done.error
            return done.value, status  # type: ignore[return-value]
    if done.error is not None:
        raise done.error
    return done.value, FiguresStatus(done.at, 0, False)  # type: ignore[return-value]


def _wait_or_run(key: tuple[object, ...], stamp: tuple[object, ...], newest: str, svc: Services, scores: pd.DataFrame,
                 compute: Callable[[Services, pd.DataFrame], object]) -> _Computed:  # fmt: skip
    """The figure of these scores, computed here, or, where it is being computed already (the
    app's warm-up, another visitor), waited for: at national scale one computation takes
    seconds of a core, and two of the same are never useful."""
    with _LOCK:
        running = _RUNNING.get(key)
        if running is None:
            _RUNNING[key] = threading.Event()
    if running is not None:
        running.wait()
        with _LOCK:
            done = _LATEST.get(key)
        if done is not None and done.stamp == stamp:
            return done
        with _LOCK:
            _RUNNING.setdefault(key, threading.Event())
    return _run(key, stamp, newest, svc, scores, compute)


def _run(key: tuple[object, ...], stamp: tuple[object, ...], newest: str, svc: Services, scores: pd.DataFrame,
         compute: Callable[[Services, pd.DataFrame], object]) -> _Computed:  # fmt: skip
    """Computes the figure and keeps it; the caller has put ``key`` in _RUNNING."""
    try:
        try:
            value, error = compute(svc, scores), None
        except (SessionRaterError, ValueError) as exc:  # "nothing to analyse": the page says so
            value, error = None, exc
        done = _Computed(stamp, value, error, dt.datetime.now(dt.UTC), newest)
        with _LOCK:
            _LATEST.pop(key, None)
            _LATEST[key] = done
            kinds = [k for k in _LATEST if k[0] == key[0]]
            for old in kinds[: max(len(kinds) - _KEEP, 0)]:
                del _LATEST[old]
        return done
    finally:
        with _LOCK:
            ended = _RUNNING.pop(key, None)
        if ended is not None:
            ended.set()


def figures_status(svc: Services, filters: Filters) -> FiguresStatus:
    """How current the page's main figures (:func:`report`) are for ``filters``."""
    return _latest("report", svc, filters, _FIGURES["report"], spinner=_REPORT_SPINNER)[1]


def report(svc: Services, filters: Filters) -> AnalysisReport:
    """:func:`analyse` of the filtered scores (master scores else external assessors as the
    reference; seed :data:`SEED`). Raises ScoreError when no score is left to analyse.

    ``report.dependability`` (the G study and Rasch model) is the one of :func:`dependability`:
    of the scores as they are on small data; at national scale possibly of an earlier state of
    them, or None while first computed.
    """
    fast, _ = _latest("report", svc, filters, _FIGURES["report"], spinner=_REPORT_SPINNER)
    assert fast is not None  # the first computation waits
    return dataclasses.replace(fast, dependability=dependability(svc, filters).figures)


_REPORT_SPINNER = "Computing agreement and over-scoring…"


@dataclasses.dataclass(frozen=True)
class _Figure:
    """A kind of figure the pages keep: ``compute(scores, **arguments(svc, scores))``, a pure
    function of the scores; ``arguments`` reads what it needs from the database here. ``apart``:
    above :data:`INLINE_SCORES` it runs in a worker process (:mod:`session_rater.usecases.apart`:
    minutes and most of a gigabyte at 3 million scores), given only ``columns`` of the answered
    scores."""

    compute: Callable[..., object]
    arguments: Callable[[Services, pd.DataFrame], dict[str, object]] = lambda _svc, _scores: {}
    apart: bool = False
    columns: tuple[str, ...] | None = None

    def __call__(self, svc: Services, scores: pd.DataFrame) -> object:
        arguments = self.arguments(svc, scores)
        if not self.apart or int(scores["score"].notna().sum()) <= INLINE_SCORES:
            return self.compute(scores, **arguments)
        data = scores if self.columns is None else scores.loc[scores["score"].notna(), list(self.columns)]
        return run_apart(self.compute, data, **arguments)


_FIGURES: dict[str, _Figure] = {
    "report": _Figure(analyse, lambda svc, scores: {**reports.analysis_arguments(svc, scores), "dependability": False}),
    "quarterly": _Figure(bias_by_period, lambda _svc, _scores: {"period": "quarter"}),
    "paired": _Figure(pair_with_benchmark),
    "pairs": _Figure(pairwise_agreement, lambda svc, scores: {"categories": scale_of(svc, scores)}),
    "monitored": _Figure(reports.monitored_sessions),
    "dependability": _Figure(assess_dependability, apart=True, columns=DEPENDABILITY_COLUMNS),
}
"""Each kind of figure the pages keep (see :func:`_latest`)."""


def dependability(svc: Services, filters: Filters) -> DependabilityStatus:
    """The G study and Rasch model of the filtered scores: never waited for above
    :data:`INLINE_SCORES` (see :class:`DependabilityStatus`)."""
    figures, status = _latest("dependability", svc, filters, _FIGURES["dependability"], wait_first=False)
    return DependabilityStatus(status.as_of, status.since, status.computing, figures)


def paired_scores(svc: Services, filters: Filters) -> PairedScores:
    """Each filtered score beside its reference score (for the Bland-Altman plot)."""
    value, _ = _latest("paired", svc, filters, _FIGURES["paired"])
    return value  # type: ignore[return-value]


def quarterly_bias(svc: Services, filters: Filters) -> pd.DataFrame:
    """Bias per capacity in each quarter the sessions were recorded in (see :func:`bias_by_period`)."""
    value, _ = _latest("quarterly", svc, filters, _FIGURES["quarterly"], spinner="Computing the trend by quarter…")
    return value  # type: ignore[return-value]


def rater_agreement(svc: Services, filters: Filters) -> pd.DataFrame:
    """Every ordered pair of raters who scored the same items of the same session and tutor
    (see :func:`pairwise_agreement`)."""
    value, _ = _latest("pairs", svc, filters, _FIGURES["pairs"], spinner="Comparing raters pair by pair…")
    return value  # type: ignore[return-value]


def monitored_sessions(svc: Services, filters: Filters) -> MonitoredSessions:
    """Sessions of each tutor with a treatment manager's submitted rating, per year (filtered)."""
    value, _ = _latest("monitored", svc, filters, _FIGURES["monitored"])
    return value  # type: ignore[return-value]


def monitoring_policy(svc: Services) -> MonitoringPolicy:
    """The monitoring percentage in force (read on every run: a policy edit shows at once)."""
    return reports.monitoring_policy(svc)


# -- the filter bar --------------------------------------------------------------------------------


def filter_bar(svc: Services, *, key: str, areas: tuple[str, ...] | None = None) -> tuple[Filters, pd.DataFrame]:
    """Programme, site, period (and checklist, where several were used) above a page.

    Returns the filters and every submitted score the viewer may see (of ``areas`` only, when
    given: a programme manager's), so the page can tell "no scores at all" from "none that
    match". ``key`` keeps each page's widgets apart.
    """
    scores = load_scores(svc)
    if areas is not None:
        scores = scores[scores["area"].isin(areas)].reset_index(drop=True)
    if scores.empty:
        return Filters(areas=areas), scores
    rubric_ids = sorted(scores["rubric_id"].unique())
    cols = st.columns([2, 2, 2.4] + ([2] if len(rubric_ids) > 1 else []))
    programmes = cols[0].multiselect(
        "Programme", sorted(scores["programme"].dropna().unique()), key=f"{key}:programmes", placeholder="All programmes"
    )
    sites = cols[1].multiselect(
        "Site", sorted(scores["site"].dropna().unique()), key=f"{key}:sites", placeholder="All sites"
    )
    first, last = scores["recorded_on"].min(), scores["recorded_on"].max()
    dates = cols[2].date_input(
        "Sessions recorded between",
        value=(first, last),
        format="DD/MM/YYYY",
        key=f"{key}:period",
        help="The period by the date each session was recorded, both ends included.",
    )
    chosen = tuple(dates) if isinstance(dates, Sequence) else (dates,)
    # The whole period is "no period" (the same scores): the default filters keep one key, the one
    # warm_default_figures computes ahead of the first visitor.
    date_from = chosen[0] if chosen and chosen[0] > first else None
    date_to = chosen[1] if len(chosen) > 1 and chosen[1] < last else None  # a range being picked: its start so far
    rubric_id = None
    if len(rubric_ids) > 1:
        titles = {r.id: r.title for r in svc.rubrics()}
        rubric_id = cols[3].selectbox(
            "Checklist", rubric_ids, format_func=lambda r: titles.get(r, r), key=f"{key}:rubric",
            help="Items of different checklists cannot be compared: one at a time.",
        )  # fmt: skip
    return Filters(tuple(programmes), tuple(sites), date_from, date_to, rubric_id, areas), scores


def default_filters(scores: pd.DataFrame, areas: tuple[str, ...] | None = None) -> Filters:
    """The filters :func:`filter_bar` starts with over ``scores`` (the viewer's): everything, of
    the first checklist where several were used."""
    rubric_ids = sorted(scores["rubric_id"].unique())
    return Filters(rubric_id=rubric_ids[0] if len(rubric_ids) > 1 else None, areas=areas)


def warm_default_figures(svc: Services) -> None:
    """Compute the figures Over-scoring and Agreement open with (every area, the default filters)
    now, so that their first visitor does not wait for them: the app process calls this after
    reading the snapshot as it starts. Does nothing on small data (figures take well under a
    second there) or when they are already kept."""
    snapshot = scores_frame(svc)
    if snapshot.frame.empty or int(snapshot.frame["score"].notna().sum()) <= INLINE_SCORES:
        return
    filters = default_filters(snapshot.frame)
    for kind, compute in _FIGURES.items():
        key = (kind, svc.settings.database_url, filters.key())
        with _LOCK:
            done = _LATEST.get(key)
        if done is None or done.stamp != snapshot.stamp:
            _wait_or_run(key, snapshot.stamp, snapshot.newest, svc, filters.apply(snapshot.frame), compute)
