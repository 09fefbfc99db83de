"""The recording route under load: 100 clients streaming and seeking through nginx in front of
two app processes on one PostgreSQL.

    .venv/bin/python benchmarks/bench_recording_route.py [--clients 100] [--seconds 30] [--size-mb 300]

Makes one long H.264/AAC recording (nothing is kept), creates a PostgreSQL database of its own
(SESSION_RATER_BENCH_POSTGRES_URL, else SESSION_RATER_TEST_POSTGRES_URL, else
postgres@127.0.0.1:5432; dropped at the end), starts two ``session-rater serve`` processes and
nginx with the repository's proxy rules (deploy/nginx), and lets ``--clients`` clients play the
recording through the proxy with signed URLs: each opens it within the first 5 s (time to first
byte), then plays
(reads about 4 Mbit/s in 64 kB pieces) and seeks to a random moment every few seconds with an
open-ended Range request, as browsers do (seek latency: time to the first byte of the new
position). Every request passes the signature, the viewer cookie and the access rules, and is
logged. Prints TTFB and seek p50/p95, errors, and the memory growth of all the server
processes together (both apps and nginx). Targets (issue 16): memory growth < 100 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(HERE))

import psycopg  # noqa: E402
from bench_serving import children, free_port, make_recordings  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from session_rater.domain.records import RecordingSpec  # noqa: E402
from session_rater.settings import load_settings  # noqa: E402
from session_rater.usecases.recording_links import VIEWER_COOKIE, signed_recording_path, viewer_token  # noqa: E402
from session_rater.usecases.services import open_services  # noqa: E402

SECRET = "bench-recording-route-" + "k" * 20
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RAMP_SECONDS = 5.0  # the clients open the recording over the first 5 s


def server_url() -> str:
    url = os.environ.get("SESSION_RATER_BENCH_POSTGRES_URL") or os.environ.get("SESSION_RATER_TEST_POSTGRES_URL")
    return url or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def admin(url: str) -> str:
    return make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in {p for root in pids for p in [root, *children(root)]}:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def wait_healthy(url: str, timeout: float = 120, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
    raise SystemExit(f"{url} did not answer\n{tail}")


def nginx_conf(folder: Path, listen: int, upstreams: list[str]) -> Path:
    deploy = REPO / "deploy" / "nginx"
    servers = "\n".join(f"    server {u} max_fails=1 fail_timeout=10s;" for u in upstreams)
    conf = folder / "nginx.conf"
    conf.write_text(f"""{'user root;' if os.geteuid() == 0 else ''}
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
  access_log off;
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
    include {deploy}/session-rater-proxy.conf;
  }}
}}
""")
    return conf


def request(url: str, cookie: str, range_header: str) -> tuple[float, object]:
    req = urllib.request.Request(url, headers={"Cookie": cookie, "Range": range_header})
    started = time.perf_counter()
    response = urllib.request.urlopen(req, timeout=60)
    response.read(1)
    return time.perf_counter() - started, response


def client(k: int, url: str, cookie: str, size: int, stop: float, out: dict[str, list]) -> None:  # type: ignore[type-arg]
    rng = random.Random(k)
    time.sleep(rng.uniform(0, RAMP_SECONDS))  # raters press play over a few seconds, not all at once
    try:
        ttfb, response = request(url, cookie, "bytes=0-")
        out["ttfb"].append(ttfb)
        response.close()  # type: ignore[attr-defined]
        while time.monotonic() < stop:
            offset = rng.randrange(0, size - 8_000_000)
            seek, response = request(url, cookie, f"bytes={offset}-")
            out["seek"].append(seek)
            until = time.monotonic() + rng.uniform(2, 6)  # play a few seconds, then seek again
            while time.monotonic() < min(until, stop):
                response.read(65536)  # type: ignore[attr-defined]
                time.sleep(0.125)  # ~4 Mbit/s, a browser filling its buffer at playback pace
            response.close()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - counted and reported
        out["errors"].append(repr(exc))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--app-streams", action="store_true",
                        help="the apps stream the bytes themselves (default: nginx sends them, X-Accel-Redirect)")
    args = parser.parse_args()
    url = server_url()
    name = f"sr_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin(url), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-route-") as tmp_name:
            tmp = Path(tmp_name)
            started = time.perf_counter()
            video = make_recordings(tmp, args.size_mb, 1)[0]
            size = video.stat().st_size
            print(f"made a recording of {size / 2**20:.0f} MB in {time.perf_counter() - started:.1f} s", flush=True)
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SESSION_RATER_", "STREAMLIT_"))}
            env.update(DATABASE_URL=make_url(url).set(database=name).render_as_string(hide_password=False),
                       SESSION_RATER_SECRET=SECRET, SESSION_RATER_DATA_DIR=str(tmp / "shared"),
                       SESSION_RATER_RECORDINGS_DIR=str(REPO / "sample_sessions"), SESSION_RATER_DEMO="1",
                       SESSION_RATER_IN_APP_WORKER="0", STREAMLIT_SERVER_FILE_WATCHER_TYPE="none",
                       SESSION_RATER_ACCEL_REDIRECT="" if args.app_streams else "/_session_rater_files",
                       PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])))  # fmt: skip
            apps = []
            for _ in range(2):
                port = free_port()
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "session_rater.cli", "serve", "--headless", "--address", "127.0.0.1",
                     "--port", str(port)], env=env, cwd=REPO, stdout=(tmp / f"app-{port}.log").open("wb"),
                    stderr=subprocess.STDOUT))  # fmt: skip
                apps.append(f"127.0.0.1:{port}")
                wait_healthy(f"http://{apps[-1]}/_stcore/health", log=tmp / f"app-{port}.log")
            listen = free_port()
            processes.append(subprocess.Popen([NGINX, "-c", str(nginx_conf(tmp, listen, apps)), "-p", str(tmp)],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
            wait_healthy(f"http://127.0.0.1:{listen}/_stcore/health")

            svc = open_services(load_settings(env), load_demo=False)
            viewer = next(p for p in svc.store.list_people() if p.display_name == "Dev Sharma")  # administrator
            tutor = svc.store.list_people()[0]
            recording = svc.store.add_recording(RecordingSpec(str(video), "Think First", "Bench", 1, "Long session",
                                                              dt.date(2026, 11, 1), "Site"), [tutor.id]).id  # fmt: skip
            svc.close()
            signed = f"http://127.0.0.1:{listen}" + signed_recording_path(SECRET.encode(), recording, viewer.id)
            cookie = f"{VIEWER_COOKIE}={viewer_token(SECRET.encode(), viewer.id)}"
            for _ in range(4):  # warm up both processes (first requests open their database pools)
                request(signed, cookie, "bytes=0-1023")[1].close()  # type: ignore[attr-defined]
            pids = [p.pid for p in processes]
            time.sleep(1)
            idle = rss_mb(pids)
            out: dict[str, list] = {"ttfb": [], "seek": [], "errors": []}  # type: ignore[type-arg]
            stop = time.monotonic() + args.seconds
            threads = [threading.Thread(target=client, args=(k, signed, cookie, size, stop, out), daemon=True)
                       for k in range(args.clients)]  # fmt: skip
            for t in threads:
                t.start()
            peak = idle
            while any(t.is_alive() for t in threads):
                peak = max(peak, rss_mb(pids))
                time.sleep(0.25)
            after = rss_mb(pids)
            report(out, args, idle, peak, after)
            return 1 if out["errors"] else 0
    finally:
        for p in processes:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        with psycopg.connect(admin(url), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(out: dict[str, list], args: argparse.Namespace, idle: float, peak: float, after: float) -> None:  # type: ignore[type-arg]
    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else float("nan")

    mode = "the apps stream the bytes" if args.app_streams else "the apps check, nginx sends the bytes"
    print(f"{args.clients} clients through nginx to 2 app processes ({mode}) for {args.seconds:g} s; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the clients run on the same machine)")  # fmt: skip
    print(f"time to first byte  p50 {p(out['ttfb'], 50):.0f} ms, p95 {p(out['ttfb'], 95):.0f} ms ({len(out['ttfb'])} opens)")
    print(f"seek latency        p50 {p(out['seek'], 50):.0f} ms, p95 {p(out['seek'], 95):.0f} ms ({len(out['seek'])} seeks)")
    print(f"errors              {len(out['errors'])}" + (f" (first: {out['errors'][0]})" if out["errors"] else ""))
    print(f"server memory       {idle:.0f} MB idle, peak {peak:.0f} MB, {after:.0f} MB after: growth "
          f"{peak - idle:+.0f} MB for both apps and nginx together (target < 100 MB)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
