"""Generalizability theory: G studies and D studies (Cronbach et al. 1972; Brennan 2001).

A **G study** splits the variance of the scores into *variance components*, one for each effect
of the design (:mod:`._design`): for ``p x (r:t)``, persons ``sigma^2(p)``, tasks ``sigma^2(t)``,
raters within tasks ``sigma^2(r:t)``, the person-task interaction ``sigma^2(pt)`` and the residual
``sigma^2(pr:t,e)``. Balanced data are analysed with the ANOVA estimator (expected mean squares);
unbalanced or missing data with Henderson's (1953) Method 1, Brennan's analogous ANOVA as in
urGENOVA (see :mod:`._anova`).

A **D study** asks how dependable the mean of ``n'`` conditions of each facet would be. For the
object of measurement ``p`` (Brennan 2001, chapter 4; section 4.4 for fixed facets):

    sigma^2(tau)   = sigma^2(p)  [+ sum sigma^2(alpha)/n'(alpha) over alpha = p x fixed facets only]
    sigma^2(delta) = sum sigma^2(alpha)/n'(alpha) over the other effects that contain p
    sigma^2(Delta) = sigma^2(delta) + sum sigma^2(alpha)/n'(alpha) over effects without p
                     (those made of fixed facets only excepted)
    E rho^2 = sigma^2(tau) / (sigma^2(tau) + sigma^2(delta))           generalizability
    Phi     = sigma^2(tau) / (sigma^2(tau) + sigma^2(Delta))           dependability

where ``n'(alpha)`` is the product of the D-study sample sizes of the facets in ``alpha``.
If the object is itself nested (``p:d``), the effects of the columns it is nested in belong to
the universe score, as in GeneralizIT (Smith & Kline 2025). A negative component is reported
as estimated and taken as 0 in these formulas (Brennan 2001, section 3.4.3).

At the observed sample sizes of unbalanced data, ``n'(alpha)`` is the harmonic mean over objects
of Brennan's effective sample size ``(sum_v C_v)^2 / sum_v C_v^2`` (see
:func:`._anova.effective_sizes`); with balanced data it is the plain product of sample sizes.

References
    Brennan RL (2001). Generalizability Theory. New York: Springer.
    Brennan RL (2001). Manual for urGENOVA, version 2.1. Iowa Testing Programs Occasional
    Paper 49. Iowa City: University of Iowa.
    Cronbach LJ, Gleser GC, Nanda H, Rajaratnam N (1972). The Dependability of Behavioral
    Measurements. New York: Wiley.
    Henderson CR (1953). Estimation of variance and covariance components. Biometrics 9:226-252.
    Searle SR, Casella G, McCulloch CE (1992). Variance Components. New York: Wiley.
    Smith TJ, Kline TJB (2025). Unbalanced and missing data generalizability analyses: a tutorial
    based on Henderson (1953) and Brennan (2001). GeneralizIT documentation.

Checked against: the printed results for Brennan's (2001) synthetic data sets No. 1-4 and his
unbalanced ``p x (i:h)`` example, GeneralizIT's worked missing-data example and GeneralizIT's
D studies, in ``tests/unit/test_generalizability.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from session_rater.domain.dependability._anova import (
    RESIDUAL,
    CellIndex,
    effective_sizes,
    estimate,
)
from session_rater.domain.dependability._design import Design, make_design
from session_rater.errors import DesignError


@dataclass(frozen=True)
class VarianceComponent:
    """One row of a G study's ANOVA table.

    ``effect`` is Brennan's name (``pr:t``; ``pi,e`` when the highest-order interaction is
    confounded with the residual), ``columns`` the data columns that make the effect, ``variance``
    the estimated component (negative estimates kept), ``df`` and ``ms`` the degrees of freedom and
    mean square (Brennan's "analogous" ones for unbalanced data).
    """

    effect: str
    columns: tuple[str, ...]
    variance: float
    df: float
    ms: float


@dataclass(frozen=True)
class DStudy:
    """A D study: coefficients for a mean over ``sizes`` conditions of each facet.

    ``sizes`` gives the sample size used for every facet (named ones and observed ones alike),
    ``fixed`` the facets treated as fixed.
    """

    sizes: Mapping[str, float]
    fixed: tuple[str, ...]
    universe_score_variance: float
    relative_error_variance: float
    absolute_error_variance: float
    erho2: float
    phi: float


@dataclass(frozen=True)
class GStudy:
    """Variance components of a design, and its coefficients at the observed sample sizes.

    ``design`` is Brennan's name of the design (``p x (r:t)``), ``estimator`` says how the
    components were estimated (``"ANOVA"`` or ``"Henderson Method 1"``), ``erho2`` and ``phi``
    are the generalizability and dependability coefficients at the observed sample sizes, whose
    effective values for each facet are in ``sample_sizes``. Use :meth:`component` for one
    component and :meth:`d_study` for other sample sizes.
    """

    design: str
    estimator: str
    object: str
    facets: tuple[str, ...]
    nested: Mapping[str, str]
    components: tuple[VarianceComponent, ...]
    erho2: float
    phi: float
    universe_score_variance: float
    relative_error_variance: float
    absolute_error_variance: float
    sample_sizes: Mapping[str, float]
    n_objects: int
    n_observations: int
    _design: Design = field(repr=False, compare=False)
    _effect_sizes: Mapping[frozenset[str], float] = field(repr=False, compare=False)

    def component(self, *names: str) -> float:
        """The variance component of the effect made of these columns, in any order.

        ``component("rater", "task")`` is ``sigma^2(r:t)``; ``component("person", "rater",
        "task")`` is ``sigma^2(pr:t,e)``.
        """
        wanted = frozenset(names)
        for row in self.components:
            if frozenset(row.columns) == wanted:
                return row.variance
        known = ", ".join(f"{row.effect} {row.columns}" for row in self.components)
        raise KeyError(f"no effect is made of {sorted(wanted)}; the effects are: {known}")

    def d_study(self, sizes: Mapping[str, float] | None = None, fixed: Iterable[str] = ()) -> DStudy:
        """Coefficients for a balanced D study with ``sizes`` conditions of the named facets.

        Facets not named keep their observed (effective) sample size, ``self.sample_sizes``.
        ``fixed`` names facets treated as fixed: their interactions with the object move into
        the universe-score variance, averaged over the facet's levels (Brennan 2001, 4.4).
        """
        sizes = dict(sizes or {})
        fixed = tuple(fixed)
        for name, group in (("sizes", sizes), ("fixed", fixed)):
            for facet in group:
                if facet not in self.facets:
                    raise DesignError(f"{name}: {facet!r} is not a facet of this G study ({list(self.facets)})")
        for facet, n in sizes.items():
            if not isinstance(n, (int, float, np.integer, np.floating)) or isinstance(n, bool) or not n > 0:
                raise DesignError(f"sizes[{facet!r}] must be a positive number of conditions; got {n!r}")
        used = {**self.sample_sizes, **{k: float(v) for k, v in sizes.items()}}
        observed = _facet_sizes(self._design, self._effect_sizes)
        facet_sizes = {**used, **({RESIDUAL: observed[RESIDUAL]} if RESIDUAL in observed else {})}

        def n_prime(columns: frozenset[str]) -> float:
            return float(np.prod([facet_sizes[c] for c in columns - self._design.object_cells]))

        tau, delta, big_delta = _error_variances(self._design, self._variances(), n_prime, set(fixed))
        return DStudy(
            sizes=used,
            fixed=fixed,
            universe_score_variance=tau,
            relative_error_variance=delta,
            absolute_error_variance=big_delta,
            erho2=_ratio(tau, delta),
            phi=_ratio(tau, big_delta),
        )

    def _variances(self) -> dict[frozenset[str], float]:
        return {_key(row): row.variance for row in self.components}


def g_study(
    data: pd.DataFrame,
    *,
    object: str,
    facets: Iterable[str],
    nested: Mapping[str, str] | None = None,
    value: str = "score",
) -> GStudy:
    """Estimate the variance components of a design and its coefficients (a G study).

    ``data`` is long: one row per observation, with the ``object`` column (what is measured: a
    tutor), one column per facet (``["rater", "item"]``) and the ``value``. A missing
    observation is an absent row or a NaN value. ``nested`` maps a column to the column it is
    nested in: ``{"rater": "session"}`` when each session has its own raters, ``{"item":
    "person"}`` for items nested in persons; a nested column's levels are identified within
    their parent, so ``rater`` ids may be reused across sessions.

    Balanced data use the ANOVA estimator, unbalanced or missing data Henderson's Method 1
    (``GStudy.estimator`` says which). Raises :class:`~session_rater.errors.DesignError`
    when the data cannot support the design: a single level of a facet, no replication of an
    effect (every session rated by one rater, say), or scores that are all equal.
    """
    design = make_design(data, object=object, facets=facets, nested=nested, value=value)
    frame = _observations(data, design, value)
    y = frame[value].to_numpy(dtype=np.float64)
    index = CellIndex(frame, design)
    anova = estimate(index, y)
    sizes = effective_sizes(index)
    if anova.replicated:
        sizes[frozenset(design.variables) | {RESIDUAL}] = _residual_size(index)
    components = []
    for effect_columns, name, variance, df, ms in zip(
        [e.columns for e in anova.effects] + ([frozenset(design.variables) | {RESIDUAL}] if anova.replicated else []),
        anova.names,
        anova.variance,
        anova.df,
        anova.ms,
        strict=True,
    ):
        ordered = tuple(c for c in design.variables if c in effect_columns)
        components.append(VarianceComponent(name, ordered, variance, df, ms))
    variances = {_key(c): c.variance for c in components}

    tau, delta, big_delta = _error_variances(design, variances, sizes.__getitem__, set())
    return GStudy(
        design=design.name,
        estimator=anova.estimator,
        object=design.object,
        facets=design.facets,
        nested=dict(design.parent),
        components=tuple(components),
        erho2=_ratio(tau, delta),
        phi=_ratio(tau, big_delta),
        universe_score_variance=tau,
        relative_error_variance=delta,
        absolute_error_variance=big_delta,
        sample_sizes={f: v for f, v in _facet_sizes(design, sizes).items() if f in design.facets},
        n_objects=index.n_cells(design.object_cells),
        n_observations=index.n,
        _design=design,
        _effect_sizes=sizes,
    )


def _observations(data: pd.DataFrame, design: Design, value: str) -> pd.DataFrame:
    """The rows that hold an observation: a value that is a number, every index present."""
    frame = data[[*design.variables, value]]
    if not pd.api.types.is_numeric_dtype(frame[value]) or pd.api.types.is_bool_dtype(frame[value]):
        raise DesignError(f"the value column {value!r} must hold numbers; it has dtype {frame[value].dtype}")
    missing_index = frame[list(design.variables)].isna().any(axis=1)
    if missing_index.any():
        column = next(c for c in design.variables if frame[c].isna().any())
        raise DesignError(f"{int(missing_index.sum())} row(s) have no {column!r}: every observation needs its indices")
    frame = frame[frame[value].notna()]
    values = frame[value].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise DesignError(f"the value column {value!r} holds infinite values")
    if len(values) == 0:
        raise DesignError("there are no observations (every value is missing)")
    if np.ptp(values) == 0:
        raise DesignError(
            f"every score is {values[0]:g}: there is no variance to split into components, and no coefficient is defined"
        )
    return frame.reset_index(drop=True)


def _key(component: VarianceComponent) -> frozenset[str]:
    columns = frozenset(component.columns)
    return columns | {RESIDUAL} if component.effect == RESIDUAL else columns


def _residual_size(index: CellIndex) -> float:
    """Effective number of observations per object (the residual's sample size when replicated)."""
    design = index.design
    objects = design.object_cells
    counts = index.counts(objects).astype(np.float64)
    return float(len(counts) / np.sum(1.0 / counts))


def _facet_sizes(design: Design, sizes: Mapping[frozenset[str], float]) -> dict[str, float]:
    """Observed sample size of each facet: ``L(facet with its nesting) / L(its nesting)``."""

    def size_of(columns: frozenset[str]) -> float:
        if columns <= design.object_cells:
            return 1.0
        return sizes[columns]

    result = {}
    for facet in design.facets:
        cells = design.closure(facet)
        result[facet] = size_of(cells) / size_of(cells - {facet})
    residual = frozenset(design.variables) | {RESIDUAL}
    if residual in sizes:
        result[RESIDUAL] = sizes[residual] / size_of(frozenset(design.variables))
    return result


def _error_variances(
    design: Design,
    variances: Mapping[frozenset[str], float],
    n_prime: Callable[[frozenset[str]], float],
    fixed: set[str],
) -> tuple[float, float, float]:
    """``sigma^2(tau), sigma^2(delta), sigma^2(Delta)`` (Brennan 2001, eqs. 4.10-4.12; 4.4)."""
    universe = design.object_cells
    tau = delta = absolute_only = 0.0
    for columns, variance in variances.items():
        sigma2 = max(variance, 0.0)  # Brennan's convention: a negative estimate enters as 0
        facets_in = columns - universe - {RESIDUAL}
        if not facets_in and RESIDUAL not in columns:
            tau += sigma2
            continue
        share = sigma2 / n_prime(columns)
        all_fixed = bool(facets_in) and facets_in <= fixed and RESIDUAL not in columns
        if design.object in columns:
            if all_fixed:
                tau += share
            else:
                delta += share
        elif not all_fixed:
            absolute_only += share
    return tau, delta, delta + absolute_only


def _ratio(tau: float, error: float) -> float:
    if tau + error <= 0:
        raise DesignError(
            "the universe-score and error variances are all zero (or negative estimates set to zero): "
            "the coefficient is not defined"
        )
    return tau / (tau + error)
