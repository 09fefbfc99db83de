"""Several app processes behind nginx, on one PostgreSQL: a treatment manager rates in
Chromium through the proxy; the process serving them is killed (SIGKILL) mid-rating; the
browser reconnects through nginx to the other process, still signed in, and carries on; every
score the page acknowledged is in the database, and the video resumes where it was.

nginx runs with the repository's own proxy rules (deploy/nginx/session-rater-proxy.conf and
session-rater-affinity.conf) in front of two ``session-rater serve`` processes on loopback.
The test's server block adds an X-Upstream header (not in the shipped configuration) so that
the test can tell which process serves the browser."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from session_rater.domain.model import Capacity
from session_rater.domain.records import RecordingSpec
from session_rater.settings import load_settings
from session_rater.usecases.services import Services, open_services

from conftest import AppServer, free_port, sign_in, wait_until_ready

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

REPO = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RATER = "Helen Price"  # a treatment manager: monitors the Barrow team's sessions
BEFORE_KILL, AFTER_KILL = 3, 3  # items scored on each side of the kill


@dataclass
class Cluster:
    proxy: AppServer  # what the browser talks to (nginx); its process is nginx's
    apps: dict[str, subprocess.Popen[bytes]]  # "127.0.0.1:port" -> app process
    env: dict[str, str]
    folder: Path


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def _nginx_conf(folder: Path, listen: int, upstreams: list[str]) -> Path:
    deploy = REPO / "deploy" / "nginx"
    servers = "\n".join(f"    server {u} max_fails=1 fail_timeout=10s;" for u in upstreams)
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(f"""{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log info;
events {{ worker_connections 512; }}
http {{
  access_log {folder}/nginx-access.log;
  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy; fastcgi_temp_path {folder}/fcgi;
  uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
  include {deploy}/session-rater-affinity.conf;
  upstream session_rater {{
    hash $sr_affinity consistent;
{servers}
    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{listen};
    add_header X-Upstream $upstream_addr always;
    include {deploy}/session-rater-proxy.conf;
  }}
}}
""")
    return conf


@pytest.fixture
def cluster(chromium_executable: Path, own_postgres_url: str, tmp_path: Path) -> Iterator[Cluster]:
    if not Path(NGINX).exists():
        pytest.skip("the proxy test needs Debian's nginx (apt-get install nginx)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESSION_RATER_", "STREAMLIT_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=own_postgres_url,
        SESSION_RATER_SECRET="proxy-test-secret-" + "x" * 20,
        SESSION_RATER_DATA_DIR=str(tmp_path / "shared"),
        SESSION_RATER_RECORDINGS_DIR=str(REPO / "sample_sessions"),
        SESSION_RATER_RUBRICS_DIR=str(REPO / "rubrics"),
        SESSION_RATER_DEMO="1",
        SESSION_RATER_IN_APP_WORKER="0",
        SESSION_RATER_ACCEL_REDIRECT="/_session_rater_files",  # nginx sends the recordings' bytes
        SESSION_RATER_TRUSTED_PROXIES="127.0.0.1",  # nginx on loopback: its X-Forwarded-For names the client
        STREAMLIT_SERVER_FILE_WATCHER_TYPE="none",  # others edit the source while tests run
        PYTHONUNBUFFERED="1",
    )
    apps: dict[str, subprocess.Popen[bytes]] = {}
    for _ in range(2):
        port = free_port()
        log = tmp_path / f"app-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "session_rater.cli", "serve", "--headless", "--address", "127.0.0.1",
                 "--port", str(port)],
                env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        apps[f"127.0.0.1:{port}"] = process
        _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", process, log)
    listen = free_port()
    conf = _nginx_conf(tmp_path, listen, list(apps))
    nginx_log = tmp_path / "nginx-error.log"
    nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_healthy(f"http://127.0.0.1:{listen}/_stcore/health", nginx, nginx_log, timeout=20)
        yield Cluster(AppServer(f"http://127.0.0.1:{listen}", tmp_path, nginx_log, env, nginx), apps, env, tmp_path)
    finally:
        for process in [nginx, *apps.values()]:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


def _serving(page: Page, cluster: Cluster) -> str:
    """The app process (host:port) that nginx sends this browser's requests to now."""
    response = page.request.get(cluster.proxy.url("/_stcore/health"))
    assert response.ok, response.status
    return response.headers["x-upstream"].split(",")[-1].strip()


def _score(page: Page, title: str, score: int) -> None:
    group = page.get_by_role("radiogroup", name=f"Score for {title}", exact=True)
    group.locator('label[data-testid="stRadioOption"]').filter(has_text=f"{score} · ").click()
    expect(group.locator('input[type="radio"]').nth(score)).to_be_checked(timeout=20_000)
    wait_until_ready(page)  # the run that saved it has finished: the page has acknowledged it


def test_a_rater_carries_on_through_the_proxy_when_the_process_serving_them_is_killed(
    browser: Browser, cluster: Cluster
) -> None:
    svc: Services = open_services(load_settings(cluster.env), load_demo=False)
    try:
        helen = next(p for p in svc.store.list_people() if p.display_name == RATER)
        # A new session of her team, recorded today, that nobody has rated yet.
        demo = next(r for r in svc.store.list_recordings() if r.team == "Barrow team" and r.tutors)
        recording = svc.store.add_recording(
            RecordingSpec(file_path=demo.file_path, programme=demo.programme, group_name=demo.group_name,
                          session_number=demo.session_number, session_title=demo.session_title + " (again)",
                          recorded_on=dt.date.today(), site=demo.site, area=demo.area, team=demo.team),
            [t.id for t in demo.tutors],
        )  # fmt: skip
        tutor = recording.tutors[0]
        items = svc.rubrics()[0].items[: BEFORE_KILL + AFTER_KILL]

        context = browser.new_context(viewport={"width": 1440, "height": 960})
        page = context.new_page()
        sign_in(page, cluster.proxy, RATER, f"/rate?recording={recording.id}&tutor={tutor.id}")
        video = page.locator("video.sr-video")
        expect(video).to_be_visible(timeout=30_000)
        page.wait_for_function("el => el.readyState >= 1 && el.duration > 5", arg=video.element_handle())
        video.evaluate("el => { el.currentTime = 4.0; }")
        page.wait_for_function("el => Math.abs(el.currentTime - 4.0) < 0.3", arg=video.element_handle())
        page.wait_for_timeout(300)  # the player notes the moment it was left at

        acknowledged: dict[str, int] = {}
        for k, item in enumerate(items[:BEFORE_KILL]):
            _score(page, item.title, k % 4)
            acknowledged[item.id] = k % 4

        first = _serving(page, cluster)
        cluster.apps[first].send_signal(signal.SIGKILL)  # mid-rating: no chance to clean up
        cluster.apps[first].wait(10)
        other = next(u for u in cluster.apps if u != first)

        # The browser reconnects through nginx, to the other process, still signed in.
        page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=60_000)
        wait_until_ready(page, timeout_ms=60_000)
        assert _serving(page, cluster) == other
        expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Signed in as {RATER}", timeout=30_000)
        for k, item in enumerate(items[BEFORE_KILL:], start=BEFORE_KILL):
            _score(page, item.title, k % 4)
            acknowledged[item.id] = k % 4

        # Every acknowledged score is in the database: counted.
        rating = svc.store.find_rating(recording.id, tutor.id, helen.id, Capacity.MONITORING)
        assert rating is not None
        saved = {i: s.score for i, s in rating.scores.items() if s.score is not None}
        assert len(saved) == len(acknowledged) == BEFORE_KILL + AFTER_KILL
        assert saved == acknowledged

        # The video resumes from where it was, and its signed URL streams from the other process.
        expect(video).to_be_visible()
        page.wait_for_function("el => el.readyState >= 1 && Math.abs(el.currentTime - 4.0) < 1.0",
                               arg=video.element_handle(), timeout=20_000)  # fmt: skip
        video.evaluate("el => { el.muted = true; return el.play(); }")  # and plays on from there
        page.wait_for_function("el => el.currentTime > 4.6", arg=video.element_handle(), timeout=20_000)
        src = video.evaluate("el => el.src")  # signed by the first process (the same hour, the same key)
        streamed = page.request.get(src, headers={"Range": "bytes=0-1023"})
        assert streamed.status == 206  # checked by the other process, sent by nginx
        assert len(streamed.body()) == 1024 and streamed.headers["content-range"].startswith("bytes 0-1023/")
        assert {k: streamed.headers.get(k) for k in ("cache-control", "x-content-type-options", "referrer-policy",
                                                     "x-accel-redirect")} == {
            "cache-control": "private, no-store", "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer", "x-accel-redirect": None}  # fmt: skip
        context.close()
    finally:
        svc.close()
