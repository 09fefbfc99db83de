"""Every page of the app in Chromium on a national-scale database, for an administrator and a
treatment manager: time to ready the first time and after a new rating is submitted, and the
app's memory (issue 17).

    .venv/bin/python benchmarks/national_pages.py --data /tmp/ns-300k --copy [--app-root /work/other]
    .venv/bin/python benchmarks/national_pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/ns3m --copy

The database is one ``benchmarks/national_scale.py generate`` built (its administrator
admin@national.example and treatment manager tm1@national.example, password national-scale).
The app is ``session-rater serve`` of --app-root (default this checkout), so another branch's
code can be measured on the same data with the same tool; --copy measures a copy (the app
migrates what it opens, and this run submits a rating and starts a draft): of the data folder on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL; the copy is removed afterwards.

Two rounds. Round 1 ("first"): on the freshly started app (empty caches), each role signs in and
opens, each in a new tab, every page its menu lists (read from the sidebar, so pages other
branches add are measured too), then Rate with a session opened (a session and tutor of the
treatment manager's team they have not rated), Compare with one session opened (the
treatment manager's team's session and tutor with the most submitted ratings, theirs among
them) and its "Across sessions" tab, and, for the treatment manager, score clicks on the
opened Rate form until settled. Between rounds a new rating is submitted through the measured
checkout's own storage layer (Store.add_ratings: an external assessor's rating of a session of
that team, with the audit entries the form writes). Round 2 ("after submit") visits the same
pages again.

Ready, as ``national_scale.py measure`` and ``bench_score_click.py`` define it: Streamlit has
finished running (``data-test-script-state`` notRunning, connected), the page's main element
(its title, an ``h1`` in the main area) is shown with no placeholder left (``stSkeleton``, shown
while an element's code loads), and no message has come from the server for 0.4 s; the time is
that of the browser's first paint after the last message (or of the last placeholder's going),
from navigation start. A click settles the same way, timed from the click. A page errors if it shows an exception box (``stException``) or an error alert (the app
shows unexpected errors as "Something went wrong on this page", not as a traceback), or is
not ready within --timeout; the run then exits non-zero. RSS is the app process's (and its
children's) peak resident memory while the page loaded, sampled every 0.1 s.

Prints one line per visit as it goes, then a table: page, role, seconds to ready first and after
the submit, and the app's RSS peak during each.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
ROLES = {"administrator": "admin@national.example", "treatment manager": "tm1@national.example"}
PASSWORD = "national-scale"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
MAIN_ELEMENT = '[data-testid="stMain"] h1'

from browser_wire import QUIET_MS, WIRE_JS  # noqa: E402  (a neighbour script: benchmarks/ is on sys.path)
_IDLE = """const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning'
        || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return null;
    const now = performance.now();"""
LOADED_JS = f"""() => {{
    {_IDLE}
    if (!document.querySelector('{MAIN_ELEMENT}')) return null;
    if (document.querySelector('[data-testid="stMain"] [data-testid="stSkeleton"]')) {{
        window.__skeletonSeen = now;  // an element whose code the browser is still loading
        return null;
    }}
    if (!(window.__lastMessage > 0) || now - window.__lastMessage < {QUIET_MS}
        || window.__paintedAfter < window.__lastMessage) return null;
    return Math.max(window.__paintedAfter, window.__skeletonSeen || 0);
}}"""
"""Milliseconds from navigation start to ready, or null while not ready. Ready also waits for
the placeholders (``stSkeleton``) Streamlit shows while an element's code loads: the Rate
form's score buttons appear about a second after the last message."""
CLICK_JS = f"""() => {{
    {_IDLE}
    if (now - Math.max(window.__click, window.__lastMessage) < {QUIET_MS}) return null;
    if (!(window.__lastMessage > window.__click)) return [0];  // answered in the browser alone
    if (window.__paintedAfter < window.__lastMessage) return null;
    return [window.__paintedAfter - window.__click];
}}"""
"""[milliseconds from the last click until the app settled] (0: no message from the server; in a
list, as Playwright waits for a truthy value)."""

