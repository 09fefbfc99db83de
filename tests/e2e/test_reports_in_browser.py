"""Supervision feedback in a real browser: an evidence moment's link opens the session's
recording at that moment, and the notes under the player jump there; a tutor who opens another
tutor's feedback by its address gets a message and no player."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from session_rater.usecases.services import Services

from conftest import person_named, sign_in

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e


def _session(svc: Services, prefix: str) -> int:
    return next(r.id for r in svc.store.list_recordings() if Path(r.file_path).name.startswith(prefix))


def test_an_evidence_moment_opens_the_recording_at_that_moment(page: Page, app_server: AppServer,
                                                               app_services: Services) -> None:  # fmt: skip
    session, tom = _session(app_services, "tf02-s03"), person_named(app_services, "Tom Hughes")
    path = f"/supervision?recording={session}&tutor={tom.id}&at=12"
    sign_in(page, app_server, "Helen Price", path)
    video = page.locator("video")
    expect(video).to_have_count(1, timeout=30_000)
    page.wait_for_function("v => v.readyState >= 1", arg=video.element_handle(), timeout=30_000)
    assert abs(video.evaluate("v => v.currentTime") - 12) < 0.5
    note = page.locator(".sr-note").first  # a note under the player: clicking it seeks there
    wanted = float(note.get_attribute("data-t") or 0)
    note.click()
    page.wait_for_function(f"v => Math.abs(v.currentTime - {wanted}) < 0.5", arg=video.element_handle())
    expect(page.locator(".sr-stamp")).to_be_hidden()  # nothing is stamped from supervision
    link = page.get_by_role("link", name="0:", exact=False).first
    assert f"/supervision?recording={session}&tutor={tom.id}&at=" in (link.get_attribute("href") or "")


def test_a_tutor_cannot_open_another_tutors_feedback_by_its_address(page: Page, app_server: AppServer,
                                                                   app_services: Services) -> None:  # fmt: skip
    session, tom = _session(app_services, "tf02-s03"), person_named(app_services, "Tom Hughes")
    sign_in(page, app_server, "Jo Bell", f"/supervision?recording={session}&tutor={tom.id}")
    expect(page.get_by_text("whose supervision feedback you cannot see")).to_be_visible(timeout=30_000)
    expect(page.locator("video")).to_have_count(0)
