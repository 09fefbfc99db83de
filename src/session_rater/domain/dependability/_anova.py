"""Variance components of a G study: T terms, the ANOVA estimator and Henderson's Method 1.

Notation of Brennan (2001), chapters 3 and 7. For an effect ``alpha`` with cells ``c`` (the
distinct combinations of its columns), ``n_c`` observations and total ``X_c`` in each,

    T(alpha) = sum_c X_c^2 / n_c,         T(mu) = X^2 / N,         T(total) = sum X^2.

Sums of squares and degrees of freedom follow Brennan's rule (section 3.3): for an effect with
primary indices ``P``,

    SS(alpha) = sum over D subset of P of (-1)^|D| T(alpha - D),
    df(alpha) = sum over D subset of P of (-1)^|D| (number of cells of alpha - D),

the second being ``prod (n - 1)`` over primary indices times ``prod n`` over nesting indices when
the data are balanced, and Brennan's "analogous" degrees of freedom otherwise (section 7.1).

**Balanced data** (every nested index has the same number of levels in each cell it is nested
in, every combination observed, equal replication): the ANOVA estimator, from the expected mean
squares of a random-effects model (Brennan 2001, eq. 3.20)

    EMS(alpha) = sum over beta containing alpha of pi(not beta) sigma^2(beta),

``pi(not beta)`` being the product of the sample sizes of the indices not in ``beta``; the
system is triangular and is solved for the ``sigma^2``.

**Unbalanced or missing data**: Henderson's (1953) Method 1, which Brennan (2001, section 7.1.2)
calls the analogous-ANOVA procedure and urGENOVA implements: the expected value of every T term
is a linear function of the variance components and of ``mu^2``,

    E T(alpha) = N mu^2 + sum_beta k(alpha, beta) sigma^2(beta),
    k(alpha, beta) = sum over cells u of (alpha union beta) of n_u^2 / n_(alpha cell of u),

(Henderson 1953, p. 230; Searle, Casella & McCulloch 1992, section 5.3), and the observed T terms
are set equal to their expectations and solved. With balanced data both estimators give the same
components. Estimates may be negative; they are reported as estimated.

Everything is computed from integer cell codes with ``numpy.bincount``: one hash factorisation
per set of columns, cached, so three million scores take about a second.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from session_rater.domain.dependability._design import Design, Effect
from session_rater.errors import DesignError

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

ANOVA = "ANOVA"
"""Estimator name for balanced data: expected mean squares (Brennan 2001, section 3.4)."""
HENDERSON = "Henderson Method 1"
"""Estimator name for unbalanced or missing data (Henderson 1953; Brennan 2001, section 7.1)."""

RESIDUAL = "e"
"""Brennan's symbol for the residual, confounded with the highest-order effect when each cell
of the full design holds one observation (the effect is then named e.g. ``pi,e``)."""


class CellIndex:
    """Integer codes of the cells of any set of columns, computed once and cached."""

    def __init__(self, data: pd.DataFrame, design: Design) -> None:
        self.design = design
        self.n = len(data)
        self._codes: dict[frozenset[str], tuple[IntArray, int]] = {frozenset(): (np.zeros(self.n, dtype=np.int64), 1)}
        for column in design.variables:
            codes, uniques = pd.factorize(data[column], use_na_sentinel=True)
            self._codes[frozenset((column,))] = (codes.astype(np.int64), len(uniques))
        self._counts: dict[frozenset[str], IntArray] = {}

    def codes(self, columns: frozenset[str]) -> tuple[IntArray, int]:
        """Cell code of every observation and the number of cells, for ``columns``."""
        if columns not in self._codes:
            ordered = sorted(columns, key=self.design.variables.index)
            head, last = frozenset(ordered[:-1]), frozenset(ordered[-1:])
            head_codes, _ = self.codes(head)
            last_codes, n_last = self.codes(last)
            codes, uniques = pd.factorize(head_codes * n_last + last_codes)
            self._codes[columns] = (codes.astype(np.int64), len(uniques))
        return self._codes[columns]

    def n_cells(self, columns: frozenset[str]) -> int:
        return self.codes(columns)[1]

    def counts(self, columns: frozenset[str]) -> IntArray:
        """Number of observations in each cell of ``columns``."""
        if columns not in self._counts:
            codes, n = self.codes(columns)
            self._counts[columns] = np.bincount(codes, minlength=n)
        return self._counts[columns]

    def parent_of(self, fine: frozenset[str], coarse: frozenset[str]) -> IntArray:
        """For each cell of ``fine`` (a superset of ``coarse``), the cell of ``coarse`` it lies in."""
        fine_codes, n_fine = self.codes(fine)
        coarse_codes, _ = self.codes(coarse)
        parent = np.empty(n_fine, dtype=np.int64)
        parent[fine_codes] = coarse_codes
        return parent


@dataclass(frozen=True)
class Anova:
    """The estimated components, with the T terms, mean squares and sample sizes behind them."""

    effects: tuple[Effect, ...]
    names: tuple[str, ...]
    variance: tuple[float, ...]
    df: tuple[float, ...]
    ms: tuple[float, ...]
    estimator: str
    replicated: bool


def estimate(index: CellIndex, y: FloatArray) -> Anova:
    """The variance components of every effect of ``index.design`` from the scores ``y``."""
    design = index.design
    effects = design.effects
    full = frozenset(design.variables)
    replicated = index.n_cells(full) < index.n
    t_terms = {columns: _t_term(index, columns, y) for columns in {e.columns for e in effects} | {frozenset()}}
    t_total = float(np.dot(y, y))

    df = [_df(index, e) for e in effects]
    for effect, d in zip(effects, df, strict=True):
        if d <= 0:
            raise DesignError(_no_degrees_of_freedom(index, effect))
    ss = [sum(sign * t_terms[cols] for sign, cols in _alternating(e)) for e in effects]
    names = [e.name for e in effects]
    if replicated:
        df.append(index.n - index.n_cells(full))
        ss.append(t_total - t_terms[full])
        names.append(RESIDUAL)
    else:
        names[-1] = f"{names[-1]},{RESIDUAL}"
    ms = [s / d for s, d in zip(ss, df, strict=True)]

    sizes = balanced_sizes(index)
    if sizes is not None:
        variance = _anova_components(design, sizes, ms, replicated)
        estimator = ANOVA
    else:
        variance = _henderson_components(index, t_terms, t_total, replicated)
        estimator = HENDERSON
    return Anova(
        effects=effects,
        names=tuple(names),
        variance=tuple(float(v) for v in variance),
        df=tuple(float(d) for d in df),
        ms=tuple(float(m) for m in ms),
        estimator=estimator,
        replicated=replicated,
    )


def _t_term(index: CellIndex, columns: frozenset[str], y: FloatArray) -> float:
    codes, n = index.codes(columns)
    totals = np.bincount(codes, weights=y, minlength=n)
    return float(np.sum(totals * totals / index.counts(columns)))


def _alternating(effect: Effect) -> list[tuple[int, frozenset[str]]]:
    """``(sign, alpha - D)`` for every subset ``D`` of the effect's primary indices."""
    terms = []
    for size in range(len(effect.primary) + 1):
        for dropped in itertools.combinations(effect.primary, size):
            terms.append(((-1) ** size, effect.columns - frozenset(dropped)))
    return terms


