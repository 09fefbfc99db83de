"""The Benchmark pages of issue 10 with AppTest on the demo: Benchmarks (the benchmark sessions,
the panel lead's adjudication, master scores and their versions, exemplar clips, designating)
and Calibration (the rule, every rater's status, the drift chart, the rounds). Both are for
programme managers and administrators (Benchmarks also for a panel's members) and refused to
anyone else, saying why."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from session_rater.ui.pages.benchmarks import clock, parse_moments

from .conftest import AppEnv, rendered

OpenPage = Callable[..., AppTest]


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def shown(at: AppTest) -> str:
    return rendered("\n".join(e.value for kind in ("markdown", "caption", "info", "warning", "success", "error")
                              for e in at.get(kind)))  # fmt: skip


def titles(at: AppTest) -> list[str]:
    return [e.value for e in at.get("title")] + [e.value for e in at.get("subheader")]


def frames(at: AppTest) -> list:  # type: ignore[type-arg]
    return [d.value for d in at.dataframe]


def test_moments_are_read_as_minutes_and_seconds() -> None:
    assert parse_moments("4:05, 1:02:03") == (245.0, 3723.0)
    assert parse_moments("  ") == ()
    assert clock(245) == "4:05" and clock(3723) == "1:02:03"
    for bad in ("4:5", "4:60", "abc", "4.05", "-1:00"):
        with pytest.raises(ValueError, match="is not a moment"):
            parse_moments(bad)


def test_the_panel_lead_sees_the_benchmarks_and_where_the_panel_differed(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page("benchmarks", rater=app_env.person("Dev Sharma"))
    no_exception(at)
    assert "Benchmarks" in titles(at) and "Adjudication and master scores" in titles(at)
    table = frames(at)[0]
    assert len(table) == 2 and set(table["state"]) == {"Master scored"}
    assert "Dev Sharma (lead)" in table["panel"].iloc[0] and "Ruth Okafor" in table["panel"].iloc[0]
    text = shown(at)
    assert "The panel differs on 3 of" in text  # the demo's three disputed items
    assert "Dev Sharma: " in text and "Ruth Okafor: " in text  # each member's score of each
    assert "Master scores, version 1" in text
    assert "Designate a benchmark" in titles(at) and "Exemplar clips" in titles(at)


def test_the_calibration_page_shows_each_raters_status(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page("calibration", rater=app_env.person("Dev Sharma"))
    no_exception(at)
    text = shown(at)
    assert "within one point of the master scores on at least 80% of items" in text  # the rule in words
    statuses = frames(at)[0].set_index("rater")
    assert statuses.loc["Helen Price", "status"].startswith("Certified until")
    assert statuses.loc["Mark Dixon", "status"] == "Not certified"
    assert statuses.loc["Mark Dixon", "mean difference"].startswith("+0.")
    assert "Spring calibration" in text
    assert "Chart in words:" in text and "Method:" in text


@pytest.mark.parametrize("page", ["benchmarks", "calibration"])
@pytest.mark.parametrize("who", ["Sam Rowe", "Mark Dixon"])  # a tutor; a treatment manager with a hidden validity session
def test_the_benchmark_pages_are_refused_to_a_tutor(app_env: AppEnv, open_page: OpenPage, page: str, who: str) -> None:
    at = open_page(page, rater=app_env.person(who))
    no_exception(at)
    assert not at.dataframe and "Benchmarks" not in [p for p in at.get("subheader")]
    assert "programme managers" in shown(at) and "administrators" in shown(at)


def test_a_malformed_master_score_change_says_why_and_saves_nothing(app_env: AppEnv, open_page: OpenPage) -> None:
    store = app_env.services.store
    bench = store.benchmarks()[0]
    at = open_page("benchmarks", rater=app_env.person("Dev Sharma"), benchmark=bench.id)
    no_exception(at)
    moments = next(t for t in at.text_input if t.label.startswith("Evidence moments"))
    moments.set_value("4:7x")
    reason = next(t for t in at.text_input if t.label.startswith("Why the master scores change"))
    reason.set_value("A second look at the recap")
    next(b for b in at.button if b.label.startswith("Save the changed master scores")).click().run()
    no_exception(at)
    errors = rendered("\n".join(e.value for e in at.error))
    assert "Nothing was saved." in errors and "'4:7x' is not a moment" in errors
    assert len(store.master_score_history(bench.id)) == 1
    # a rationale taken away where the panel differed: the use case's check, shown as it is
    next(t for t in at.text_input if t.label.startswith("Evidence moments")).set_value("")
    for t in [t for t in at.text_input if t.label.startswith("Rationale")]:
        t.set_value("")
    next(b for b in at.button if b.label.startswith("Save the changed master scores")).click().run()
    errors = rendered("\n".join(e.value for e in at.error))
    assert "Nothing was saved." in errors and "the panel disagreed here" in errors
    assert len(store.master_score_history(bench.id)) == 1


def test_an_administrator_clears_a_recording_for_training_use_saying_who_and_when(
        app_env: AppEnv, open_page: OpenPage) -> None:  # fmt: skip
    store = app_env.services.store
    session = app_env.recording("tf02-s03-problem-solving.mp4")
    assert session not in store.training_clearances()
    at = open_page("recordings", rater=app_env.person("Dev Sharma"))
    no_exception(at)
    assert "Training use" in titles(at)
    assert "shows a group of offenders" in shown(at)
    cleared = next(d.value for d in at.dataframe if "cleared by" in d.value.columns)
    assert set(cleared["cleared by"]) == {"Dev Sharma"}  # the demo's two benchmark sessions
    box = next(s for s in at.selectbox if s.label == "Recording to clear for training use")
    box.set_value(session)
    next(b for b in at.button if b.label == "Clear for training use").click().run()
    assert "Confirm that the recording may be used for training" in rendered("\n".join(e.value for e in at.error))
    assert session not in store.training_clearances()  # not without the confirmation
    next(s for s in at.selectbox if s.label == "Recording to clear for training use").set_value(session)
    next(c for c in at.checkbox if "recorded group of offenders" in c.label).check()
    next(b for b in at.button if b.label == "Clear for training use").click().run()
    no_exception(at)
    assert "for training use on" in shown(at)
    assert store.training_clearances()[session].cleared_by == app_env.person("Dev Sharma")


def test_a_panel_member_who_is_not_a_manager_sees_their_benchmarks_only(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page("benchmarks", rater=app_env.person("Ruth Okafor"))
    no_exception(at)
    assert len(frames(at)[0]) == 2 and "Designate a benchmark" not in titles(at)
    assert "The panel differs on 3 of" in shown(at)  # her own rating is in: she may see the panel's
    assert not any(b.label.startswith("Save the changed master scores") for b in at.button)  # not the lead


def test_people_and_over_scoring_show_each_raters_calibration(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page("people", rater=app_env.person("Dev Sharma"))
    no_exception(at)
    people = frames(at)[0].set_index("name")
    assert people.loc["Helen Price", "calibration"].startswith("Certified until")
    assert people.loc["Mark Dixon", "calibration"] == "Not certified"
    assert people.loc["Jo Bell", "calibration"] == "Not attempted"
    assert people.loc["Dev Sharma", "calibration"] == ""  # not a rater
    at = open_page("overscoring", rater=app_env.person("Dev Sharma"))
    no_exception(at)
    ranked = next(f for f in frames(at) if "calibration" in f.columns)
    assert "Not certified" in set(ranked[ranked["rater"] == "Mark Dixon"]["calibration"])


def test_coverage_by_treatment_manager_shows_their_calibration(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page("coverage", rater=app_env.person("Dev Sharma"))
    no_exception(at)
    assert not any("Calibration" in f.columns for f in frames(at))  # by area: no raters to show
    at.session_state["coverage:by"] = "treatment_manager"
    at.run()
    no_exception(at)
    table = next(f for f in frames(at) if "Calibration" in f.columns).set_index("Rater")
    assert table.loc["Helen Price", "Calibration"].startswith("Certified until")
    assert table.loc["Mark Dixon", "Calibration"] == "Not certified"


def test_a_benchmark_is_designated_rated_by_its_panel_and_its_master_scores_agreed_and_locked(
        app_env: AppEnv, open_page: OpenPage) -> None:  # fmt: skip
    from session_rater.db.store import ItemEntry, RatingSpec
    from session_rater.domain.model import Capacity
    from session_rater.usecases.services import DEFAULT_RUBRIC_ID

    svc = app_env.services
    store = svc.store
    dev, ruth, tom = app_env.person("Dev Sharma"), app_env.person("Ruth Okafor"), app_env.person("Tom Hughes")
    session = app_env.recording("tf02-s03-problem-solving.mp4")
    store.clear_for_training(session, by=dev, note="consent on file")
    at = open_page("benchmarks", rater=dev)
    next(s for s in at.selectbox if s.label == "Session (cleared for training use)").set_value(session).run()
    no_exception(at)
    assert "Cleared for training use by Dev Sharma on" in shown(at)
    next(s for s in at.selectbox if s.label.startswith("Tutor whose delivery")).set_value(tom)
    next(t for t in at.text_input if t.label.startswith("Why this session is a benchmark")).set_value("Typical")
    next(m for m in at.multiselect if m.label.startswith("Panel")).set_value([dev, ruth])
    next(s for s in at.selectbox if s.label.startswith("Panel lead")).set_value(dev)
    next(b for b in at.button if b.label == "Designate the benchmark").click().run()
    no_exception(at)
    bench = next(b for b in store.benchmarks() if b.recording_id == session)
    assert bench.panel_lead == dev and set(bench.panel) == {dev, ruth} and bench.tutor_id == tom
    assert "Panel rating (blind)" in set(frames(at)[0]["state"])

    rubric = svc.catalog.latest(DEFAULT_RUBRIC_ID)
    items = [i.id for i in rubric.items]
    lead_scores = {i: 1 if k % 3 else 2 for k, i in enumerate(items)}
    store.add_ratings([RatingSpec(session, tom, dev, Capacity.BENCHMARK, {i: ItemEntry(s) for i, s in lead_scores.items()}),
                       RatingSpec(session, tom, ruth, Capacity.BENCHMARK,
                                  {i: ItemEntry(3 if i == items[0] else s) for i, s in lead_scores.items()})],
                      rubric)  # fmt: skip
    at = open_page("benchmarks", rater=dev, benchmark=bench.id)
    no_exception(at)
    assert f"The panel differs on 1 of {len(items)} items." in shown(at)
    titles = {rubric.item(i).title: i for i in items}
    filled = {titles[b.label.removeprefix("Master score: ")]: b.value for b in at.selectbox
              if b.label.startswith("Master score: ")}  # fmt: skip
    assert filled == {i: (None if i == items[0] else lead_scores[i]) for i in items}, "where the panel agreed: their score"
    for box in at.selectbox:
        if box.label.startswith("Master score: "):
            box.set_value(2)
    lock = next(b for b in at.button if b.label == "Agree and lock the master scores")
    lock.click().run()
    errors = rendered("\n".join(e.value for e in at.error))
    assert "Nothing was saved." in errors and "the panel disagreed here" in errors
    assert store.master_scores(bench.id) is None
    title = rubric.item(items[0]).title
    next(t for t in at.text_input if t.label == f"Rationale: {title}").set_value("Adequate, not more.")
    next(t for t in at.text_input if t.label == f"Evidence moments: {title}").set_value("0:04, 0:09")
    next(b for b in at.button if b.label == "Agree and lock the master scores").click().run()
    no_exception(at)
    assert "Master scores version 1 of benchmark" in shown(at)
    master = store.master_scores(bench.id)
    assert master is not None and master.version == 1 and set(master.by_item().values()) == {2}
    assert next(m for m in master.scores if m.item_id == items[0]).moments == (4.0, 9.0)


def test_an_administrator_outside_the_panel_is_asked_before_seeing_master_scores(
        app_env: AppEnv, open_page: OpenPage) -> None:  # fmt: skip
    from session_rater.domain.model import Role
    from session_rater.usecases.demo import DEMO_PASSWORD

    svc = app_env.services
    admin = svc.accounts.add_person("Pat Admin", "pat.admin@example.org", [Role.ADMINISTRATOR], DEMO_PASSWORD,
                                    actor_id=None).id  # fmt: skip
    bench = svc.store.benchmarks()[0]
    at = open_page("benchmarks", rater=admin, benchmark=bench.id)
    no_exception(at)
    assert "recorded as not blind" in shown(at)
    assert "Master scores, version" not in shown(at) and "The panel differs" not in shown(at)
    assert not at.dataframe[1:], "nothing but the list: an exemplar clip's score level is a master score too"
    assert not svc.store.is_unblinded(admin, bench.recording_id, bench.tutor_id)
    next(b for b in at.button if b.label.startswith("Look, and be recorded as not blind")).click().run()
    no_exception(at)
    assert "The panel differs on 3 of" in shown(at) and "Master scores, version 1" in shown(at)
    assert any("Score level" in d.value.columns for d in at.dataframe)  # the exemplar clips, now
    assert svc.store.is_unblinded(admin, bench.recording_id, bench.tutor_id)
