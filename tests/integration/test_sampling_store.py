"""Sampling storage on SQLite and PostgreSQL: draws are saved whole with their seed and policy,
top-ups only ever add, nobody is assigned a session they delivered, each rater's work queue shows
what is due and overdue, and coverage counts what was monitored against the targets."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine

from session_rater.cli import sample as cli_sample
from session_rater.db.sampling_store import QueueStatus, SamplingError, SamplingStore
from session_rater.db.store import RecordingSpec, Store
from session_rater.domain.coverage import coverage_table
from session_rater.domain.model import Capacity, Role
from session_rater.domain.rubric import Rubric
from session_rater.domain.sampling import Draw, Rule, Selection, draw_sample
from session_rater.io.policy_files import load_policy, policy_to_dict

REPO = Path(__file__).resolve().parents[2]
POLICY = load_policy(REPO / "policies" / "default.yaml")
DRAWN_ON = dt.date(2026, 6, 1)


@dataclasses.dataclass
class World:
    store: Store
    sampling: SamplingStore
    tutors: list[int]
    managers: list[int]
    assessor: int


def _world(engine: Engine, sessions_per_group: int = 14) -> World:
    """Two areas, one group each, three tutors per group delivering in pairs; a catch-up
    session every fifth; two treatment managers (one of whom also tutors in Barrow) and an
    external assessor."""
    store = Store(engine)
    tutors = [store.add_person(f"Tutor {i}", [Role.TUTOR]).id for i in range(5)]
    helen = store.add_person("Helen Price", [Role.TREATMENT_MANAGER, Role.TUTOR]).id
    mark = store.add_person("Mark Dixon", [Role.TREATMENT_MANAGER]).id
    ruth = store.add_person("Ruth Okafor", [Role.EXTERNAL_ASSESSOR]).id
    teams = {("Cumbria", "Carlisle", "Carlisle TF-01"): tutors[:3], ("Lancashire", "Preston", "Preston TF-02"): [tutors[3], tutors[4], helen]}
    for (area, site, group), team in teams.items():
        _add_sessions(store, area, site, group, team, range(1, sessions_per_group + 1))
    return World(store, SamplingStore(engine), tutors, [helen, mark], ruth)


def _add_sessions(store: Store, area: str, site: str, group: str, team: list[int], numbers: range) -> None:
    for n in numbers:
        spec = RecordingSpec(
            file_path=f"/nowhere/{group}-{n}.mp4", programme="Think First", group_name=group, session_number=n,
            session_title=f"Session {n}", recorded_on=dt.date(2026, 1, 5) + dt.timedelta(days=7 * n), site=site,
            area=area, is_catch_up=n % 5 == 0,
        )  # fmt: skip
        store.add_recording(spec, [team[n % 3], team[(n + 1) % 3]])


def _draw(world: World, seed: int = 11, drawn_on: dt.date = DRAWN_ON) -> Draw:
    return draw_sample(
        world.sampling.roster(), world.sampling.people(), POLICY, seed=seed, drawn_on=drawn_on,
        previous=world.sampling.previous_selections(POLICY.name),
    )  # fmt: skip


def _save(world: World, draw: Draw) -> int:
    return world.sampling.save_draw(draw, policy_to_dict(POLICY)).id


def _rate(store: Store, rubric: Rubric, recording_id: int, rater_id: int, capacity: Capacity, *, submit: bool) -> None:
    """The rater's form for each tutor of the session; submitted if asked."""
    for tutor in store.get_recording(recording_id).tutors:
        rating = store.start_rating(recording_id, tutor.id, rater_id, capacity, rubric)
        if submit:
            for item in rubric.items:
                store.save_item(rating.id, item.id, score=rubric.minimum)
            store.submit_rating(rating.id, confirm_uniform=True)


# --------------------------------------------------------------------------------------------
# Roster and draws
# --------------------------------------------------------------------------------------------


