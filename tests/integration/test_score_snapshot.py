"""The reports' snapshot of the submitted scores (issue 17): the export's frame row for row, on
SQLite and PostgreSQL, and what is submitted or corrected after it is taken is in the next one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from session_rater.db.ratings import ItemEntry, RatingSpec
from session_rater.domain.model import Capacity, Role
from session_rater.settings import load_settings
from session_rater.usecases import reports, score_snapshot
from session_rater.usecases.services import Services, open_services


def _same(frame: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The same rows and values; the snapshot's text columns are categoricals of the same text."""
    assert all(isinstance(frame[c].dtype, pd.CategoricalDtype) for c in score_snapshot.TEXT_COLUMNS) or (
        not score_snapshot.CATEGORICAL or frame.empty)
    pd.testing.assert_frame_equal(frame.astype({c: expected[c].dtype for c in score_snapshot.TEXT_COLUMNS}), expected)


def _open(database_url: str, tmp_path: Path) -> Services:
    settings = load_settings({"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url,
                              "SESSION_RATER_DEMO": "1", "SESSION_RATER_SECRET": "s" * 40})  # fmt: skip
    score_snapshot.forget(database_url)
    return open_services(settings)


def _add_external_rating(demo: Services, rubric):  # type: ignore[no-untyped-def]
    """A new submitted rating: an external assessor's, of a form they have not rated."""
    assessors = [p.id for p in demo.store.list_people() if Role.EXTERNAL_ASSESSOR.value in p.roles]
    form, rater = next((r, a) for r in demo.store.submitted_ratings() if r.rubric_id == rubric.id and r.tutor_id
                       for a in assessors if a not in {o.rater_id for o in demo.store.ratings_of_recording(
                           r.recording_id, submitted_only=False) if o.tutor_id == r.tutor_id})  # fmt: skip
    entries = {item.id: ItemEntry(score=(i % 3) + 1) for i, item in enumerate(rubric.items)}
    demo.store.add_ratings([RatingSpec(form.recording_id, form.tutor_id, rater, Capacity.EXTERNAL, entries)], rubric)
    return form, rater


@pytest.fixture
def demo(database_url: str, tmp_path: Path) -> Iterator[Services]:
    svc = _open(database_url, tmp_path)
    yield svc
    score_snapshot.forget()
    svc.close()


def test_the_snapshot_is_the_export_row_for_row_master_scores_and_not_applicable_included(demo: Services) -> None:
    snapshot = score_snapshot.scores_frame(demo)
    assert snapshot.refresh == "full"
    expected = reports.load_scores_from_export(demo)
    assert len(expected) > 1000 and expected["score"].isna().any() and (expected["rater_role"] == "benchmark").any()
    _same(snapshot.frame, expected)
    again = score_snapshot.scores_frame(demo)
    assert again is snapshot  # nothing changed: nothing read


def test_a_submission_and_a_correction_after_the_snapshot_are_in_the_next_one(demo: Services) -> None:
    before = score_snapshot.scores_frame(demo)
    rubric = demo.rubrics()[0]
    form, rater = _add_external_rating(demo, rubric)
    # a correction: the rating it replaces leaves, its new version (with a changed score) comes in
    old = next(r for r in demo.store.submitted_ratings()
               if r.capacity is Capacity.SELF_ASSESSMENT and r.rubric_id == rubric.id)  # fmt: skip
    new = demo.store.correct_rating(old.id, "scored the wrong tutor's item", actor_id=old.rater_id)
    first = rubric.items[0].id
    was = demo.store.get_rating(old.id).scores[first].score
    demo.store.save_item(new.id, first, score=1 if was != 1 else 2, actor_id=old.rater_id)
    demo.store.submit_rating(new.id, confirm_uniform=True, actor_id=old.rater_id)
    after = score_snapshot.scores_frame(demo)
    assert after.refresh == "delta" and after.ratings_read == 2 and after.stamp != before.stamp
    _same(after.frame, reports.load_scores_from_export(demo))
    mine = after.frame[(after.frame["rater_id"] == rater) & (after.frame["session_id"] == form.recording_id)]
    assert len(mine) == len(rubric.items) and set(mine["rater_role"]) == {"external_assessor"}
    corrected = after.frame[(after.frame["rater_id"] == old.rater_id) & (after.frame["session_id"] == old.recording_id)
                            & (after.frame["rater_role"] == "tutor") & (after.frame["item_id"] == first)]  # fmt: skip
    assert corrected["score"].tolist() == [1.0 if was != 1 else 2.0]  # the correction only, not the old version
    assert len(after.frame) == len(before.frame) + len(rubric.items)
    # the figures follow: the reports' stamp moved, so nothing cached under the old one is shown
    assert reports.fingerprint(demo) == after.stamp


