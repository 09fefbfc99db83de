"""Smoke tests of every page of the real app (``app.py``) with AppTest, on the demo data.

AppTest has no browser: fragments rerun the whole script here, and the video player is only
checked through the URL it is given (shared/design/recordings-notes.md, section 6).
"""

from __future__ import annotations

import json

import shutil
from collections.abc import Callable
from typing import Any
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Radio, TextInput

from session_rater.domain.model import Capacity, RatingStatus
from session_rater.ui.text import plain
from session_rater.usecases.recording_links import verify

from .conftest import REPO, AppEnv, rendered

OpenPage = Callable[..., AppTest]

FIRST_CLIP = "tf01-s03-problem-solving.mp4"  # Sam Rowe and Priya Nair; self, manager and external submitted
SECOND_CLIP = "tf01-s07-consequential-thinking.mp4"  # Sam Rowe and Priya Nair; assigned to Alan Reid, not rated by him
BENCHMARKER = "Dev Sharma"  # programme manager: rates in the benchmark capacity; no demo ratings


def score_radios(at: AppTest) -> list[Radio[Any]]:
    return [r for r in at.radio if r.key and r.key.endswith(":score")]


def moment_input(at: AppTest, item_id: str) -> TextInput:
    return next(t for t in at.text_input if t.key and t.key.endswith(f":{item_id}:moment"))


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def player_data(at: AppTest) -> dict | None:  # type: ignore[type-arg]
    """The data the Rate page hands to its player component (None if there is no player)."""
    players = [e for e in at.get("bidi_component") if e.proto.component_name == "session_rater_player"]
    return json.loads(players[0].proto.json) if players else None


def rate_page_for_benchmarker(app_env: AppEnv, open_page: OpenPage, **extra: object) -> tuple[AppTest, int, int, int]:
    recording_id = app_env.recording(FIRST_CLIP)
    tutor_id = app_env.person("Priya Nair")
    rater_id = app_env.person(BENCHMARKER)
    assert app_env.services.store.find_rating(recording_id, tutor_id, rater_id, Capacity.BENCHMARK) is None
    at = open_page("rate", recording=recording_id, tutor=tutor_id, rater=rater_id, **extra)
    no_exception(at)
    return at, recording_id, tutor_id, rater_id


# -- Sessions ---------------------------------------------------------------------------------


