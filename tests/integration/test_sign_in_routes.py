"""The HTTP routes beside Streamlit, through a real Starlette app on SQLite and PostgreSQL:
/signin and /signout (web_auth) with a clock the tests move, and the recording route (web)
authorised by the app's own rule (usecases.process.may_play: the account open, the session in the
person's scope) on real Services."""

from __future__ import annotations

import datetime as dt
import html
import ipaddress
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from session_rater.usecases.accounts import Accounts, token_hash
from session_rater.db.accounts_store import AccountsStore
from session_rater.db.store import PersonView, RecordingSpec, RecordingView, Store
from session_rater.domain.model import Role
from session_rater.errors import AccessDeniedError, SessionEndedError
from session_rater.usecases.permitted import Permitted
from session_rater.usecases.services import Services, open_services
from session_rater.settings import PROJECT_ROOT, load_settings
from session_rater.usecases import process as server
from session_rater.web.routes import routes
from session_rater.usecases.recording_links import VIEWER_COOKIE, signed_recording_path, viewer_token
from session_rater.web.signin import CSRF_COOKIE, SESSION_COOKIE, make_auth_routes

PASSWORD = "correct horse battery staple"
EMAIL = "tess.tutor@example.org"
SECRET = "s" * 64


def cheap_hasher() -> PasswordHasher:
    """argon2id at its cheapest: the routes do not depend on the hashing cost."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str | bool]]:
    """The Set-Cookie headers of a response, by cookie name, with their attributes."""
    cookies: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            cookies[name] = {"value": morsel.value, **{k: v for k, v in morsel.items() if v}}
    return cookies


# -- /signin and /signout ------------------------------------------------------------------------
@pytest.fixture
def accounts(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Accounts:
    monkeypatch.setattr("session_rater.usecases.accounts.PasswordHasher", cheap_hasher)
    accounts = Accounts(AccountsStore(engine), Store(engine), idle=dt.timedelta(minutes=30), clock=Clock())
    accounts.store.create_person("Tess Tutor", EMAIL, [Role.TUTOR], password_hash=accounts.hash_password(PASSWORD))
    return accounts


@pytest.fixture
def browser(accounts: Accounts) -> TestClient:
    app = Starlette(routes=make_auth_routes(lambda: accounts))
    return TestClient(app, follow_redirects=False)


def form_token(page: httpx.Response) -> str:
    """The hidden form token of a page's form."""
    found = re.search(r'name="csrf" value="([^"]*)"', page.text)
    assert found, "the form has no token"
    return html.unescape(found.group(1))


def sign_in(browser: TestClient, password: str = PASSWORD, next_path: str | None = "/rate?recording=3&tutor=2",
            email: str = EMAIL, **headers: str) -> httpx.Response:
    """What a browser does: open the sign-in page (which sets its form-token cookie), then
    send the form with the token."""
    query = "?" + urlencode({"next": next_path}) if next_path is not None else ""
    token = form_token(browser.get("/signin" + query))
    return browser.post("/signin" + query, data={"email": email, "password": password, "csrf": token},
                        headers=headers)


def sign_out(browser: TestClient) -> httpx.Response:
    """What the app's Sign out button does: POST with the token of this session."""
    confirm = browser.get("/signout")
    return browser.post("/signout", data={"csrf": form_token(confirm)})


def test_the_sign_in_page_shows_the_form(browser: TestClient) -> None:
    page = browser.get("/signin?" + urlencode({"next": "/queue"}))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/signin?next=%2Fqueue">' in page.text
    assert 'name="email"' in page.text and 'name="password" type="password"' in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
    cookies = set_cookies(page)
    assert set(cookies) == {CSRF_COOKIE}  # the form token's cookie only: nobody is signed in
    token = cookies[CSRF_COOKIE]
    assert token["httponly"] is True and str(token["samesite"]).lower() == "strict" and token["path"] == "/signin"
    assert form_token(page) == token["value"]


def test_a_wrong_password_is_a_401_with_the_message_and_no_cookie(browser: TestClient, accounts: Accounts) -> None:
    refused = sign_in(browser, password="not my password")
    assert refused.status_code == 401
    assert "That email and password do not match an account" in refused.text
    assert SESSION_COOKIE not in set_cookies(refused)
    assert 'value="tess.tutor@example.org"' in refused.text  # the email is kept for the next try
    unknown = sign_in(browser, email="nobody@example.org")
    assert unknown.status_code == 401 and SESSION_COOKIE not in set_cookies(unknown)
    assert accounts.store.failures_since(accounts.clock() - dt.timedelta(minutes=1), client="testclient")


