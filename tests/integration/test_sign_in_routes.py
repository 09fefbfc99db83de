"""The HTTP routes beside Streamlit, through a real Starlette app on SQLite and PostgreSQL:
/signin and /signout (web_auth) with a clock the tests move, and the recording route (web)
authorised by the app's own rule (usecases.process.may_play: the account open, the session in the
person's scope) on real Services."""

from __future__ import annotations

import datetime as dt
import shutil
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

from session_rater.usecases.accounts import Accounts
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
from session_rater.web.signin import SESSION_COOKIE, make_auth_routes

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


def sign_in(browser: TestClient, password: str = PASSWORD, next_path: str | None = "/rate?recording=3&tutor=2",
            email: str = EMAIL) -> httpx.Response:
    query = "?" + urlencode({"next": next_path}) if next_path is not None else ""
    return browser.post("/signin" + query, data={"email": email, "password": password})


def test_the_sign_in_page_shows_the_form(browser: TestClient) -> None:
    page = browser.get("/signin?" + urlencode({"next": "/queue"}))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/signin?next=%2Fqueue">' in page.text
    assert 'name="email"' in page.text and 'name="password" type="password"' in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in page.headers


def test_a_wrong_password_is_a_401_with_the_message_and_no_cookie(browser: TestClient, accounts: Accounts) -> None:
    refused = sign_in(browser, password="not my password")
    assert refused.status_code == 401
    assert "That email and password do not match an account" in refused.text
    assert "set-cookie" not in refused.headers
    assert 'value="tess.tutor@example.org"' in refused.text  # the email is kept for the next try
    unknown = sign_in(browser, email="nobody@example.org")
    assert unknown.status_code == 401 and "set-cookie" not in unknown.headers
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
    assert "set-cookie" not in paused.headers


def test_signing_out_ends_the_session_and_clears_the_cookie(browser: TestClient, accounts: Accounts) -> None:
    token = str(set_cookies(sign_in(browser))[SESSION_COOKIE]["value"])
    assert browser.cookies.get(SESSION_COOKIE) == token  # the browser keeps it and sends it back
    out = browser.get("/signout")
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


def play_as(player: TestClient, svc: Services, person: PersonView, recording: RecordingView) -> str:
    """What the player does for ``person``: the signed URL, and the viewer cookie it sets."""
    url, cookie = Permitted(svc, person).recording_url(recording)
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
    response = player.post("/signin?next=/", data={"email": "Z@example.org", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/"
    token = str(set_cookies(response)[SESSION_COOKIE]["value"])
    assert app_services.accounts.resume(token).person.id == cast.admin.id
    player.get("/signout")
    with pytest.raises(SessionEndedError):
        app_services.accounts.resume(token)
