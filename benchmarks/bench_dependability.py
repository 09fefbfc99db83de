"""Speed, peak memory and recovery of the G study, D study and many-facet Rasch JMLE at national scale.

Run: ``.venv/bin/python benchmarks/bench_dependability.py [--tutors 2000] [--seed 2002]``

Data: a seeded synthetic national data set shaped like the app's scores (``session_id, tutor_id,
rater_id, item_id, score`` on the 0-3 scale): 2,000 tutors with about 57 rated sessions each
(Poisson), each session scored by one rater (70%) or two (30%) drawn from 500 raters, on 23
items, 2% of item scores missing: about 3 million scores, unbalanced, raters nested in
sessions. Scores are drawn from a many-facet Rasch rating-scale model with tutor measures
N(0, 1), item difficulties N(0, 0.5), a tutor-session effect N(0, 0.4) and rater severities
N(0, 0.5) (positive = severe), so the injected rater leniencies are known.

Figures: wall time of ``tutor_dependability`` (the G study, Henderson Method 1) and of the D-study
table (12 x 3 D studies) -- target under 5 s together; wall time and peak memory (tracemalloc)
of ``mfrm`` JMLE -- target under 60 s and 2 GB -- and the Spearman correlation between the
injected and the estimated rater severities (target above .95). Beside it, in the same run, the
many-facet Rasch model of the ``mirt`` package from PyPI (marginal maximum likelihood, the only
``mirt`` estimator of this model) on the same data, when it is installed; if not, the reason is
printed. mirt is given a fixed grid of 41 nodes for the person distribution (its own starting
grid): its automatic refinement towards 401 nodes had not finished after 8 minutes here.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from session_rater.domain.dependability import d_study_table, mfrm, sessions_needed, tutor_dependability

THRESHOLDS = np.array([-1.6, 0.0, 1.6])  # Andrich thresholds of the 0-3 scale


def national_scores(
    tutors: int = 2000, raters: int = 500, items: int = 23, seed: int = 2002
) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic scores at national scale and the injected rater severities (logits)."""
    rng = np.random.default_rng(seed)
    sessions_per_tutor = np.maximum(rng.poisson(57, tutors), 1)
    session_tutor = np.repeat(np.arange(tutors), sessions_per_tutor)
    n_sessions = len(session_tutor)
    raters_per_session = np.where(rng.random(n_sessions) < 0.3, 2, 1)
    pair_session = np.repeat(np.arange(n_sessions), raters_per_session)
    first = rng.integers(0, raters, n_sessions)
    second = (first + rng.integers(1, raters, n_sessions)) % raters  # a different rater
    pair_rater = np.where(np.r_[True, pair_session[1:] != pair_session[:-1]], first[pair_session], second[pair_session])
    obs_pair = np.repeat(np.arange(len(pair_session)), items)
    obs_item = np.tile(np.arange(items), len(pair_session))
    keep = rng.random(len(obs_pair)) >= 0.02
    obs_pair, obs_item = obs_pair[keep], obs_item[keep]
    obs_session = pair_session[obs_pair]
    obs_tutor = session_tutor[obs_session]
    obs_rater = pair_rater[obs_pair]

    tutor_measure = rng.normal(0, 1, tutors)
    session_effect = rng.normal(0, 0.4, n_sessions)
    item_difficulty = rng.normal(0, 0.5, items)
    severity = rng.normal(0, 0.5, raters)
    theta = tutor_measure[obs_tutor] + session_effect[obs_session] - item_difficulty[obs_item] - severity[obs_rater]
    k = np.arange(len(THRESHOLDS) + 1)
    psi = theta[:, None] * k - np.r_[0, np.cumsum(THRESHOLDS)]
    p = np.exp(psi - psi.max(axis=1, keepdims=True))
    cdf = np.cumsum(p, axis=1) / p.sum(axis=1, keepdims=True)
    score = (rng.random(len(theta))[:, None] > cdf).sum(axis=1)
    frame = pd.DataFrame(
        {
            "session_id": obs_session,
            "tutor_id": obs_tutor,
            "rater_id": obs_rater,
            "item_id": obs_item,
            "score": score.astype(np.float64),
        }
    )
    return frame, pd.Series(severity, name="severity")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tutors", type=int, default=2000)
    parser.add_argument("--raters", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2002)
    parser.add_argument("--skip-mirt", action="store_true", help="do not fit mirt's model beside ours")
    parser.add_argument(
        "--mirt-quadpts",
        type=int,
        default=41,
        help="person grid nodes for mirt (its automatic refinement, up to 401 nodes, ran over 8 minutes here)",
    )
    args = parser.parse_args()
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    start = time.perf_counter()
    scores, severity = national_scores(args.tutors, args.raters, seed=args.seed)
    print(
        f"data: {len(scores):,} scores, {scores.tutor_id.nunique():,} tutors, {scores.session_id.nunique():,} sessions, "
        f"{scores.rater_id.nunique()} raters, {scores.item_id.nunique()} items (made in {time.perf_counter() - start:.1f} s)"
    )

    start = time.perf_counter()
    g = tutor_dependability(scores)
    g_time = time.perf_counter() - start
    start = time.perf_counter()
    table = d_study_table(g)
    needed = {r: sessions_needed(g, raters=r) for r in (1, 2, 3)}
    d_time = time.perf_counter() - start
    print(
        f"\nG study {g.design} by {g.estimator}: {g_time:.2f} s; D-study table and sessions needed: {d_time:.3f} s; "
        f"total {g_time + d_time:.2f} s (target < 5 s)"
    )
    for c in g.components:
        print(f"  sigma^2({c.effect:9s}) = {c.variance:8.4f}   df = {c.df:12,.0f}")
    print(f"  observed: Erho2 = {g.erho2:.3f}, Phi = {g.phi:.3f}; sessions for Phi >= .80 with 1/2/3 raters: {needed}")
    print(
        "  "
        + ", ".join(f"{row.sessions}x{row.raters}: {row.phi:.2f}" for row in table.rows if row.sessions in (1, 4, 12))
    )

    tracemalloc.start()
    start = time.perf_counter()
    result = mfrm(scores, person="tutor_id", rater="rater_id", item="item_id")
    m_time = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    estimated = pd.Series(result.rater_severity).sort_index()
    rho = stats.spearmanr(estimated.to_numpy(), severity.loc[estimated.index].to_numpy()).statistic
    print(f"\nmfrm JMLE: {m_time:.1f} s (target < 60 s), peak traced memory {peak / 2**30:.2f} GiB (target < 2 GiB)")
    print(f"  {result.description}")
    print(f"  Spearman(injected, estimated rater severity) = {rho:.4f} (target > .95)")

    if args.skip_mirt:
        print("\nmirt: skipped (--skip-mirt)")
    elif importlib.util.find_spec("mirt") is None:
        print("\nmirt: not installed (pip install mirt; MIT licence): no comparison in this run")
    else:
        _mirt(scores, severity, args.mirt_quadpts)