def test_a_playing_recording_keeps_the_session_alive_but_never_revives_an_ended_one(
    browser: TestClient, accounts: Accounts
) -> None:
    token = sign_in(browser).cookies[SESSION_COOKIE]
    clock = accounts.clock
    for _ in range(4):  # an hour of watching, the player posting every few minutes
        clock.now += dt.timedelta(minutes=15)
        assert browser.post("/session/keepalive").status_code == 204  # the client keeps the cookie
    assert accounts.resume(token).person.email == EMAIL  # 60 minutes, never 30 idle
    clock.now += dt.timedelta(minutes=31)
    assert browser.post("/session/keepalive").status_code == 401
    with pytest.raises(SessionEndedError, match="without activity"):
        accounts.resume(token)
    browser.cookies.clear()
    assert browser.post("/session/keepalive").status_code == 401
    browser.cookies.set(SESSION_COOKIE, "made-up")
    assert browser.post("/session/keepalive").status_code == 401


def test_what_the_form_echoes_back_is_escaped(browser: TestClient) -> None:
    hostile = '"><script>alert(1)</script>'
    refused = sign_in(browser, password="wrong password", email=hostile)
    assert refused.status_code == 401 and "<script>alert(1)" not in refused.text
    notice = browser.get("/signin?" + urlencode({"ended": "1", "why": hostile}))
    assert notice.status_code == 200 and "<script>alert(1)" not in notice.text


def test_the_right_password_sets_an_httponly_lax_cookie_and_goes_back(browser: TestClient, accounts: Accounts) -> None:
    response = sign_in(browser)
    assert response.status_code == 303
    assert response.headers["location"] == "/rate?recording=3&tutor=2"
    cookie = set_cookies(response)[SESSION_COOKIE]
    assert cookie["httponly"] is True and str(cookie["samesite"]).lower() == "lax" and cookie["path"] == "/"
    assert "secure" not in cookie  # plain http here; see the https test
    assert accounts.resume(str(cookie["value"])).person.email == EMAIL


def test_the_cookie_is_secure_under_https(accounts: Accounts) -> None:
    app = Starlette(routes=make_auth_routes(lambda: accounts))
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert set_cookies(sign_in(browser))[SESSION_COOKIE]["secure"] is True


HOSTILE_NEXT = ["//evil.example", "https://evil.example/", "http:evil.example", "/\\evil.example",
                "\\\\evil.example", "evil.example", "//evil.example/%2F..", "/\t/evil.example", "/\n/evil.example", ""]


def test_next_never_leaves_the_site(browser: TestClient) -> None:
    for target in HOSTILE_NEXT:
        response = sign_in(browser, next_path=target)
        assert response.status_code == 303
        location = response.headers["location"]
        assert urlsplit(urljoin("http://testserver/signin", location)).netloc == "testserver", (target, location)
        if not target.startswith("/") or target.startswith(("//", "/\\")):
            assert location == "/", (target, location)


def test_five_failures_pause_the_account_with_a_429_even_with_the_right_password(browser: TestClient) -> None:
    for n in range(5):
        assert sign_in(browser, password=f"wrong guess {n}").status_code == 401
    paused = sign_in(browser)
    assert paused.status_code == 429 and "Too many failed sign-ins" in paused.text
    assert SESSION_COOKIE not in set_cookies(paused)


def test_signing_out_ends_the_session_and_clears_the_cookie(browser: TestClient, accounts: Accounts) -> None:
    token = str(set_cookies(sign_in(browser))[SESSION_COOKIE]["value"])
    assert browser.cookies.get(SESSION_COOKIE) == token  # the browser keeps it and sends it back
    asked = browser.get("/signout")  # a link (an old bookmark) only asks
    assert asked.status_code == 200 and accounts.resume(token).person.email == EMAIL
    out = sign_out(browser)
    assert out.status_code == 303 and out.headers["location"] == "/signin?signed_out=1"
    cleared = set_cookies(out)
    assert cleared[SESSION_COOKIE]["max-age"] == "0" and cleared[SESSION_COOKIE]["path"] == "/"
    assert cleared[VIEWER_COOKIE]["max-age"] == "0" and cleared[VIEWER_COOKIE]["path"] == "/recordings"
    with pytest.raises(SessionEndedError, match="because you signed out"):
        accounts.resume(token)
    assert "You have signed out." in browser.get(out.headers["location"]).text


