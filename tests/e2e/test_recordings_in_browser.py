"""Recordings in a real browser: a legacy tape (interlaced MPEG-2 with sound) is ingested and
converted, then plays with a picture and sound; evidence notes jump to their moment; a
recording URL works only for the person it was issued to, and only until it expires.

Ingest records no area or team for the legacy tape, so only an administrator reaches it: it is
rated by Dev Sharma (programme manager and administrator), as a benchmark."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from session_rater.domain.access import Action
from session_rater.domain.model import Capacity
from session_rater.usecases.ingest import ingest
from session_rater.media.ffmpeg import ffmpeg_exe
from session_rater.usecases.conversion_worker import run_next_job
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services
from session_rater.usecases.recording_links import signed_recording_path

from conftest import person_named, sign_in

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

MANIFEST = (
    "file,programme,group,session_number,session_title,date,site,catch_up,tutors\n"
    "legacy-tape.mpg,Think First,Kendal TF-09,5,Legacy tape session,2002-09-12,Kendal,no,Ann Archer;Bob Booth\n"
)


def _legacy_tape(folder: Path) -> Path:
    """6 s of PAL: 720x576 interlaced MPEG-2 (top field first) with MP2 sound in an MPEG-PS .mpg."""
    out = folder / "legacy-tape.mpg"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc=size=720x576:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
         "-t", "6", "-vf", "setfield=tff", "-c:v", "mpeg2video", "-flags", "+ilme+ildct", "-b:v", "4M",
         "-c:a", "mp2", "-b:a", "192k", "-f", "mpeg", str(out)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    (folder / "manifest.csv").write_text(MANIFEST)
    return out


@pytest.fixture(scope="module")
def legacy_recording(app_services: Services, tmp_path_factory: pytest.TempPathFactory) -> int:
    folder = tmp_path_factory.mktemp("legacy")
    tape = _legacy_tape(folder)
    svc = app_services
    report = ingest([tape], store=svc.store, media_store=svc.media, settings=svc.settings)
    assert report.ok, [o.line for o in report.outcomes]
    recording_id = report.outcomes[0].recording_id
    assert recording_id is not None and report.outcomes[0].action == "transcode"
    deadline = time.monotonic() + 120
    while svc.media.playback(recording_id).status != "ready":  # the app's worker or this process
        assert time.monotonic() < deadline, svc.media.playback(recording_id)
        if run_next_job(svc.media, svc.settings) is None:
            time.sleep(0.5)
    return recording_id


def _open_rate(page: Page, app_server: AppServer, svc: Services, recording_id: int, rater: str):  # type: ignore[no-untyped-def]
    """Sign ``page`` in as ``rater`` and open the Rate page of the recording's first tutor."""
    tutor_id = svc.recording(recording_id).tutors[0].id
    sign_in(page, app_server, rater, f"/rate?recording={recording_id}&tutor={tutor_id}")
    app_server.wait_until_ready(page)
    video = page.locator("video.sr-video")
    expect(video).to_be_visible(timeout=20_000)
    return video, tutor_id


def test_a_transcoded_legacy_tape_plays_with_picture_and_sound_and_notes_jump_to_their_moment(
    page: Page, app_server: AppServer, app_services: Services, legacy_recording: int
) -> None:
    svc = app_services
    rater = person_named(svc, "Dev Sharma").id
    video, tutor_id = _open_rate(page, app_server, svc, legacy_recording, "Dev Sharma")

    video.evaluate("el => { el.muted = true; return el.play(); }")
    page.wait_for_function(
        "el => el.currentTime > 2.0 && el.videoWidth > 0 && el.webkitAudioDecodedByteCount > 0",
        arg=video.element_handle(),
        timeout=20_000,
    )
    assert video.evaluate("el => [el.videoWidth, el.videoHeight]") == [720, 576]

    # Score the first item, then stamp the moment for it while the video plays.
    item = svc.rubrics()[0].items[0]
    group = page.get_by_role("radiogroup", name=f"Score for {item.title}", exact=True)
    group.locator('label[data-testid="stRadioOption"]').filter(has_text="2 · ").click()
    app_server.wait_until_ready(page)
    stamp = page.get_by_role("button", name=f"+ Add evidence to “{item.title}” at")  # names the item it goes to
    expect(stamp).to_be_visible()
    stamp.click()
    note = page.locator("button.sr-note")
    expect(note).to_have_count(1, timeout=15_000)
    rating = svc.store.find_rating(legacy_recording, tutor_id, rater, Capacity.BENCHMARK)
    assert rating is not None
    moment = rating.scores[item.id].moment_seconds
    assert moment is not None and moment > 2.0
    # (The tape lasts 6 s: on a busy machine it may have played to its end by now, which is no stop.)
    assert not video.evaluate("el => el.paused && !el.ended"), "stamping a moment must not stop the video"

    for away in (0.2, 5.5):  # clicking the same note twice in a row lands there both times
        video.evaluate("(el, t) => { el.currentTime = t; }", away)
        page.wait_for_function("([el, t]) => Math.abs(el.currentTime - t) < 0.5", arg=[video.element_handle(), away])
        note.click()
        page.wait_for_function(
            "([el, t]) => Math.abs(el.currentTime - t) <= 1.0", arg=[video.element_handle(), moment], timeout=5_000
        )


def test_a_recording_url_is_refused_to_another_person_and_after_expiry(
    browser: Browser, app_server: AppServer, app_services: Services
) -> None:
    svc = app_services
    helen, dev = person_named(svc, "Helen Price"), person_named(svc, "Dev Sharma")
    # A session both may play: the refusal below is the URL's binding to its person, not scope.
    recording_id = next(
        r.id for r in svc.store.list_recordings()
        if svc.recording_path(r).is_file()
        and all(Permitted(svc, p).decide(Action.PLAY_RECORDING, r) for p in (helen, dev))
    )
    owner = helen.id
    mine, theirs = browser.new_context(), browser.new_context()
    try:
        video, _ = _open_rate(mine.new_page(), app_server, svc, recording_id, "Helen Price")
        src = video.get_attribute("src") or ""
        assert mine.request.get(src, headers={"Range": "bytes=0-99"}).status == 206

        _open_rate(theirs.new_page(), app_server, svc, recording_id, "Dev Sharma")
        refused = theirs.request.get(src, headers={"Range": "bytes=0-99"})
        assert refused.status == 403, "a URL taken from one person's page must not play for another"

        expired = app_server.url(signed_recording_path(svc.secret, recording_id, owner, now=time.time() - 10 * 3600))
        assert mine.request.get(expired, headers={"Range": "bytes=0-99"}).status == 403
    finally:
        mine.close()
        theirs.close()
