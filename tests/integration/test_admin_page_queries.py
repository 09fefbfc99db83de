"""Issue 17, the administration pages at national scale (Rubrics, Assignments, Benchmarks,
Audit): what they show is read in SQL (counts per rubric version, the sessions named by id, the
areas in reach) and gives what the older whole-table reads gave, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_rater.db.store import RecordingSpec
from session_rater.domain.model import Capacity, Role
from session_rater.errors import AccessDeniedError
from session_rater.settings import load_settings
from session_rater.usecases.assignments_admin import assigned_sessions
from session_rater.usecases.audits import Audits
from session_rater.usecases.calibration import Calibration
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.rubric_versions import submitted_counts
from session_rater.usecases.services import DEFAULT_RUBRIC_ID, Services, open_services

PLACES = [("Cumbria", "Barrow team"), ("Cumbria", "Carlisle team"), ("Lancashire", "Preston team"), (None, None), ("", None)]


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = load_settings({"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url,
                              "SESSION_RATER_DEMO": "0", "SESSION_RATER_SECRET": "g" * 40})  # fmt: skip
    services = open_services(settings)
    yield services
    services.close()


@dataclasses.dataclass
class World:
    svc: Services
    admin: Permitted
    manager: Permitted  # programme manager of Cumbria
    tutor: int
    raters: list[int]
    sessions: list[int]


def _world(svc: Services) -> World:
    store = svc.store
    admin = store.add_person("Ada Admin", [Role.ADMINISTRATOR])
    manager = store.add_person("Pat Manager", [Role.PROGRAMME_MANAGER])
    svc.accounts_store.set_scope(manager.id, actor_id=admin.id, areas=["Cumbria"])
    tutor = store.add_person("Tom Tutor", [Role.TUTOR]).id
    raters = [store.add_person(f"Assessor {i}", [Role.EXTERNAL_ASSESSOR]).id for i in range(3)]
    sessions = []
    for n in range(10):
        area, team = PLACES[n % len(PLACES)]
        spec = RecordingSpec(file_path=f"/nowhere/{n}.mp4", programme="Think First", group_name=f"Group {n % 3}",
                             session_number=n + 1, session_title=f"Session {n + 1}",
                             recorded_on=dt.date(2026, 1, 5) + dt.timedelta(days=3 * ((7 * n) % 10)), site="Site",
                             area=area, team=team, is_catch_up=False)  # fmt: skip
        sessions.append(store.add_recording(spec, [tutor]).id)
    return World(svc, Permitted(svc, svc.person(admin.id)), Permitted(svc, svc.person(manager.id)), tutor, raters,
                 sessions)  # fmt: skip


def _rate(svc: Services, recording_id: int, tutor: int, rater: int, *, submit: bool) -> int:
    rubric = svc.catalog.latest(DEFAULT_RUBRIC_ID)
    rating = svc.store.start_rating(recording_id, tutor, rater, Capacity.EXTERNAL, rubric)
    if submit:
        for item in rubric.items:
            svc.store.save_item(rating.id, item.id, score=rubric.minimum)
        svc.store.submit_rating(rating.id, confirm_uniform=True)
    return rating.id


def test_ratings_per_rubric_version_are_counted_in_sql_as_the_whole_read_counted(svc: Services) -> None:
    world = _world(svc)
    assert submitted_counts(svc) == Counter()
    rubric = svc.catalog.latest(DEFAULT_RUBRIC_ID)
    older = dataclasses.replace(rubric, version="0.0.1")  # another version of the same rubric, used by ratings
    for i, recording_id in enumerate(world.sessions[:6]):
        _rate(svc, recording_id, world.tutor, world.raters[i % 3], submit=i != 5)  # the last stays a draft
    draft = svc.store.start_rating(world.sessions[7], world.tutor, world.raters[0], Capacity.EXTERNAL, older)
    for item in older.items:
        svc.store.save_item(draft.id, item.id, score=older.minimum)
    svc.store.submit_rating(draft.id, confirm_uniform=True)
    first = _rate(svc, world.sessions[8], world.tutor, world.raters[1], submit=True)
    corrected = svc.store.correct_rating(first, "a wrong score")  # a new version; the first no longer counts
    for item in rubric.items:
        svc.store.save_item(corrected.id, item.id, score=rubric.maximum)
    svc.store.submit_rating(corrected.id, confirm_uniform=True)

    whole = Counter((r.rubric_id, r.rubric_version) for r in svc.store.submitted_ratings())
    assert submitted_counts(svc) == whole == Counter({(rubric.id, rubric.version): 6, (rubric.id, "0.0.1"): 1})


def test_the_assignments_page_reads_the_assigned_sessions_by_id(svc: Services) -> None:
    world = _world(svc)
    for rater, recording_id in zip(world.raters, world.sessions[2:5], strict=True):
        world.admin.assign(rater, recording_id)
    assignments = world.admin.assignments()
    found = assigned_sessions(world.admin, assignments)
    everything = {r.id: r for r in world.admin.recordings()}
    assert found == {i: everything[i] for i in world.sessions[2:5]}
    with pytest.raises(AccessDeniedError):
        assigned_sessions(world.manager, assignments)


def test_the_audit_areas_are_those_of_the_sessions_in_reach(svc: Services) -> None:
    world = _world(svc)
    for recording_id in (world.sessions[0], world.sessions[3], world.sessions[4]):  # Cumbria, no area, "" area
        world.admin.assign(world.raters[0], recording_id)
    assessor = Permitted(svc, svc.person(world.raters[0]))
    for me in (world.admin, assessor):
        assert Audits(me).areas() == sorted({r.area for r in me.recordings() if r.area})
    assert Audits(world.admin).areas() == ["Cumbria", "Lancashire"] and Audits(assessor).areas() == ["Cumbria"]
    with pytest.raises(AccessDeniedError):
        Audits(world.manager).areas()


def test_benchmarks_offer_the_cleared_sessions_in_reach_newest_first(svc: Services) -> None:
    world = _world(svc)
    for recording_id in world.sessions:
        if recording_id % 2 == 0 or recording_id == world.sessions[0]:
            svc.store.clear_for_training(recording_id, by=None)
    for me in (world.admin, world.manager):
        cleared = Calibration(me).training_clearances()
        before = {r.id: r for r in me.recordings() if r.id in cleared}
        after = Calibration(me).cleared_sessions()
        assert after == before and list(after) == list(before) and after
    assert len(Calibration(world.manager).cleared_sessions()) < len(Calibration(world.admin).cleared_sessions())


def test_the_audit_evidence_reads_one_areas_sessions_as_the_whole_list_gave_them(svc: Services) -> None:
    from session_rater.db.reach_queries import ReachQueries

    world = _world(svc)
    world.admin.assign(world.raters[1], world.sessions[0])
    world.admin.assign(world.raters[1], world.sessions[2])
    queries = ReachQueries(svc.store.engine)
    assessor = Permitted(svc, svc.person(world.raters[1]))
    for me in (world.admin, world.manager, assessor):
        everything = svc.store.list_recordings(within=me.reach())
        for area in ("Cumbria", "Lancashire", "", "Nowhere"):
            assert queries.recordings_in_area(area, me.reach()) == [r for r in everything if (r.area or "") == area]
    assert len(queries.recordings_in_area("")) == 4  # no area and an empty one alike
    assert [r.id for r in queries.recordings_in_area("Cumbria", assessor.reach())] == [world.sessions[0]]
    evidence = Audits(assessor).c1_evidence("Cumbria").lines[0]
    assert "Sessions of Cumbria in Session Rater that you can see: 1," in evidence
