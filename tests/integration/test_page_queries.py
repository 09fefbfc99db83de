"""Issue 17, the daily pages at national scale: what they read is selected in SQL (the sessions a
page shows, the audit log's kinds, people, dates and pages, whether each sample assignment's rater
has submitted), gives what the older whole-table reads gave, and uses the indexes of migration
0013, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, inspect, select

from session_rater.db import models as m
from session_rater.db.accounts_store import AccountsStore
from session_rater.db.engine import make_engine, migrate
from session_rater.db.rows import person_view, recording_view
from session_rater.db.sampling_store import QueueStatus
from session_rater.db.store import Reach
from session_rater.domain.model import Capacity
from session_rater.domain.rubric import Rubric

from tests.integration.test_migrations import _plan
from tests.integration.test_sampling_store import World, _draw, _rate, _save, _world

PAGE_INDEXES = {  # migration 0013: table -> the indexes it adds there
    "audit_log": {"ix_audit_log_entity_at"},
    "recording_access_log": {"ix_recording_access_log_person_id_accessed_at"},
    "ratings": {"ix_ratings_capacity_status_recording_id_tutor_id"},
}


def _page_indexes(engine: Engine) -> set[str]:
    found = {ix["name"] for table in PAGE_INDEXES for ix in inspect(engine).get_indexes(table)}
    return found & set().union(*PAGE_INDEXES.values())


def test_0013_adds_the_page_indexes_and_downgrades_to_0012_without_them(database_url: str) -> None:
    from alembic import command

    from session_rater.db.engine import alembic_config

    engine = make_engine(database_url)
    migrate(engine)
    assert _page_indexes(engine) == set().union(*PAGE_INDEXES.values())
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012_benchmarks")
    assert _page_indexes(engine) == set()
    migrate(engine)
    assert _page_indexes(engine) == set().union(*PAGE_INDEXES.values())
    engine.dispose()


def test_the_audit_log_filters_and_coverage_read_through_their_indexes(engine: Engine) -> None:
    from session_rater.db.sampling_store import SamplingStore

    accounts = AccountsStore(engine)
    plan = _plan(engine, lambda: accounts.audit_log(limit=50, entities=["scope"]))
    assert "ix_audit_log_entity_at" in plan, plan
    plan = _plan(engine, lambda: accounts.audit_log(limit=50, actor_ids=[3]))
    assert "ix_audit_log_actor_id_entity_entity_id" in plan and "ix_recording_access_log_person_id_accessed_at" in plan, plan
    plan = _plan(engine, lambda: SamplingStore(engine).monitored_sessions())
    assert "ix_ratings_capacity_status_recording_id_tutor_id" in plan, plan


# -- the sessions a page shows ----------------------------------------------------------------------


def test_list_recordings_as_plain_rows_gives_the_views_the_orm_gave(engine: Engine) -> None:
    world = _world(engine)
    store = world.store
    with store._sessions() as s:
        expected = [recording_view(r) for r in s.scalars(
            select(m.Recording).order_by(m.Recording.recorded_on.desc(), m.Recording.id)).unique()]  # fmt: skip
        people = [person_view(p) for p in s.scalars(
            select(m.Person).where(m.Person.active.is_(True)).order_by(m.Person.display_name, m.Person.id)).unique()]  # fmt: skip
    assert store.list_recordings() == expected and len(expected) == 28
    assert all(len(r.tutors) == 2 and r.tutors[0].roles for r in expected)
    reach = Reach(world.tutors[0])
    assert store.list_recordings(within=reach) == [r for r in expected if world.tutors[0] in {t.id for t in r.tutors}]
    assert store.list_people() == people


def test_a_session_search_finds_by_group_tutor_and_date_within_reach_only(engine: Engine) -> None:
    world = _world(engine)
    store = world.store
    everything = store.list_recordings()
    assert store.count_recordings() == len(everything) == 28
    newest = sorted(everything, key=lambda r: (r.recorded_on, r.id), reverse=True)[:5]  # as the Sessions page
    assert [r.id for r in store.search_recordings("", limit=5)] == [r.id for r in newest]
    preston = store.search_recordings("preston tf", limit=100)
    assert preston and {r.group_name for r in preston} == {"Preston TF-02"}
    by_tutor = store.search_recordings("tutor 1", limit=100)
    assert {r.id for r in by_tutor} == {r.id for r in everything if any(t.display_name == "Tutor 1" for t in r.tutors)}
    one = everything[3]
    on_the_day = store.search_recordings(f"{one.recorded_on:%d/%m/%Y}", limit=100)
    assert one.id in {r.id for r in on_the_day} and all(r.recorded_on == one.recorded_on for r in on_the_day)
    assert store.search_recordings("100%_\\", limit=100) == []  # LIKE's wildcards are taken literally
    reach = Reach(world.tutors[0])
    mine = {r.id for r in store.list_recordings(within=reach)}
    assert {r.id for r in store.search_recordings("TF", within=reach, limit=100)} == mine
    assert store.count_recordings(reach) == len(mine)
    assert set(store.recordings_by_id([*mine, everything[0].id], within=reach)) == mine
    assert store.reachable_ids([*mine, 10**9], None) == mine


# -- coverage and work queues -----------------------------------------------------------------------


def _statuses_as_before(world: World, today: dt.date) -> list[tuple[object, ...]]:
    """What assignment_statuses said when it was built from every rater's work queue."""
    done: dict[tuple[int, int], bool] = {}
    for items in world.sampling.work_queues(today=today).values():
        for q in items:
            done[(q.assignment_id, q.rater_id)] = q.status == QueueStatus.SUBMITTED
    return [(a.recording_id, a.rule, a.rater_id, a.second_rater_id, a.due_on,
             a.rater_id is not None and done.get((a.id, a.rater_id), False),
             a.second_rater_id is not None and done.get((a.id, a.second_rater_id), False))
            for a in world.sampling.assignments()]  # fmt: skip


