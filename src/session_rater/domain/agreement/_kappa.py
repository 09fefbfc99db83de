"""Cohen's kappa (two raters) and Fleiss' kappa (many raters)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from session_rater.domain.agreement._common import (
    AgreementError,
    AgreementResult,
    Ratings,
    Scores,
    as_matrix,
    as_vector,
    check_confidence,
    closing,
    code_values,
    describe_weights,
    percent,
    t_interval,
    tally,
    weight_matrix,
    z_interval,
)
from session_rater.domain.agreement._multirater import (
    chance_corrected,
    classification_shares,
    gwet_variance,
    unit_agreement,
)


def cohen_kappa(
    a: Scores,
    b: Scores,
    *,
    weights: str | None = None,
    categories: ArrayLike | None = None,
    confidence: float = 0.95,
) -> AgreementResult:
    """Cohen's kappa between two raters who rated the same units, unweighted or weighted.

    Parameters
    ----------
    a, b
        The two raters' ratings of the same units, in the same order; NaN or None where a
        rater did not rate the unit. Only the units rated by both enter the coefficient.
    weights
        None (Cohen 1960), ``"linear"`` or ``"quadratic"`` (Cohen 1968), computed from the
        categories' values: ``w_kl = 1 - |x_k - x_l| / (x_max - x_min)``, squared terms for
        quadratic.
    categories
        The scale's points, e.g. ``[0, 1, 2, 3]``; the end points fix the weights' span.
    confidence
        Level of the interval.

    Notes
    -----
    With ``p_kl`` the share of units that ``a`` put in ``k`` and ``b`` in ``l``, and the
    marginal shares ``p_k.`` and ``p_.l``::

        p_o = sum_kl w_kl p_kl,   p_e = sum_kl w_kl p_k. p_.l,   kappa = (p_o - p_e) / (1 - p_e)

    The interval is ``kappa -/+ z se``, truncated to [-1, 1], with the large-sample
    variance of Fleiss, Cohen & Everitt (1969)::

        var = [sum_kl p_kl (w_kl - (wbar_k. + wbar_.l)(1 - kappa))^2 - (kappa - p_e (1 - kappa))^2]
              / (n (1 - p_e)^2)

    where ``wbar_k. = sum_l p_.l w_kl`` and ``wbar_.l = sum_k p_k. w_kl``. Results were checked
    against SAS PROC FREQ (kappa, ASE and limits) and R irrCAC's ``kappa2.table``.

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and
    Psychological Measurement, 20(1), 37-46.
    Cohen, J. (1968). Weighted kappa: nominal scale agreement with provision for scaled
    disagreement or partial credit. Psychological Bulletin, 70(4), 213-220.
    Fleiss, J. L., Cohen, J., & Everitt, B. S. (1969). Large sample standard errors of kappa
    and weighted kappa. Psychological Bulletin, 72(5), 323-327.
    """
    confidence = check_confidence(confidence)
    x, y = as_vector(a, name="a"), as_vector(b, name="b")
    if x.size != y.size:
        raise AgreementError(f"a and b must rate the same units; got {x.size} and {y.size} ratings")
    both = ~(np.isnan(x) | np.isnan(y))
    n = int(np.count_nonzero(both))
    if n == 0:
        raise AgreementError("no unit was rated by both raters")
    points, codes = code_values(np.concatenate([x[both], y[both]]), categories)
    q = points.size
    w = weight_matrix(points, weights)
    cells = codes[:n] * q + codes[n:]
    p = np.bincount(cells, minlength=q * q).reshape(q, q) / n
    p_row, p_col = p.sum(axis=1), p.sum(axis=0)
    p_o = float((w * p).sum())
    p_e = float(p_row @ w @ p_col)
    kappa = chance_corrected(p_o, p_e, "Cohen's kappa")
    w_row, w_col = w @ p_col, p_row @ w
    spread = (p * (w - (w_row[:, None] + w_col[None, :]) * (1 - kappa)) ** 2).sum()
    variance = (spread - (kappa - p_e * (1 - kappa)) ** 2) / (n * (1 - p_e) ** 2)
    se = math.sqrt(max(float(variance), 0.0))
    return AgreementResult(
        value=kappa,
        ci=z_interval(kappa, se, confidence),
        n_units=n,
        n_raters=2,
        method=(
            f"Cohen's kappa, {describe_weights(weights)} (Cohen 1960, 1968), on the units rated "
            f"by both raters; {percent(confidence)} CI from the large-sample variance of Fleiss, "
            "Cohen & Everitt (1969), normal approximation."
        ),
        observed=p_o,
        expected=p_e,
        se=se,
        confidence=confidence,
    )


def fleiss_kappa(ratings: Ratings, *, categories: ArrayLike | None = None, confidence: float = 0.95) -> AgreementResult:
    """Fleiss' kappa among many raters, allowing units rated by different numbers of raters.

    Parameters
    ----------
    ratings
        Units x raters; NaN or None for a missing rating. Raters need not be the same
        people from unit to unit.
    categories
        The scale's points; unused points count (they change nothing here, but a value
        outside them raises).
    confidence
        Level of the interval.

    Notes
    -----
    Fleiss (1971) with Gwet's (2014, ch. 5) generalisation to missing ratings::

        p_a = mean over units rated twice or more of sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))
        pi_k = mean over units rated at least once of r_ik / r_i
        p_e = sum_k pi_k^2,   kappa = (p_a - p_e) / (1 - p_e)

    With the same number of raters on every unit this is Fleiss' (1971) kappa. The interval
    uses Gwet's (2008; 2014) linearised variance with ``t(n - 1)``, truncated to [-1, 1]; it
    does not assume the raters independent, unlike Fleiss' standard error under the null.
    Checked against Fleiss (1971) and R irrCAC's ``fleiss.kappa.raw``.

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
    Bulletin, 76(5), 378-382.
    Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of
    high agreement. British Journal of Mathematical and Statistical Psychology, 61, 29-48.
    Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced Analytics.
    """
    confidence = check_confidence(confidence)
    table = tally(as_matrix(ratings), categories)
    counts, frequency = table.counts, table.frequency
    agreement = unit_agreement(counts, frequency)
    pi = classification_shares(counts, frequency)
    p_e = float(pi @ pi)
    kappa = chance_corrected(agreement.pa, p_e, "Fleiss' kappa")
    pe_i = counts @ pi / counts.sum(axis=1)
    variance = gwet_variance(agreement, kappa, p_e, pe_i)
    se = None if variance is None else math.sqrt(variance)
    ci = None if se is None else t_interval(kappa, se, agreement.n, confidence)
    return AgreementResult(
        value=kappa,
        ci=ci,
        n_units=agreement.n,
        n_raters=table.n_raters,
        method=(
            "Fleiss' kappa (Fleiss 1971), with Gwet's (2014) generalisation to units rated by "
            f"different numbers of raters; {percent(confidence)} CI from Gwet's (2008, 2014) "
            "linearised variance, t with n-1 df" + closing(ci, "fewer than two units")
        ),
        observed=agreement.pa,
        expected=p_e,
        se=se,
        confidence=confidence,
    )