# -- the recording route, authorised by the app's own rule ------------------------------------------
RECORDING_FILE = "clip.mp4"


class Cast:
    """People around one recorded session of team (Cumbria, Carlisle team) delivered by Tutor A."""

    def __init__(self, svc: Services) -> None:
        add = svc.accounts_store.create_person
        self.tutor = add("Tutor A", "a@example.org", [Role.TUTOR])
        self.other_tutor = add("Tutor B", "b@example.org", [Role.TUTOR])
        self.manager = add("Manager M", "m@example.org", [Role.TREATMENT_MANAGER])
        self.other_manager = add("Manager N", "n@example.org", [Role.TREATMENT_MANAGER])
        self.assessor = add("Assessor E", "e@example.org", [Role.EXTERNAL_ASSESSOR])
        self.admin = add("Admin Z", "z@example.org", [Role.ADMINISTRATOR], password_hash=cheap_hasher().hash(PASSWORD))
        svc.accounts_store.set_scope(self.manager.id, actor_id=self.admin.id, managed_teams=[("Cumbria", "Carlisle team")])
        svc.accounts_store.set_scope(self.other_manager.id, actor_id=self.admin.id,
                                     managed_teams=[("Cumbria", "Barrow team")])
        spec = RecordingSpec(file_path=RECORDING_FILE, programme="Think First", group_name="Carlisle TF-01",
                             session_number=3, session_title="Problem solving", recorded_on=dt.date(2026, 2, 10),
                             site="Carlisle", area="Cumbria", team="Carlisle team")
        self.recording: RecordingView = svc.store.add_recording(spec, [self.tutor.id])
        svc.accounts_store.assign(self.assessor.id, self.recording.id, actor_id=self.admin.id)


