"""Comparison figures: signed differences against a reference, exact and within-one agreement.

Expected values are worked by hand from the small tables in each test (the definitions are in
the module docstring of session_rater.domain.compare: Bland & Altman 1986 for the mean signed
difference; adjacent agreement as in observation-rating calibration)."""

from __future__ import annotations

import math

import pytest

from session_rater.domain.compare import ALL_ITEMS, bias_by_item, paired_differences, side_by_side
from session_rater.domain.model import Capacity, ScoreRecord

S, M, E = Capacity.SELF_ASSESSMENT, Capacity.MONITORING, Capacity.EXTERNAL


def rec(session: int, tutor: int, rater: int, capacity: Capacity, item: str, score: int | None) -> ScoreRecord:
    return ScoreRecord(session, tutor, rater, capacity, item, score)


RECORDS = [
    # session 1, tutor 10: self 3/3, manager 2/2, external 1/2
    rec(1, 10, 10, S, "a", 3), rec(1, 10, 10, S, "b", 3),
    rec(1, 10, 20, M, "a", 2), rec(1, 10, 20, M, "b", 2),
    rec(1, 10, 30, E, "a", 1), rec(1, 10, 30, E, "b", 2),
    # session 2, tutor 11: self 2/N/A, external 2/1
    rec(2, 11, 11, S, "a", 2), rec(2, 11, 11, S, "b", None),
    rec(2, 11, 30, E, "a", 2), rec(2, 11, 30, E, "b", 1),
]


def test_self_assessments_above_the_external_assessor_give_a_positive_mean_difference() -> None:
    table = bias_by_item(RECORDS, [S, M], E, ["a", "b"])
    pooled = table[(table["capacity"] == "self_assessment") & (table["item_id"] == ALL_ITEMS)].iloc[0]
    # pairs: (3-1), (3-2), (2-2); the N/A pair is left out -> mean 1.0
    assert pooled["n"] == 3
    assert pooled["mean_difference"] == pytest.approx(1.0)
    assert pooled["exact_agreement"] == pytest.approx(1 / 3)
    assert pooled["within_one"] == pytest.approx(2 / 3)


def test_manager_differences_are_computed_per_item() -> None:
    table = bias_by_item(RECORDS, [M], E, ["a", "b"]).set_index("item_id")
    assert table.loc["a", "mean_difference"] == 1.0  # 2 - 1
    assert table.loc["b", "mean_difference"] == 0.0  # 2 - 2
    assert table.loc[ALL_ITEMS, "n"] == 2


def test_a_pair_with_not_applicable_on_either_side_is_left_out() -> None:
    pairs = paired_differences(RECORDS, S, E)
    assert set(zip(pairs["session_id"], pairs["item_id"])) == {(1, "a"), (1, "b"), (2, "a")}


def test_several_reference_raters_are_averaged() -> None:
    records = [rec(1, 10, 10, S, "a", 3), rec(1, 10, 30, E, "a", 1), rec(1, 10, 31, E, "a", 2)]
    pairs = paired_differences(records, S, E)
    assert pairs["reference"].tolist() == [1.5] and pairs["difference"].tolist() == [1.5]


def test_no_pairs_gives_no_rows_rather_than_nan_figures() -> None:
    only_self = [rec(1, 10, 10, S, "a", 3)]
    assert bias_by_item(only_self, [S, M], E).empty


def test_side_by_side_keeps_the_form_order_and_flags_disagreement() -> None:
    one = [r for r in RECORDS if r.session_id == 1]
    table = side_by_side(one, ["b", "a", "c"])
    assert list(table.index) == ["b", "a", "c"]
    assert list(table.columns[:3]) == ["self_assessment", "monitoring", "external"]
    assert table.loc["a", "spread"] == 2 and bool(table.loc["a", "differs"])
    assert table.loc["b", "spread"] == 1
    assert math.isnan(table.loc["c", "self_assessment"]) and not bool(table.loc["c", "differs"])
