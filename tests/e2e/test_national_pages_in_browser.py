"""benchmarks/national_pages.py (issue 17) in Chromium: a click that sends nothing to the
server settles at once, and a page still running is not taken as settled. The browser is the
e2e session's (a second Playwright in the same process fails while that one runs)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser


def test_a_click_the_browser_answers_alone_settles_at_once(national_pages, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    """A click that sends nothing to the server (a tab) settles with 0 s: the run once hung
    there, Playwright waiting for a truthy 0."""
    pages = national_pages
    html = ('<div data-testid="stApp" data-test-script-state="notRunning" data-test-connection-state="CONNECTED">'
            '<div data-testid="stMain"><h1>Compare</h1><button>Across sessions</button></div></div>')  # fmt: skip
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(pages.WIRE_JS)
        page.goto("data:text/html," + html)
        page.get_by_role("button").click()
        assert pages.settle_after_click(page, timeout=10) == 0.0
        page.evaluate("() => document.querySelector('[data-testid=stApp]').setAttribute('data-test-script-state', 'running')")
        page.get_by_role("button").click()
        with pytest.raises(Exception, match="Timeout"):
            pages.settle_after_click(page, timeout=1.5)  # still running: not settled
        assert page.evaluate(pages.LOADED_JS) is None  # no message from a server yet: not loaded
    finally:
        context.close()
