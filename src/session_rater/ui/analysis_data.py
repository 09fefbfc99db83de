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

import dataclasses
import datetime as dt
import threading
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from session_rater.domain.bias import PairedScores, pair_with_benchmark
from session_rater.usecases import reports
from session_rater.usecases.analysis import AnalysisReport, Dependability
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
    "dependability",
    "ItemInfo",
    "MonitoredSessions",
    "MonitoringPolicy",
    "capacity_label",
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
]

# -- the database ----------------------------------------------------------------------------------


def load_scores(svc: Services) -> pd.DataFrame:
    """Every submitted item score (N/A as NaN) with its recording's programme, site and date:
    the process's snapshot (shared by every visitor; never change it in place)."""
    return reports.load_scores(svc)


def _scores(svc: Services, key: tuple[object, ...]) -> pd.DataFrame:
    return Filters(*key).apply(reports.load_scores(svc))  # type: ignore[arg-type]


# -- the figures -----------------------------------------------------------------------------------


def report(svc: Services, filters: Filters) -> AnalysisReport:
    """:func:`analyse` of the filtered scores (master scores else external assessors as the
    reference; seed :data:`SEED`). Raises ScoreError when no score is left to analyse.

    ``report.dependability`` (the G study and Rasch model) is the one of
    :func:`dependability`: up to date on small data, else possibly of an earlier state of the
    scores (see :func:`dependability_status`), or None while it is first computed.
    """
    fast = _report(svc, fingerprint(svc), filters.key())
    return dataclasses.replace(fast, dependability=dependability(svc, filters).figures)


@st.cache_data(show_spinner="Computing agreement and over-scoring…", max_entries=32)
def _report(_svc: Services, stamp: tuple[object, ...], key: tuple[object, ...]) -> AnalysisReport:
    return reports.analyse_scores(_svc, _scores(_svc, key), dependability=False)


# -- the G study and Rasch model: computed once per state of the scores, off the page run when slow --

INLINE_SCORES = 60_000
"""Up to this many scores the G study and Rasch model are computed on the page run (well under a
second); above it, in a thread of their own, the page showing the last ones computed meanwhile."""


@dataclasses.dataclass(frozen=True)
class DependabilityStatus:
    """The dependability figures for a page: ``figures`` (None: none computed yet for these
    filters), the state of the scores they were computed on (``as_of``: when; ``since``: how
    many ratings were submitted or corrected after it), and whether newer ones are being computed."""

    figures: Dependability | None
    as_of: dt.datetime | None
    since: int
    computing: bool

    @property
    def current(self) -> bool:
        return self.figures is not None and self.since == 0 and not self.computing


@dataclasses.dataclass(frozen=True)
class _Computed:
    stamp: tuple[object, ...]
    figures: Dependability
    at: dt.datetime
    newest: str


_DEPENDABILITY: dict[tuple[object, ...], _Computed] = {}
_RUNNING: set[tuple[object, ...]] = set()
_DEP_LOCK = threading.Lock()


def dependability(svc: Services, filters: Filters) -> DependabilityStatus:
    """The G study and Rasch model of the filtered scores (see :class:`DependabilityStatus`)."""
    snapshot = scores_frame(svc)
    key = (svc.settings.database_url, filters.key())
    with _DEP_LOCK:
        done = _DEPENDABILITY.get(key)
    if done is not None and done.stamp == snapshot.stamp:
        return DependabilityStatus(done.figures, done.at, 0, False)
    scores = Filters(*filters.key()).apply(snapshot.frame)  # type: ignore[arg-type]
    newest = snapshot.newest
    if int(scores["score"].notna().sum()) <= INLINE_SCORES:
        figures = reports.dependability_of(scores)
        with _DEP_LOCK:
            _DEPENDABILITY[key] = _Computed(snapshot.stamp, figures, dt.datetime.now(dt.UTC), newest)
        return DependabilityStatus(figures, dt.datetime.now(dt.UTC), 0, False)
    with _DEP_LOCK:
        start = key not in _RUNNING
        _RUNNING.add(key)
    if start:
        threading.Thread(target=_compute, args=(key, snapshot.stamp, scores, newest), daemon=True,
                         name="dependability").start()  # fmt: skip
    if done is None:
        return DependabilityStatus(None, None, 0, True)
    return DependabilityStatus(done.figures, done.at, submissions_since(svc, done.newest), True)


def _compute(key: tuple[object, ...], stamp: tuple[object, ...], scores: pd.DataFrame, newest: str) -> None:
    try:
        figures = reports.dependability_of(scores)
        with _DEP_LOCK:
            _DEPENDABILITY[key] = _Computed(stamp, figures, dt.datetime.now(dt.UTC), newest)
    finally:
        with _DEP_LOCK:
            _RUNNING.discard(key)


def paired_scores(svc: Services, filters: Filters) -> PairedScores:
    """Each filtered score beside its reference score (for the Bland-Altman plot)."""
    return _paired(svc, fingerprint(svc), filters.key())


@st.cache_data(show_spinner=False, max_entries=32)
def _paired(_svc: Services, stamp: tuple[object, ...], key: tuple[object, ...]) -> PairedScores:
    return pair_with_benchmark(_scores(_svc, key))


def quarterly_bias(svc: Services, filters: Filters) -> pd.DataFrame:
    """Bias per capacity in each quarter the sessions were recorded in (see :func:`bias_by_period`)."""
    return _quarterly(svc, fingerprint(svc), filters.key())


@st.cache_data(show_spinner="Computing the trend by quarter…", max_entries=32)
def _quarterly(_svc: Services, stamp: tuple[object, ...], key: tuple[object, ...]) -> pd.DataFrame:
    return bias_by_period(_scores(_svc, key), "quarter")


def rater_agreement(svc: Services, filters: Filters) -> pd.DataFrame:
    """Every ordered pair of raters who scored the same items of the same session and tutor
    (see :func:`pairwise_agreement`)."""
    return _rater_agreement(svc, fingerprint(svc), filters.key())


@st.cache_data(show_spinner="Comparing raters pair by pair…", max_entries=32)
def _rater_agreement(_svc: Services, stamp: tuple[object, ...], key: tuple[object, ...]) -> pd.DataFrame:
    scores = _scores(_svc, key)
    return pairwise_agreement(scores, categories=scale_of(_svc, scores))


def monitored_sessions(svc: Services, filters: Filters) -> MonitoredSessions:
    """Sessions of each tutor with a treatment manager's submitted rating, per year (filtered)."""
    return _monitored(svc, fingerprint(svc), filters.key())


@st.cache_data(show_spinner=False, max_entries=32)
def _monitored(_svc: Services, stamp: tuple[object, ...], key: tuple[object, ...]) -> MonitoredSessions:
    return reports.monitored_sessions(_scores(_svc, key))


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
    date_from = chosen[0] if chosen else None
    date_to = chosen[1] if len(chosen) > 1 else None  # a range being picked: only its start so far
    rubric_id = None
    if len(rubric_ids) > 1:
        titles = {r.id: r.title for r in svc.rubrics()}
        rubric_id = cols[3].selectbox(
            "Checklist", rubric_ids, format_func=lambda r: titles.get(r, r), key=f"{key}:rubric",
            help="Items of different checklists cannot be compared: one at a time.",
        )  # fmt: skip
    return Filters(tuple(programmes), tuple(sites), date_from, date_to, rubric_id, areas), scores
