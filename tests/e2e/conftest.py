"""End-to-end fixtures: the real app in a subprocess, driven by Debian's Chromium via Playwright.

* ``app_server`` (session): ``streamlit run app.py`` on a free port with its own empty data
  folder, so it migrates and loads the demo data exactly as on a first start. Its output goes to
  ``server.log`` in that folder; the last lines are attached to any failing e2e test's report.
* ``browser`` (session): Chromium from ``/usr/bin/chromium`` (Playwright cannot download its own
  browsers here). Missing Chromium skips the e2e tests, unless SESSION_RATER_REQUIRE_E2E=1, in
  which case it is a failure.
* ``app_services``: the app's database opened from the test process (after the app has loaded
  the demo data), to find ids and to check what the app saved.
* :func:`sign_in`: signs a browser page in as a named demo person through the real ``/signin``
  form (email ``first.last@demo.example``, the demo password), as a person would.

Host names: an app is opened at one host name throughout (``127.0.0.1`` unless launched with
``host="localhost"``, as the organisation sign-in test must, its redirect URI being on
localhost): cookies set for one are not sent to the other.

Notes: shared/design/recordings-notes.md, section 6.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from session_rater.db.store import PersonView
from session_rater.usecases.demo import DEMO_PASSWORD, demo_email
from session_rater.usecases.services import Services, open_services
from session_rater.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_ENV = "SESSION_RATER_REQUIRE_E2E"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
READY = (
    '[data-testid="stApp"][data-test-script-state="notRunning"]'
    '[data-test-connection-state="CONNECTED"]'
)
"""The app has connected and no script run is in progress."""
STARTUP_TIMEOUT_S = 60.0
LOG_TAIL_LINES = 60
EXPECT_TIMEOUT_MS = 30_000
"""How long an ``expect`` waits: the app's status attribute says "notRunning" once the script
has finished, but a long page (the Rate form's radio groups, the player) can take seconds more
to appear in the browser on a busy 2-core machine."""
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the tail of the app's log to the report of a failing e2e test (every app server
    among its fixtures)."""
    report = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, AppServer):
                report.sections.append(
                    (f"app server log (last {LOG_TAIL_LINES} lines of {value.log_path})", value.log_tail())
                )
    return report


@dataclass
class AppServer:
    base_url: str
    data_dir: Path
    log_path: Path
    env: dict[str, str] = field(repr=False)
    process: subprocess.Popen[bytes] = field(repr=False)

    def url(self, path: str) -> str:
        return self.base_url + path

    def wait_until_ready(self, page: Page, timeout_ms: float = 30_000) -> None:
        """Wait until the page's app is connected and no script (or fragment) run is in progress."""
        wait_until_ready(page, timeout_ms)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(cannot read {self.log_path}: {exc})"
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = f"the e2e tests need Debian's Chromium at {CHROMIUM}: install it with `apt-get install chromium`"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def e2e_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty data folder: the app migrates a new SQLite database and loads the demo."""
    return tmp_path_factory.mktemp("e2e-data")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def launch_app(data_dir: Path, *, port: int | None = None, cwd: Path | None = None, host: str = "127.0.0.1") -> AppServer:
    """Start the app over ``data_dir`` and wait until it answers (fails the test with the
    server's log if it does not). Stop it with :func:`stop_app`.

    ``port``: a free one unless given. ``cwd``: the app's working folder (the repository unless
    given); Streamlit reads ``.streamlit/secrets.toml`` from there. ``host``: the host name the
    browser uses for it (it listens on 127.0.0.1 either way)."""
    port = free_port() if port is None else port
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("STREAMLIT_")}
    env.update(
        SESSION_RATER_DATA_DIR=str(data_dir),
        SESSION_RATER_RECORDINGS_DIR=str(REPO / "sample_sessions"),
        SESSION_RATER_RUBRICS_DIR=str(REPO / "rubrics"),
        SESSION_RATER_DEMO="1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("SESSION_RATER_SECRET", None)
    log_path = data_dir / f"server-{port}.log"
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        # Others edit the source while tests run: a file change must not rerun the app.
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            command, cwd=cwd or REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = AppServer(f"http://{host}:{port}", data_dir, log_path, env, process)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not _healthy(f"http://127.0.0.1:{port}/_stcore/health"):
        if process.poll() is not None:
            pytest.fail(f"The app exited with code {process.returncode} while starting.\n{server.log_tail()}", pytrace=False)
        if time.monotonic() > deadline:
            _stop(process)
            pytest.fail(
                f"The app did not answer {server.url('/_stcore/health')} within {STARTUP_TIMEOUT_S:.0f} s.\n"
                f"{server.log_tail()}",
                pytrace=False,
            )
        time.sleep(0.2)
    return server


def stop_app(server: AppServer) -> None:
    _stop(server.process)


@pytest.fixture(scope="session")
def app_server(chromium_executable: Path, e2e_data_dir: Path) -> Iterator[AppServer]:
    server = launch_app(e2e_data_dir)
    try:
        yield server
    finally:
        stop_app(server)


@pytest.fixture(scope="session")
def browser(chromium_executable: Path) -> Iterator[Browser]:
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(chromium_executable), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


def wait_until_ready(page: Page, timeout_ms: float = 30_000) -> None:
    """Wait until the app is connected and no script (or fragment) run is in progress."""
    page.wait_for_selector(READY, timeout=timeout_ms)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def app_services(app_server: AppServer, browser: Browser) -> Iterator[Services]:
    """The app's own database, opened from the test process once the app has loaded the demo.

    The first script run loads the demo data, so the Sessions page is opened once first;
    the test process never loads demo data itself (``load_demo=False``).
    """
    context = browser.new_context()
    try:
        warm_up = context.new_page()
        warm_up.goto(app_server.url("/"))
        wait_until_ready(warm_up, timeout_ms=STARTUP_TIMEOUT_S * 1000)
    finally:
        context.close()
    services = open_services(load_settings(app_server.env), load_demo=False)
    try:
        assert not services.store.is_empty(), "the app did not load its demo data on first start"
        yield services
    finally:
        services.store.engine.dispose()


def person_named(svc: Services, name: str) -> PersonView:
    """The (demo) person with this display name."""
    found = [p for p in svc.store.list_people() if p.display_name == name]
    assert len(found) == 1, f"expected one person named {name!r}, found {len(found)}"
    return found[0]


def sign_in(page: Page, server: AppServer, name: str, next_path: str = "/", *,
            password: str = DEMO_PASSWORD) -> None:
    """Sign ``page`` in as the demo person ``name`` through the real sign-in form, then wait
    for the app at ``next_path`` (where the form sends the browser back) to show them signed in."""
    page.goto(server.url("/signin?" + urlencode({"next": next_path})))
    page.locator("#email").fill(demo_email(name))
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/signin" not in url)
    wait_until_ready(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Signed in as {name}")
