"""The many-facet Rasch rating-scale model, estimated by JMLE as FACETS does (Linacre 1989).

For person ``n`` rated by rater ``j`` on item ``i``, with categories ``0..m`` (the observed score
values in order), the log-odds of category ``k`` over ``k - 1`` are

    log(P_nijk / P_nij(k-1)) = B_n - D_i - C_j - F_k,

``B`` the person's measure, ``D`` the item's difficulty, ``C`` the rater's severity (positive:
more severe) and ``F_k`` Andrich's threshold of category ``k``, shared by items and raters (the
rating-scale model, Andrich 1978), ``sum F_k = 0``. Persons and items are centred at 0 and the
raters float, so severities are in the same logits as the persons.

**Estimation** (joint maximum likelihood, JMLE; Wright & Masters 1982, ch. 5; Linacre 1989,
ch. 6). Every iteration computes, for each observation, the expected score ``E = sum k P_k`` and
its variance ``V = sum k^2 P_k - E^2`` (all at once, in arrays), then takes one Newton-Raphson
step for every element of every facet,

    B_n += sum (x - E) / sum V,     D_i -= sum (x - E) / sum V,     C_j -= sum (x - E) / sum V,
    F_k += (sum P(X >= k) - count(x >= k)) / sum P(X >= k) (1 - P(X >= k)),

each step limited to one logit, then re-centres persons, items and thresholds, moving the
rater measures so that the likelihood is unchanged. It stops when no estimate moves by more
than :data:`CONVERGENCE` logits (converged) or after :data:`MAX_ITERATIONS` (not converged:
``MfrmResult.converged`` is False and the description says so). JMLE estimates are not
corrected for their statistical bias (Wright & Douglas 1977), as in FACETS; with many
observations per element the bias is negligible.

**Extreme scores.** An element whose every observation is in the top (or bottom) category has
an infinite estimate. As FACETS does, such elements (found repeatedly, since dropping one can
make another extreme) are left out while the others are estimated, and are then measured with
their score moved :data:`EXTREME_ADJUSTMENT` score points inside the range, holding the other
estimates fixed. ``MfrmResult.extreme`` lists them; no estimate is ever infinite.

**Standard errors and fit** (Wright & Masters 1982, ch. 5): model standard error
``1 / sqrt(sum V)``; outfit mean square ``mean(z^2)`` with ``z = (x - E)/sqrt(V)``; infit
``sum (x - E)^2 / sum V``; both 1 when the data fit the model, above 1 for noise (erratic
ratings), below 1 for muted ratings (central tendency, halo).

**Fair average** (FACETS' Fair-M): the expected score of a person with every other facet at its
mean measure, ``sum_k score_k P_k(B_n - mean D - mean C)``, in the rubric's score units: the
person's score as an average rater would give it on an average item.

References
    Andrich D (1978). A rating formulation for ordered response categories. Psychometrika
    43:561-573.
    Linacre JM (1989). Many-Facet Rasch Measurement. Chicago: MESA Press.
    Linacre JM (2023). A User's Guide to FACETS. Beaverton, Oregon: Winsteps.com.
    Wright BD, Douglas GA (1977). Best procedures for sample-free item analysis. Applied
    Psychological Measurement 1:281-295.
    Wright BD, Masters GN (1982). Rating Scale Analysis. Chicago: MESA Press.

Checked against: the joint likelihood maximised by a general optimiser (scipy) and the
Wright & Masters formulas written out element by element, in ``tests/unit/test_rasch.py``.
Guilford's (1954) creativity ratings, FACETS' worked example, could not be obtained here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

from session_rater.errors import DesignError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

CONVERGENCE = 1e-5
"""Largest change of any estimate (logits) in an iteration at which JMLE has converged."""
MAX_ITERATIONS = 500
MAX_STEP = 1.0
"""A Newton-Raphson step is limited to one logit, as in FACETS, so early iterations cannot overshoot."""
EXTREME_ADJUSTMENT = 0.3
"""Score points by which an extreme score is moved inside the range (FACETS' default ``Xtreme=0.3``)."""

FACETS = ("person", "item", "rater")
_SIGN = {"person": 1.0, "item": -1.0, "rater": -1.0}  # d(logit)/d(measure)


@dataclass(frozen=True)
class MfrmResult:
    """A fitted many-facet Rasch rating-scale model; every dict is keyed by the ids in the data.

    Measures are in logits: ``rater_severity`` positive = more severe, ``person_measure`` higher
    = better performance, ``item_difficulty`` higher = harder. ``person_fair_average`` and
    ``person_raw_average`` are in the rubric's score units. ``thresholds`` are Andrich's
    ``F_k``, keyed by the score value of category ``k``. ``extreme`` maps ``"person"``,
    ``"item"`` and ``"rater"`` to the elements with extreme scores (``"maximum"`` or
    ``"minimum"``), estimated as the module docstring explains.
    """

    method: str
    rater_severity: Mapping[Hashable, float]
    rater_se: Mapping[Hashable, float]
    rater_infit: Mapping[Hashable, float]
    rater_outfit: Mapping[Hashable, float]
    person_measure: Mapping[Hashable, float]
    person_se: Mapping[Hashable, float]
    person_fair_average: Mapping[Hashable, float]
    person_raw_average: Mapping[Hashable, float]
    item_difficulty: Mapping[Hashable, float]
    item_se: Mapping[Hashable, float]
    thresholds: Mapping[float, float]
    categories: tuple[float, ...]
    extreme: Mapping[str, Mapping[Hashable, str]]
    converged: bool
    iterations: int
    max_change: float
    n_observations: int

    @property
    def description(self) -> str:
        """One sentence on the method, its convergence and the extreme scores."""
        state = (
            f"converged in {self.iterations} iterations (largest last change {self.max_change:.1e} logits)"
            if self.converged
            else f"did NOT converge in {self.iterations} iterations (largest last change {self.max_change:.1e} logits)"
        )
        extremes = {facet: len(ids) for facet, ids in self.extreme.items() if ids}
        note = (
            "; extreme scores ("
            + ", ".join(f"{n} {facet}(s)" for facet, n in extremes.items())
            + f") measured at {EXTREME_ADJUSTMENT:g} score points inside the range"
            if extremes
            else ""
        )
        return (
            f"Many-facet Rasch rating-scale model by {self.method} (persons and items centred, raters "
            f"free, no bias correction; Linacre 1989), {self.n_observations:,} scores, {state}{note}"
        )


@dataclass
class _Data:
    codes: dict[str, IntArray]
    ids: dict[str, list[Hashable]]
    x: IntArray
    values: FloatArray  # score value of each category
    raw: FloatArray  # observed scores in the rubric's units

    @property
    def m(self) -> int:
        return len(self.values) - 1

    def size(self, facet: str) -> int:
        return len(self.ids[facet])


@dataclass
class _Estimates:
    measure: dict[str, FloatArray]
    thresholds: FloatArray  # F_1..F_m


def mfrm(
    data: pd.DataFrame,
    *,
    person: str,
    rater: str,
    item: str,
    value: str = "score",
    method: str = "JMLE",
) -> MfrmResult:
    """Fit the many-facet Rasch rating-scale model ``B_n - D_i - C_j - F_k`` to long data.

    One row per score with the ``person``, ``rater`` and ``item`` columns and the ``value``; a
    NaN value is a missing score. ``method`` is ``"JMLE"`` (the only one, as FACETS). Raises
    :class:`~session_rater.errors.DesignError` for one rater, one person, a single score
    category, or raters (or items) in disconnected subsets.
    """
    if method not in _METHODS:
        raise DesignError(f"method must be one of {sorted(_METHODS)}; got {method!r}")
    prepared = _prepare(data, person=person, rater=rater, item=item, value=value)
    return _METHODS[method](prepared)


def _prepare(data: object, *, person: str, rater: str, item: str, value: str) -> _Data:
    if not isinstance(data, pd.DataFrame):
        raise DesignError(
            f"data must be a pandas DataFrame in long format (one row per score); got {type(data).__name__}"
        )
    columns = {"person": person, "item": item, "rater": rater}
    if len({person, rater, item, value}) < 4:
        raise DesignError(
            f"person, rater, item and value must be four different columns; got {person!r}, {rater!r}, {item!r}, {value!r}"
        )
    missing = [c for c in (person, rater, item, value) if c not in data.columns]
    if missing:
        raise DesignError(f"data have no column {', '.join(map(repr, missing))}; columns are {list(data.columns)}")
    if not pd.api.types.is_numeric_dtype(data[value]) or pd.api.types.is_bool_dtype(data[value]):
        raise DesignError(f"the value column {value!r} must hold numbers; it has dtype {data[value].dtype}")
    frame = data[data[value].notna()]
    for facet, column in columns.items():
        if frame[column].isna().any():
            raise DesignError(f"{int(frame[column].isna().sum())} score(s) have no {facet} ({column!r})")
    raw = frame[value].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(raw)):
        raise DesignError(f"the value column {value!r} holds infinite values")
    values, x = np.unique(raw, return_inverse=True)
    if len(values) < 2:
        shown = f" (every score is {values[0]:g})" if len(values) else ""
        raise DesignError(f"a rating-scale model needs at least two score categories{shown}")
    codes, ids = {}, {}
    for facet, column in columns.items():
        c, uniques = pd.factorize(frame[column])
        codes[facet] = c.astype(np.int64)
        ids[facet] = list(pd.Index(uniques).tolist())
    for facet, minimum in (("person", 2), ("rater", 2), ("item", 1)):
        if len(ids[facet]) < minimum:
            raise DesignError(
                f"{len(ids[facet])} {facet}(s) ({columns[facet]!r}): severities are relative, so the model "
                f"needs at least {minimum} {facet}s"
            )
    prepared = _Data(codes=codes, ids=ids, x=x.astype(np.int64), values=values, raw=raw)
    _check_connected(prepared, "rater")
    _check_connected(prepared, "item")
    return prepared


