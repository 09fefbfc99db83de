"""Access by URL in a real browser: a tutor who types the address of another tutor's session
gets no player and no form, only a message; recording URLs play only when signed for the
person whose viewer cookie comes with them, untampered, and only for sessions in their reach."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import APIRequestContext, Browser, expect

from session_rater.domain.access import Action
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services
from session_rater.usecases.recording_links import signed_recording_path

from conftest import person_named, sign_in

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

TUTOR = "Jo Bell"
RANGE = {"Range": "bytes=0-99"}


def _status(request: APIRequestContext, url: str) -> int:
    return request.get(url, headers=RANGE, max_redirects=0).status


def test_a_tutor_cannot_open_another_tutors_session_by_url_nor_play_its_recording(
    browser: Browser, app_server: AppServer, app_services: Services
) -> None:
    svc = app_services
    jo = person_named(svc, TUTOR)
    playable = [r for r in svc.store.list_recordings() if svc.recording_path(r).is_file()]
    mine = next(r for r in playable if jo.id in {t.id for t in r.tutors})
    theirs = next(r for r in playable if jo.id not in {t.id for t in r.tutors})
    assert not Permitted(svc, jo).decide(Action.VIEW_SESSION, theirs), "the demo should keep Jo out of this session"
    # Someone who may play that session, for a URL signed for another person.
    owner = next(p for p in svc.store.list_people()
                 if p.id != jo.id and Permitted(svc, p).decide(Action.PLAY_RECORDING, theirs))

    context = browser.new_context(viewport={"width": 1440, "height": 960})
    try:
        page = context.new_page()
        # By URL: the other tutors' session is refused, with nothing of it shown.
        sign_in(page, app_server, TUTOR, f"/rate?recording={theirs.id}&tutor={theirs.tutors[0].id}")
        main = page.get_by_test_id("stMain")
        expect(main).to_contain_text(f"Session {theirs.id} does not exist or is not one you can open")
        app_server.wait_until_ready(page)
        expect(page.locator("video")).to_have_count(0)
        expect(page.get_by_role("radiogroup")).to_have_count(0)
        expect(main).not_to_contain_text(theirs.label)
        # ... exactly as for a session that does not exist (ids cannot be probed).
        missing = max(r.id for r in svc.store.list_recordings()) + 1000
        page.goto(app_server.url(f"/rate?recording={missing}"))
        expect(main).to_contain_text(f"Session {missing} does not exist or is not one you can open")

        # Her own session plays (this sets her viewer cookie, as the player does).
        page.goto(app_server.url(f"/rate?recording={mine.id}&tutor={jo.id}"))
        app_server.wait_until_ready(page)
        video = page.locator("video.sr-video")
        expect(video).to_be_visible()
        src = video.get_attribute("src") or ""
        assert _status(context.request, src) == 206

        # Tampered copies of her own URL: another recording, another person, another expiry, a bad signature.
        parts = urlsplit(src)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        base = f"{parts.scheme}://{parts.netloc}"
        tampered = {
            "recording": f"{base}/recordings/{theirs.id}?{parts.query}",
            "person": f"{base}{parts.path}?{urlencode({**query, 'p': owner.id})}",
            "expiry": f"{base}{parts.path}?{urlencode({**query, 'exp': int(query['exp']) + 3600})}",
            "signature": f"{base}{parts.path}?{urlencode({**query, 'sig': query['sig'][::-1]})}",
            "no signature": f"{base}{parts.path}?{urlencode({k: v for k, v in query.items() if k != 'sig'})}",
        }
        for what, url in tampered.items():
            assert _status(context.request, url) == 403, f"a URL with a changed {what} must be refused"

        # A genuine URL for the other session, signed for someone who may play it: not with her cookie.
        for_owner = app_server.url(signed_recording_path(svc.secret, theirs.id, owner.id))
        response = context.request.get(for_owner, headers=RANGE)
        assert response.status == 403
        assert "issued to someone else" in response.text()
        # Even a validly signed URL naming her is refused: the route checks her access again.
        for_her = app_server.url(signed_recording_path(svc.secret, theirs.id, jo.id))
        response = context.request.get(for_her, headers=RANGE)
        assert response.status == 403
        assert "You may no longer watch this recording" in response.text()
        assert _status(context.request, app_server.url(signed_recording_path(svc.secret, mine.id, jo.id))) == 206
    finally:
        context.close()