def test_the_roster_lists_every_recording_with_its_tutors_in_delivery_order(engine: Engine) -> None:
    world = _world(engine)
    roster = world.sampling.roster()
    assert len(roster) == 28 and [f.recording_id for f in roster] == sorted(f.recording_id for f in roster)
    first = roster[0]
    assert (first.group, first.area, first.site, first.session_number) == ("Carlisle TF-01", "Cumbria", "Carlisle", 1)
    assert first.tutor_ids == tuple(t.id for t in world.store.get_recording(first.recording_id).tutors)
    people = {p.id: p for p in world.sampling.people()}
    assert people[world.managers[0]].roles == {"treatment_manager", "tutor"} and people[world.assessor].active


def test_a_saved_draw_keeps_its_seed_policy_reasons_raters_and_due_dates(engine: Engine) -> None:
    world = _world(engine)
    draw = _draw(world)
    draw_id = _save(world, draw)
    saved = world.sampling.get_draw(draw_id)
    assert (saved.policy_name, saved.policy_version, saved.seed, saved.drawn_on) == ("default", "1.0", 11, DRAWN_ON)
    assert saved.policy == policy_to_dict(POLICY) and saved.assignments == len(draw.selections) and not saved.dry_run
    assert world.sampling.previous_selections("default") == sorted(draw.selections, key=lambda s: draw.selections.index(s))
    assert world.sampling.last_policy_snapshot("default") == policy_to_dict(POLICY)
    assert {s.rule for s in draw.selections} == {Rule.MONITORING, Rule.CATCH_UP, Rule.EXTERNAL_AUDIT}


def test_drawing_again_with_the_same_seed_reproduces_the_stored_draw(engine: Engine) -> None:
    world = _world(engine)
    draw = _draw(world, seed=5)
    _save(world, draw)
    stored = world.sampling.get_draw(world.sampling.list_draws("default")[0].id)
    again = draw_sample(world.sampling.roster(), world.sampling.people(), POLICY, seed=stored.seed, drawn_on=stored.drawn_on)
    assert again.selections == tuple(world.sampling.previous_selections("default"))


def test_a_top_up_adds_only_new_assignments_and_leaves_started_ratings_on_theirs(engine: Engine, think_first: Rubric) -> None:
    world = _world(engine)
    _save(world, _draw(world))
    before = world.sampling.assignments("default")
    started = next(a for a in before if a.rule is Rule.MONITORING and a.rater_id is not None)
    _rate(world.store, think_first, started.recording_id, started.rater_id, Capacity.MONITORING, submit=False)  # type: ignore[arg-type]

    _add_sessions(world.store, "Cumbria", "Carlisle", "Carlisle TF-01", world.tutors[:3], range(15, 29))
    top_up = _draw(world, seed=12, drawn_on=DRAWN_ON + dt.timedelta(days=30))
    assert top_up.previous == tuple(a.as_selection() for a in before)
    _save(world, top_up)
    after = world.sampling.assignments("default")
    assert after[: len(before)] == before, "earlier assignments are untouched"
    assert len(after) == len(before) + len(top_up.selections) > len(before)
    carlisle = [a for a in after if a.rule is Rule.MONITORING and a.recording_id in
                {f.recording_id for f in world.sampling.roster() if f.group == "Carlisle TF-01" and not f.is_catch_up}]  # fmt: skip
    assert len(carlisle) >= 3  # 10% of 22 regular sessions, rounded up
    queue = world.sampling.work_queue(started.rater_id, today=DRAWN_ON)  # type: ignore[arg-type]
    assert next(q for q in queue if q.assignment_id == started.id).status == QueueStatus.IN_PROGRESS


def test_a_draw_made_on_a_stale_sample_is_refused_and_nothing_is_saved(engine: Engine) -> None:
    world = _world(engine)
    first, rival = _draw(world, seed=1), _draw(world, seed=2)
    _save(world, first)
    with pytest.raises(SamplingError, match="changed since this draw was made"):
        _save(world, rival)
    assert len(world.sampling.list_draws()) == 1
    assert world.sampling.previous_selections("default") == list(first.selections)


