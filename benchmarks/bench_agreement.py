"""Speed and peak memory of the agreement coefficients, beside the fastest libraries installed.

Run: ``.venv/bin/python benchmarks/bench_agreement.py [--units 50000] [--repeat 7]``

Data: seeded synthetic ratings, 50,000 units x 4 raters on a 0-3 scale; each rater agrees
with a unit's true score about 65% of the time and is one point off otherwise; 10% of ratings
are missing. The ICC, which uses complete cases only, is also timed on 20,000 units against
pingouin (its ANOVA in pandas is slow). Libraries that are not installed are skipped with a
note: krippendorff (fast-krippendorff), statsmodels, scikit-learn, pingouin.

Columns: ``point`` is the best of ``--repeat`` runs of the point estimate (Krippendorff's
alpha with ``n_boot=0``; the other coefficients compute their analytic interval in the same
call, so ``point`` already includes it); ``with CI`` is the full call (alpha with its default
2,000-resample bootstrap); ``peak`` is the peak of memory traced by tracemalloc during one
call of the point estimate. A library is given its own input format, built outside the timing,
except where converting raw ratings is part of its API (statsmodels' ``aggregate_raters`` and
``to_table``), and is run on complete cases where it cannot take missing ratings.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from session_rater.domain.agreement import (
    cohen_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
    percent_agreement,
)

Call = Callable[[], object]
FORMS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")


def synthetic_ratings(units: int, raters: int = 4, seed: int = 20240601) -> NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, units)
    off = rng.choice([-1, 1], size=(units, raters)) * (rng.random((units, raters)) < 0.35)
    ratings: NDArray[np.float64] = np.clip(truth[:, None] + off, 0, 3).astype(np.float64)
    ratings[rng.random((units, raters)) < 0.10] = np.nan
    return ratings


SLOW_MS = 5_000
"""A call slower than this is timed once, and its memory is not traced (tracing doubles it)."""


def best_time(call: Call, repeat: int) -> float:
    start = time.perf_counter()
    call()  # warm up (imports, caches)
    first = (time.perf_counter() - start) * 1000
    if first > SLOW_MS:
        return first
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def peak_memory(call: Call, elapsed_ms: float) -> float | None:
    if elapsed_ms > SLOW_MS:
        return None
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


@dataclass
class Row:
    name: str
    units: int
    point: Call
    with_ci: Call | None = None
    libraries: list[tuple[str, Call]] = field(default_factory=list)


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def rows(x: NDArray[np.float64], x_icc: NDArray[np.float64]) -> tuple[list[Row], list[str]]:
    notes = []
    complete = x[~np.isnan(x).any(axis=1)]
    both = ~np.isnan(x[:, 0]) & ~np.isnan(x[:, 1])
    a, b = x[both, 0], x[both, 1]
    table = [
        Row("cohen_kappa", int(both.sum()), lambda: cohen_kappa(x[:, 0], x[:, 1])),
        Row("cohen_kappa_quadratic", int(both.sum()), lambda: cohen_kappa(x[:, 0], x[:, 1], weights="quadratic")),
        Row("fleiss_kappa", len(x), lambda: fleiss_kappa(x)),
        Row("gwet_ac1", len(x), lambda: gwet_ac(x)),
        Row("gwet_ac2_quadratic", len(x), lambda: gwet_ac(x, weights="quadratic")),
        Row("percent_agreement", len(x), lambda: percent_agreement(x)),
    ]
    for level in ("nominal", "ordinal", "interval", "ratio"):
        table.append(
            Row(
                f"krippendorff_alpha_{level}",
                len(x),
                lambda level=level: krippendorff_alpha(x, level=level, n_boot=0),  # type: ignore[misc]
                lambda level=level: krippendorff_alpha(x, level=level),  # type: ignore[misc]
            )
        )
    for form in FORMS:
        table.append(Row(f"icc {form}", len(x_icc), lambda form=form: icc(x_icc, form=form)))  # type: ignore[misc]
    table.append(Row("icc, all six forms", len(x_icc), lambda: [icc(x_icc, form=form) for form in FORMS]))

    by_name = {row.name: row for row in table}
    if have("sklearn"):
        from sklearn.metrics import cohen_kappa_score

        by_name["cohen_kappa"].libraries.append(("sklearn cohen_kappa_score", lambda: cohen_kappa_score(a, b)))
        by_name["cohen_kappa_quadratic"].libraries.append(
            ("sklearn cohen_kappa_score", lambda: cohen_kappa_score(a, b, weights="quadratic"))
        )
    else:
        notes.append("scikit-learn not installed: no sklearn cohen_kappa_score")
    if have("statsmodels"):
        from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, to_table
        from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

        pair = np.column_stack([a, b]).astype(int)
        by_name["cohen_kappa"].libraries.append(
            ("statsmodels cohens_kappa (+to_table, with CI)", lambda: cohens_kappa(to_table(pair, bins=4)[0]))
        )
        by_name["fleiss_kappa"].libraries.append(
            (
                "statsmodels fleiss_kappa (+aggregate_raters, complete cases)",
                lambda: sm_fleiss(aggregate_raters(complete)[0]),
            )
        )
    else:
        notes.append("statsmodels not installed: no statsmodels cohens_kappa / fleiss_kappa")
    if have("krippendorff"):
        import krippendorff

        for level in ("nominal", "ordinal", "interval", "ratio"):
            by_name[f"krippendorff_alpha_{level}"].libraries.append(
                (
                    "krippendorff.alpha (value_domain 0-3)",
                    lambda level=level: krippendorff.alpha(x.T, level_of_measurement=level, value_domain=[0, 1, 2, 3]),  # type: ignore[misc]
                )
            )
    else:
        notes.append("krippendorff (fast-krippendorff) not installed: no krippendorff.alpha")
    if have("pingouin"):
        import pandas as pd
        import pingouin

        n, k = x_icc.shape
        long = pd.DataFrame(
            {"unit": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n), "score": x_icc.ravel()}
        )
        by_name["icc, all six forms"].libraries.append(
            (
                "pingouin intraclass_corr (6 forms, with CI)",
                lambda: pingouin.intraclass_corr(long, "unit", "rater", "score", nan_policy="omit"),
            )
        )
    else:
        notes.append("pingouin not installed: no pingouin intraclass_corr")
    return table, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=50_000)
    parser.add_argument("--icc-units", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    x = synthetic_ratings(args.units)
    x_icc = synthetic_ratings(args.icc_units, seed=7)
    table, notes = rows(x, x_icc)

    print(
        f"{args.units:,} units x 4 raters (0-3 scale, 10% missing); ICC on {args.icc_units:,} x 4; "
        f"best of {args.repeat} runs"
    )
    header = (
        f"{'measure':30s} {'units':>7s} {'point ms':>9s} {'peak MiB':>9s} {'with CI ms':>11s}  "
        f"{'library':52s} {'lib ms':>8s} {'lib MiB':>8s} {'speed-up':>8s}"
    )
    print(header)
    print("-" * len(header))
    slow = False
    for row in table:
        point = best_time(row.point, args.repeat)
        peak = peak_memory(row.point, point)
        with_ci = best_time(row.with_ci, args.repeat) if row.with_ci else point
        ours = f"{row.name:30s} {row.units:7,d} {point:9.1f} {_mib(peak):>9s} {with_ci:11.1f}"
        if not row.libraries:
            print(f"{ours}  {'(no library compared)':52s}", flush=True)
        for label, call in row.libraries:
            lib = best_time(call, args.repeat)
            lib_peak = peak_memory(call, lib)
            slow = slow or lib_peak is None
            print(f"{ours}  {label:52s} {lib:8.1f} {_mib(lib_peak):>8s} {lib / point:7.1f}x", flush=True)
            ours = " " * len(ours)
    if slow:
        notes.append(f"a call slower than {SLOW_MS / 1000:g} s was timed once and its memory not traced ('-')")
    for note in notes:
        print(f"note: {note}")


def _mib(peak: float | None) -> str:
    return "-" if peak is None else f"{peak:.1f}"


if __name__ == "__main__":
    main()
