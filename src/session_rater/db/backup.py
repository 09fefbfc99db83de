"""Consistent copies of the database, with the tools each engine provides.

* SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot
  while the app goes on writing; restoring copies the pages back the same way.
* PostgreSQL: ``pg_dump --format=custom`` (one snapshot, one transaction) and ``pg_restore``
  into the database, in one transaction. The password is handed over in PGPASSWORD, never on
  the command line where ``ps`` would show it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from session_rater.db.engine import sqlite_file
from session_rater.errors import BackupError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
CLIENT_TOOLS_HELP = (
    "Install PostgreSQL's client tools, of the server's major version or newer "
    "(Debian: apt-get install postgresql-client), or put their folder on PATH."
)


def backup_kind(path: Path) -> str:
    """``sqlite`` or ``postgresql``: what made the backup file (by its first bytes)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise BackupError(f"Cannot read the backup {path}: {exc.strerror or exc}.") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a Session Rater backup (neither an SQLite database nor a pg_dump custom archive).")


def sqlite_backup(database_url: str, output: Path) -> None:
    source = _sqlite_path(database_url)
    if not source.is_file():
        raise BackupError(f"There is no database at {source} to back up.")
    with sqlite3.connect(source) as src, sqlite3.connect(output) as dst:
        src.backup(dst)
    _close(src, dst)


def sqlite_restore(database_url: str, backup: Path) -> None:
    target = _sqlite_path(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(backup) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    _close(src, dst)


def _close(*connections: sqlite3.Connection) -> None:
    for connection in connections:  # ``with`` commits but does not close
        connection.close()


def _sqlite_path(database_url: str) -> Path:
    path = sqlite_file(database_url)
    if path is None:
        raise BackupError("An in-memory database cannot be backed up or restored.")
    return path


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found: a PostgreSQL database is backed up and restored with "
                          f"pg_dump and pg_restore. {CLIENT_TOOLS_HELP}")  # fmt: skip
    return found


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it (without the password) and the environment with PGPASSWORD."""
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip()
        hint = f" {CLIENT_TOOLS_HELP}" if "server version" in message and "mismatch" in message else ""
        raise BackupError(f"{what} failed: {message}{hint}")


def postgres_backup(database_url: str, output: Path) -> None:
    url, env = _libpq(database_url)
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={output}", url], env,
         "pg_dump")  # fmt: skip


def postgres_restore(database_url: str, backup: Path) -> None:
    url, env = _libpq(database_url)
    _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={url}", str(backup)], env, "pg_restore")  # fmt: skip


def empty_postgres_schema(engine: Engine) -> None:
    """Drop every table of the ``public`` schema (the restore with ``--replace``)."""
    with engine.begin() as connection:
        for table in inspect(connection).get_table_names(schema="public"):
            connection.execute(text(f'DROP TABLE IF EXISTS public."{table}" CASCADE'))


def table_names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return inspect(connection).get_table_names()


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in each of the database's tables (the schema's version table aside)."""
    counts = {}
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table != "alembic_version":
                counts[table] = int(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() or 0)
    return counts
