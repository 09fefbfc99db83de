"""The recording player in a real browser: keyboard shortcuts that act only when the focus is
in the player, evidence moments that go to the item the rater is working on, markers on the
timeline that seek, and captions with a transcript."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from session_rater.domain.model import Capacity, Role
from session_rater.ui.player import Item
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.recordings_admin import RecordingsAdmin
from session_rater.usecases.services import Services

from conftest import sign_in
from test_rate_in_browser import Target, unrated_monitoring_target

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

VTT = ("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nWelcome back, everyone.\n\n"
       "00:00:12.000 --> 00:00:15.000\nLast week we looked at problem solving.\n")  # fmt: skip


def _open(page: Page, app_server: AppServer, target: Target):  # type: ignore[no-untyped-def]
    sign_in(page, app_server, target.rater_name, target.path)
    app_server.wait_until_ready(page)
    video = page.locator("video.sr-video")
    expect(video).to_be_visible()
    page.wait_for_function("v => v.readyState >= 1", arg=video.element_handle(), timeout=15_000)
    video.evaluate("v => { v.muted = true; }")
    return video


def _box(page: Page, target: Target, item_id: str):  # type: ignore[no-untyped-def]
    """The item's box in the form (the class Streamlit gives its key)."""
    key = f"rate:{target.recording_id}:{target.tutor_id}:{target.rater_id}:{Capacity.MONITORING.value}:{item_id}:box"
    return page.locator("." + Item(item_id, "", key).css_class)


def _paused(video) -> bool:  # type: ignore[no-untyped-def]
    return bool(video.evaluate("v => v.paused"))


def test_shortcuts_act_when_the_focus_is_in_the_player_and_never_take_space_from_a_button(
    page: Page, app_server: AppServer, app_services: Services
) -> None:
    target = unrated_monitoring_target(app_services)
    video = _open(page, app_server, target)
    assert _paused(video)

    page.locator(".sr-player .sr-fwd").focus()  # focus inside the player
    page.keyboard.press("k")
    page.wait_for_function("v => !v.paused", arg=video.element_handle(), timeout=5_000)
    page.keyboard.press("k")
    page.wait_for_function("v => v.paused", arg=video.element_handle(), timeout=5_000)

    # Space on a focused button presses that button (10 s forward), and does not play as well.
    before = video.evaluate("v => v.currentTime")
    page.keyboard.press(" ")
    page.wait_for_function("([v, t]) => v.currentTime >= t + 9", arg=[video.element_handle(), before], timeout=5_000)
    time.sleep(0.5)
    assert _paused(video), "Space on the player's forward button also started the video"

    # Keys typed in an item's note box are text, not shortcuts.
    note = _box(page, target, target.rubric.items[0].id).get_by_label("Evidence")
    note.click()
    page.keyboard.type("k m ")
    time.sleep(0.5)
    assert _paused(video), "typing k in a note box started the video"
    expect(note).to_have_value("k m ")


def test_the_moment_goes_to_the_item_whose_note_box_has_focus_and_its_marker_seeks(
    page: Page, app_server: AppServer, app_services: Services
) -> None:
    target = unrated_monitoring_target(app_services)
    first, second = target.rubric.items[0], target.rubric.items[1]
    video = _open(page, app_server, target)
    stamp = page.locator(".sr-player .sr-stamp")

    # Score item A (the app now knows A as the item being worked on) ...
    group = page.get_by_role("radiogroup", name=f"Score for {first.title}", exact=True)
    group.locator('label[data-testid="stRadioOption"]').filter(has_text="2 · ").click()
    app_server.wait_until_ready(page)
    expect(stamp).to_contain_text(f"“{first.title}”")
    # ... then write in item B's note box without leaving it: the button now names B.
    _box(page, target, second.id).get_by_label("Evidence").click()
    page.keyboard.type("Checks the aims at the start")
    expect(stamp).to_contain_text(f"“{second.title}”")
    expect(page.locator(".sr-player .sr-target")).to_have_text(f"Evidence moments go to: {second.title}")

    video.evaluate("v => { v.currentTime = 6; }")
    page.wait_for_function("v => Math.abs(v.currentTime - 6) < 0.5 && !v.seeking", arg=video.element_handle())
    stamp.click()
    marker = page.get_by_role("button", name=f"Evidence at 0:06: {second.title}", exact=True)
    expect(marker).to_be_visible()
    app_server.wait_until_ready(page)

    rating = app_services.store.find_rating(target.recording_id, target.tutor_id, target.rater_id, Capacity.MONITORING)
    assert rating is not None
    assert rating.scores[second.id].moment_seconds == pytest.approx(6, abs=0.5)
    assert first.id not in rating.scores or rating.scores[first.id].moment_seconds is None, "the moment went to item A"

    # The marker seeks, by mouse and by keyboard.
    video.evaluate("v => { v.currentTime = 20; }")
    marker.click()
    page.wait_for_function("v => Math.abs(v.currentTime - 6) < 0.5", arg=video.element_handle(), timeout=5_000)
    video.evaluate("v => { v.currentTime = 20; }")
    marker.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("v => Math.abs(v.currentTime - 6) < 0.5", arg=video.element_handle(), timeout=5_000)


