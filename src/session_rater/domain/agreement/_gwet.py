"""Gwet's AC1/AC2 and percent agreement: the figures that stay readable when scores bunch up.

Over-scoring squeezes ratings into the top of the scale; kappa then falls even when raters
almost always agree (the "kappa paradox", Feinstein & Cicchetti 1990). AC1/AC2 and raw percent
agreement are reported beside kappa and alpha for that reason.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike

from session_rater.domain.agreement._common import (
    AgreementError,
    AgreementResult,
    Ratings,
    as_matrix,
    check_confidence,
    closing,
    describe_weights,
    percent,
    raters_used,
    t_interval,
    tally,
    weight_matrix,
)
from session_rater.domain.agreement._multirater import (
    chance_corrected,
    classification_shares,
    from_pairs,
    gwet_variance,
    unit_agreement,
)


def gwet_ac(
    ratings: Ratings,
    *,
    weights: str | None = None,
    categories: ArrayLike | None = None,
    confidence: float = 0.95,
) -> AgreementResult:
    """Gwet's AC1 (unweighted) or AC2 (linear or quadratic weights) among many raters.

    Parameters
    ----------
    ratings
        Units x raters; NaN or None for a missing rating.
    weights
        None for AC1; ``"linear"`` or ``"quadratic"`` for AC2, from the categories' values.
    categories
        The scale's points. They matter here: chance agreement depends on the number of
        categories ``q``, so declare the whole scale (e.g. ``[0, 1, 2, 3]``).
    confidence
        Level of the interval.

    Notes
    -----
    With ``p_a`` and ``pi_k`` as for Fleiss' kappa (Gwet's weighted form, see
    ``_multirater``) and ``T_w = sum_kl w_kl``::

        p_e = T_w / (q (q - 1)) * sum_k pi_k (1 - pi_k),   AC = (p_a - p_e) / (1 - p_e)

    The interval uses Gwet's linearised variance (2008; 2014, ch. 5), with
    ``p_e|i = T_w / (q (q - 1)) * sum_k r_ik (1 - pi_k) / r_i``, and ``t(n - 1)``, truncated
    to [-1, 1]. Values, standard errors and intervals were checked against R irrCAC's
    ``gwet.ac1.raw`` (Gwet's own package).

    References
    ----------
    Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of
    high agreement. British Journal of Mathematical and Statistical Psychology, 61, 29-48.
    Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced Analytics.
    """
    confidence = check_confidence(confidence)
    table = tally(as_matrix(ratings), categories)
    points, counts, frequency = table.points, table.counts, table.frequency
    q = points.size
    name = "Gwet's AC1" if weights is None else f"Gwet's AC2 ({weights} weights)"
    w = weight_matrix(points, weights)
    if q < 2:
        raise AgreementError(f"{name} needs at least two categories; only {points[0]:g} occurs")
    agreement = unit_agreement(counts, frequency, None if weights is None else w)
    pi = classification_shares(counts, frequency)
    scale = w.sum() / (q * (q - 1))
    p_e = float(scale * (pi * (1 - pi)).sum())
    ac = chance_corrected(agreement.pa, p_e, name)
    pe_i = scale * (counts @ (1 - pi)) / counts.sum(axis=1)
    variance = gwet_variance(agreement, ac, p_e, pe_i)
    se = None if variance is None else math.sqrt(variance)
    ci = None if se is None else t_interval(ac, se, agreement.n, confidence)
    return AgreementResult(
        value=ac,
        ci=ci,
        n_units=agreement.n,
        n_raters=table.n_raters,
        method=(
            f"{name} (Gwet 2008; Gwet 2014), {describe_weights(weights)}, {q} categories, "
            f"units with missing ratings kept; {percent(confidence)} CI from Gwet's linearised "
            "variance, t with n-1 df" + closing(ci, "fewer than two units")
        ),
        observed=agreement.pa,
        expected=p_e,
        se=se,
        confidence=confidence,
    )


def percent_agreement(ratings: Ratings, *, tolerance: float = 0, confidence: float = 0.95) -> AgreementResult:
    """The share of pairs of raters, within a unit, who agree exactly or within ``tolerance``.

    Parameters
    ----------
    ratings
        Units x raters; NaN or None for a missing rating.
    tolerance
        0 for exact agreement; 1 counts ratings one point apart as agreeing (the "within one
        point" convention of observation-rating calibration).
    confidence
        Level of the interval.

    Notes
    -----
    For each unit rated by ``r_i >= 2`` raters, ``p_a|i`` is the share of its
    ``r_i (r_i - 1) / 2`` pairs of ratings with ``|x - y| <= tolerance``; the figure is the
    mean of ``p_a|i`` over those units (Fleiss 1971's P-bar; Gwet 2014's ``p_a``), so every
    unit weighs the same whatever its number of raters. It is not chance-corrected.
    The interval uses Gwet's (2014) variance of ``p_a`` over units (the units, not the pairs,
    are the independent draws), ``t(n - 1)``, truncated to [0, 1]. Checked against R irrCAC's
    ``pa.coeff.raw``.

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
    Bulletin, 76(5), 378-382.
    Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced Analytics.
    """
    confidence = check_confidence(confidence)
    if not (isinstance(tolerance, numbers.Real) and math.isfinite(tolerance) and tolerance >= 0):
        raise AgreementError(f"tolerance must be a number >= 0; got {tolerance!r}")
    x = as_matrix(ratings)
    rated = ~np.isnan(x)
    kept = rated.any(axis=1)
    if not kept.any():
        raise AgreementError("there are no ratings: every value is missing")
    x, rated = np.asfortranarray(x[kept]), np.asfortranarray(rated[kept])
    tolerance = float(tolerance)
    margin = tolerance + 1e-9 * max(1.0, tolerance)  # 0.4 - 0.1 is 0.30000000000000004
    agreeing = np.zeros(x.shape[0])
    pairs = np.zeros(x.shape[0])
    for j in range(x.shape[1] - 1):
        for k in range(j + 1, x.shape[1]):
            both = rated[:, j] & rated[:, k]
            pairs += both
            agreeing += np.abs(x[:, j] - x[:, k]) <= margin  # False where either is NaN
    agreement = from_pairs(agreeing, pairs, np.ones(x.shape[0]))
    variance = gwet_variance(agreement, agreement.pa, 0.0, np.zeros(x.shape[0]))
    se = None if variance is None else math.sqrt(variance)
    ci = None if se is None else t_interval(agreement.pa, se, agreement.n, confidence, (0.0, 1.0))
    within = "exactly" if tolerance == 0 else f"within {tolerance:g} point(s)"
    return AgreementResult(
        value=agreement.pa,
        ci=ci,
        n_units=agreement.n,
        n_raters=raters_used(x),
        method=(
            f"Percent agreement: share of pairs of raters within a unit agreeing {within}, "
            "averaged over units rated at least twice (Fleiss 1971; Gwet 2014), not "
            f"chance-corrected; {percent(confidence)} CI from Gwet's (2014) variance over units, "
            "t with n-1 df" + closing(ci, "fewer than two units")
        ),
        observed=agreement.pa,
        se=se,
        confidence=confidence,
    )