# Run by the measured checkout's own Python, so its code and schema are the ones used.
PROBE = r'''
import json, sys
from pathlib import Path
from sqlalchemy import text
from session_rater.db.engine import make_engine
from session_rater.settings import load_settings

ask = json.loads(sys.argv[1])
engine = make_engine(load_settings().database_url)
with engine.connect() as db:
    q = lambda sql, **p: db.execute(text(sql), p)
    tm = q("select id from people where email = :e", e=ask["tm"]).scalar_one()
    area, team = q("select area, team from managed_teams where person_id = :p order by area, team", p=tm).first()
    in_team = "from recordings r join recording_tutors rt on rt.recording_id = r.id where r.area = :a and r.team = :t"
    if ask["do"] == "targets":
        rate = q(f"""select rt.recording_id, rt.person_id {in_team} and not exists (select 1 from ratings g where
                     g.recording_id = rt.recording_id and g.tutor_id = rt.person_id and g.rater_id = :p)
                     order by r.recorded_on desc, r.id, rt.position limit 1""", a=area, t=team, p=tm).first()
        compare = q(f"""select rt.recording_id, rt.person_id, (select count(*) from ratings g where
                        g.recording_id = rt.recording_id and g.tutor_id = rt.person_id and g.status = 'submitted') n
                        {in_team} and exists (select 1 from ratings g where g.recording_id = rt.recording_id and
                        g.tutor_id = rt.person_id and g.rater_id = :p and g.status = 'submitted')
                        order by n desc, r.id, rt.position limit 1""", a=area, t=team, p=tm).first()
        print(json.dumps({"rate": list(rate[:2]), "compare": list(compare[:2]), "ratings": compare[2]}))
    elif ask["do"] == "submit":
        from session_rater.db.store import Store
        from session_rater.db.ratings import ItemEntry, RatingSpec
        from session_rater.domain.model import Capacity, Role
        from session_rater.io.rubric_files import load_rubric_dir
        rubric = load_rubric_dir(Path("rubrics")).latest(ask["rubric"])
        assessor = q("select person_id from person_roles where role = :r order by person_id", r=Role.EXTERNAL_ASSESSOR.value).first()[0]
        recording, tutor = q(f"""select rt.recording_id, rt.person_id {in_team} and not exists (select 1 from ratings g
                              where g.recording_id = rt.recording_id and g.tutor_id = rt.person_id and g.capacity = :c)
                              order by r.recorded_on desc, r.id, rt.position limit 1""",
                             a=area, t=team, c=Capacity.EXTERNAL.value).first()
        db.rollback()  # this connection's reads began a transaction that takes SQLite's write lock
        values = rubric.scale_values
        items = {item.id: ItemEntry(values[i % len(values)]) for i, item in enumerate(rubric.items)}
        import time
        from session_rater.errors import StorageError
        for attempt in range(20):  # the app may be writing (each try waits 30 s for the lock)
            try:
                Store(engine).add_ratings([RatingSpec(recording, tutor, assessor, Capacity.EXTERNAL, items)], rubric)
                break
            except StorageError:
                if attempt == 19:
                    raise
                print(f"locked, try {attempt + 2}", file=sys.stderr)
                time.sleep(1)
        print(json.dumps({"recording": recording, "tutor": tutor, "rater": assessor}))
engine.dispose()
'''


@dataclass
class Visit:
    page: str
    role: str
    seconds: float | None = None
    rss_mb: float = 0.0
    error: str | None = None