def _mirt(scores: pd.DataFrame, severity: pd.Series, quadpts: int) -> None:
    from mirt.estimation.mfrm_mml import fit_mfrm
    from mirt.models.mfrm import Facet, PolytomousMFRM

    # mirt takes a persons x ratings array: each tutor's scores in one row, padded with NaN
    ordered = scores.sort_values("tutor_id", kind="stable")
    tutor = ordered.tutor_id.to_numpy()
    position = ordered.groupby("tutor_id").cumcount().to_numpy()
    shape = (int(tutor.max()) + 1, int(position.max()) + 1)
    responses = np.full(shape, np.nan)
    raters = np.zeros(shape, dtype=np.int64)
    items = np.zeros(shape, dtype=np.int64)
    responses[tutor, position] = ordered.score.to_numpy()
    raters[tutor, position] = ordered.rater_id.to_numpy()
    items[tutor, position] = ordered.item_id.to_numpy()
    n_raters, n_items = int(scores.rater_id.max()) + 1, int(scores.item_id.max()) + 1
    model = PolytomousMFRM(n_items=n_items, n_categories=len(THRESHOLDS) + 1, facets=[Facet("rater", n_raters)])
    print(
        f"\nmirt {importlib.metadata.version('mirt')} fit_mfrm (rating scale, marginal maximum likelihood), "
        f"same data as a {shape[0]:,} x {shape[1]:,} array, {quadpts} grid nodes:"
    )
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted = fit_mfrm(model, responses, {"rater": raters}, item_indices=items, n_quadpts=quadpts)
    except Exception as error:  # a third-party library: report whatever stops it  # noqa: BLE001
        tracemalloc.stop()
        print(f"  could not fit: {type(error).__name__}: {error}")
        return
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    estimated = np.asarray(fitted.facet_parameters["rater"], dtype=float)
    rho = stats.spearmanr(estimated, severity.to_numpy()).statistic
    print(
        f"  {elapsed:.1f} s, peak traced memory {peak / 2**30:.2f} GiB, converged={fitted.converged}, "
        f"Spearman(injected, estimated rater parameter) = {rho:.4f}"
    )
    for warning in caught:
        print(f"  mirt warned: {warning.message}")


if __name__ == "__main__":
    main()
