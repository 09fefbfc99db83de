"""How dependable is a tutor's score, and how severe is each rater: the G study, D studies and
many-facet Rasch model of :mod:`session_rater.domain.dependability`, on the report's scores.

:func:`assess_dependability` takes the long scores (``session_id, tutor_id, rater_id, rater_role,
item_id, score``) and returns a :class:`Dependability`: every figure, or, where the data cannot
support one (a :class:`~session_rater.errors.DesignError`), a note saying why in plain words.
Nothing here fails for want of data: the rest of the report still comes out.

What goes in, and why:

* **self-assessments are left out** of both models. A tutor's score of their own delivery is
  not evidence of the delivery (the domain notes, C1.5), and each tutor rates only themselves,
  so their leniency is measured directly, and better, by the mean signed difference from the
  benchmark. The G study and the Rasch model describe delivery as monitors, external
  assessors and master scores see it.
* a **rater** is a person in one capacity (rater id and role), as on the report pages: a
  treatment manager who also records master scores is two raters;
* scores of a session **rated as a whole** (no tutor) are left out: the tutor is the object of
  measurement.

The G study uses the design the data support (:func:`~session_rater.domain.dependability.
tutor_dependability`): tutors ``t`` as the object, sessions ``s`` nested in tutors, raters
``r`` nested in sessions, items ``i`` crossed, ``(r:s:t) x i``; unbalanced data by Henderson's
Method 1. The D-study table gives ``Phi`` for 1-12 rated sessions per tutor and 1-3 raters per
session; when no session was scored by two raters, rater differences are part of the session
component and the table has the one-rater column only (each session as scored: by one rater).

Rasch fit flags: infit above :data:`INFIT_ERRATIC` (erratic: scores less predictable than the
model expects) or below :data:`INFIT_PREDICTABLE` (too predictable: straight-lining, central
tendency, halo), Linacre's (2002) range "productive for measurement".

References
    Brennan RL (2001). Generalizability Theory. New York: Springer.
    Linacre JM (1989). Many-Facet Rasch Measurement. Chicago: MESA Press.
    Linacre JM (2002). What do infit and outfit, mean-square and standardized mean? Rasch
    Measurement Transactions 16(2):878.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from session_rater.domain.bias import group_codes
from session_rater.domain.dependability import (
    DStudyRow,
    GStudy,
    MfrmResult,
    d_study_table,
    mfrm,
    sessions_needed,
    tutor_dependability,
)
from session_rater.domain.dependability.tutors import DEFAULT_RATERS, DEFAULT_SESSIONS, PHI_TARGET
from session_rater.errors import DesignError

SESSION, TUTOR, RATER, ITEM, SCORE = "session_id", "tutor_id", "rater_id", "item_id", "score"
SELF_ROLE = "tutor"
INFIT_ERRATIC = 1.5
INFIT_PREDICTABLE = 0.5
Z_95 = 1.959963984540054
"""Two-sided 95% normal quantile: a severity's interval is severity +- Z_95 x its model SE."""
MAX_SESSIONS = 100
"""Beyond this many rated sessions per tutor a target is reported as out of reach."""

FACET_WORDS = {SESSION: "sessions (s)", RATER: "raters (r)", ITEM: "items (i)"}
EFFECT_WORDS = {
    "t": "tutors: real differences in delivery (the signal)",
    "i": "items: some items are scored higher than others for everyone",
    "s:t": "sessions within a tutor: a tutor delivers better on some days",
    "ti": "tutor by item: a tutor's strengths differ from item to item",
    "r:s:t": "raters within a session: leniency or severity of the rater who scored it",
    "si:t": "session by item: a session went better on some items",
    "r:t": "raters within a tutor: leniency or severity of the rater",
}
FIT_FLAGS = {
    "erratic": f"erratic: infit above {INFIT_ERRATIC:g}, scores less predictable than the model expects",
    "too predictable": (
        f"too predictable: infit below {INFIT_PREDICTABLE:g}, scores vary less than expected "
        "(straight-lining, central tendency or halo)"
    ),
}