def test_a_session_cannot_be_drawn_twice_under_one_rule(engine: Engine) -> None:
    world = _world(engine)
    draw = _draw(world)
    _save(world, draw)
    duplicate = dataclasses.replace(draw, previous=draw.selections, selections=draw.selections[:1])
    with pytest.raises(SamplingError, match="already drawn under the same rule"):
        _save(world, duplicate)
    assert len(world.sampling.assignments()) == len(draw.selections)


def test_saving_refuses_to_assign_a_session_to_someone_who_delivered_it(engine: Engine) -> None:
    world = _world(engine)
    recording = world.store.list_recordings()[0]
    tutor = recording.tutors[0].id
    forged = Draw("default", "1.0", 1, DRAWN_ON, (Selection(recording.id, Rule.MONITORING, "forged", tutor),))
    with pytest.raises(SamplingError, match="rate a session they delivered"):
        _save(world, forged)
    assert world.sampling.list_draws() == []


def test_a_dry_run_is_recorded_without_assignments_and_is_not_a_previous_draw(engine: Engine) -> None:
    world = _world(engine)
    saved = world.sampling.save_draw(_draw(world), policy_to_dict(POLICY), dry_run=True)
    assert saved.dry_run and saved.assignments == 0
    assert world.sampling.previous_selections("default") == []
    assert world.sampling.last_policy_snapshot("default") is None


# --------------------------------------------------------------------------------------------
# Work queues
# --------------------------------------------------------------------------------------------


def test_each_rater_sees_what_is_due_with_overdue_flags_and_progress(engine: Engine, think_first: Rubric) -> None:
    world = _world(engine)
    draw = _draw(world, drawn_on=dt.date(2026, 1, 1))  # drawn early: due 4 weeks after each session
    _save(world, draw)
    mark = world.managers[1]
    queue = world.sampling.work_queue(mark, today=dt.date(2026, 3, 1))
    mine = [s for s in draw.selections if mark in (s.rater_id, s.second_rater_id)]
    assert {q.recording_id for q in queue} == {s.recording_id for s in mine}
    for q in queue:
        session = world.store.get_recording(q.recording_id)
        if q.rule is not Rule.EXTERNAL_AUDIT:
            assert q.due_on == session.recorded_on + dt.timedelta(days=28)
        assert q.overdue == (q.due_on < dt.date(2026, 3, 1))
        assert q.status == QueueStatus.NOT_STARTED and q.label == session.label
    assert [q.due_on for q in queue] == sorted(q.due_on for q in queue)

    first = queue[0]
    _rate(world.store, think_first, first.recording_id, mark, first.capacity, submit=True)
    done = next(q for q in world.sampling.work_queue(mark, today=dt.date(2026, 3, 1)) if q.assignment_id == first.assignment_id)
    assert done.status == QueueStatus.SUBMITTED and not done.overdue and done.ratings_submitted == 2
    assert world.sampling.work_queue(world.assessor, today=DRAWN_ON), "the audit sample is the assessor's queue"


def test_a_second_rater_finds_the_session_in_their_queue_too(engine: Engine) -> None:
    world = _world(engine)
    draw = _draw(world)
    _save(world, draw)
    doubled = [s for s in draw.selections if s.second_rater_id is not None]
    assert doubled, "20% of the monitoring sample is double rated"
    queues = world.sampling.work_queues(today=DRAWN_ON)
    for s in doubled:
        item = next(q for q in queues[s.second_rater_id] if q.recording_id == s.recording_id and q.rule is s.rule)  # type: ignore[index]
        assert item.as_second_rater


# --------------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------------


