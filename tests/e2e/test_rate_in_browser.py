"""Rating in a real browser: a score click must not disturb the recording that is playing.

The player and the form share one ``st.fragment`` so that a click reruns only that fragment, and the
player component keeps its <video>. If the video were re-rendered, its element would be replaced (the marker set on it would be gone) or reloaded
(``emptied``/``loadstart`` events, ``currentTime`` back to 0, paused).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from session_rater.domain.model import Capacity, Role
from session_rater.domain.rubric import Rubric
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services

from conftest import sign_in

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

SCORE = 2
"""The score clicked (its label comes from the rubric: "2 · Competently demonstrated")."""

# Events that a re-rendered or reloaded <video> would fire; recorded from the moment it is marked.
WATCHED_EVENTS = ("emptied", "loadstart", "abort", "seeking", "pause", "ended", "error")


@dataclass(frozen=True)
class Target:
    recording_id: int
    tutor_id: int
    rater_id: int
    rater_name: str
    rubric: Rubric

    @property
    def path(self) -> str:
        return f"/rate?recording={self.recording_id}&tutor={self.tutor_id}"


def unrated_monitoring_target(svc: Services) -> Target:
    """A (session, tutor, treatment manager) with no rating yet, so the form is editable."""
    rubric = svc.rubrics()[0]  # the Rate page starts a new rating on the first rubric
    for rater in svc.store.list_people(Role.TREATMENT_MANAGER):
        for recording in svc.store.list_recordings():
            if not svc.recording_path(recording).is_file():
                continue
            for tutor in recording.tutors:
                if Permitted(svc, rater).capacities(recording, tutor.id)[:1] != [Capacity.MONITORING]:
                    continue
                if svc.store.find_rating(recording.id, tutor.id, rater.id, Capacity.MONITORING) is None:
                    return Target(recording.id, tutor.id, rater.id, rater.display_name, rubric)
    pytest.fail("the demo data has no session that a treatment manager has not rated yet")


def test_scoring_while_the_video_plays_keeps_it_playing_and_the_score_survives_a_reload(
    page: Page, app_server: AppServer, app_services: Services
) -> None:
    target = unrated_monitoring_target(app_services)
    item = target.rubric.items[0]
    option_label = f"{SCORE} · {target.rubric.point(SCORE).label}"

    sign_in(page, app_server, target.rater_name, target.path)  # the form sends the browser back there
    app_server.wait_until_ready(page)
    video = page.locator('video.sr-video')
    expect(video).to_be_visible()
    src = video.get_attribute("src") or ""
    assert src.startswith(f"{app_server.base_url}/recordings/{target.recording_id}?"), src

    # Play it (muted, so no user gesture is needed) until it is visibly under way.
    video.evaluate("el => { el.muted = true; return el.play(); }")
    page.wait_for_function("el => el.currentTime > 1.5 && el.videoWidth > 0", arg=video.element_handle(), timeout=15_000)
    t0 = video.evaluate(
        """(el, events) => {
            el.__marker = 1;
            el.__events = [];
            for (const name of events) el.addEventListener(name, () => el.__events.push(name));
            return el.currentTime;
        }""",
        list(WATCHED_EVENTS),
    )

    # Record the app's script-state transitions, then click a score on the first item.
    page.evaluate(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            window.__scriptStates = [];
            new MutationObserver(() => window.__scriptStates.push(app.getAttribute('data-test-script-state')))
                .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
        }"""
    )
    group = page.get_by_role("radiogroup", name=f"Score for {item.title}", exact=True)
    option = group.locator('label[data-testid="stRadioOption"]').filter(has_text=option_label)
    expect(option).to_have_count(1)
    option.click()

    # The fragment rerun: the app went to "running" and is back to "notRunning".
    page.wait_for_function(
        """() => {
            const s = window.__scriptStates;
            return s.includes('running') && s[s.length - 1] === 'notRunning';
        }""",
        timeout=15_000,
    )
    app_server.wait_until_ready(page)
    expect(option.locator('input[type="radio"]')).to_be_checked()

    # The video is the same element, still playing, not restarted, and keeps advancing.
    state = video.evaluate(
        "el => ({marker: el.__marker, paused: el.paused, t: el.currentTime, events: el.__events, src: el.src})"
    )
    assert state["marker"] == 1, "the <video> element was replaced by the score click"
    assert state["src"] == src, "the video's URL changed"
    assert state["paused"] is False, "the video paused on the score click"
    assert state["t"] >= t0, f"the video restarted: currentTime {state['t']:.2f} s < {t0:.2f} s before the click"
    assert state["events"] == [], f"the video was disturbed: {state['events']}"
    page.wait_for_function("([el, t]) => el.currentTime > t + 0.5", arg=[video.element_handle(), state["t"]], timeout=5_000)

    # Saved at once, in the app's database.
    deadline = time.monotonic() + 10
    while True:
        rating = app_services.store.find_rating(target.recording_id, target.tutor_id, target.rater_id, Capacity.MONITORING)
        if (rating and item.id in rating.scores) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert rating is not None, "no rating was saved"
    assert rating.scores[item.id].score == SCORE
    assert not rating.is_submitted

    # A reload shows the saved score.
    page.reload()
    app_server.wait_until_ready(page)
    group = page.get_by_role("radiogroup", name=f"Score for {item.title}", exact=True)
    expect(group.locator('label[data-testid="stRadioOption"]').filter(has_text=option_label).locator("input")).to_be_checked()
    checked = group.locator('input[type="radio"]:checked')
    expect(checked).to_have_count(1)
    expect(page.locator('video.sr-video')).to_be_visible()

    shot = app_server.data_dir / "rate-after-reload.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
