"""Straight-line forms, halo raters and the kappa-paradox warning.

Sources of expected values: spreads and shares worked by hand from the small forms in each
test; mean inter-item correlations against pandas' pairwise-complete Pearson correlation
(``DataFrame.corr``); the kappa paradox on a 2 x 2 table built like Feinstein & Cicchetti's
(1990): raw agreement .85 with 87.5% of ratings in the top point, Fleiss' kappa worked by
hand as (.85 - .78125) / (1 - .78125) = .3143 and Gwet's (2008) AC1 = AC2 on two points as
(.85 - .21875) / (1 - .21875) = .808.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from session_rater.domain.independence import (
    HALO_CORRELATION,
    MIN_FORMS_FOR_CORRELATION,
    MIN_ITEMS_PER_FORM,
    PILE_UP_SHARE,
    STRAIGHT_LINE_SD,
    assess_independence,
    form_spread,
    inter_item_correlation,
    kappa_paradox,
    pile_up,
)
from session_rater.domain.readings import koo_li, read

COLUMNS = ["session_id", "tutor_id", "rater_id", "rater_role", "item_id", "score"]


def form(
    session: int, rater: int, scores: Sequence[float | None], role: str = "tutor", tutor: int = 1
) -> list[tuple[object, ...]]:
    return [(session, tutor, rater, role, f"i{k:02d}", s) for k, s in enumerate(scores)]


def frame(rows: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS).astype({"score": float})


# -- straight-line forms ------------------------------------------------------------------------


def test_a_form_giving_every_item_the_same_score_is_a_straight_line() -> None:
    forms = form_spread(frame(form(1, 7, [3] * 20)))
    (row,) = forms.itertuples()
    assert row.sd == 0 and row.identical and row.straight_line


def test_one_item_a_point_away_still_barely_varies_but_two_items_do_not() -> None:
    # 20 items, one at 2 and nineteen at 3: sd = sqrt(.05 * .95) = .218; two at 2: sqrt(.1 * .9) = .300
    one = form_spread(frame(form(1, 7, [3] * 19 + [2]))).iloc[0]
    two = form_spread(frame(form(1, 7, [3] * 18 + [2, 2]))).iloc[0]
    assert one["sd"] == pytest.approx(np.sqrt(0.05 * 0.95)) and one["straight_line"] and not one["identical"]
    assert two["sd"] == pytest.approx(STRAIGHT_LINE_SD) and not two["straight_line"]


def test_forms_with_too_few_scored_items_are_not_judged_and_not_applicable_is_not_a_score() -> None:
    short = [3] * (MIN_ITEMS_PER_FORM - 1) + [None] * 5
    forms = form_spread(frame(form(1, 7, short)))
    assert forms.iloc[0]["n_items"] == MIN_ITEMS_PER_FORM - 1
    assert not forms.iloc[0]["judged"] and not forms.iloc[0]["straight_line"]


def test_a_form_is_one_raters_scoring_of_one_session_and_tutor() -> None:
    rows = (
        form(1, 7, [3] * 6, tutor=1)
        + form(1, 7, [1, 2, 3, 1, 2, 3], tutor=2)
        + form(1, 8, [3] * 6, role="treatment_manager")
    )
    forms = form_spread(frame(rows))
    assert len(forms) == 3
    assert sorted(forms["straight_line"]) == [False, True, True]


# -- halo raters --------------------------------------------------------------------------------


def _impression_forms(rater: int, n_forms: int, seed: int, noise: float) -> list[tuple[object, ...]]:
    """Every item = the session's overall impression (+ a little independent noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    for session in range(n_forms):
        impression = rng.integers(0, 4)
        rows += form(session, rater, list(np.clip(impression + rng.normal(0, noise, 8).round(), 0, 3)))
    return rows


def test_a_rater_whose_items_move_together_across_forms_is_flagged_as_halo() -> None:
    report = assess_independence(frame(_impression_forms(7, 30, seed=1, noise=0.2)))
    (rater,) = report.raters
    assert rater.mean_inter_item_r is not None and rater.mean_inter_item_r > HALO_CORRELATION
    assert [f.flag for f in report.flags][0] == "halo"
    assert "mean inter-item correlation" in report.flags[0].detail


def test_a_rater_who_scores_each_item_independently_is_not_flagged() -> None:
    rng = np.random.default_rng(2)
    rows = []
    for session in range(30):
        rows += form(session, 7, list(rng.integers(0, 4, 8).astype(float)))
    report = assess_independence(frame(rows))
    (rater,) = report.raters
    assert rater.mean_inter_item_r is not None and abs(rater.mean_inter_item_r) < 0.3
    assert report.flags == ()


def test_raters_with_fewer_than_three_forms_are_reported_as_not_assessed() -> None:
    rows = form(1, 7, [1, 2, 3, 2, 1]) + form(2, 7, [3, 2, 1, 2, 3])
    report = assess_independence(frame(rows))
    (flag,) = report.flags
    assert flag.flag == "halo_not_assessed"
    assert f"at least {MIN_FORMS_FOR_CORRELATION}" in flag.detail and flag.detail.startswith("2 forms")


