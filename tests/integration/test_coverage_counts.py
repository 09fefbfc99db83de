"""Coverage counted in the database (``SamplingStore.coverage_counts`` finished by
``coverage_from_counts``) gives the very table the pandas path over every session gave
(``coverage_table`` over the roster, the assignment statuses and the monitored sessions), on a
varied database: sessions over two quarters in three areas (one with none recorded), catch-ups,
co-delivered sessions partly and fully monitored, a session with no tutor rated as a whole,
monitoring without a draw, drafts, second ratings, audits rated and not, and overdue work; per
area, site, tutor and treatment manager, per month, quarter and all time, for everyone and
within one person's reach. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from session_rater.db.recordings import Reach
from session_rater.db.sampling_store import SamplingStore
from session_rater.db.store import RecordingSpec, Store
from session_rater.domain.coverage import DIMENSIONS, coverage_from_counts, coverage_table
from session_rater.domain.model import Capacity, Role
from session_rater.domain.rubric import Rubric
from session_rater.domain.sampling import Rule, draw_sample
from session_rater.io.policy_files import load_policy, policy_to_dict

REPO = Path(__file__).resolve().parents[2]
POLICY = load_policy(REPO / "policies" / "default.yaml")
TODAY = dt.date(2026, 5, 20)


@dataclasses.dataclass
class World:
    store: Store
    sampling: SamplingStore
    managers: list[int]
    assessor: int


def _world(engine: Engine) -> World:
    store = Store(engine)
    tutors = [store.add_person(f"Tutor {i}", [Role.TUTOR]).id for i in range(7)]
    helen = store.add_person("Helen Price", [Role.TREATMENT_MANAGER, Role.TUTOR]).id
    mark = store.add_person("Mark Dixon", [Role.TREATMENT_MANAGER]).id
    ruth = store.add_person("Ruth Okafor", [Role.EXTERNAL_ASSESSOR]).id
    places = [("Cumbria", "Carlisle", "TF-01", tutors[:3]), ("Cumbria", "Barrow", "TF-02", tutors[2:5]),
              ("Lancashire", "Preston", "TF-03", [tutors[5], tutors[6], helen]), (None, "Nowhere", "TF-04", tutors[:2])]  # fmt: skip
    for area, site, group, team in places:
        for n in range(1, 19):
            spec = RecordingSpec(
                file_path=f"/nowhere/{group}-{n}.mp4", programme="Think First", group_name=group, session_number=n,
                session_title=f"Session {n}", recorded_on=dt.date(2026, 1, 3) + dt.timedelta(days=9 * n), site=site,
                area=area, is_catch_up=n % 6 == 0,
            )  # fmt: skip
            store.add_recording(spec, [] if n == 17 else [team[n % len(team)]] if n % 4 == 0 else [team[n % len(team)], team[(n + 1) % len(team)]])
    return World(store, SamplingStore(engine), [helen, mark], ruth)


def _rate(world: World, rubric: Rubric, recording_id: int, rater_id: int, capacity: Capacity, *,
          submit: bool = True, tutors: int | None = None) -> None:  # fmt: skip
    store = world.store
    tutor_ids = [t.id for t in store.get_recording(recording_id).tutors] or [None]
    for tutor_id in tutor_ids[:tutors]:
        rating = store.start_rating(recording_id, tutor_id, rater_id, capacity, rubric)
        if submit:
            for item in rubric.items:
                store.save_item(rating.id, item.id, score=rubric.minimum)
            store.submit_rating(rating.id, confirm_uniform=True)


@pytest.fixture
def world(engine: Engine, think_first: Rubric) -> World:
    w = _world(engine)
    draw = draw_sample(w.sampling.roster(), w.sampling.people(), POLICY, seed=17, drawn_on=dt.date(2026, 3, 1))
    w.sampling.save_draw(draw, policy_to_dict(POLICY))
    assignments = w.sampling.assignments()
    assert {a.rule for a in assignments} >= {Rule.MONITORING, Rule.CATCH_UP, Rule.EXTERNAL_AUDIT}
    assert any(a.second_rater_id for a in assignments), "the policy double rates some of the sample"
    for i, a in enumerate(assignments):
        if a.rater_id is None or i % 5 == 4:  # some left undone (overdue when due before today)
            continue
        capacity = Capacity.EXTERNAL if a.rule is Rule.EXTERNAL_AUDIT else Capacity.MONITORING
        _rate(w, think_first, a.recording_id, a.rater_id, capacity, submit=i % 7 != 3, tutors=1 if i % 3 == 0 else None)
        if a.second_rater_id is not None and i % 2 == 0:
            _rate(w, think_first, a.recording_id, a.second_rater_id, capacity)
    drawn = {a.recording_id for a in assignments}
    undrawn = [f for f in w.sampling.roster() if f.recording_id not in drawn and w.managers[1] not in f.tutor_ids]
    for f in undrawn[::4]:  # monitored without a draw, some partly, one a session with no tutor, as a whole
        _rate(w, think_first, f.recording_id, w.managers[1], Capacity.MONITORING, tutors=1 if f.session_number % 2 else None)
    assert any(not f.tutor_ids for f in undrawn[::4]) or any(not f.tutor_ids for f in w.sampling.roster() if f.recording_id in drawn)
    return w


def _old(world: World, by: str, period: str | None, within: Reach | None) -> pd.DataFrame:
    s = world.sampling
    names = {p.id: p.name for p in s.people()}
    return coverage_table(s.roster(within), s.assignment_statuses(today=TODAY, within=within), today=TODAY, by=by,
                          period=period, monitoring_percent=7.5, catch_up_one_in=5, names=names,
                          monitored=s.monitored_sessions(within))  # fmt: skip


def _new(world: World, by: str, period: str | None, within: Reach | None) -> pd.DataFrame:
    s = world.sampling
    names = {p.id: p.name for p in s.people()}
    return coverage_from_counts(s.coverage_counts(by, today=TODAY, within=within), by=by, period=period,
                                monitoring_percent=7.5, catch_up_one_in=5, names=names)  # fmt: skip


@pytest.mark.parametrize("by", DIMENSIONS)
def test_coverage_counted_in_the_database_equals_the_table_made_from_every_session(world: World, by: str) -> None:
    cumbria = Reach(person_id=world.managers[0], areas=frozenset({"Cumbria"}))
    for within in (None, cumbria):
        for period in (None, "month", "quarter"):
            old, new = _old(world, by, period, within), _new(world, by, period, within)
            assert len(old) > 0
            pd.testing.assert_frame_equal(new, old, obj=f"coverage by {by} per {period}")
    old = _old(world, by, None, None)
    if by == "area":  # the world is varied enough for every figure to matter
        assert set(old["area"]) == {"Cumbria", "Lancashire", "(no area)"}
        for column in ("sampled", "rated", "partly_rated", "catch_up_rated", "audit_rated", "double_rated", "overdue"):
            assert old[column].sum() > 0, column
        assert (old["rated"] > old["sampled"]).any() or (old["rated"] != old["sampled"]).any()


def test_coverage_counts_on_an_empty_database(engine: Engine) -> None:
    for by in DIMENSIONS:
        old = coverage_table([], [], today=TODAY, by=by, period="month", monitored=[])
        new = coverage_from_counts(SamplingStore(engine).coverage_counts(by, today=TODAY), by=by, period="month")
        assert new.empty and list(new.columns) == list(old.columns)
