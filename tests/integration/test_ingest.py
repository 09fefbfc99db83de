"""Ingesting recordings: identity by content, the conversion queue, bad input, the access log.

Runs on SQLite and, where configured, PostgreSQL (the ``engine`` fixture). The clips come from
test_media_probe.make_clip; the rubric is rubrics/think-first-video-monitoring.yaml.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from test_media_probe import DISGUISED_NAME, make_clip  # shared clip recipes (tests/integration is on sys.path)

from session_rater.cli import ingest as cli_ingest
from session_rater.db.media_models import TranscodeJob
from session_rater.db.media_store import MediaStore
from session_rater.db.store import Store
from session_rater.domain.model import Capacity, Role
from session_rater.domain.rubric import Rubric
from session_rater.usecases.ingest import derivative_path, ingest, missing_recordings, recording_thumbnails
from session_rater.media import transcode
from session_rater.media.ffmpeg import probe
from session_rater.usecases.conversion_worker import JobWorker, run_next_job
from session_rater.settings import Settings, load_settings

HEADER = "file,programme,group,session_number,session_title,date,site,catch_up,tutors\n"


def row(file: str, number: int, tutors: str = "Sam Rowe;Priya Nair") -> str:
    return f"{file},Think First,Carlisle TF-01,{number},Session {number},2026-02-{number:02d},Carlisle,no,{tutors}\n"


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    made = {
        "good.mp4": make_clip("h264_aac_faststart.mp4", folder, as_name="good.mp4"),
        "late-index.mp4": make_clip("h264_aac_moov_at_end.mp4", folder, as_name="late-index.mp4"),
        "camera.mkv": make_clip("h264_aac.mkv", folder, as_name="camera.mkv"),
        "tape.mpg": make_clip("interlaced_pal.mpg", folder, as_name="tape.mpg"),
        "voice.m4a": make_clip("audio_only.m4a", folder, as_name="voice.m4a"),
    }
    made["long-tape.mpg"] = make_clip("interlaced_pal.mpg", folder, seconds=40, as_name="long-tape.mpg")
    return made


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "SESSION_RATER_RECORDINGS_DIR": str(tmp_path / "recordings")}
    )


@pytest.fixture
def media_store(engine: Engine) -> MediaStore:
    return MediaStore(engine)


@pytest.fixture
def recordings(settings: Settings, sources: dict[str, Path]) -> Callable[..., Path]:
    """Copy source clips into the recordings folder, listed in its manifest.csv."""
    folder = settings.recordings_dir
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "manifest.csv"

    def put(name: str, *, listed: bool = True, tutors: str = "Sam Rowe;Priya Nair") -> Path:
        target = folder / name
        shutil.copyfile(sources[name], target)
        if listed:
            if not manifest.exists():
                manifest.write_text(HEADER, encoding="utf-8")
            number = len(manifest.read_text(encoding="utf-8").splitlines())
            with manifest.open("a", encoding="utf-8") as handle:
                handle.write(row(name, number, tutors))
        return target

    return put


def run(paths: list[Path], store: Store, media_store: MediaStore, settings: Settings, **kwargs: object):  # type: ignore[no-untyped-def]
    """Ingest, without the thumbnails of as-is files unless asked (they cost ~0.3 s each)."""
    kwargs.setdefault("make_thumbnails", False)
    return ingest(paths, store=store, media_store=media_store, settings=settings, **kwargs)  # type: ignore[arg-type]


def rate(store: Store, recording_id: int, rubric: Rubric) -> int:
    """A submitted treatment-manager rating of the recording's first tutor; returns its id."""
    recording = store.get_recording(recording_id)
    manager = store.add_person("Helen Price", [Role.TREATMENT_MANAGER])
    rating = store.start_rating(recording_id, recording.tutors[0].id, manager.id, Capacity.MONITORING, rubric)
    for item in rubric.items:
        store.save_item(rating.id, item.id, score=2, evidence="seen", moment_seconds=1.5)
    return store.submit_rating(rating.id, confirm_uniform=True).id


# -- a batch with bad files -----------------------------------------------------------------