@dataclass(frozen=True)
class RaterFit:
    """One rater (a person in one capacity) in the many-facet Rasch model.

    ``severity`` in logits, positive = more severe, negative = more lenient than the average
    rater; ``se`` its model standard error; ``infit`` and ``outfit`` mean squares (1 = as the
    model expects); ``key`` the rater's key in ``analyse --format json``.
    """

    key: str
    rater_id: object
    rater_role: str
    severity: float
    se: float
    infit: float
    outfit: float
    extreme: str | None

    @property
    def interval(self) -> tuple[float, float]:
        """95% interval of the severity: severity +- 1.96 x its model standard error."""
        return (self.severity - Z_95 * self.se, self.severity + Z_95 * self.se)

    @property
    def flag(self) -> str | None:
        """``"erratic"`` (infit above 1.5), ``"too predictable"`` (below 0.5) or None."""
        if self.infit > INFIT_ERRATIC:
            return "erratic"
        if self.infit < INFIT_PREDICTABLE:
            return "too predictable"
        return None


@dataclass(frozen=True)
class TutorFit:
    """One tutor in the many-facet Rasch model: ``measure`` (logits) and its ``se``; the raw
    average of the scores the tutor got and the fair average (the expected score from a rater
    of average severity on an item of average difficulty), both in the scale's points."""

    tutor_id: object
    measure: float
    se: float
    fair_average: float
    raw_average: float

    @property
    def moved(self) -> float:
        """Fair minus raw average: negative when the tutor's raters were more lenient than average."""
        return self.fair_average - self.raw_average


@dataclass(frozen=True)
class Dependability:
    """The G study, its D studies and the Rasch model of a report's scores (see the module).

    ``gstudy`` None: ``gstudy_note`` says why; ``d_study`` empty: ``d_study_note`` says why (it
    also says so when only the one-rater column could be computed). ``sessions_needed`` maps
    raters per session to the fewest rated sessions per tutor for Phi >= .80 (None: not within
    :data:`MAX_SESSIONS`). ``model`` None: ``model_note`` says why.
    """

    n_scores: int
    n_self_assessment: int
    n_without_tutor: int
    gstudy: GStudy | None
    gstudy_note: str | None
    d_study: tuple[DStudyRow, ...]
    d_study_note: str | None
    sessions_needed: Mapping[int, int | None]
    model: MfrmResult | None
    model_note: str | None
    raters: tuple[RaterFit, ...]
    tutors: tuple[TutorFit, ...]

    @property
    def left_out(self) -> str:
        """The scores left out of both models, in words."""
        parts = [f"{self.n_self_assessment:,} self-assessment scores"]
        if self.n_without_tutor:
            parts.append(f"{self.n_without_tutor:,} scores of sessions rated as a whole (no tutor)")
        return " and ".join(parts)

    def phi(self, sessions: float, raters: int = 1) -> float | None:
        """Phi of a tutor's mean over ``sessions`` rated sessions, each scored by ``raters``
        raters; None where the G study could not give it."""
        gstudy = self.gstudy
        if gstudy is None or SESSION not in gstudy.facets or sessions <= 0:
            return None
        if RATER in gstudy.facets:
            return gstudy.d_study({SESSION: sessions, RATER: raters}).phi
        return gstudy.d_study({SESSION: sessions}).phi if raters == 1 else None

    @property
    def rater_columns(self) -> tuple[int, ...]:
        """Raters per session in the D-study table."""
        return tuple(sorted({row.raters for row in self.d_study}))


DEPENDABILITY_COLUMNS = ("session_id", "tutor_id", "rater_id", "rater_role", "item_id", "score")
"""The columns :func:`assess_dependability` reads."""