def _df(index: CellIndex, effect: Effect) -> int:
    return sum(sign * index.n_cells(columns) for sign, columns in _alternating(effect))


def _no_degrees_of_freedom(index: CellIndex, effect: Effect) -> str:
    design = index.design
    for column in effect.primary:
        rest = effect.columns - {column}
        if index.n_cells(effect.columns) == index.n_cells(rest):
            if not rest:
                return (
                    f"{column!r} has a single level, so its variance (and every effect with it) cannot "
                    f"be estimated; drop it from the design"
                )
            within = " x ".join(sorted(rest, key=design.variables.index))
            return (
                f"no {within} cell has two levels of {column!r}, so sigma^2({effect.name}) cannot be "
                f"separated from the effects around it (no replication); drop {column!r} or add data "
                f"where it varies"
            )
    return (
        f"the data give no degrees of freedom for sigma^2({effect.name}): its levels are confounded "
        f"with those of other effects"
    )


def balanced_sizes(index: CellIndex) -> dict[str, int] | None:
    """Brennan's sample sizes ``n`` of every index when the data are balanced, else ``None``.

    Balanced: each index has the same number of levels within every cell of the indices it is
    nested in, every combination of levels is observed, and replication is constant.
    """
    design = index.design
    sizes: dict[str, int] = {}
    for column in design.variables:
        cells = design.closure(column)
        outer = cells - {column}
        per_outer = np.bincount(index.parent_of(cells, outer), minlength=index.n_cells(outer))
        if per_outer.min() != per_outer.max():
            return None
        sizes[column] = int(per_outer[0])
    full = frozenset(design.variables)
    if index.n_cells(full) != int(np.prod(list(sizes.values()), dtype=np.int64)):
        return None
    counts = index.counts(full)
    if counts.min() != counts.max():
        return None
    sizes[RESIDUAL] = int(counts[0])
    return sizes