def test_new_submissions_alone_are_read_without_comparing_every_rating_id(
    demo: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usual change (ratings submitted, none replaced): only the ratings above the snapshot's
    highest id are read; every id is compared (``current_ratings``, seconds at 3 M) only when a
    rating went (a correction), as in the test above."""
    before = score_snapshot.scores_frame(demo)
    rubric = demo.rubrics()[0]
    form, rater = _add_external_rating(demo, rubric)

    def compared(*_: object) -> None:
        raise AssertionError("every rating id was compared for a submission alone")

    monkeypatch.setattr(score_snapshot, "current_ratings", compared)
    after = score_snapshot.scores_frame(demo)
    assert after.refresh == "delta" and after.ratings_read == 1
    _same(after.frame, reports.load_scores_from_export(demo))
    assert len(after.frame) == len(before.frame) + len(rubric.items)


def test_a_new_process_starts_from_the_snapshot_on_disk_and_reads_only_what_changed(demo: Services) -> None:
    import time

    first = score_snapshot.scores_frame(demo)
    path = score_snapshot.snapshot_file(demo.settings.data_dir, demo.settings.database_url)
    for _ in range(100):  # written beside the page run, not during it
        if path.is_file():
            break
        time.sleep(0.1)
    assert path.is_file()
    score_snapshot.forget()  # as a new process: nothing in memory
    old = next(r for r in demo.store.submitted_ratings() if r.capacity is Capacity.MONITORING)
    new = demo.store.correct_rating(old.id, "a better look", actor_id=old.rater_id)
    demo.store.submit_rating(new.id, confirm_uniform=True, actor_id=old.rater_id)
    after = score_snapshot.scores_frame(demo)
    assert after.refresh == "delta" and after.ratings_read == 1
    _same(after.frame, reports.load_scores_from_export(demo))
    assert len(after.frame) == len(first.frame)


def test_a_draft_changes_nothing(demo: Services) -> None:
    before = score_snapshot.scores_frame(demo)
    rubric = demo.rubrics()[0]
    form = next(r for r in demo.store.submitted_ratings() if r.rubric_id == rubric.id and r.tutor_id is not None)
    demo.store.correct_rating(form.id, "a second look", actor_id=form.rater_id)  # a draft, not submitted
    after = score_snapshot.scores_frame(demo)
    assert after.stamp == before.stamp
    pd.testing.assert_frame_equal(after.frame, before.frame)


def test_a_database_emptied_and_filled_again_is_read_again(demo: Services) -> None:
    """The same ids can name other ratings after a reset: the snapshot must not keep the old."""
    from session_rater.usecases.demo import reset_demo

    score_snapshot.scores_frame(demo)
    reset_demo(demo)
    _same(score_snapshot.scores_frame(demo).frame, reports.load_scores_from_export(demo))


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_the_same_frame(own_postgres_url: str, tmp_path: Path) -> None:
    lite = _open(f"sqlite:///{tmp_path / 'lite.db'}", tmp_path / "lite")
    pg = _open(own_postgres_url, tmp_path / "pg")
    try:
        a, b = score_snapshot.scores_frame(lite).frame, score_snapshot.scores_frame(pg).frame
        assert len(a) > 1000
        pd.testing.assert_frame_equal(a, b)
    finally:
        score_snapshot.forget()
        lite.close()
        pg.close()


def _without_timings(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if "timing" not in k}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def test_every_figure_from_the_snapshot_is_the_one_from_the_export(demo: Services) -> None:
    from session_rater.usecases.analysis import report_to_json

    snapshot, export = score_snapshot.scores_frame(demo).frame, reports.load_scores_from_export(demo)
    a, b = reports.analyse_scores(demo, snapshot), reports.analyse_scores(demo, export)
    assert _without_timings(report_to_json(a)) == _without_timings(report_to_json(b))
    for compute in (lambda s: reports.bias_by_period(s, "quarter"), reports.pairwise_agreement):
        pd.testing.assert_frame_equal(compute(snapshot), compute(export), check_dtype=False, check_categorical=False)
    assert reports.monitored_sessions(snapshot) == reports.monitored_sessions(export)


def test_a_delta_adds_only_the_change_to_the_frame_and_an_older_draft_lands_in_its_place(
        demo: Services, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A delta builds the rows of the ratings that came (not the whole frame again) and puts them
    where a full rebuild puts them: a draft started before newer ratings were submitted sits by
    its id, not at the end."""
    rubric = demo.rubrics()[0]
    assessors = [p.id for p in demo.store.list_people() if Role.EXTERNAL_ASSESSOR.value in p.roles]
    forms = [(r, a) for r in demo.store.submitted_ratings() if r.rubric_id == rubric.id and r.tutor_id
             for a in assessors if a not in {o.rater_id for o in demo.store.ratings_of_recording(
                 r.recording_id, submitted_only=False) if o.tutor_id == r.tutor_id}]  # fmt: skip
    (old_form, old_rater), (new_form, new_rater) = forms[0], next(f for f in forms[1:] if (f[0].recording_id, f[0].tutor_id) != (forms[0][0].recording_id, forms[0][0].tutor_id))
    draft = demo.store.start_rating(old_form.recording_id, old_form.tutor_id, old_rater, Capacity.EXTERNAL, rubric)
    entries = {item.id: ItemEntry(score=i % 4) for i, item in enumerate(rubric.items)}
    demo.store.add_ratings([RatingSpec(new_form.recording_id, new_form.tutor_id, new_rater, Capacity.EXTERNAL, entries)],
                           rubric)  # fmt: skip
    before = score_snapshot.scores_frame(demo)
    for i, item in enumerate(rubric.items):
        demo.store.save_item(draft.id, item.id, score=(i % 3) + 1, actor_id=old_rater)
    demo.store.submit_rating(draft.id, confirm_uniform=True, actor_id=old_rater)
    built: list[int] = []
    real = score_snapshot._body

    def body(svc, ratings, *args):  # type: ignore[no-untyped-def]
        built.append(len(ratings))
        return real(svc, ratings, *args)

    monkeypatch.setattr(score_snapshot, "_body", body)
    after = score_snapshot.scores_frame(demo)
    assert after.refresh == "delta" and built == [1]  # the new rating's rows only
    assert int(draft.id) < int(before.stamp[1][2])  # older than the newest rating counted before
    _same(after.frame, reports.load_scores_from_export(demo))
    f = after.frame
    mine = f.index[(f["rater_id"] == old_rater) & (f["session_id"] == old_form.recording_id)
                   & (f["tutor_id"] == old_form.tutor_id) & (f["rater_role"] == "external_assessor")]
    newer = f.index[(f["rater_id"] == new_rater) & (f["session_id"] == new_form.recording_id)
                    & (f["tutor_id"] == new_form.tutor_id) & (f["rater_role"] == "external_assessor")]
    assert len(mine) == len(newer) == len(rubric.items) and mine.max() < newer.min()  # by id, not appended last
    monkeypatch.undo()
    state = score_snapshot._STATES[demo.settings.database_url]
    rebuilt = score_snapshot._frame(demo, state.ratings, state.items)  # the whole frame built again
    text = {c: score_snapshot._STR for c in score_snapshot.TEXT_COLUMNS}
    pd.testing.assert_frame_equal(after.frame.astype(text), rebuilt.astype(text))


def test_warming_reads_the_snapshot_beside_the_caller(demo: Services) -> None:
    thread = score_snapshot.warm_in_background(lambda: demo)
    thread.join(120)
    assert not thread.is_alive()
    warm = score_snapshot.scores_frame(demo)
    assert warm.refresh == "full" and score_snapshot.scores_frame(demo) is warm  # read by the warming, not now
    assert len(warm.frame) > 1000


def test_a_session_moved_to_another_area_is_in_the_next_snapshot(demo: Services) -> None:
    before = score_snapshot.scores_frame(demo)
    session_id = int(before.frame["session_id"].iloc[0])
    old_area = str(before.frame.loc[before.frame["session_id"] == session_id, "area"].iloc[0])
    assert old_area != "Elsewhere"
    demo.accounts_store.set_recording_place(session_id, area="Elsewhere", team="Elsewhere team", actor_id=None)
    after = score_snapshot.scores_frame(demo)
    assert after.stamp != before.stamp
    assert set(after.frame.loc[after.frame["session_id"] == session_id, "area"].astype(str)) == {"Elsewhere"}
    _same(after.frame, reports.load_scores_from_export(demo))


def test_the_arrow_read_gives_the_item_scores_the_cursor_reads(demo: Services) -> None:
    from session_rater.db import score_columns as sc

    engine = demo.store.engine
    with engine.connect() as connection:
        ratings = sc._ratings(connection, None)
        by_cursor = sc._items(connection, None)
    by_arrow = sc._items_through_arrow(engine, ratings.id)
    if engine.dialect.name == "sqlite":
        assert by_arrow is None  # never a second SQLite library in the app's process
        return
    assert by_arrow is not None  # the PostgreSQL ADBC driver is installed (a dependency)

    def rows(items: sc.ItemColumns) -> list[tuple[int, str, float]]:
        return sorted((int(r), items.items[c], -1.0 if np.isnan(v) else float(v))
                      for r, c, v in zip(items.rating_id, items.item, items.score))  # fmt: skip

    assert len(by_arrow) == len(by_cursor) > 1000
    assert rows(by_arrow) == rows(by_cursor)
