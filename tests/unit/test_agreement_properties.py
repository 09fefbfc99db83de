"""Properties every agreement coefficient shares, run over the registry of measures.

As in scikit-learn's ``metrics/tests/test_common.py``: one parametrised test per property,
each over a named set of measures, and a test that no registered measure was left out of a
set without a stated reason. Expected values not from a property are worked by hand in the
test that uses them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_rater.domain.agreement import (
    MEASURES,
    TWO_RATER_MEASURES,
    AgreementError,
    AgreementResult,
    bland_altman,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac,
    icc,
    krippendorff_alpha,
    percent_agreement,
)
from session_rater.errors import SessionRaterError

ALL = frozenset(MEASURES)
NOT_CHANCE_CORRECTED = frozenset({"percent_agreement", "percent_agreement_within_1"})

SYMMETRIC_IN_RATERS = ALL
INVARIANT_TO_UNIT_ORDER = ALL
ONE_ON_PERFECT_AGREEMENT = ALL
AT_MOST_ONE = ALL
RAISES_ON_EMPTY_INPUT = ALL
RAISES_WITHOUT_A_UNIT_RATED_TWICE = ALL
RAISES_ON_A_SINGLE_CATEGORY = ALL - NOT_CHANCE_CORRECTED

PROPERTY_SETS = {
    "symmetric in raters": SYMMETRIC_IN_RATERS,
    "invariant to unit order": INVARIANT_TO_UNIT_ORDER,
    "1 on perfect agreement": ONE_ON_PERFECT_AGREEMENT,
    "at most 1": AT_MOST_ONE,
    "raises on empty input": RAISES_ON_EMPTY_INPUT,
    "raises without a unit rated twice": RAISES_WITHOUT_A_UNIT_RATED_TWICE,
    "raises on a single category": RAISES_ON_A_SINGLE_CATEGORY,
}
EXEMPT = {
    "raises on a single category": {
        name: "not chance-corrected: raters who all give the same score agree perfectly (1.0)"
        for name in NOT_CHANCE_CORRECTED
    },
}

# 40 units x 4 raters on a 0-3 scale: raters mostly agree, a few ratings are missing.
_rng = np.random.default_rng(20240601)
_truth = _rng.integers(0, 4, 40)
RATINGS = np.clip(_truth[:, None] + _rng.integers(-1, 2, (40, 4)) * (_rng.random((40, 4)) < 0.35), 0, 3).astype(float)
RATINGS[_rng.random((40, 4)) < 0.08] = np.nan


def for_measure(name: str, ratings: np.ndarray) -> np.ndarray:
    """Two-rater measures take the first two rater columns."""
    return ratings[:, :2] if name in TWO_RATER_MEASURES else ratings


def run(name: str, ratings: np.ndarray) -> AgreementResult:
    return MEASURES[name](for_measure(name, ratings))


def assert_same(a: AgreementResult, b: AgreementResult) -> None:
    assert a.value == pytest.approx(b.value, abs=1e-12)
    assert (a.ci is None) == (b.ci is None)
    if a.ci is not None and b.ci is not None:
        assert a.ci == pytest.approx(b.ci, abs=1e-12)
    assert (a.n_units, a.n_raters) == (b.n_units, b.n_raters)


# --- the registry ----------------------------------------------------------------------------


@pytest.mark.parametrize("prop", sorted(PROPERTY_SETS))
def test_no_registered_measure_is_left_out_of_a_property_set_without_a_reason(prop: str) -> None:
    missing = ALL - PROPERTY_SETS[prop] - EXEMPT.get(prop, {}).keys()
    assert not missing, f"{sorted(missing)} not checked for '{prop}'"
    assert not (PROPERTY_SETS[prop] - ALL), "a property set names a measure that is not registered"


def test_the_registry_offers_every_variant_asked_for() -> None:
    assert {
        "cohen_kappa", "cohen_kappa_linear", "cohen_kappa_quadratic", "fleiss_kappa",
        "krippendorff_alpha_nominal", "krippendorff_alpha_ordinal", "krippendorff_alpha_interval",
        "krippendorff_alpha_ratio", "gwet_ac1", "gwet_ac2_linear", "gwet_ac2_quadratic",
        "icc_1_1", "icc_2_1", "icc_3_1", "icc_1_k", "icc_2_k", "icc_3_k", "percent_agreement",
    } <= ALL  # fmt: skip
    assert TWO_RATER_MEASURES <= ALL


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_measure_returns_a_frozen_result_whose_method_names_its_reference(name: str) -> None:
    result = run(name, RATINGS)
    assert isinstance(result, AgreementResult)
    assert isinstance(result.value, float)
    assert re.search(r"(19|20)\d\d", result.method), result.method
    assert "CI" in result.method
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.value = 0.0  # type: ignore[misc]


# --- shared properties ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SYMMETRIC_IN_RATERS))
def test_measures_are_symmetric_in_raters(name: str) -> None:
    ratings = for_measure(name, RATINGS)
    assert_same(MEASURES[name](ratings), MEASURES[name](ratings[:, ::-1]))


@pytest.mark.parametrize("name", sorted(INVARIANT_TO_UNIT_ORDER))
def test_measures_are_invariant_to_unit_order(name: str) -> None:
    order = np.random.default_rng(7).permutation(RATINGS.shape[0])
    assert_same(run(name, RATINGS), run(name, RATINGS[order]))


@pytest.mark.parametrize("name", sorted(ONE_ON_PERFECT_AGREEMENT))
def test_measures_are_one_when_raters_agree_perfectly(name: str) -> None:
    scores = np.array([0, 1, 2, 3, 1, 2, 2, 0, 3, 1], dtype=float)
    ratings = np.repeat(scores[:, None], 4, axis=1)
    ratings[0, 3] = ratings[5, 2] = np.nan  # a missing rating changes nothing
    assert run(name, ratings).value == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("name", sorted(AT_MOST_ONE))
def test_measures_and_their_intervals_are_at_most_one(name: str) -> None:
    result = run(name, RATINGS)
    assert result.value <= 1 + 1e-12
    assert result.ci is not None
    assert result.ci[0] <= result.value + 1e-12 <= result.ci[1] + 2e-12
    assert result.ci[1] <= 1 + 1e-12


@pytest.mark.parametrize("empty", [[], [[]], np.empty((0, 4)), np.empty((5, 0)), np.full((3, 4), np.nan)])
@pytest.mark.parametrize("name", sorted(RAISES_ON_EMPTY_INPUT))
def test_measures_raise_on_empty_input(name: str, empty: object) -> None:
    with pytest.raises(AgreementError):
        MEASURES[name](empty)


@pytest.mark.parametrize("name", sorted(RAISES_WITHOUT_A_UNIT_RATED_TWICE))
def test_measures_raise_when_no_unit_was_rated_twice(name: str) -> None:
    ratings = np.array([[1, np.nan], [np.nan, 2], [3, np.nan], [np.nan, 0]])
    with pytest.raises(AgreementError, match=r"two|both|complete"):
        MEASURES[name](ratings)


@pytest.mark.parametrize("name", sorted(RAISES_ON_A_SINGLE_CATEGORY))
def test_chance_corrected_measures_raise_on_a_single_category(name: str) -> None:
    ratings = np.array([[2, 2], [2, 2], [2, 2], [2, np.nan]])
    with pytest.raises(AgreementError):
        MEASURES[name](ratings)


@pytest.mark.parametrize("name", sorted(NOT_CHANCE_CORRECTED))
def test_percent_agreement_is_one_when_everyone_gives_the_same_score(name: str) -> None:
    assert MEASURES[name]([[2, 2], [2, 2], [2, np.nan]]).value == 1.0


# --- the same properties on generated data (hypothesis) ------------------------------------

_cell = st.one_of(st.integers(0, 3).map(float), st.just(np.nan))


def _table(raters: int) -> st.SearchStrategy[np.ndarray]:
    rows = st.lists(st.lists(_cell, min_size=raters, max_size=raters), min_size=2, max_size=25)
    return rows.map(lambda r: np.array(r, dtype=float))


@st.composite
def _ratings_and_permutation(draw: st.DrawFn, name: str) -> tuple[np.ndarray, list[int]]:
    raters = 2 if name in TWO_RATER_MEASURES else draw(st.integers(2, 5))
    ratings = draw(_table(raters))
    return ratings, draw(st.permutations(range(raters)))


def _defined(measure: Callable[[np.ndarray], AgreementResult], ratings: np.ndarray) -> AgreementResult | None:
    try:
        return measure(ratings)
    except AgreementError:
        return None


@pytest.mark.parametrize("name", sorted(AT_MOST_ONE & SYMMETRIC_IN_RATERS))
@settings(max_examples=30, deadline=None, database=None)
@given(data=st.data())
def test_on_generated_ratings_measures_are_at_most_one_and_symmetric_in_raters(name: str, data: st.DataObject) -> None:
    ratings, permutation = data.draw(_ratings_and_permutation(name))
    result = _defined(MEASURES[name], ratings)
    permuted = _defined(MEASURES[name], ratings[:, permutation])
    assert (result is None) == (permuted is None), "defined for one order of raters only"
    if result is not None and permuted is not None:
        assert result.value <= 1 + 1e-9
        assert result.ci is None or result.ci[1] <= 1 + 1e-9
        assert permuted.value == pytest.approx(result.value, abs=1e-9)


@pytest.mark.parametrize("name", sorted(INVARIANT_TO_UNIT_ORDER))
@settings(max_examples=20, deadline=None, database=None)
@given(data=st.data())
def test_on_generated_ratings_measures_are_invariant_to_unit_order(name: str, data: st.DataObject) -> None:
    ratings, _ = data.draw(_ratings_and_permutation(name))
    order = data.draw(st.permutations(range(ratings.shape[0])))
    result, reordered = _defined(MEASURES[name], ratings), _defined(MEASURES[name], ratings[order])
    assert (result is None) == (reordered is None)
    if result is not None and reordered is not None:
        assert reordered.value == pytest.approx(result.value, abs=1e-9)


# --- input handling --------------------------------------------------------------------------


def test_agreement_error_is_a_value_error_in_the_one_exception_tree() -> None:
    assert issubclass(AgreementError, ValueError)
    assert issubclass(AgreementError, SessionRaterError)


@pytest.mark.parametrize(
    "call",
    [
        lambda: cohen_kappa([0, 1], [0, 1], weights="cubic"),
        lambda: gwet_ac(RATINGS, weights="exponential"),
        lambda: krippendorff_alpha(RATINGS, level="circular"),
        lambda: icc(RATINGS, form="ICC(4,1)"),
        lambda: fleiss_kappa(RATINGS, confidence=95),
        lambda: percent_agreement(RATINGS, tolerance=-1),
        lambda: krippendorff_alpha(RATINGS, n_boot=-5),
        lambda: bland_altman([1, 2, 3], [1, 2, 3], multiplier=0),
    ],
    ids=["weights", "ac weights", "level", "form", "confidence", "tolerance", "n_boot", "multiplier"],
)
def test_unknown_or_impossible_options_raise_saying_what_is_allowed(call: Callable[[], object]) -> None:
    with pytest.raises(AgreementError):
        call()


def test_an_unknown_option_names_the_allowed_ones() -> None:
    with pytest.raises(AgreementError, match="'nominal', 'ordinal', 'interval', 'ratio'"):
        krippendorff_alpha(RATINGS, level="circular")


@pytest.mark.parametrize(
    "call",
    [
        lambda: fleiss_kappa([1, 2, 3]),
        lambda: fleiss_kappa([[1, 2], [3]]),
        lambda: fleiss_kappa([["a", "b"], ["c", "d"]]),
        lambda: fleiss_kappa(np.array([[1, np.inf], [2, 2]])),
        lambda: cohen_kappa([1, 2, 3], [1, 2]),
        lambda: cohen_kappa([[1, 2]], [[1, 2]]),
        lambda: bland_altman([1, 2], [1, 2, 3]),
        lambda: bland_altman([1, np.nan], [1, 2]),
    ],
    ids=["1-D", "ragged", "text", "infinite", "unequal lengths", "2-D pair", "unequal pairs", "one pair"],
)
def test_wrong_shapes_and_values_raise(call: Callable[[], object]) -> None:
    with pytest.raises(AgreementError):
        call()


def test_a_rating_outside_the_declared_categories_raises() -> None:
    with pytest.raises(AgreementError, match="not among the declared categories"):
        fleiss_kappa([[0, 1], [2, 4]], categories=[0, 1, 2, 3])


def test_icc_leaves_out_a_rater_who_rated_nothing() -> None:
    result = icc([[1, 2, np.nan], [2, 3, np.nan], [4, 4, np.nan]], form="ICC(3,1)")
    assert (result.n_units, result.n_raters) == (3, 2)


def test_icc_needs_two_complete_units() -> None:
    with pytest.raises(AgreementError, match="complete"):
        icc(np.array([[1, 2], [2, np.nan], [np.nan, 3]]))


def test_ratings_may_be_lists_with_none_numpy_or_a_dataframe() -> None:
    rows: list[list[float | None]] = [[0, 1, None], [2, 2, 2], [3, None, 3], [1, 1, 0]]
    expected = fleiss_kappa(np.array(rows, dtype=float)).value
    assert fleiss_kappa(rows).value == pytest.approx(expected)
    assert fleiss_kappa(pd.DataFrame(rows, dtype="Float64")).value == pytest.approx(expected)


# --- behaviour specific to one coefficient ---------------------------------------------------


def test_declared_categories_change_gwets_ac1_but_not_krippendorffs_alpha() -> None:
    # AC1's chance agreement divides by q - 1 (Gwet 2008); unused points add no coincidences.
    narrow, wide = gwet_ac(RATINGS), gwet_ac(RATINGS, categories=[0, 1, 2, 3, 4, 5, 6])
    assert wide.value != pytest.approx(narrow.value)
    alpha = krippendorff_alpha(RATINGS, n_boot=0)
    assert krippendorff_alpha(RATINGS, categories=range(7), n_boot=0).value == pytest.approx(alpha.value)


def test_percent_agreement_within_a_tolerance_counts_near_misses() -> None:
    # by hand: unit 1 pairs (0,1) (0,3) (1,3); unit 2 all equal; unit 3 one pair (1,2)
    ratings: list[list[float | None]] = [[0, 1, 3], [2, 2, 2], [1, None, 2]]
    assert percent_agreement(ratings).value == pytest.approx((0 + 1 + 0) / 3)
    assert percent_agreement(ratings, tolerance=1).value == pytest.approx((1 / 3 + 1 + 1) / 3)


def test_percent_agreement_tolerance_is_not_defeated_by_rounding() -> None:
    assert percent_agreement([[0.1, 0.4], [0.2, 0.5]], tolerance=0.3).value == 1.0


def test_weighted_kappa_gives_partial_credit_for_near_misses() -> None:
    a, b = [0, 1, 2, 3, 0, 1, 2, 3], [1, 1, 2, 2, 0, 2, 3, 3]
    unweighted, linear, quadratic = (cohen_kappa(a, b, weights=w).value for w in (None, "linear", "quadratic"))
    assert unweighted < linear < quadratic


def test_cohen_kappa_uses_only_units_rated_by_both() -> None:
    result = cohen_kappa([0, 1, 2, None, 3], [0, 1, 2, 2, np.nan])
    assert result.n_units == 3
    assert result.value == pytest.approx(1.0)


def test_the_kappa_paradox_ac1_stays_high_when_scores_bunch_at_the_top() -> None:
    # 20 units, two raters agree on 18, almost every score is 3 (over-scoring): kappa is low,
    # AC1 and percent agreement are high (Feinstein & Cicchetti 1990; Gwet 2008)
    a = [3] * 18 + [3, 2]
    b = [3] * 18 + [2, 3]
    ratings = np.column_stack([a, b]).astype(float)
    assert cohen_kappa(a, b).value < 0
    assert gwet_ac(ratings).value > 0.8
    assert percent_agreement(ratings).value == pytest.approx(0.9)


def test_krippendorff_bootstrap_is_reproducible_from_its_seed() -> None:
    first = krippendorff_alpha(RATINGS, seed=11)
    assert krippendorff_alpha(RATINGS, seed=11).ci == first.ci
    assert krippendorff_alpha(RATINGS, seed=12).ci != first.ci
    assert krippendorff_alpha(RATINGS, seed=np.random.default_rng(11)).ci == first.ci
    assert "seed 11" in first.method
    assert krippendorff_alpha(RATINGS, n_boot=0).ci is None


def test_krippendorff_bootstrap_interval_covers_alpha_and_narrows_with_more_units() -> None:
    small = krippendorff_alpha(RATINGS)
    large = krippendorff_alpha(np.tile(RATINGS, (10, 1)))
    assert small.ci is not None and large.ci is not None
    assert small.ci[0] < small.value < small.ci[1]
    assert large.ci[1] - large.ci[0] < small.ci[1] - small.ci[0]
    assert large.value == pytest.approx(small.value, abs=0.01)


def test_icc_uses_complete_cases_and_says_how_many_were_left_out() -> None:
    result = icc(RATINGS)
    complete = int((~np.isnan(RATINGS).any(axis=1)).sum())
    assert result.n_units == complete
    assert f"({RATINGS.shape[0] - complete} unit(s) with a missing rating left out)" in result.method


def test_icc_without_residual_variance_has_no_interval_rather_than_nan() -> None:
    ratings = [[1, 2], [2, 3], [3, 4], [0, 1]]  # rater 2 always one point higher
    consistency = icc(ratings, form="ICC(3,1)")
    assert consistency.value == pytest.approx(1.0)
    assert consistency.ci is None
    assert icc(ratings, form="ICC(2,1)").value < 1  # absolute agreement sees the offset


def test_bland_altman_bias_is_positive_when_a_over_scores() -> None:
    result = bland_altman([3, 3, 2, 3, 2], [2, 3, 1, 2, 2])
    assert result.bias == pytest.approx(0.6)
    assert result.lower < result.bias < result.upper
    assert result.bias_ci[0] < result.bias < result.bias_ci[1]
    assert result.n == 5


def test_more_distinct_values_than_a_rating_scale_has_raise_and_point_to_the_icc() -> None:
    measurements = np.arange(202, dtype=float).reshape(101, 2) / 7
    with pytest.raises(AgreementError, match="use icc"):
        krippendorff_alpha(measurements, level="interval")
    assert icc(measurements).value > 0.99


def test_the_batched_bootstrap_coincidences_equal_krippendorffs_for_each_resample() -> None:
    # the bootstrap forms o_ck for many resamples at once; each must be _coincidences of that resample
    from session_rater.domain.agreement._common import tally
    from session_rater.domain.agreement._krippendorff import _coincidences, _coincidences_of_resamples

    table = tally(RATINGS, None, min_ratings=2)
    draws = np.random.default_rng(3).multinomial(table.n_units, table.frequency / table.n_units, size=4)
    batched = _coincidences_of_resamples(draws.astype(float), table.counts)
    for row, o in zip(draws, batched, strict=True):
        np.testing.assert_allclose(o, _coincidences(table.counts, row.astype(float)), atol=1e-9)


def test_icc_whose_denominator_is_zero_up_to_rounding_raises_instead_of_exploding() -> None:
    # found by hypothesis: BMS + (JMS - EMS) / n is exactly 0 here, about 1e-17 in floating point
    ratings = np.array([[0, 0, 0, 1, 1], [0, 1, 3, 0, 0]], dtype=float)
    with pytest.raises(AgreementError, match="denominator"):
        icc(ratings, form="ICC(2,k)")
    with pytest.raises(AgreementError, match="denominator"):
        icc(ratings[::-1], form="ICC(2,k)")
