"""The area and monitoring reports read what they show (issue 17): the sessions of one area or
one manager's teams in one period, selected in SQL, are exactly those the access rule and the
filters pick from every session in reach; and an area's figures are computed once per state of
the scores. Built on the demo data, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from session_rater.db.ratings import ItemEntry, RatingSpec
from session_rater.db.recordings import Narrowed
from session_rater.domain.access import Action
from session_rater.domain.model import Capacity, Role
from session_rater.domain.report_periods import period_bounds, periods
from session_rater.settings import load_settings
from session_rater.usecases import area_report, score_snapshot
from session_rater.usecases.area_report import AreaReports
from session_rater.usecases.monitoring_report import MonitoringReports
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services, open_services


@pytest.fixture
def demo(database_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = load_settings({"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url,
                              "SESSION_RATER_DEMO": "1", "SESSION_RATER_SECRET": "s" * 40})  # fmt: skip
    score_snapshot.forget(database_url)
    svc = open_services(settings)
    yield svc
    score_snapshot.forget()
    svc.close()


def _viewers(svc: Services) -> list[Permitted]:
    people = svc.store.list_people()
    return [Permitted(svc, p) for p in people if p.roles & {Role.ADMINISTRATOR.value, Role.PROGRAMME_MANAGER.value,
                                                              Role.TREATMENT_MANAGER.value}]  # fmt: skip


def test_an_areas_sessions_of_a_period_are_those_the_rule_and_the_filters_pick(demo: Services) -> None:
    viewers = _viewers(demo)
    assert {v.actor.has(Role.ADMINISTRATOR) for v in viewers} == {True, False}
    checked = 0
    for me in viewers:
        everything = me.recordings()  # every session in reach, checked against the rule
        for area in sorted({r.area or "" for r in demo.store.list_recordings()}):
            days = sorted(r.recorded_on for r in everything if (r.area or "") == area)
            spans = [(None, None)] + ([(days[len(days) // 3], days[2 * len(days) // 3])] if days else [])
            for start, end in spans:
                expected = {r.id for r in everything if (r.area or "") == area
                            and (start is None or r.recorded_on >= start) and (end is None or r.recorded_on <= end)}  # fmt: skip
                shown = Narrowed.of(me.reach(), area=area, date_from=start, date_to=end)
                assert {r.id for r in demo.store.list_recordings(within=shown)} == expected, (me.person.display_name, area)
                checked += bool(expected)
    assert checked > 5
    assert AreaReports(viewers[0]).areas() == sorted({r.area for r in demo.store.list_recordings() if r.area})


def test_a_managers_sessions_and_periods_are_those_of_their_teams_in_reach(demo: Services) -> None:
    checked = 0
    for me in _viewers(demo):
        reports = MonitoringReports(me)
        everything = me.recordings()
        for manager in reports.managers():
            scope = demo.actor(manager)
            theirs = [r for r in everything
                      if ((r.area or ""), r.team) in scope.managed_teams or r.id in scope.monitoring_assignments]  # fmt: skip
            for kind in ("month", "quarter"):
                assert reports.periods(manager.id, kind) == periods([r.recorded_on for r in theirs], kind)
            for period in periods([r.recorded_on for r in theirs], "quarter")[:2]:
                start, end = period_bounds(period)
                report = reports.report(manager.id, period)
                assert {s.recording_id for s in report.sessions} == {r.id for r in theirs if start <= r.recorded_on <= end}
                checked += len(report.sessions)
    assert checked > 0


def test_the_managers_listed_are_those_whose_report_the_person_may_see(demo: Services) -> None:
    managers = [p for p in demo.store.list_people() if p.has_role(Role.TREATMENT_MANAGER)]
    for me in _viewers(demo):
        expected = [p.id for p in managers if me.decide(Action.VIEW_MONITORING_REPORT, manager_id=p.id,
                                                        manager_areas={a for a, _ in demo.actor(p).managed_teams})]  # fmt: skip
        assert [p.id for p in MonitoringReports(me).managers()] == expected


def _rate_in(svc: Services, area: str) -> None:
    """An external assessor's new submitted rating of a session of ``area``."""
    rubric = svc.rubrics()[0]
    assessor = next(p.id for p in svc.store.list_people() if Role.EXTERNAL_ASSESSOR.value in p.roles)
    session = next(r for r in svc.store.list_recordings() if r.area == area and r.tutors
                   and svc.store.find_rating(r.id, r.tutors[0].id, assessor, Capacity.EXTERNAL) is None)  # fmt: skip
    entries = {item.id: ItemEntry(score=3 - i % 2) for i, item in enumerate(rubric.items)}
    svc.store.add_ratings([RatingSpec(session.id, session.tutors[0].id, assessor, Capacity.EXTERNAL, entries)], rubric)


