"""The report itself: :func:`analyse` from long-format scores to every figure, and the result
types it returns."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd

from session_rater.domain import readings
from session_rater.domain.agreement import (
    AgreementError,
    AgreementResult,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
    percent_agreement,
)
from session_rater.domain.bias import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    ROLES,
    SCORE_COLUMNS,
    BiasReport,
    bias_against_benchmark,
    group_codes,
)
from session_rater.domain.independence import (
    IndependenceReport,
    assess_independence,
    kappa_paradox,
)
from session_rater.errors import ScoreError
from session_rater.usecases.analysis.dependability import Dependability, assess_dependability

Matrix = np.ndarray
T = TypeVar("T")
Categories = Sequence[float] | None

MATRICES: Mapping[str, str] = {
    "raters": (
        "units x rating slots: one row per (session, tutor, item) scored by at least two raters of any "
        "capacity (the benchmark included); one column per rating of the unit, missing where a unit has "
        "fewer ratings than the most-rated one. These measures do not depend on which rater sits in which "
        "column."
    ),
    "capacities": (
        "units x capacities: one row per (session, tutor, item), one column per capacity (tutor, "
        "treatment_manager, external_assessor, benchmark) that scored at least half of the units scored "
        "twice or more; a capacity with several raters on a unit contributes their mean; only units "
        "scored in every one of those capacities (complete cases), as the two-way model needs. A "
        "capacity's systematic over-scoring lowers this absolute-agreement ICC."
    ),
}


@dataclass(frozen=True)
class MeasureSpec:
    """One agreement figure of the report: the matrix it is computed on and how."""

    label: str
    short: str
    matrix: str
    compute: Callable[[Matrix, Categories, int, int], AgreementResult]


MEASURES: Mapping[str, MeasureSpec] = {
    "krippendorff_alpha_ordinal": MeasureSpec(
        "Krippendorff's alpha (ordinal)",
        "alpha",
        "raters",
        lambda x, c, seed, n_boot: krippendorff_alpha(x, level="ordinal", categories=c, seed=seed, n_boot=n_boot),
    ),
    "gwet_ac2_quadratic": MeasureSpec(
        "Gwet's AC2 (quadratic weights)",
        "AC2",
        "raters",
        lambda x, c, seed, n_boot: gwet_ac(x, weights="quadratic", categories=c),
    ),
    "fleiss_kappa": MeasureSpec(
        "Fleiss' kappa", "kappa", "raters", lambda x, c, seed, n_boot: fleiss_kappa(x, categories=c)
    ),
    "percent_agreement": MeasureSpec(
        "Exact agreement", "exact", "raters", lambda x, c, seed, n_boot: percent_agreement(x)
    ),
    "percent_agreement_within_1": MeasureSpec(
        "Agreement within one point", "within 1", "raters", lambda x, c, seed, n_boot: percent_agreement(x, tolerance=1)
    ),
    "icc_2_1": MeasureSpec(
        "ICC(2,1), absolute agreement", "ICC", "capacities", lambda x, c, seed, n_boot: icc(x, form="ICC(2,1)")
    ),
}
"""The agreement figures of the report, in report order; names as in the agreement registry."""

ROLE_LABELS = {
    "tutor": "tutor (self)",
    "treatment_manager": "treatment manager",
    "external_assessor": "external assessor",
    "benchmark": "benchmark",
}


@dataclass(frozen=True)
class MeasureResult:
    """An agreement figure, or why there is none (``value`` None and ``note``)."""

    name: str
    value: float | None
    ci: tuple[float, float] | None
    n_units: int | None
    n_raters: int | None
    method: str | None
    note: str | None
    reading: readings.Reading | None


@dataclass(frozen=True)
class AgreementSummary:
    overall: Mapping[str, MeasureResult]
    by_item: Mapping[str, Mapping[str, MeasureResult]]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class AnalysisReport:
    n_rows: int
    n_scores: int
    n_not_applicable: int
    benchmark_role: str | None
    bias: BiasReport
    agreement: AgreementSummary
    independence: IndependenceReport
    categories: tuple[float, ...] | None
    seed: int
    n_boot: int
    skipped_rows: int = 0
    source: str | None = None
    timings: Mapping[str, float] = field(default_factory=dict, compare=False)
    dependability: Dependability | None = None
    """The G study, D studies and many-facet Rasch model (:mod:`.dependability`)."""
    scale_source: str | None = None
    """Where ``categories`` came from (``--scale``, a rubric), or why no scale is known."""


def analyse(
    scores: pd.DataFrame,
    *,
    benchmark_role: str | None = None,
    seed: int = DEFAULT_SEED,
    n_boot: int = DEFAULT_RESAMPLES,
    categories: Sequence[float] | None = None,
    skipped_rows: int = 0,
    source: str | None = None,
    scale_source: str | None = None,
    dependability: bool = True,
) -> AnalysisReport:
    """Every figure of the report from long-format scores (see :data:`SCORE_COLUMNS`).

    ``benchmark_role`` None: master scores (``benchmark``) where they exist for a unit, else the
    external assessors'. ``seed`` fixes every resampling (bias intervals and alpha's interval).
    ``categories``: the scale's points (points nobody used still count in chance agreement);
    inferred from the scores when None; ``scale_source`` says where they came from (the report
    says "given by the caller" or "none given" when it is None). ``skipped_rows`` and ``source``
    are carried into the report (how many bad rows the caller left out, and from where the scores
    came). The report also holds how dependable a tutor's score is and how severe each rater
    (:func:`.dependability.assess_dependability`), or why the data cannot tell; with
    ``dependability=False`` it does not (``report.dependability`` None): the G study and Rasch
    model take most of the time at national scale, and a page computes them apart.
    """
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise ScoreError(f"the scores lack the column(s) {', '.join(missing)}; expected {', '.join(SCORE_COLUMNS)}")
    if benchmark_role is not None and benchmark_role not in ROLES:
        raise ScoreError(f"unknown benchmark role {benchmark_role!r}; expected one of {', '.join(ROLES)}")
    scored = scores.loc[scores["score"].notna()]
    if scored.empty:
        raise ScoreError("there are no scores to analyse (every row is empty or not applicable)")
    present = set(map(str, pd.unique(scored["rater_role"])))
    unknown = sorted(present - set(ROLES))
    if unknown:
        raise ScoreError(f"unknown rater_role(s) {', '.join(map(repr, unknown))}; expected one of {', '.join(ROLES)}")
    if benchmark_role is not None and benchmark_role not in present:
        raise ScoreError(
            f"no scores have rater_role {benchmark_role!r}, so it cannot be the benchmark; roles present: "
            f"{', '.join(sorted(present))}"
        )
    cats = tuple(float(c) for c in categories) if categories is not None else None
    timings: dict[str, float] = {}

    def timed(stage: str, compute: Callable[[], T]) -> T:
        clock = time.perf_counter()
        result = compute()
        timings[stage] = time.perf_counter() - clock
        return result

    # The four parts read the scores and share nothing else: on a machine with several cores
    # they run side by side (numpy and pandas release the GIL in their heavy loops). BLAS is held
    # to one thread meanwhile: its own threads would compete with ours for the same cores (measured
    # on 2 cores: twice the CPU time, mostly spent spin-waiting).
    with _single_threaded_blas(), ThreadPoolExecutor(max_workers=min(3, os.cpu_count() or 1)) as pool:
        bias_job = pool.submit(
            timed,
            "over-scoring (bootstrap)",
            lambda: bias_against_benchmark(
                scores.copy(deep=False), benchmark_role=benchmark_role, n_boot=n_boot, seed=seed
            ),
        )
        agreement_job = pool.submit(timed, "agreement", lambda: _agreement(scored.copy(deep=False), cats, seed, n_boot))
        independence_job = pool.submit(
            timed, "halo and straight-lining", lambda: assess_independence(scored.copy(deep=False))
        )
        dependability_job = pool.submit(
            timed, "G study and Rasch model", lambda: assess_dependability(scored.copy(deep=False))
        ) if dependability else None
        bias, agreement, independence = bias_job.result(), agreement_job.result(), independence_job.result()
        figures = dependability_job.result() if dependability_job is not None else None

    return AnalysisReport(
        n_rows=len(scores),
        n_scores=len(scored),
        n_not_applicable=len(scores) - len(scored),
        benchmark_role=bias.reference.role,
        bias=bias,
        agreement=agreement,
        independence=independence,
        categories=cats,
        seed=seed,
        n_boot=n_boot,
        skipped_rows=skipped_rows,
        source=source,
        timings=timings,
        dependability=figures,
        scale_source=scale_source or ("given by the caller" if cats is not None else None),
    )


def _single_threaded_blas() -> AbstractContextManager[object]:
    """BLAS limited to one thread where threadpoolctl is installed; otherwise left as it is."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - an optional speed-up, not a requirement
        return nullcontext()
    limits: AbstractContextManager[object] = threadpool_limits(limits=1, user_api="blas")
    return limits