def test_coverage_counts_monitored_sessions_against_the_ten_percent_and_one_in_seven_targets(
    engine: Engine, think_first: Rubric
) -> None:
    world = _world(engine)
    draw = _draw(world, drawn_on=dt.date(2026, 1, 1))
    _save(world, draw)
    carlisle = {f.recording_id for f in world.sampling.roster() if f.area == "Cumbria"}
    monitored = [s for s in draw.selections if s.rule is Rule.MONITORING and s.recording_id in carlisle]
    for s in monitored:
        _rate(world.store, think_first, s.recording_id, s.rater_id, Capacity.MONITORING, submit=True)  # type: ignore[arg-type]

    statuses = world.sampling.assignment_statuses(today=dt.date(2026, 6, 1))
    table = coverage_table(world.sampling.roster(), statuses, today=dt.date(2026, 6, 1), by="area", period=None)
    row = table.set_index("area").loc["Cumbria"]
    assert (row["recorded"], row["catch_up_recorded"]) == (12, 2)  # sessions 5 and 10 are catch-ups
    assert row["sampled"] == row["rated"] == len(monitored) >= 2 and row["target"] == 2 and row["meets_target"]
    assert row["monitored_percent"] == pytest.approx(100 * len(monitored) / 12)
    assert row["catch_up_required"] == 1 and row["catch_up_sampled"] == 1 and not row["catch_up_compliant"]
    assert row["overdue"] >= 1  # the catch-up session and the audit are not rated, and past due
    lancashire = table.set_index("area").loc["Lancashire"]
    assert lancashire["rated"] == 0 and not lancashire["meets_target"]


def test_coverage_by_month_tutor_and_treatment_manager(engine: Engine) -> None:
    world = _world(engine)
    _save(world, _draw(world))
    statuses = world.sampling.assignment_statuses(today=DRAWN_ON)
    roster = world.sampling.roster()
    by_month = coverage_table(roster, statuses, today=DRAWN_ON, by="site", period="month")
    assert by_month["period"].str.match(r"^2026-\d\d$").all()
    assert by_month["recorded"].sum() + by_month["catch_up_recorded"].sum() == len(roster)
    quarters = coverage_table(roster, statuses, today=DRAWN_ON, by="area", period="quarter")
    assert set(quarters["period"]) == {"2026Q1", "2026Q2"}
    names = {p.id: p.name for p in world.sampling.people()}
    by_tutor = coverage_table(roster, statuses, today=DRAWN_ON, by="tutor", period=None, names=names)
    assert set(by_tutor["tutor"]) == {names[t] for t in [*world.tutors, world.managers[0]]}
    assert (by_tutor["sampled"] >= 1).all(), "every tutor is in the monitoring sample"
    by_manager = coverage_table(roster, statuses, today=DRAWN_ON, by="treatment_manager", period=None, names=names)
    assert set(by_manager["treatment_manager"]) <= {"Helen Price", "Mark Dixon"}
    assert by_manager["recorded"].isna().all() and by_manager["sampled"].sum() > 0


def test_coverage_refuses_an_unknown_dimension() -> None:
    with pytest.raises(ValueError, match="by must be one of area, site, treatment_manager, tutor"):
        coverage_table([], [], today=DRAWN_ON, by="colour")


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="session-rater")
    cli_sample.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_sample_prints_what_would_be_drawn_and_why_and_saves_only_without_dry_run(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = _world(engine)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SESSION_RATER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SESSION_RATER_POLICIES_DIR", str(REPO / "policies"))

    assert _run("sample", "--policy", "default", "--seed", "3", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Policy default v1.0, seed 3" in out and "Dry run: nothing saved." in out
    assert "monitoring: group Carlisle TF-01 needs 2 of 12 sessions (10%) and 1 per tutor; covers tutor" in out
    assert world.sampling.list_draws() == []

    assert _run("sample", "--policy", "default", "--seed", "3") == 0
    assert "Saved draw" in capsys.readouterr().out
    assert [d.seed for d in world.sampling.list_draws()] == [3]
    assert _run("sample", "--policy", "default", "--seed", "4") == 0
    assert "Nothing new to draw" in capsys.readouterr().out


def test_sample_keeps_the_stored_policy_in_force_when_its_file_is_broken(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = _world(engine)
    _save(world, _draw(world))
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "default.yaml").write_text((REPO / "policies" / "default.yaml").read_text().replace("percent: 10", "percent: 120"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SESSION_RATER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SESSION_RATER_POLICIES_DIR", str(folder))
    assert _run("sample", "--policy", "default", "--dry-run") == 0
    err = capsys.readouterr().err
    assert "default.yaml: monitoring.percent: must be a percentage above 0 up to 100" in err
    assert "the version in force stays in force: default v1.0" in err
