"""Calibration in a real browser (issue 10): a treatment manager watches an exemplar clip from
the Rate page while the session's video keeps its place, submits the validity session waiting
in their My work, sees their scores beside the master scores, and a master's evidence moment
seeks the session's video there."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from session_rater.domain.model import Capacity
from session_rater.ui.player import Item
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services

from conftest import person_named, sign_in

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

RATER = "Mark Dixon"  # the demo's validity session waits in his My work
WATCHED_EVENTS = ("emptied", "loadstart", "abort")


def _css(key: str) -> str:
    return "." + Item("", "", key).css_class


def test_an_exemplar_plays_beside_the_session_then_the_comparison_moments_seek_the_video(
    page: Page, app_server: AppServer, app_services: Services
) -> None:
    svc = app_services
    mark = person_named(svc, RATER)
    (validity,) = [v for v in svc.store.validity_assignments(mark.id) if v.hidden]
    rubric = svc.rubrics()[0]
    me = Permitted(svc, mark)
    # Every item but the last scored already (through the use case, as the page saves them).
    rating = me.start_rating(validity.recording_id, validity.tutor_id, Capacity.MONITORING, rubric)
    for k, item in enumerate(rubric.items[:-1]):  # not all the same (that asks for a confirmation)
        me.save_item(rating.id, item.id, score=1 + k % 2, not_applicable=False)
    prefix = f"rate:{validity.recording_id}:{validity.tutor_id}:{mark.id}:{Capacity.MONITORING.value}"

    sign_in(page, app_server, RATER, f"/rate?recording={validity.recording_id}&tutor={validity.tutor_id}")
    app_server.wait_until_ready(page)
    video = page.locator("video.sr-video")
    expect(video).to_be_visible()
    page.wait_for_function("v => v.readyState >= 1", arg=video.element_handle(), timeout=15_000)
    video.evaluate("""(v, events) => { v.muted = true; v.currentTime = 7; v.__marker = 1; v.__events = [];
                      for (const e of events) v.addEventListener(e, () => v.__events.push(e)); }""",
                   list(WATCHED_EVENTS))  # fmt: skip
    page.wait_for_function("v => Math.abs(v.currentTime - 7) < 0.5", arg=video.element_handle(), timeout=5_000)

    # See an example: the clip plays in a dialog from its start; the session's video stays put.
    clip = svc.store.exemplars()[0]
    example = page.get_by_role("button", name=f"See an example of {clip.score}").first
    example.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    shown = dialog.locator("video")
    expect(shown).to_have_count(1)
    page.wait_for_function("v => v.readyState >= 1", arg=shown.element_handle(), timeout=15_000)
    shown.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.currentTime > 0.3", arg=shown.element_handle(), timeout=10_000)
    src = shown.get_attribute("src") or ""
    assert "/recordings/exemplars/" in src, f"the clip alone, not its recording: {src}"
    played = next(c for c in svc.store.exemplars() if f"/recordings/exemplars/{c.id}?" in src)
    length = shown.evaluate("v => v.duration")
    assert abs(length - (played.end_seconds - played.start_seconds)) < 0.5, f"a clip of {length} s"
    assert any((a.range_header or "").startswith(f"exemplar clip {played.id}") and a.status_code in (200, 206)
               for a in svc.media.access_log(person_id=mark.id, limit=100)), "plays of the clip are in the access log"
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    state = video.evaluate("v => ({marker: v.__marker, t: v.currentTime, events: v.__events})")
    assert state["marker"] == 1, "the session's <video> was replaced"
    assert abs(state["t"] - 7) < 0.5, f"the session's video moved to {state['t']:.2f} s"
    assert state["events"] == [], f"the session's video was reloaded: {state['events']}"

    # Score the last item, submit, and the comparison shows.
    last = rubric.items[-1]
    group = page.get_by_role("radiogroup", name=f"Score for {last.title}", exact=True)
    group.locator('label[data-testid="stRadioOption"]').filter(has_text=f"2 · {rubric.point(2).label}").click()
    app_server.wait_until_ready(page)
    submit = page.get_by_role("button", name="Submit rating")
    expect(submit).to_be_enabled()
    submit.click()
    app_server.wait_until_ready(page)
    comparison = page.locator(".st-key-rate-comparison")
    expect(comparison).to_contain_text("Your scores beside the master scores")
    expect(comparison).to_contain_text("mean signed difference")
    expect(comparison.locator("table")).to_contain_text("Master")

    # A master's evidence moment: the session's video seeks there (the same element).
    bench = next(b for b in svc.store.benchmarks() if b.recording_id == validity.recording_id)
    moment = next(m for m in svc.store.master_scores(bench.id).scores if m.moments)
    seek = page.locator(_css(f"{prefix}:seek:{moment.item_id}:0")).get_by_role("button")
    seek.click()
    page.wait_for_function(f"v => Math.abs(v.currentTime - {moment.moments[0]}) < 0.5", arg=video.element_handle(),
                           timeout=10_000)  # fmt: skip
    assert video.evaluate("v => v.__marker") == 1, "the session's <video> was replaced by the seek"
    # ... and again after the video moved on
    video.evaluate("v => { v.currentTime = 1; }")
    page.wait_for_function("v => v.currentTime < 2", arg=video.element_handle(), timeout=5_000)
    seek.click()
    page.wait_for_function(f"v => Math.abs(v.currentTime - {moment.moments[0]}) < 0.5", arg=video.element_handle(),
                           timeout=10_000)  # fmt: skip
