"""Keyboard only: a treatment manager signs in, opens a session from My work, plays and pauses
the recording, scores all the items, adds an evidence note with a moment and submits, with
``page.keyboard`` alone (no clicks), the focus visible at every stop. Prints the key presses
it took. After submitting, the focus is on the message that says what happens next."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from conftest import person_named, wait_until_ready
from playwright.sync_api import Page, expect

from session_rater.domain.model import Capacity
from session_rater.usecases.demo import DEMO_PASSWORD, demo_email
from session_rater.usecases.monitoring import Monitoring
from session_rater.usecases.permitted import Permitted

if TYPE_CHECKING:
    from conftest import AppServer

    from session_rater.usecases.services import Services

pytestmark = pytest.mark.e2e

MANAGER = "Helen Price"
NOTE = "Aims set out at the start"
MOMENT = "0:10"

# The focused element, looking into shadow roots (the player is a component with one).
FOCUSED_JS = """() => {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    if (!el || el === document.body) return null;
    const group = el.closest('[role="radiogroup"]');
    const style = getComputedStyle(el);
    return {
        tag: el.tagName, type: el.type || '', text: (el.innerText || el.value || '').trim().slice(0, 80),
        label: el.getAttribute('aria-label') || '', group: group ? group.getAttribute('aria-label') : null,
        testid: (el.closest('[data-testid]') || {}).dataset?.testid || '',
        visible: el.matches(':focus-visible'),
        outline: style.outlineStyle !== 'none' || style.boxShadow !== 'none',
        result: !!el.closest('.st-key-rate-result'),
    };
}"""


class Keys:
    """Counts what the keyboard does: presses (Tab, Enter, Space, arrows) and typed characters."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.presses = 0
        self.typed = 0
        self.unseen: list[dict[str, Any]] = []

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.presses += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.typed += len(text)

    def focused(self) -> dict[str, Any] | None:
        return self.page.evaluate(FOCUSED_JS)  # type: ignore[no-any-return]

    def tab_to(self, wanted: Any, what: str, limit: int = 120) -> dict[str, Any]:
        """Press Tab until the focused element is ``wanted``; every stop must show its focus."""
        for _ in range(limit):
            self.press("Tab")
            focused = self.focused()
            if focused is None:
                continue
            # A <video>'s own controls draw their focus ring inside the browser's shadow DOM.
            if not focused["visible"] and focused["tag"] != "VIDEO":
                self.unseen.append(focused)
            if wanted(focused):
                return focused
        pytest.fail(f"{what} cannot be reached with Tab ({limit} presses); last focus: {self.focused()}")


def test_a_treatment_manager_rates_a_session_with_the_keyboard_alone(
    page: Page, app_server: AppServer, app_services: Services
) -> None:
    keys = Keys(page)
    helen = person_named(app_services, MANAGER)
    # My work lists the sessions of a monitoring sample: an administrator draws one.
    admin = person_named(app_services, "Dev Sharma")
    monitoring = Monitoring(Permitted(app_services, admin))
    catalog = monitoring.catalog()
    monitoring.draw(catalog.versions(catalog.names()[0])[-1], seed=13, save=True)
    page.goto(app_server.url("/signin?next=/queue"))
    keys.tab_to(lambda f: f["tag"] == "INPUT" and f["type"] == "email", "the email box", limit=10)
    keys.type(demo_email(MANAGER))
    keys.press("Tab")
    keys.type(DEMO_PASSWORD)
    keys.press("Enter")
    page.wait_for_url(lambda url: "/signin" not in url)
    wait_until_ready(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Signed in as {MANAGER}")

    # My work: the first session not started.
    keys.tab_to(lambda f: f["tag"] == "BUTTON" and any(line.startswith("Rate ") for line in f["text"].splitlines()),
                "a session to start on My work (its button names the tutor)")  # fmt: skip
    keys.press("Enter")
    page.wait_for_url(lambda url: "/rate" in url)
    wait_until_ready(page)
    video = page.locator("video.sr-video")
    expect(video).to_be_visible()
    expect(page.get_by_role("radiogroup").first).to_be_visible()
    recording_id = int(page.url.split("recording=")[1].split("&")[0])
    tutor_id = int(page.url.split("tutor=")[1].split("&")[0])

    # Play, then pause, from the player's own button.
    keys.tab_to(lambda f: f["tag"] == "BUTTON" and "Play" in (f["text"] + f["label"]), "the player's Play button")
    video.evaluate("el => { el.muted = true; }")
    keys.press("Enter")
    page.wait_for_function("el => !el.paused && el.currentTime > 0.5", arg=video.element_handle(), timeout=15_000)
    keys.press("Enter")
    page.wait_for_function("el => el.paused", arg=video.element_handle(), timeout=5_000)

    # Score every item: Tab into its radio group, then Space (the first score) or an arrow (the
    # next one), so that the scores are not all the same. The first item gets a note and a moment.
    titles = [item.title for item in app_services.rubrics()[0].items]
    for n, title in enumerate(titles):
        keys.tab_to(lambda f, t=title: f["group"] == f"Score for {t}", f"the score of {title!r}")  # type: ignore[misc]
        keys.press("Space" if n % 3 else "ArrowDown")
        time.sleep(0.3)
        wait_until_ready(page)
        if n == 0:
            keys.tab_to(lambda f: f["tag"] == "TEXTAREA", "the evidence box of the first item", limit=3)
            keys.type(NOTE)
            keys.tab_to(lambda f: f["tag"] == "INPUT" and f["type"] == "text", "the moment box of the first item", limit=3)
            keys.type(MOMENT)
            wait_until_ready(page)
    expect(page.get_by_role("button", name="Submit rating")).to_be_enabled()  # (disabled buttons take no focus)
    keys.tab_to(lambda f: f["tag"] == "BUTTON" and f["text"] == "Submit rating", "Submit rating", limit=250)
    time.sleep(0.5)
    wait_until_ready(page)
    keys.press("Enter")
    wait_until_ready(page)

    # The focus is on the message after submitting, which says what happens next.
    result = page.locator(".st-key-rate-result")
    expect(result).to_contain_text("Rating submitted")
    expect(result).to_contain_text("Supervision page")
    page.wait_for_function("() => document.activeElement && !!document.activeElement.closest('.st-key-rate-result')",
                           timeout=10_000)

    rating = app_services.store.find_rating(recording_id, tutor_id, helen.id, Capacity.MONITORING)
    assert rating is not None and rating.is_submitted
    assert len([s for s in rating.scores.values() if s.is_answered]) == len(titles)
    first = rating.scores[app_services.rubrics()[0].items[0].id]
    assert first.evidence == NOTE and first.moment_seconds == 10.0
    assert not keys.unseen, f"focus not visible at: {keys.unseen[:5]}"
    shot = app_server.data_dir / "rate-by-keyboard.png"
    page.screenshot(path=str(shot))
    print(f"keyboard only: {keys.presses} key presses (Tab, Enter, Space, arrows) + {keys.typed} typed characters; "
          f"screenshot {shot}")
