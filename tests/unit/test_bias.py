"""Over-scoring against the benchmark: pairing, bias, cluster-bootstrap intervals, Wilcoxon, limits.

Sources of expected values: hand-worked tables in each test (mean signed difference as in
Bland & Altman 1986); ``scipy.stats.wilcoxon`` with its defaults (Wilcoxon 1945) for every
p-value; ``session_rater.domain.agreement.bland_altman`` for the limits of agreement; a direct,
loop-by-loop cluster bootstrap of sessions (Davison & Hinkley 1997, section 3.8) for the
vectorised intervals; synthetic data with injected biases whose expectation is exact by
construction (see ``synthetic``) for recovery.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from session_rater.domain.agreement import bland_altman
from session_rater.domain.bias import (
    MIN_SESSIONS_FOR_INTERVAL,
    BiasEstimate,
    bias_against_benchmark,
    BY_ITEM,
    BY_RATER,
    BY_ROLE,
    BY_TUTOR,
    estimate_bias,
    estimate_bias_by,
    pair_with_benchmark,
    signed_rank_p,
)

COLUMNS = ["session_id", "tutor_id", "rater_id", "rater_role", "item_id", "score"]


def frame(rows: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS).astype({"score": float})


def synthetic(
    n_sessions: int, *, seed: int, bias: dict[str, float], items: int = 10, benchmark_share: float = 1.0
) -> pd.DataFrame:
    """Two tutors per session, each scored by themselves, a manager and an external assessor.

    True scores ``t`` are integers 1..4 on a 0-6 scale; a rater of role ``r`` writes
    ``t + Bernoulli(bias[r]) + e`` with ``e`` in {-1, 0, 1} (p .15/.70/.15, mean 0), never
    clipped, so the expected difference from the master score ``t`` is exactly ``bias[r]``.
    Master scores exist for ``benchmark_share`` of the (session, tutor) pairs.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for session in range(1, n_sessions + 1):
        manager, external = 100 + session % 7, 200 + session % 3
        for tutor in rng.choice(np.arange(1, 41), size=2, replace=False):
            truth = rng.integers(1, 5, size=items)
            with_master = rng.random() < benchmark_share
            for role, rater in (("tutor", tutor), ("treatment_manager", manager), ("external_assessor", external)):
                shift = (rng.random(items) < bias[role]).astype(int)
                noise = rng.choice([-1, 0, 1], size=items, p=[0.15, 0.7, 0.15])
                rows += [
                    (session, int(tutor), int(rater), role, f"i{k}", float(truth[k] + shift[k] + noise[k]))
                    for k in range(items)
                ]
            if with_master:
                rows += [(session, int(tutor), 900, "benchmark", f"i{k}", float(truth[k])) for k in range(items)]
    return frame(rows)


def interval(estimate: BiasEstimate) -> tuple[float, float]:
    assert estimate.ci is not None, estimate
    return estimate.ci


# -- pairing and the reference ------------------------------------------------------------------


SMALL = frame(
    [
        # session 1, tutor 10: self 3/3, manager 2/2, external 1/2, master 1/1
        (1, 10, 10, "tutor", "a", 3),
        (1, 10, 10, "tutor", "b", 3),
        (1, 10, 20, "treatment_manager", "a", 2),
        (1, 10, 20, "treatment_manager", "b", 2),
        (1, 10, 30, "external_assessor", "a", 1),
        (1, 10, 30, "external_assessor", "b", 2),
        (1, 10, 90, "benchmark", "a", 1),
        (1, 10, 90, "benchmark", "b", 1),
        # session 2, tutor 11: self 2/N/A, external 2/1, no master
        (2, 11, 11, "tutor", "a", 2),
        (2, 11, 11, "tutor", "b", None),
        (2, 11, 30, "external_assessor", "a", 2),
        (2, 11, 30, "external_assessor", "b", 1),
    ]
)


