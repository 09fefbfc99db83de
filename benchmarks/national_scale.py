"""A national-scale database, and the Sessions page's time to ready on it in Chromium (issue 17).

    .venv/bin/python benchmarks/national_scale.py generate --scores 300000 --data /tmp/ns-300k [--seed 17]
    .venv/bin/python benchmarks/national_scale.py copy --data /tmp/ns-300k --database-url postgresql+psycopg://postgres@127.0.0.1:5432/ns300k
    .venv/bin/python benchmarks/national_scale.py digest --data /tmp/ns-300k   # or --database-url URL
    .venv/bin/python benchmarks/national_scale.py measure --data /tmp/ns-300k [--runs 3] [--app-root DIR]

``generate`` builds, through the project's storage layer (Store, AccountsStore, Accounts; the
ratings through Store.add_ratings, its bulk path, which writes the same audit entries as the
form does), a database of 20,006 recorded sessions delivered by 1,740 tutors in 42 areas of 4
teams each, 2,009 people in all, and enough submitted ratings (23 items each) for --scores
submitted item scores (30000, 300000, 3000000). It is deterministic: the same --seed and
--scores give the same database (``digest`` hashes its rows without the times they were
written; tests/integration/test_national_scale.py checks). --database-url writes to another
database (PostgreSQL) instead of the SQLite file in --data. Minutes, not hours: on SQLite 300 k
scores take 23 s and 3 M 5 minutes on the busy 2-core machine (before: 6 minutes and over an
hour), 5,000 ratings per add_ratings transaction, the recordings in one transaction
(:func:`add_recordings`, the rows Store.add_recording writes; one transaction each took 168 s)
and no fsync while generating. On PostgreSQL each rating's insert is a round trip: 300 k took
216 s there; ``copy`` puts a generated SQLite database into an empty PostgreSQL one by COPY
instead (300 k in 20 s), row for row the same (the same digest as generating there).

``measure`` starts the app (``session-rater serve`` of --app-root, default this checkout, so
the same database can be measured with the code before and after a change) on --data, signs in
an administrator through /signin in Chromium and prints, for --runs fresh loads of the Sessions
page, the seconds from navigation to the app being ready with the table shown, and the bytes
the app sent over its websocket. The app's peak RSS is printed too. Every page, for both roles,
before and after a submitted rating: ``benchmarks/national_pages.py``.

The administrator is admin@national.example, the treatment manager tm1@national.example,
password ``national-scale``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import JSON, DateTime, Engine, MetaData, Text, event, insert, inspect, select, type_coerce

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from session_rater.db import models as m  # noqa: E402
from session_rater.db.accounts_store import AccountsStore  # noqa: E402
from session_rater.db.engine import make_engine, migrate  # noqa: E402
from session_rater.db.ratings import ItemEntry, RatingSpec  # noqa: E402
from session_rater.db.store import RecordingSpec, Store  # noqa: E402
from session_rater.domain.model import Capacity, Role  # noqa: E402
from session_rater.io.rubric_files import load_rubric_dir  # noqa: E402
from session_rater.usecases.accounts import Accounts  # noqa: E402

RECORDINGS = 20_006
PEOPLE = 2_009
AREAS = 42
TEAMS_PER_AREA = 4
TREATMENT_MANAGERS = AREAS * TEAMS_PER_AREA  # one per team: 168
ASSESSORS = 60
PROGRAMME_MANAGERS = AREAS - 2  # 40, one per area but two areas
TUTORS = PEOPLE - 1 - TREATMENT_MANAGERS - ASSESSORS - PROGRAMME_MANAGERS  # 1,740
PASSWORD = "national-scale"
RUBRIC_ID = "think-first-video-monitoring"
BATCH = 5000  # ratings per add_ratings transaction (115,000 item scores)
TITLES = {3: "Problem solving: defining the problem", 7: "Consequential thinking", 11: "Perspective taking"}
CLIPS = sorted(p.name for p in (REPO / "sample_sessions").glob("*.mp4"))


def generate(scores: int, data: Path, database_url: str | None, seed: int) -> None:
    rng = random.Random(seed)
    data.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{data / 'session_rater.db'}"
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _fast_sqlite)
    migrate(engine)
    store, accounts_store = Store(engine), AccountsStore(engine)
    if not store.is_empty():
        raise SystemExit(f"{url} is not empty: give a new --data folder (or an empty database)")
    accounts = Accounts(accounts_store, store, idle=dt.timedelta(hours=8))
    rubric = load_rubric_dir(REPO / "rubrics").latest(RUBRIC_ID)
    started = time.perf_counter()

    areas = [f"Area {a:02d}" for a in range(AREAS)]
    teams = [(area, f"{area} team {t}") for area in areas for t in range(TEAMS_PER_AREA)]
    admin = accounts.add_person("National Administrator", "admin@national.example", [Role.ADMINISTRATOR],
                                PASSWORD, actor_id=None)  # fmt: skip
    managers = []
    for i, (area, team) in enumerate(teams):
        email, password = (f"tm{i + 1}@national.example", PASSWORD) if i == 0 else (None, None)
        if email:
            person = accounts.add_person(f"Manager {i + 1:03d}", email, [Role.TREATMENT_MANAGER], password,
                                         actor_id=admin.id)
        else:
            person = store.add_person(f"Manager {i + 1:03d}", [Role.TREATMENT_MANAGER])
        accounts_store.set_scope(person.id, actor_id=admin.id, managed_teams=[(area, team)])
        managers.append(person.id)
    programme_managers = []
    for i in range(PROGRAMME_MANAGERS):
        person = store.add_person(f"Programme Manager {i + 1:02d}", [Role.PROGRAMME_MANAGER])
        accounts_store.set_scope(person.id, actor_id=admin.id, areas=[areas[i]])
        programme_managers.append(person.id)
    assessors = [store.add_person(f"Assessor {i + 1:02d}", [Role.EXTERNAL_ASSESSOR]).id for i in range(ASSESSORS)]
    tutors = [store.add_person(f"Tutor {i + 1:04d}", [Role.TUTOR]).id for i in range(TUTORS)]
    print(f"  {PEOPLE} people in {time.perf_counter() - started:.1f} s", flush=True)

    # Tutors work in pairs within one team; each team runs groups of 3 sessions over 2024-2026.
    tutors_of_team = {team: tutors[i::len(teams)] for i, team in enumerate(teams)}
    planned: list[tuple[RecordingSpec, tuple[int, ...], int]] = []
    t = time.perf_counter()
    for k in range(RECORDINGS):
        team_index = k % len(teams)
        area, team = teams[team_index]
        pool = tutors_of_team[teams[team_index]]
        pair = tuple(rng.sample(pool, 2))
        number = (3, 7, 11)[k % 3]
        group = f"{team.split(' team ')[0].replace('Area ', 'A')}-T{team_index % TEAMS_PER_AREA}-G{k // (3 * len(teams)):03d}"
        spec = RecordingSpec(CLIPS[k % len(CLIPS)], "Think First", group, number, TITLES[number],
                             dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 900)), f"{area} site",
                             is_catch_up=rng.random() < 0.05, area=area, team=team)  # fmt: skip
        planned.append((spec, pair, team_index))
    ids = add_recordings(engine, [(spec, pair) for spec, pair, _ in planned])
    recordings = [(recording_id, pair, team_index) for recording_id, (_, pair, team_index) in zip(ids, planned, strict=True)]
    print(f"  {RECORDINGS} recordings in {time.perf_counter() - t:.1f} s", flush=True)

    # The slots a rating can fill: each (recording, tutor) in each capacity; a seeded shuffle
    # picks as many as the scores asked for.
    wanted = -(-scores // len(rubric.items))
    slots = [(r, tutor, capacity) for r in range(RECORDINGS) for tutor in (0, 1) for capacity in Capacity]
    if wanted > len(slots):
        raise SystemExit(f"at most {len(slots) * len(rubric.items)} scores fit these recordings")
    chosen = rng.sample(slots, wanted)
    chosen.sort()
    values = rubric.scale_values
    t = time.perf_counter()
    specs: list[RatingSpec] = []
    made = 0
    for r, tutor_index, capacity in chosen:
        recording_id, pair, team_index = recordings[r]
        tutor = pair[tutor_index]
        rater = {Capacity.SELF_ASSESSMENT: tutor, Capacity.MONITORING: managers[team_index],
                 Capacity.EXTERNAL: assessors[r % ASSESSORS],
                 Capacity.BENCHMARK: programme_managers[team_index // TEAMS_PER_AREA % PROGRAMME_MANAGERS]}[capacity]  # fmt: skip
        items = {item.id: ItemEntry(rng.choice(values)) for item in rubric.items}
        specs.append(RatingSpec(recording_id, tutor, rater, capacity, items, confirm_uniform=True))
        if len(specs) == BATCH:
            made += store.add_ratings(specs, rubric)
            specs = []
            if made % (BATCH * 5) == 0:
                print(f"    {made} ratings ({made * len(rubric.items)} scores), {time.perf_counter() - t:.0f} s",
                      flush=True)  # fmt: skip
    made += store.add_ratings(specs, rubric)
    print(f"  {made} submitted ratings, {made * len(rubric.items)} item scores in {time.perf_counter() - t:.1f} s",
          flush=True)  # fmt: skip
    engine.dispose()
    print(f"generated in {time.perf_counter() - started:.0f} s: {url}")


def _fast_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """While generating only: no fsync (a crash means generating again) and a larger page cache
    for the indexes of millions of rows. The file is the same; the app sets its own pragmas."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def add_recordings(engine: Engine, recordings: Sequence[tuple[RecordingSpec, Sequence[int]]]) -> list[int]:
    """The rows Store.add_recording writes (a recording, its tutors in order; no audit entry),
    for many recordings in one transaction: one at a time, 20,006 took 168 s on SQLite and most
    of 13 minutes on PostgreSQL. Returns their ids, in the order given. A test holds the rows
    equal to Store.add_recording's."""
    if not recordings:
        return []
    rows = [{"file_path": spec.file_path, "programme": spec.programme, "group_name": spec.group_name,
             "session_number": spec.session_number, "session_title": spec.session_title,
             "recorded_on": spec.recorded_on, "site": spec.site, "area": spec.area, "team": spec.team,
             "is_catch_up": spec.is_catch_up, "duration_seconds": spec.duration_seconds,
             "content_hash": spec.content_hash, "is_demo": False}
            for spec, _ in recordings]  # fmt: skip
    with engine.begin() as db:
        ids = list(db.execute(insert(m.Recording).returning(m.Recording.id, sort_by_parameter_order=True), rows)
                   .scalars())  # fmt: skip
        tutors = [{"recording_id": recording_id, "person_id": person_id, "position": i}
                  for recording_id, (_, pair) in zip(ids, recordings, strict=True) for i, person_id in enumerate(pair)]  # fmt: skip
        db.execute(insert(m.RecordingTutor), tutors)
    return ids