def assess_dependability(scores: pd.DataFrame) -> Dependability:
    """The G study, D studies and many-facet Rasch model of ``scores`` (see the module docstring).

    ``scores`` has the columns ``session_id, tutor_id, rater_id, rater_role, item_id, score``
    (``score`` NaN for not applicable). Never raises for want of data: a figure the data cannot
    give is None with a note.
    """
    scored = scores.loc[scores[SCORE].notna()]
    role = scored["rater_role"].astype(str)
    self_assessed = (role == SELF_ROLE).to_numpy()
    no_tutor = scored[TUTOR].isna().to_numpy()
    used = scored.loc[~self_assessed & ~no_tutor]
    n_self, n_no_tutor = int(self_assessed.sum()), int((no_tutor & ~self_assessed).sum())
    if used.empty:
        why = (
            "there are no scores other than tutors' self-assessments, which are left out: a tutor's own "
            "score is not evidence of their delivery (its leniency is measured by the mean signed difference from "
            "the benchmark)"
        )
        return Dependability(0, n_self, n_no_tutor, None, why, (), why, {}, None, why, (), ())
    frame = _model_frame(used)
    gstudy, gstudy_note, rows, d_note, needed = _g_study(frame)
    model, model_note, raters, tutors = _rasch(frame, used)
    return Dependability(
        n_scores=len(used),
        n_self_assessment=n_self,
        n_without_tutor=n_no_tutor,
        gstudy=gstudy,
        gstudy_note=gstudy_note,
        d_study=rows,
        d_study_note=d_note,
        sessions_needed=needed,
        model=model,
        model_note=model_note,
        raters=raters,
        tutors=tutors,
    )


def _model_frame(used: pd.DataFrame) -> pd.DataFrame:
    """The columns both models read; ``rater_id`` becomes the rater's key (a person in one capacity)."""
    codes, n = group_codes(used, (RATER, "rater_role"))
    first = np.full(n, len(codes))
    np.minimum.at(first, codes, np.arange(len(codes)))
    ids = used[RATER].to_numpy(dtype=object)[first]
    roles = used["rater_role"].astype(str).to_numpy(dtype=object)[first]
    several = pd.Series(ids).map(pd.Series(ids).value_counts()).to_numpy() > 1  # one id, several capacities
    keys = [f"{i}/{r}" if many else str(i) for i, r, many in zip(ids, roles, several, strict=True)]
    return pd.DataFrame(
        {
            SESSION: used[SESSION].to_numpy(),
            TUTOR: used[TUTOR].to_numpy(),
            RATER: pd.Categorical.from_codes(codes, categories=keys),
            ITEM: used[ITEM].to_numpy(),
            SCORE: used[SCORE].to_numpy(dtype=float),
            "rater_key_id": ids[codes],
            "rater_key_role": roles[codes],
        }
    )


def _g_study(
    frame: pd.DataFrame,
) -> tuple[GStudy | None, str | None, tuple[DStudyRow, ...], str | None, dict[int, int | None]]:
    try:
        gstudy = tutor_dependability(frame[[SESSION, TUTOR, RATER, ITEM, SCORE]])
    except DesignError as error:
        why = f"no G study could be estimated from these scores: {error}"
        return None, why, (), why, {}
    if SESSION not in gstudy.facets:
        why = (
            "no tutor has two rated sessions, so how a tutor's score varies from session to session cannot be "
            "estimated, and no D study over sessions is defined"
        )
        return gstudy, None, (), why, {}
    if RATER in gstudy.facets:
        table = d_study_table(gstudy)
        needed = {r: sessions_needed(gstudy, raters=r, max_sessions=MAX_SESSIONS) for r in DEFAULT_RATERS}
        return gstudy, None, table.rows, None, needed
    rows = []
    for n in DEFAULT_SESSIONS:
        d = gstudy.d_study({SESSION: n})
        rows.append(DStudyRow(int(n), 1, d.erho2, d.phi))
    needed_one = next((n for n in range(1, MAX_SESSIONS + 1) if gstudy.d_study({SESSION: n}).phi >= PHI_TARGET), None)
    why = (
        "no session was scored by two raters, so rater differences cannot be told apart from session "
        "differences (both are in the session component); the table gives one rater per session only. "
        "Double-rate some sessions to see what two or three raters would give"
    )
    return gstudy, None, tuple(rows), why, {1: needed_one}


