"""The Sessions page in Chromium with the keyboard alone (issue 13): a tutor reaches the
session chooser before the table (whose cells take Tab), opens a session with Enter, and
reaches Rate, offered only for their own delivery, without passing through the table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from conftest import person_named, sign_in
from playwright.sync_api import Browser, expect

from session_rater.usecases.services import Services

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

TUTOR = "Jo Bell"
MAX_TABS = 60


def _tab_to(page, is_target: str) -> int:  # type: ignore[no-untyped-def]
    """Press Tab until ``is_target`` (a JS predicate on document.activeElement) holds; the presses."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return !!e && ({is_target}); }}"):
            return presses
    raise AssertionError(f"not reached with {MAX_TABS} presses of Tab: {is_target}")


def test_a_tutor_opens_a_session_from_the_sessions_page_with_the_keyboard_and_rates_their_own_delivery(
    browser: Browser, app_server: AppServer, app_services: Services
) -> None:
    jo = person_named(app_services, TUTOR)
    mine = next(r for r in app_services.store.list_recordings() if jo.id in {t.id for t in r.tutors})
    co_tutor = next(t for t in mine.tutors if t.id != jo.id)
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    try:
        page = context.new_page()
        sign_in(page, app_server, TUTOR, "/")
        expect(page.get_by_test_id("stDataFrame")).to_be_visible()
        chooser = "e.tagName === 'INPUT' && e.getAttribute('aria-label') === 'Open a session on this page'"
        presses = _tab_to(page, chooser)
        label = f"{mine.recorded_on:%d/%m/%Y} · {mine.group_name} session {mine.session_number}"
        page.keyboard.type(label)
        page.keyboard.press("Enter")
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("heading", name=mine.label)).to_be_visible()
        app_server.wait_until_ready(page)
        # Rate only beside the tutor's own name; the co-tutor's row says why not.
        expect(main.get_by_role("button", name="Rate")).to_have_count(1)
        expect(main).to_contain_text(f"{co_tutor.display_name}")
        expect(main).to_contain_text("Not yours to rate: a tutor self-assesses their own delivery only")
        presses += _tab_to(page, "e.tagName === 'BUTTON' && e.textContent.includes('Rate')")
        page.keyboard.press("Enter")
        expect(main.get_by_role("heading", name="Rate a session")).to_be_visible()
        assert f"recording={mine.id}" in page.url and f"tutor={jo.id}" in page.url
        print(f"key presses: {presses} Tab, one label typed, 2 Enter")
    finally:
        context.close()


def test_enter_on_a_cell_of_the_sessions_table_opens_its_session_and_focuses_its_first_button(
    browser: Browser, app_server: AppServer, app_services: Services
) -> None:
    """Issue 13: opening a session from the Sessions table works with Enter (the grid's own way
    is Shift+Space, which nobody guesses)."""
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    try:
        page = context.new_page()
        sign_in(page, app_server, TUTOR, "/")
        expect(page.get_by_test_id("stDataFrame")).to_be_visible()
        in_table = "!!e.closest('.st-key-sessions_table') && e.tagName !== 'BUTTON'"  # the grid, not its toolbar
        presses = _tab_to(page, in_table)
        page.keyboard.press("ArrowDown")  # onto the first row's cell
        page.keyboard.press("Enter")
        detail = page.locator(".st-key-sessions_detail")
        expect(detail.get_by_role("heading")).to_be_visible()
        expect(page.locator(".st-key-sessions_detail [data-testid=stButton] button:focus")).to_have_count(1)
        focused = page.evaluate("() => document.activeElement.textContent")
        assert "Rate" in focused, focused  # the tutor's own row comes first: Rate their delivery
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("stMain").get_by_role("heading", name="Rate a session")).to_be_visible()
        print(f"key presses: {presses} Tab, 1 arrow, 2 Enter")
    finally:
        context.close()
