"""Calibration through the use cases, on SQLite and PostgreSQL: a panel rates a cleared
benchmark blind, its lead adjudicates and locks master scores, raters calibrate in a round and
are judged by the rule in force, validity sessions hide in My work, drift turns a status to
recalibration_due, and master scores become the benchmark of the export."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from session_rater.db.store import RecordingSpec
from session_rater.domain.access import Action
from session_rater.domain.calibration import MasterScore
from session_rater.domain.calibration.records import BenchmarkState
from session_rater.domain.model import Capacity, Role
from session_rater.domain.records import PersonView, RatingView
from session_rater.domain.sampling.policy import Draw, Rule, Selection
from session_rater.domain.sampling.work import QueueItem, QueueStatus
from session_rater.errors import AccessDeniedError, CalibrationError
from session_rater.settings import load_settings
from session_rater.usecases.calibration import (
    Calibration,
    rater_statuses,
    top_up_after_draw,
)
from session_rater.usecases.calibration_status import calibration_status
from session_rater.usecases.monitoring import Monitoring
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import DEFAULT_RUBRIC_ID, Services, open_services
from session_rater.usecases.sessions_list import sessions_page
from session_rater.usecases.supervision import Supervision

AREA, TEAM = "Cumbria", "Barrow team"
TODAY = dt.date.today()


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = load_settings({"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url,
                              "SESSION_RATER_DEMO": "0", "SESSION_RATER_SECRET": "c" * 40})
    services = open_services(settings)
    yield services
    services.close()


@dataclasses.dataclass
class World:
    svc: Services
    people: dict[str, PersonView]
    sessions: list[int]

    def me(self, name: str) -> Permitted:
        return Permitted(self.svc, self.svc.person(self.people[name].id))

    @property
    def items(self) -> list[str]:
        return [i.id for i in self.svc.catalog.latest(DEFAULT_RUBRIC_ID).items]

    def rate(self, who: str, recording: int, capacity: Capacity, scores: Mapping[str, int] | int, *,
             settle: bool = True) -> RatingView:
        """``settle=False``: submitted in the store only, leaving calibration to be settled by hand."""
        me = self.me(who)
        rubric = self.svc.catalog.latest(DEFAULT_RUBRIC_ID)
        rating = me.start_rating(recording, self.people["Tom"].id, capacity, rubric)
        for item in self.items:
            score = scores if isinstance(scores, int) else scores[item]
            me.save_item(rating.id, item, score=score, not_applicable=False)
        if not settle:
            return self.svc.store.submit_rating(rating.id, confirm_uniform=True, actor_id=me.person.id)
        return me.submit(rating.id, confirm_uniform=True)

    def benchmark(self, recording: int, panel_scores: tuple[Mapping[str, int], Mapping[str, int]],
                  masters: Mapping[str, int]) -> int:
        """A benchmark of ``recording`` rated by the panel and master-scored by its lead."""
        Calibration(self.me("Admin")).clear_for_training(recording, "consent on file")
        bench = Calibration(self.me("Admin")).designate(
            recording, self.people["Tom"].id, reason="typical",
            panel=[self.people["Pam"].id, self.people["Ray"].id], panel_lead=self.people["Pam"].id)
        self.rate("Pam", recording, Capacity.BENCHMARK, panel_scores[0])
        self.rate("Ray", recording, Capacity.BENCHMARK, panel_scores[1])
        lead = Calibration(self.me("Pam"))
        adjudication = lead.adjudication(bench.id)
        disputed = {d.item_id for d in adjudication.disagreements}
        lead.agree_master_scores(bench.id, [MasterScore(i, masters[i], "why" if i in disputed else "", (5.0,))
                                            for i in self.items])
        return bench.id


def _world(svc: Services, n_sessions: int = 4) -> World:
    names = {"Admin": [Role.ADMINISTRATOR, Role.PROGRAMME_MANAGER], "Pam": [Role.PROGRAMME_MANAGER],
             "Ray": [Role.EXTERNAL_ASSESSOR], "Helen": [Role.TREATMENT_MANAGER], "Mark": [Role.TREATMENT_MANAGER],
             "Tom": [Role.TUTOR], "Sam": [Role.TUTOR]}
    people = {n: svc.accounts_store.create_person(n, f"{n.lower()}@example.org", roles) for n, roles in names.items()}
    svc.accounts_store.set_scope(people["Admin"].id, actor_id=None, areas=[AREA])
    svc.accounts_store.set_scope(people["Pam"].id, actor_id=None, areas=[AREA])
    svc.accounts_store.set_scope(people["Mark"].id, actor_id=None, managed_teams=[(AREA, "Carlisle team")])
    sessions = [svc.store.add_recording(RecordingSpec(
        file_path=f"/nowhere/s{n}.mp4", programme="Think First", group_name="TF-02", session_number=n,
        session_title=f"Session {n}", recorded_on=TODAY - dt.timedelta(days=90 - n), site="Barrow", area=AREA,
        team=TEAM), [people["Tom"].id]).id for n in range(1, n_sessions + 1)]
    return World(svc, people, sessions)


def _scores(items: list[str], base: int, bumped: int = 0, to: int = 0) -> dict[str, int]:
    """``base`` on every item, the first ``bumped`` items at ``to``."""
    return {item: (to if k < bumped else base) for k, item in enumerate(items)}


def test_only_cleared_recordings_become_benchmarks_and_only_a_programme_manager_designates(svc: Services) -> None:
    w = _world(svc)
    with pytest.raises(AccessDeniedError):
        Calibration(w.me("Pam")).clear_for_training(w.sessions[0])
    with pytest.raises(CalibrationError, match="cleared for training"):
        Calibration(w.me("Pam")).designate(w.sessions[0], w.people["Tom"].id, reason="hard",
                                           panel=[w.people["Pam"].id, w.people["Ray"].id], panel_lead=w.people["Pam"].id)
    Calibration(w.me("Admin")).clear_for_training(w.sessions[0])
    with pytest.raises(AccessDeniedError):
        Calibration(w.me("Helen")).designate(w.sessions[0], w.people["Tom"].id, reason="hard",
                                             panel=[w.people["Pam"].id, w.people["Ray"].id], panel_lead=w.people["Pam"].id)


def test_adjudication_with_disagreement_needs_a_rationale_where_the_panel_differed(svc: Services) -> None:
    w = _world(svc)
    items = w.items
    Calibration(w.me("Admin")).clear_for_training(w.sessions[0])
    bench = Calibration(w.me("Pam")).designate(w.sessions[0], w.people["Tom"].id, reason="spread across the scale",
                                               panel=[w.people["Pam"].id, w.people["Ray"].id],
                                               panel_lead=w.people["Pam"].id)
    assert w.me("Ray").capacities(svc.recording(w.sessions[0]), w.people["Tom"].id) == [Capacity.BENCHMARK]
    w.rate("Pam", w.sessions[0], Capacity.BENCHMARK, _scores(items, 2))
    with pytest.raises(CalibrationError, match="not in yet"):
        Calibration(w.me("Pam")).adjudication(bench.id)
    w.rate("Ray", w.sessions[0], Capacity.BENCHMARK, _scores(items, 2, bumped=2, to=3))
    adjudication = Calibration(w.me("Pam")).adjudication(bench.id)
    assert [d.item_id for d in adjudication.disagreements] == items[:2]
    assert adjudication.benchmark.state is BenchmarkState.ADJUDICATION
    bare = [MasterScore(i, 2) for i in items]
    with pytest.raises(CalibrationError, match="say why"):
        Calibration(w.me("Pam")).agree_master_scores(bench.id, bare)
    with pytest.raises(AccessDeniedError, match="panel lead"):
        Calibration(w.me("Ray")).agree_master_scores(bench.id, bare)
    reasoned = [MasterScore(i, 2, "the recap was brief" if i in items[:2] else "") for i in items]
    locked = Calibration(w.me("Pam")).agree_master_scores(bench.id, reasoned)
    assert locked.version == 1 and svc.store.get_benchmark(bench.id).state is BenchmarkState.MASTER_SCORED
    from session_rater.usecases.reports import fingerprint

    cached = fingerprint(svc)
    changed = Calibration(w.me("Pam")).revise_master_scores(
        bench.id, [MasterScore(i, 3 if i == items[0] else 2, "re-watched") for i in items], "second viewing")
    assert changed.version == 2 and changed.reason == "second viewing"
    assert fingerprint(svc) != cached, "the reports' caches see a change of master scores"
    rows = [r for r in svc.export_rows() if r["session_id"] == w.sessions[0] and r["rater_role"] == "benchmark"]
    assert len(rows) == len(items), "the master scores stand for the panel in the export"
    assert {r["rater_id"] for r in rows} == {w.people["Pam"].id} and rows[0]["score"] == 3


def test_adjudication_without_disagreement_locks_without_rationales(svc: Services) -> None:
    w = _world(svc)
    items = w.items
    bench = w.benchmark(w.sessions[0], (_scores(items, 2), _scores(items, 2)), _scores(items, 2))
    assert Calibration(w.me("Pam")).adjudication(bench).disagreements == ()
    assert svc.store.master_scores(bench).by_item() == _scores(items, 2)


def test_master_scores_stay_hidden_until_ones_own_rating_is_submitted(svc: Services) -> None:
    w = _world(svc)
    items = w.items
    bench = w.benchmark(w.sessions[0], (_scores(items, 2), _scores(items, 1, 3, 2)), _scores(items, 2))
    Calibration(w.me("Admin")).create_round("Spring", TODAY + dt.timedelta(days=30), [bench],
                                            [w.people["Helen"].id])
    helen = Calibration(w.me("Helen"))
    with pytest.raises(AccessDeniedError, match="(?i)submit your own rating first"):
        helen.master_scores(bench)
    with pytest.raises(AccessDeniedError):
        w.me("Helen").compare_session(w.sessions[0], w.people["Tom"].id)
    assert helen.comparison(w.sessions[0], w.people["Tom"].id) is None
    with pytest.raises(AccessDeniedError, match="Confirm"):
        Calibration(w.me("Admin")).master_scores(bench)
    assert Calibration(w.me("Admin")).master_scores(bench, look=True).version == 1
    assert w.me("Admin").is_unblinded(svc.recording(w.sessions[0]), w.people["Tom"].id)
    rating = w.rate("Helen", w.sessions[0], Capacity.BENCHMARK, _scores(items, 2, bumped=4, to=3))
    comparison = helen.after_submit(rating, today=TODAY)
    assert comparison is not None and comparison.figures.n_items == len(items)
    assert comparison.items[0].rationale == "" and comparison.items[0].moments == (5.0,)
    assert comparison.figures.exact_count == len(items) - 4
    assert [a.passed for a in comparison.attempts] == [True]
    assert helen.master_scores(bench).version == 1


def test_a_round_certifies_one_rater_and_not_another_by_the_rule_in_force(svc: Services) -> None:
    w = _world(svc)
    items = w.items
    bench = w.benchmark(w.sessions[0], (_scores(items, 2), _scores(items, 2)), _scores(items, 1))
    Calibration(w.me("Admin")).create_round("Spring", TODAY, [bench], [w.people["Helen"].id, w.people["Mark"].id,
                                                                       w.people["Sam"].id])
    for who, scores in (("Helen", _scores(items, 1, 5, 2)), ("Mark", _scores(items, 2, 7, 1)), ("Sam", 3)):
        rating = w.rate(who, w.sessions[0], Capacity.BENCHMARK, scores)
        Calibration(w.me(who)).after_submit(rating, today=TODAY)
    found = {r.name: r for r in rater_statuses(svc, today=TODAY)}
    assert found["Helen"].status.status == "certified"
    assert found["Helen"].status.certified_until == found["Helen"].status.latest.rule.valid_until(TODAY)
    assert found["Mark"].status.status == "not_certified" and found["Mark"].figures.mean_bias > 0.5
    assert found["Sam"].status.status == "not_certified"
    assert found["Tom"].status.status == "not_attempted"
    stored = svc.store.attempts(w.people["Helen"].id)[0].rule
    assert (stored["id"], stored["version"], len(stored["fingerprint"])) == ("certification", "1", 64)
    assert calibration_status([w.people["Mark"].id], svc=svc)[w.people["Mark"].id] == "not_certified"


def test_drift_after_certification_turns_the_status_to_recalibration_due(svc: Services) -> None:
    w = _world(svc)
    items = w.items
    first = w.benchmark(w.sessions[0], (_scores(items, 2), _scores(items, 2)), _scores(items, 2))
    drifting = w.benchmark(w.sessions[1], (_scores(items, 0), _scores(items, 0)), _scores(items, 0))
    Calibration(w.me("Admin")).create_round("Spring", TODAY, [first], [w.people["Helen"].id])
    earlier = TODAY - dt.timedelta(days=60)
    rating = w.rate("Helen", w.sessions[0], Capacity.BENCHMARK, _scores(items, 2), settle=False)
    Calibration(w.me("Helen")).after_submit(rating, today=earlier)  # certified two months ago
    assert Calibration(w.me("Helen")).my_status(TODAY).status.status == "certified"
    svc.store.add_validity(w.people["Helen"].id, drifting, draw_id=None, policy_name="default", reason="r",
                           due_on=TODAY)
    w.rate("Helen", w.sessions[1], Capacity.MONITORING, 3)  # three points above every master score
    mine = Calibration(w.me("Helen")).my_status(TODAY)
    assert mine.status.status == "recalibration_due" and mine.status.drift_since == TODAY
    assert mine.drift.points[-1].outside and "EWMA" in mine.drift.method


def test_a_validity_session_in_my_work_carries_exactly_the_fields_of_a_live_one(svc: Services) -> None:
    w = _world(svc, n_sessions=12)
    items = w.items
    bench = w.benchmark(w.sessions[-1], (_scores(items, 2), _scores(items, 2)), _scores(items, 2))
    helen = w.people["Helen"].id
    # Ten live monitoring assignments for Helen in a saved draw, on sessions outside her teams.
    selections = tuple(Selection(r, Rule.MONITORING, f"monitoring: group TF-02 needs 1 of 12 sessions (10%); "
                                                     f"session number {n} not yet covered", helen, None,
                                 TODAY + dt.timedelta(days=20))
                       for n, r in enumerate(w.sessions[:10], start=1))
    draw = svc.sampling.save_draw(Draw("default", "1.0", 7, TODAY, selections),
                                  {"name": "default", "version": "1.0", "min_notice_days": 7,
                                   "monitoring": {"percent": 10, "min_sessions_per_tutor": 1,
                                                  "due_days_after_session": 28}})
    added = top_up_after_draw(svc, seed=draw.seed, today=TODAY)  # as a saved draw does (usecases.monitoring)
    assert added == {helen: [bench]}
    queue = Monitoring(w.me("Helen")).work_queue(TODAY)
    validity = next(q for q in queue if q.recording_id == w.sessions[-1])
    live = next(q for q in queue if q.recording_id != w.sessions[-1])
    assert [f.name for f in dataclasses.fields(validity)] == [f.name for f in dataclasses.fields(live)]
    assert all(type(getattr(validity, f.name)) is type(getattr(live, f.name)) for f in dataclasses.fields(live))
    assert (validity.rule, validity.policy_name, validity.draw_id, validity.as_second_rater, validity.status) == (
        live.rule, live.policy_name, draw.id, live.as_second_rater, live.status)
    assert validity.reason.startswith("monitoring: group TF-02 needs")
    assert validity.label.startswith("TF-02 · session 12")
    me = w.me("Helen")
    recording = svc.recording(w.sessions[-1])
    assert me.capacities(recording, w.people["Tom"].id) == [Capacity.MONITORING]
    assert me.decide(Action.VIEW_SESSION, recording).reason == me.decide(Action.VIEW_SESSION,
                                                                          svc.recording(w.sessions[0])).reason
    table = sessions_page(me, page_size=1000).rows  # what the Sessions page lists
    row = table[table["id"] == w.sessions[-1]].iloc[0]
    assert row["benchmark"] == 0, "the panel's ratings do not show in the sessions list"
    url, _ = me.recording_url(recording)
    assert url.startswith(f"/recordings/{recording.id}?p={helen}&") and "bench" not in url
    assert svc.store.validity_assignments(helen)[0].hidden
    svc.store.add_exemplar(bench, items[0], 2, 1.0, 4.0, "a recap", by=w.people["Pam"].id)
    assert Calibration(me).exemplars() == [], "no clip of her own hidden validity session"
    with pytest.raises(AccessDeniedError, match="does not exist"):
        Calibration(me).benchmark(bench)
    rating = w.rate("Helen", w.sessions[-1], Capacity.MONITORING, _scores(items, 2, bumped=1, to=3))
    comparison = Calibration(me).after_submit(rating, today=TODAY)
    assert comparison is not None and comparison.figures.exact_count == len(items) - 1
    assert not svc.store.validity_assignments(helen)[0].hidden
    assert len(Calibration(me).exemplars()) == 1 and Calibration(me).benchmark(bench).id == bench
    assert Calibration(w.me("Admin")).top_up_validity(helen, today=TODAY, seed=3) == [], "never one rated before"


def test_submitting_through_the_rating_use_case_settles_calibration(svc: Services) -> None:
    """The Rate page's submit (Permitted.submit) keeps the attempt and reveals a validity session."""
    w = _world(svc)
    items = w.items
    bench = w.benchmark(w.sessions[0], (_scores(items, 2), _scores(items, 2)), _scores(items, 2))
    Calibration(w.me("Admin")).create_round("Spring", TODAY, [bench], [w.people["Mark"].id])
    svc.store.add_validity(w.people["Mark"].id, bench, draw_id=None, policy_name="default", reason="r", due_on=TODAY)
    w.rate("Mark", w.sessions[0], Capacity.BENCHMARK, 3)
    [attempt] = svc.store.attempts(w.people["Mark"].id)
    assert not attempt.passed and attempt.completed_on == TODAY
    assert not svc.store.validity_assignments(w.people["Mark"].id)[0].hidden