@pytest.fixture
def app_services(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """Real Services on this database, recordings and data in tmp folders, installed as the
    process's shared services (what web.routes and usecases.process.may_play use)."""
    monkeypatch.setattr("session_rater.usecases.accounts.PasswordHasher", cheap_hasher)
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    clip = min((PROJECT_ROOT / "sample_sessions").glob("*.mp4"), key=lambda p: p.stat().st_size)
    shutil.copy(clip, recordings / RECORDING_FILE)
    settings = load_settings({"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url,
                              "SESSION_RATER_RECORDINGS_DIR": str(recordings), "SESSION_RATER_DEMO": "0",
                              "SESSION_RATER_SECRET": SECRET})
    svc = open_services(settings)
    monkeypatch.setattr(server, "_services", svc)
    yield svc
    svc.store.engine.dispose()


@pytest.fixture
def cast(app_services: Services) -> Cast:
    return Cast(app_services)


@pytest.fixture
def player(app_services: Services) -> TestClient:
    """A browser talking to the app's own routes (web.routes.routes)."""
    return TestClient(Starlette(routes=routes()), follow_redirects=False)


def signed_in(svc: Services, person: PersonView) -> Permitted:
    """``person`` with a live sign-in session (as current_user() gives the pages)."""
    token = secrets.token_urlsafe(16)
    session = svc.accounts_store.open_session(token_hash(token), person.id, "password", dt.datetime.now(dt.UTC))
    return Permitted(svc, person, session.id)


def play_as(player: TestClient, svc: Services, person: PersonView, recording: RecordingView,
            me: Permitted | None = None) -> str:  # fmt: skip
    """What the player does for ``person``: the signed URL, and the viewer cookie it sets."""
    url, cookie = (me or signed_in(svc, person)).recording_url(recording)
    name, _, rest = cookie.partition("=")
    assert name == VIEWER_COOKIE and "path=/recordings" in cookie
    player.cookies.clear()
    player.cookies.set(VIEWER_COOKIE, rest.split(";")[0])
    return url


def with_query(url: str, **changes: str) -> str:
    path, _, query = url.partition("?")
    return path + "?" + urlencode({**dict(parse_qsl(query)), **changes})


def test_the_people_whose_session_it_is_can_play_it(player: TestClient, app_services: Services, cast: Cast) -> None:
    data = (app_services.settings.recordings_dir / RECORDING_FILE).read_bytes()
    for person in (cast.tutor, cast.manager, cast.assessor, cast.admin):
        url = play_as(player, app_services, person, cast.recording)
        whole = player.get(url)
        assert whole.status_code == 200 and whole.content == data, person.display_name
        part = player.get(url, headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and part.content == data[:100]
        assert player.head(url).status_code == 200


def test_a_url_presented_with_another_persons_viewer_cookie_is_refused(
        player: TestClient, app_services: Services, cast: Cast) -> None:
    url = play_as(player, app_services, cast.tutor, cast.recording)
    play_as(player, app_services, cast.manager, cast.recording)  # the manager's cookie, the tutor's URL
    refused = player.get(url)
    assert refused.status_code == 403 and "issued to someone else" in refused.text


def test_a_tampered_or_expired_url_is_refused(player: TestClient, app_services: Services, cast: Cast) -> None:
    url = play_as(player, app_services, cast.tutor, cast.recording)
    sig = dict(parse_qsl(url.partition("?")[2]))["sig"]
    tampered = [
        with_query(url, sig=sig[:-1] + ("0" if sig[-1] != "0" else "1")),
        with_query(url, exp=str(int(dict(parse_qsl(url.partition("?")[2]))["exp"]) + 3600)),
        url.replace(f"/recordings/{cast.recording.id}?", f"/recordings/{cast.recording.id + 1}?"),
        f"/recordings/{cast.recording.id}",
    ]
    for bad in tampered:
        assert player.get(bad).status_code == 403, bad
    secret = app_services.secret
    expired = signed_recording_path(secret, cast.recording.id, cast.tutor.id, now=0, ttl=60)
    assert player.get(expired).status_code == 403
    player.cookies.set(VIEWER_COOKIE, viewer_token(secret, cast.tutor.id, now=0, ttl=60))
    assert player.get(url).status_code == 403  # an expired viewer cookie


def test_a_correctly_signed_url_is_refused_when_the_rules_do_not_allow_it(
        player: TestClient, app_services: Services, cast: Cast) -> None:
    secret = app_services.secret
    for outsider in (cast.other_tutor, cast.other_manager):
        with pytest.raises(AccessDeniedError):  # the app never signs one for them ...
            Permitted(app_services, outsider).recording_url(cast.recording)
        player.cookies.clear()  # ... and one signed anyway (a leaked key, an old page) does not play
        player.cookies.set(VIEWER_COOKIE, viewer_token(secret, outsider.id))
        refused = player.get(signed_recording_path(secret, cast.recording.id, outsider.id))
        assert refused.status_code == 403 and "may no longer watch" in refused.text, outsider.display_name


def test_a_closed_account_or_a_withdrawn_assignment_stops_playback_at_once(
        player: TestClient, app_services: Services, cast: Cast) -> None:
    tutor_url = play_as(player, app_services, cast.tutor, cast.recording)
    assert player.get(tutor_url).status_code == 200
    app_services.accounts_store.update_person(cast.tutor.id, actor_id=cast.admin.id, active=False)
    assert player.get(tutor_url).status_code == 403  # the URL and cookie are still unexpired

    assessor_url = play_as(player, app_services, cast.assessor, cast.recording)
    assert player.get(assessor_url).status_code == 200
    app_services.accounts_store.withdraw(cast.assessor.id, cast.recording.id, actor_id=cast.admin.id)
    refused = player.get(assessor_url)
    assert refused.status_code == 403 and "may no longer watch" in refused.text


def test_every_recording_request_is_in_the_access_log(player: TestClient, app_services: Services, cast: Cast) -> None:
    url = play_as(player, app_services, cast.tutor, cast.recording)
    player.get(url, headers={"Range": "bytes=0-9"})
    play_as(player, app_services, cast.manager, cast.recording)
    player.get(url)  # the tutor's URL with the manager's cookie
    plays = [(e.actor_id, e.after["status"], e.after["range"])  # type: ignore[index]
             for e in app_services.accounts_store.audit_log() if e.action == "play"]
    assert sorted(plays, key=str) == sorted([(cast.tutor.id, 206, "bytes=0-9"), (cast.manager.id, 403, None)], key=str)


def test_the_apps_routes_sign_in_against_the_apps_accounts(player: TestClient, app_services: Services,
                                                          cast: Cast) -> None:
    response = sign_in(player, email="Z@example.org", next_path="/")
    assert response.status_code == 303 and response.headers["location"] == "/"
    token = str(set_cookies(response)[SESSION_COOKIE]["value"])
    assert app_services.accounts.resume(token).person.id == cast.admin.id
    sign_out(player)
    with pytest.raises(SessionEndedError):
        app_services.accounts.resume(token)


# -- findings of the security probe (issue 15) ------------------------------------------------------
def test_a_sign_in_form_from_another_site_or_without_this_browsers_token_is_refused(
        browser: TestClient, accounts: Accounts) -> None:
    """Login CSRF: another site's page auto-submitting the attacker's email and password must not
    sign the victim in as the attacker."""
    page = browser.get("/signin")
    token = form_token(page)
    attempts = {
        "no token": {},
        "a token of another browser": {"csrf": secrets.token_urlsafe(24)},
    }
    for what, extra in attempts.items():
        refused = browser.post("/signin", data={"email": EMAIL, "password": PASSWORD, **extra})
        assert refused.status_code == 403, what
        assert SESSION_COOKIE not in set_cookies(refused) and "not sent from Session Rater" in refused.text
    for origin in ("https://evil.example", "null"):
        refused = browser.post("/signin", data={"email": EMAIL, "password": PASSWORD, "csrf": token},
                               headers={"Origin": origin})
        assert refused.status_code == 403 and SESSION_COOKIE not in set_cookies(refused), origin
    cross = browser.post("/signin", data={"email": EMAIL, "password": PASSWORD, "csrf": token},
                         headers={"Referer": "https://evil.example/page"})
    assert cross.status_code == 403
    fresh = TestClient(browser.app, follow_redirects=False)  # a victim's browser: no token cookie of ours
    assert fresh.post("/signin", data={"email": EMAIL, "password": PASSWORD, "csrf": token}).status_code == 403
    ours = browser.post("/signin", data={"email": EMAIL, "password": PASSWORD, "csrf": token},
                        headers={"Origin": "http://testserver"})
    assert ours.status_code == 303 and SESSION_COOKIE in set_cookies(ours)


def test_sign_out_is_a_post_from_this_site_with_this_sessions_token(browser: TestClient, accounts: Accounts) -> None:
    token = str(set_cookies(sign_in(browser))[SESSION_COOKIE]["value"])
    confirm = browser.get("/signout")
    form = form_token(confirm)
    for data, headers in [({}, {}), ({"csrf": "forged"}, {}), ({"csrf": form}, {"Origin": "https://evil.example"})]:
        assert browser.post("/signout", data=data, headers=headers).status_code == 403
    assert accounts.resume(token).person.email == EMAIL  # still signed in
    assert browser.post("/signout", data={"csrf": form}, headers={"Origin": "http://testserver"}).status_code == 303
    with pytest.raises(SessionEndedError):
        accounts.resume(token)


def proxied(accounts: Accounts, trusted: str | None, peer: str = "10.0.0.5") -> TestClient:
    """A browser reaching the routes through a proxy at ``peer``; ``trusted`` is the setting."""
    networks = [ipaddress.ip_network(trusted)] if trusted else []
    app = Starlette(routes=make_auth_routes(lambda: accounts, trusted_proxies=lambda: networks))
    return TestClient(app, follow_redirects=False, client=(peer, 40000))


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_clients(accounts: Accounts) -> None:
    behind = proxied(accounts, "10.0.0.0/8")
    sign_in(behind, password="wrong password", **{"X-Forwarded-For": "198.51.100.9, 10.0.0.7"})
    since = accounts.clock() - dt.timedelta(minutes=1)
    assert accounts.store.failures_since(since, client="198.51.100.9")
    untrusted = proxied(accounts, None)  # off by default: the header is anyone's to write
    sign_in(untrusted, password="wrong password", **{"X-Forwarded-For": "203.0.113.66"})
    assert not accounts.store.failures_since(since, client="203.0.113.66")
    assert accounts.store.failures_since(since, client="10.0.0.5")


def test_thirty_failures_through_the_proxy_slow_that_address_but_the_right_password_still_signs_in(
        accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the fix the per-address pause keyed on the proxy, so 30 failures from anyone gave
    everybody a 429, the right password included."""
    monkeypatch.setattr("session_rater.usecases.accounts.CLIENT_SLOWDOWN_SECONDS", 0.3)
    behind = proxied(accounts, "10.0.0.0/8")
    for n in range(30):
        accounts.store.record_attempt(f"guess{n}@example.org", "10.0.0.5", False, accounts.clock())
    everyone = sign_in(behind, **{"X-Forwarded-For": "198.51.100.20"})  # another client behind the proxy
    assert everyone.status_code == 303
    for n in range(30):
        accounts.store.record_attempt(f"guess{n}@example.org", "198.51.100.20", False, accounts.clock())
    started = time.monotonic()
    slowed = sign_in(behind, **{"X-Forwarded-For": "198.51.100.20"})
    assert slowed.status_code == 303 and SESSION_COOKIE in set_cookies(slowed)
    assert time.monotonic() - started >= 0.3


def test_a_recording_url_stops_playing_when_its_sign_in_session_ends(
        player: TestClient, app_services: Services, cast: Cast) -> None:
    """Before the fix a captured URL and viewer cookie streamed for hours after sign-out."""
    signed = sign_in(player, email="Z@example.org", next_path="/")
    token = str(set_cookies(signed)[SESSION_COOKIE]["value"])
    session = app_services.accounts.resume(token)
    url = play_as(player, app_services, cast.admin, cast.recording, Permitted(app_services, cast.admin,
                                                                              session.session.id))
    player.cookies.set(SESSION_COOKIE, token)
    assert player.get(url).status_code == 200
    captured = player.cookies.get(VIEWER_COOKIE)  # what someone copies from the browser before sign-out
    sign_out(player)
    player.cookies.set(VIEWER_COOKIE, captured)
    refused = player.get(url)
    assert refused.status_code == 403 and "signed out" in refused.text


def test_a_recording_url_without_a_sign_in_session_never_plays(
        player: TestClient, app_services: Services, cast: Cast) -> None:
    url = play_as(player, app_services, cast.admin, cast.recording, Permitted(app_services, cast.admin))
    assert player.get(url).status_code == 403


def test_ids_too_large_to_exist_are_not_found_and_anonymous_refusals_are_not_written_to_the_database(
        player: TestClient, app_services: Services, cast: Cast) -> None:
    before = len(app_services.media.access_log(limit=10_000))
    assert player.get("/recordings/9223372036854775808").status_code == 404
    assert player.get(f"/recordings/{2**70}?p=1&exp=1&sig=x").status_code == 404
    player.cookies.clear()
    for _ in range(50):  # nobody signed in: refused, and the access log does not grow
        assert player.get(f"/recordings/{cast.recording.id}?p=1&exp=99999999999&sig=x").status_code == 403
    assert len(app_services.media.access_log(limit=10_000)) == before


def test_downloads_are_made_only_for_someone_signed_in_who_may_have_them(
        player: TestClient, app_services: Services, cast: Cast) -> None:
    """Before the fix the files behind download buttons were served by Streamlit's media endpoint
    to anyone with the URL, also after sign-out."""
    assert player.get("/exports/audit-log.csv").status_code == 401
    signed = sign_in(player, email="Z@example.org", next_path="/")
    assert signed.status_code == 303
    csv_file = player.get("/exports/audit-log.csv?limit=1000")
    assert csv_file.status_code == 200 and csv_file.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_file.headers["content-disposition"] and "Signed in as z@example.org" in csv_file.text
    assert player.get("/exports/coverage.xlsx?by=tutor&period=month").status_code == 200
    assert player.get("/exports/no-such-file.csv").status_code == 404
    sign_out(player)
    assert player.get("/exports/audit-log.csv").status_code == 401
    tutor_token = secrets.token_urlsafe(16)
    app_services.accounts_store.open_session(token_hash(tutor_token), cast.tutor.id, "password",
                                             dt.datetime.now(dt.UTC))  # fmt: skip
    player.cookies.set(SESSION_COOKIE, tutor_token)
    assert player.get("/exports/audit-log.csv").status_code == 403
    assert player.get("/exports/coverage.csv").status_code == 403


def test_signing_in_on_a_read_only_database_is_a_plain_503_not_a_bare_500(
        accounts: Accounts, database_url: str) -> None:
    from sqlalchemy import event

    from session_rater.db.engine import make_engine

    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///file:{database_url.removeprefix('sqlite:///')}?mode=ro&uri=true")
    else:
        engine = make_engine(database_url)

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.close()
            dbapi_connection.commit()
    frozen = Accounts(AccountsStore(engine), Store(engine), idle=dt.timedelta(minutes=30), clock=accounts.clock)
    browser = TestClient(Starlette(routes=make_auth_routes(lambda: frozen)), follow_redirects=False)
    refused = sign_in(browser)
    assert refused.status_code == 503
    assert "the database cannot be written to" in refused.text and "Nothing was changed" in refused.text
    assert "Traceback" not in refused.text and SESSION_COOKIE not in set_cookies(refused)
    engine.dispose()