def test_sessions_page_lists_every_demo_session_with_the_demo_banner_and_filters_by_site(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    recordings = app_env.services.store.list_recordings()
    everywhere, barrow = len(recordings), sum(r.site == "Barrow" for r in recordings)
    assert everywhere > barrow > 0
    at = open_page()
    no_exception(at)
    assert [t.value for t in at.title] == ["Recorded sessions"]
    assert any("Demo data" in w.value for w in at.sidebar.warning)
    table = at.dataframe[0].value
    assert len(table) == everywhere
    assert any(f"{everywhere} of {everywhere} sessions" in c.value for c in at.caption)

    site = next(m for m in at.multiselect if m.label == "Site")
    site.set_value(["Barrow"]).run()
    no_exception(at)
    narrowed = at.dataframe[0].value
    assert len(narrowed) == barrow
    assert set(narrowed["site"]) == {"Barrow"}
    assert any(f"{barrow} of {everywhere} sessions" in c.value for c in at.caption)


@pytest.mark.parametrize("button", ["Rate", "Compare"])
def test_sessions_page_row_buttons_open_that_page_for_the_session_and_tutor(
    app_env: AppEnv, open_page: OpenPage, button: str
) -> None:
    at = open_page()
    at.session_state["sessions_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    no_exception(at)
    next(b for b in at.button if b.label == button).click().run()
    no_exception(at)
    assert [t.value for t in at.title] == [{"Rate": "Rate a session", "Compare": "Compare scores"}[button]]
    assert {"recording", "tutor"} <= set(at.query_params)
    assert "rater" not in at.query_params, "who is rating comes from the sign-in, never the URL"


# -- Rate ----------------------------------------------------------------------------------------


def test_rate_page_shows_the_rubric_saves_a_score_at_once_and_plays_the_video_by_signed_url(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    at, recording_id, tutor_id, rater_id = rate_page_for_benchmarker(
        app_env, open_page, context_url="https://rater.example:8443/rate"
    )
    svc = app_env.services
    rubric = svc.rubrics()[0]
    radios = score_radios(at)
    assert len(radios) == len(rubric.items)
    assert all(r.value is None and not r.disabled for r in radios)

    item = rubric.items[0]
    next(r for r in radios if r.key.endswith(f":{item.id}:score")).set_value(2).run()
    no_exception(at)
    rating = svc.store.find_rating(recording_id, tutor_id, rater_id, Capacity.BENCHMARK)
    assert rating is not None and rating.status is RatingStatus.DRAFT
    assert rating.scores[item.id].score == 2

    data = player_data(at)
    assert data is not None and not at.get("video"), "the player component, never st.video"
    url = data["src"]
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "rater.example:8443")
    assert parts.path == f"/recordings/{recording_id}"
    assert "/media/" not in url and str(REPO) not in url and ".mp4" not in url
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["p"] == str(rater_id)
    assert verify(svc.secret, recording_id, query["p"], query["exp"], query["sig"])


def test_rate_page_without_a_browser_url_still_gives_an_absolute_http_video_url(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    at, recording_id, _, _ = rate_page_for_benchmarker(app_env, open_page)
    url = player_data(at)["src"]  # type: ignore[index]
    assert url.startswith("http://") and f"/recordings/{recording_id}?" in url and "sig=" in url


def test_rate_page_scoring_every_item_enables_submit_which_locks_the_rating(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    at, recording_id, tutor_id, rater_id = rate_page_for_benchmarker(app_env, open_page)
    submit = next(b for b in at.button if b.label == "Submit rating")
    assert submit.disabled
    keys = [r.key for r in score_radios(at)]
    for n, key in enumerate(keys):
        at.radio(key=key).set_value("na" if n == len(keys) - 1 else n % 4).run()
        no_exception(at)
    submit = next(b for b in at.button if b.label == "Submit rating")
    assert not submit.disabled

    submit.click().run()
    no_exception(at)
    rating = app_env.services.store.find_rating(recording_id, tutor_id, rater_id, Capacity.BENCHMARK)
    assert rating is not None and rating.is_submitted
    assert not any(b.label == "Submit rating" for b in at.button)
    radios = score_radios(at)
    assert len(radios) == len(keys) and all(r.disabled for r in radios)
    assert any("read-only" in s.value for s in at.success)


def test_rate_page_rejects_a_moment_that_is_not_a_time_and_saves_m_ss_as_seconds(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    at, recording_id, tutor_id, rater_id = rate_page_for_benchmarker(app_env, open_page)
    store = app_env.services.store
    item_id = app_env.services.rubrics()[0].items[0].id

    moment_input(at, item_id).input("abc").run()
    no_exception(at)
    assert any("Not saved" in e.value and "abc" in e.value for e in at.error)
    rating = store.find_rating(recording_id, tutor_id, rater_id, Capacity.BENCHMARK)
    saved = rating.scores.get(item_id) if rating else None
    assert saved is None or (saved.moment_seconds is None and not saved.is_answered and not saved.evidence)

    moment_input(at, item_id).input("0:15").run()  # the clip is 32 s long
    no_exception(at)
    assert not at.error
    rating = store.find_rating(recording_id, tutor_id, rater_id, Capacity.BENCHMARK)
    assert rating is not None and rating.scores[item_id].moment_seconds == 15.0


def test_rate_page_an_invalid_moment_on_a_fresh_form_starts_no_rating(app_env: AppEnv, open_page: OpenPage) -> None:
    at, recording_id, tutor_id, rater_id = rate_page_for_benchmarker(app_env, open_page)
    item_id = app_env.services.rubrics()[0].items[0].id
    moment_input(at, item_id).input("abc").run()
    assert any("Not saved" in e.value for e in at.error)
    assert app_env.services.store.find_rating(recording_id, tutor_id, rater_id, Capacity.BENCHMARK) is None


def test_rate_page_with_the_recording_file_missing_names_the_path_and_still_shows_the_saved_scores(
    app_env: AppEnv, open_page: OpenPage, tmp_path: Path
) -> None:
    recordings = tmp_path / "recordings"
    shutil.copytree(REPO / "sample_sessions", recordings)
    app_env.set("SESSION_RATER_DATA_DIR", tmp_path / "own-data")  # a fresh demo from the copy
    app_env.set("SESSION_RATER_RECORDINGS_DIR", recordings)
    svc = app_env.services
    recording_id = app_env.recording(FIRST_CLIP)
    clip = svc.recording_path(svc.recording(recording_id))
    assert clip == recordings / FIRST_CLIP  # the demo stores absolute paths into the folder
    clip.unlink()

    tutor_id = app_env.person("Sam Rowe")
    external = next(
        r for r in svc.store.ratings_of_recording(recording_id)
        if r.tutor_id == tutor_id and r.capacity is Capacity.EXTERNAL
    )
    at = open_page("rate", recording=recording_id, tutor=tutor_id, rater=external.rater_id)
    no_exception(at)
    assert player_data(at) is None
    assert any(plain(str(clip)) in e.value and "missing" in e.value for e in at.error)  # shown as text
    radios = score_radios(at)
    assert len(radios) == len(svc.rubrics()[0].items)
    for radio in radios:
        item_id = radio.key.split(":")[-2]
        saved = external.scores[item_id]
        assert radio.value == ("na" if saved.not_applicable else saved.score)


def test_rate_page_refuses_a_tutor_rating_their_co_tutor(app_env: AppEnv, open_page: OpenPage) -> None:
    recording_id = app_env.recording(FIRST_CLIP)
    at = open_page(
        "rate", recording=recording_id, tutor=app_env.person("Priya Nair"), rater=app_env.person("Sam Rowe")
    )
    no_exception(at)
    assert any("cannot rate this" in w.value for w in at.warning)
    assert not score_radios(at)
    assert not any(b.label == "Submit rating" for b in at.button)
    assert player_data(at) is None


# -- Compare -------------------------------------------------------------------------------------


def test_compare_page_shows_one_session_by_capacity_and_over_scoring_across_sessions(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    recording_id = app_env.recording(FIRST_CLIP)
    # Ruth Okafor assessed this session: having submitted her own rating she may compare.
    at = open_page("compare", recording=recording_id, tutor=app_env.person("Sam Rowe"), rater=app_env.person("Ruth Okafor"))
    no_exception(at)
    assert [t.label for t in at.tabs] == ["One session and tutor", "Across sessions: over-scoring by item"]
    one, across = at.tabs

    table = one.table[0].value
    labels = {c.label for c in (Capacity.SELF_ASSESSMENT, Capacity.MONITORING, Capacity.EXTERNAL)}
    assert labels <= {rendered(capacity) for capacity, _ in table.columns}
    assert len(table) == len(app_env.services.rubrics()[0].items)
    assert any("programme managers" in i.value for i in across.info), "reports are for overseers"

    at = open_page("compare", recording=recording_id, tutor=app_env.person("Sam Rowe"), rater=app_env.person(BENCHMARKER))
    across = at.tabs[1]
    metrics = {m.label: m.value for m in across.metric}
    self_vs = float(metrics["Tutor self-assessment vs external"].split()[0])
    manager_vs = float(metrics["Treatment manager monitoring vs external"].split()[0])
    assert self_vs > 0, "the demo's tutors over-score their own delivery"
    assert self_vs > manager_vs
    assert len(across.get("vega_lite_chart")) == 1  # the per-item bar chart
    assert any("Mean difference from the external assessors per item" in m.value for m in across.markdown)  # in words


def _second_manager_rating(app_env: AppEnv, recording_id: int, tutor_id: int, *, score: int, note: str) -> str:
    """Helen Price also monitors this tutor: every item ``score``, a note with a moment on the first."""
    svc = app_env.services
    rubric = svc.rubrics()[0]
    rating = svc.store.start_rating(recording_id, tutor_id, app_env.person("Helen Price"), Capacity.MONITORING, rubric)
    for i, item in enumerate(rubric.items):
        svc.store.save_item(rating.id, item.id, score=score, **({"evidence": note, "moment_seconds": 42.0} if i == 0 else {}))
    svc.store.submit_rating(rating.id, confirm_uniform=True)
    return rubric.items[0].title


def test_compare_shows_each_rater_of_a_capacity_in_their_own_column_never_their_mean(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    recording_id, sam = app_env.recording(FIRST_CLIP), app_env.person("Sam Rowe")
    first_item = _second_manager_rating(app_env, recording_id, sam, score=3, note="Kept to the <b>manual's</b> order")
    at = open_page("compare", recording=recording_id, tutor=sam, rater=app_env.person("Ruth Okafor"))
    no_exception(at)
    table = at.tabs[0].table[0].value
    managers = [rendered(rater) for capacity, rater in table.columns if rendered(capacity) == Capacity.MONITORING.label]
    assert len(managers) == 2 and "Helen Price" in managers, list(table.columns)
    helen = table[(plain(Capacity.MONITORING.label), plain("Helen Price"))]
    assert list(helen) == [3.0] * len(table), "Helen's own scores, not a mean with the other manager's"
    shown = "\n".join(rendered(m.value) for m in at.tabs[0].markdown)
    assert "Kept to the" not in shown, "an assessor does not see the managers' evidence notes"
    assert any("not shown to you" in c.value for c in at.tabs[0].caption)

    at = open_page("compare", recording=recording_id, tutor=sam, rater=sam)  # the tutor, self-assessment submitted
    no_exception(at)
    shown = "\n".join(rendered(m.value) for m in at.tabs[0].markdown)
    assert f"**{first_item}**" in shown
    assert "- Treatment manager monitoring, Helen Price (scored 3, at 0:42): Kept to the <b>manual's</b> order" in shown


def test_ratings_stay_blind_until_the_viewer_has_submitted_their_own(app_env: AppEnv, open_page: OpenPage) -> None:
    # Alan Reid is assigned the second clip and has not rated it.
    recording_id, tutor_id = app_env.recording(SECOND_CLIP), app_env.person("Sam Rowe")
    at = open_page("compare", recording=recording_id, tutor=tutor_id, rater=app_env.person("Alan Reid"))
    no_exception(at)
    one = at.tabs[0]
    assert not one.table and any("submit your own rating first" in i.value.lower() for i in one.info)


def test_an_overseer_who_looks_is_recorded_as_not_blind_and_a_later_rating_is_marked_so(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    recording_id, tutor_id, overseer = app_env.recording(FIRST_CLIP), app_env.person("Sam Rowe"), app_env.person(BENCHMARKER)
    at = open_page("compare", recording=recording_id, tutor=tutor_id, rater=overseer)
    one = at.tabs[0]
    assert not one.table and any("not blind" in w.value for w in one.warning)
    next(b for b in one.button if b.label.startswith("Show the ratings")).click().run()
    no_exception(at)
    assert at.tabs[0].table, "the ratings are shown once the overseer accepts"
    store = app_env.services.store
    assert store.is_unblinded(overseer, recording_id, tutor_id)
    rubric = app_env.services.rubrics()[0]
    rating = store.start_rating(recording_id, tutor_id, overseer, Capacity.BENCHMARK, rubric)
    assert not rating.is_blind


# -- Broken rubric -------------------------------------------------------------------------------


def test_a_malformed_rubric_file_is_named_in_the_sidebar_and_the_app_still_works(
    app_env: AppEnv, open_page: OpenPage, tmp_path: Path
) -> None:
    rubrics = tmp_path / "rubrics"
    shutil.copytree(REPO / "rubrics", rubrics)
    (rubrics / "broken-checklist.yaml").write_text("id: broken\nsections: [unclosed\n", encoding="utf-8")
    app_env.set("SESSION_RATER_RUBRICS_DIR", rubrics)

    at = open_page()
    no_exception(at)
    assert [t.value for t in at.title] == ["Recorded sessions"]
    assert len(at.dataframe[0].value) == len(app_env.services.store.list_recordings())
    assert any("broken-checklist.yaml" in rendered(e.label) for e in at.sidebar.expander)


def test_on_a_new_install_the_administrator_is_told_where_to_add_recordings(
    app_env: AppEnv, open_page: OpenPage, tmp_path: Path
) -> None:
    app_env.set("SESSION_RATER_DATA_DIR", tmp_path / "new-install")
    app_env.set("SESSION_RATER_DEMO", "0")
    at = open_page()  # signs in as the administrator the first-run step creates
    no_exception(at)
    [info] = at.main.info
    assert "No recorded sessions yet" in info.value and "Recordings" in info.value


def test_a_score_click_on_a_read_only_database_says_what_was_not_saved_and_shows_no_traceback(
    app_env: AppEnv, open_page: OpenPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: before the fix a click showed a SQLAlchemy traceback with paths and SQL, and the
    save was lost without a clear message."""
    from session_rater.db.engine import make_engine
    from session_rater.db.store import Store

    at, recording_id, tutor_id, rater_id = rate_page_for_benchmarker(app_env, open_page)
    svc = app_env.services
    items = svc.rubrics()[0].items
    next(r for r in score_radios(at) if r.key.endswith(f":{items[0].id}:score")).set_value(2).run()
    no_exception(at)
    path = svc.settings.database_url.removeprefix("sqlite:///")
    monkeypatch.setattr(svc, "store", Store(make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")))
    next(r for r in score_radios(at) if r.key.endswith(f":{items[1].id}:score")).set_value(3).run()
    no_exception(at)
    shown = " ".join(rendered(e.value) for e in at.error)
    assert "read-only" in shown and "not saved" in shown and "What you saved before is kept" in shown
    assert "Traceback" not in shown and "sqlalchemy" not in shown.lower() and "INSERT" not in shown
    monkeypatch.undo()
    rating = app_env.services.store.find_rating(recording_id, tutor_id, rater_id, Capacity.BENCHMARK)
    assert rating is not None and rating.scores[items[0].id].score == 2 and items[1].id not in rating.scores


@pytest.mark.parametrize("page", ["rate", "compare"])
def test_a_session_id_too_large_to_exist_is_a_message_not_an_overflow_traceback(
    app_env: AppEnv, open_page: OpenPage, page: str
) -> None:
    at = open_page(page, recording=2**63)
    no_exception(at)
    assert any("names no session that exists" in e.value for e in at.error)


HOSTILE_NAME = "**Eve** ![x](http://evil.example/x.png) [link](https://evil.example) :red[red] $x$"


def test_names_and_titles_are_shown_as_typed_never_read_as_markdown(app_env: AppEnv, open_page: OpenPage) -> None:
    """Issue 15: a name was read as Markdown (``**Eve**`` bold, an image every viewer's browser
    fetched, a link). Every markdown element on the pages that show a tutor's name has it escaped."""
    svc = app_env.services
    admin = svc.store.list_people()[0]
    at, recording_id, tutor_id, _ = rate_page_for_benchmarker(app_env, open_page)
    svc.accounts_store.update_person(tutor_id, actor_id=admin.id, display_name=HOSTILE_NAME)
    for page in ("rate", "compare"):
        at = open_page(page, recording=recording_id, tutor=tutor_id)
        no_exception(at)
        texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
        texts += [o for r in at.radio for o in r.options]
        if page == "rate":  # the tutor's name is in the session caption and the tutor choice
            assert any("\\*\\*Eve\\*\\*" in text for text in texts), "the name is shown, escaped"
        for text in texts:
            assert "**Eve**" not in text and "](http" not in text and ":red[" not in text, (page, text)


# -- Sessions at scale and a tutor's entry point (issues 17 and 13) --------------------------------


def _more_sessions(app_env: AppEnv, n: int) -> None:
    """``n`` more recorded sessions (copies of the first demo session's, at Workington)."""
    import datetime as dt

    from session_rater.domain.records import RecordingSpec

    store = app_env.services.store
    model = store.get_recording(app_env.recording(FIRST_CLIP))
    for k in range(n):
        spec = RecordingSpec(model.file_path, model.programme, f"Workington TF-{k:02d}", 3, model.session_title,
                             dt.date(2024, 1, 1) + dt.timedelta(days=k), "Workington", area=model.area,
                             team="Workington")  # fmt: skip
        store.add_recording(spec, [t.id for t in model.tutors])


def _captions(at: AppTest) -> str:
    return " ".join(rendered(c.value) for c in at.caption)


def test_sessions_page_shows_one_page_of_rows_and_pages_through_the_rest_filtered_in_the_database(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    """Issue 17: the page sent every session (20,006 nationally, 113 MiB with thumbnails) at once."""
    _more_sessions(app_env, 60)
    everywhere = len(app_env.services.store.list_recordings())
    assert everywhere > 100
    at = open_page()
    no_exception(at)
    assert len(at.dataframe[0].value) == 50, "one page of rows, not every session"
    assert f"{everywhere} of {everywhere} sessions, showing 1-50" in _captions(at)
    first_page = set(at.dataframe[0].value.index)
    next(b for b in at.button if b.label == "Next page").click().run()
    no_exception(at)
    assert len(at.dataframe[0].value) == 50 and not first_page & set(at.dataframe[0].value.index)
    assert "showing 51-100" in _captions(at)
    at.number_input(key="sessions_page_no").set_value(3).run()
    no_exception(at)
    assert len(at.dataframe[0].value) == everywhere - 100
    # A filter counts and selects in the database, and goes back to the first page.
    next(m for m in at.multiselect if m.label == "Site").set_value(["Workington"]).run()
    no_exception(at)
    assert len(at.dataframe[0].value) == 50 and set(at.dataframe[0].value["site"]) == {"Workington"}
    assert f"60 of {everywhere} sessions, showing 1-50" in _captions(at)


def test_sessions_page_tells_a_tutor_the_state_of_their_own_self_assessment_per_session(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    """Issue 13: a tutor could not see which sessions still wanted their self-assessment."""
    _more_sessions(app_env, 2)  # delivered by Sam Rowe and Priya Nair, not rated yet
    store, sam = app_env.services.store, app_env.person("Sam Rowe")
    mine = store.list_recordings()
    mine = [r for r in mine if sam in {t.id for t in r.tutors}]
    rubric = app_env.services.rubrics()[0]
    states = {}
    for r in mine:
        rating = store.find_rating(r.id, sam, sam, Capacity.SELF_ASSESSMENT)
        states[r.id] = "not started" if rating is None else rating.status.value
    untouched = next(r.id for r in mine if states[r.id] == "not started")
    store.start_rating(untouched, sam, sam, Capacity.SELF_ASSESSMENT, rubric)
    states[untouched] = "draft"
    assert {"submitted", "draft", "not started"} <= set(states.values())
    at = open_page(rater=sam)
    no_exception(at)
    table = at.dataframe[0].value
    yours = dict(table["yours"])
    assert {i: v for i, v in yours.items() if i in states} == states
    # Other sessions he may see (his calibration round's benchmark, issue 10) are not his delivery.
    assert all(v == "" for i, v in yours.items() if i not in states)
    assert set(table.index) >= {r.id for r in mine}


def test_sessions_page_without_the_tutor_role_has_no_self_assessment_column(app_env: AppEnv, open_page: OpenPage) -> None:
    at = open_page(rater=app_env.person("Helen Price"))
    no_exception(at)
    assert "yours" not in at.dataframe[0].proto.column_order


def test_sessions_page_opens_a_session_by_keyboard_and_offers_a_tutor_rate_only_for_their_own_delivery(
    app_env: AppEnv, open_page: OpenPage
) -> None:
    """Issue 13: Rate was offered beside a co-tutor's name and then refused; and a keyboard user
    could not open a session from the table (the choice below it takes Enter)."""
    recording_id = app_env.recording(FIRST_CLIP)
    at = open_page(rater=app_env.person("Sam Rowe"))
    no_exception(at)
    at.selectbox(key="sessions_open").set_value(recording_id).run()
    no_exception(at)
    rate = [b for b in at.button if b.label == "Rate"]
    assert [b.key for b in rate] == [f"rate-{recording_id}-{app_env.person('Sam Rowe')}"]
    assert "Not yours to rate: a tutor self-assesses their own delivery only" in _captions(at)
    assert "Compare: a co-tutor's ratings are theirs to compare, not yours" in _captions(at)
    assert [m.value for m in at.markdown if "(you)" in m.value] == ["**Sam Rowe** (you)"]
    rate[0].click().run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Rate a session"]
    assert at.query_params["tutor"] == str(app_env.person("Sam Rowe"))


TABLE_WIDTH_AT_1440 = 980  # px: the Sessions table beside the sidebar in Chromium at 1440 px wide
ROW_MARKER = 40  # px: the selection checkbox column


@pytest.mark.parametrize("who", ["Jo Bell", "Helen Price"])
def test_sessions_table_columns_all_fit_at_1440_px_so_drafts_is_on_screen(
    app_env: AppEnv, open_page: OpenPage, who: str
) -> None:
    """Issue 13: the Drafts column was off-screen at 1440 px (a tutor's widest table has their
    self-assessment column too). Every column shown has a width, and together they fit."""
    at = open_page(rater=app_env.person(who))
    no_exception(at)
    proto = at.dataframe[0].proto
    shown = list(proto.column_order)
    assert "drafts" in shown and ("yours" in shown) == (who == "Jo Bell")
    config = json.loads(proto.columns)
    widths = {name: config.get(name, {}).get("width") for name in shown}
    assert all(isinstance(w, int) for w in widths.values()), widths
    assert sum(widths.values()) + ROW_MARKER <= TABLE_WIDTH_AT_1440, widths
