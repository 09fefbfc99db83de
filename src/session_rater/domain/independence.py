"""Did raters assess each criterion independently? Straight-line forms, halo raters, kappa paradox.

The audit found that tutors "did not assess each performance criterion independently" (HMIP
2002, C1.5). Two signs of that can be read from the scores alone:

*Straight-line forms*
    A *form* is one rater's scoring of one (session, tutor). Its spread is the standard
    deviation of its item scores (population form, ``ddof=0``: it describes the form, it does
    not estimate anything). A form whose spread is below :data:`STRAIGHT_LINE_SD` over at least
    :data:`MIN_ITEMS_PER_FORM` scored items "barely varies".
*Halo raters*
    Across a rater's forms, each pair of items has a correlation (Pearson, over the forms where
    both items were scored). Their mean over item pairs is the rater's *mean inter-item
    correlation* (Clark & Watson 1995 call .15-.50 the healthy range for items of one scale).
    Above :data:`HALO_CORRELATION` the items move together as one impression: the halo effect
    (Thorndike 1920). It needs at least :data:`MIN_FORMS_FOR_CORRELATION` forms; with fewer the
    rater is reported as not assessed, saying why.

*The kappa paradox*
    When ratings pile up at one end of the scale, chance agreement computed from the marginals
    is high, so kappa-type coefficients are low although raters agree most of the time
    (Feinstein & Cicchetti 1990). Over-scoring does exactly this: everyone scores the top point.
    Where at least :data:`PILE_UP_SHARE` of the ratings sit at the top or the bottom point,
    :func:`kappa_paradox` reports Fleiss' kappa beside raw agreement and Gwet's AC2, whose
    chance correction depends far less on prevalence (Gwet 2008). Neither settles the matter
    alone: piled-up ratings can also mean raters agree little beyond the obvious, which kappa
    then rightly shows; the warning asks the reader to weigh both.

References
    Clark LA, Watson D (1995). Constructing validity: basic issues in objective scale
    development. Psychological Assessment 7:309-319.
    Feinstein AR, Cicchetti DV (1990). High agreement but low kappa: I. The problems of two
    paradoxes. J Clin Epidemiol 43:543-549.
    Gwet KL (2008). Computing inter-rater reliability and its variance in the presence of high
    agreement. Br J Math Stat Psychol 61:29-48.
    Thorndike EL (1920). A constant error in psychological ratings. J Appl Psychol 4:25-29.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from session_rater.domain.agreement import (
    AgreementError,
    AgreementResult,
    fleiss_kappa,
    gwet_ac,
    percent_agreement,
)
from session_rater.domain.bias import group_codes

FORM = ("rater_id", "rater_role", "session_id", "tutor_id")

STRAIGHT_LINE_SD = 0.3
"""Spread (sd of a form's item scores) below which a form 'barely varies'. On 20 items it lets
one item sit one point away from the rest (sd .22) but not two (sd .30): checklist items
measure different skills (manual adherence, open questions, handovers), so a delivery that is
uniformly scored on all of them is the exception, not the rule."""
MIN_ITEMS_PER_FORM = 5
"""A form with fewer scored items is not judged: four equal scores can happen honestly."""
HALO_CORRELATION = 0.9
"""Mean inter-item correlation above which a rater's items behave as one impression (halo):
nearly twice the top of Clark & Watson's (1995) .15-.50 range for items of one scale."""
MIN_FORMS_FOR_CORRELATION = 3
"""A correlation over two forms is always -1, 1 or undefined; three is the least that means
anything (and still little: the detail says over how many forms it was computed)."""
PILE_UP_SHARE = 0.7
"""Share of ratings at the top (or bottom) point from which kappa is warned about. With 70% in
one point chance agreement is at least .49, so kappa is at most about half of raw agreement's
distance from chance: agreement of .85 gives kappa near .70, of .75 near .50."""


@dataclass(frozen=True)
class RaterIndependence:
    """One rater's forms: how many barely vary, and the mean inter-item correlation."""

    rater_id: object
    rater_role: str
    n_forms: int
    n_forms_judged: int
    n_straight_line: int
    n_identical: int
    mean_inter_item_r: float | None
    n_item_pairs: int
    note: str | None

    @property
    def halo(self) -> bool:
        return self.mean_inter_item_r is not None and self.mean_inter_item_r > HALO_CORRELATION


@dataclass(frozen=True)
class HaloFlag:
    """A rater-level flag: ``straight_line``, ``halo`` or ``halo_not_assessed``."""

    rater_id: object
    rater_role: str
    flag: str
    detail: str


@dataclass(frozen=True)
class IndependenceReport:
    forms: pd.DataFrame  # one row per form: keys, n_items, sd, identical, straight_line
    raters: tuple[RaterIndependence, ...]
    flags: tuple[HaloFlag, ...]


@dataclass(frozen=True)
class PileUp:
    """The scale end where ratings pile up: ``end`` is "top" or "bottom"."""

    end: str
    point: float
    share: float
    n_ratings: int


@dataclass(frozen=True)
class KappaParadox:
    """Ratings pile up at one end: kappa beside raw agreement and Gwet's AC2."""

    pile_up: PileUp
    kappa: AgreementResult | None
    ac2: AgreementResult | None
    agreement: AgreementResult | None
    message: str


# -- forms -----------------------------------------------------------------------------------------


def form_spread(scores: pd.DataFrame, *, _forms: tuple[np.ndarray, int] | None = None) -> pd.DataFrame:
    """One row per form (rater, role, session, tutor): scored items, their sd, and the flags.

    ``straight_line`` is ``sd < STRAIGHT_LINE_SD`` on at least ``MIN_ITEMS_PER_FORM`` items;
    ``identical`` that every scored item has the same score. N/A items are not scores.
    """
    scored = _scored(scores)
    code, n_forms = _forms or group_codes(scored, FORM)
    x = scored["score"].to_numpy(dtype=float)
    n = np.bincount(code, minlength=n_forms)
    mean = np.bincount(code, weights=x, minlength=n_forms) / np.maximum(n, 1)
    centred = x - mean[code]
    sd = np.sqrt(np.bincount(code, weights=centred * centred, minlength=n_forms) / np.maximum(n, 1))
    low = np.full(n_forms, np.inf)
    high = np.full(n_forms, -np.inf)
    np.minimum.at(low, code, x)
    np.maximum.at(high, code, x)
    first = np.full(n_forms, len(scored))
    np.minimum.at(first, code, np.arange(len(scored)))
    forms = scored[list(FORM)].iloc[first].reset_index(drop=True)
    judged = n >= MIN_ITEMS_PER_FORM
    forms["n_items"] = n
    forms["sd"] = sd
    forms["identical"] = judged & (low == high)
    forms["straight_line"] = judged & (sd < STRAIGHT_LINE_SD)
    forms["judged"] = judged
    return forms


def inter_item_correlation(scores: pd.DataFrame, *, _forms: tuple[np.ndarray, int] | None = None) -> pd.DataFrame:
    """Per rater (id, role): number of forms, mean inter-item correlation, item pairs used, note.

    Pearson correlations over the rater's forms where both items were scored (pairwise
    complete); an item pair with fewer than three such forms, or on which one item never
    varies, has no correlation and is left out of the mean. ``mean_r`` is None, with a note
    saying why, where no pair has one.
    """
    scored = _scored(scores)
    form, n_forms = _forms or group_codes(scored, FORM)
    item, n_items = group_codes(scored, ("item_id",))
    x = np.full((n_forms, max(n_items, 1)), np.nan)
    x[form, item] = scored["score"].to_numpy(dtype=float)
    first = np.full(n_forms, len(scored))
    np.minimum.at(first, form, np.arange(len(scored)))
    keys = scored[["rater_id", "rater_role"]].iloc[first].reset_index(drop=True)
    rater, n_raters = group_codes(keys, ("rater_id", "rater_role"))  # forms are sorted by rater
    bounds = np.concatenate([[0], np.cumsum(np.bincount(rater, minlength=n_raters))])
    starts = bounds[:-1]
    rater_ids = keys["rater_id"].to_numpy()[starts] if n_raters else []
    roles = keys["rater_role"].astype(str).to_numpy()[starts] if n_raters else []
    present = (~np.isnan(x)).astype(float)
    x0 = np.nan_to_num(x)
    squares = x0 * x0
    rows = []
    for r in range(n_raters):
        block = slice(bounds[r], bounds[r + 1])
        mean_r, pairs, note = _mean_inter_item_r(x0[block], present[block], squares[block])
        rows.append(
            {
                "rater_id": _plain(rater_ids[r]),
                "rater_role": str(roles[r]),
                "n_forms": int(bounds[r + 1] - bounds[r]),
                "mean_r": mean_r,
                "n_item_pairs": pairs,
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=["rater_id", "rater_role", "n_forms", "mean_r", "n_item_pairs", "note"])


def _mean_inter_item_r(x: np.ndarray, present: np.ndarray, squares: np.ndarray) -> tuple[float | None, int, str | None]:
    """Mean pairwise-complete Pearson r over item pairs of one rater's forms (rows).

    ``x`` holds the scores with 0 where missing, ``present`` 1 where scored, ``squares`` x^2.
    """
    n_forms = x.shape[0]
    if n_forms < MIN_FORMS_FOR_CORRELATION:
        return (
            None,
            0,
            (
                f"{n_forms} form{'s' if n_forms != 1 else ''}: the inter-item correlation "
                f"needs at least {MIN_FORMS_FOR_CORRELATION}"
            ),
        )
    n = present.T @ present  # forms where both items were scored
    sx = x.T @ present  # sum of item i over forms where j was scored too
    sxx = squares.T @ present
    sxy = x.T @ x
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx * sx / n
        r = cov / np.sqrt(var_i * var_i.T)
    upper = np.triu_indices(x.shape[1], k=1)
    valid = (n[upper] >= MIN_FORMS_FOR_CORRELATION) & (var_i[upper] > 1e-12) & (var_i.T[upper] > 1e-12)
    values = np.clip(r[upper][valid], -1.0, 1.0)
    if values.size == 0:
        return None, 0, "no pair of items varies across the rater's forms: no correlation is defined"
    return float(values.mean()), int(values.size), None


def assess_independence(scores: pd.DataFrame) -> IndependenceReport:
    """Straight-line forms and halo raters, with one flag per rater and finding.

    Flags, most telling first: ``halo`` (mean inter-item correlation above
    :data:`HALO_CORRELATION`), ``straight_line`` (at least one form barely varies; the detail
    gives how many of the rater's forms), ``halo_not_assessed`` (too few forms to say).
    """
    scored = _scored(scores)
    codes = group_codes(scored, FORM)
    forms = form_spread(scored, _forms=codes)
    correlation = inter_item_correlation(scored, _forms=codes)
    per_rater = (
        forms.assign(rater_role=forms["rater_role"].astype(str))
        .groupby(["rater_id", "rater_role"], sort=False)
        .agg(
            n_forms=("n_items", "size"),
            judged=("judged", "sum"),
            straight=("straight_line", "sum"),
            identical=("identical", "sum"),
        )
        .reset_index()
        .merge(correlation.drop(columns="n_forms"), on=["rater_id", "rater_role"], how="left")
    )
    raters, flags = [], []
    for row in per_rater.itertuples(index=False):
        mean_r = None if pd.isna(row.mean_r) else float(row.mean_r)
        result = RaterIndependence(
            rater_id=_plain(row.rater_id),
            rater_role=str(row.rater_role),
            n_forms=int(row.n_forms),
            n_forms_judged=int(row.judged),
            n_straight_line=int(row.straight),
            n_identical=int(row.identical),
            mean_inter_item_r=mean_r,
            n_item_pairs=0 if pd.isna(row.n_item_pairs) else int(row.n_item_pairs),
            note=row.note if isinstance(row.note, str) else None,
        )
        raters.append(result)
        flags.extend(_flags(result))
    order = {"halo": 0, "straight_line": 1, "halo_not_assessed": 2}
    flags.sort(key=lambda f: order[f.flag])
    return IndependenceReport(forms, tuple(raters), tuple(flags))


def _flags(rater: RaterIndependence) -> list[HaloFlag]:
    out = []
    if rater.halo:
        out.append(
            HaloFlag(
                rater.rater_id,
                rater.rater_role,
                "halo",
                (
                    f"mean inter-item correlation {rater.mean_inter_item_r:.2f} over {rater.n_forms} forms "
                    f"({rater.n_item_pairs} item pairs), above {HALO_CORRELATION}: items scored as one impression"
                ),
            )
        )
    if rater.n_straight_line:
        share = rater.n_straight_line / max(rater.n_forms_judged, 1)
        out.append(
            HaloFlag(
                rater.rater_id,
                rater.rater_role,
                "straight_line",
                (
                    f"{rater.n_straight_line} of {rater.n_forms_judged} forms ({share:.0%}) barely vary "
                    f"(item scores' sd < {STRAIGHT_LINE_SD}); {rater.n_identical} give every item the same score"
                ),
            )
        )
    if rater.mean_inter_item_r is None and rater.note:
        out.append(HaloFlag(rater.rater_id, rater.rater_role, "halo_not_assessed", rater.note))
    return out


# -- the kappa paradox -----------------------------------------------------------------------------


def pile_up(values: ArrayLike, *, categories: ArrayLike | None = None) -> PileUp | None:
    """The end of the scale holding at least :data:`PILE_UP_SHARE` of the ratings, if any.

    The ends are the first and last of ``categories`` (or of the values observed).
    """
    x = np.asarray(values, dtype=float).ravel()
    x = x[~np.isnan(x)]
    if x.size == 0:
        return None
    points = np.sort(np.asarray(categories, dtype=float)) if categories is not None else np.unique(x)
    ends = [("top", float(points[-1])), ("bottom", float(points[0]))]
    shares = [(end, point, float(np.mean(x == point))) for end, point in ends]
    end, point, share = max(shares, key=lambda s: s[2])
    return PileUp(end, point, share, int(x.size)) if share >= PILE_UP_SHARE else None


def kappa_paradox(
    ratings: ArrayLike,
    *,
    categories: ArrayLike | None = None,
    kappa: AgreementResult | None = None,
    ac2: AgreementResult | None = None,
    agreement: AgreementResult | None = None,
) -> KappaParadox | None:
    """A warning where ratings pile up at one end of the scale, with AC2 beside kappa.

    ``ratings`` is units x raters (NaN missing). Figures already computed can be passed in;
    the others are computed here (Fleiss' kappa, Gwet's AC2 with quadratic weights, exact
    percent agreement). A figure that is not defined for the data is left out of the message.
    """
    matrix = np.asarray(ratings, dtype=float)
    found = pile_up(matrix, categories=categories)
    if found is None:
        return None
    kappa = kappa or _try(lambda: fleiss_kappa(matrix, categories=categories))
    ac2 = ac2 or _try(lambda: gwet_ac(matrix, weights="quadratic", categories=categories))
    agreement = agreement or _try(lambda: percent_agreement(matrix))
    parts = [f"{found.share:.0%} of {found.n_ratings:,} ratings are at the {found.end} point ({found.point:g})"]
    figures = []
    if kappa is not None:
        figures.append(f"Fleiss' kappa is {kappa.value:.2f}")
    if agreement is not None:
        figures.append(f"raters agree exactly on {agreement.value:.0%} of pairs")
    if figures:
        parts.append(" while ".join(figures))
    parts.append(
        "with ratings piled at one end, chance agreement is high and kappa-type coefficients can be "
        "low despite high raw agreement (the kappa paradox, Feinstein & Cicchetti 1990)"
    )
    if ac2 is not None:
        parts.append(
            f"Gwet's AC2 (quadratic weights), whose chance correction depends far less on how ratings "
            f"are spread, is {ac2.value:.2f} (Gwet 2008): read the figures together, not one alone"
        )
    return KappaParadox(found, kappa, ac2, agreement, "; ".join(parts) + ".")


def _try(compute: Callable[[], AgreementResult]) -> AgreementResult | None:
    try:
        return compute()
    except AgreementError:
        return None


def _scored(scores: pd.DataFrame) -> pd.DataFrame:
    """The rows with a score (N/A is not a score); the frame itself when every row has one."""
    present = scores["score"].notna()
    return scores if bool(present.all()) else scores.loc[present]


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


__all__ = [
    "HALO_CORRELATION",
    "MIN_FORMS_FOR_CORRELATION",
    "MIN_ITEMS_PER_FORM",
    "PILE_UP_SHARE",
    "STRAIGHT_LINE_SD",
    "HaloFlag",
    "IndependenceReport",
    "KappaParadox",
    "PileUp",
    "RaterIndependence",
    "assess_independence",
    "form_spread",
    "inter_item_correlation",
    "kappa_paradox",
    "pile_up",
]
