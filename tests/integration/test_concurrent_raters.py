"""Twenty raters writing at once lose no write and duplicate nothing, on SQLite and PostgreSQL;
two tabs of one rater writing different items of the same form at once lose nothing either."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import Engine, func, select

from session_rater.db import models as m
from session_rater.db.store import RecordingSpec, Store
from session_rater.domain.model import Capacity, Role
from session_rater.domain.rubric import Rubric

RATERS = 20


def test_twenty_raters_writing_at_once_lose_and_duplicate_nothing(engine: Engine, think_first: Rubric) -> None:
    setup = Store(engine)
    tutor = setup.add_person("Tutor", [Role.TUTOR])
    raters = [setup.add_person(f"Assessor {i}", [Role.EXTERNAL_ASSESSOR]) for i in range(RATERS)]
    spec = RecordingSpec("/x.mp4", "Think First", "G", 1, "Intro", dt.date(2026, 1, 5), "Barrow")
    recording = setup.add_recording(spec, [tutor.id])
    items = [item.id for item in think_first.items]
    barrier = threading.Barrier(RATERS)
    errors: list[BaseException] = []

    def rater(person_id: int) -> None:
        store = Store(engine)  # each rater its own Store, as each browser session has
        try:
            barrier.wait()
            rating = store.start_rating(recording.id, tutor.id, person_id, Capacity.EXTERNAL, think_first)
            for k, item in enumerate(items):
                store.save_item(rating.id, item, score=(person_id + k) % 4)
                store.save_item(rating.id, item, evidence=f"note {person_id}/{k}")
            store.submit_rating(rating.id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=rater, args=(r.id,)) for r in raters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]

    with engine.connect() as connection:
        n_ratings = connection.scalar(select(func.count()).select_from(m.Rating))
        n_scores = connection.scalar(select(func.count()).select_from(m.ItemScore))
    assert n_ratings == RATERS
    assert n_scores == RATERS * len(items)
    for r in raters:
        rating = setup.find_rating(recording.id, tutor.id, r.id, Capacity.EXTERNAL)
        assert rating is not None and rating.is_submitted
        assert {i: s.score for i, s in rating.scores.items()} == {item: (r.id + k) % 4 for k, item in enumerate(items)}
        assert all(s.evidence == f"note {r.id}/{k}" for k, s in enumerate(rating.scores[i] for i in items))


def test_two_tabs_writing_different_items_of_one_form_at_once_lose_nothing(engine: Engine, think_first: Rubric) -> None:
    setup = Store(engine)
    tutor = setup.add_person("Tutor", [Role.TUTOR])
    manager = setup.add_person("Manager", [Role.TREATMENT_MANAGER])
    spec = RecordingSpec("/x.mp4", "Think First", "G", 1, "Intro", dt.date(2026, 1, 5), "Barrow")
    recording = setup.add_recording(spec, [tutor.id])
    items = [item.id for item in think_first.items]
    halves = (items[::2], items[1::2])
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def tab(part: list[str]) -> None:
        store = Store(engine)
        try:
            barrier.wait()
            rating = store.start_rating(recording.id, tutor.id, manager.id, Capacity.MONITORING, think_first)
            for item in part:
                store.save_item(rating.id, item, score=2)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=tab, args=(h,)) for h in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    rating = setup.find_rating(recording.id, tutor.id, manager.id, Capacity.MONITORING)
    assert rating is not None and set(rating.scores) == set(items)
