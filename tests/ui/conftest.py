"""Fixtures for the AppTest smoke tests: a fresh data folder (SQLite + demo data) per test,
and a helper that opens one page of the real app (``app.py``) the way a browser URL would.

The demo data (47 sessions) is built once per test run (a few seconds) into a template folder;
every test gets its own copy, so tests never see each other's ratings.
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from session_rater.usecases.demo import DEMO_PASSWORD, PROGRAMME_MANAGERS
from session_rater.usecases.services import Services, open_services
from session_rater.ui.auth import TOKEN_KEY
from session_rater.settings import load_settings
from session_rater.usecases import process as server
from session_rater.usecases.process import reset_shared_services, shared_services

REPO = Path(__file__).resolve().parents[2]
DEMO_ADMIN = PROGRAMME_MANAGERS[0]  # the demo's programme manager and administrator
APP = REPO / "app.py"
ENV_VARS = (
    "SESSION_RATER_DATA_DIR",
    "SESSION_RATER_RECORDINGS_DIR",
    "SESSION_RATER_RUBRICS_DIR",
    "SESSION_RATER_DEMO",
    "SESSION_RATER_SECRET",
    "DATABASE_URL",
)
# The first run of a test imports the pages and renders a dataframe; give it room on slow CI.
RUN_TIMEOUT = 30


def _forget_services() -> None:
    """Close the process's SQLite connections (so WAL is checkpointed) and forget them."""
    current = server._services  # peek only: shared_services() would open a new one
    if current is not None:
        current.store.engine.dispose()
    reset_shared_services()


def build_demo_data_dir(data_dir: Path, **env: str) -> None:
    """Create ``data_dir`` with a migrated database holding the demo data."""
    settings = load_settings({"SESSION_RATER_DATA_DIR": str(data_dir), **env})
    services = open_services(settings)
    services.store.engine.dispose()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the demo loaded from the repository's sample_sessions and rubrics."""
    data_dir = tmp_path_factory.mktemp("demo-template") / "data"
    build_demo_data_dir(data_dir)
    return data_dir


@dataclass
class AppEnv:
    """Where this test's app keeps its data, and its services (same process as AppTest)."""

    data_dir: Path
    monkeypatch: pytest.MonkeyPatch

    def set(self, name: str, value: Path | str) -> None:
        """Change a setting before the app first opens its services."""
        self.monkeypatch.setenv(name, str(value))
        _forget_services()

    @property
    def services(self) -> Services:
        return shared_services()

    def person(self, display_name: str) -> int:
        return next(p.id for p in self.services.store.list_people() if p.display_name == display_name)

    def recording(self, file_name: str) -> int:
        """The id of the recording whose file is ``file_name`` (as in the manifest)."""
        return next(r.id for r in self.services.store.list_recordings() if Path(r.file_path).name == file_name)


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, demo_template: Path) -> Iterator[AppEnv]:
    """Settings pointing at a private copy of the demo data folder; fresh services."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    shutil.copytree(demo_template, data_dir)
    monkeypatch.setenv("SESSION_RATER_DATA_DIR", str(data_dir))
    _forget_services()
    yield AppEnv(data_dir, monkeypatch)
    _forget_services()


def sign_in_token(person_id: int, password: str = DEMO_PASSWORD) -> str:
    """A real session token for a person (their email and password checked by Accounts)."""
    services = shared_services()
    email = services.person(person_id).email
    assert email, f"person {person_id} has no email to sign in with"
    token, _ = services.accounts.sign_in(email, password)
    return token


def default_administrator() -> int:
    """The demo's administrator; on a database without the demo, one made by the first-run step."""
    services = shared_services()
    found = [p.id for p in services.store.list_people() if p.display_name == DEMO_ADMIN]
    if found:
        return found[0]
    if services.accounts.needs_first_administrator():
        return services.accounts.create_first_administrator("Test Administrator", "admin@example.org", DEMO_PASSWORD).id
    return next(a.person.id for a in services.accounts_store.accounts()
                if a.person.email == "admin@example.org")


def open_app(url_path: str = "", context_url: str | None = None, *, rater: int | None | bool = None,
             **query: object) -> AppTest:
    """Run ``app.py`` as a browser opening ``/<url_path>?<query>`` would, and return it.

    ``rater``: the person signed in (by id; the demo administrator when left out; False:
    nobody, so the sign-in screen shows). AppTest cannot send cookies, so the session token
    goes in through session state, where ui.auth checks it exactly as it checks the cookie.

    Why the private ``_page_hash``: the pages are callables (``st.Page(render, url_path=...)``)
    and ``AppTest.switch_page()`` in Streamlit 1.67 only resolves pages that have a script
    file. A page's script hash is ``calc_hash(url_path)`` (``st.Page._script_hash``), and the
    default page's hash is that of its own url_path.
    """
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
    if rater is not False:
        if rater is None or rater is True:
            rater = default_administrator()
        at.session_state[TOKEN_KEY] = sign_in_token(rater)
    at.query_params.update({k: str(v) for k, v in query.items()})
    if context_url is not None:
        at.context["url"] = context_url
    if url_path:
        at._page_hash = calc_hash(url_path)
    at.run()
    if url_path:
        # Streamlit falls back to the default page silently when the hash matches no page.
        assert at._finished_page_script_hash == calc_hash(url_path), f"page {url_path!r} was not opened"
    return at


@pytest.fixture
def open_page(app_env: AppEnv) -> Callable[..., AppTest]:
    """``open_page("rate", recording=1, tutor=2, rater=3)``: the app on that page, signed in as 3."""
    return open_app


def rendered(markdown: str) -> str:
    """Markdown source as a reader sees it: backslash escapes (ui.text.plain) removed."""
    return re.sub(r"\\([^\w\s])", r"\1", markdown).replace("\u2060", "")


def download_links(at: AppTest) -> dict[str, str]:
    """Label -> URL of every download link the page shows (ui.downloads renders them)."""
    links: dict[str, str] = {}
    for element in at.markdown:
        for href, label in re.findall(r'<a href="(/exports/[^"]+)" download[^>]*>.*?</span> ([^<]+)</a>', element.value):
            links[html.unescape(label)] = html.unescape(href)
    return links


def fetch(at: AppTest, url: str) -> tuple[str, bytes]:
    """What the browser gets for a download link of this page: the file the app's own route
    (/exports/...) makes for the person signed in in this session."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from session_rater.web.routes import routes
    from session_rater.web.signin import SESSION_COOKIE

    client = TestClient(Starlette(routes=routes()), cookies={SESSION_COOKIE: at.session_state[TOKEN_KEY]})
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    name = unquote(response.headers["content-disposition"].split("filename*=UTF-8''")[1])
    return name, response.content
