"""Nobody loses a score: the server is killed (SIGKILL, no chance to clean up) in the middle
of a rating, and after a restart every score, note and moment the rater entered is there."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, expect

from session_rater.domain.model import Capacity
from session_rater.usecases.services import open_services
from session_rater.settings import load_settings

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

CLIP = "tf01-s03-problem-solving.mp4"
ITEMS = 5
RATER = "Dev Sharma"  # programme manager: rates as the benchmark


def _ids(server: AppServer) -> tuple[int, int, int]:
    svc = open_services(load_settings(server.env), load_demo=False)
    try:
        recording = next(r for r in svc.store.list_recordings() if Path(r.file_path).name == CLIP)
        people = {p.display_name: p.id for p in svc.store.list_people()}
        return recording.id, people["Priya Nair"], people[RATER]
    finally:
        svc.store.engine.dispose()


def _wait_until_saved(server: AppServer, recording_id: int, tutor_id: int, rater_id: int, scores: dict[str, int]) -> None:
    """Until the server has written every entry (a click is acknowledged before its callback
    has run), so that the kill comes after the saves, as it would for a rater."""
    import time

    svc = open_services(load_settings(server.env), load_demo=False)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rating = svc.store.find_rating(recording_id, tutor_id, rater_id, Capacity.BENCHMARK)
            if rating is not None and {i: s.score for i, s in rating.scores.items() if s.score is not None} == scores \
                    and any(s.evidence for s in rating.scores.values()):
                return
            time.sleep(0.2)
        raise AssertionError("the entries were not saved within 30 s")
    finally:
        svc.store.engine.dispose()


def test_every_entered_score_survives_a_killed_server(
    browser: Browser, chromium_executable: Path, tmp_path: Path
) -> None:
    from conftest import launch_app, sign_in, stop_app

    first = launch_app(tmp_path)
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(first.url("/"))  # the first run loads the demo
        first.wait_until_ready(page, timeout_ms=90_000)
        recording_id, tutor_id, rater_id = _ids(first)
        path = f"/rate?recording={recording_id}&tutor={tutor_id}"
        sign_in(page, first, RATER, path)
        first.wait_until_ready(page)
        svc = open_services(load_settings(first.env), load_demo=False)
        rubric = svc.rubrics()[0]
        svc.store.engine.dispose()
        entered: dict[str, int] = {}
        for k, item in enumerate(rubric.items[:ITEMS]):
            score = k % 4
            group = page.get_by_role("radiogroup", name=f"Score for {item.title}", exact=True)
            group.locator('label[data-testid="stRadioOption"]').filter(has_text=f"{score} · ").click()
            expect(group.locator('input[type="radio"]').nth(score)).to_be_checked(timeout=20_000)
            first.wait_until_ready(page)
            entered[item.id] = score
        note = page.get_by_label("Evidence").first
        note.fill("Recap of last session; aims stated")
        note.press("Tab")  # a note is saved when the rater leaves the box
        first.wait_until_ready(page)
        _wait_until_saved(first, recording_id, tutor_id, rater_id, entered)  # the server has it: now kill
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
        context.close()
    finally:
        stop_app(first)

    second = launch_app(tmp_path)
    try:
        svc = open_services(load_settings(second.env), load_demo=False)
        rating = svc.store.find_rating(recording_id, tutor_id, rater_id, Capacity.BENCHMARK)
        svc.store.engine.dispose()
        assert rating is not None
        assert {i: s.score for i, s in rating.scores.items() if s.score is not None} == entered
        assert rating.scores[rubric.items[0].id].evidence == "Recap of last session; aims stated"

        context = browser.new_context()
        page = context.new_page()
        sign_in(page, second, RATER, path)
        second.wait_until_ready(page)
        for item in rubric.items[:ITEMS]:
            group = page.get_by_role("radiogroup", name=f"Score for {item.title}", exact=True)
            expect(group.locator('input[type="radio"]').nth(entered[item.id])).to_be_checked()
        expect(page.get_by_label("Evidence").first).to_have_value("Recap of last session; aims stated")
        context.close()
    finally:
        stop_app(second)