def digest(database_url: str) -> str:
    """A SHA-256 of every table's rows, in primary-key order, leaving out when they were written
    (date-time columns) and password hashes (salted): equal for two databases generated with the
    same --seed and --scores."""
    engine = make_engine(database_url)
    meta = MetaData()
    meta.reflect(engine)
    sha = hashlib.sha256()
    with engine.connect() as db:
        for table in sorted(meta.tables.values(), key=lambda t: t.name):
            columns = [c for c in table.columns if not isinstance(c.type, DateTime) and c.name != "password_hash"]
            order = list(table.primary_key.columns) or columns
            sha.update(f"{table.name}:{','.join(c.name for c in columns)}\n".encode())
            for row in db.execute(select(*columns).order_by(*order)):
                sha.update(json.dumps([v if isinstance(v, (int, float, str, type(None))) else str(v) for v in row],
                                      default=str).encode())  # fmt: skip
    engine.dispose()
    return sha.hexdigest()


def _create_database(database_url: str) -> None:
    """CREATE DATABASE, where it does not exist yet (on the server's ``postgres`` database)."""
    from sqlalchemy import create_engine, make_url, text

    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as db:
            if db.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).first() is None:
                db.execute(text(f'CREATE DATABASE "{url.database}"'))
                print(f"created the database {url.database}", flush=True)
    finally:
        admin.dispose()


