"""Serving recordings: time to first byte, Range seek latency and server memory.

    .venv/bin/python benchmarks/bench_serving.py [--size-mb 1024] [--clients 4]

Makes 4 long H.264/AAC recordings (a 60 s segment looped with stream copy; nothing is kept),
starts the real app (`streamlit run app.py`) on them, and measures through its signed
recording route: TTFB, the latency of 50 random Range seeks (p50/p95), and the server's RSS
while 4 clients stream different recordings with seeking. The same load is then run against a
baseline app that calls st.video(path) (Streamlit's media manager), as the issue asks.
Targets (issue 3): seek p95 < 100 ms on loopback; RSS growth < 50 MB with 4 streams.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from session_rater.db.accounts_store import AccountsStore  # noqa: E402
from session_rater.usecases.accounts import Accounts  # noqa: E402
from session_rater.db.engine import make_engine, migrate  # noqa: E402
from session_rater.db.store import RecordingSpec, Store  # noqa: E402
from session_rater.domain.model import Role  # noqa: E402
from session_rater.media.ffmpeg import ffmpeg_exe  # noqa: E402
from session_rater.usecases.recording_links import VIEWER_COOKIE, load_or_create_secret, signed_recording_path, viewer_token  # noqa: E402

AREA, TEAM = "Bench area", "Bench team"
PASSWORD = "bench-serving-password"
BASELINE = '''
import streamlit as st
st.video(st.query_params["f"])
'''


def make_recordings(folder: Path, size_mb: int, count: int) -> list[Path]:
    ff = ffmpeg_exe()
    segment = folder / "seg.mp4"
    subprocess.run(
        [ff, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25,noise=alls=40:allf=t",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "60", "-c:v", "libx264",
         "-preset", "ultrafast", "-b:v", "1300k", "-maxrate", "1300k", "-bufsize", "2600k", "-g", "50",
         "-c:a", "aac", "-b:a", "128k", str(segment)],
        check=True,
    )
    loops = max(1, round(size_mb * 1024 * 1024 / segment.stat().st_size))
    first = folder / "rec0.mp4"
    subprocess.run([ff, "-v", "error", "-y", "-stream_loop", str(loops - 1), "-i", str(segment), "-c", "copy",
                    "-movflags", "+faststart", str(first)], check=True)
    files = [first]
    for i in range(1, count):  # different files (different inodes), same content is fine for serving
        copy = folder / f"rec{i}.mp4"
        shutil.copyfile(first, copy)
        files.append(copy)
    return files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    total = 0
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def start(cmd: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not start")


def get(url: str, cookie: str | None, range_header: str | None, read: int | None) -> tuple[float, int]:
    request = urllib.request.Request(url)
    if cookie:
        request.add_header("Cookie", cookie)
    if range_header:
        request.add_header("Range", range_header)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        first = response.read(1)
        ttfb = time.perf_counter() - started
        n = len(first) + len(response.read(read) if read else b"")
    return ttfb, n


def load(urls: list[str], cookie: str | None, size: int, seconds: float, pid: int) -> tuple[float, float]:
    """Clients each stream their own recording with random seeks; peak RSS over the run."""
    stop = time.monotonic() + seconds
    peak = rss_mb(pid)
    errors: list[str] = []

    def client(url: str) -> None:
        rng = random.Random(url)
        try:
            while time.monotonic() < stop:
                offset = rng.randrange(0, size - 4_000_000)
                get(url, cookie, f"bytes={offset}-", read=2_000_000)  # open-ended, as browsers ask
        except Exception as exc:  # a thread's exception is otherwise lost: the figures would lie
            errors.append(f"{url.split('?')[0]}: {exc}")

    threads = [threading.Thread(target=client, args=(u,)) for u in urls]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        peak = max(peak, rss_mb(pid))
        time.sleep(0.2)
    if errors:
        raise SystemExit("clients failed, so no figures: " + "; ".join(errors))
    return peak, rss_mb(pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp_name:
        tmp = Path(tmp_name)
        t = time.perf_counter()
        files = make_recordings(tmp, args.size_mb, args.clients)
        size = files[0].stat().st_size
        print(f"made {len(files)} recordings of {size / 2**20:.0f} MB in {time.perf_counter() - t:.1f} s")

        data = tmp / "data"
        engine = make_engine(f"sqlite:///{data / 'session_rater.db'}")
        migrate(engine)
        store = Store(engine)
        tutor = store.add_person("Bench Tutor", [Role.TUTOR])
        accounts = Accounts(AccountsStore(engine), store, idle=dt.timedelta(hours=2))
        viewer = accounts.add_person("Bench Viewer", "viewer@bench.example", [Role.TREATMENT_MANAGER], PASSWORD,
                                     actor_id=None)
        ids = [
            store.add_recording(
                RecordingSpec(str(f), "Think First", "G", i + 1, "bench", dt.date(2026, 1, 1), "Site",
                              area=AREA, team=TEAM), [tutor.id]
            ).id
            for i, f in enumerate(files)
        ]
        # The recording route plays a recording only to someone whose scope reaches it (issue 9):
        # the viewer manages the team that delivered them. Without it every request is a 403.
        AccountsStore(engine).set_scope(viewer.id, actor_id=None, managed_teams=[(AREA, TEAM)])
        # ... and plays only while the sign-in session its viewer token names is live.
        _, signed_in = accounts.sign_in("viewer@bench.example", PASSWORD)
        engine.dispose()
        secret = load_or_create_secret(data, None)
        cookie = f"{VIEWER_COOKIE}={viewer_token(secret, viewer.id, signed_in.session.id)}"

        port = free_port()
        env = {**os.environ, "SESSION_RATER_DATA_DIR": str(data), "SESSION_RATER_DEMO": "0"}
        app = start([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                     "--server.port", str(port), "--browser.gatherUsageStats", "false"], env, port)
        try:
            base = f"http://127.0.0.1:{port}"
            urls = [base + signed_recording_path(secret, rid, viewer.id) for rid in ids]
            get(urls[0], cookie, "bytes=0-1023", None)  # warm up (first request opens the database)
            ttfbs = [get(urls[0], cookie, None, 0)[0] for _ in range(10)]
            rng = random.Random(7)
            seeks = sorted(
                get(urls[0], cookie, f"bytes={rng.randrange(0, size - 65536)}-", 65535)[0] for _ in range(50)
            )
            idle = rss_mb(app.pid)
            peak, after = load(urls, cookie, size, args.seconds, app.pid)
            print("\napp route (signed URL, FileResponse from disk)")
            print(f"  time to first byte   median {statistics.median(ttfbs) * 1000:.1f} ms")
            print(f"  Range seek latency   p50 {seeks[24] * 1000:.1f} ms, p95 {seeks[47] * 1000:.1f} ms (50 random offsets)")
            print(f"  server RSS           idle {idle:.0f} MB, peak {peak:.0f} MB with {len(urls)} clients "
                  f"seeking for {args.seconds:.0f} s (growth {peak - idle:+.0f} MB)")
        finally:
            app.terminate()
            app.wait(10)

        if args.skip_baseline:
            return
        script = tmp / "baseline.py"
        script.write_text(BASELINE)
        port = free_port()
        base_proc = start([sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
                           "--server.port", str(port), "--browser.gatherUsageStats", "false"], dict(os.environ), port)
        try:
            from playwright.sync_api import sync_playwright

            idle = rss_mb(base_proc.pid)
            media_urls = []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                for f in files:
                    page = browser.new_page()
                    page.goto(f"http://127.0.0.1:{port}/?f={f}")
                    page.wait_for_selector("video", timeout=120_000)
                    media_urls.append(page.locator("video").get_attribute("src"))
                opened = rss_mb(base_proc.pid)
                full = [u if u.startswith("http") else f"http://127.0.0.1:{port}{u}" for u in media_urls]
                peak, after = load(full, None, size, args.seconds, base_proc.pid)
                browser.close()
            print("\nbaseline: st.video(path)")
            print(f"  server RSS           idle {idle:.0f} MB, {opened:.0f} MB after {len(files)} pages opened, "
                  f"peak {peak:.0f} MB with {len(full)} clients (growth {peak - idle:+.0f} MB)")
        finally:
            base_proc.terminate()
            base_proc.wait(10)


if __name__ == "__main__":
    main()
