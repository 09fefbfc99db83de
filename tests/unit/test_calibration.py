"""Calibration against master scores (issue 10): figures, the certification rule's edges,
status over time, adjudication and validity draws. Expected values are worked by hand from
the definitions in session_rater.domain.calibration (the issue's default rule: 80% within one
point, |mean difference| <= 0.5, valid 12 months)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from session_rater.domain.calibration import (
    Attempt,
    CertificationRule,
    MasterScore,
    agreement_with_master,
    check_master_scores,
    compare_items,
    ewma_chart,
    panel_disagreements,
    rater_status,
    validity_sessions_due,
)

RULE = CertificationRule()
ITEMS = [f"i{n}" for n in range(10)]


def figures(rater: list[int | None], master: list[int | None]):
    return agreement_with_master(compare_items(ITEMS[: len(rater)], dict(zip(ITEMS, rater)), dict(zip(ITEMS, master))))


def attempt(rater: list[int | None], master: list[int | None], on: dt.date, rule: CertificationRule = RULE) -> Attempt:
    return Attempt(rater_id=7, completed_on=on, figures=figures(rater, master), rule=rule)


def test_figures_count_exact_within_one_and_signed_difference_over_items_both_scored():
    f = figures([3, 2, 1, None, 0, 3], [3, 3, 3, 2, None, 2])
    # compared: (3,3) (2,3) (1,3) (3,2); N/A on either side is left out
    assert f.n_items == 4
    assert f.exact == 0.25
    assert f.within_one == 0.75
    assert f.mean_bias == pytest.approx((0 - 1 - 2 + 1) / 4)


def test_no_item_scored_by_both_is_an_error_not_zero_agreement():
    with pytest.raises(ValueError, match="nothing to compare"):
        figures([None, 2], [1, None])


def test_exactly_eighty_percent_within_one_point_certifies():
    master = [2] * 10
    rater = [2] * 8 + [0, 4]  # 8 of 10 within one point; mean difference 0
    assert RULE.passes(figures(rater, master))
    rater = [2] * 7 + [0, 4, 0]  # 7 of 10
    assert not RULE.passes(figures(rater, master))


def test_a_mean_difference_of_exactly_half_a_point_certifies_and_more_does_not():
    master = [1] * 10
    assert RULE.passes(figures([2] * 5 + [1] * 5, master))  # +0.5 exactly
    assert RULE.passes(figures([0] * 5 + [1] * 5, master))  # -0.5 exactly
    assert not RULE.passes(figures([2] * 6 + [1] * 4, master))  # +0.6


def test_rule_edges_are_exact_for_decimals_that_floats_cannot_hold():
    rule = CertificationRule(within_one_min=0.7, abs_bias_max=0.3)
    # 7 of 10 within one point (0.7) and a difference of 3/10 (0.3): floats would say 0.30000000000000004 > 0.3
    f = figures([2, 2, 2, 2, 2, 2, 2, 0, 0, 3], [2, 2, 2, 2, 2, 2, 2, 2, 2, 0])
    assert (f.within_one_count, f.n_items, f.mean_bias) == (7, 10, pytest.approx(-0.1))
    f = figures([3, 3, 3, 2, 2, 2, 2, 2, 2, 2], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    assert rule.passes(f)


def test_a_certificate_runs_twelve_calendar_months_then_expires():
    passed = attempt([2] * 10, [2] * 10, dt.date(2026, 1, 31))
    assert passed.certified_until == dt.date(2027, 1, 31)
    assert rater_status([passed], today=dt.date(2027, 1, 31)).status == "certified"
    assert rater_status([passed], today=dt.date(2027, 2, 1)).status == "expired"
    one_month = CertificationRule(valid_months=1)
    assert one_month.valid_until(dt.date(2026, 1, 31)) == dt.date(2026, 2, 28)


def test_expiry_within_thirty_days_is_flagged():
    passed = attempt([2] * 10, [2] * 10, dt.date(2026, 1, 1))
    assert not rater_status([passed], today=dt.date(2026, 12, 1)).expiring_soon  # 31 days left
    assert rater_status([passed], today=dt.date(2026, 12, 2)).expiring_soon  # 30 days left


def test_status_comes_from_the_latest_attempt_and_every_attempt_is_kept():
    failed = attempt([3] * 10, [2] * 10, dt.date(2026, 3, 1))  # +1.0
    passed = attempt([2] * 10, [2] * 10, dt.date(2026, 5, 1))
    assert rater_status([], today=dt.date(2026, 6, 1)).status == "not_attempted"
    assert rater_status([failed], today=dt.date(2026, 6, 1)).status == "not_certified"
    status = rater_status([passed, failed], today=dt.date(2026, 6, 1))
    assert (status.status, status.latest, status.certified_until) == ("certified", passed, dt.date(2027, 5, 1))
    later_failed = attempt([3] * 10, [2] * 10, dt.date(2026, 8, 1))
    assert rater_status([passed, failed, later_failed], today=dt.date(2026, 9, 1)).status == "not_certified"


def test_the_rule_in_force_is_kept_with_each_attempt():
    strict = CertificationRule(version="2", within_one_min=1.0)
    earlier = attempt([2] * 8 + [0, 4], [2] * 10, dt.date(2026, 1, 1))  # 80%: passed under version 1
    assert earlier.passed and not strict.passes(earlier.figures)
    assert rater_status([earlier], today=dt.date(2026, 2, 1)).status == "certified"


def test_ewma_follows_its_recursion_from_zero():
    days = [dt.date(2026, m, 1) for m in range(1, 5)]
    chart = ewma_chart(list(zip(days, [1.0, 1.0, 0.0, 2.0])), limit=0.5, lam=0.2)
    # z1 = .2, z2 = .2 + .8*.2 = .36, z3 = .8*.36 = .288, z4 = .4 + .8*.288 = .6304
    assert [round(p.ewma, 4) for p in chart.points] == [0.2, 0.36, 0.288, 0.6304]
    assert [p.outside for p in chart.points] == [False, False, False, True]
    assert chart.first_signal == days[3]
    assert "lambda = 0.2" in chart.method and "0.5" in chart.method


def test_one_odd_session_does_not_signal_but_steady_over_scoring_does():
    days = [dt.date(2026, 1, d) for d in range(1, 9)]
    assert ewma_chart([(days[0], 2.0)] + [(d, 0.0) for d in days[1:]], limit=0.5).first_signal is None
    assert ewma_chart([(d, 0.7) for d in days], limit=0.5).first_signal == days[5]  # 0.7*(1-.8^n): .47 at the 5th, .52 at the 6th


def test_drift_past_the_rule_after_certification_makes_recalibration_due():
    passed = attempt([2] * 10, [2] * 10, dt.date(2026, 1, 1))
    days = [dt.date(2026, 2, d) for d in range(1, 9)]
    drifting = ewma_chart([(d, 0.8) for d in days], limit=RULE.abs_bias_max)
    status = rater_status([passed], today=dt.date(2026, 3, 1), drift=drifting)
    assert status.status == "recalibration_due" and status.drift_since == drifting.first_signal
    steady = ewma_chart([(d, 0.1) for d in days], limit=RULE.abs_bias_max)
    assert rater_status([passed], today=dt.date(2026, 3, 1), drift=steady).status == "certified"
    # a signal before the certification is what the certification answered
    recertified = attempt([2] * 10, [2] * 10, dt.date(2026, 2, 20))
    assert rater_status([passed, recertified], today=dt.date(2026, 3, 1), drift=drifting).status == "certified"


def test_adjudication_lists_the_items_where_the_panel_differs():
    panel = {1: {"a": 2, "b": 3, "c": None}, 2: {"a": 2, "b": 1, "c": 2}}
    found = panel_disagreements(["a", "b", "c"], panel)
    assert [(d.item_id, d.spread) for d in found] == [("b", 2), ("c", 0)]
    with pytest.raises(ValueError, match="two or more"):
        panel_disagreements(["a"], {1: {"a": 2}})


def test_master_scores_need_a_rationale_only_where_the_panel_disagreed():
    panel = {1: {"a": 2, "b": 3}, 2: {"a": 2, "b": 1}}
    agreed = [MasterScore("a", 2), MasterScore("b", 2, "Modelled the skill but did not check understanding", (61.5,))]
    assert check_master_scores(["a", "b"], (0, 3), panel, agreed, duration=120) == []
    problems = check_master_scores(["a", "b"], (0, 3), panel, [MasterScore("b", 5, "", (130.0,))], duration=120)
    assert problems == [
        "a: no master score yet",
        "b: 5 is not on the scale 0 to 3",
        "b: the panel disagreed here, so say why the master score is what it is",
        "b: the moment 130 s is not within the recording",
    ]


def test_validity_sessions_make_up_the_rate_and_never_a_session_the_rater_delivered_or_rated():
    rng = np.random.default_rng(5)
    assert validity_sessions_due(monitoring_assignments=9, validity_assigned=0, rate=0.1, candidates=[1, 2, 3],
                                 excluded=[], rng=rng) == []  # fmt: skip
    picks = validity_sessions_due(monitoring_assignments=20, validity_assigned=0, rate=0.1, candidates=[1, 2, 3, 4],
                                  excluded=[1, 2], rng=rng)  # fmt: skip
    assert sorted(picks) == [3, 4]
    assert validity_sessions_due(monitoring_assignments=20, validity_assigned=2, rate=0.1, candidates=[5, 6],
                                 excluded=[], rng=rng) == []  # fmt: skip


def test_validity_draw_is_reproducible_from_its_seed():
    draw = lambda seed: validity_sessions_due(monitoring_assignments=50, validity_assigned=0, rate=0.1,  # noqa: E731
                                              candidates=range(100), excluded=[], rng=np.random.default_rng(seed))
    assert draw(11) == draw(11) and len(draw(11)) == 5