def copy_to_postgres(data: Path, database_url: str) -> None:
    """Copy the database ``generate`` built in ``data`` (SQLite) into the empty PostgreSQL
    database at ``database_url``, row for row, by COPY: 3 million scores in minutes, where
    generating on PostgreSQL itself (each rating's insert a round trip, each batch of scores
    and audit entries through INSERT ... VALUES) takes half an hour on a busy machine. The
    schema is the same migrations'; the values are read through the models' column types (JSON
    as the text stored, times as UTC), and each id sequence is set past the largest id, so the
    app goes on from there. ``digest`` gives the same hash for both."""
    import importlib
    import pkgutil

    import session_rater.db as db_package

    for module in pkgutil.iter_modules(db_package.__path__):  # every table's model
        if module.name.endswith("models"):
            importlib.import_module(f"session_rater.db.{module.name}")
    source = make_engine(f"sqlite:///{data / 'session_rater.db'}")
    target = make_engine(database_url)
    if target.dialect.name != "postgresql":
        raise SystemExit("copy writes to PostgreSQL: give a postgresql+psycopg:// --database-url")
    _create_database(database_url)
    migrate(target)
    if not Store(target).is_empty():
        raise SystemExit(f"{database_url} is not empty: give an empty database")
    tables = m.Base.metadata.sorted_tables
    there = set(inspect(target).get_table_names()) - {"alembic_version"}
    if there != {t.name for t in tables}:
        raise SystemExit(f"the models and the database disagree on the tables: {sorted(there ^ {t.name for t in tables})}")
    started = time.perf_counter()
    with target.begin() as pg, source.connect() as lite:
        cursor = pg.connection.dbapi_connection.cursor()
        cursor.execute("SET LOCAL TimeZone TO 'UTC'")
        cursor.execute(f"TRUNCATE {', '.join(t.name for t in tables)}")  # what migrations seeded: copied below
        for table in tables:
            t = time.perf_counter()
            columns = [type_coerce(c, Text) if isinstance(c.type, JSON) else c for c in table.columns]
            names = ", ".join(f'"{c.name}"' for c in table.columns)
            rows = lite.execution_options(yield_per=20_000).execute(select(*columns))
            n = 0
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            for column in table.primary_key.columns:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", (table.name, column.name))
                sequence = cursor.fetchone()[0]
                if sequence:
                    cursor.execute(f'SELECT setval(%s, coalesce((SELECT max("{column.name}") FROM {table.name}), 0) + 1, false)',
                                   (sequence,))  # fmt: skip
            if n > 10_000:
                print(f"  {table.name}: {n} rows in {time.perf_counter() - t:.1f} s", flush=True)
    source.dispose()
    target.dispose()
    print(f"copied in {time.perf_counter() - started:.0f} s: {database_url}")


