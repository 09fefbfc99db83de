"""Signing in and out in a real browser.

* Local accounts: the app without a session cookie shows the sign-in screen; a wrong password
  is refused with a clear message and no cookie; the right one lands on the app, signed in;
  signing out returns to the sign-in page, and the old cookie no longer signs anyone in.
* Organisation sign-in (OpenID Connect through ``st.login``): a second app, started in a
  folder whose ``.streamlit/secrets.toml`` has an ``[auth]`` section pointing at a fake
  provider (fake_idp.py), signs a demo person in by their email; a provider user with no
  account is told so.

The organisation app is opened at ``localhost`` throughout (its redirect URI's host): the
identity cookie is set for that host name, and Streamlit checks the page's origin against it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import select

from session_rater.db import models as m
from session_rater.usecases.demo import DEMO_PASSWORD, demo_email
from session_rater.usecases.services import Services, open_services
from session_rater.settings import load_settings
from session_rater.web.signin import SESSION_COOKIE

from conftest import STARTUP_TIMEOUT_S, free_port, launch_app, person_named, stop_app, wait_until_ready
from fake_idp import FakeIdP, IdpUser

if TYPE_CHECKING:
    from conftest import AppServer

pytestmark = pytest.mark.e2e

LOCAL_PERSON = "Ruth Okafor"  # external assessor; no other e2e test signs in as her
ORGANISATION_PERSON = "Helen Price"
VIEWPORT = {"width": 1440, "height": 960}


def _cookie(context: BrowserContext, name: str) -> dict | None:  # type: ignore[type-arg]
    return next((c for c in context.cookies() if c["name"] == name), None)


def _follow(page: Page, link: Locator, path: str, timeout_s: float = 20.0) -> Page:
    """Click ``link`` and return the page that shows ``path``: ``page`` itself, or the new tab
    the link opened (st.link_button opens its URL in a new tab)."""
    link.click()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for candidate in reversed(page.context.pages):
            if path in candidate.url:
                candidate.wait_for_load_state()
                return candidate
        page.wait_for_timeout(100)
    raise AssertionError(f"clicking {link} opened no page at {path}: {[p.url for p in page.context.pages]}")


def _sign_in_screen(page: Page) -> None:
    """The app's own sign-in screen (not the /signin form): title, no one signed in."""
    wait_until_ready(page)
    expect(page.get_by_role("heading", name="Session Rater")).to_be_visible()
    expect(page.get_by_text("Sign in to go on")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    expect(page.get_by_role("link", name="Sessions")).to_have_count(0)  # no pages offered


def test_local_sign_in_refuses_a_wrong_password_then_signs_in_and_out(browser: Browser, app_server: AppServer) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(app_server.url("/"))
        _sign_in_screen(page)
        assert _cookie(context, SESSION_COOKIE) is None

        form = _follow(page, page.get_by_role("link", name="Sign in"), "/signin")
        expect(form.get_by_role("heading", name="Session Rater")).to_be_visible()
        email = demo_email(LOCAL_PERSON)

        # A wrong password: refused, said plainly, no session cookie, the email kept.
        form.locator("#email").fill(email)
        form.locator("#password").fill("not-the-password")
        form.get_by_role("button", name="Sign in").click()
        alert = form.get_by_role("alert")
        expect(alert).to_contain_text("That email and password do not match an account")
        assert "/signin" in form.url
        expect(form.locator("#email")).to_have_value(email)
        expect(form.locator("#password")).to_have_value("")
        assert _cookie(context, SESSION_COOKIE) is None, "a refused sign-in must not set a session cookie"

        # The right password: back to the app, signed in.
        form.locator("#password").fill(DEMO_PASSWORD)
        form.get_by_role("button", name="Sign in").click()
        form.wait_for_url(lambda url: "/signin" not in url)
        wait_until_ready(form)
        sidebar = form.get_by_test_id("stSidebar")
        expect(sidebar).to_contain_text(f"Signed in as {LOCAL_PERSON}")
        expect(sidebar).to_contain_text("external assessor")
        expect(form.get_by_role("heading", name="Recorded sessions")).to_be_visible()
        cookie = _cookie(context, SESSION_COOKIE)
        assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax", cookie
        old_token = cookie["value"]

        # Signing out: the sign-in page says so, and the cookie is gone from this browser.
        signed_out = _follow(form, sidebar.get_by_role("button", name="Sign out"), "/signin")
        expect(signed_out.get_by_role("alert")).to_contain_text("You have signed out.")
        expect(signed_out.locator("#email")).to_be_visible()
        assert _cookie(context, SESSION_COOKIE) is None
        form.goto(app_server.url("/"))
        _sign_in_screen(form)
    finally:
        context.close()

    # The old cookie, replayed from another browser, signs nobody in.
    replay = browser.new_context(viewport=VIEWPORT)
    try:
        replay.add_cookies([{"name": SESSION_COOKIE, "value": old_token, "url": app_server.base_url}])
        page = replay.new_page()
        page.goto(app_server.url("/"))
        _sign_in_screen(page)
        expect(page.get_by_text("Your session ended because you signed out")).to_be_visible()
    finally:
        replay.close()


# -- organisation sign-in ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_idp() -> Iterator[FakeIdP]:
    idp = FakeIdP().start()
    try:
        yield idp
    finally:
        idp.stop()


@pytest.fixture(scope="module")
def organisation_app(chromium_executable: Path, fake_idp: FakeIdP, tmp_path_factory: pytest.TempPathFactory,
                     browser: Browser) -> Iterator[AppServer]:
    """The app started in a folder whose .streamlit/secrets.toml sets up the fake provider,
    with its own data folder (demo loaded on its first run)."""
    folder = tmp_path_factory.mktemp("organisation-app")
    port = free_port()
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{fake_idp.client_id}"\n'
        f'client_secret = "{fake_idp.client_secret}"\n'
        f'server_metadata_url = "{fake_idp.metadata_url}"\n'
    )
    data_dir = folder / "data"
    data_dir.mkdir()
    server = launch_app(data_dir, port=port, cwd=folder, host="localhost")
    try:
        warm_up = browser.new_context()  # the first script run loads the demo
        try:
            page = warm_up.new_page()
            page.goto(server.url("/"))
            wait_until_ready(page, timeout_ms=STARTUP_TIMEOUT_S * 1000)
            expect(page.get_by_role("button", name="Sign in with your organisation")).to_be_visible(
                timeout=STARTUP_TIMEOUT_S * 1000
            )
        finally:
            warm_up.close()
        yield server
    finally:
        stop_app(server)