def test_a_batch_reports_each_bad_file_in_its_own_words_and_goes_on(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path], sources: dict[str, Path]
) -> None:
    store.add_person("Sam Rowe", [Role.TUTOR])
    good = recordings("good.mp4")
    tape = recordings("tape.mpg", tutors="Sam Rowe;Jo Bell")
    folder = settings.recordings_dir
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    truncated = folder / "truncated.mp4"
    data = sources["late-index.mp4"].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    notes = folder / "notes.mp4"
    notes.write_text("not a video\n", encoding="utf-8")
    voice = recordings("voice.m4a")
    unlisted = recordings("late-index.mp4", listed=False)
    with (folder / "manifest.csv").open("a", encoding="utf-8") as handle:
        for i, name in enumerate(["empty.mp4", "truncated.mp4", "notes.mp4", "nowhere.mp4"], start=20):
            handle.write(row(name, i))

    batch = [good, empty, truncated, notes, voice, folder / "nowhere.mp4", unlisted, tape]
    report = run(batch, store, media_store, settings, make_thumbnails=True)

    by_name = {o.path.name: o for o in report.outcomes}
    assert [o.path.name for o in report.outcomes] == [
        "good.mp4", "empty.mp4", "truncated.mp4", "notes.mp4", "voice.m4a", "nowhere.mp4", "late-index.mp4", "tape.mpg"
    ]  # fmt: skip
    assert by_name["empty.mp4"].message.endswith(
        "is empty (0 bytes). The copy or upload probably failed; copy it again."
    )
    assert "cannot be read by ffmpeg" in by_name["truncated.mp4"].message
    assert "cannot be read by ffmpeg" in by_name["notes.mp4"].message
    assert "has no video stream (it contains only audio)" in by_name["voice.m4a"].message
    assert "nowhere.mp4 does not exist" in by_name["nowhere.mp4"].message
    assert "add a row for late-index.mp4 to the manifest" in by_name["late-index.mp4"].message
    assert [o.status for o in report.outcomes].count("failed") == 6
    assert (by_name["good.mp4"].status, by_name["good.mp4"].action) == ("added", "as_is")
    assert (by_name["tape.mpg"].status, by_name["tape.mpg"].action) == ("added", "transcode")
    assert report.summary == "2 added, 6 failed; 1 conversion job(s) queued"

    assert len(store.list_recordings()) == 2
    names = sorted(p.display_name for p in store.list_people())
    assert names == ["Jo Bell", "Priya Nair", "Sam Rowe"]  # Sam Rowe reused, the others added once
    assert all(p.has_role(Role.TUTOR) for p in store.list_people())

    as_is = media_store.playback(by_name["good.mp4"].recording_id)  # type: ignore[arg-type]
    assert (as_is.status, as_is.path) == ("ready", str(good))
    assert (
        len(recording_thumbnails(as_is.recording_id, media_store=media_store, settings=settings, generate=False)) == 24
    )
    waiting = media_store.playback(by_name["tape.mpg"].recording_id)  # type: ignore[arg-type]
    assert (waiting.status, waiting.path, waiting.playable) == ("queued", str(tape), False)


def test_a_manifest_given_on_the_command_line_is_used_and_a_bad_one_stops_the_batch(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path], tmp_path: Path
) -> None:
    good = recordings("good.mp4", listed=False)
    other = tmp_path / "other.csv"
    other.write_text(HEADER + row("good.mp4", 9, "Ann Lee"), encoding="utf-8")
    report = run([good], store, media_store, settings, manifest=other)
    assert report.outcomes[0].status == "added"
    assert store.get_recording(report.outcomes[0].recording_id).tutors[0].display_name == "Ann Lee"  # type: ignore[arg-type]
    broken = tmp_path / "broken.csv"
    broken.write_text("file,programme\n", encoding="utf-8")
    from session_rater.errors import ManifestError

    with pytest.raises(ManifestError, match="missing column"):
        run([good], store, media_store, settings, manifest=broken)


# -- conversion -----------------------------------------------------------------------------


