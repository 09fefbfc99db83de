"""The storage layer on SQLite and PostgreSQL: what a rater enters is kept, and nothing can
put a score off the scale, change a submitted rating, or silently redefine a rubric version."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import text

from session_rater.db.store import RecordingSpec, Store
from session_rater.domain.model import Capacity, RatingStatus, Role
from session_rater.domain.rubric import Rubric
from session_rater.errors import (
    IncompleteRatingError,
    NotFoundError,
    RatingError,
    RatingLockedError,
    RubricError,
    ScoreError,
    StaleEditError,
    UniformScoresError,
)


def _session(store: Store) -> tuple[int, int, int, int]:
    """A recording delivered by two tutors, and a treatment manager: (recording, tutor1, tutor2, manager)."""
    t1 = store.add_person("Tutor One", [Role.TUTOR])
    t2 = store.add_person("Tutor Two", [Role.TUTOR])
    tm = store.add_person("Manager", [Role.TREATMENT_MANAGER])
    spec = RecordingSpec(
        file_path="/nowhere/s1.mp4",
        programme="Think First",
        group_name="TF-01",
        session_number=3,
        session_title="Problem solving",
        recorded_on=dt.date(2026, 2, 10),
        site="Carlisle",
    )
    recording = store.add_recording(spec, [t1.id, t2.id])
    return recording.id, t1.id, t2.id, tm.id


def test_recording_keeps_its_tutors_in_delivery_order(store: Store) -> None:
    recording_id, t1, t2, _ = _session(store)
    recording = store.get_recording(recording_id)
    assert [t.id for t in recording.tutors] == [t1, t2]
    assert recording.session_title == "Problem solving"


def test_each_entry_is_saved_at_once_and_fields_change_independently(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    item = think_first.items[0].id
    store.save_item(rating.id, item, score=2)
    store.save_item(rating.id, item, evidence="Recap linked to aims", moment_seconds=75.5)
    saved = store.get_rating(rating.id).scores[item]
    assert (saved.score, saved.evidence, saved.moment_seconds, saved.not_applicable) == (2, "Recap linked to aims", 75.5, False)
    assert store.get_rating(rating.id).rubric_version == think_first.version


def test_starting_the_same_rating_twice_returns_the_existing_draft(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    first = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    store.save_item(first.id, think_first.items[0].id, score=1)
    again = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    assert again.id == first.id and again.scores[think_first.items[0].id].score == 1


def test_not_applicable_is_not_a_score_and_a_later_score_clears_it(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    item = think_first.items[-1].id
    store.save_item(rating.id, item, score=3)
    store.save_item(rating.id, item, not_applicable=True)
    assert store.get_rating(rating.id).scores[item].score is None
    store.save_item(rating.id, item, score=1)
    saved = store.get_rating(rating.id).scores[item]
    assert saved.score == 1 and not saved.not_applicable


@pytest.mark.parametrize("bad", [4, -1, 2.5, "two", "", [2], True])
def test_a_score_off_the_scale_or_not_a_number_is_rejected_and_the_saved_score_kept(
    store: Store, think_first: Rubric, bad: object
) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    item = think_first.items[0].id
    store.save_item(rating.id, item, score=2)
    with pytest.raises(ScoreError, match=r"from 0 to 3"):
        store.save_item(rating.id, item, score=bad)
    assert store.get_rating(rating.id).scores[item].score == 2


def test_numeric_text_on_the_scale_is_accepted_as_a_whole_number(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    item = think_first.items[0].id
    assert store.save_item(rating.id, item, score="3").score == 3


def test_an_item_not_on_the_rubric_is_rejected(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    with pytest.raises(ScoreError, match="not on rubric"):
        store.save_item(rating.id, "no.such-item", score=1)


def test_a_negative_moment_is_rejected(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    with pytest.raises(ScoreError, match="0 s or later"):
        store.save_item(rating.id, think_first.items[0].id, moment_seconds=-3)


def test_submit_needs_every_item_scored_or_na_and_names_the_missing_ones(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    for item in think_first.items[:-1]:
        store.save_item(rating.id, item.id, score=2)
    with pytest.raises(IncompleteRatingError, match=think_first.items[-1].id):
        store.submit_rating(rating.id)
    assert store.get_rating(rating.id).status is RatingStatus.DRAFT
    store.save_item(rating.id, think_first.items[-1].id, not_applicable=True)
    submitted = store.submit_rating(rating.id, confirm_uniform=True)
    assert submitted.status is RatingStatus.SUBMITTED and submitted.submitted_at is not None


def test_a_submitted_rating_is_read_only(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    for item in think_first.items:
        store.save_item(rating.id, item.id, score=1)
    store.submit_rating(rating.id, confirm_uniform=True)
    with pytest.raises(RatingLockedError):
        store.save_item(rating.id, think_first.items[0].id, score=3)
    with pytest.raises(RatingLockedError):
        store.submit_rating(rating.id)
    assert store.get_rating(rating.id).scores[think_first.items[0].id].score == 1


def test_editing_a_rubric_without_a_new_version_is_refused_and_old_ratings_keep_their_definition(
    store: Store, think_first: Rubric
) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    first = think_first.sections[0]
    edited_item = dataclasses.replace(first.items[0], title="Reworded")
    edited_section = dataclasses.replace(first, items=(edited_item, *first.items[1:]))
    edited = dataclasses.replace(think_first, sections=(edited_section, *think_first.sections[1:]))
    with pytest.raises(RubricError, match="new `version`"):
        store.record_rubric_version(edited)
    bumped = dataclasses.replace(edited, version="1.1")
    store.record_rubric_version(bumped)
    kept = store.rubric_version(rating.rubric_id, rating.rubric_version)
    assert kept.items[0].title == think_first.items[0].title
    assert Store(store.engine).rubric_version(think_first.id, "1.1").items[0].title == "Reworded"


def test_score_records_hold_submitted_scores_only_with_na_as_none(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    done = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    for item in think_first.items:
        store.save_item(done.id, item.id, score=2)
    store.save_item(done.id, think_first.items[0].id, not_applicable=True)
    store.submit_rating(done.id, confirm_uniform=True)
    draft = store.start_rating(recording_id, t1, t1, Capacity.SELF_ASSESSMENT, think_first)
    store.save_item(draft.id, think_first.items[0].id, score=3)
    records = store.score_records()
    assert len(records) == len(think_first.items)
    assert {r.capacity for r in records} == {Capacity.MONITORING}
    assert next(r for r in records if r.item_id == think_first.items[0].id).score is None


def test_unknown_ids_raise_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.get_recording(999)
    with pytest.raises(NotFoundError):
        store.get_rating(999)
    with pytest.raises(NotFoundError):
        store.save_item(999, "x", score=1)


def test_the_database_itself_refuses_a_score_marked_not_applicable(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    store.save_item(rating.id, think_first.items[0].id, score=1)
    with pytest.raises(Exception, match="(?i)check|constraint"):
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE item_scores SET not_applicable = true"))


def test_deleting_demo_data_keeps_real_data_and_refuses_when_real_ratings_depend_on_it(
    store: Store, think_first: Rubric
) -> None:
    real = store.add_person("Real Tutor", [Role.TUTOR])
    demo_tm = store.add_person("Demo Manager", [Role.TREATMENT_MANAGER], is_demo=True)
    spec = RecordingSpec("/x.mp4", "Think First", "G", 1, "Intro", dt.date(2026, 1, 5), "Barrow")
    recording = store.add_recording(spec, [real.id])
    store.start_rating(recording.id, real.id, demo_tm.id, Capacity.MONITORING, think_first)  # real rating by a demo person
    with pytest.raises(RatingError, match="left in place"):
        store.delete_demo_data()
    assert len(store.list_people()) == 2


def test_people_of_given_ids_are_those_of_everyone_with_those_ids(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from session_rater.db import people

    made = [store.add_person(f"Person {k}", [Role.TUTOR] if k % 2 else [Role.TREATMENT_MANAGER, Role.TUTOR])
            for k in range(6)]  # fmt: skip
    wanted = {made[1].id, made[2].id, made[4].id, 10_000}  # an unknown id is no one
    expected = [p for p in store.list_people() if p.id in wanted]
    assert len(expected) == 3 and store.list_people(ids=wanted) == expected
    assert store.list_people(Role.TREATMENT_MANAGER, ids=wanted) == [p for p in expected if p.id != made[1].id]
    assert store.list_people(ids=[]) == []
    monkeypatch.setattr(people, "MAX_IN", 2)  # more ids than that: everyone read, then picked
    assert store.list_people(ids=wanted) == expected


def test_sqlite_runs_in_wal_mode_with_foreign_keys(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def _submitted(store: Store, think_first: Rubric) -> tuple[int, int, int, int]:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    for k, item in enumerate(think_first.items):
        store.save_item(rating.id, item.id, score=k % 3)
    store.submit_rating(rating.id)
    return rating.id, recording_id, t1, tm


def test_a_form_with_every_item_the_same_needs_confirmation_which_is_recorded(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    for item in think_first.items:
        store.save_item(rating.id, item.id, score=3)
    with pytest.raises(UniformScoresError, match="same score"):
        store.submit_rating(rating.id)
    assert store.get_rating(rating.id).status is RatingStatus.DRAFT
    assert store.submit_rating(rating.id, confirm_uniform=True).confirmed_uniform


def test_a_correction_is_a_new_version_with_a_reason_and_earlier_versions_are_kept(store: Store, think_first: Rubric) -> None:
    rating_id, recording_id, t1, tm = _submitted(store, think_first)
    with pytest.raises(RatingError, match="needs a reason"):
        store.correct_rating(rating_id, "  ")
    correction = store.correct_rating(rating_id, "Scored the wrong tutor on item 1", actor_id=tm)
    assert (correction.version, correction.supersedes_id, correction.status) == (2, rating_id, RatingStatus.DRAFT)
    first = think_first.items[0].id
    store.save_item(correction.id, first, score=3)
    # Until the correction is submitted, the first version is what counts.
    assert {r.id for r in store.ratings_of_recording(recording_id)} == {rating_id}
    store.submit_rating(correction.id)
    assert {r.id for r in store.ratings_of_recording(recording_id)} == {correction.id}
    history = store.rating_history(correction.id)
    assert [(r.version, r.is_current) for r in history] == [(1, False), (2, True)]
    assert history[0].scores[first].score == 0 and history[1].scores[first].score == 3
    assert store.find_rating(recording_id, t1, tm, Capacity.MONITORING).id == correction.id  # type: ignore[union-attr]
    with pytest.raises(RatingError, match="correct that one"):
        store.correct_rating(rating_id, "again")


def test_a_stale_edit_of_the_same_item_is_refused_and_nothing_is_lost(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    item = think_first.items[0].id
    tab_a = store.save_item(rating.id, item, score=1, expected_revision=0)
    store.save_item(rating.id, item, score=2, expected_revision=tab_a.revision)  # tab A again
    with pytest.raises(StaleEditError, match="another tab"):
        store.save_item(rating.id, item, score=3, expected_revision=tab_a.revision)  # tab B, opened before
    assert store.get_rating(rating.id).scores[item].score == 2


def test_every_change_is_in_the_audit_log_with_before_and_after(store: Store, think_first: Rubric) -> None:
    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    item = think_first.items[0].id
    store.save_item(rating.id, item, score=1, actor_id=tm)
    store.save_item(rating.id, item, score=1, actor_id=tm)  # no change, no entry
    store.save_item(rating.id, item, evidence="Clear recap", actor_id=tm)
    entries = list(reversed(store.audit_entries(rating_id=rating.id)))
    assert [(e.entity, e.action) for e in entries] == [("rating", "create"), ("item_score", "create"), ("item_score", "update")]
    assert entries[1].after["score"] == 1 and entries[1].actor_id == tm  # type: ignore[index]
    assert (entries[2].before["evidence"], entries[2].after["evidence"]) == ("", "Clear recap")  # type: ignore[index]


def test_looking_at_others_ratings_makes_ones_draft_and_later_corrections_not_blind(store: Store, think_first: Rubric) -> None:
    rating_id, recording_id, t1, tm = _submitted(store, think_first)
    store.record_unblinding(tm, recording_id, t1)  # looked after submitting
    assert not store.correct_rating(rating_id, "moved towards the others").is_blind
    overseer = store.add_person("Overseer", [Role.PROGRAMME_MANAGER])
    draft = store.start_rating(recording_id, t1, overseer.id, Capacity.BENCHMARK, think_first)
    assert draft.is_blind
    store.record_unblinding(overseer.id, recording_id, t1)
    assert not store.get_rating(draft.id).is_blind


def test_on_sqlite_two_saves_of_the_same_item_at_once_cannot_both_pass_the_stale_check(
    store: Store, think_first: Rubric
) -> None:
    """Each write takes the lock before it reads (BEGIN IMMEDIATE), so the revision check and
    the write are one step; exactly one of two racing saves wins, the other is told."""
    import threading

    recording_id, t1, _, tm = _session(store)
    rating = store.start_rating(recording_id, t1, tm, Capacity.MONITORING, think_first)
    item = think_first.items[0].id
    seen = store.save_item(rating.id, item, score=1).revision
    barrier, outcomes = threading.Barrier(2), []

    def tab(score: int) -> None:
        other = Store(store.engine)
        barrier.wait()
        try:
            other.save_item(rating.id, item, score=score, expected_revision=seen)
            outcomes.append("saved")
        except StaleEditError:
            outcomes.append("stale")

    threads = [threading.Thread(target=tab, args=(s,)) for s in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["saved", "stale"]


def test_a_session_rated_as_a_whole_has_one_form_per_rater_even_when_two_tabs_start_at_once(
    store: Store, think_first: Rubric
) -> None:
    import dataclasses

    from session_rater.domain.rubric import RatedUnit

    whole = dataclasses.replace(think_first, id="whole-session", rated_unit=RatedUnit.SESSION)
    recording_id, _, _, tm = _session(store)
    first = store.start_rating(recording_id, None, tm, Capacity.MONITORING, whole)
    with pytest.raises(Exception, match="(?i)unique"):
        with store.engine.begin() as connection:  # what a racing second tab's insert would do
            connection.execute(
                text(
                    "INSERT INTO ratings (recording_id, tutor_id, rater_id, rubric_id, rubric_version, capacity, status, "
                    "started_at, updated_at, is_demo, version, is_current, is_blind, confirmed_uniform) "
                    "SELECT recording_id, NULL, rater_id, rubric_id, rubric_version, capacity, 'draft', started_at, "
                    "updated_at, is_demo, 1, is_current, is_blind, confirmed_uniform FROM ratings WHERE id = :id"
                ),
                {"id": first.id},
            )
    assert store.start_rating(recording_id, None, tm, Capacity.MONITORING, whole).id == first.id