def _draw_for(svc: Services, rater: int, recordings: list[int], *, seed: int, policy_text: str | None) -> int:
    """A saved draw of live monitoring assignments for ``rater``, its policy snapshot that of
    ``policy_text`` (None: a snapshot stored before policies had a validity_rate)."""
    from session_rater.io.policy_files import parse_policy_text, policy_to_dict

    selections = tuple(Selection(r, Rule.MONITORING, "monitoring: group TF-02 needs 1 of 12 sessions (10%)", rater,
                                 None, TODAY + dt.timedelta(days=20)) for r in recordings)  # fmt: skip
    if policy_text is None:
        snapshot = {"name": f"old-{seed}", "version": "1.0", "monitoring": {"percent": 10}}
    else:
        snapshot = policy_to_dict(parse_policy_text(policy_text, "p.yaml"))
    return svc.sampling.save_draw(Draw(snapshot["name"], snapshot["version"], seed, TODAY, selections), snapshot).seed


POLICY = 'name: p{version}\nversion: "{version}"\ntitle: P\nvalidity_rate: {rate}\nmonitoring: {{}}\n'


def test_the_validity_rate_is_the_drawn_policys_and_zero_turns_validity_sessions_off(svc: Services) -> None:
    w = _world(svc, n_sessions=12)
    items = w.items
    benches = [w.benchmark(r, (_scores(items, 2), _scores(items, 2)), _scores(items, 2)) for r in w.sessions[-2:]]
    helen = w.people["Helen"].id
    seed = _draw_for(svc, helen, w.sessions[:10], seed=11, policy_text=POLICY.format(version="1", rate=0))
    assert top_up_after_draw(svc, seed=seed, today=TODAY) == {}, "validity_rate: 0 adds none"
    assert Calibration(w.me("Admin")).top_up_validity(helen, today=TODAY, seed=1) == [], "nor by hand"
    # 10 monitoring assignments at 0.1 make one validity session; the next draw, at 0.2, a second.
    seed = _draw_for(svc, helen, [], seed=12, policy_text=POLICY.format(version="2", rate=0.1))
    assert [len(p) for p in top_up_after_draw(svc, seed=seed, today=TODAY).values()] == [1]
    seed = _draw_for(svc, helen, [], seed=13, policy_text=POLICY.format(version="3", rate=0.2))
    assert [len(p) for p in top_up_after_draw(svc, seed=seed, today=TODAY).values()] == [1]
    assert sorted(v.benchmark_id for v in svc.store.validity_assignments(helen)) == sorted(benches)