def test_self_ratings_above_benchmark_are_flagged_as_over_scoring() -> None:
    report = bias_against_benchmark(SMALL, seed=1)
    tutor = report.by_role.get("tutor")
    # pairs: (3-1), (3-1) against master; (2-2) against the external assessor; N/A left out
    assert tutor.n == 3
    assert tutor.mean_diff == pytest.approx(4 / 3)
    assert tutor.mean_diff > 0
    assert tutor.share_over_by_1 == pytest.approx(2 / 3)


def test_master_scores_are_the_reference_where_they_exist_otherwise_external_assessors() -> None:
    paired = pair_with_benchmark(SMALL)
    sources = paired.pairs.groupby("session_id")["source"].agg(lambda s: set(map(str, s)))
    assert sources[1] == {"benchmark"}
    assert sources[2] == {"external_assessor"}
    assert paired.reference.role == "benchmark, else external_assessor"
    assert dict(paired.reference.pairs_by_source) == {"benchmark": 6, "external_assessor": 1}
    assert "master (benchmark) scores" in paired.reference.describe()
    assert "otherwise external assessors' scores" in paired.reference.describe()


def test_external_assessors_are_compared_with_master_scores_and_never_with_themselves() -> None:
    pairs = pair_with_benchmark(SMALL).pairs
    external = pairs[pairs["rater_role"] == "external_assessor"]
    assert set(external["session_id"]) == {1}  # in session 2 they are the reference
    assert list(external["difference"]) == [0.0, 1.0]
    assert "benchmark" not in set(pairs["rater_role"])


def test_an_explicit_benchmark_role_is_the_only_reference() -> None:
    paired = pair_with_benchmark(SMALL, benchmark_role="external_assessor")
    assert paired.reference.role == "external_assessor"
    assert set(map(str, paired.pairs["source"])) == {"external_assessor"}
    # master scores are then rated against the external assessor like anyone else
    assert "benchmark" in set(paired.pairs["rater_role"])


def test_not_applicable_scores_form_no_pair() -> None:
    pairs = pair_with_benchmark(SMALL).pairs
    assert not ((pairs["session_id"] == 2) & (pairs["item_id"] == "b") & (pairs["rater_role"] == "tutor")).any()
    assert pairs["difference"].notna().all()


def test_several_reference_raters_of_one_unit_are_averaged() -> None:
    scores = frame(
        [
            (1, 1, 1, "tutor", "a", 3),
            (1, 1, 7, "external_assessor", "a", 1),
            (1, 1, 8, "external_assessor", "a", 2),
        ]
    )
    pairs = pair_with_benchmark(scores).pairs
    assert list(pairs["reference"]) == [1.5]
    assert list(pairs["difference"]) == [1.5]


def test_without_any_reference_there_are_no_pairs_and_the_reference_says_so() -> None:
    scores = frame([(1, 1, 1, "tutor", "a", 3), (1, 1, 2, "treatment_manager", "a", 2)])
    report = bias_against_benchmark(scores, seed=0)
    assert report.n_pairs == 0 and report.by_role.estimates == ()
    assert report.reference.role is None
    assert report.reference.describe().startswith("no reference")


# -- the figures --------------------------------------------------------------------------------


def test_share_over_by_one_counts_items_scored_a_point_or_more_above() -> None:
    scores = frame(
        [(1, 1, 1, "tutor", i, s) for i, s in zip("abcd", [3, 2, 2, 1], strict=True)]
        + [(1, 1, 9, "benchmark", i, 1) for i in "abcd"]
    )
    (estimate,) = bias_against_benchmark(scores, seed=0).by_role.estimates
    assert estimate.share_over_by_1 == pytest.approx(3 / 4)  # differences 2, 1, 1, 0