def test_the_mean_inter_item_correlation_equals_pandas_pairwise_complete_correlation() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for session in range(25):
        base = rng.integers(0, 4)
        scores = [None if rng.random() < 0.1 else float(np.clip(base + rng.integers(-1, 2), 0, 3)) for _ in range(6)]
        rows += form(session, 7, scores)
    scores = frame(rows)
    wide = scores.pivot_table(index="session_id", columns="item_id", values="score", dropna=False)
    corr = wide.corr(min_periods=MIN_FORMS_FOR_CORRELATION).to_numpy()
    expected = np.nanmean(corr[np.triu_indices(6, k=1)])
    (row,) = inter_item_correlation(scores).itertuples()
    assert row.mean_r == pytest.approx(expected, rel=1e-9)


def test_straight_lining_is_reported_with_how_many_forms_and_the_threshold() -> None:
    rows = []
    for session in range(4):
        rows += form(session, 7, [2] * 10 if session < 3 else [0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    report = assess_independence(frame(rows))
    straight = [f for f in report.flags if f.flag == "straight_line"]
    assert len(straight) == 1
    assert straight[0].detail.startswith("3 of 4 forms (75%)") and f"sd < {STRAIGHT_LINE_SD}" in straight[0].detail


# -- the kappa paradox --------------------------------------------------------------------------


def _table(a: int, b: int, c: int, d: int) -> np.ndarray:
    """Two raters' 0/1 ratings from a 2 x 2 table: a both 1, b first only, c second only, d both 0."""
    return np.array([[1, 1]] * a + [[1, 0]] * b + [[0, 1]] * c + [[0, 0]] * d, dtype=float)


def test_ratings_piled_at_the_top_give_low_kappa_despite_high_agreement_and_ac2_is_reported_beside() -> None:
    paradox = kappa_paradox(_table(80, 10, 5, 5), categories=[0, 1])
    assert paradox is not None
    assert paradox.pile_up.end == "top" and paradox.pile_up.share == pytest.approx(0.875)
    assert paradox.agreement is not None and paradox.agreement.value == pytest.approx(0.85)
    assert paradox.kappa is not None and paradox.kappa.value == pytest.approx(0.3143, abs=1e-4)
    assert paradox.ac2 is not None and paradox.ac2.value == pytest.approx(0.808, abs=1e-3)
    assert "AC2" in paradox.message and "Feinstein & Cicchetti 1990" in paradox.message


def test_balanced_ratings_with_the_same_agreement_raise_no_warning() -> None:
    assert kappa_paradox(_table(40, 9, 6, 45), categories=[0, 1]) is None


def test_pile_up_reads_the_ends_of_the_declared_scale() -> None:
    middle = np.full((10, 2), 2.0)
    assert pile_up(middle, categories=[0, 1, 2, 3]) is None  # 2 is not an end of a 0-3 scale
    bottom = np.array([[0, 0]] * 8 + [[1, 2]] * 2, dtype=float)
    found = pile_up(bottom, categories=[0, 1, 2, 3])
    assert found is not None and found.end == "bottom" and found.share == pytest.approx(16 / 20)
    assert found.share >= PILE_UP_SHARE


def test_a_single_value_everywhere_still_warns_and_leaves_out_the_undefined_figures() -> None:
    paradox = kappa_paradox(np.full((20, 3), 3.0), categories=[0, 1, 2, 3])
    assert paradox is not None and paradox.pile_up.share == 1.0
    assert paradox.kappa is None or np.isfinite(paradox.kappa.value)
    assert "100% of 60 ratings are at the top point (3)" in paradox.message


# -- readings (session_rater.domain.readings) ---------------------------------------------------
# Bands as published: Landis & Koch (1977) p. 165; Koo & Li (2016) p. 161, "based on the 95%
# confidence interval"; Krippendorff (2004) p. 241.


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-0.1, "poor"),
        (0.0, "slight"),
        (0.20, "slight"),
        (0.21, "fair"),
        (0.60, "moderate"),
        (0.61, "substantial"),
        (0.80, "substantial"),
        (0.81, "almost perfect"),
    ],
)
def test_kappa_type_values_read_on_the_landis_koch_bands(value: float, text: str) -> None:
    reading = read("fleiss_kappa", value)
    assert reading is not None and reading.text == text and reading.scale == "Landis & Koch (1977)"
    assert read("gwet_ac2_quadratic", value) == reading


def test_an_icc_is_read_on_its_interval_and_the_reading_covers_both_ends() -> None:
    reading = read("icc_2_1", 0.80, (0.70, 0.86))
    assert reading is not None and reading.text == "moderate to good" and reading.basis == "95% confidence interval"
    assert koo_li(0.95, (0.91, 0.97)).text == "excellent"
    assert koo_li(0.6).basis.startswith("point estimate")


@pytest.mark.parametrize(
    ("value", "start"), [(0.5, "not reliable"), (0.667, "tentative"), (0.75, "tentative"), (0.8, "reliable")]
)
def test_alpha_reads_on_krippendorffs_667_and_800(value: float, start: str) -> None:
    reading = read("krippendorff_alpha_ordinal", value)
    assert reading is not None and reading.text.startswith(start) and "Krippendorff" in reading.source


def test_percent_agreement_and_missing_figures_get_no_reading() -> None:
    assert read("percent_agreement", 0.9) is None
    assert read("fleiss_kappa", None) is None
    assert read("fleiss_kappa", float("nan")) is None
