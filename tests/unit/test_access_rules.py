"""The authorisation rules, role by role and action by action (every cell of the matrix)."""

from __future__ import annotations

import pytest

from session_rater.domain.access import Action, Actor, SessionScope, capacities_in_scope, decide
from session_rater.domain.model import Capacity

SESSION = SessionScope(recording_id=1, area="Cumbria", team="Carlisle", tutor_ids=frozenset({10, 11}))
TUTOR = Actor(10, frozenset({"tutor"}))
OTHER_TUTOR = Actor(12, frozenset({"tutor"}))
MANAGER = Actor(20, frozenset({"treatment_manager"}), managed_teams=frozenset({("Cumbria", "Carlisle")}))
OTHER_MANAGER = Actor(21, frozenset({"treatment_manager"}), managed_teams=frozenset({("Cumbria", "Barrow")}))
ASSESSOR = Actor(30, frozenset({"external_assessor"}), assigned_recordings=frozenset({1}))
UNASSIGNED_ASSESSOR = Actor(31, frozenset({"external_assessor"}), assigned_recordings=frozenset({2}))
PROGRAMME_MANAGER = Actor(40, frozenset({"programme_manager"}), areas=frozenset({"Cumbria"}))
OTHER_AREA_PM = Actor(41, frozenset({"programme_manager"}), areas=frozenset({"Lancashire"}))
ADMIN = Actor(50, frozenset({"administrator"}))

ACTORS = {
    "tutor": TUTOR, "other tutor": OTHER_TUTOR, "manager": MANAGER, "other manager": OTHER_MANAGER,
    "assessor": ASSESSOR, "unassigned assessor": UNASSIGNED_ASSESSOR, "programme manager": PROGRAMME_MANAGER,
    "other area PM": OTHER_AREA_PM, "administrator": ADMIN,
}
# Expected decision per actor for each action on SESSION, rating tutor 10, own rating not submitted.
MATRIX = {
    Action.VIEW_SESSION:       dict(zip(ACTORS, [1, 0, 1, 0, 1, 0, 1, 0, 1])),
    Action.PLAY_RECORDING:     dict(zip(ACTORS, [1, 0, 1, 0, 1, 0, 1, 0, 1])),
    Action.RATE:               dict(zip(ACTORS, [1, 0, 1, 0, 1, 0, 1, 0, 1])),
    Action.SEE_OTHERS_RATINGS: dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 1, 0, 1])),
    Action.VIEW_REPORTS:       dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 1, 0, 1])),
    Action.VIEW_COVERAGE:      dict(zip(ACTORS, [0, 0, 1, 1, 0, 0, 1, 1, 1])),
    Action.MANAGE_RECORDINGS:  dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 0, 0, 1])),
    Action.MANAGE_PEOPLE:      dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 0, 0, 1])),
    Action.MANAGE_RUBRICS:     dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 0, 0, 1])),
    Action.MANAGE_ASSIGNMENTS: dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 0, 0, 1])),
    Action.VIEW_AUDIT_LOG:     dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 0, 0, 1])),
    Action.MANAGE_SAMPLING:    dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 0, 0, 1])),
    Action.VIEW_SUPERVISION:   dict(zip(ACTORS, [1, 0, 1, 0, 0, 0, 1, 0, 1])),
    Action.RECORD_SUPERVISION: dict(zip(ACTORS, [1, 0, 1, 0, 0, 0, 0, 0, 0])),
    # without a manager named: whether the person may see monitoring reports at all (the menu)
    Action.VIEW_MONITORING_REPORT: dict(zip(ACTORS, [0, 0, 1, 1, 0, 0, 1, 1, 1])),
    Action.VIEW_AREA_REPORT:   dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 1, 0, 1])),
    Action.MANAGE_AUDIT:       dict(zip(ACTORS, [0, 0, 0, 0, 1, 1, 0, 0, 1])),
    # the benchmark (issue 10)
    Action.CLEAR_FOR_TRAINING: dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 0, 0, 1])),
    Action.DESIGNATE_BENCHMARK: dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 1, 0, 1])),
    Action.MANAGE_CALIBRATION: dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 1, 1, 1])),
    Action.SEE_MASTER_SCORES:  dict(zip(ACTORS, [0, 0, 0, 0, 0, 0, 1, 0, 1])),
    # a clip of a recording cleared for training: anyone who rates with the rubric, in reach of the recording or not
    Action.PLAY_EXEMPLAR:      dict(zip(ACTORS, [1, 1, 1, 1, 1, 1, 1, 1, 1])),
}