def test_limits_of_agreement_equal_the_shared_bland_altman() -> None:
    scores = synthetic(30, seed=11, bias={"tutor": 0.9, "treatment_manager": 0.4, "external_assessor": 0.0})
    paired = pair_with_benchmark(scores)
    report = estimate_bias(paired, n_boot=50, seed=0)
    for role in ("tutor", "treatment_manager", "external_assessor"):
        mine = paired.pairs[paired.pairs["rater_role"] == role]
        expected = bland_altman(mine["score"], mine["reference"])
        estimate = report.by_role.get(role)
        assert estimate.mean_diff == pytest.approx(expected.bias)
        assert estimate.limits == pytest.approx((expected.lower, expected.upper))


@pytest.mark.parametrize("seed", [0, 7])
def test_one_grouping_alone_has_the_figures_of_the_whole_report(seed: int) -> None:
    """estimate_bias_by (the trend per period asks for the capacities alone): the same estimates,
    intervals included, as estimate_bias's table of that grouping with the same seed."""
    scores = synthetic(25, seed=seed, bias={"tutor": 0.8, "treatment_manager": 0.3, "external_assessor": 0.0},
                       benchmark_share=0.6)  # fmt: skip
    paired = pair_with_benchmark(scores)
    report = estimate_bias(paired, n_boot=200, seed=seed)
    for by, table in ((BY_RATER, report.by_rater), (BY_ROLE, report.by_role), (BY_ITEM, report.by_item),
                      (BY_TUTOR, report.by_tutor)):  # fmt: skip
        assert estimate_bias_by(paired, by, n_boot=200, seed=seed) == table, by
    with pytest.raises(ValueError, match="no grouping"):
        estimate_bias_by(paired, ("item_id",), n_boot=10, seed=seed)


def test_wilcoxon_p_values_equal_scipy_for_every_group() -> None:
    # 15 items: every group has more than 13 differences, where scipy itself is quick to ask
    scores = synthetic(12, seed=5, bias={"tutor": 0.3, "treatment_manager": 0.1, "external_assessor": 0.0}, items=15)
    paired = pair_with_benchmark(scores)
    report = estimate_bias(paired, n_boot=20, seed=0)
    pairs = paired.pairs
    for table, columns in (
        (report.by_rater, ["rater_id", "rater_role"]),
        (report.by_item, ["item_id", "rater_role"]),
        (report.by_tutor, ["tutor_id", "rater_role"]),
        (report.by_role, ["rater_role"]),
    ):
        for estimate in table.estimates:
            mask = np.logical_and.reduce(
                [pairs[c].astype(str) == str(v) for c, v in zip(columns, estimate.key, strict=True)]
            )
            d = pairs.loc[mask, "difference"].to_numpy()
            expected = 1.0 if np.all(d == 0) else stats.wilcoxon(d).pvalue
            assert estimate.p_value == pytest.approx(expected, rel=1e-9, abs=1e-12), estimate.key


@pytest.mark.parametrize("kind", ["integers with ties", "continuous", "rounded", "thirds"])
@pytest.mark.parametrize("n", [4, 9, 14, 40, 51, 400])
def test_signed_rank_p_matches_scipy_in_every_regime(kind: str, n: int) -> None:
    rng = np.random.default_rng(n)
    d = {
        "integers with ties": rng.integers(-2, 4, n).astype(float),
        "continuous": rng.normal(0.3, 1, n),
        "rounded": rng.normal(0.3, 1, n).round(1),
        "thirds": rng.integers(-3, 6, n) / 3,
    }[kind]
    assert signed_rank_p(d) == pytest.approx(stats.wilcoxon(d).pvalue, rel=1e-9, abs=1e-12)


def test_signed_rank_p_enumerates_sign_changes_like_scipy_up_to_thirteen_differences() -> None:
    d = np.array([1, 1, 2, 0, -1, 3, 1, 2, -2, 1, 1, 0, 2], dtype=float)  # ties and zeros: permutation test
    assert signed_rank_p(d) == pytest.approx(stats.wilcoxon(d).pvalue, rel=1e-12)


