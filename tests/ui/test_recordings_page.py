"""The Recordings page: ingest from the recordings folder, conversions, missing files, access log."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.ui.conftest import AppEnv, rendered

REPO = Path(__file__).resolve().parents[2]


def _no_exception(at) -> None:  # type: ignore[no-untyped-def]
    assert not at.exception, [e.message for e in at.exception]


def test_the_recordings_page_ingests_the_folder_and_reports_each_file(app_env: AppEnv, open_page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "incoming"
    folder.mkdir()
    shutil.copy(REPO / "sample_sessions" / "tf01-s03-problem-solving.mp4", folder / "moved-copy.mp4")
    (folder / "notes.mp4").write_text("this is not a video")
    app_env.set("SESSION_RATER_RECORDINGS_DIR", folder)
    at = open_page("recordings")
    _no_exception(at)
    assert [t.value for t in at.title] == ["Recordings"]
    before = len(app_env.services.store.list_recordings())
    button = next(b for b in at.button if b.label == "Ingest the recordings folder")
    button.click().run()
    _no_exception(at)
    text = " ".join(rendered(str(getattr(e, "value", ""))) for e in at.main)
    # The copy of a demo clip is recognised by its fingerprint (not added twice) ...
    assert "moved-copy.mp4" in text
    # ... and the fake video is reported on its own line, with what is wrong.
    errors = " ".join(rendered(e.value) for e in at.error)
    assert "notes.mp4" in errors
    assert len(app_env.services.store.list_recordings()) == before, "nothing added"


def test_a_recording_whose_file_disappeared_is_listed_with_where_it_was_expected(
    app_env: AppEnv, open_page, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    clips = tmp_path / "clips"
    shutil.copytree(REPO / "sample_sessions", clips)
    svc = app_env.services
    recording = svc.store.list_recordings()[0]
    moved = clips / Path(recording.file_path).name
    svc.media.set_served_file(recording.id, moved)
    moved.unlink()
    at = open_page("recordings")
    _no_exception(at)
    assert any("missing on disk" in w.value for w in at.warning)
    table = next(df.value for df in at.dataframe if "expected at" in df.value.columns)
    assert str(moved) in set(table["expected at"])


def test_demo_sessions_list_without_thumbnails_and_show_a_timeline_under_the_player(app_env: AppEnv, open_page) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.test_pages import player_data

    at = open_page()
    _no_exception(at)
    table = at.dataframe[0].value
    assert "thumbnail" not in table.columns  # issue 17: rows carry no images (20,000 of them were 113 MiB)
    recording = app_env.recording("tf01-s03-problem-solving.mp4")
    at = open_page("rate", recording=recording, tutor=app_env.person("Priya Nair"), rater=app_env.person("Dev Sharma"))
    _no_exception(at)
    strip = player_data(at)["thumbnails"]  # type: ignore[index]
    assert len(strip) >= 10 and all(t["src"].startswith("data:image/jpeg;base64,") for t in strip)
    assert [t["t"] for t in strip] == sorted(t["t"] for t in strip)


def test_an_administrator_moves_a_session_to_another_team_and_its_managers_change(app_env: AppEnv, open_page) -> None:  # type: ignore[no-untyped-def]
    svc = app_env.services
    recording = svc.recording(app_env.recording("tf01-s03-problem-solving.mp4"))  # a Carlisle team session
    carlisle, barrow = svc.person(app_env.person("Mark Dixon")), svc.person(app_env.person("Helen Price"))
    from session_rater.usecases.permitted import Permitted

    assert recording.id in {r.id for r in Permitted(svc, carlisle).recordings()}
    assert recording.id not in {r.id for r in Permitted(svc, barrow).recordings()}
    at = open_page("recordings")
    _no_exception(at)
    row = next(i for i, r in enumerate(svc.store.list_recordings()) if r.id == recording.id)
    at.session_state["places"] = {"edited_rows": {row: {"team": "Barrow team"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.label.startswith("Save 1 change")).click().run()
    _no_exception(at)
    assert any("Saved where 1 session(s) belong" in s.value for s in at.success)
    assert recording.id in {r.id for r in Permitted(svc, barrow).recordings()}
    assert recording.id not in {r.id for r in Permitted(svc, carlisle).recordings()}
    [entry] = [e for e in svc.accounts_store.audit_log() if e.entity == "recording" and e.action == "place"]
    assert entry.before == {"area": "Cumbria", "team": "Carlisle team"} and entry.after["team"] == "Barrow team"


def test_a_tutor_cannot_open_the_recordings_page(app_env: AppEnv, open_page) -> None:  # type: ignore[no-untyped-def]
    at = open_page("recordings", rater=app_env.person("Sam Rowe"))
    _no_exception(at)
    assert any("only administrators" in i.value.lower() for i in at.info)
    assert not at.button and not at.dataframe


def test_the_recordings_page_shows_what_is_due_for_deletion_and_places_a_hold(app_env: AppEnv, open_page) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from session_rater.domain.records import RecordingSpec

    svc = app_env.services
    demo = svc.store.list_recordings()[0]
    old = svc.store.add_recording(
        RecordingSpec(file_path=demo.file_path, programme=demo.programme, group_name="Kendal TF-09", session_number=2,
                      session_title="An old session", recorded_on=dt.date(2019, 5, 2), site="Kendal"),
        [demo.tutors[0].id],
    )  # fmt: skip
    at = open_page("recordings")
    _no_exception(at)
    assert any("1 recording(s) are due for deletion" in w.value for w in at.warning)
    due = next(df.value for df in at.dataframe if "why it goes" in df.value.columns)
    assert list(due["recording"]) == [old.id] and "past its retention period" in due["why it goes"][0]

    form_recording = next(s for s in at.selectbox if s.label == "Recording")
    form_recording.set_value(old.id)
    next(s for s in at.selectbox if s.label == "Kind of hold").set_value("benchmark")
    next(t for t in at.text_input if t.label.startswith("Reason")).input("Benchmark session for assessor training")
    next(b for b in at.button if b.label == "Place the hold").click().run()
    _no_exception(at)
    at.run()
    assert not any("due for deletion" in w.value for w in at.warning)
    kept = next(df.value for df in at.dataframe if "why it is kept" in df.value.columns)
    assert "benchmark hold" in kept["why it is kept"][0] and "assessor training" in kept["why it is kept"][0]


def test_the_recordings_due_for_deletion_are_counted_and_listed_a_page_at_a_time(
    app_env: AppEnv, open_page, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    import datetime as dt

    from session_rater.domain.records import RecordingSpec
    from session_rater.ui.pages import recordings_admin

    monkeypatch.setattr(recordings_admin, "REVIEW_PAGE", 2)
    svc = app_env.services
    demo = svc.store.list_recordings()[0]
    old = [svc.store.add_recording(
        RecordingSpec(file_path=demo.file_path, programme=demo.programme, group_name="Kendal TF-09", session_number=n,
                      session_title=f"Old session {n}", recorded_on=dt.date(2019, 5, n), site="Kendal"),
        [demo.tutors[0].id]).id for n in range(1, 4)]  # fmt: skip
    at = open_page("recordings")
    _no_exception(at)
    assert any("3 recording(s) are due for deletion" in w.value for w in at.warning)
    due = next(df.value for df in at.dataframe if "why it goes" in df.value.columns)
    assert list(due["recording"]) == old[:2], "the oldest first, a page of them"
    assert any("The oldest 2 of 3 are listed" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Show 1 more").click().run()
    _no_exception(at)
    due = next(df.value for df in at.dataframe if "why it goes" in df.value.columns)
    assert list(due["recording"]) == old
    assert not any(b.label.startswith("Show") and b.key == "retention:due_more" for b in at.button)