# -- agreement -------------------------------------------------------------------------------------


def _agreement(scored: pd.DataFrame, categories: Categories, seed: int, n_boot: int) -> AgreementSummary:
    unit, n_units = group_codes(scored, ("session_id", "tutor_id", "item_id"))
    item_codes, n_items = group_codes(scored, ("item_id",))
    item_names = _names(scored["item_id"], item_codes, n_items)
    unit_item = np.zeros(n_units, dtype=np.int64)
    unit_item[unit] = item_codes
    value = scored["score"].to_numpy(dtype=float)
    role = _role_codes(scored["rater_role"])
    raters, raters_item = _rater_slots(unit, value, n_units, unit_item)
    capacities, capacities_item = _capacity_columns(unit, value, role, n_units, unit_item)
    matrices = {
        "raters": _ByItem(raters, raters_item, n_items),
        "capacities": _ByItem(capacities, capacities_item, n_items),
    }

    # On the "raters" matrix a column is a rating slot, not a person: count the people.
    rater_code, _ = group_codes(scored, ("rater_id", "rater_role"))
    shared = np.bincount(unit, minlength=n_units)[unit] >= 2

    def people(item: int | None) -> int:
        mask = shared if item is None else shared & (item_codes == item)
        return int(np.unique(rater_code[mask]).size)

    warnings: list[str] = []
    overall = _measures(matrices, None, categories, seed, n_boot, "all items", warnings, people(None))
    by_item = {
        item_names[i]: _measures(matrices, i, categories, seed, n_boot, f"item {item_names[i]}", warnings, people(i))
        for i in range(n_items)
    }
    return AgreementSummary(overall, by_item, tuple(warnings))