def test_all_zero_differences_give_p_one_without_a_warning() -> None:
    # pytest runs with warnings as errors: scipy is never asked about an all-zero sample
    assert signed_rank_p(np.zeros(30)) == 1.0
    assert signed_rank_p(np.zeros(300)) == 1.0
    scores = frame([(s, 1, 1, "tutor", "a", 2) for s in range(8)] + [(s, 1, 9, "benchmark", "a", 2) for s in range(8)])
    (estimate,) = bias_against_benchmark(scores, seed=0).by_role.estimates
    assert estimate.p_value == 1.0 and estimate.mean_diff == 0.0 and estimate.ci == (0.0, 0.0)


# -- the bootstrap ------------------------------------------------------------------------------


INJECTED = {"tutor": 0.9, "treatment_manager": 0.4, "external_assessor": 0.0}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_injected_biases_are_recovered_within_the_bootstrap_interval(seed: int) -> None:
    scores = synthetic(150, seed=seed, bias=INJECTED)
    report = bias_against_benchmark(scores, seed=seed, n_boot=500)
    for role, injected in INJECTED.items():
        estimate = report.by_role.get(role)
        assert estimate.ci is not None
        low, high = estimate.ci
        assert low <= injected <= high, (role, estimate)
    assert interval(report.by_role.get("tutor"))[0] > interval(report.by_role.get("treatment_manager"))[1] > 0


def test_injected_biases_are_recovered_when_master_scores_cover_only_some_units() -> None:
    scores = synthetic(150, seed=4, bias=INJECTED, benchmark_share=0.2)
    report = bias_against_benchmark(scores, seed=4, n_boot=500)
    assert report.reference.role == "benchmark, else external_assessor"
    for role, injected in INJECTED.items():
        low, high = interval(report.by_role.get(role))
        assert low <= injected <= high, role


def test_the_bootstrap_is_reproducible_from_its_seed() -> None:
    scores = synthetic(40, seed=9, bias=INJECTED)
    first = bias_against_benchmark(scores, seed=123, n_boot=200)
    again = bias_against_benchmark(scores, seed=123, n_boot=200)
    other = bias_against_benchmark(scores, seed=124, n_boot=200)
    assert first.by_rater == again.by_rater and first.seed == 123
    assert first.by_role.get("tutor").ci != other.by_role.get("tutor").ci
    generator = bias_against_benchmark(scores, seed=np.random.default_rng(123), n_boot=200)
    assert generator.by_role == first.by_role and generator.seed is None


def test_the_interval_resamples_sessions_so_clustered_differences_widen_it() -> None:
    # every item of a session carries the same difference: 40 sessions of information, not 800
    rng = np.random.default_rng(2)
    per_session = rng.normal(0.5, 1.0, 40)
    rows = []
    for s, d in enumerate(per_session):
        rows += [(s, 1, 1, "tutor", f"i{k}", 3 + d) for k in range(20)] + [
            (s, 1, 9, "benchmark", f"i{k}", 3) for k in range(20)
        ]
    report = bias_against_benchmark(frame(rows), seed=0, n_boot=2000)
    low, high = interval(report.by_role.get("tutor"))
    naive_width = 2 * 1.96 * np.std(np.repeat(per_session, 20), ddof=1) / math.sqrt(800)
    cluster_width = 2 * 1.96 * np.std(per_session, ddof=1) / math.sqrt(40)
    assert high - low > 3 * naive_width
    assert high - low == pytest.approx(cluster_width, rel=0.15)


def test_the_vectorised_interval_agrees_with_a_direct_cluster_bootstrap() -> None:
    scores = synthetic(60, seed=21, bias=INJECTED, items=8)
    paired = pair_with_benchmark(scores)
    report = estimate_bias(paired, n_boot=2000, seed=5)
    pairs = paired.pairs
    sessions = np.sort(pairs["session_id"].unique())
    rng = np.random.default_rng(99)
    for role in ("tutor", "treatment_manager"):
        mine = pairs[pairs["rater_role"] == role]
        sums = mine.groupby("session_id")["difference"].sum().reindex(sessions, fill_value=0).to_numpy()
        counts = mine.groupby("session_id")["difference"].size().reindex(sessions, fill_value=0).to_numpy()
        means = []
        for _ in range(2000):  # resample sessions, recompute the role's mean
            drawn = rng.integers(0, sessions.size, sessions.size)
            means.append(sums[drawn].sum() / counts[drawn].sum())
        expected = np.quantile(means, [0.025, 0.975])
        assert report.by_role.get(role).ci == pytest.approx(tuple(expected), abs=0.02)


