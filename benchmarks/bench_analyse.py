"""National-scale benchmark of ``session_rater.usecases.analysis.analyse``: time, peak memory, recovery.

    .venv/bin/python benchmarks/bench_analyse.py [--pairs 50000] [--resamples 1000] [--seed 7]

The synthetic set: 25,000 sessions x 2 tutors = 50,000 rated (session, tutor) pairs x 20 items,
each pair scored by its tutor (self-assessment), a treatment manager and an external assessor:
3,000,000 scores on a 0-6 scale, plus master (benchmark) scores on 5% of the pairs (50,000 more).

Injected biases are exact by construction. The true score ``t`` of an item is an integer in
1..4; a rater of capacity ``c`` writes ``t + B + e`` with ``B ~ Bernoulli(bias_c)`` and
``e`` in {-1, 0, +1} with probabilities .15/.70/.15 (mean 0), so the expected difference from
the master score ``t`` (or from an external assessor's ``t + e'``) is exactly ``bias_c``
(self +0.9, manager +0.4, external 0), with no clipping (0 <= t + B + e <= 6).
2% of tutors straight-line their self-assessments: every item gets the score they would have
given to one item of the form picked at random, which leaves their expected bias unchanged.
2% of scores are "not applicable".

Prints the time and peak resident memory (``resource.getrusage``'s ``ru_maxrss``) of the full
report (pairing, bootstrap intervals with 1,000 resamples of sessions, Wilcoxon tests,
agreement coefficients overall and per item, halo flags), and whether every injected bias lies
inside its 95% interval. Target: under 10 s and under 2 GB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np
import pandas as pd

INJECTED = {"tutor": 0.9, "treatment_manager": 0.4, "external_assessor": 0.0}
N_ITEMS = 20
SCALE = tuple(range(7))  # 0-6, as CTS-R
NOISE = (-1, 0, 1)
NOISE_P = (0.15, 0.70, 0.15)


def synthetic_scores(n_pairs: int, *, seed: int) -> tuple[pd.DataFrame, set[int]]:
    """The national set described in the module docstring, and the straight-lining tutors' ids."""
    rng = np.random.default_rng(seed)
    n_sessions = n_pairs // 2
    n_tutors, n_managers, n_externals = max(4, n_pairs // 25), max(2, n_pairs // 200), max(2, n_pairs // 1250)
    session = np.repeat(np.arange(1, n_sessions + 1), 2)
    first = rng.integers(1, n_tutors + 1, n_sessions)
    second = (first + rng.integers(1, n_tutors, n_sessions) - 1) % n_tutors + 1  # a different tutor
    tutor = np.column_stack([first, second]).ravel()
    manager = np.repeat(rng.integers(10_001, 10_001 + n_managers, n_sessions), 2)
    external = np.repeat(rng.integers(20_001, 20_001 + n_externals, n_sessions), 2)

    skill = rng.normal(0, 0.5, n_tutors + 1)
    item_effect = rng.normal(0, 0.4, N_ITEMS)
    latent = 2.5 + skill[tutor][:, None] + item_effect[None, :] + rng.normal(0, 0.6, (len(tutor), N_ITEMS))
    truth = np.clip(np.rint(latent), 1, 4).astype(np.int8)

    def scored(bias: float) -> np.ndarray:
        shift = (rng.random(truth.shape) < bias).astype(np.int8)
        noise = rng.choice(np.array(NOISE, dtype=np.int8), size=truth.shape, p=NOISE_P)
        return np.asarray(truth + shift + noise)

    straight = set(rng.choice(np.arange(1, n_tutors + 1), size=max(1, n_tutors // 50), replace=False).tolist())
    self_scores = scored(INJECTED["tutor"])
    liners = np.isin(tutor, list(straight))
    picked = rng.integers(0, N_ITEMS, liners.sum())
    self_scores[liners] = self_scores[liners, picked][:, None]
    blocks = {
        "tutor": (tutor, self_scores),
        "treatment_manager": (manager, scored(INJECTED["treatment_manager"])),
        "external_assessor": (external, scored(INJECTED["external_assessor"])),
    }
    bench_pairs = rng.random(len(tutor)) < 0.05
    frames = []
    items = pd.Categorical.from_codes(
        np.tile(np.arange(N_ITEMS), len(tutor)), [f"item{i:02d}" for i in range(1, N_ITEMS + 1)]
    )
    for role, (rater, values) in {**blocks, "benchmark": (np.full(len(tutor), 30_001), truth)}.items():
        rows = np.ones(len(tutor), bool) if role != "benchmark" else bench_pairs
        k = int(rows.sum())
        score = values[rows].astype(float).ravel()
        score[rng.random(score.size) < 0.02] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "session_id": np.repeat(session[rows], N_ITEMS),
                    "tutor_id": np.repeat(tutor[rows], N_ITEMS),
                    "rater_id": np.repeat(rater[rows], N_ITEMS),
                    "rater_role": pd.Categorical([role] * (k * N_ITEMS), categories=list(INJECTED) + ["benchmark"]),
                    "item_id": items[np.repeat(rows, N_ITEMS)] if role == "benchmark" else items,
                    "score": score,
                }
            )
        )
    return pd.concat(frames, ignore_index=True), straight


def time_csv(scores: pd.DataFrame) -> None:
    """Write the set in the export's format and time ``read_scores_csv`` on it (not in the target)."""
    import tempfile
    from pathlib import Path

    from session_rater.io.scores_csv import read_scores_csv

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scores.csv"
        scores.to_csv(path, index=False)
        t0 = time.perf_counter()
        result = read_scores_csv(path, categories=SCALE)
        print(
            f"read_scores_csv: {len(result.scores):,} rows, {len(result.bad_rows)} bad, "
            f"{path.stat().st_size / 2**20:,.0f} MB in {time.perf_counter() - t0:.1f} s; "
            f"peak RSS {peak_rss_mb():,.0f} MB"
        )


def peak_rss_mb() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return usage / 1024 if sys.platform != "darwin" else usage / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=50_000, help="rated (session, tutor) pairs")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic data")
    parser.add_argument(
        "--csv", action="store_true", help="also write the set as a scores CSV and time reading and checking it"
    )
    args = parser.parse_args()

    from session_rater.usecases.analysis import analyse, report_to_json

    t0 = time.perf_counter()
    scores, straight = synthetic_scores(args.pairs, seed=args.seed)
    made = time.perf_counter() - t0
    rss_data = peak_rss_mb()
    print(
        f"synthetic set: {len(scores):,} scores ({scores['score'].notna().sum():,} scored), "
        f"{args.pairs:,} session-tutor pairs x {N_ITEMS} items, made in {made:.1f} s; peak RSS {rss_data:,.0f} MB"
    )

    if args.csv:
        time_csv(scores)

    load = os.getloadavg()[0]
    t0, cpu0 = time.perf_counter(), time.process_time()
    report = analyse(scores, seed=2002, n_boot=args.resamples, categories=SCALE)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    rss = peak_rss_mb()
    out = report_to_json(report)
    print(
        f"analyse (report incl. {args.resamples:,} bootstrap resamples of sessions): {elapsed:.2f} s; "
        f"peak RSS of the process {rss:,.0f} MB"
    )
    print(
        f"  CPU time of all threads {cpu:.2f} s on {os.cpu_count()} cores; load average before the run "
        f"{load:.1f} (other processes on the machine slow the wall time)"
    )
    for stage, seconds in report.timings.items():
        print(f"  {stage:<28} {seconds:6.2f} s (stages run side by side)")
    print(f"reference: {out['benchmark_role']}")
    recovered = True
    for role, expected in INJECTED.items():
        entry = out["bias_by_role"].get(role)
        if entry is None or entry["ci"] is None:
            print(f"  {role:<18} injected {expected:+.2f}: no estimate")
            recovered = False
            continue
        lo, hi = entry["ci"]
        ok = lo <= expected <= hi
        recovered &= ok
        print(
            f"  {role:<18} injected {expected:+.2f}  estimated {entry['mean_diff']:+.4f}  "
            f"95% CI [{lo:+.4f}, {hi:+.4f}]  n={entry['n']:,}  {'recovered' if ok else 'NOT recovered'}"
        )
    flagged = {f["rater_id"] for f in out["halo"] if f["flag"] == "straight_line"}
    found = len(straight & flagged)
    print(
        f"straight-lining tutors injected {len(straight)}, flagged {found}; "
        f"other raters flagged {len(flagged - straight)}"
    )
    overall = out["agreement"]["overall"]
    print(
        "agreement overall: "
        + ", ".join(
            f"{name} {m['value']:.3f}" if m["value"] is not None else f"{name} n/a" for name, m in overall.items()
        )
    )
    target = elapsed < 10 and rss < 2048
    print(
        f"target (< 10 s, < 2 GB): {'met' if target else 'NOT met'}; injected biases "
        f"{'recovered' if recovered else 'NOT all recovered'}"
    )
    return 0 if recovered else 1


if __name__ == "__main__":
    sys.exit(main())