# -- measuring the Sessions page ---------------------------------------------------------------

READY = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    total = 0
    pids = [pid] + [int(x) for x in subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                                                   text=True, check=False).stdout.split()]  # fmt: skip
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def measure(data: Path, runs: int, app_root: Path, email: str, timeout: float) -> None:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "SESSION_RATER_DATA_DIR": str(data), "SESSION_RATER_DEMO": "0",
           "SESSION_RATER_IN_APP_WORKER": "0", "SESSION_RATER_RECORDINGS_DIR": str(REPO / "sample_sessions")}  # fmt: skip
    log = open(data / f"serve-{port}.log", "wb")  # noqa: SIM115
    app = subprocess.Popen([str(app_root / ".venv/bin/session-rater"), "serve", "--port", str(port), "--headless"],
                           cwd=app_root, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit(f"the app did not start: see {log.name}")
        peak = _rss_mb(app.pid)
        times, sent = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])  # fmt: skip
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            page.goto(f"{base}/signin")
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda u: "/signin" not in u, timeout=timeout * 1000)
            page.close()
            for run in range(runs):
                page = context.new_page()
                received = [0]

                def on_socket(ws, received=received):  # type: ignore[no-untyped-def]
                    ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

                page.on("websocket", on_socket)
                started = time.perf_counter()
                page.goto(f"{base}/", timeout=timeout * 1000)
                page.wait_for_selector('[data-testid="stDataFrame"]', timeout=timeout * 1000)
                page.wait_for_selector(READY, timeout=timeout * 1000)
                times.append(time.perf_counter() - started)
                sent.append(received[0])
                peak = max(peak, _rss_mb(app.pid))
                print(f"  run {run + 1}: {times[-1]:.2f} s to ready, {received[0] / 2**20:.2f} MiB over the websocket",
                      flush=True)  # fmt: skip
                page.close()
            browser.close()
        print(f"Sessions page, {email}: median {statistics.median(times):.2f} s to ready "
              f"(min {min(times):.2f}, max {max(times):.2f}, {runs} fresh loads); "
              f"median {statistics.median(sent) / 2**20:.2f} MiB sent; app RSS peak {peak:.0f} MB; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    finally:
        app.terminate()
        app.wait(20)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="build the national-scale database")
    g.add_argument("--scores", type=int, required=True, help="submitted item scores, e.g. 30000, 300000, 3000000")
    g.add_argument("--data", type=Path, required=True, help="data folder (its SQLite file unless --database-url)")
    g.add_argument("--database-url", default=None, help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/ns")
    g.add_argument("--seed", type=int, default=17)
    c = sub.add_parser("copy", help="copy a generated SQLite database into an empty PostgreSQL one")
    c.add_argument("--data", type=Path, required=True, help="the data folder generate wrote")
    c.add_argument("--database-url", required=True, help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/ns3m")
    d = sub.add_parser("digest", help="a SHA-256 of the rows, without the times they were written")
    d.add_argument("--data", type=Path, help="data folder (its SQLite file)")
    d.add_argument("--database-url", default=None)
    m = sub.add_parser("measure", help="the Sessions page's time to ready in Chromium")
    m.add_argument("--data", type=Path, required=True)
    m.add_argument("--runs", type=int, default=3)
    m.add_argument("--app-root", type=Path, default=REPO, help="the checkout whose app to run (its .venv)")
    m.add_argument("--email", default="admin@national.example")
    m.add_argument("--copy", action="store_true", help="measure a copy of --data (the app migrates what it opens)")
    m.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    if args.command == "generate":
        generate(args.scores, args.data, args.database_url, args.seed)
        return
    if args.command == "copy":
        copy_to_postgres(args.data, args.database_url)
        return
    if args.command == "digest":
        print(digest(args.database_url or f"sqlite:///{args.data / 'session_rater.db'}"))
        return
    data = args.data
    if args.copy:
        data = Path(f"{args.data}-measure-{os.getpid()}")
        shutil.copytree(args.data, data)
    try:
        measure(data, args.runs, args.app_root.resolve(), args.email, args.timeout)
    finally:
        if args.copy:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
