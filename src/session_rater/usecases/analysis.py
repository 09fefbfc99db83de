"""The agreement and over-scoring report: one call from long-format scores to every figure.

:func:`analyse` assembles the pure parts of ``session_rater.domain``:

* **over-scoring** (:mod:`~session_rater.domain.bias`): each score minus the reference score of
  the same session, tutor and item, per rater, capacity, item and tutor, with session-cluster
  bootstrap intervals, Wilcoxon p-values, the share scored a point or more above and
  Bland-Altman limits;
* **agreement** (:mod:`~session_rater.domain.agreement`) among the raters of the same
  (session, tutor, item), overall and per item, each figure with its reading
  (:mod:`~session_rater.domain.readings`), and the kappa-paradox warning where ratings pile up
  at one end of the scale (:mod:`~session_rater.domain.independence`);
* **independence**: straight-line forms and halo raters.

:func:`report_to_json` gives the JSON contract of ``session-rater analyse --format json``
(issue 4); :func:`report_to_text` a readable report that states the reference used.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

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
    BiasEstimate,
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


def analyse(
    scores: pd.DataFrame,
    *,
    benchmark_role: str | None = None,
    seed: int = DEFAULT_SEED,
    n_boot: int = DEFAULT_RESAMPLES,
    categories: Sequence[float] | None = None,
    skipped_rows: int = 0,
    source: str | None = None,
) -> AnalysisReport:
    """Every figure of the report from long-format scores (see :data:`SCORE_COLUMNS`).

    ``benchmark_role`` None: master scores (``benchmark``) where they exist for a unit, else the
    external assessors'. ``seed`` fixes every resampling (bias intervals and alpha's interval).
    ``categories``: the scale's points (points nobody used still count in chance agreement);
    inferred from the scores when None. ``skipped_rows`` and ``source`` are carried into the
    report (how many bad rows the caller left out, and from where the scores came).
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

    # The three parts read the scores and share nothing else: on a machine with several cores
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
        bias, agreement, independence = bias_job.result(), agreement_job.result(), independence_job.result()

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


def report_to_json(report: AnalysisReport) -> dict[str, Any]:
    """The JSON contract of issue 4, with a few keys more (reference, bootstrap, methods,
    warnings, bias_by_tutor, skipped_rows); NaN never appears: a missing figure is None."""
    bias = report.bias
    plain: dict[str, Any] = _clean(
        {
            "n_scores": report.n_scores,
            "n_not_applicable": report.n_not_applicable,
            "skipped_rows": report.skipped_rows,
            "benchmark_role": report.benchmark_role,
            "reference": {
                "requested": bias.reference.requested,
                "description": bias.reference.describe(),
                "pairs_by_source": dict(bias.reference.pairs_by_source),
            },
            "bootstrap": {
                "resamples": bias.n_boot,
                "seed": bias.seed,
                "resampled_unit": "session",
                "interval": f"{bias.confidence:.0%} percentile",
            },
            "agreement": {
                "overall": {name: _measure_json(m) for name, m in report.agreement.overall.items()},
                "by_item": {
                    item: {name: _measure_json(m, method=False) for name, m in measures.items()}
                    for item, measures in report.agreement.by_item.items()
                },
            },
            "methods": {
                "matrices": dict(MATRICES),
                "measures": {name: {"label": spec.label, "matrix": spec.matrix} for name, spec in MEASURES.items()},
            },
            "warnings": list(report.agreement.warnings),
            "bias": [
                {"rater_id": e.key[0], "rater_role": e.key[1], **_bias_json(e, full=True)}
                for e in bias.by_rater.estimates
            ],
            "bias_by_role": {str(e.key[0]): _bias_json(e, full=True) for e in bias.by_role.estimates},
            "bias_by_item": _nested(bias.by_item.estimates),
            "bias_by_tutor": _nested(bias.by_tutor.estimates),
            "halo": [
                {"rater_id": f.rater_id, "rater_role": f.rater_role, "flag": f.flag, "detail": f.detail}
                for f in report.independence.flags
            ],
        }
    )
    return plain


