"""Krippendorff's alpha, computed as in Krippendorff (2011) from coincidence matrices.

Notation of the paper: ``n_uc`` is the number of values ``c`` in unit ``u``, ``m_u`` the
number of values in the unit (only units with ``m_u >= 2``, the *pairable* ones, count),
``o_ck`` the observed coincidences, ``n_c`` their margins, ``n`` the number of pairable
values, ``e_ck`` the coincidences expected by chance and ``delta_ck`` the squared difference
of the chosen metric. Then::

    alpha = 1 - D_o / D_e = 1 - sum_ck o_ck delta_ck / sum_ck e_ck delta_ck
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from session_rater.domain.agreement._common import (
    AgreementError,
    AgreementResult,
    FloatArray,
    Ratings,
    as_matrix,
    check_confidence,
    choose,
    percent,
    tally,
)

Metric = Callable[[FloatArray, FloatArray], FloatArray]
Seed = int | np.random.Generator | None

_BOOTSTRAP_CELLS = 4_000_000
"""Bound on the cells (resamples x patterns, resamples x categories^2) held at once."""
_ORDINAL_BOOTSTRAP_WORK = 20_000_000_000
"""Resamples x patterns x categories^2 above which the ordinal bootstrap would take minutes."""


def _coincidences(counts: FloatArray, frequency: FloatArray) -> FloatArray:
    """``o_ck = sum_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1)``, summed over pairable units.

    ``counts[p, c]`` is ``n_uc`` for the units of pattern ``p``, which occur ``frequency[p]`` times.
    """
    scaled = counts * (frequency / (counts.sum(axis=1) - 1))[:, None]
    o: FloatArray = scaled.T @ counts - np.diag(scaled.sum(axis=0))
    return o


def _random_coincidences(n_c: FloatArray) -> FloatArray:
    """``e_ck = (n_c n_k - [c = k] n_c) / (n - 1)``."""
    e: FloatArray = (np.outer(n_c, n_c) - np.diag(n_c)) / (n_c.sum() - 1)
    return e


def _nominal_metric(points: FloatArray, n_c: FloatArray) -> FloatArray:
    delta: FloatArray = (points[:, None] != points[None, :]).astype(np.float64)
    return delta


def _ordinal_metric(points: FloatArray, n_c: FloatArray) -> FloatArray:
    """``(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2``: a distance in ranks, so it depends on ``n_c``.

    ``n_c`` may carry leading (bootstrap) dimensions.
    """
    cumulative = np.cumsum(n_c, axis=-1)
    between = cumulative[..., None, :] - cumulative[..., :, None]
    delta: FloatArray = (between + (n_c[..., :, None] - n_c[..., None, :]) / 2) ** 2
    return delta


def _interval_metric(points: FloatArray, n_c: FloatArray) -> FloatArray:
    delta: FloatArray = (points[:, None] - points[None, :]) ** 2
    return delta


def _ratio_metric(points: FloatArray, n_c: FloatArray) -> FloatArray:
    """``((c - k) / (c + k))^2``, 0 where both values are 0."""
    total = points[:, None] + points[None, :]
    ratio = np.zeros_like(total)
    np.divide(points[:, None] - points[None, :], total, out=ratio, where=total != 0)
    return ratio**2


_METRICS: dict[str, Metric] = {
    "nominal": _nominal_metric,
    "ordinal": _ordinal_metric,
    "interval": _interval_metric,
    "ratio": _ratio_metric,
}


def krippendorff_alpha(
    ratings: Ratings,
    *,
    level: str = "ordinal",
    categories: ArrayLike | None = None,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: Seed = 0,
) -> AgreementResult:
    """Krippendorff's alpha for any number of raters, missing ratings and level of measurement.

    Parameters
    ----------
    ratings
        Units x raters; NaN or None for a missing rating. Units with fewer than two ratings
        are not pairable and are left out.
    level
        ``"nominal"``, ``"ordinal"`` (default: rubric scales are ordinal), ``"interval"`` or
        ``"ratio"`` (non-negative values only).
    categories
        The scale's points; a value outside them raises. Unused points do not change alpha.
    confidence
        Level of the interval.
    n_boot
        Bootstrap resamples for the interval; 0 for no interval.
    seed
        Seed or ``numpy.random.Generator`` of the bootstrap, so that an interval can be
        reproduced exactly.

    Notes
    -----
    The coincidence-matrix computation of Krippendorff (2011), read like fast-krippendorff:
    ``_coincidences``, ``_random_coincidences`` and one metric per level. The interval is a
    percentile bootstrap over the pairable units (units drawn with replacement, alpha
    recomputed, the ordinal metric included), seeded. Hayes & Krippendorff (2007) proposed
    bootstrapping alpha; their KALPHA macro resamples pairs of values rather than units, so
    its intervals differ somewhat. Resamples in which alpha is undefined (one value only) are
    dropped and counted in ``method``. Units with the same counts are drawn together as one
    multinomial count, which is the same resampling as drawing units one by one, but fast. Values were checked against
    Krippendorff (2011) and the fast-krippendorff package.

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
    Communication, University of Pennsylvania. https://repository.upenn.edu/asc_papers/43
    Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard reliability
    measure for coding data. Communication Methods and Measures, 1(1), 77-89.
    """
    metric = choose(_METRICS, level, "level")
    confidence = check_confidence(confidence)
    if not isinstance(n_boot, int | np.integer) or isinstance(n_boot, bool) or n_boot < 0:
        raise AgreementError(f"n_boot must be a whole number >= 0; got {n_boot!r}")
    table = tally(as_matrix(ratings), categories, min_ratings=2)
    points, counts, frequency = table.points, table.counts, table.frequency
    if level == "ratio" and points[0] < 0:
        raise AgreementError("the ratio level needs non-negative values; use 'interval'")
    if counts.shape[0] == 0:
        raise AgreementError("no unit was rated by two raters, so there are no pairable values")

    o = _coincidences(counts, frequency)
    n_c = o.sum(axis=0)
    e = _random_coincidences(n_c)
    delta = metric(points, n_c)
    n = n_c.sum()
    d_o = float((o * delta).sum() / n)
    d_e = float((e * delta).sum() / n)
    if d_e <= 0:
        raise AgreementError(
            "Krippendorff's alpha is not defined: all pairable values are the same, so no "
            "disagreement is expected by chance"
        )
    alpha = 1 - d_o / d_e

    ci, note = None, "no CI (n_boot=0)."
    if n_boot and counts.shape[0] < 2:  # one pattern of values: every resample would be the same
        note = "no CI: the pairable units all have the same values, so resampling cannot vary."
    elif n_boot:
        rng = np.random.default_rng(seed)
        replicates = _bootstrap(counts, frequency, points, metric, n_boot, rng)
        if isinstance(seed, int | np.integer):
            seed_text = f"seed {seed}"
        else:
            seed_text = "the caller's generator" if seed is not None else "unseeded (not reproducible)"
        dropped = n_boot - replicates.size
        note = (
            f"{percent(confidence)} CI: percentile bootstrap over units, {n_boot} resamples, "
            f"{seed_text} (after Hayes & Krippendorff 2007)"
            + (f"; {dropped} resamples with a single value dropped." if dropped else ".")
        )
        if replicates.size:
            lo, hi = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2])
            ci = (float(lo), float(hi))
    return AgreementResult(
        value=alpha,
        ci=ci,
        n_units=table.n_units,
        n_raters=table.n_raters,
        method=f"Krippendorff's alpha, {level} metric (Krippendorff 2011, coincidence matrices); {note}",
        observed=d_o,
        expected=d_e,
        confidence=confidence,
    )


def _bootstrap(
    counts: FloatArray,
    frequency: FloatArray,
    points: FloatArray,
    metric: Metric,
    n_boot: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Alpha on ``n_boot`` resamples of the pairable units; the undefined ones are left out.

    A resample of the ``N`` units is a multinomial draw of how many times each pattern of
    counts occurs in it, so the cost grows with the number of patterns, not of units. Fixed
    metrics need one disagreement per pattern; the ordinal metric depends on the resample's
    margins, so each resample's coincidences are formed.
    """
    k, v = counts.shape
    if metric is _ordinal_metric and n_boot * k * v * v > _ORDINAL_BOOTSTRAP_WORK:
        raise AgreementError(
            f"an ordinal bootstrap over {k} distinct rating patterns of {v} categories is too costly; "
            "pass a smaller n_boot, or n_boot=0 for no interval"
        )
    probabilities = frequency / frequency.sum()
    delta = metric(points, np.zeros(v))
    per_pattern = ((counts @ delta) * counts).sum(axis=1) / (counts.sum(axis=1) - 1)
    alphas = np.empty(n_boot)
    defined = np.zeros(n_boot, dtype=bool)
    step = max(1, _BOOTSTRAP_CELLS // (k + v * v))
    for start in range(0, n_boot, step):
        draws = rng.multinomial(int(frequency.sum()), probabilities, size=min(step, n_boot - start)).astype(float)
        n_c = draws @ counts
        if metric is _ordinal_metric:
            delta_b = metric(points, n_c)
            o_delta = (_coincidences_of_resamples(draws, counts) * delta_b).sum(axis=(1, 2))
            e_delta = np.einsum("bc,bck,bk->b", n_c, delta_b, n_c)
        else:
            o_delta = draws @ per_pattern
            e_delta = np.einsum("bc,ck,bk->b", n_c, delta, n_c)
        ok = e_delta > 0
        ratio = np.zeros_like(e_delta)
        np.divide((n_c.sum(axis=1) - 1) * o_delta, e_delta, out=ratio, where=ok)
        alphas[start : start + draws.shape[0]] = 1 - ratio
        defined[start : start + draws.shape[0]] = ok
    return alphas[defined]


def _coincidences_of_resamples(draws: FloatArray, counts: FloatArray) -> FloatArray:
    """``_coincidences`` for each row of ``draws`` (how often each pattern occurs), batched."""
    b, (k, v) = draws.shape[0], counts.shape
    scaled = draws / (counts.sum(axis=1) - 1)
    o = np.zeros((b, v * v))
    chunk = max(1, _BOOTSTRAP_CELLS // (v * v))
    for start in range(0, k, chunk):
        c = counts[start : start + chunk]
        o += scaled[:, start : start + chunk] @ (c[:, :, None] * c[:, None, :]).reshape(-1, v * v)
    o = o.reshape(b, v, v)
    o[:, np.arange(v), np.arange(v)] -= scaled @ counts
    return o