def test_the_worker_converts_a_tape_and_points_the_recording_at_the_browser_safe_copy(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path]
) -> None:
    tape = recordings("tape.mpg")
    before = hashlib.sha256(tape.read_bytes()).hexdigest()
    outcome = run([tape], store, media_store, settings).outcomes[0]

    job = run_next_job(media_store, settings)

    assert job is not None and (job.id, job.status, job.progress) == (outcome.job_id, "done", 1.0)
    assert "transcode took" in job.message and "24 thumbnails" in job.message
    output = derivative_path(settings, before)
    recording = store.get_recording(outcome.recording_id)  # type: ignore[arg-type]
    assert recording.file_path == str(output)
    info = probe(output)
    assert (info.video_codec, info.audio_codec, info.pixel_format, info.interlaced, info.faststart) == (
        "h264", "aac", "yuv420p", False, True
    )  # fmt: skip
    assert recording.duration_seconds == pytest.approx(info.duration_seconds)
    playback = media_store.playback(recording.id)
    assert (playback.status, playback.path, playback.file_present) == ("ready", str(output), True)
    kinds = {f.kind: f for f in media_store.files_of(recording.id)}
    assert kinds["original"].path == str(tape) and kinds["original"].interlaced
    assert kinds["playable"].path == str(output) and kinds["playable"].browser_playable
    strip = recording_thumbnails(recording.id, media_store=media_store, settings=settings, generate=False)
    assert len(strip) == 24 and strip[0].path.is_relative_to(settings.data_dir / "thumbnails" / before)
    assert hashlib.sha256(tape.read_bytes()).hexdigest() == before  # the original is untouched
    assert run_next_job(media_store, settings) is None  # the queue is empty


def test_a_file_in_another_container_is_remuxed(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path]
) -> None:
    outcome = run([recordings("camera.mkv")], store, media_store, settings).outcomes[0]
    assert outcome.action == "remux"
    job = run_next_job(media_store, settings)
    assert job is not None and job.status == "done" and job.message.startswith("remux took")
    assert probe(store.get_recording(outcome.recording_id).file_path).browser_playable  # type: ignore[arg-type]


def test_an_mpeg4_file_whose_name_reads_like_an_h264_stream_is_transcoded(
    store: Store, media_store: MediaStore, settings: Settings, tmp_path: Path
) -> None:
    folder = settings.recordings_dir
    folder.mkdir(parents=True, exist_ok=True)
    disguised = make_clip("mpeg4_aac_faststart.mp4", tmp_path).rename(folder / DISGUISED_NAME)
    quoted = '"' + DISGUISED_NAME + '"'  # a CSV field may hold line breaks when quoted
    (folder / "manifest.csv").write_text(HEADER + row(quoted, 1), encoding="utf-8")

    outcome = run([disguised], store, media_store, settings).outcomes[0]

    assert (outcome.status, outcome.action) == ("added", "transcode")
    assert "video is mpeg4" in outcome.message
    job = run_next_job(media_store, settings)
    assert job is not None and job.status == "done", job
    served = probe(store.get_recording(outcome.recording_id).file_path)  # type: ignore[arg-type]
    assert served.video_codec == "h264" and served.browser_playable


# -- identity by content --------------------------------------------------------------------


def test_a_moved_and_renamed_file_is_relinked_and_keeps_its_ratings(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path], think_first: Rubric,
    tmp_path: Path,
) -> None:  # fmt: skip
    good = recordings("good.mp4")
    first = run([good], store, media_store, settings).outcomes[0]
    rating_id = rate(store, first.recording_id, think_first)  # type: ignore[arg-type]
    moved = tmp_path / "archive" / "2026" / "renamed.mp4"
    moved.parent.mkdir(parents=True)
    good.rename(moved)

    again = run([moved], store, media_store, settings).outcomes[0]  # no manifest row needed

    assert (again.status, again.recording_id) == ("relinked", first.recording_id)
    assert f"moved from {good}" in again.message and "ratings are kept" in again.message
    assert len(store.list_recordings()) == 1
    assert store.get_recording(first.recording_id).file_path == str(moved)  # type: ignore[arg-type]
    ratings = store.ratings_of_recording(first.recording_id)  # type: ignore[arg-type]
    assert [r.id for r in ratings] == [rating_id]
    assert {s.score for s in ratings[0].scores.values()} == {2}
    assert media_store.playback(first.recording_id).status == "ready"  # type: ignore[arg-type]


def test_moving_a_converted_original_keeps_serving_the_copy(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path], tmp_path: Path
) -> None:
    mkv = recordings("camera.mkv")
    first = run([mkv], store, media_store, settings).outcomes[0]
    run_next_job(media_store, settings)
    served = store.get_recording(first.recording_id).file_path  # type: ignore[arg-type]
    moved = tmp_path / "moved.mkv"
    mkv.rename(moved)
    again = run([moved], store, media_store, settings).outcomes[0]
    assert again.status == "relinked" and again.job_id is None
    assert store.get_recording(first.recording_id).file_path == served  # type: ignore[arg-type]
    assert media_store.find_file("original", first.content_hash).path == str(moved)  # type: ignore[arg-type,union-attr]


