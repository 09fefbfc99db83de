"""Intraclass correlation coefficients, the six forms of Shrout & Fleiss (1979).

For ``n`` targets (units) each rated by the same ``k`` judges (raters), the two-way analysis
of variance gives the mean squares between targets (BMS), between judges (JMS), residual
(EMS) and, one-way, within targets (WMS). Shrout & Fleiss's forms:

=========  ============================================  ==============================
form       model                                         estimate
=========  ============================================  ==============================
ICC(1,1)   one-way random, single rating                 (BMS - WMS) / (BMS + (k-1) WMS)
ICC(2,1)   two-way random, absolute agreement, single    (BMS - EMS) / (BMS + (k-1) EMS + k (JMS - EMS) / n)
ICC(3,1)   two-way mixed, consistency, single            (BMS - EMS) / (BMS + (k-1) EMS)
ICC(1,k)   one-way random, mean of k ratings             (BMS - WMS) / BMS
ICC(2,k)   two-way random, absolute agreement, mean      (BMS - EMS) / (BMS + (JMS - EMS) / n)
ICC(3,k)   two-way mixed, consistency, mean              (BMS - EMS) / BMS
=========  ============================================  ==============================

In McGraw & Wong's (1996) names ICC(2,1) is ICC(A,1) and ICC(3,1) is ICC(C,1). To judge
raters against one another on the same forms, ICC(2,1) is the usual choice: it counts a
rater who scores everyone a point higher as disagreeing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from session_rater.domain.agreement._common import (
    AgreementError,
    AgreementResult,
    FloatArray,
    Ratings,
    as_matrix,
    check_confidence,
    choose,
    closing,
    percent,
)

_RELATIVE_ZERO = 1e-10
"""A denominator this small relative to the largest mean square is zero up to rounding."""


@dataclass(frozen=True)
class _MeanSquares:
    n: int
    k: int
    bms: float
    jms: float
    ems: float
    wms: float

    def negligible(self, mean_square: float) -> bool:
        """Zero up to rounding, relative to the largest mean square."""
        return mean_square <= _RELATIVE_ZERO * max(self.bms, self.jms, self.ems, self.wms)


def _mean_squares(y: FloatArray) -> _MeanSquares:
    n, k = y.shape
    grand = y.mean()
    target_means = y.mean(axis=1)
    judge_means = y.mean(axis=0)
    residual = y - target_means[:, None] - judge_means[None, :] + grand
    ss_targets = k * float(((target_means - grand) ** 2).sum())
    ss_judges = n * float(((judge_means - grand) ** 2).sum())
    ss_error = float((residual**2).sum())
    ss_within = float(((y - target_means[:, None]) ** 2).sum())
    return _MeanSquares(
        n=n,
        k=k,
        bms=ss_targets / (n - 1),
        jms=ss_judges / (k - 1),
        ems=ss_error / ((n - 1) * (k - 1)),
        wms=ss_within / (n * (k - 1)),
    )


Interval = tuple[float, float] | None


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _f(q: float, df1: float, df2: float) -> float:
    return float(stats.f.ppf(q, df1, df2))


def _one_way(ms: _MeanSquares, q: float, average: bool) -> Interval:
    """Shrout & Fleiss (1979), case 1: F = BMS / WMS on (n - 1, n (k - 1)) df."""
    if ms.negligible(ms.wms):
        return None
    return _from_f(ms.bms / ms.wms, ms.n - 1, ms.n * (ms.k - 1), ms.k, q, average)


def _mixed(ms: _MeanSquares, q: float, average: bool) -> Interval:
    """Shrout & Fleiss (1979), case 3: F = BMS / EMS on (n - 1, (n - 1)(k - 1)) df."""
    if ms.negligible(ms.ems):
        return None
    return _from_f(ms.bms / ms.ems, ms.n - 1, (ms.n - 1) * (ms.k - 1), ms.k, q, average)


def _from_f(f0: float, df1: float, df2: float, k: int, q: float, average: bool) -> Interval:
    f_lower = f0 / _f(q, df1, df2)
    f_upper = f0 * _f(q, df2, df1)
    if average:  # 1 - 1/F, undefined at F = 0
        if f_lower == 0 or f_upper == 0:
            return None
        return 1 - 1 / f_lower, 1 - 1 / f_upper
    return (f_lower - 1) / (f_lower + k - 1), (f_upper - 1) / (f_upper + k - 1)


def _random(ms: _MeanSquares, q: float, average: bool) -> Interval:
    """Case 2: Satterthwaite df for the F of ICC(2,1) (Shrout & Fleiss 1979; McGraw & Wong 1996).

    The (2,k) interval is the Spearman-Brown step-up of the (2,1) limits, which is McGraw &
    Wong's ICC(A,k) interval.
    """
    n, k = ms.n, ms.k
    rho = _ratio(ms.bms - ms.ems, ms.bms + (k - 1) * ms.ems + k * (ms.jms - ms.ems) / n)
    if ms.negligible(ms.ems) or rho is None:
        return None
    f_j = ms.jms / ms.ems
    spread = n * (1 + (k - 1) * rho) - k * rho
    v = _ratio((k - 1) * (n - 1) * (k * rho * f_j + spread) ** 2, (n - 1) * (k * rho * f_j) ** 2 + spread**2)
    if v is None or v <= 0:
        return None
    f_star, f_star_up = _f(q, n - 1, v), _f(q, v, n - 1)
    shared = k * ms.jms + (k * n - k - n) * ms.ems
    lower = _ratio(n * (ms.bms - f_star * ms.ems), f_star * shared + n * ms.bms)
    upper = _ratio(n * (f_star_up * ms.bms - ms.ems), shared + n * f_star_up * ms.bms)
    if lower is None or upper is None:
        return None
    if average:
        lower, upper = (_step_up(limit, k) for limit in (lower, upper))
        if lower is None or upper is None:
            return None
    return lower, upper


def _step_up(single: float, k: int) -> float | None:
    return _ratio(k * single, 1 + (k - 1) * single)


@dataclass(frozen=True)
class _Form:
    description: str
    estimate: Callable[[_MeanSquares], tuple[float, float]]  # numerator, denominator
    interval: Callable[[_MeanSquares, float, bool], Interval]
    average: bool
    ci_reference: str


_FORMS: dict[str, _Form] = {
    "ICC(1,1)": _Form(
        "one-way random effects, single rating",
        lambda m: (m.bms - m.wms, m.bms + (m.k - 1) * m.wms),
        _one_way,
        False,
        "Shrout & Fleiss 1979",
    ),
    "ICC(2,1)": _Form(
        "two-way random effects, absolute agreement, single rating",
        lambda m: (m.bms - m.ems, m.bms + (m.k - 1) * m.ems + m.k * (m.jms - m.ems) / m.n),
        _random,
        False,
        "McGraw & Wong 1996, Satterthwaite df",
    ),
    "ICC(3,1)": _Form(
        "two-way mixed effects, consistency, single rating",
        lambda m: (m.bms - m.ems, m.bms + (m.k - 1) * m.ems),
        _mixed,
        False,
        "Shrout & Fleiss 1979",
    ),
    "ICC(1,k)": _Form(
        "one-way random effects, mean of k ratings",
        lambda m: (m.bms - m.wms, m.bms),
        _one_way,
        True,
        "Shrout & Fleiss 1979",
    ),
    "ICC(2,k)": _Form(
        "two-way random effects, absolute agreement, mean of k ratings",
        lambda m: (m.bms - m.ems, m.bms + (m.jms - m.ems) / m.n),
        _random,
        True,
        "McGraw & Wong 1996, Satterthwaite df",
    ),
    "ICC(3,k)": _Form(
        "two-way mixed effects, consistency, mean of k ratings",
        lambda m: (m.bms - m.ems, m.bms),
        _mixed,
        True,
        "Shrout & Fleiss 1979",
    ),
}


def icc(ratings: Ratings, *, form: str = "ICC(2,1)", confidence: float = 0.95) -> AgreementResult:
    """An intraclass correlation coefficient of Shrout & Fleiss (1979), with its F-based interval.

    Parameters
    ----------
    ratings
        Units (targets) x raters (judges), numbers; NaN or None for a missing rating.
        Only complete units (rated by every rater) are used; a rater column with no rating
        at all is left out first.
    form
        ``"ICC(1,1)"``, ``"ICC(2,1)"`` (default), ``"ICC(3,1)"``, ``"ICC(1,k)"``,
        ``"ICC(2,k)"`` or ``"ICC(3,k)"`` (see the module docstring for the formulas).
    confidence
        Level of the interval.

    Notes
    -----
    Intervals: for forms 1 and 3, from ``F = BMS / WMS`` and ``F = BMS / EMS`` (Shrout &
    Fleiss 1979, Table 4's procedure); for form 2, from the F of McGraw & Wong (1996) with
    Satterthwaite's degrees of freedom. The interval is None when the error mean square is
    zero up to rounding (no residual variance, e.g. raters who differ by a constant offset).
    A form whose denominator is zero or negative raises :class:`AgreementError`.
    Values and limits were checked against Shrout & Fleiss (1979) and R psych's ``ICC``.

    References
    ----------
    Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
    reliability. Psychological Bulletin, 86(2), 420-428.
    McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass correlation
    coefficients. Psychological Methods, 1(1), 30-46.
    """
    chosen = choose(_FORMS, form, "form")
    confidence = check_confidence(confidence)
    x = as_matrix(ratings)
    x = x[:, ~np.isnan(x).all(axis=0)]
    complete = ~np.isnan(x).any(axis=1)
    y = x[complete]
    if x.shape[1] < 2:
        raise AgreementError(f"{form} needs at least two raters; got {x.shape[1]}")
    if y.shape[0] < 2:
        raise AgreementError(f"{form} needs at least two units rated by every rater (complete cases); got {y.shape[0]}")
    ms = _mean_squares(y)
    numerator, denominator = chosen.estimate(ms)
    if ms.negligible(denominator):
        raise AgreementError(
            f"{form} is not defined for these ratings: its variance denominator is zero or negative "
            "(a single value, or no variance between units beyond the raters' disagreement)"
        )
    value = numerator / denominator
    ci = chosen.interval(ms, 1 - (1 - confidence) / 2, chosen.average)
    dropped = x.shape[0] - y.shape[0]
    return AgreementResult(
        value=value,
        ci=ci,
        n_units=ms.n,
        n_raters=ms.k,
        method=(
            f"{form}, {chosen.description} (Shrout & Fleiss 1979), complete cases only "
            f"({dropped} unit(s) with a missing rating left out); {percent(confidence)} CI from "
            f"the F distribution ({chosen.ci_reference})"
            + closing(ci, "the F-based interval is undefined here (no residual variance)")
        ),
        confidence=confidence,
    )
