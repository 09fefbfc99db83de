"""The record of a rating in the Rate page: stale edits from another tab are caught and shown,
uniform forms need a confirmation, and a submitted rating is changed only by a correction."""

from __future__ import annotations

from session_rater.domain.model import Capacity
from tests.ui.conftest import AppEnv, rendered
from tests.ui.test_pages import (
    BENCHMARKER,
    FIRST_CLIP,
    moment_input,
    no_exception,
    score_radios,
)


def _open(app_env: AppEnv, open_page):  # type: ignore[no-untyped-def]
    ids = app_env.recording(FIRST_CLIP), app_env.person("Priya Nair"), app_env.person(BENCHMARKER)
    at = open_page("rate", recording=ids[0], tutor=ids[1], rater=ids[2])
    no_exception(at)
    return at, ids


def test_a_stale_edit_from_another_tab_is_refused_and_the_saved_value_is_shown(app_env: AppEnv, open_page) -> None:  # type: ignore[no-untyped-def]
    tab_a, ids = _open(app_env, open_page)
    tab_b, _ = _open(app_env, open_page)
    key = score_radios(tab_a)[0].key
    tab_a.radio(key=key).set_value(1).run()
    no_exception(tab_a)
    tab_b.radio(key=key).set_value(3).run()  # tab B still shows the item as it was before A's save
    no_exception(tab_b)
    assert any("another tab" in e.value for e in tab_b.error)
    assert tab_b.radio(key=key).value == 1, "tab B now shows what is saved"
    rating = app_env.services.store.find_rating(*ids, Capacity.BENCHMARK)
    assert rating is not None and rating.scores[key.split(":")[-2]].score == 1


def test_uniform_scores_need_a_confirmation_before_submit(app_env: AppEnv, open_page) -> None:  # type: ignore[no-untyped-def]
    at, ids = _open(app_env, open_page)
    for radio in score_radios(at):
        at.radio(key=radio.key).set_value(3).run()
    submit = next(b for b in at.button if b.label == "Submit rating")
    assert submit.disabled and any("same score" in w.value for w in at.warning)
    next(c for c in at.checkbox if "own evidence" in c.label).check().run()
    next(b for b in at.button if b.label == "Submit rating").click().run()
    no_exception(at)
    rating = app_env.services.store.find_rating(*ids, Capacity.BENCHMARK)
    assert rating is not None and rating.is_submitted and rating.confirmed_uniform


def test_a_submitted_rating_is_changed_only_by_a_correction_with_a_reason(app_env: AppEnv, open_page) -> None:  # type: ignore[no-untyped-def]
    at, ids = _open(app_env, open_page)
    for n, radio in enumerate(score_radios(at)):
        at.radio(key=radio.key).set_value(n % 4).run()
    next(b for b in at.button if b.label == "Submit rating").click().run()
    start = next(b for b in at.button if b.label == "Start a correction")
    start.click().run()  # no reason given
    assert any("needs a reason" in e.value for e in at.error)
    at.text_area(key=next(t.key for t in at.text_area if t.label == "Reason for the correction")).input(
        "Scored item 1 against the wrong tutor"
    ).run()
    next(b for b in at.button if b.label == "Start a correction").click().run()
    no_exception(at)
    assert not any(r.disabled for r in score_radios(at)), "the correction is editable"
    assert any("Version 2" in i.value for i in at.info)
    store = app_env.services.store
    current = store.find_rating(*ids, Capacity.BENCHMARK)
    assert current is not None and current.version == 2 and current.correction_reason
    assert [r.version for r in store.rating_history(current.id)] == [1, 2]


def test_a_moment_after_the_end_of_the_recording_is_refused_with_its_length_and_nothing_saved_is_lost(  # type: ignore[no-untyped-def]
    app_env: AppEnv, open_page
) -> None:
    at, ids = _open(app_env, open_page)
    recording = app_env.services.store.get_recording(ids[0])
    assert recording.duration_seconds and recording.duration_seconds < 60, "the demo clip is under a minute"
    length = f"0:{int(-(-recording.duration_seconds // 1)):02d}"
    key = score_radios(at)[0].key
    item_id = key.split(":")[-2]
    at.radio(key=key).set_value(2).run()
    moment_input(at, item_id).input("0:10").run()
    no_exception(at)
    assert not at.error

    moment_input(at, item_id).input("5:00").run()
    no_exception(at)
    errors = [rendered(e.value) for e in at.error]
    assert any("Not saved" in e and "5:00" in e and f"{length} long" in e for e in errors), errors
    saved = app_env.services.store.find_rating(*ids, Capacity.BENCHMARK).scores[item_id]  # type: ignore[union-attr]
    assert (saved.score, saved.moment_seconds) == (2, 10.0), "what was saved before is kept"
    # The last (partial) second of the recording is still in it.
    moment_input(at, item_id).input(length).run()
    assert not at.error


def test_after_submitting_the_page_says_what_happens_next_and_offers_the_co_tutor_still_to_rate(  # type: ignore[no-untyped-def]
    app_env: AppEnv, open_page
) -> None:
    at, _ = _open(app_env, open_page)  # Priya Nair; her co-tutor Sam Rowe is not rated by this rater either
    for n, radio in enumerate(score_radios(at)):
        at.radio(key=radio.key).set_value(n % 4).run()
    next(b for b in at.button if b.label == "Submit rating").click().run()
    no_exception(at)
    said = " ".join(rendered(s.value) for s in [*at.success, *at.info])
    assert "Rating submitted" in said and "locked" in said, said
    assert "master score" in said, "what the rating is used for next"
    assert "Sam Rowe, the co-tutor on this session, still needs your rating" in said, said
    rate_next = next(b for b in at.button if b.label == "Rate Sam Rowe next")
    rate_next.click().run()
    no_exception(at)
    sam = app_env.person("Sam Rowe")
    assert at.query_params["tutor"] in (str(sam), [str(sam)])
    assert next(r for r in at.radio if r.label == "Tutor rated").value == sam
    assert any(b.label == "Submit rating" for b in at.button), "Sam Rowe's form is open and editable"
    assert not any(r.disabled for r in score_radios(at))


def test_the_message_after_submitting_names_where_the_tutor_sees_a_monitoring_rating(app_env: AppEnv, open_page) -> None:  # type: ignore[no-untyped-def]
    from session_rater.ui.pages.rate import NEXT_STEPS

    assert "Supervision page" in NEXT_STEPS[Capacity.MONITORING]
    assert all(NEXT_STEPS.get(c) for c in Capacity), "every capacity is told what happens next"