@dataclass
class Results:
    visits: dict[tuple[str, str, int], Visit] = field(default_factory=dict)
    clicks: dict[tuple[str, int], list[float]] = field(default_factory=dict)


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children, in MB."""
    total = 0
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    for p in [pid] + [int(x) for x in children.stdout.split()]:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


class PeakRss:
    """The app's peak RSS since the last :meth:`reset`, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.overall = pid, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            now = rss_mb(self.pid)
            self.peak, self.overall = max(self.peak, now), max(self.overall, now)

    def reset(self) -> None:
        self.peak = rss_mb(self.pid)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def free_port() -> int:
    for port in range(8620, 8641):  # the dev port range
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind(("127.0.0.1", port))
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_env(app_root: Path, data: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("STREAMLIT_")}
    env.update(SESSION_RATER_DATA_DIR=str(data), SESSION_RATER_DEMO="0", SESSION_RATER_IN_APP_WORKER="0",
               SESSION_RATER_RECORDINGS_DIR=str(REPO / "sample_sessions"),
               SESSION_RATER_RUBRICS_DIR=str(app_root / "rubrics"), PYTHONPATH=str(app_root / "src"),
               PYTHONUNBUFFERED="1")  # fmt: skip
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def probe(app_root: Path, env: dict[str, str], **ask: object) -> dict:  # type: ignore[type-arg]
    done = subprocess.run([str(app_root / ".venv/bin/python"), "-c", PROBE, json.dumps(ask)], cwd=app_root, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode:
        raise SystemExit(f"the probe ({ask['do']}) failed:\n{done.stderr}")
    for line in done.stderr.splitlines():
        if line.startswith("locked"):
            print(f"  the database was locked: {line}", flush=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def serving(app_root: Path, env: dict[str, str], log_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    log = log_path.open("wb")
    app = subprocess.Popen([str(app_root / ".venv/bin/session-rater"), "serve", "--port", str(port), "--headless"],
                           cwd=app_root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # the first start migrates the database
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                    break
            except OSError:
                if app.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the app did not start: see {log_path}") from None
                time.sleep(0.5)
        yield app, base
    finally:
        app.terminate()
        try:
            app.wait(20)
        except subprocess.TimeoutExpired:
            app.kill()
        log.close()


def page_errors(page) -> str | None:  # type: ignore[no-untyped-def]
    if page.locator('[data-testid="stException"]').count():
        return "exception: " + page.locator('[data-testid="stException"]').first.inner_text()[:200]
    alerts = page.locator('[data-testid="stAlertContentError"]')
    if alerts.count():
        return "error: " + " | ".join(alerts.all_inner_texts())[:200]
    return None


def visit(context, url: str, timeout: float, rss: PeakRss, then=None):  # type: ignore[no-untyped-def]
    """Open ``url`` in a new tab until ready; (seconds, RSS peak MB, error, what ``then`` returned)."""
    page = context.new_page()
    page.add_init_script(WIRE_JS)
    rss.reset()
    seconds, error, extra = None, None, None
    try:
        page.goto(url, wait_until="commit", timeout=timeout * 1000)
        seconds = page.wait_for_function(LOADED_JS, timeout=timeout * 1000, polling=20).json_value() / 1000
        error = page_errors(page)
        if then is not None and error is None:
            extra = then(page)
    except Exception as exc:  # noqa: BLE001 - a page that never gets ready is a result, not a crash
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    finally:
        page.close()
    return seconds, rss.peak, error, extra


def settle_after_click(page, timeout: float) -> float:  # type: ignore[no-untyped-def]
    return page.wait_for_function(CLICK_JS, timeout=timeout * 1000, polling=20).json_value()[0] / 1000


def compare_tabs(timeout: float):  # type: ignore[no-untyped-def]
    """On Compare: "Show the ratings" if the page first asks (someone who has not rated the
    session is recorded as not blind for it), then the "Across sessions" tab; each click's
    seconds until settled, and any error."""

    def click(page) -> dict[str, tuple[float | None, str | None]]:  # type: ignore[no-untyped-def]
        done: dict[str, tuple[float | None, str | None]] = {}
        show = page.get_by_role("button", name=re.compile("^Show the ratings"))
        if show.count():
            show.click(timeout=30_000)
            done["Compare, show the ratings (click)"] = (settle_after_click(page, timeout), page_errors(page))
        tab = page.get_by_role("tab", name=re.compile("Across sessions"))
        tab.click(timeout=30_000)
        seconds = settle_after_click(page, timeout)
        error = page_errors(page) or (None if tab.get_attribute("aria-selected") == "true" else "the tab did not open")
        done["Compare, across sessions tab (click)"] = (seconds, error)
        return done

    return click


def score_clicks(n: int, timeout: float, round_: int = 1):  # type: ignore[no-untyped-def]
    def click(page) -> tuple[list[float], str | None]:  # type: ignore[no-untyped-def]
        groups = page.get_by_role("radiogroup", name=re.compile("^Score for"))
        try:
            groups.first.wait_for(timeout=30_000)
        except Exception:  # noqa: BLE001
            return [], "no score to click on the Rate page"
        times = []
        for k in range(n):
            options = groups.nth(k % groups.count()).locator('label[data-testid="stRadioOption"]')
            # each round picks other scores than the last (the draft keeps them: clicking the
            # score already chosen sends nothing to the server)
            option = options.nth((k + k // groups.count() + round_) % options.count())
            option.scroll_into_view_if_needed()
            time.sleep(0.3)  # a rater's pause between clicks
            option.click()
            times.append(settle_after_click(page, timeout))
        return times, page_errors(page)

    return click


def sign_in(browser, base: str, email: str, timeout: float):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(f"{base}/signin", timeout=timeout * 1000)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda u: "/signin" not in u, timeout=timeout * 1000)
    page.wait_for_selector('[data-testid="stSidebarNavLink"]', timeout=timeout * 1000)
    menu = []
    for link in page.locator('[data-testid="stSidebarNavLink"]').all():
        menu.append((link.inner_text().strip().splitlines()[-1].strip(), urlsplit(link.get_attribute("href")).path))
    page.close()
    return context, menu


def run_round(browser, base: str, round_: int, targets: dict, args, rss: PeakRss, results: Results) -> None:  # type: ignore[no-untyped-def,type-arg]
    rate = f"{base}/rate?recording={targets['rate'][0]}&tutor={targets['rate'][1]}"
    compare = f"{base}/compare?recording={targets['compare'][0]}&tutor={targets['compare'][1]}"
    for role, email in ROLES.items():
        context, menu = sign_in(browser, base, email, args.timeout)
        plan = [(title, base + path, None) for title, path in menu]
        plan.append(("Rate, a session opened", rate, score_clicks(args.clicks, args.timeout, round_)
                     if role == "treatment manager" and args.clicks else None))  # fmt: skip
        plan.append(("Compare, one session opened", compare, compare_tabs(args.timeout)))
        for title, url, then in plan:
            if args.pages and not re.search(args.pages, title, re.IGNORECASE):
                continue
            seconds, peak, error, extra = visit(context, url, args.timeout, rss, then)
            results.visits[(title, role, round_)] = Visit(title, role, seconds, peak, error)
            shown = "ERROR" if seconds is None else f"{seconds:.2f} s"
            print(f"  round {round_} {role:17} {title:30} {shown:>9}  RSS {peak:6.0f} MB"
                  + (f"  {error}" if error else ""), flush=True)  # fmt: skip
            if extra is None:
                continue
            if isinstance(extra, dict):
                for what, (click_seconds, click_error) in extra.items():
                    results.visits[(what, role, round_)] = Visit(what, role, click_seconds, peak, click_error)
                    print(f"  round {round_} {role:17} {what:30} {click_seconds:7.2f} s"
                          + (f"  {click_error}" if click_error else ""), flush=True)  # fmt: skip
            else:
                clicks, click_error = extra
                results.clicks[(role, round_)] = clicks
                if click_error:
                    results.visits[(title, role, round_)].error = click_error
                if clicks:
                    print(f"  round {round_} {role:17} {'  score clicks':30} median {statistics.median(clicks):.2f} s, "
                          f"max {max(clicks):.2f} s ({len(clicks)})", flush=True)  # fmt: skip
        context.close()


def report(results: Results, rss: PeakRss) -> int:
    rows: dict[tuple[str, str], dict[int, Visit]] = {}
    for (page, role, round_), v in results.visits.items():
        rows.setdefault((page, role), {})[round_] = v

    def secs(v: Visit | None) -> str:
        return "-" if v is None else ("ERROR" if v.error or v.seconds is None else f"{v.seconds:.2f}")

    print()
    print("| page | role | first s | after submit s | RSS peak MB (first / after) |")
    print("|---|---|---|---|---|")
    for (page, role), by_round in rows.items():
        first, after = by_round.get(1), by_round.get(2)
        print(f"| {page} | {role} | {secs(first)} | {secs(after)} | "
              f"{first.rss_mb if first else 0:.0f} / {after.rss_mb if after else 0:.0f} |")  # fmt: skip
    for (role, round_), clicks in results.clicks.items():
        if clicks:
            print(f"| score click until settled ({len(clicks)}) | {role} | round {round_}: median "
                  f"{statistics.median(clicks):.2f}, max {max(clicks):.2f} | | |")  # fmt: skip
    failed = [(p, r, n, v.error) for (p, r, n), v in results.visits.items() if v.error or v.seconds is None]
    print(f"\napp RSS peak over the run: {rss.overall:.0f} MB; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    for p, r, n, error in failed:
        print(f"ERROR round {n}, {r}, {p}: {error}", file=sys.stderr)
    return 1 if failed else 0


def measure(app_root: Path, data: Path, database_url: str | None, args) -> int:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    env = app_env(app_root, data, database_url)
    results = Results()
    with serving(app_root, env, data / f"national-pages-{os.getpid()}.log") as (app, base):
        targets = probe(app_root, env, do="targets", tm=ROLES["treatment manager"])
        print(f"app {app_root} on {database_url or data} at {base}; Rate {targets['rate']}, Compare "
              f"{targets['compare']} ({targets['ratings']} submitted ratings)", flush=True)  # fmt: skip
        rss = PeakRss(app.pid)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
                run_round(browser, base, 1, targets, args, rss, results)
                submitted = probe(app_root, env, do="submit", tm=ROLES["treatment manager"], rubric=args.rubric)
                print(f"  submitted a rating: {submitted}", flush=True)
                run_round(browser, base, 2, targets, args, rss, results)
                browser.close()
        finally:
            rss.stop()
    return report(results, rss)


@contextlib.contextmanager
def postgres_copy(url: str) -> Iterator[str]:
    """A copy of the PostgreSQL database at ``url`` (CREATE DATABASE ... TEMPLATE), dropped after."""
    from sqlalchemy import create_engine, make_url, text

    source = make_url(url)
    name = f"{source.database}_measure_{os.getpid()}"
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
    try:
        yield source.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as db:
            db.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="the data folder (its SQLite file, unless --database-url)")
    parser.add_argument("--database-url", help="a PostgreSQL database instead, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/ns3m")
    parser.add_argument("--app-root", type=Path, default=REPO, help="the checkout whose app to run (its .venv)")
    parser.add_argument("--copy", action="store_true", help="measure a copy (the run writes: a rating, a draft)")
    parser.add_argument("--clicks", type=int, default=5, help="score clicks on the treatment manager's Rate form")
    parser.add_argument("--timeout", type=float, default=400, help="seconds a page may take before it counts as an error")
    parser.add_argument("--rubric", default="think-first-video-monitoring")
    parser.add_argument("--pages", help="only the pages whose title matches this regular expression, e.g. 'Over|Agree'")
    args = parser.parse_args(argv)
    app_root = args.app_root.resolve()
    if args.database_url:
        data = Path(args.data or f"/tmp/national-pages-{os.getpid()}")
        data.mkdir(parents=True, exist_ok=True)
        with postgres_copy(args.database_url) if args.copy else contextlib.nullcontext(args.database_url) as url:
            return measure(app_root, data, url, args)
    if args.data is None:
        parser.error("give --data (or --database-url)")
    if not args.copy:
        return measure(app_root, args.data, None, args)
    data = Path(f"{args.data}-measure-{os.getpid()}")
    shutil.copytree(args.data, data, ignore=shutil.ignore_patterns("READY", "*.log"))
    try:
        return measure(app_root, data, None, args)
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