def test_a_copy_of_an_ingested_file_is_not_added_twice(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path], tmp_path: Path
) -> None:
    good = recordings("good.mp4")
    first = run([good], store, media_store, settings).outcomes[0]
    copy = tmp_path / "copy.mp4"
    shutil.copyfile(good, copy)
    again = run([copy, good], store, media_store, settings).outcomes
    assert [o.status for o in again] == ["unchanged", "unchanged"]
    assert "(a copy); nothing was added" in again[0].message
    assert "already ingested" in again[1].message
    assert {o.recording_id for o in again} == {first.recording_id}
    assert store.get_recording(first.recording_id).file_path == str(good)  # type: ignore[arg-type]


def test_a_recording_whose_file_disappears_is_reported_and_keeps_its_ratings(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path], think_first: Rubric,
    sources: dict[str, Path], tmp_path: Path,
) -> None:  # fmt: skip
    good = recordings("good.mp4")
    recording_id = run([good], store, media_store, settings).outcomes[0].recording_id
    rate(store, recording_id, think_first)  # type: ignore[arg-type]
    good.unlink()

    missing = missing_recordings(store, settings)

    assert [(m.recording_id, m.path) for m in missing] == [(recording_id, good)]
    assert "session 1" in missing[0].label
    assert media_store.playback(recording_id).file_present is False  # type: ignore[arg-type]
    assert recording_thumbnails(recording_id, media_store=media_store, settings=settings) == []  # type: ignore[arg-type]
    assert len(store.ratings_of_recording(recording_id)) == 1  # type: ignore[arg-type]
    restored = tmp_path / "restored.mp4"
    shutil.copyfile(sources["good.mp4"], restored)
    assert run([restored], store, media_store, settings).outcomes[0].status == "relinked"
    assert missing_recordings(store, settings) == []


def test_the_missing_files_check_is_kept_for_a_while_and_made_again_on_demand(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path],
) -> None:  # fmt: skip
    from session_rater.usecases.ingest import forget_missing_check, missing_check

    good = recordings("good.mp4")
    recording_id = run([good], store, media_store, settings).outcomes[0].recording_id
    forget_missing_check(store, settings)
    first = missing_check(store, settings)
    assert first.missing == () and first.checked == 1
    good.unlink()
    assert missing_check(store, settings) is first, "a page run within the period reuses the check"
    again = missing_check(store, settings, again=True)
    assert [m.recording_id for m in again.missing] == [recording_id] and again.checked_at >= first.checked_at
    assert missing_check(store, settings, max_age=dt.timedelta(0)) is not again, "an old check is made afresh"
    forget_missing_check(store, settings)
    assert missing_check(store, settings) is not again


# -- the queue ------------------------------------------------------------------------------


def test_one_job_runs_at_a_time_across_processes(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path], engine: Engine
) -> None:
    report = run([recordings("camera.mkv"), recordings("tape.mpg")], store, media_store, settings)
    first_id, second_id = report.job_ids
    other_process = MediaStore(engine)  # another MediaStore: the queue rules live in the database

    claimed = media_store.claim_next()

    assert claimed is not None and claimed.id == first_id and claimed.worker_pid == os.getpid()
    assert media_store.claim_next() is None and other_process.claim_next() is None
    assert other_process.claim_next(max_running=2).id == second_id  # type: ignore[union-attr]
    media_store.finish(first_id, "done")
    media_store.finish(second_id, "done")
    assert media_store.claim_next() is None  # empty


def test_racing_claimers_get_the_job_once(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path], engine: Engine
) -> None:
    job_id = run([recordings("camera.mkv")], store, media_store, settings).job_ids[0]
    start = threading.Barrier(4)
    got: list[int | None] = []

    def claim() -> None:
        start.wait()
        job = MediaStore(engine).claim_next()
        got.append(None if job is None else job.id)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got, key=lambda x: x or 0) == [None, None, None, job_id]


