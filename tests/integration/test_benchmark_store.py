"""Storage of the benchmark on SQLite and PostgreSQL: only cleared recordings become benchmarks,
master scores are locked once agreed and a change is a new version with its reason, in the
audit log; rounds, attempts, validity assignments and clips are kept as given."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from session_rater.db.accounts_store import AccountsStore
from session_rater.db.store import RecordingSpec, Store
from session_rater.domain.calibration import (
    MasterScore,
    agreement_with_master,
    compare_items,
)
from session_rater.domain.calibration.records import BenchmarkState
from session_rater.domain.model import Role
from session_rater.errors import CalibrationError


def _recording(store: Store) -> tuple[int, int, list[int]]:
    tutor = store.add_person("Tutor", [Role.TUTOR])
    panel = [store.add_person(f"Panel {i}", [Role.PROGRAMME_MANAGER]).id for i in (1, 2)]
    spec = RecordingSpec(file_path="/nowhere/b.mp4", programme="Think First", group_name="TF-09", session_number=4,
                         session_title="Problem solving", recorded_on=dt.date(2026, 3, 2), site="Carlisle")
    return store.add_recording(spec, [tutor.id]).id, tutor.id, panel


def test_only_a_recording_cleared_for_training_can_become_a_benchmark(store: Store) -> None:
    recording, tutor, panel = _recording(store)
    with pytest.raises(CalibrationError, match="cleared for training"):
        store.designate_benchmark(recording, tutor, rubric_id="r", rubric_version="1", reason="typical",
                                  panel=panel, panel_lead=panel[0], by=panel[0])
    cleared = store.clear_for_training(recording, by=panel[1], note="consent on file")
    assert (cleared.cleared_by, cleared.note) == (panel[1], "consent on file")
    bench = store.designate_benchmark(recording, tutor, rubric_id="r", rubric_version="1", reason="typical",
                                      panel=panel, panel_lead=panel[0], by=panel[0])
    assert (bench.panel, bench.panel_lead, bench.state) == (tuple(sorted(panel)), panel[0], BenchmarkState.PANEL_RATING)
    with pytest.raises(CalibrationError, match="two or more"):
        store.designate_benchmark(recording, None, rubric_id="r", rubric_version="1", reason="x", panel=panel[:1],
                                  panel_lead=panel[0], by=None)


def test_a_master_score_change_is_a_new_version_with_its_reason_in_the_audit_log(engine: Engine, store: Store) -> None:
    recording, tutor, panel = _recording(store)
    store.clear_for_training(recording, by=None)
    bench = store.designate_benchmark(recording, tutor, rubric_id="r", rubric_version="1", reason="hard",
                                      panel=panel, panel_lead=panel[0], by=None)
    first = store.save_master_scores(bench.id, [MasterScore("a", 2, "clear recap", (12.0,)), MasterScore("b", None)],
                                     by=panel[0])
    assert first.version == 1 and first.by_item() == {"a": 2, "b": None}
    assert store.get_benchmark(bench.id).state is BenchmarkState.MASTER_SCORED
    with pytest.raises(CalibrationError, match="reason"):
        store.save_master_scores(bench.id, [MasterScore("a", 3)], by=panel[0])
    second = store.save_master_scores(bench.id, [MasterScore("a", 3, "re-watched"), MasterScore("b", None)],
                                      by=panel[0], reason="the recap also set homework")
    assert [v.version for v in store.master_score_history(bench.id)] == [1, 2]
    assert store.master_scores(bench.id) == second
    assert store.master_scores_in_force()[bench.id].by_item()["a"] == 3
    assert store.master_score_history(bench.id)[0].scores[0].moments == (12.0,)
    log = [e for e in AccountsStore(engine).audit_log() if e.entity == "master_scores"]
    change = next(e for e in log if e.action == "change")
    assert change.before["a"]["score"] == 2 and change.after["scores"]["a"]["score"] == 3
    assert change.after["reason"] == "the recap also set homework"


def test_rounds_attempts_validity_and_clips_are_kept(store: Store) -> None:
    recording, tutor, panel = _recording(store)
    rater = store.add_person("Manager", [Role.TREATMENT_MANAGER]).id
    store.clear_for_training(recording, by=None)
    bench = store.designate_benchmark(recording, tutor, rubric_id="r", rubric_version="1", reason="typical",
                                      panel=panel, panel_lead=panel[0], by=None)
    with pytest.raises(CalibrationError, match="no agreed master scores"):
        store.create_round("Spring", dt.date(2026, 5, 1), [bench.id], [rater], by=None)
    store.save_master_scores(bench.id, [MasterScore("a", 2)], by=panel[0])
    rnd = store.create_round("Spring", dt.date(2026, 5, 1), [bench.id], [rater], by=panel[0])
    assert (rnd.benchmark_ids, rnd.rater_ids) == ((bench.id,), (rater,))
    assert store.rounds(rater_id=rater) == [rnd]
    figures = agreement_with_master(compare_items(["a"], {"a": 3}, {"a": 2}))
    attempt = store.record_attempt(rnd.id, rater, dt.date(2026, 4, 20), figures, passed=False,
                                   rule={"id": "certification", "version": "1", "fingerprint": "f"})
    assert (attempt.n_items, attempt.difference_sum, attempt.rule["version"]) == (1, 1, "1")
    assert store.record_attempt(rnd.id, rater, dt.date(2026, 4, 21), figures, passed=True, rule={}) == attempt
    validity = store.add_validity(rater, bench.id, draw_id=None, policy_name="default", reason="r", due_on=None)
    assert validity.hidden and validity.recording_id == recording
    store.reveal_validity(validity.id)
    assert not store.validity_assignments(rater)[0].hidden
    clip = store.add_exemplar(bench.id, "a", 2, 10.0, 25.0, "a clear recap", by=panel[1])
    assert store.exemplars(bench.id) == [clip]
    with pytest.raises(CalibrationError):
        store.add_exemplar(bench.id, "a", 2, 30.0, 25.0, "backwards", by=None)
