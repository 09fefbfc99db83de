"""Bland-Altman bias and limits of agreement: is one rater's scoring systematically off?

Agreement coefficients say how closely raters agree; they do not say which way a rater errs.
Against a benchmark, the signed mean difference (the bias) does: positive means over-scoring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from session_rater.domain.agreement._common import AgreementError, Scores, as_vector, check_confidence, percent


@dataclass(frozen=True)
class BlandAltmanResult:
    """Bias (mean of ``a - b``) and limits of agreement ``bias -/+ multiplier * sd``.

    ``bias_ci``, ``lower_ci`` and ``upper_ci`` are the confidence intervals of the bias and
    of each limit, at level ``confidence``.
    """

    bias: float
    lower: float
    upper: float
    n: int
    sd: float
    bias_ci: tuple[float, float]
    lower_ci: tuple[float, float]
    upper_ci: tuple[float, float]
    multiplier: float
    confidence: float
    method: str


def bland_altman(a: Scores, b: Scores, *, multiplier: float = 1.96, confidence: float = 0.95) -> BlandAltmanResult:
    """Bias and 95% limits of agreement of ``a`` against ``b`` (Bland & Altman 1986).

    Parameters
    ----------
    a, b
        Paired scores of the same units: ``a`` the rater under study, ``b`` the reference
        (benchmark). NaN or None where either is missing; such pairs are left out.
    multiplier
        The limits are ``bias -/+ multiplier * sd``: 1.96 for 95% limits; Bland & Altman's
        1986 worked example used 2.
    confidence
        Level of the intervals of the bias and of the limits.

    Notes
    -----
    With ``d = a - b`` over ``n`` pairs, ``bias = mean(d)`` and ``sd`` its standard deviation
    (``n - 1`` denominator). The bias's interval is ``bias -/+ t(n - 1) sd / sqrt(n)``; each
    limit's is ``limit -/+ t(n - 1) sd sqrt(3 / n)``, the approximate standard error of
    Bland & Altman (1986, 1999). It assumes the differences are roughly normal and do not
    change with the level of the score; check the plot of ``d`` against ``(a + b) / 2``.

    References
    ----------
    Bland, J. M., & Altman, D. G. (1986). Statistical methods for assessing agreement between
    two methods of clinical measurement. The Lancet, 327(8476), 307-310.
    Bland, J. M., & Altman, D. G. (1999). Measuring agreement in method comparison studies.
    Statistical Methods in Medical Research, 8(2), 135-160.
    """
    confidence = check_confidence(confidence)
    if not (math.isfinite(multiplier) and multiplier > 0):
        raise AgreementError(f"multiplier must be a positive number; got {multiplier!r}")
    x, y = as_vector(a, name="a"), as_vector(b, name="b")
    if x.size != y.size:
        raise AgreementError(f"a and b must be paired scores of the same units; got {x.size} and {y.size}")
    d = (x - y)[~np.isnan(x) & ~np.isnan(y)]
    n = int(d.size)
    if n < 2:
        raise AgreementError(f"Bland-Altman limits need at least two complete pairs; got {n}")
    bias = float(d.mean())
    sd = float(d.std(ddof=1))
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    lower, upper = bias - multiplier * sd, bias + multiplier * sd
    half_bias = t * sd / math.sqrt(n)
    half_limit = t * sd * math.sqrt(3 / n)
    return BlandAltmanResult(
        bias=bias,
        lower=lower,
        upper=upper,
        n=n,
        sd=sd,
        bias_ci=(bias - half_bias, bias + half_bias),
        lower_ci=(lower - half_limit, lower + half_limit),
        upper_ci=(upper - half_limit, upper + half_limit),
        multiplier=float(multiplier),
        confidence=confidence,
        method=(
            f"Bland-Altman bias (mean of a - b) and limits of agreement bias -/+ {multiplier:g} SD "
            f"(Bland & Altman 1986) over {n} complete pairs; {percent(confidence)} CIs of the bias "
            "and of the limits with t(n-1) and the approximate standard errors of Bland & "
            "Altman (1986, 1999)."
        ),
    )