def test_groups_with_fewer_than_five_sessions_get_no_interval() -> None:
    scores = synthetic(MIN_SESSIONS_FOR_INTERVAL + 3, seed=3, bias=INJECTED, items=4)
    report = bias_against_benchmark(scores, seed=0, n_boot=100)
    for estimate in report.by_rater.estimates + report.by_tutor.estimates:
        assert (estimate.ci is None) == (estimate.n_sessions < MIN_SESSIONS_FOR_INTERVAL), estimate


def test_items_and_tutors_split_each_capacitys_pairs() -> None:
    scores = synthetic(20, seed=8, bias=INJECTED, items=5)
    report = bias_against_benchmark(scores, seed=0, n_boot=50)
    for role in INJECTED:
        total = report.by_role.get(role).n
        assert sum(e.n for e in report.by_item.estimates if e.key[1] == role) == total
        assert sum(e.n for e in report.by_tutor.estimates if e.key[1] == role) == total
    tutors = [e for e in report.by_rater.estimates if e.key[1] == "tutor"]
    assert sum(e.n for e in tutors) == report.by_role.get("tutor").n


def test_tables_come_as_frames_with_one_row_per_group() -> None:
    report = bias_against_benchmark(SMALL, seed=0, n_boot=20)
    table = report.by_rater.to_frame()
    assert list(table.columns[:2]) == ["rater_id", "rater_role"]
    assert len(table) == len(report.by_rater.estimates)


# -- properties ---------------------------------------------------------------------------------

scores_strategy = st.lists(
    st.tuples(st.integers(1, 8), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
    min_size=2,
    max_size=30,
    unique_by=lambda t: t[0],
)


def _from(rows: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    out = []
    for session, self_score, manager_score, master in rows:
        out += [
            (session, 1, 1, "tutor", "a", self_score),
            (session, 1, 2, "treatment_manager", "a", manager_score),
            (session, 1, 9, "benchmark", "a", master),
        ]
    return frame(out)


@settings(max_examples=40, deadline=None)
@given(scores_strategy, st.integers(-2, 2))
def test_shifting_a_raters_scores_shifts_its_bias_and_interval_by_the_same_amount(rows, shift) -> None:  # type: ignore[no-untyped-def]
    base = _from(rows)
    moved = base.copy()
    moved.loc[moved["rater_role"] == "tutor", "score"] += shift
    a = bias_against_benchmark(base, seed=3, n_boot=100).by_role.get("tutor")
    b = bias_against_benchmark(moved, seed=3, n_boot=100).by_role.get("tutor")
    assert b.mean_diff == pytest.approx(a.mean_diff + shift)
    assert (a.ci is None) == (b.ci is None)
    if a.ci is not None and b.ci is not None:
        # resampled sums are single precision (bias.estimate._BOOT_DTYPE): equal to about 1e-7 of the scale
        assert b.ci == pytest.approx((a.ci[0] + shift, a.ci[1] + shift), abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(scores_strategy, st.randoms(use_true_random=False))
def test_figures_do_not_depend_on_the_order_of_the_rows(rows, random) -> None:  # type: ignore[no-untyped-def]
    base = _from(rows)
    order = list(range(len(base)))
    random.shuffle(order)
    shuffled = base.iloc[order].reset_index(drop=True)
    assert (
        bias_against_benchmark(base, seed=1, n_boot=50).by_rater
        == bias_against_benchmark(shuffled, seed=1, n_boot=50).by_rater
    )
