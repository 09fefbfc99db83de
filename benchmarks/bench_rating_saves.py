"""100 raters saving scores at a realistic pace against PostgreSQL, through the service layer.

    .venv/bin/python benchmarks/bench_rating_saves.py [--raters 100] [--processes 2] [--seconds 60]
                                                      [--pace 5] [--history 10000]

Creates a PostgreSQL database of its own (on SESSION_RATER_BENCH_POSTGRES_URL, else
SESSION_RATER_TEST_POSTGRES_URL, else postgres@127.0.0.1:5432), dropped at the end. Seeds a
national service's history (``--history`` submitted ratings of 20 items each, over as many
sessions, 40 areas) and 100 treatment managers, each with a session of their own team to
rate. Then ``--processes`` app-like processes (one per core, as behind the proxy) each run
their share of the raters as threads: every rater saves one item score (a radio click, or an
evidence note) every ``--pace`` seconds on average (exponential gaps, as people are), through
``Permitted.save_item`` exactly as the Rate page does (access check, optimistic revision,
audit log entry). Prints p50/p95/p99/max save latency, the errors, and checks that nothing was
lost: every acknowledged save is in the database (each item's revision counts its saves and
its value is the last one acknowledged). Target (issue 16): p95 < 100 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import random
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import psycopg  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from session_rater.db import models as m  # noqa: E402
from session_rater.db.engine import make_engine  # noqa: E402
from session_rater.domain.model import Capacity, Role  # noqa: E402
from session_rater.domain.records import RecordingSpec  # noqa: E402
from session_rater.settings import load_settings  # noqa: E402
from session_rater.usecases.permitted import Permitted  # noqa: E402
from session_rater.usecases.services import open_services  # noqa: E402

AREAS = 40


def server_url() -> str:
    url = os.environ.get("SESSION_RATER_BENCH_POSTGRES_URL") or os.environ.get("SESSION_RATER_TEST_POSTGRES_URL")
    return url or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def admin(url: str) -> str:
    return make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


def seed(env: dict[str, str], raters: int, history: int) -> list[tuple[int, int, int]]:
    """The history and the raters; returns (rater id, recording id, tutor id) per rater."""
    svc = open_services(load_settings(env), load_demo=False)
    rubric = svc.rubrics()[0]
    store = svc.store
    tutors = [store.add_person(f"Tutor {k}", [Role.TUTOR]).id for k in range(200)]
    assessor = store.add_person("Assessor", [Role.EXTERNAL_ASSESSOR]).id
    # The history, in bulk: recordings, submitted ratings and their item scores.
    started = time.perf_counter()
    store.start_rating(
        store.add_recording(RecordingSpec("/srv/rec/0.mp4", "Think First", "G0", 1, "S", dt.date(2023, 1, 2), "Site 0",
                                          area="Area 0", team="Team 0"), [tutors[0]]).id,
        tutors[0], assessor, Capacity.EXTERNAL, rubric)  # fmt: skip  (records the rubric version)
    with svc.store.engine.begin() as c:
        now = dt.datetime.now(dt.UTC)
        recs = [dict(file_path=f"/srv/rec/{k}.mp4", programme="Think First", group_name=f"G{k % 500}",
                     session_number=k % 20 + 1, session_title="Session", recorded_on=dt.date(2023, 1, 1) +
                     dt.timedelta(days=k % 1000), site=f"Site {k % 200}", area=f"Area {k % AREAS}",
                     team=f"Team {k % 400}", is_catch_up=False, is_demo=False, created_at=now) for k in range(history)]  # fmt: skip
        ids = c.execute(insert(m.Recording).returning(m.Recording.id, sort_by_parameter_order=True), recs).scalars().all()
        for r, rid in zip(recs, ids, strict=True):
            r["id"] = rid
        c.execute(insert(m.RecordingTutor), [dict(recording_id=r["id"], person_id=tutors[k % 200], position=0)
                                             for k, r in enumerate(recs)])  # fmt: skip
        ratings = [dict(recording_id=r["id"], tutor_id=tutors[k % 200], rater_id=assessor,
                        rubric_id=rubric.id, rubric_version=rubric.version, capacity="external", status="submitted",
                        started_at=now, updated_at=now, submitted_at=now, is_demo=False, version=1, is_current=True,
                        is_blind=True, confirmed_uniform=False) for k, r in enumerate(recs)]  # fmt: skip
        rids = c.execute(insert(m.Rating).returning(m.Rating.id, sort_by_parameter_order=True), ratings).scalars().all()
        for r, rid in zip(ratings, rids, strict=True):
            r["id"] = rid
        scores = [dict(rating_id=r["id"], item_id=item.id, score=(r["id"] + j) % 4, not_applicable=False,
                       evidence="", updated_at=now, revision=1) for r in ratings for j, item in enumerate(rubric.items)]  # fmt: skip
        for chunk in range(0, len(scores), 20000):
            c.execute(insert(m.ItemScore), scores[chunk:chunk + 20000])
    with svc.store.engine.connect() as c:
        c.exec_driver_sql("ANALYZE")
    print(f"seeded {history} sessions with {history} submitted ratings ({len(scores)} item scores) "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    # The raters: a treatment manager per team, each with a new session of that team to rate.
    plan = []
    for k in range(raters):
        team = f"Team {k}"
        manager = store.add_person(f"Manager {k}", [Role.TREATMENT_MANAGER]).id
        svc.accounts_store.set_scope(manager, actor_id=None, managed_teams=[(f"Area {k % AREAS}", team)])
        recording = store.add_recording(RecordingSpec(f"/srv/new/{k}.mp4", "Think First", f"New {k}", 1, "New",
                                                      dt.date(2026, 11, 1), "Site", area=f"Area {k % AREAS}",
                                                      team=team), [tutors[k % 200]]).id  # fmt: skip
        plan.append((manager, recording, tutors[k % 200]))
    svc.close()
    return plan


def rater(svc, plan: tuple[int, int, int], pace: float, stop_at: float, out: list, seed_: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed_)
    manager, recording, tutor = plan
    me = Permitted(svc, svc.person(manager))
    rubric = svc.rubrics()[0]
    rating = me.find_rating(recording, tutor, Capacity.MONITORING) or me.start_rating(
        recording, tutor, Capacity.MONITORING, rubric)  # fmt: skip
    time.sleep(rng.uniform(0, pace))  # raters do not all start at once
    while time.monotonic() < stop_at:
        item = rng.choice(rubric.items).id
        change = {"score": rng.randrange(0, 4)} if rng.random() < 0.8 else {"evidence": f"note {rng.random():.6f}"}
        started = time.perf_counter()
        try:
            me.save_item(rating.id, item, **change)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            out.append((time.perf_counter() - started, rating.id, item, None, repr(exc)))
        else:
            out.append((time.perf_counter() - started, rating.id, item, change, None))
        time.sleep(rng.expovariate(1 / pace))


def process_main(env: dict[str, str], plans: list[tuple[int, int, int]], pace: float, seconds: float,
                 queue: mp.Queue) -> None:  # fmt: skip
    svc = open_services(load_settings(env), load_demo=False)
    out: list = []
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=rater, args=(svc, p, pace, stop_at, out, i)) for i, p in enumerate(plans)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    svc.close()
    queue.put(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", type=int, default=100)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--pace", type=float, default=5.0, help="mean seconds between one rater's saves")
    parser.add_argument("--history", type=int, default=10_000)
    args = parser.parse_args()
    url = server_url()
    name = f"sr_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin(url), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {"DATABASE_URL": make_url(url).set(database=name).render_as_string(hide_password=False),
               "SESSION_RATER_DEMO": "0", "SESSION_RATER_SECRET": "bench",
               "SESSION_RATER_RUBRICS_DIR": str(REPO / "rubrics")}  # fmt: skip
        plans = seed(env, args.raters, args.history)
        queue: mp.Queue = mp.Queue()
        shares = [plans[k :: args.processes] for k in range(args.processes)]
        procs = [mp.Process(target=process_main, args=(env, share, args.pace, args.seconds, queue)) for share in shares]
        print(f"{args.raters} raters in {args.processes} processes, one save every {args.pace:g} s each on average, "
              f"for {args.seconds:g} s ...", flush=True)  # fmt: skip
        for p in procs:
            p.start()
        results = [row for _ in procs for row in queue.get()]
        for p in procs:
            p.join()
        return report(env, results, args)
    finally:
        with psycopg.connect(admin(url), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(env: dict[str, str], results: list, args: argparse.Namespace) -> int:  # type: ignore[type-arg]
    ok = [r for r in results if r[4] is None]
    errors = [r for r in results if r[4] is not None]
    latencies = sorted(r[0] * 1000 for r in ok)
    q = statistics.quantiles(latencies, n=100)
    print(f"saves acknowledged  {len(ok)} ({len(ok) / args.seconds:.1f}/s), errors {len(errors)}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (others' work included)")
    for e in errors[:5]:
        print(f"  error: {e[4]}")
    print(f"save latency        p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, p99 {q[98]:.1f} ms, max {latencies[-1]:.1f} ms "
          f"(target p95 < 100 ms)")  # fmt: skip
    # Nothing lost: each (rating, item) has the last value acknowledged, and one revision per
    # acknowledged save that changed it (saving the value it already has changes nothing).
    expected: dict[tuple[int, str], tuple[int, dict]] = {}
    for _, rating_id, item, change, _ in ok:  # in each rater's order (one thread per rater)
        count, state = expected.get((rating_id, item), (0, {"score": None, "evidence": ""}))
        new = {**state, **change}
        expected[(rating_id, item)] = (count + (new != state), new)
    engine = make_engine(env["DATABASE_URL"])
    lost = 0
    with engine.connect() as c:
        rows = c.execute(select(m.ItemScore.rating_id, m.ItemScore.item_id, m.ItemScore.revision, m.ItemScore.score,
                                m.ItemScore.evidence).where(m.ItemScore.rating_id.in_({k[0] for k in expected})))  # fmt: skip
        found = {(r, i): (rev, score, evidence) for r, i, rev, score, evidence in rows}
    engine.dispose()
    for key, (count, last) in expected.items():
        rev, score, evidence = found.get(key, (0, None, ""))
        if rev != count or score != last["score"] or evidence != last["evidence"]:
            lost += 1
    print(f"nothing lost        {len(expected)} items checked: {lost} differ from what was acknowledged")
    return 0 if lost == 0 and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