def test_the_matrix_covers_every_action() -> None:
    assert set(MATRIX) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("who", list(ACTORS))
def test_role_by_action_matrix(who: str, action: Action) -> None:
    area = "Cumbria" if action in (Action.VIEW_REPORTS, Action.VIEW_AREA_REPORT) else None
    decision = decide(ACTORS[who], action, SESSION, tutor_id=10, area=area, cleared_for_training=True)
    assert bool(decision) is bool(MATRIX[action][who]), decision.reason
    assert decision.reason


@pytest.mark.parametrize("who", list(ACTORS))
def test_an_exemplar_of_a_recording_not_cleared_for_training_is_played_by_nobody(who: str) -> None:
    decision = decide(ACTORS[who], Action.PLAY_EXEMPLAR, SESSION, cleared_for_training=False)
    assert not decision and "cleared for training" in decision.reason
    assert not decide(Actor(99, frozenset()), Action.PLAY_EXEMPLAR, cleared_for_training=True), "no rating role"


def test_a_tutor_self_assesses_only_their_own_delivery() -> None:
    assert capacities_in_scope(TUTOR, SESSION, 10) == [Capacity.SELF_ASSESSMENT]
    assert capacities_in_scope(TUTOR, SESSION, 11) == []
    assert not decide(TUTOR, Action.RATE, SESSION, tutor_id=11)


def test_nobody_rates_a_session_they_delivered_in_another_capacity() -> None:
    tutor_and_manager = Actor(10, frozenset({"tutor", "treatment_manager"}), managed_teams=frozenset({("Cumbria", "Carlisle")}))
    assert capacities_in_scope(tutor_and_manager, SESSION, 11) == []


def test_ratings_stay_blind_until_ones_own_is_submitted() -> None:
    for rater in (TUTOR, MANAGER, ASSESSOR):
        assert not decide(rater, Action.SEE_OTHERS_RATINGS, SESSION, tutor_id=10)
        assert decide(rater, Action.SEE_OTHERS_RATINGS, SESSION, tutor_id=10, own_rating_submitted=True)


def test_overseers_may_look_without_rating_but_are_then_not_blind() -> None:
    for overseer in (PROGRAMME_MANAGER, ADMIN):
        decision = decide(overseer, Action.SEE_OTHERS_RATINGS, SESSION, tutor_id=10)
        assert decision and decision.not_blind


def test_a_treatment_manager_drawn_to_monitor_a_session_of_another_team_may_open_and_monitor_it() -> None:
    drawn = Actor(21, frozenset({"treatment_manager"}), managed_teams=frozenset({("Cumbria", "Barrow")}),
                  monitoring_assignments=frozenset({1}))
    assert decide(drawn, Action.VIEW_SESSION, SESSION) and decide(drawn, Action.PLAY_RECORDING, SESSION)
    assert capacities_in_scope(drawn, SESSION, 10) == [Capacity.MONITORING]
    assessor_drawn_to_monitor = Actor(30, frozenset({"external_assessor"}), monitoring_assignments=frozenset({1}))
    assert not decide(assessor_drawn_to_monitor, Action.VIEW_SESSION, SESSION)  # monitoring is a manager's


def test_a_capacity_outside_ones_roles_is_refused() -> None:
    assert decide(MANAGER, Action.RATE, SESSION, tutor_id=10, capacity=Capacity.MONITORING)
    assert not decide(MANAGER, Action.RATE, SESSION, tutor_id=10, capacity=Capacity.EXTERNAL)
    assert not decide(ASSESSOR, Action.RATE, SESSION, tutor_id=10, capacity=Capacity.BENCHMARK)