class _ByItem:
    """A units x columns matrix with its rows sorted by item, so that each item's rows are a view."""

    def __init__(self, matrix: Matrix, items: np.ndarray, n_items: int):
        order = np.argsort(items, kind="stable")
        self.matrix = matrix[order]
        self.bounds = np.concatenate([[0], np.cumsum(np.bincount(items, minlength=n_items))])

    def rows(self, item: int | None) -> Matrix:
        return self.matrix if item is None else self.matrix[self.bounds[item] : self.bounds[item + 1]]


def _rater_slots(unit: np.ndarray, value: np.ndarray, n_units: int, unit_item: np.ndarray) -> tuple[Matrix, np.ndarray]:
    """Units scored twice or more x rating slots (see :data:`MATRICES`), and each row's item."""
    order = np.argsort(unit, kind="stable")
    count = np.bincount(unit, minlength=n_units)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    slot = np.empty(unit.size, dtype=np.int64)
    slot[order] = np.arange(unit.size) - start[unit[order]]
    keep = count >= 2
    row = np.cumsum(keep) - 1
    width = int(count.max()) if count.size else 0
    matrix = np.full((int(keep.sum()), max(width, 1)), np.nan)
    rated = keep[unit]
    matrix[row[unit[rated]], slot[rated]] = value[rated]
    return matrix, unit_item[keep]


def _capacity_columns(
    unit: np.ndarray, value: np.ndarray, role: np.ndarray, n_units: int, unit_item: np.ndarray
) -> tuple[Matrix, np.ndarray]:
    """Units x capacities with the capacity's mean score (see :data:`MATRICES`), and each row's item."""
    k = len(ROLES)
    cell = unit * k + role
    total = np.bincount(cell, weights=value, minlength=n_units * k).reshape(n_units, k)
    count = np.bincount(cell, minlength=n_units * k).reshape(n_units, k)
    multiply_rated = count.sum(axis=1) >= 2
    if not multiply_rated.any():
        return np.full((0, 2), np.nan), np.zeros(0, dtype=np.int64)
    coverage = (count[multiply_rated] > 0).mean(axis=0)
    columns = np.flatnonzero(coverage >= 0.5)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = total[:, columns] / count[:, columns]
    complete = multiply_rated & (count[:, columns] > 0).all(axis=1)
    return means[complete], unit_item[complete]


def _role_codes(role: pd.Series) -> np.ndarray:
    """Index of each row's rater_role in :data:`ROLES` (the CSV reader has rejected any other)."""
    codes, names = pd.factorize(role)
    lookup = np.asarray([ROLES.index(str(name)) for name in names], dtype=np.int64)
    return np.asarray(lookup[codes])


def _measures(
    matrices: Mapping[str, _ByItem],
    item: int | None,
    categories: Categories,
    seed: int,
    n_boot: int,
    where: str,
    warnings: list[str],
    n_people: int,
) -> dict[str, MeasureResult]:
    results: dict[str, MeasureResult] = {}
    computed: dict[str, AgreementResult] = {}
    for name, spec in MEASURES.items():
        x = matrices[spec.matrix].rows(item)
        try:
            result = spec.compute(x, categories, seed, n_boot)
        except AgreementError as error:
            results[name] = MeasureResult(name, None, None, None, None, None, str(error), None)
            continue
        computed[name] = result
        ci = _finite_ci(result.ci)
        value = result.value if math.isfinite(result.value) else None
        results[name] = MeasureResult(
            name,
            value,
            ci,
            result.n_units,
            n_people if spec.matrix == "raters" else result.n_raters,
            result.method,
            None if value is not None else "the figure is not finite for these data",
            readings.read(name, value, ci),
        )
    x = matrices["raters"].rows(item)
    if x.size:
        paradox = kappa_paradox(
            x,
            categories=categories,
            kappa=computed.get("fleiss_kappa"),
            ac2=computed.get("gwet_ac2_quadratic"),
            agreement=computed.get("percent_agreement"),
        )
        if paradox is not None:
            warnings.append(f"{where}: {paradox.message}")
    return results


def _finite_ci(ci: tuple[float, float] | None) -> tuple[float, float] | None:
    if ci is None or not all(math.isfinite(v) for v in ci):
        return None
    return (float(ci[0]), float(ci[1]))


def _names(column: pd.Series, codes: np.ndarray, n: int) -> list[str]:
    first = np.full(n, codes.size)
    np.minimum.at(first, codes, np.arange(codes.size))
    return [str(v) for v in column.iloc[first]]


# -- JSON ------------------------------------------------------------------------------------------


