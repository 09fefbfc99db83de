"""How fast the reports' bulk read of every submitted item score is through each way of reading
a database that the ecosystem offers (issue 17), to justify the path the app takes.

    .venv/bin/python benchmarks/bulk_read_options.py --sqlite /tmp/ns-3m/session_rater.db \
        [--postgres postgresql://postgres@127.0.0.1:5432/ns3m] [--python OTHER_VENV_PYTHON]

Each option reads the same query (the answered item scores of the ratings that count: rating id,
item id, score, not applicable; 3 M rows in the 3 M database) into columns, and prints seconds
and the process's peak memory; each runs in a process of its own. The app's path is
``session_rater.db.score_columns.read_score_columns`` (the ratings through the DB-API cursor; on
PostgreSQL the item scores through the ADBC driver, on SQLite, where a second SQLite library in
the process would break its locks, through the cursor in batches into numpy arrays, the
"fallback" row). The others
need packages the app does not depend on (adbc-driver-sqlite, adbc-driver-postgresql, polars,
connectorx): give --python of a venv that has them; options whose package is missing are
reported as such. DuckDB is not measured: its SQLite and PostgreSQL readers are extensions it
downloads at run time, which a server here may not do.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUERY = (
    "SELECT s.rating_id, s.item_id, s.score, s.not_applicable FROM item_scores s "
    "JOIN ratings r ON r.id = s.rating_id "
    "WHERE r.status = 'submitted' AND r.is_current AND (s.score IS NOT NULL OR s.not_applicable)"
)

CHILD = r'''
import json, resource, sys, time
option, url, query, repo = sys.argv[1:5]
sqlalchemy_url = url.replace("postgresql://", "postgresql+psycopg://") if "://" in url else "sqlite:///" + url
t = time.perf_counter()
if option.startswith("app"):
    sys.path.insert(0, repo + "/src")
    from sqlalchemy import create_engine
    from session_rater.db import score_columns as sc
    engine = create_engine(sqlalchemy_url)
    if "ADBC" in option:
        _, _, items = sc.read_score_columns(engine)
    else:
        with engine.connect() as connection:
            items = sc._items(connection, None)
    n = len(items.rating_id)
elif option == "pandas.read_sql (SQLAlchemy)":
    import pandas as pd
    from sqlalchemy import create_engine
    n = len(pd.read_sql(query, create_engine(sqlalchemy_url)))
elif option == "ADBC (Arrow) driver":
    if "://" not in url:
        import adbc_driver_sqlite.dbapi as adbc
        conn = adbc.connect(url)
    else:
        import adbc_driver_postgresql.dbapi as adbc
        conn = adbc.connect(url)
    cur = conn.cursor(); cur.execute(query); n = cur.fetch_arrow_table().num_rows
elif option == "Polars + ConnectorX":
    import polars as pl
    n = len(pl.read_database_uri(query, ("sqlite://" + url) if "://" not in url else url, engine="connectorx"))
seconds = time.perf_counter() - t
print(json.dumps({"rows": n, "seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''

OPTIONS = ["app: read_score_columns (items by ADBC)", "app's fallback: DB-API cursor into numpy", "pandas.read_sql (SQLAlchemy)", "ADBC (Arrow) driver",
           "Polars + ConnectorX"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", type=Path, help="a national_scale.py SQLite file (opened read-only)")
    parser.add_argument("--postgres", help="postgresql://user@host:port/db of the same data")
    parser.add_argument("--python", default=sys.executable, help="a Python with the optional packages")
    args = parser.parse_args()
    targets = [(f"SQLite {args.sqlite}", str(args.sqlite))] if args.sqlite else []
    targets += [(f"PostgreSQL {args.postgres}", args.postgres)] if args.postgres else []
    if not targets:
        parser.error("give --sqlite and/or --postgres")
    failed = False
    for label, url in targets:
        print(label)
        for option in OPTIONS:
            python = sys.executable if option.startswith(("app", "pandas")) else args.python
            done = subprocess.run([python, "-c", CHILD, option, url, QUERY, str(REPO)], capture_output=True, text=True)
            if done.returncode != 0:
                missing = "ModuleNotFoundError" in done.stderr
                print(f"  {option:50s} {'not installed in --python' if missing else 'failed: ' + done.stderr.strip().splitlines()[-1]}")
                failed |= not missing
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"  {option:50s} {r['rows']:>10,} rows {r['seconds']:7.1f} s  peak {r['peak_mb']:6.0f} MB")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