def test_an_areas_figures_are_computed_once_per_state_of_the_scores(demo: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(area_report, "INLINE_SECONDS", 60.0)  # brought up to date on the page run, however slow
    admin = next(v for v in _viewers(demo) if v.actor.has(Role.ADMINISTRATOR))
    reports = AreaReports(admin)
    area = reports.areas()[0]
    area_report._FIGURES.clear()
    first = reports.report(area, today=dt.date(2026, 12, 1))
    again = reports.report(area, today=dt.date(2026, 12, 1))
    assert first.tables["Over-scoring"] is again.tables["Over-scoring"]  # kept, not computed again
    assert not first.tables["Over-scoring"].empty and list(first.tables) == list(again.tables)
    assert first.age.current and first.age.as_of is not None
    # a new rating in the area: the next report is of the scores as they are now
    _rate_in(demo, area)
    after = reports.report(area, today=dt.date(2026, 12, 1))
    assert after.tables["Over-scoring"] is not first.tables["Over-scoring"] and after.age.current
    assert not after.tables["Over-scoring"].equals(first.tables["Over-scoring"])  # the new rating is in them
    area_report._FIGURES.clear()
    fresh = reports.report(area, today=dt.date(2026, 12, 1))
    for name in after.tables:
        assert after.tables[name].equals(fresh.tables[name]), name


def test_slow_figures_are_brought_up_to_date_beside_the_page(demo: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a submission, figures slower than INLINE_SECONDS: the report shows those it has with
    their age at once, and those of the new scores once computed beside it; a file waits for them."""
    monkeypatch.setattr(area_report, "INLINE_SECONDS", -1.0)  # every recomputation counts as slow
    admin = next(v for v in _viewers(demo) if v.actor.has(Role.ADMINISTRATOR))
    reports = AreaReports(admin)
    area = reports.areas()[0]
    area_report._FIGURES.clear()
    first = reports.report(area, today=dt.date(2026, 12, 1))  # nothing kept yet: computed now
    assert first.age.current
    _rate_in(demo, area)
    stale = reports.report(area, today=dt.date(2026, 12, 1))
    assert stale.tables["Over-scoring"] is first.tables["Over-scoring"]  # the figures it had, at once
    assert stale.age.computing and stale.age.since == 1 and stale.age.as_of == first.age.as_of
    area_report._FIGURES.wait()
    now = reports.report(area, today=dt.date(2026, 12, 1))
    assert now.age.current and now.age.as_of is not None and now.age.as_of > first.age.as_of
    assert not now.tables["Over-scoring"].equals(first.tables["Over-scoring"])
    _rate_in(demo, area)
    waited = reports.report(area, today=dt.date(2026, 12, 1), wait=True)  # a PDF or XLSX: of the scores now
    assert waited.age.current and not waited.tables["Over-scoring"].equals(now.tables["Over-scoring"])
    area_report._FIGURES.clear()
    fresh = reports.report(area, today=dt.date(2026, 12, 1))
    for name in fresh.tables:
        assert waited.tables[name].equals(fresh.tables[name]), name


def test_areas_and_trends_do_not_share_figures(demo: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(area_report, "INLINE_SECONDS", -1.0)
    admin = next(v for v in _viewers(demo) if v.actor.has(Role.ADMINISTRATOR))
    for r in demo.store.list_recordings():  # the demo has one area: every other session moves to a second
        if r.id % 2:
            admin.set_recording_place(r.id, "Lancashire", r.team)
    reports = AreaReports(admin)
    areas = reports.areas()
    assert areas == ["Cumbria", "Lancashire"]
    area_report._FIGURES.clear()
    one = reports.report(areas[0], today=dt.date(2026, 12, 1))
    other = reports.report(areas[1], today=dt.date(2026, 12, 1))  # nothing kept for it: computed, not area 0's
    monthly = reports.report(areas[0], by="month", today=dt.date(2026, 12, 1))
    assert other.tables["Over-scoring"] is not one.tables["Over-scoring"] and other.age.current
    assert not other.tables["Over-scoring"].equals(one.tables["Over-scoring"])
    assert set(monthly.tables["Over-scoring trend"]["period"]) != set(one.tables["Over-scoring trend"]["period"])
    # a rating in area 1 leaves area 0's figures as they are (current: its scores did not change, but
    # the state of the scores did, so they are brought up to date beside the page, to the same figures)
    _rate_in(demo, areas[1])
    assert reports.report(areas[0], today=dt.date(2026, 12, 1)).tables["Over-scoring"] is one.tables["Over-scoring"]
    area_report._FIGURES.wait()
    later = reports.report(areas[0], today=dt.date(2026, 12, 1))
    assert later.age.current
    for name in later.tables:
        assert later.tables[name].equals(one.tables[name]), name
    area_report._FIGURES.clear()
    for area in areas[:2]:
        fresh = reports.report(area, today=dt.date(2026, 12, 1))
        kept = later if area == areas[0] else reports.report(area, today=dt.date(2026, 12, 1))
        for name in fresh.tables:
            assert kept.tables[name].equals(fresh.tables[name]), (area, name)


def test_the_warm_up_computes_the_figures_the_page_opens_on(demo: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    area_report._FIGURES.clear()
    area_report.warm_area_report(demo)
    assert len(area_report._FIGURES) == 1

    def computed_again(*_: object) -> None:
        raise AssertionError("the page computed the figures the warm-up had computed")

    monkeypatch.setattr(AreaReports, "_figures", computed_again)
    admin = next(v for v in _viewers(demo) if v.actor.has(Role.ADMINISTRATOR))
    reports = AreaReports(admin)
    report = reports.report(reports.areas()[0])
    assert report.age.current and not report.tables["Over-scoring"].empty