def test_a_queued_job_is_cancelled_at_once_and_a_running_one_within_a_second(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path]
) -> None:
    mkv_job, tape_job = run(
        [recordings("camera.mkv"), recordings("long-tape.mpg")], store, media_store, settings
    ).job_ids
    assert media_store.request_cancel(mkv_job).status == "cancelled"

    def cancel_once_started(job, progress) -> None:  # type: ignore[no-untyped-def]
        if progress.fraction > 0 and not media_store.get_job(job.id).cancel_requested:
            media_store.request_cancel(job.id)

    started = time.monotonic()
    finished = run_next_job(media_store, settings, on_progress=cancel_once_started)

    assert finished is not None and (finished.id, finished.status) == (tape_job, "cancelled")
    assert time.monotonic() - started < 8
    tape_recording = finished.recording_id
    assert media_store.playback(tape_recording).status == "cancelled"
    media_dir = settings.data_dir / "media"
    assert not media_dir.exists() or list(media_dir.iterdir()) == []  # no output, no temporary file
    assert store.get_recording(tape_recording).file_path.endswith("long-tape.mpg")
    # Ingesting the file again queues it again.
    again = run([settings.recordings_dir / "long-tape.mpg"], store, media_store, settings).outcomes[0]
    assert again.status == "unchanged" and again.job_id not in (None, tape_job)


def test_a_disk_that_fills_during_a_job_fails_it_and_nothing_half_written_is_served(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    tape = recordings("tape.mpg")
    recording_id = run([tape], store, media_store, settings).outcomes[0].recording_id
    link = tmp_path / ".full.partial.mp4"  # every write to /dev/full fails with ENOSPC
    link.symlink_to("/dev/full")
    monkeypatch.setattr(transcode, "_partial_path", lambda output: link)

    job = run_next_job(media_store, settings)

    assert job is not None and job.status == "failed" and "is full" in job.message
    playback = media_store.playback(recording_id)  # type: ignore[arg-type]
    assert (playback.status, playback.path, playback.playable) == ("failed", str(tape), False)
    assert "is full" in playback.message
    assert not any(f.kind == "playable" for f in media_store.files_of(recording_id))  # type: ignore[arg-type]
    assert not list((settings.data_dir / "media").glob("*.mp4"))


def test_the_background_worker_runs_jobs_and_requeues_the_running_one_when_stopped(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path]
) -> None:
    worker = JobWorker(media_store, settings, poll_seconds=0.1).start()
    try:
        job_id = run([recordings("camera.mkv")], store, media_store, settings).job_ids[0]
        worker.wake()
        assert wait_for(lambda: media_store.get_job(job_id).status == "done")
        long_job = run([recordings("long-tape.mpg")], store, media_store, settings).job_ids[0]
        assert wait_for(lambda: media_store.get_job(long_job).status == "running")  # claimed: ffmpeg is starting
    finally:
        worker.stop()
    assert not worker.is_alive
    requeued = media_store.get_job(long_job)
    assert (requeued.status, requeued.worker_pid) == ("queued", None)
    assert "worker was stopped" in requeued.message
    assert list((settings.data_dir / "media").glob(".*")) == []


def test_jobs_left_running_by_a_dead_process_are_requeued(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path], engine: Engine
) -> None:
    job_id = run([recordings("camera.mkv")], store, media_store, settings).job_ids[0]
    media_store.claim_next()
    with engine.begin() as connection:  # as if the server had been killed mid-job
        connection.execute(update(TranscodeJob).where(TranscodeJob.id == job_id).values(worker_pid=999_999_999))
    assert [j.id for j in media_store.recover_stale_jobs(pid_alive=transcode.pid_alive)] == [job_id]
    assert media_store.get_job(job_id).status == "queued"
    assert media_store.claim_next().id == job_id  # type: ignore[union-attr]


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


# -- access log -----------------------------------------------------------------------------


def test_every_access_is_logged_newest_first(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path]
) -> None:
    recording_id = run([recordings("good.mp4")], store, media_store, settings).outcomes[0].recording_id
    viewer = store.add_person("Ruth Okafor", [Role.EXTERNAL_ASSESSOR])
    media_store.log_access(recording_id, viewer.id, "GET", "bytes=0-", 206)  # type: ignore[arg-type]
    media_store.log_access(recording_id, viewer.id, "head", None, 200)  # type: ignore[arg-type]
    media_store.log_access(recording_id, 999_999, "GET", None, 403)  # type: ignore[arg-type]  # unknown person
    assert media_store.log_access(999_999, viewer.id, "GET", None, 404) is None  # unknown recording

    log = media_store.access_log(recording_id)

    assert [(a.person_id, a.method, a.range_header, a.status_code) for a in log] == [
        (None, "GET", None, 403), (viewer.id, "HEAD", None, 200), (viewer.id, "GET", "bytes=0-", 206)
    ]  # fmt: skip
    assert log[0].accessed_at >= log[-1].accessed_at
    assert media_store.access_log(person_id=viewer.id, limit=1)[0].method == "HEAD"