def _anova_components(design: Design, sizes: Mapping[str, int], ms: list[float], replicated: bool) -> FloatArray:
    """Solve ``EMS(alpha) = sum_{beta >= alpha} pi(not beta) sigma^2(beta)`` (Brennan eq. 3.20)."""
    columns = [e.columns for e in design.effects]
    if replicated:
        columns.append(frozenset(design.variables) | {RESIDUAL})
    everything = (*design.variables, RESIDUAL)
    k = len(columns)
    ems = np.zeros((k, k))
    for a, alpha in enumerate(columns):
        for b, beta in enumerate(columns):
            if alpha <= beta:
                ems[a, b] = np.prod([sizes[x] for x in everything if x not in beta], dtype=np.float64)
    return np.linalg.solve(ems, np.asarray(ms))


def _henderson_components(
    index: CellIndex, t_terms: Mapping[frozenset[str], float], t_total: float, replicated: bool
) -> FloatArray:
    """Solve ``T = K [mu^2, sigma^2...]`` (Henderson 1953, Method 1)."""
    design = index.design
    n = float(index.n)
    rows: list[frozenset[str] | None] = [frozenset(), *(e.columns for e in design.effects)]
    unknowns: list[frozenset[str] | None] = [e.columns for e in design.effects]
    if replicated:
        rows.append(None)  # T(total)
        unknowns.append(None)  # sigma^2(e): one cell per observation
    k = np.empty((len(rows), len(unknowns) + 1))
    k[:, 0] = n  # coefficient of mu^2
    for a, alpha in enumerate(rows):
        for b, beta in enumerate(unknowns, start=1):
            k[a, b] = _coefficient(index, alpha, beta)
    observed = np.array([t_terms[r] if r is not None else t_total for r in rows])
    try:
        solution = np.linalg.solve(k, observed)
    except np.linalg.LinAlgError:
        raise DesignError(
            "the design's effects are confounded in these data (the Henderson equations are singular): "
            "some facets never vary independently of others; simplify the design"
        ) from None
    if not np.all(np.isfinite(solution)) or np.linalg.cond(k) > 1e12:
        raise DesignError(
            "the design's effects are (almost) confounded in these data: the Henderson equations are "
            "ill-conditioned; simplify the design"
        )
    return solution[1:]


def _coefficient(index: CellIndex, alpha: frozenset[str] | None, beta: frozenset[str] | None) -> float:
    """``k(alpha, beta)``: the coefficient of ``sigma^2(beta)`` in ``E T(alpha)``.

    ``None`` stands for the observations themselves (the total T term, or the residual ``e``).
    """
    n = float(index.n)
    if alpha is None:
        return n  # T(total): every component has coefficient N
    if beta is None:
        return float(index.n_cells(alpha))  # residual: one cell per observation
    if beta <= alpha:
        return n
    union = alpha | beta
    counts = index.counts(union).astype(np.float64)
    outer = index.counts(alpha).astype(np.float64)[index.parent_of(union, alpha)]
    return float(np.sum(counts * counts / outer))


def effective_sizes(index: CellIndex) -> dict[frozenset[str], float]:
    """The number of conditions each effect averages over in one object's score.

    For object ``g`` and effect ``alpha``, with ``C_gv`` the number of the object's observations
    in cell ``v`` of ``alpha``, Brennan's (2001, eq. 7.28) effective sample size is
    ``L_g = (sum_v C_gv)^2 / sum_v C_gv^2``: the error variance of the object's mean score from
    ``alpha`` is ``sigma^2(alpha) / L_g``. Over objects the harmonic mean of ``L_g`` is taken, so
    that the average error variance is ``sigma^2(alpha) / L`` (as GeneralizIT does, Smith &
    Kline 2025). Balanced data give the product of the sample sizes of the effect's facets, the
    unbalanced ``p x (i:h)`` design gives Brennan's ``n_i+^2 / sum n_i:h^2`` (his eq. 7.15), and
    missing cells in ``p x i`` give the harmonic mean of the persons' numbers of items.
    """
    design = index.design
    objects = design.object_cells
    n_objects = index.n_cells(objects)
    sizes: dict[frozenset[str], float] = {}
    for effect in design.effects:
        union = effect.columns | objects
        counts = index.counts(union).astype(np.float64)
        owner = index.parent_of(union, objects)
        total = np.bincount(owner, weights=counts, minlength=n_objects)
        squares = np.bincount(owner, weights=counts * counts, minlength=n_objects)
        sizes[effect.columns] = float(n_objects / np.sum(squares / (total * total)))
    return sizes