def test_captions_are_a_track_of_the_video_and_the_transcript_seeks(
    page: Page, app_server: AppServer, app_services: Services
) -> None:
    target = unrated_monitoring_target(app_services)
    admin = next(iter(app_services.store.list_people(Role.ADMINISTRATOR)))
    RecordingsAdmin(Permitted(app_services, admin)).add_captions(target.recording_id, VTT.encode(), "s.vtt")
    video = _open(page, app_server, target)

    track = video.locator("track")
    expect(track).to_have_attribute("kind", "captions")
    assert f"/recordings/{target.recording_id}/captions?" in (track.get_attribute("src") or "")
    page.wait_for_function("v => v.textTracks[0] && v.textTracks[0].cues && v.textTracks[0].cues.length === 2",
                           arg=video.element_handle(), timeout=10_000)  # fmt: skip

    captions = page.get_by_role("button", name="Captions off")
    captions.click()
    expect(page.get_by_role("button", name="Captions on")).to_have_attribute("aria-pressed", "true")
    assert video.evaluate("v => v.textTracks[0].mode") == "showing"

    page.locator(".sr-transcript summary").click()
    line = page.locator(".sr-cue").filter(has_text="Last week we looked at problem solving.")
    expect(line).to_contain_text("0:12")
    line.click()
    page.wait_for_function("v => Math.abs(v.currentTime - 12) < 0.5", arg=video.element_handle(), timeout=5_000)


def test_an_administrator_adds_captions_on_the_recordings_page_and_a_bad_file_is_explained(
    page: Page, app_server: AppServer, app_services: Services, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    admin = next(iter(app_services.store.list_people(Role.ADMINISTRATOR)))
    sign_in(page, app_server, admin.display_name, "/recordings")
    form = page.get_by_test_id("stForm").filter(has_text="Captions file")
    bad = tmp_path / "bad.vtt"
    bad.write_text("WEBVTT\n\n00:01,000 --> 00:02.000\nHello\n")

    def add(path) -> None:  # type: ignore[no-untyped-def]
        form.get_by_role("combobox").click()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")  # the first session
        expect(form.get_by_test_id("stSelectbox")).not_to_contain_text("Choose a recorded session")
        form.locator('input[type="file"]').set_input_files(str(path))
        expect(form).to_contain_text(path.name)
        page.wait_for_load_state("networkidle")  # the upload has finished
        form.get_by_role("button", name="Add the captions").click()
        app_server.wait_until_ready(page)

    add(bad)
    errors = form.get_by_test_id("stAlertContentError")
    expect(errors.first).to_contain_text("Not added: bad.vtt is not valid WebVTT.")
    expect(errors.filter(has_text="line 3")).to_contain_text("'00:01,000 --> 00:02.000' is not a valid timing")
    good = tmp_path / "good.vtt"
    good.write_text(VTT)
    add(good)
    expect(form.get_by_test_id("stAlertContentSuccess")).to_contain_text("Added 2 caption(s) to ")