def test_a_draw_stored_before_policies_had_a_validity_rate_blends_at_1_in_10(svc: Services) -> None:
    w = _world(svc, n_sessions=12)
    items = w.items
    bench = w.benchmark(w.sessions[-1], (_scores(items, 2), _scores(items, 2)), _scores(items, 2))
    helen = w.people["Helen"].id
    seed = _draw_for(svc, helen, w.sessions[:9], seed=21, policy_text=None)
    assert top_up_after_draw(svc, seed=seed, today=TODAY) == {}, "9 assignments at 1 in 10: none yet"
    seed = _draw_for(svc, helen, [w.sessions[9]], seed=22, policy_text=None)
    assert top_up_after_draw(svc, seed=seed, today=TODAY) == {helen: [bench]}


def _rate_tutor(w: World, who: str, recording: int, tutor: str, scores: int) -> RatingView:
    me = w.me(who)
    rating = me.start_rating(recording, w.people[tutor].id, Capacity.MONITORING, w.svc.catalog.latest(DEFAULT_RUBRIC_ID))
    for item in w.items:
        me.save_item(rating.id, item, score=scores, not_applicable=False)
    return me.submit(rating.id, confirm_uniform=True)


@pytest.mark.parametrize("first", ["Sam", "Tom"])
def test_a_co_tutored_validity_session_asks_a_form_per_tutor_and_the_benchmark_tutors_form_completes_it(
        svc: Services, first: str) -> None:  # fmt: skip
    """Benchmark (session, Tom) of a session Tom delivered with Sam. Hidden, it is a live co-tutored
    assignment (a form per tutor, in progress after one); submitting Tom's form reveals it, shows
    the comparison and takes it out of "To rate". Tom's form is a validity rating, not monitoring:
    not in coverage nor on Supervision; Sam's, made blind as monitoring, stays monitoring."""
    w = _world(svc, n_sessions=12)
    items = w.items
    co_tutored = svc.store.add_recording(RecordingSpec(
        file_path="/nowhere/co.mp4", programme="Think First", group_name="TF-02", session_number=13,
        session_title="Session 13", recorded_on=TODAY - dt.timedelta(days=60), site="Barrow", area=AREA, team=TEAM),
        [w.people["Tom"].id, w.people["Sam"].id]).id  # fmt: skip
    bench = w.benchmark(co_tutored, (_scores(items, 2), _scores(items, 2)), _scores(items, 2))
    helen = w.people["Helen"].id
    seed = _draw_for(svc, helen, w.sessions[:10], seed=31, policy_text=None)
    assert top_up_after_draw(svc, seed=seed, today=TODAY) == {helen: [bench]}
    me = w.me("Helen")

    def item() -> QueueItem:
        return next(q for q in Monitoring(me).work_queue(TODAY) if q.recording_id == co_tutored)

    assert [t.name for t in item().tutors] == ["Tom", "Sam"] and item().status is QueueStatus.NOT_STARTED
    second = "Tom" if first == "Sam" else "Sam"
    rating = _rate_tutor(w, "Helen", co_tutored, first, 3)
    found = Calibration(me).after_submit(rating, today=TODAY)
    if first == "Sam":  # still hidden, and as a live co-tutored assignment is: in progress
        assert found is None and svc.store.validity_assignments(helen)[0].hidden
        assert item().status is QueueStatus.IN_PROGRESS and item().ratings_submitted == 1
        assert Calibration(me).comparison(co_tutored, w.people["Tom"].id) is None
        rating = _rate_tutor(w, "Helen", co_tutored, second, 3)
        found = Calibration(me).after_submit(rating, today=TODAY)
    assert found is not None and found.tutor_id == w.people["Tom"].id and found.figures.within_one_count == len(items)
    assert not svc.store.validity_assignments(helen)[0].hidden
    assert item().status is QueueStatus.SUBMITTED, "out of To rate once the benchmark's tutor is rated"
    assert Calibration(me).comparison(co_tutored, w.people["Sam"].id) is None, "no master scores for Sam"

    monitored = {m.recording_id: m for m in Monitoring(w.me("Admin")).monitored_sessions()}
    sam_rated = first == "Sam"
    assert (co_tutored in monitored) is sam_rated
    if sam_rated:
        assert monitored[co_tutored].rated_tutor_ids == frozenset({w.people["Sam"].id}), "Tom's validity rating is no coverage"
    assert (co_tutored, w.people["Tom"].id) not in [(r.id, t) for r, t in Supervision(w.me("Tom")).choices()]
    assert ((co_tutored, w.people["Sam"].id) in [(r.id, t) for r, t in Supervision(w.me("Sam")).choices()]) is sam_rated


