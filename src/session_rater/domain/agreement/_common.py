"""What every agreement coefficient shares: its result, its error, and the reading of ratings.

Ratings are a units x raters matrix of scale points (numbers); NaN or None is a missing
rating. ``categories`` declares the scale's points, so that points nobody used still count
in weights and chance agreement; without it the scale is the set of values observed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from session_rater.errors import SessionRaterError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

T = TypeVar("T")

Ratings: TypeAlias = ArrayLike | Sequence[Sequence[float | None]]
"""A units x raters table: list of lists (None for a missing rating), numpy array or DataFrame."""
Scores: TypeAlias = ArrayLike | Sequence[float | None]
"""One rater's scores of a series of units (None for a missing score)."""

MAX_CATEGORIES = 100
"""More distinct values than this are measurements, not scale points: use :func:`icc`."""


class AgreementError(SessionRaterError, ValueError):
    """An agreement figure is not defined for the data given; the message says why.

    Raised for empty input, no unit rated by two raters, a single category (no disagreement
    is possible by chance), a wrong shape, a value outside the declared categories, or an
    unknown option. It is a :class:`ValueError`, so callers that only know numpy's
    conventions still catch it.
    """


@dataclass(frozen=True)
class AgreementResult:
    """One agreement coefficient with its interval and what it was computed from.

    ``observed`` and ``expected`` are the two quantities the coefficient compares: observed
    and chance agreement (kappa, AC1/AC2: ``value = (observed - expected) / (1 - expected)``;
    percent agreement: ``observed`` only), or observed and expected *disagreement* for
    Krippendorff's alpha (``value = 1 - observed / expected``); None for the ICC.
    ``n_units`` counts the units that entered the computation and ``n_raters`` the raters
    who gave at least one of the ratings used. ``ci`` is None when the interval is not
    defined (the method says why), never NaN.
    """

    value: float
    ci: tuple[float, float] | None
    n_units: int
    n_raters: int
    method: str
    observed: float | None = None
    expected: float | None = None
    se: float | None = None
    confidence: float = 0.95


# --- reading the input ---------------------------------------------------------------------


def as_matrix(ratings: Ratings, *, name: str = "ratings") -> FloatArray:
    """``ratings`` as a float units x raters matrix (NaN = missing), checked for shape."""
    matrix = _as_float(ratings, name)
    if matrix.ndim != 2:
        raise AgreementError(
            f"{name} must be a units x raters table (2-D); got {matrix.ndim}-D input of shape {matrix.shape}"
        )
    if matrix.size == 0:
        raise AgreementError(f"{name} is empty: there are no units or no raters")
    return matrix


def as_vector(values: Scores, *, name: str) -> FloatArray:
    """One rater's ratings (or one method's measurements) as a float vector."""
    vector = _as_float(values, name)
    if vector.ndim != 1:
        raise AgreementError(f"{name} must be one rating per unit (1-D); got shape {vector.shape}")
    if vector.size == 0:
        raise AgreementError(f"{name} is empty")
    return vector


def _as_float(values: Ratings | Scores, name: str) -> FloatArray:
    try:
        to_numpy = getattr(values, "to_numpy", None)
        if to_numpy is not None:  # pandas: turn pd.NA and None into NaN
            array = np.asarray(to_numpy(dtype=float, na_value=np.nan), dtype=float)
        else:
            array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise AgreementError(
            f"{name} must be numbers (scale points) with NaN or None for a missing rating, "
            f"in a rectangular table: {error}"
        ) from None
    if np.isinf(array).any():
        raise AgreementError(f"{name} contains an infinite value")
    return array


def check_confidence(confidence: float) -> float:
    if not (isinstance(confidence, numbers.Real) and 0 < confidence < 1):
        raise AgreementError(f"confidence must be between 0 and 1 (e.g. 0.95); got {confidence!r}")
    return float(confidence)


def choose(options: dict[Any, T], key: object, what: str) -> T:
    """``options[key]``, or an AgreementError that lists what is allowed."""
    try:
        return options[key]
    except (KeyError, TypeError):
        allowed = ", ".join(repr(k) for k in options)
        raise AgreementError(f"unknown {what} {key!r}; expected one of {allowed}") from None


# --- the scale and its coding --------------------------------------------------------------


@dataclass(frozen=True)
class Coded:
    """The ratings of a matrix as category indices, in row-major order of the rated cells."""

    points: FloatArray  # the scale, sorted
    codes: IntArray  # index of each rating among ``points``
    units: IntArray  # the row (unit) of each rating
    raters: IntArray  # the column (rater) of each rating
    shape: tuple[int, int]


def encode(matrix: FloatArray, categories: ArrayLike | None) -> Coded:
    """Code every rating of a units x raters matrix as its index among the scale's points."""
    units, raters = np.nonzero(~np.isnan(matrix))
    points, codes = code_values(matrix[units, raters], categories)
    return Coded(points, codes, units, raters, (matrix.shape[0], matrix.shape[1]))


def code_values(values: FloatArray, categories: ArrayLike | None) -> tuple[FloatArray, IntArray]:
    """The scale's points and each value's index among them, checking declared categories.

    Integer-valued scales (the usual 0-3, 1-4, 0-6) are coded by table look-up in linear time.
    """
    if values.size == 0:
        raise AgreementError("there are no ratings: every value is missing")
    low, high = float(values.min()), float(values.max())
    integral = high - low <= 100_000 and bool((values == np.floor(values)).all())
    if integral:
        offsets = (values - low).astype(np.intp)
        observed = (low + np.flatnonzero(np.bincount(offsets) > 0)).astype(float)
    else:
        observed = np.unique(values).astype(float)
    points = observed if categories is None else _declared(categories, observed)
    if points.size > MAX_CATEGORIES:
        raise AgreementError(
            f"{points.size} distinct values: more than {MAX_CATEGORIES} scale points; "
            "these coefficients are for rating scales (use icc for measurements)"
        )
    if integral:
        lookup = np.zeros(int(high - low) + 1, dtype=np.intp)
        lookup[(observed - low).astype(np.intp)] = np.searchsorted(points, observed)
        return points, lookup[offsets]
    return points, np.searchsorted(points, values)


