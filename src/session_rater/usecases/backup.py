"""``session-rater backup`` and ``restore``: a consistent copy of the database while the app
runs, and putting one back into an empty database (or, when told to, over a full one, after
saying what would be lost).

Recordings, converted copies and thumbnails are files, not in the database: back up the
recordings folder and SESSION_RATER_DATA_DIR with the organisation's file backup (README,
"Backups and restore").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from alembic.util.exc import CommandError

from session_rater.db import backup as engine_backup
from session_rater.db.engine import make_engine, migrate
from session_rater.errors import BackupError
from session_rater.settings import Settings
from session_rater.usecases.instance import embedded_database_in_use

WHAT = {  # table -> how the operator would name what is in it
    "people": "people",
    "recordings": "recorded sessions",
    "ratings": "ratings",
    "item_scores": "item scores",
    "audit_log": "audit log entries",
    "sample_assignments": "sample assignments",
    "recording_access_log": "recording accesses logged",
}


@dataclass(frozen=True)
class BackupReport:
    path: Path
    kind: str  # "sqlite" | "postgresql"
    size_bytes: int
    counts: dict[str, int]

    @property
    def summary(self) -> str:
        return (f"Backed up the {self.kind} database to {self.path} ({self.size_bytes / 1e6:.1f} MB): "
                f"{describe(self.counts)}.")  # fmt: skip


@dataclass(frozen=True)
class RestoreReport:
    path: Path
    replaced: dict[str, int]  # what the database held before (empty unless --replace)
    restored: dict[str, int]

    @property
    def summary(self) -> str:
        return f"Restored {self.path}: {describe(self.restored)}."


def describe(counts: dict[str, int]) -> str:
    """``12 people, 30 recorded sessions, ...`` (the tables an operator knows by name)."""
    parts = [f"{counts.get(table, 0)} {name}" for table, name in WHAT.items()]
    others = sum(n for table, n in counts.items() if table not in WHAT)
    return ", ".join(parts) + f" and {others} other rows"


def _kind(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def backup(settings: Settings, output: Path | str) -> BackupReport:
    """Write a consistent backup of the database to ``output`` while the app keeps running
    (written beside it first, renamed when complete)."""
    output = Path(output)
    if output.is_dir():
        raise BackupError(f"{output} is a folder: give the backup file's name.")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.{os.getpid()}.part")
    engine = make_engine(settings.database_url)
    try:
        counts = engine_backup.row_counts(engine)
        if settings.is_sqlite:
            engine_backup.sqlite_backup(settings.database_url, partial)
        else:
            engine_backup.postgres_backup(settings.database_url, partial)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
        engine.dispose()
    return BackupReport(output, _kind(settings), output.stat().st_size, counts)


def restore(settings: Settings, source: Path | str, *, replace: bool = False) -> RestoreReport:
    """Restore a backup into the database named by the settings. Refuses a database that
    holds anything unless ``replace`` (the message says what it holds), and an embedded
    database an app process is serving. The schema is then brought up to date (a backup of an
    older version of Session Rater is upgraded)."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"There is no backup file at {source}.")
    made_by = engine_backup.backup_kind(source)
    if made_by != _kind(settings):
        raise BackupError(f"{source} is a backup of a {made_by} database, but DATABASE_URL names a "
                          f"{_kind(settings)} one: restore it into a database of the same kind.")  # fmt: skip
    holder = embedded_database_in_use(settings)
    if holder is not None:
        raise BackupError(f"An app process ({holder}) is serving this database: stop it, then restore.")
    engine = make_engine(settings.database_url)
    try:
        before = engine_backup.row_counts(engine)
        if any(before.values()) and not replace:
            raise BackupError(
                f"The database is not empty: it holds {describe(before)}. Restoring would replace all of it. "
                "Restore into an empty database, or run again with --replace to lose what it holds."
            )
        if not settings.is_sqlite and engine_backup.table_names(engine):
            engine_backup.empty_postgres_schema(engine)
        engine.dispose()
        if settings.is_sqlite:
            engine_backup.sqlite_restore(settings.database_url, source)
        else:
            engine_backup.postgres_restore(settings.database_url, source)
        try:
            migrate(engine)
        except CommandError as exc:
            raise BackupError(f"The backup was restored, but its schema is newer than this version of "
                              f"Session Rater ({exc}): upgrade Session Rater, then run `session-rater migrate`.") from None  # fmt: skip
        after = engine_backup.row_counts(engine)
    finally:
        engine.dispose()
    return RestoreReport(source, before if replace else {}, after)


def contents(settings: Settings) -> dict[str, int]:
    """What the database holds now, table by table."""
    engine = make_engine(settings.database_url)
    try:
        return engine_backup.row_counts(engine)
    finally:
        engine.dispose()
