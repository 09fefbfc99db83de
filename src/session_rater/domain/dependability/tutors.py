"""How dependable is a tutor's monitoring score? The G study and D studies of the app's scores.

The app's scores are long: ``session_id, tutor_id, rater_id, item_id, score``, one row per item
score (an item marked "not applicable" is a missing score). The question a treatment manager
asks is how many sessions of a tutor, each scored by how many raters, give a mean score that
can be trusted, both for ranking tutors (``E rho^2``) and against a fixed standard such as
"competent on average" (``Phi``, which also counts differences in rater leniency and item
difficulty as error).

The design (Brennan 2001 notation), with tutors ``t`` as the object of measurement:

    (r:s:t) x i

* sessions ``s`` are nested in tutors: a session is one tutor's delivery on one day, and a
  co-facilitated session gives each of its tutors a different tutor-session;
* raters ``r`` are nested in sessions: each recording is scored by one or two raters drawn
  from a pool, and the pool is large and rotated, so the rater who scores one session of a tutor
  is not the one who scores the next. The rater's leniency, and its interaction with the tutor
  and the session, are then error for the tutor's mean, which is what ``sigma^2(r:s:t)``
  carries. (If the same few raters scored every tutor, rater leniency would be a crossed facet;
  the many-facet Rasch model, :func:`~session_rater.domain.dependability.rasch.mfrm`, is the
  tool that estimates and removes it.)
* items ``i`` are crossed with everything: every rater scores every item of the checklist.

The data are unbalanced (tutors have different numbers of sessions, a sample of sessions is
double-scored, some items do not apply), so the components are estimated by Henderson's
Method 1. When the data cannot separate a facet, it is left out and the design name says so:
no double-scored session gives ``(s:t) x i``, rater variance then being part of the session
component; no tutor with two sessions gives ``(r:t) x i``; a single item drops ``i``.
Scores of self-assessments should not be passed in: they measure something else.

Reference: Brennan RL (2001). Generalizability Theory. New York: Springer (sections 4.3, 7.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from session_rater.domain.dependability.generalizability import GStudy, g_study
from session_rater.errors import DesignError

SESSION, TUTOR, RATER, ITEM, SCORE = "session_id", "tutor_id", "rater_id", "item_id", "score"
APP_COLUMNS = (SESSION, TUTOR, RATER, ITEM, SCORE)
DEFAULT_SESSIONS = range(1, 13)
DEFAULT_RATERS = (1, 2, 3)
PHI_TARGET = 0.80
"""Dependability usually asked of a score used for decisions about one person."""


def tutor_dependability(scores: pd.DataFrame) -> GStudy:
    """G study of tutors' scores in the design ``(r:s:t) x i`` (see the module docstring).

    ``scores`` has the columns ``session_id, tutor_id, rater_id, item_id, score``. Facets the
    data cannot separate are left out, as the module docstring says; ``GStudy.design`` names
    the design used.
    """
    if not isinstance(scores, pd.DataFrame):
        raise DesignError(f"scores must be a pandas DataFrame; got {type(scores).__name__}")
    missing = [c for c in APP_COLUMNS if c not in scores.columns]
    if missing:
        raise DesignError(f"scores have no column {', '.join(map(repr, missing))}; need {list(APP_COLUMNS)}")
    data = scores[scores[SCORE].notna()]
    facets, nested = [SESSION, RATER, ITEM], {SESSION: TUTOR, RATER: SESSION}
    if not _varies_within(data, RATER, [TUTOR, SESSION]):
        facets.remove(RATER)
        del nested[RATER]
    if not _varies_within(data, SESSION, [TUTOR]):
        facets.remove(SESSION)
        del nested[SESSION]
        if RATER in nested:
            nested[RATER] = TUTOR
    if data[ITEM].nunique() < 2:
        facets.remove(ITEM)
    if not facets:
        raise DesignError(
            "every tutor has a single score (one session, one rater, one item): nothing varies within a "
            "tutor, so no dependability can be estimated"
        )
    return g_study(data, object=TUTOR, facets=facets, nested=nested, value=SCORE)


def _varies_within(data: pd.DataFrame, column: str, within: list[str]) -> bool:
    return bool((data.groupby(within, sort=False)[column].nunique() > 1).any())


@dataclass(frozen=True)
class DStudyRow:
    """Coefficients for a tutor's mean over ``sessions`` sessions, each scored by ``raters`` raters."""

    sessions: int
    raters: int
    erho2: float
    phi: float


@dataclass(frozen=True)
class DStudyTable:
    """``E rho^2`` and ``Phi`` for every number of sessions and of raters per session asked for."""

    design: str
    rows: tuple[DStudyRow, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per (sessions, raters), columns ``sessions, raters, erho2, phi``."""
        return pd.DataFrame([vars(row) for row in self.rows], columns=["sessions", "raters", "erho2", "phi"])


def d_study_table(
    gstudy: GStudy,
    *,
    sessions: Iterable[int] = DEFAULT_SESSIONS,
    raters: Iterable[int] = DEFAULT_RATERS,
    session: str = SESSION,
    rater: str = RATER,
) -> DStudyTable:
    """D studies for ``sessions`` sessions per tutor x ``raters`` raters per session.

    Other facets (items) keep their observed numbers. Raises
    :class:`~session_rater.errors.DesignError` when the G study has no session or no rater
    facet (the data could not separate it), since the table would then be a guess.
    """
    _check_facets(gstudy, session, rater)
    rows = []
    for n_sessions in sessions:
        for n_raters in raters:
            d = gstudy.d_study({session: n_sessions, rater: n_raters})
            rows.append(DStudyRow(int(n_sessions), int(n_raters), d.erho2, d.phi))
    return DStudyTable(gstudy.design, tuple(rows))


def sessions_needed(
    gstudy: GStudy,
    *,
    raters: int,
    target: float = PHI_TARGET,
    max_sessions: int = 100,
    session: str = SESSION,
    rater: str = RATER,
) -> int | None:
    """The fewest sessions per tutor, each scored by ``raters`` raters, for ``Phi >= target``.

    ``None`` when even ``max_sessions`` sessions fall short: error that does not shrink with
    more sessions (item difficulty, tutor-item interaction) then keeps ``Phi`` below the target,
    and more items, not more sessions, would help.
    """
    _check_facets(gstudy, session, rater)
    if not 0 < target < 1:
        raise DesignError(f"target must be between 0 and 1; got {target!r}")
    if not isinstance(raters, int) or raters < 1:
        raise DesignError(f"raters must be a positive whole number; got {raters!r}")
    for n_sessions in range(1, max_sessions + 1):
        if gstudy.d_study({session: n_sessions, rater: raters}).phi >= target:
            return n_sessions
    return None


def _check_facets(gstudy: GStudy, session: str, rater: str) -> None:
    for facet, what in ((session, "tutor has two sessions"), (rater, "session was scored by two raters")):
        if facet not in gstudy.facets:
            raise DesignError(
                f"the G study ({gstudy.design}) has no facet {facet!r}: no {what} in the data, so "
                f"D studies over it are not defined"
            )
