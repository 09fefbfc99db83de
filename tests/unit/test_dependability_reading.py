"""The D study read in plain words for a programme manager (usecases.reports), and the scores the
dependability figures are computed from (usecases.analysis.dependability).

Scores are made here: four tutors, each with four sessions in two calendar years, every session
scored on six 0-3 items by a treatment manager and half of them also by an external assessor; the
expected counts follow from that construction.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from session_rater.usecases.analysis import assess_dependability
from session_rater.usecases.reports import (
    MonitoredSessions,
    MonitoringPolicy,
    dependability_reading,
    monitored_sessions,
)


def scores(*, with_self: bool = True, double_rated: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    session = 0
    for tutor in range(1, 5):
        for k in range(4):
            session += 1
            day = dt.date(2025 + k % 2, 3 + k, 10)  # two sessions in 2025, two in 2026
            raters = [(100 + tutor % 2, "treatment_manager")]
            if double_rated and k % 2 == 0:
                raters.append((200 + session % 3, "external_assessor"))
            if with_self:
                raters.append((tutor, "tutor"))
            for rater, role in raters:
                for item in range(6):
                    score = int(np.clip(round(1.5 + 0.3 * tutor - 0.2 * item + rng.normal(0, 0.6)), 0, 3))
                    rows.append((session, tutor, rater, role, f"i{item}", float(score), day))
    return pd.DataFrame(rows, columns=["session_id", "tutor_id", "rater_id", "rater_role", "item_id", "score",
                                       "recorded_on"])  # fmt: skip


def test_monitored_sessions_are_counted_per_tutor_per_calendar_year() -> None:
    seen = monitored_sessions(scores())
    assert seen.per_year == 2.0 and seen.tutors == 4 and seen.years == (2025, 2026)
    assert not seen.less_than_a_year


def test_self_assessments_are_left_out_of_the_g_study_and_the_rasch_model() -> None:
    dep = assess_dependability(scores())
    assert dep.n_self_assessment == 4 * 4 * 6
    assert dep.gstudy is not None and dep.gstudy.design == "(r:s:t) x i"
    assert {r.rater_role for r in dep.raters} == {"treatment_manager", "external_assessor"}
    assert [r for r, _ in sorted(dep.sessions_needed.items())] == [1, 2, 3]


def test_without_double_rated_sessions_the_d_study_has_the_one_rater_column_and_says_why() -> None:
    dep = assess_dependability(scores(double_rated=False))
    assert dep.gstudy is not None and dep.gstudy.design == "(s:t) x i"
    assert dep.rater_columns == (1,) and len(dep.d_study) == 12
    assert dep.d_study_note is not None and "no session was scored by two raters" in dep.d_study_note
    assert dep.phi(2, 2) is None and dep.phi(2, 1) is not None


def test_a_person_rating_in_two_capacities_is_two_raters() -> None:
    data = scores(with_self=False)
    data.loc[data["rater_role"] == "external_assessor", "rater_id"] = 100  # a manager also assessing
    keys = {r.key for r in assess_dependability(data).raters}
    assert {"100/treatment_manager", "100/external_assessor", "101"} <= keys


def test_the_reading_gives_phi_at_the_current_rate_and_the_sessions_one_manager_needs() -> None:
    dep = assess_dependability(scores())
    seen = monitored_sessions(scores())
    lines = dependability_reading(dep, seen, MonitoringPolicy(10.0, "default v1.0"))
    assert lines[0].startswith("With the current 10% monitoring (sampling policy default v1.0) each tutor has about "
                               "**2 rated sessions a year**")  # fmt: skip
    phi = dep.phi(2.0, 1)
    assert phi is not None and f"**Phi = {phi:.2f}**" in lines[0]
    needed = dep.sessions_needed[1]
    assert any(f"**{needed} sessions rated by one manager** would reach .80" in line for line in lines) or (
        needed is None and any("Even 100 sessions" in line for line in lines)
    )


def test_without_a_policy_or_monitoring_ratings_the_reading_says_so() -> None:
    dep = assess_dependability(scores())
    lines = dependability_reading(dep, MonitoredSessions(None, 0, (), None, None), MonitoringPolicy(10.0, None))
    assert "the HMIP target: no sampling policy in force sets one" in lines[0]
    assert "no session in these data has a submitted treatment manager's rating" in lines[0]
