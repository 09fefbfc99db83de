"""The rater's side of calibration (issue 10) in the Rate page and My work: nothing tells a
validity session from live work before it is submitted; after submitting, the rater's scores
beside the master scores, the figures and their status, with the master's evidence moments
that seek the session's video; "See an example" clips; the rater's status in My work."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import AppEnv, rendered
from tests.ui.test_pages import no_exception, player_data, score_radios

VALIDITY_RATER = "Mark Dixon"  # the demo's validity session waits in his My work; not certified (+0.7)
CERTIFIED = "Helen Price"


def _page_text(at: AppTest) -> str:
    parts: list[Any] = [*at.markdown, *at.caption, *at.success, *at.info, *at.warning, *at.error, *at.subheader]
    return " ".join(rendered(p.value) for p in parts) + " " + " ".join(b.label for b in at.button)


def _validity(app_env: AppEnv) -> tuple[int, int, int]:
    svc = app_env.services
    mark = app_env.person(VALIDITY_RATER)
    (v,) = [v for v in svc.store.validity_assignments(mark) if v.hidden]
    return v.recording_id, v.tutor_id, mark  # type: ignore[return-value]


def test_a_validity_session_looks_like_live_work_until_submitted_then_shows_the_master_scores(  # type: ignore[no-untyped-def]
    app_env: AppEnv, open_page
) -> None:
    recording_id, tutor_id, mark = _validity(app_env)
    at = open_page("rate", recording=recording_id, tutor=tutor_id, rater=mark)
    no_exception(at)
    before = _page_text(at).lower()
    for word in ("benchmark", "master", "validity", "calibration"):
        assert word not in before, f"{word!r} shows before the validity session is submitted"
    assert not any("benchmark" in (w.key or "") for w in [*at.radio, *at.button, *at.text_area, *at.text_input])
    assert not at.table
    # exemplar clips of other benchmarks are fine (Mark's round benchmark, already submitted)
    examples = [b for b in at.button if b.label.startswith("See an example")]
    assert examples, "the demo's exemplar clips are offered beside their score descriptors"

    radios = score_radios(at)
    for n, radio in enumerate(radios):
        at.radio(key=radio.key).set_value(1 + n % 2).run()
    next(b for b in at.button if b.label == "Submit rating").click().run()
    no_exception(at)
    page = _page_text(at)
    assert "Your scores beside the master scores" in page
    (table,) = at.table
    frame = table.value
    assert list(frame.columns) == ["Yours", "Master", "Difference"]
    assert len(frame) == len(radios)
    master = app_env.services.store.master_scores(
        next(b.id for b in app_env.services.store.benchmarks() if b.recording_id == recording_id)).by_item()
    first_item = radios[0].key.split(":")[-2]  # type: ignore[union-attr]
    assert frame.iloc[0]["Master"] == str(master[first_item])
    assert frame.iloc[0]["Yours"] == "1"
    for figure in ("exact agreement", "within one point", "mean signed difference"):
        assert figure in page, figure
    assert "Instructions were given once and checked with one member only" in page, "a rationale of the demo's"
    assert "Calibration: not certified" in page, "his status after this submission (the demo's round: +0.7)"

    # a master's evidence moment seeks the session's video there (the player's start_at)
    seek = next(b for b in at.button if b.key and ":seek:" in b.key)
    seek.click().run()
    no_exception(at)
    data = player_data(at)
    assert data is not None and data["src"].split("?")[0].endswith(f"/recordings/{recording_id}")
    moment = float(seek.label.split(":")[0]) * 60 + float(seek.label.split(":")[1])
    assert abs(data["start_at"] - moment) < 0.01
    assert any(n["item"].startswith("Master score") for n in data["notes"]), "the master's moments on the timeline"
    # the same moment again: the player is told again (a new value), so it seeks again
    again = next(b for b in at.button if b.key == seek.key)
    again.click().run()
    assert abs(player_data(at)["start_at"] - moment) < 0.01 and player_data(at)["start_at"] != data["start_at"]  # type: ignore[index]


def test_see_an_example_plays_the_clip_alone_in_a_dialog(app_env: AppEnv, open_page) -> None:  # type: ignore[no-untyped-def]
    recording_id, tutor_id, mark = _validity(app_env)
    at = open_page("rate", recording=recording_id, tutor=tutor_id, rater=mark)
    example = next(b for b in at.button if b.label.startswith("See an example"))
    example.click().run()
    no_exception(at)
    videos = at.get("video")
    assert len(videos) == 1
    clip = next(c for c in app_env.services.store.exemplars() if c.item_id in example.key)  # type: ignore[operator]
    proto = videos[0].proto
    assert f"/recordings/exemplars/{clip.id}?p={mark}&" in proto.url, "the clip alone, not its recording"
    assert proto.start_time == 0 and not proto.end_time
    assert player_data(at)["src"].split("?")[0].endswith(f"/recordings/{recording_id}"), "the session's player stays"  # type: ignore[index]


def test_exemplars_of_a_benchmark_the_rater_is_still_to_rate_blind_are_not_offered(app_env: AppEnv, open_page) -> None:  # type: ignore[no-untyped-def]
    from session_rater.usecases.exemplar_clips import playable_exemplars
    from session_rater.usecases.permitted import Permitted

    svc = app_env.services
    first = svc.store.benchmarks()[0]  # the demo's exemplars are cut from it
    assert {c.benchmark_id for c in svc.store.exemplars()} == {first.id}
    newcomer = app_env.person("Jo Bell")  # a tutor: in a new round on it, not yet rated
    if newcomer in {t.id for t in svc.recording(first.recording_id).tutors}:
        newcomer = app_env.person("Sam Rowe")
    import datetime as dt

    svc.store.create_round("Autumn", dt.date.today() + dt.timedelta(days=7), [first.id], [newcomer],
                           by=app_env.person("Dev Sharma"))  # fmt: skip
    me = Permitted(svc, svc.person(newcomer))
    assert playable_exemplars(me) == []
    mark = app_env.person(VALIDITY_RATER)  # submitted his rating of it in the demo's round
    assert {c.clip.benchmark_id for c in playable_exemplars(Permitted(svc, svc.person(mark)))} == {first.id}
    # a clip of his own hidden validity session would say that it is a benchmark
    (validity,) = [v for v in svc.store.validity_assignments(mark) if v.hidden]
    item = svc.rubrics()[0].items[5].id
    svc.store.add_exemplar(validity.benchmark_id, item, 2, 1.0, 3.0, "Clip of the validity session", by=None)
    assert {c.clip.benchmark_id for c in playable_exemplars(Permitted(svc, svc.person(mark)))} == {first.id}
    assert validity.benchmark_id in {c.clip.benchmark_id for c in playable_exemplars(Permitted(svc, svc.person(
        app_env.person(CERTIFIED))))}, "Helen Price (who may play it) is offered it"


def test_my_work_shows_the_raters_own_calibration_status_and_what_to_do(app_env: AppEnv, open_page) -> None:  # type: ignore[no-untyped-def]
    at = open_page("queue", rater=app_env.person(VALIDITY_RATER))
    no_exception(at)
    said = " ".join(rendered(e.value) for e in [*at.error, *at.warning, *at.success, *at.info])
    assert "Calibration: not certified" in said and "ask your programme manager for another round" in said, said
    at = open_page("queue", rater=app_env.person(CERTIFIED))
    said = " ".join(rendered(e.value) for e in [*at.error, *at.warning, *at.success, *at.info])
    assert "Calibration: certified until" in said, said
    import datetime as dt

    svc = app_env.services
    due = dt.date.today() + dt.timedelta(days=9)
    svc.store.create_round("Winter", due, [svc.store.benchmarks()[1].id], [app_env.person(CERTIFIED)],
                           by=app_env.person("Dev Sharma"))  # fmt: skip
    at = open_page("queue", rater=app_env.person(CERTIFIED))
    said = " ".join(rendered(e.value) for e in at.success)
    assert f"Your calibration round “Winter” is due {due:%d/%m/%Y}: rate its 1 session on the Rate page." in said, said
    at = open_page("queue", rater=app_env.person("Dev Sharma"))  # administrator: not a rater
    said = " ".join(rendered(e.value) for e in [*at.error, *at.warning, *at.success, *at.info, *at.caption])
    assert "Calibration:" not in said


def test_the_status_sentence_for_each_status() -> None:
    import datetime as dt

    from session_rater.domain.calibration import (
        Attempt,
        CertificationRule,
        DriftChart,
        RaterStatus,
    )
    from session_rater.domain.calibration.figures import AgreementWithMaster
    from session_rater.ui.calibration_widgets import status_sentence
    from session_rater.usecases.calibration import RaterCalibration

    today = dt.date(2026, 12, 1)
    rule = CertificationRule()
    attempt = Attempt(1, dt.date(2026, 1, 5), AgreementWithMaster(10, 5, 9, 2), rule)  # type: ignore[arg-type]

    def said(status: RaterStatus) -> tuple[str, str]:
        return status_sentence(RaterCalibration(1, "A", (), status, DriftChart(0.2, 0.5, ())), today)  # type: ignore[arg-type]

    assert said(RaterStatus("not_attempted"))[1].startswith("Calibration: not attempted")
    kind, text = said(RaterStatus("certified", attempt, certified_until=dt.date(2026, 12, 20), expiring_soon=True))
    assert kind == "warning" and "in 19 days" in text and "next calibration round" in text
    kind, text = said(RaterStatus("certified", attempt, certified_until=dt.date(2027, 6, 20)))
    assert kind == "success" and "certified until 20/06/2027" in text
    assert said(RaterStatus("expired", attempt, certified_until=dt.date(2026, 7, 5)))[1].startswith(
        "Calibration: your certification expired on 05/07/2026")
    kind, text = said(RaterStatus("recalibration_due", attempt, certified_until=dt.date(2027, 1, 5),
                                  drift_since=dt.date(2026, 11, 1)))  # fmt: skip
    assert kind == "warning" and "drifted" in text and "since 01/11/2026" in text


def _submit_all(at: AppTest) -> AppTest:
    for n, radio in enumerate(score_radios(at)):
        at.radio(key=radio.key).set_value(1 + n % 2).run()
    next(b for b in at.button if b.label == "Submit rating").click().run()
    no_exception(at)
    return at


def test_after_a_validity_submit_the_next_steps_say_it_was_one_and_that_the_tutor_does_not_see_it(  # type: ignore[no-untyped-def]
    app_env: AppEnv, open_page
) -> None:
    recording_id, tutor_id, mark = _validity(app_env)
    at = open_page("rate", recording=recording_id, tutor=tutor_id, rater=mark)
    assert "validity" not in _page_text(at).lower()
    _submit_all(at)
    said = " ".join(rendered(s.value) for s in at.success)
    tutor = app_env.services.person(tutor_id).display_name
    assert "Rating submitted. Treatment manager monitoring of " + tutor in said
    assert "This was a validity session" in said and f"{tutor} does not see it on the Supervision page" in said
    assert "sees your scores and evidence notes on the Supervision page" not in said
    assert not any(b.label.startswith("Rate ") and b.label.endswith(" next") for b in at.button)
    assert "Your scores beside the master scores" in _page_text(at)


def test_after_a_live_monitoring_submit_the_next_steps_still_point_to_supervision(  # type: ignore[no-untyped-def]
    app_env: AppEnv, open_page
) -> None:
    from session_rater.domain.model import Capacity
    from session_rater.usecases.permitted import Permitted

    svc = app_env.services
    mark = app_env.person(VALIDITY_RATER)
    me = Permitted(svc, svc.person(mark))
    benchmarks = {b.recording_id for b in svc.store.benchmarks()}
    recording, tutor = next((r, t.id) for r in me.recordings() for t in r.tutors
                            if r.id not in benchmarks
                            and Capacity.MONITORING in me.capacities(r, t.id)
                            and not any(x.rater_id == mark for x in svc.store.ratings_of_recording(r.id, submitted_only=False)))  # fmt: skip
    at = _submit_all(open_page("rate", recording=recording.id, tutor=tutor, rater=mark))
    said = " ".join(rendered(s.value) for s in at.success)
    assert "sees your scores and evidence notes on the Supervision page" in said and "validity" not in said