def test_assignment_statuses_aggregated_in_sql_agree_with_the_work_queues(engine: Engine, think_first: Rubric) -> None:
    world = _world(engine)
    draw = _draw(world)
    _save(world, draw)
    rated = [s for s in draw.selections if s.rater_id is not None][:4]
    for i, s in enumerate(rated):  # submitted, submitted, a draft, submitted by the second rater
        _rate(world.store, think_first, s.recording_id, s.rater_id, Capacity.EXTERNAL if s.rule.value == "external_audit"  # type: ignore[arg-type]
              else Capacity.MONITORING, submit=i != 2)  # fmt: skip
    second = next((s for s in draw.selections if s.second_rater_id is not None), None)
    if second is not None:
        _rate(world.store, think_first, second.recording_id, second.second_rater_id, Capacity.MONITORING, submit=True)  # type: ignore[arg-type]
    today = DRAWN = dt.date(2026, 9, 1)
    got = [(a.recording_id, a.rule, a.rater_id, a.second_rater_id, a.due_on, a.rated, a.second_rated)
           for a in world.sampling.assignment_statuses(today=DRAWN)]  # fmt: skip
    assert got == _statuses_as_before(world, today)
    assert sum(a[5] for a in got) >= 3 and any(not a[5] for a in got)
    helen = world.managers[0]
    reach = Reach(helen, teams=frozenset())  # only the sessions Helen delivered
    delivered = {r.id for r in world.store.list_recordings(within=reach)}
    within = world.sampling.assignment_statuses(today=DRAWN, within=reach)
    assert [(a.recording_id, a.rated) for a in within] == [(a[0], a[5]) for a in got if a[0] in delivered]
    assert {s.recording_id for s in world.sampling.roster(reach)} == delivered


# -- the audit log ------------------------------------------------------------------------------------


def test_the_audit_log_selects_kinds_people_dates_and_pages_in_sql(engine: Engine, think_first: Rubric) -> None:
    world = _world(engine, sessions_per_group=3)
    accounts = AccountsStore(engine)
    helen, mark = world.managers
    accounts.set_scope(helen, actor_id=mark, areas=["Cumbria"])
    accounts.set_scope(mark, actor_id=None, areas=["Lancashire"])
    recording = world.store.list_recordings()[0]
    _rate(world.store, think_first, recording.id, world.assessor, Capacity.EXTERNAL, submit=True)
    accounts.record_attempt("nobody@example.org", "1.2.3.4", False, dt.datetime.now(dt.UTC))
    everything = accounts.audit_log(limit=10_000)
    assert len(everything) > 30

    def expect(keep) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
        return sorted((e.at, e.entity, e.entity_id, e.action) for e in everything if keep(e))

    def got(**filters: object) -> list[tuple[object, ...]]:
        return sorted((e.at, e.entity, e.entity_id, e.action) for e in accounts.audit_log(limit=10_000, **filters))  # type: ignore[arg-type]

    assert got(entities=["scope"]) == expect(lambda e: e.entity == "scope") != []
    assert got(entities=["sign_in", "rating"]) == expect(lambda e: e.entity in {"sign_in", "rating"}) != []
    assert got(actor_ids=[mark]) == expect(lambda e: e.actor_id == mark) != []
    assert got(actor_ids=[None]) == expect(lambda e: e.actor_id is None) != []  # the failed sign-in among them
    assert got(actor_ids=[mark], entities=["scope"]) == expect(lambda e: e.actor_id == mark and e.entity == "scope")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert got(since=later) == [] and got(until=later) == expect(lambda e: True)
    pages = [accounts.audit_log(limit=10, offset=offset) for offset in range(0, len(everything), 10)]
    assert [e for page in pages for e in page] == everything  # newest first, page after page