def _check_connected(data: _Data, facet: str) -> None:
    """Persons and the elements of ``facet`` must form one linked network (Linacre 1989, ch. 9)."""
    n_persons, n_other = data.size("person"), data.size(facet)
    graph = sparse.coo_matrix(
        (np.ones(len(data.x)), (data.codes["person"], n_persons + data.codes[facet])),
        shape=(n_persons + n_other, n_persons + n_other),
    )
    n_subsets, labels = csgraph.connected_components(graph, directed=False)
    if n_subsets > 1:
        sizes = np.bincount(labels[n_persons:], minlength=n_subsets)
        raise DesignError(
            f"the {facet}s fall into {n_subsets} disconnected subsets (of {', '.join(map(str, sizes[sizes > 0]))} "
            f"{facet}s) that rate no person in common: their measures cannot be compared; link them with "
            f"common persons"
        )


# --- category probabilities --------------------------------------------------------------------


def _moments(
    theta: FloatArray, thresholds: FloatArray, *, tails: bool = False
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``E`` and ``V`` of each observation; with ``tails``, also the sums over observations of
    ``P(X >= k)`` and of ``P(X >= k)(1 - P(X >= k))`` for ``k = 1..m`` (else empty arrays).

    Category by category over whole arrays (``m + 1`` passes of one-dimensional arithmetic), which
    is several times faster than reducing an ``N x (m + 1)`` matrix along its short axis.
    """
    m = len(thresholds)
    tau = np.concatenate(([0.0], np.cumsum(thresholds)))
    psi = [k * theta - tau[k] for k in range(m + 1)]  # log of the unnormalised P_k
    top = psi[0].copy()
    for k in range(1, m + 1):
        np.maximum(top, psi[k], out=top)
    total = np.zeros_like(theta)
    first = np.zeros_like(theta)
    second = np.zeros_like(theta)
    for k in range(m + 1):
        np.subtract(psi[k], top, out=psi[k])
        np.exp(psi[k], out=psi[k])
        total += psi[k]
        if k:
            first += k * psi[k]
            second += (k * k) * psi[k]
    expected = first / total
    variance = second / total - expected * expected
    at_least = np.zeros(m)
    at_least_var = np.zeros(m)
    if tails:
        tail = np.zeros_like(theta)
        for k in range(m, 0, -1):
            tail += psi[k]
            share = tail / total
            at_least[k - 1] = share.sum()
            at_least_var[k - 1] = np.dot(share, 1.0 - share)
    return expected, variance, at_least, at_least_var


def _theta(est: _Estimates, codes: Mapping[str, IntArray]) -> FloatArray:
    return (
        est.measure["person"][codes["person"]]
        - est.measure["item"][codes["item"]]
        - est.measure["rater"][codes["rater"]]
    )


# --- JMLE --------------------------------------------------------------------------------------


def _jmle(data: _Data) -> MfrmResult:
    extreme, active = _extremes(data)
    codes = {f: c[active] for f, c in data.codes.items()}
    x = data.x[active]
    observed_categories = np.bincount(x, minlength=data.m + 1)
    if np.any(observed_categories == 0):
        lost = [f"{data.values[k]:g}" for k in np.flatnonzero(observed_categories == 0)]
        raise DesignError(
            f"score(s) {', '.join(lost)} occur only in extreme scores: their thresholds cannot be estimated"
        )
    est = _start(data, codes, x)
    counts_at_least = np.cumsum(observed_categories[::-1])[::-1][1:].astype(np.float64)
    sizes = {f: data.size(f) for f in FACETS}
    estimated = {f: np.bincount(codes[f], minlength=sizes[f]) > 0 for f in FACETS}

    converged, change, iteration = False, np.inf, 0
    for iteration in range(1, MAX_ITERATIONS + 1):
        change = 0.0
        for facet in FACETS:  # one facet at a time (Gauss-Seidel): the facets share each residual
            expected, variance, _, _ = _moments(_theta(est, codes), est.thresholds)
            score = np.bincount(codes[facet], weights=x - expected, minlength=sizes[facet])
            information = np.bincount(codes[facet], weights=variance, minlength=sizes[facet])
            ok = estimated[facet]
            step = np.zeros(sizes[facet])
            step[ok] = np.clip(_SIGN[facet] * score[ok] / information[ok], -MAX_STEP, MAX_STEP)
            est.measure[facet] += step
            change = max(change, float(np.abs(step).max()))
        _, _, at_least, at_least_var = _moments(_theta(est, codes), est.thresholds, tails=True)
        step_f = np.clip((at_least - counts_at_least) / at_least_var, -MAX_STEP, MAX_STEP)
        est.thresholds += step_f
        change = max(change, float(np.abs(step_f).max()))
        _normalise(est, estimated)
        if change < CONVERGENCE:
            converged = True
            break

    for facet in ("item", "rater", "person"):  # persons last: their extremes lean on the others
        _measure_extremes(data, est, facet, extreme[facet])
    return _result(data, est, extreme, active, converged, iteration, change)


def _extremes(data: _Data) -> tuple[dict[str, dict[int, str]], NDArray[np.bool_]]:
    """Elements with extreme scores, found repeatedly; and the observations left for estimation."""
    active = np.ones(len(data.x), dtype=bool)
    extreme: dict[str, dict[int, str]] = {f: {} for f in FACETS}
    while True:
        found = False
        for facet in FACETS:
            codes = data.codes[facet][active]
            x = data.x[active]
            n = np.bincount(codes, minlength=data.size(facet))
            top = np.bincount(codes, weights=(x == data.m), minlength=data.size(facet))
            bottom = np.bincount(codes, weights=(x == 0), minlength=data.size(facet))
            for code in np.flatnonzero((n > 0) & (top == n)):
                extreme[facet][int(code)] = "maximum"
            for code in np.flatnonzero((n > 0) & (bottom == n)):
                extreme[facet][int(code)] = "minimum"
            drop = np.zeros(data.size(facet), dtype=bool)
            drop[list(extreme[facet])] = True
            remove = active & drop[data.codes[facet]]
            if remove.any():
                active &= ~remove
                found = True
        if not found:
            break
    for facet, minimum in (("person", 2), ("rater", 2), ("item", 1)):
        left = len(np.unique(data.codes[facet][active]))
        if left < minimum:
            raise DesignError(
                f"after setting aside extreme scores (every score at the top or bottom of the scale), "
                f"{left} {facet}(s) remain: the model cannot be estimated"
            )
    return extreme, active


def _start(data: _Data, codes: Mapping[str, IntArray], x: IntArray) -> _Estimates:
    """Starting values: log-odds of each element's mean score, and of adjacent category counts."""
    m = data.m
    measure = {}
    for facet in FACETS:
        n = np.bincount(codes[facet], minlength=data.size(facet)).astype(np.float64)
        total = np.bincount(codes[facet], weights=x, minlength=data.size(facet))
        mean = np.where(n > 0, (total + 0.5) / (n + 1.0), m / 2)
        logit = np.log(mean / (m - mean))
        measure[facet] = _SIGN[facet] * (logit - logit[n > 0].mean()) / 2
    counts = np.bincount(x, minlength=m + 1).astype(np.float64)
    thresholds = np.log(counts[:-1] / counts[1:])
    est = _Estimates(measure, thresholds - thresholds.mean())
    _normalise(est, {f: np.bincount(codes[f], minlength=data.size(f)) > 0 for f in FACETS})
    return est


def _normalise(est: _Estimates, estimated: Mapping[str, NDArray[np.bool_]]) -> None:
    """Centre persons, items and thresholds at 0; move the raters so the likelihood is unchanged."""
    shift_person = est.measure["person"][estimated["person"]].mean()
    shift_item = est.measure["item"][estimated["item"]].mean()
    shift_threshold = est.thresholds.mean()
    est.measure["person"] -= shift_person
    est.measure["item"] -= shift_item
    est.thresholds -= shift_threshold
    # theta = B - D - C and k theta - sum F_k are unchanged if C absorbs the three shifts
    est.measure["rater"] += -shift_person + shift_item + shift_threshold


def _measure_extremes(data: _Data, est: _Estimates, facet: str, extreme: Mapping[int, str]) -> None:
    """Measure extreme elements at their score moved ``EXTREME_ADJUSTMENT`` inside, others fixed."""
    if not extreme:
        return
    codes = np.fromiter(extreme, dtype=np.int64)
    rows = np.flatnonzero(np.isin(data.codes[facet], codes))
    sub = {f: c[rows] for f, c in data.codes.items()}
    n = np.bincount(sub[facet], minlength=data.size(facet)).astype(np.float64)
    target = np.zeros(data.size(facet))
    for code, side in extreme.items():
        target[code] = n[code] * data.m - EXTREME_ADJUSTMENT if side == "maximum" else EXTREME_ADJUSTMENT
    sign = _SIGN[facet]
    for code, side in extreme.items():
        est.measure[facet][code] = sign * (3.0 if side == "maximum" else -3.0)
    for _ in range(100):
        expected, variance, _, _ = _moments(_theta(est, sub), est.thresholds)
        score = np.bincount(sub[facet], weights=expected, minlength=data.size(facet))
        information = np.bincount(sub[facet], weights=variance, minlength=data.size(facet))
        step = np.clip(sign * (target[codes] - score[codes]) / information[codes], -MAX_STEP, MAX_STEP)
        est.measure[facet][codes] += step
        if np.abs(step).max() < CONVERGENCE:
            break


def _result(
    data: _Data,
    est: _Estimates,
    extreme: Mapping[str, Mapping[int, str]],
    active: NDArray[np.bool_],
    converged: bool,
    iterations: int,
    change: float,
) -> MfrmResult:
    expected, variance, _, _ = _moments(_theta(est, data.codes), est.thresholds)
    residual = data.x - expected
    sizes = {f: data.size(f) for f in FACETS}
    se, infit, outfit = {}, {}, {}
    for facet in FACETS:
        codes = data.codes[facet]
        is_extreme = np.zeros(sizes[facet], dtype=bool)
        is_extreme[list(extreme[facet])] = True
        # non-extreme elements: statistics over the observations used in estimation;
        # extreme elements: over all their observations, at their adjusted measure
        use = active | is_extreme[codes]
        c, r, v = codes[use], residual[use], variance[use]
        information = np.bincount(c, weights=v, minlength=sizes[facet])
        se[facet] = 1.0 / np.sqrt(information)
        infit[facet] = np.bincount(c, weights=r * r, minlength=sizes[facet]) / information
        outfit[facet] = np.bincount(c, weights=r * r / v, minlength=sizes[facet]) / np.bincount(
            c, minlength=sizes[facet]
        )

    probabilities = _category_probabilities(
        est.measure["person"] - est.measure["item"].mean() - est.measure["rater"].mean(), est.thresholds
    )
    fair = probabilities @ data.values
    raw_average = np.bincount(data.codes["person"], weights=data.raw) / np.bincount(data.codes["person"])

    def keyed(facet: str, array: FloatArray) -> dict[Hashable, float]:
        return {key: float(v) for key, v in zip(data.ids[facet], array, strict=True)}

    return MfrmResult(
        method="JMLE",
        rater_severity=keyed("rater", est.measure["rater"]),
        rater_se=keyed("rater", se["rater"]),
        rater_infit=keyed("rater", infit["rater"]),
        rater_outfit=keyed("rater", outfit["rater"]),
        person_measure=keyed("person", est.measure["person"]),
        person_se=keyed("person", se["person"]),
        person_fair_average=keyed("person", fair),
        person_raw_average=keyed("person", raw_average),
        item_difficulty=keyed("item", est.measure["item"]),
        item_se=keyed("item", se["item"]),
        thresholds={float(data.values[k]): float(f) for k, f in enumerate(est.thresholds, start=1)},
        categories=tuple(float(v) for v in data.values),
        extreme={f: {data.ids[f][code]: side for code, side in extreme[f].items()} for f in FACETS},
        converged=converged,
        iterations=iterations,
        max_change=float(change),
        n_observations=len(data.x),
    )


def _category_probabilities(theta: FloatArray, thresholds: FloatArray) -> FloatArray:
    k = np.arange(len(thresholds) + 1, dtype=np.float64)
    tau = np.concatenate(([0.0], np.cumsum(thresholds)))
    psi = theta[:, None] * k[None, :] - tau[None, :]
    psi -= psi.max(axis=1, keepdims=True)
    p = np.exp(psi)
    return p / p.sum(axis=1, keepdims=True)


_METHODS: dict[str, Callable[[_Data], MfrmResult]] = {"JMLE": _jmle}