# -- command line ---------------------------------------------------------------------------


def cli(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="session-rater")
    cli_ingest.register(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(args)
    return int(parsed.func(parsed))


@pytest.fixture
def cli_env(database_url: str, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SESSION_RATER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SESSION_RATER_RECORDINGS_DIR", str(settings.recordings_dir))
    monkeypatch.setenv("SESSION_RATER_DEMO", "0")


def test_the_cli_ingests_a_folder_and_runs_its_conversions(
    cli_env: None, recordings: Callable[..., Path], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    recordings("good.mp4")
    recordings("camera.mkv")

    code = cli(["ingest", str(settings.recordings_dir)])

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].startswith("added     camera.mkv: recording") and "queued for remux (job 1)" in out[0]
    assert out[1].startswith("added     good.mp4: recording") and "plays in the browser as it is" in out[1]
    assert out[2] == "2 added; 1 conversion job(s) queued"
    assert out[3].startswith("job    1 done      camera.mkv: remux took")
    assert cli(["jobs"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].split()[:5] == ["1", "done", "100%", "remux", "1"]
    assert cli(["jobs", "--cancel", "1"]) == 0
    assert capsys.readouterr().out.startswith("Job 1 is done.")


def test_ctrl_c_in_the_cli_cancels_the_running_job_cleanly(
    cli_env: None, recordings: Callable[..., Path], settings: Settings, media_store: MediaStore,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    recordings("long-tape.mpg")

    def interrupt(self, label, detail="", *, fraction):  # type: ignore[no-untyped-def]
        if label.startswith("job ") and fraction > 0:  # as if Ctrl-C were pressed during the job
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_ingest._StatusLine, "show", interrupt)
    assert cli(["ingest", str(settings.recordings_dir / "long-tape.mpg")]) == cli_ingest.EXIT_INTERRUPTED
    assert "Cancelled; the originals are untouched." in capsys.readouterr().err
    job = media_store.jobs()[0]
    assert job.status == "cancelled" and "Ctrl-C" in job.message
    assert list((settings.data_dir / "media").iterdir()) == []


def test_the_cli_reports_a_bad_file_and_exits_non_zero(
    cli_env: None, recordings: Callable[..., Path], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    recordings("good.mp4")
    code = cli(
        ["ingest", "--no-wait", str(settings.recordings_dir / "good.mp4"), str(settings.recordings_dir / "gone.mp4")]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "failed    gone.mp4: Recording" in out and "does not exist" in out


def test_a_running_worker_frees_the_queue_from_a_job_whose_worker_died(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path], engine: Engine
) -> None:
    worker = JobWorker(media_store, settings)  # already running, long before the job got stuck
    stuck = run([recordings("camera.mkv")], store, media_store, settings).job_ids[0]
    media_store.claim_next()
    with engine.begin() as connection:  # the process running it died while this server stays up
        connection.execute(update(TranscodeJob).where(TranscodeJob.id == stuck).values(worker_pid=999_999_999))
    run([recordings("long-tape.mpg")], store, media_store, settings)
    assert worker._run_one() is False  # the slot is held: the worker looks at the holder ...
    assert media_store.get_job(stuck).status == "queued"  # ... and re-queues it, no restart needed


def test_a_file_still_being_copied_is_reported_and_nothing_is_added(
    store: Store, media_store: MediaStore, settings: Settings, recordings: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    from session_rater.usecases import ingest as ingest_module

    growing = settings.recordings_dir / "growing.mkv"
    shutil.copy(recordings("camera.mkv"), growing)
    real_hash = ingest_module.content_hash

    def hash_while_the_copy_goes_on(path, **kwargs):  # type: ignore[no-untyped-def]
        digest = real_hash(path, **kwargs)
        with open(path, "ab") as handle:  # the copy writes more while we read
            handle.write(bytes(1024))
        return digest

    monkeypatch.setattr(ingest_module, "content_hash", hash_while_the_copy_goes_on)  # a copy still running
    report = run([growing], store, media_store, settings)
    assert not report.ok and "still being copied" in report.outcomes[0].message
    assert store.list_recordings() == []