def _sign_in_with_organisation(page: Page, server: AppServer) -> None:
    page.goto(server.url("/"))
    wait_until_ready(page)
    # /auth/login -> the provider's /authorize -> /oauth2callback -> back to the app.
    with page.expect_response(lambda response: "/oauth2callback" in response.url):
        page.get_by_role("button", name="Sign in with your organisation").click()
    page.wait_for_url(lambda url: url.startswith(server.base_url) and "oauth2callback" not in url)
    wait_until_ready(page)


def test_organisation_sign_in_signs_a_known_person_in_by_email_and_out_again(
    browser: Browser, organisation_app: AppServer, fake_idp: FakeIdP
) -> None:
    fake_idp.user = IdpUser(sub="idp-subject-helen", email=demo_email(ORGANISATION_PERSON), name=ORGANISATION_PERSON)
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        _sign_in_with_organisation(page, organisation_app)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar).to_contain_text(f"Signed in as {ORGANISATION_PERSON}")
        expect(sidebar).to_contain_text("treatment manager")
        assert fake_idp.tokens_issued[-1]["email"] == demo_email(ORGANISATION_PERSON)
        identity = _cookie(context, "_streamlit_user")
        assert identity is not None and identity["httpOnly"] and identity["domain"] == "localhost", identity
        assert _cookie(context, SESSION_COOKIE) is None, "organisation sign-in uses no local session cookie"

        # The provider's subject is now linked to Helen's account.
        svc = open_services(load_settings(organisation_app.env), load_demo=False)
        try:
            assert _subject_of(svc, ORGANISATION_PERSON) == "idp-subject-helen"
        finally:
            svc.store.engine.dispose()

        # Signing out returns to the sign-in screen.
        with page.expect_response(lambda response: "/auth/logout" in response.url):
            sidebar.get_by_role("button", name="Sign out").click()
        page.wait_for_url(lambda url: url.startswith(organisation_app.base_url) and "/auth/" not in url)
        _sign_in_screen(page)
        expect(page.get_by_role("button", name="Sign in with your organisation")).to_be_visible()
        assert _cookie(context, "_streamlit_user") is None
    finally:
        context.close()


def _subject_of(svc: Services, name: str) -> str | None:
    person = person_named(svc, name)
    with svc.store.engine.connect() as connection:
        return connection.execute(select(m.Person.oidc_subject).where(m.Person.id == person.id)).scalar_one()


def test_organisation_sign_in_of_someone_without_an_account_says_so(
    browser: Browser, organisation_app: AppServer, fake_idp: FakeIdP
) -> None:
    stranger = IdpUser(sub="idp-subject-stranger", email="stranger@elsewhere.example", name="Sam Stranger")
    fake_idp.user = stranger
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        _sign_in_with_organisation(page, organisation_app)
        assert fake_idp.tokens_issued[-1]["email"] == stranger.email
        main = page.get_by_test_id("stMain")
        expect(main).to_contain_text(
            f"{stranger.email} signed in with your organisation, but has no Session Rater account"
        )
        expect(main).to_contain_text("Ask an administrator to add you with that email address")
        expect(page.get_by_role("button", name="Sign out of the organisation account")).to_be_visible()
        expect(page.get_by_text("Signed in as")).to_have_count(0)
        expect(page.get_by_role("link", name="Sessions")).to_have_count(0)
    finally:
        context.close()
