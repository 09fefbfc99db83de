"""What signing in and access checks cost: the argon2 hash and verify of a sign-in, and the
work every script rerun does to know who is signed in and what they reach (resume the session,
load the person's scope, filter the sessions list), on a database of a national size.

    .venv/bin/python benchmarks/bench_auth.py [--recordings N] [--people N] [--repeat N]

Targets: a sign-in under 0.5 s (argon2id at argon2-cffi's default cost is meant to take tens
of milliseconds); the per-rerun identity and scope work under 20 ms, so that it is invisible
beside a page's own work; filtering the visible sessions for a treatment manager among
N recordings, and building their sessions list, each under 200 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from sqlalchemy import insert  # noqa: E402

from session_rater.db import models as m  # noqa: E402
from session_rater.db.accounts_models import ManagedTeam  # noqa: E402
from session_rater.domain.model import Role  # noqa: E402
from session_rater.usecases.permitted import Permitted  # noqa: E402
from session_rater.usecases.services import open_services  # noqa: E402
from session_rater.usecases.sessions_list import sessions_page  # noqa: E402
from session_rater.settings import load_settings  # noqa: E402

PASSWORD = "benchmark password"


def _timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def _ms(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:7.1f} ms   max {max(times) * 1000:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recordings", type=int, default=20_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings({"SESSION_RATER_DATA_DIR": folder, "SESSION_RATER_DEMO": "0"})
        svc = open_services(settings, load_demo=False)
        hashed = svc.accounts.hash_password(PASSWORD)
        manager = svc.accounts_store.create_person("Manager", "manager@example.org", [Role.TREATMENT_MANAGER],
                                                   password_hash=hashed)
        started = time.perf_counter()
        with svc.store.engine.begin() as db:
            db.execute(insert(m.Person), [{"display_name": f"Tutor {i}", "email": f"t{i}@example.org",
                                           "active": True, "is_demo": False} for i in range(args.people)])
            people = [row[0] for row in db.exec_driver_sql("SELECT id FROM people WHERE email LIKE 't%'")]
            db.execute(insert(m.PersonRole), [{"person_id": p, "role": Role.TUTOR.value} for p in people])
            db.execute(insert(m.Recording), [
                {"file_path": f"r{i}.mp4", "programme": "Think First", "group_name": f"G{i // 22}",
                 "session_number": i % 22 + 1, "session_title": "A session", "recorded_on": dt.date(2026, 1, 1),
                 "site": f"Site {i % 160}", "area": f"Area {i % 40}", "team": f"Team {i % 160}",
                 "is_catch_up": False, "is_demo": False} for i in range(args.recordings)])
            recordings = [row[0] for row in db.exec_driver_sql("SELECT id FROM recordings")]
            db.execute(insert(m.RecordingTutor), [
                {"recording_id": r, "person_id": people[(r * 2 + k) % len(people)], "position": k}
                for r in recordings for k in range(2)])
            db.execute(insert(ManagedTeam), [{"person_id": manager.id, "area": "Area 1", "team": "Team 1"}])
        print(f"database: {args.recordings:,} recordings, {args.people:,} people (built in "
              f"{time.perf_counter() - started:.1f} s; SQLite, not counted)")

        sign_in = _timed(lambda: svc.accounts.sign_in("manager@example.org", PASSWORD), max(5, args.repeat // 4))
        print(f"sign-in (argon2id verify + session row)      {_ms(sign_in)}   target < 500 ms")
        token, _ = svc.accounts.sign_in("manager@example.org", PASSWORD)

        def rerun() -> None:
            Permitted(svc, svc.accounts.resume(token).person)

        per_run = _timed(rerun, args.repeat)
        print(f"per rerun: resume + person + scope            {_ms(per_run)}   target < 20 ms")
        me = Permitted(svc, svc.accounts.resume(token).person)
        visible = _timed(lambda: me.recordings(), max(3, args.repeat // 4))
        count = len(me.recordings())
        print(f"visible sessions of {args.recordings:,} ({count} in reach)   {_ms(visible)}   target < 200 ms")
        table = _timed(lambda: sessions_page(me), max(3, args.repeat // 4))
        print(f"sessions list, first page of the {count} in reach {_ms(table)}   target < 200 ms")
        ok = (statistics.median(table) < 0.2 and statistics.median(sign_in) < 0.5 and statistics.median(per_run) < 0.02
              and statistics.median(visible) < 0.2)
        svc.store.engine.dispose()
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