def _declared(categories: ArrayLike, observed: FloatArray) -> FloatArray:
    points = _as_float(categories, "categories")
    if points.ndim != 1 or points.size == 0:
        raise AgreementError("categories must be a non-empty list of scale points, e.g. [0, 1, 2, 3]")
    if np.isnan(points).any():
        raise AgreementError("categories must not contain a missing value")
    points = np.sort(points)
    if (np.diff(points) == 0).any():
        raise AgreementError(f"categories contain a repeated point: {points.tolist()}")
    outside = np.setdiff1d(observed, points)
    if outside.size:
        shown = ", ".join(f"{v:g}" for v in outside[:10])
        raise AgreementError(f"ratings {shown} are not among the declared categories {points.tolist()}")
    return points


@dataclass(frozen=True)
class Tally:
    """Fleiss's table of counts, stored once per distinct pattern of counts.

    ``counts[p, k]`` raters put a unit of pattern ``p`` in category ``k`` (Gwet's ``r_ik``) and
    ``frequency[p]`` units have that pattern. Units with the same counts contribute the same
    to every coefficient here, and a 0-3 scale rated by four raters has fewer than 70 patterns,
    so the units x categories table is never built. Only units with at least
    ``min_ratings`` ratings are kept; ``n_raters`` counts the raters who rated one of them.
    """

    points: FloatArray
    counts: FloatArray
    frequency: FloatArray
    n_raters: int

    @property
    def n_units(self) -> int:
        return int(self.frequency.sum())


def tally(matrix: FloatArray, categories: ArrayLike | None, *, min_ratings: int = 1) -> Tally:
    coded = encode(matrix, categories)
    n, m = coded.shape
    q = coded.points.size
    per_unit = np.bincount(coded.units, minlength=n)
    kept = per_unit >= min_ratings
    raters = np.bincount(coded.raters[kept[coded.units]], minlength=m)
    base = int(per_unit.max()) + 1
    if q * math.log2(base) < 52:  # a unit's counts as the digits of one exact integer key
        powers = base ** np.arange(q, dtype=np.int64)
        keys = np.bincount(coded.units, weights=powers[coded.codes], minlength=n)[kept].astype(np.int64)
        if base**q <= 8 * keys.size + 4096:
            occurrences = np.bincount(keys)
            distinct = np.flatnonzero(occurrences)
            frequency = occurrences[distinct]
        else:
            distinct, frequency = np.unique(keys, return_counts=True)
        counts = distinct[:, None] // powers[None, :] % base
    else:
        dense = np.bincount(coded.units * q + coded.codes, minlength=n * q).reshape(n, q)[kept]
        counts, frequency = np.unique(dense, axis=0, return_counts=True)
    return Tally(coded.points, counts.astype(float), frequency.astype(float), int((raters > 0).sum()))


def raters_used(matrix: FloatArray) -> int:
    return int((~np.isnan(matrix)).any(axis=0).sum())


# --- weights (Cohen 1968; Gwet 2014, ch. 3) ---------------------------------------------------


def _identity_weights(points: FloatArray) -> FloatArray:
    return np.eye(points.size)


def _linear_weights(points: FloatArray) -> FloatArray:
    span = _span(points, "linear")
    return 1 - np.abs(points[:, None] - points[None, :]) / span


def _quadratic_weights(points: FloatArray) -> FloatArray:
    span = _span(points, "quadratic")
    return 1 - (points[:, None] - points[None, :]) ** 2 / span**2


def _span(points: FloatArray, weights: str) -> float:
    span = float(points[-1] - points[0])
    if span == 0:
        raise AgreementError(f"{weights} weights need at least two categories; only {points[0]:g} occurs")
    return span


WEIGHTS: dict[str | None, Callable[[FloatArray], FloatArray]] = {
    None: _identity_weights,
    "linear": _linear_weights,
    "quadratic": _quadratic_weights,
}


def weight_matrix(points: FloatArray, weights: str | None) -> FloatArray:
    """Agreement weights ``w[k, l]`` from the categories' values: 1 on the diagonal, 0 at the ends."""
    return choose(WEIGHTS, weights, "weights")(points)


def describe_weights(weights: str | None) -> str:
    return "unweighted" if weights is None else f"{weights} weights"


# --- intervals -----------------------------------------------------------------------------


def t_interval(
    value: float, se: float, n: int, confidence: float, bounds: tuple[float, float] = (-1.0, 1.0)
) -> tuple[float, float] | None:
    """``value -/+ t(n - 1) * se``, truncated to the coefficient's range; None below two units."""
    if n < 2:
        return None
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
    return max(bounds[0], value - half), min(bounds[1], value + half)


def z_interval(
    value: float, se: float, confidence: float, bounds: tuple[float, float] = (-1.0, 1.0)
) -> tuple[float, float]:
    half = float(stats.norm.ppf(0.5 + confidence / 2)) * se
    return max(bounds[0], value - half), min(bounds[1], value + half)


def percent(confidence: float) -> str:
    return f"{confidence * 100:g}%"


def closing(ci: tuple[float, float] | None, why: str) -> str:
    """The end of a ``method`` sentence: a full stop, or why there is no interval."""
    return "." if ci is not None else f"; no CI: {why}."