def test_an_exemplar_clip_is_cut_once_from_its_recording_and_goes_with_it(svc: Services, tmp_path: Path) -> None:
    import shutil

    from session_rater.usecases.exemplar_clips import clip_file, clip_recording, exemplar, may_play_exemplar

    w = _world(svc)
    items = w.items
    source = tmp_path / "bench.mp4"
    shutil.copy(sorted((Path(__file__).resolve().parents[2] / "sample_sessions").glob("*.mp4"))[0], source)
    recording = svc.store.add_recording(RecordingSpec(
        file_path=str(source), programme="Think First", group_name="TF-02", session_number=20, session_title="S20",
        recorded_on=TODAY - dt.timedelta(days=30), site="Barrow", area=AREA, team=TEAM), [w.people["Tom"].id]).id  # fmt: skip
    bench = w.benchmark(recording, (_scores(items, 2), _scores(items, 2)), _scores(items, 2))
    clip = svc.store.add_exemplar(bench, items[0], 2, 1.0, 3.0, "a recap", by=w.people["Pam"].id)
    assert clip_recording(svc, clip.id) == recording and clip_recording(svc, clip.id + 1) is None
    cut = clip_file(svc, clip.id)
    assert cut is not None and cut.is_file() and cut.parent == svc.settings.data_dir / "exemplar-clips"
    assert clip_file(svc, clip.id) == cut
    # Sam, a tutor who may not play Tom's session, may watch its exemplar (cleared for training)
    sam = w.me("Sam")
    with pytest.raises(AccessDeniedError):
        sam.recording_url(svc.recording(recording))
    assert exemplar(sam, clip.id).src.startswith(f"/recordings/exemplars/{clip.id}?")
    assert not may_play_exemplar(svc, clip.id, w.people["Sam"].id, 0), "no live sign-in session"
    source.unlink()  # e.g. deleted under the retention policy
    assert clip_file(svc, clip.id) is None and not cut.exists()