def _measure_json(m: MeasureResult, *, method: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "value": m.value,
        "ci": list(m.ci) if m.ci else None,
        "n_units": m.n_units,
        "n_raters": m.n_raters,
        "reading": m.reading.text if m.reading else None,
        "reading_source": m.reading.scale if m.reading else None,
        "reading_basis": m.reading.basis if m.reading else None,
        "matrix": MEASURES[m.name].matrix,
    }
    if method:
        out["method"] = m.method
    if m.note:
        out["note"] = m.note
    return out


def _bias_json(e: BiasEstimate, *, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"n": e.n, "mean_diff": e.mean_diff, "ci": list(e.ci) if e.ci else None}
    if full:
        out.update({"p_value": e.p_value, "share_over_by_1": e.share_over_by_1})
    out.update(
        {
            "n_sessions": e.n_sessions,
            "limits_of_agreement": list(e.limits) if e.limits else None,
        }
    )
    if not full:
        out.update({"p_value": e.p_value, "share_over_by_1": e.share_over_by_1})
    return out


def _nested(estimates: Sequence[BiasEstimate]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in estimates:
        key = "none" if e.key[0] is None else str(e.key[0])
        out.setdefault(key, {})[str(e.key[1])] = _bias_json(e, full=False)
    return out


def _clean(value: Any) -> Any:
    """Plain JSON: NaN and infinities become None, numpy scalars Python ones, tuples lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


# -- text ------------------------------------------------------------------------------------------


def report_to_text(report: AnalysisReport, *, top: int = 20) -> str:
    """A readable report: the reference used, over-scoring by capacity, item and rater, agreement
    with readings and their sources, warnings, and halo flags (``top`` rows of long lists)."""
    out: list[str] = []
    bias = report.bias
    title = "Session Rater: agreement and over-scoring report"
    out += [title, "=" * len(title)]
    if report.source:
        out.append(f"Scores: {report.source}")
    out.append(f"Scores analysed: {report.n_scores:,} ({report.n_not_applicable:,} not applicable left out)")
    if report.skipped_rows:
        out.append(f"Rows skipped as bad: {report.skipped_rows:,} (see the messages on standard error)")
    out.append(f"Reference (benchmark): {bias.reference.describe()}")
    out.append(
        f"Intervals: {bias.confidence:.0%} percentile, {bias.n_boot:,} bootstrap resamples of sessions, "
        f"seed {bias.seed}"
    )
    out.append("")
    out += _bias_section(report, top)
    out.append("")
    out += _agreement_section(report)
    out.append("")
    out += _halo_section(report, top)
    return "\n".join(out) + "\n"


def _fmt(x: float | None, spec: str = "+.2f") -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, spec)


def _ci(ci: tuple[float, float] | None, spec: str = "+.2f") -> str:
    return "no interval" if ci is None else f"[{_fmt(ci[0], spec)}, {_fmt(ci[1], spec)}]"


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _bias_section(report: AnalysisReport, top: int) -> list[str]:
    bias = report.bias
    head = "Over-scoring: score minus reference score of the same session, tutor and item (positive = over-scoring)"
    out = [head, "-" * len(head)]
    if not bias.by_role.estimates:
        out.append(f"No pairs: {bias.reference.describe()}.")
        return out
    out.append(
        f"{'capacity':<20}{'pairs':>10}{'mean':>8}  {'95% CI':<18}{'Wilcoxon p':>11}{'1+ above':>10}"
        "  limits of agreement"
    )
    for e in bias.by_role.estimates:
        out.append(
            f"{ROLE_LABELS.get(str(e.key[0]), str(e.key[0])):<20}{e.n:>10,}{_fmt(e.mean_diff):>8}  {_ci(e.ci):<18}"
            f"{_p(e.p_value):>11}{e.share_over_by_1:>10.0%}  {_ci(e.limits)}"
        )
    roles = [str(e.key[0]) for e in bias.by_role.estimates]
    out += ["", "By item (mean difference [95% CI]):"]
    out.append(f"{'item':<16}" + "".join(f"{ROLE_LABELS.get(r, r):<28}" for r in roles))
    table: dict[str, dict[str, BiasEstimate]] = {}
    for e in bias.by_item.estimates:
        table.setdefault(str(e.key[0]), {})[str(e.key[1])] = e
    for item, cells in table.items():
        row = f"{item:<16}"
        for r in roles:
            cell = cells.get(r)
            row += f"{(_fmt(cell.mean_diff) + ' ' + _ci(cell.ci)) if cell else '-':<28}"
        out.append(row)
    ranked = sorted(bias.by_rater.estimates, key=lambda e: -e.mean_diff)
    shown = ranked[:top]
    out += ["", f"Raters ranked by mean difference ({len(shown)} of {len(ranked)}; --format json lists all):"]
    out.append(f"{'rater':<14}{'capacity':<20}{'pairs':>8}{'mean':>8}  {'95% CI':<18}{'1+ above':>9}")
    for e in shown:
        out.append(
            f"{e.key[0]!s:<14}{ROLE_LABELS.get(str(e.key[1]), str(e.key[1])):<20}{e.n:>8,}{_fmt(e.mean_diff):>8}  "
            f"{_ci(e.ci):<18}{e.share_over_by_1:>9.0%}"
        )
    out.append(
        "Method: Bland & Altman (1986) mean difference and 95% limits; percentile intervals from a "
        "bootstrap of sessions (Efron & Tibshirani 1993; Davison & Hinkley 1997); Wilcoxon (1945) "
        "signed-rank test. Groups with fewer than 5 sessions get no interval."
    )
    return out


def _agreement_section(report: AnalysisReport) -> list[str]:
    head = "Agreement among raters of the same session, tutor and item"
    out = [head, "-" * len(head)]
    out.append(f"{'measure':<34}{'value':>7}  {'95% CI':<16}{'units':>10}  reading")
    sources: dict[str, str] = {}
    for name, m in report.agreement.overall.items():
        label = MEASURES[name].label
        if m.value is None:
            out.append(f"{label:<34}{'-':>7}  {'':<16}{'':>10}  not computed: {m.note}")
            continue
        reading = ""
        if m.reading:
            reading = f"{m.reading.text} ({m.reading.scale}, on the {m.reading.basis})"
            sources[m.reading.scale] = m.reading.source
        out.append(f"{label:<34}{_fmt(m.value, '.3f'):>7}  {_ci(m.ci, '.3f'):<16}{m.n_units or 0:>10,}  {reading}")
    out += ["", "Matrices:"]
    for kind, text in MATRICES.items():
        used = ", ".join(MEASURES[n].label for n, s in MEASURES.items() if s.matrix == kind)
        out.append(f"  {kind} ({used}): {text}")
    if report.agreement.by_item:
        names = list(MEASURES)
        out += ["", "By item:"]
        out.append(f"{'item':<16}" + "".join(f"{MEASURES[n].short:>10}" for n in names))
        for item, measures in report.agreement.by_item.items():
            out.append(f"{item:<16}" + "".join(f"{_fmt(measures[n].value, '.3f'):>10}" for n in names))
    if report.agreement.warnings:
        out += ["", "Warnings:"]
        out += [f"  - {w}" for w in report.agreement.warnings]
    if sources:
        out += ["", "Readings from:"]
        out += [f"  {text}" for text in sources.values()]
    return out


def _halo_section(report: AnalysisReport, top: int) -> list[str]:
    head = "Independence of item scores (halo and straight-line scoring)"
    out = [head, "-" * len(head)]
    flags = report.independence.flags
    counts: dict[str, int] = {}
    for f in flags:
        counts[f.flag] = counts.get(f.flag, 0) + 1
    if not flags:
        out.append("No rater flagged.")
        return out
    out.append(", ".join(f"{n} rater(s) {flag.replace('_', ' ')}" for flag, n in counts.items()))
    for f in flags[:top]:
        out.append(f"  {f.rater_id!s:<12}{ROLE_LABELS.get(f.rater_role, f.rater_role):<20}{f.flag:<20}{f.detail}")
    if len(flags) > top:
        out.append(f"  ... and {len(flags) - top} more (--format json lists all)")
    return out


__all__ = [
    "MATRICES",
    "MEASURES",
    "AnalysisReport",
    "analyse",
    "report_to_json",
    "report_to_text",
    "AgreementSummary",
    "MeasureResult",
    "MeasureSpec",
]