def test_supervision_feedback_is_the_tutors_not_their_co_tutors() -> None:
    co_tutor = Actor(11, frozenset({"tutor"}))
    assert decide(co_tutor, Action.VIEW_SUPERVISION, SESSION, tutor_id=11)
    assert not decide(co_tutor, Action.VIEW_SUPERVISION, SESSION, tutor_id=10)
    assert not decide(co_tutor, Action.RECORD_SUPERVISION, SESSION, tutor_id=10)
    assert not decide(ADMIN, Action.VIEW_SUPERVISION, SESSION, tutor_id=99)  # 99 did not deliver it


def test_a_treatment_manager_who_delivered_the_session_gives_no_supervision_on_it() -> None:
    tutor_and_manager = Actor(10, frozenset({"tutor", "treatment_manager"}), managed_teams=frozenset({("Cumbria", "Carlisle")}))
    assert decide(tutor_and_manager, Action.VIEW_SUPERVISION, SESSION, tutor_id=10)  # their own, as tutor
    assert not decide(tutor_and_manager, Action.VIEW_SUPERVISION, SESSION, tutor_id=11)


MONITORING_REPORT = {  # whose report: MANAGER's (id 20, teams in Cumbria)
    "tutor": 0, "other tutor": 0, "manager": 1, "other manager": 0, "assessor": 0, "unassigned assessor": 0,
    "programme manager": 1, "other area PM": 0, "administrator": 1,
}


@pytest.mark.parametrize("who", list(ACTORS))
def test_a_monitoring_report_is_the_managers_their_areas_pms_and_administrators(who: str) -> None:
    decision = decide(ACTORS[who], Action.VIEW_MONITORING_REPORT, manager_id=20, manager_areas={"Cumbria"})
    assert bool(decision) is bool(MONITORING_REPORT[who]), decision.reason


def test_a_benchmark_to_rate_is_reached_and_rated_in_the_benchmark_capacity() -> None:
    panel_member = Actor(32, frozenset({"external_assessor"}), benchmark_assignments=frozenset({1}))
    assert decide(panel_member, Action.VIEW_SESSION, SESSION) and decide(panel_member, Action.PLAY_RECORDING, SESSION)
    assert capacities_in_scope(panel_member, SESSION, 10) == [Capacity.BENCHMARK]
    delivered = Actor(10, frozenset({"tutor"}), benchmark_assignments=frozenset({1}))
    assert capacities_in_scope(delivered, SESSION, 11) == [], "never a benchmark of one's own delivery"


def test_master_scores_stay_blind_until_ones_own_rating_is_submitted() -> None:
    calibrating = Actor(22, frozenset({"treatment_manager"}), benchmark_assignments=frozenset({1}))
    assert not decide(calibrating, Action.SEE_MASTER_SCORES, SESSION, tutor_id=10)
    assert decide(calibrating, Action.SEE_MASTER_SCORES, SESSION, tutor_id=10, own_rating_submitted=True)
    for overseer in (PROGRAMME_MANAGER, ADMIN):
        decision = decide(overseer, Action.SEE_MASTER_SCORES, SESSION, tutor_id=10)
        assert decision and decision.not_blind
    assert not decide(OTHER_AREA_PM, Action.SEE_MASTER_SCORES, SESSION, tutor_id=10)


def test_a_validity_session_reaches_a_manager_exactly_as_a_drawn_monitoring_session_does() -> None:
    """Services.actor adds validity sessions to the monitoring assignments: the same reason, the
    same capacity, so nothing the rater can reach tells them apart."""
    drawn = Actor(21, frozenset({"treatment_manager"}), monitoring_assignments=frozenset({1}))
    assert decide(drawn, Action.VIEW_SESSION, SESSION).reason == "drawn for this treatment manager to monitor"