def _rasch(
    frame: pd.DataFrame, used: pd.DataFrame
) -> tuple[MfrmResult | None, str | None, tuple[RaterFit, ...], tuple[TutorFit, ...]]:
    try:
        model = mfrm(frame, person=TUTOR, rater=RATER, item=ITEM, value=SCORE)
    except DesignError as error:
        return None, f"the many-facet Rasch model could not be fitted to these scores: {error}", (), ()
    who = frame.drop_duplicates(RATER).set_index(RATER)
    extreme = model.extreme.get("rater", {})
    raters = tuple(
        RaterFit(
            key=str(key),
            rater_id=who.at[key, "rater_key_id"],
            rater_role=str(who.at[key, "rater_key_role"]),
            severity=severity,
            se=model.rater_se[key],
            infit=model.rater_infit[key],
            outfit=model.rater_outfit[key],
            extreme=extreme.get(key),
        )
        for key, severity in model.rater_severity.items()
    )
    tutors = tuple(
        TutorFit(tutor, measure, model.person_se[tutor], model.person_fair_average[tutor],
                 model.person_raw_average[tutor])
        for tutor, measure in model.person_measure.items()
    )  # fmt: skip
    note = None if model.converged else f"the estimates are not final: {model.description}"
    return model, note, raters, tutors


def describe_design(gstudy: GStudy) -> str:
    """The G study's design and estimator in plain words."""
    facets = set(gstudy.facets)
    parts = ["tutors (t) are what is measured"]
    if SESSION in facets:
        parts.append("each tutor's rated sessions (s) are nested in the tutor")
    if RATER in facets:
        within = "session" if gstudy.nested.get(RATER) == SESSION else "tutor"
        parts.append(f"the raters (r) of each {within} are nested in it (a rater is drawn anew for each)")
    if ITEM in facets:
        parts.append("every rater scores the items (i) of the checklist")
    text = f"Design {gstudy.design}: " + "; ".join(parts) + "."
    if RATER not in facets:
        text += (" No session was scored by two raters, so rater differences are part of the session "
                 "component.")  # fmt: skip
    if SESSION not in facets:
        text += " No tutor has two rated sessions, so session differences are part of the error."
    if gstudy.estimator == "ANOVA":
        text += " The data are balanced: variance components by the ANOVA estimator (Brennan 2001, ch. 3)."
    else:
        text += (f" The data are unbalanced (tutors with different numbers of rated sessions, sessions with "
                 f"different numbers of raters, or scores missing): variance components by {gstudy.estimator} "
                 "(Henderson 1953; Brennan 2001, ch. 7).")  # fmt: skip
    return text


def sample_size_words(gstudy: GStudy) -> str:
    """The observed (effective) numbers of each facet: "2.7 rated sessions per tutor, ..."."""
    nested = {SESSION: "tutor", RATER: "session" if gstudy.nested.get(RATER) == SESSION else "tutor"}
    words = {SESSION: "rated sessions", RATER: "raters", ITEM: "items scored"}
    parts = []
    for facet, n in gstudy.sample_sizes.items():
        per = f" per {nested[facet]}" if facet in nested else ""
        parts.append(f"{n:.1f} {words.get(facet, facet)}{per}")
    return "on average " + ", ".join(parts)


def effect_words(effect: str) -> str:
    """What a variance component of the tutors' G study stands for, in words."""
    if effect.endswith(",e") or effect == "e":
        return "the rest: the highest-order interaction and unexplained error"
    return EFFECT_WORDS.get(effect, effect)


__all__ = [
    "DEPENDABILITY_COLUMNS",
    "FIT_FLAGS",
    "INFIT_ERRATIC",
    "INFIT_PREDICTABLE",
    "PHI_TARGET",
    "Dependability",
    "RaterFit",
    "TutorFit",
    "assess_dependability",
    "describe_design",
    "effect_words",
    "sample_size_words",
]
