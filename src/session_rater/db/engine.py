"""Engine factory and schema migrations. Nothing connects at import time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.orm import Session, sessionmaker

from session_rater.errors import StorageError

log = logging.getLogger("session_rater.db")

READ_ONLY = "session_rater_read_only"
"""Execution option of a connection that only reads (``connection.execution_options(**{READ_ONLY:
True})``): on SQLite its transaction does not take the write lock."""

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 7_215_001  # arbitrary key for pg_advisory_lock: one migrator at a time
_PG_FIRST_START_LOCK = 7_215_002  # one process at a time through first-start work (the demo)


_FAULT_WORDS = (
    ("readonly", "it is read-only"), ("read-only", "it is read-only"), ("read only", "it is read-only"),
    ("disk is full", "the disk is full"), ("no space", "the disk is full"),
    ("unable to open", "its file cannot be opened"),
    ("password authentication failed", "the server refused the user name or password in DATABASE_URL"),
    ("does not exist", "the database (or user) named in DATABASE_URL does not exist on the server: create it "
     "(createdb NAME) or correct the URL"),
    ("connection", "the database server cannot be reached"),
    ("could not connect", "the database server cannot be reached"), ("server closed", "the database server "
     "closed the connection"), ("locked", "it stayed locked by another process"),
)  # fmt: skip


def _storage_faults(context: ExceptionContext) -> None:
    """The database refusing for reasons nobody at the keyboard can fix (read-only, full, down)
    becomes a StorageError that says so; the driver's message and the SQL go to the server
    log only. Constraint violations and programming errors pass through unchanged."""
    if not isinstance(context.sqlalchemy_exception, (exc.OperationalError, exc.InternalError)):
        return
    text = str(context.original_exception).lower()
    why = next((what for word, what in _FAULT_WORDS if word in text), "it refused the operation")
    log.error("database fault: %s (statement: %s)", context.original_exception, context.statement)
    raise StorageError(
        f"The database cannot be used just now: {why}. What you saved before is kept; the last action "
        "was not saved. Try again in a few minutes; if it goes on, tell your administrator."
    ) from context.sqlalchemy_exception


def make_engine(database_url: str) -> Engine:
    """An engine for ``database_url``. SQLite gets WAL, foreign keys and a busy timeout. A fault
    of the database itself is raised as :class:`StorageError` (see :func:`_storage_faults`)."""
    engine = _make_engine(database_url)
    event.listen(engine, "handle_error", _storage_faults)
    return engine


def _make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # The driver would start a transaction only at the first write, so a read-check-write
            # (is the rating still a draft? is this the revision the rater saw?) would not be
            # atomic. SQLAlchemy's recipe: the driver never begins; _begin below does, taking
            # the write lock at once (BEGIN IMMEDIATE). Readers are not blocked in WAL mode.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):  # type: ignore[no-untyped-def]
            # A long bulk read (an export, a report) asks for a deferred transaction: in WAL mode
            # it then reads a snapshot without holding the write lock that raters' saves need.
            deferred = connection.get_execution_options().get(READ_ONLY, False)
            connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def sqlite_file(database_url: str) -> Path | None:
    """The file of an SQLite database URL (None: not SQLite, or in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


@contextmanager
def one_process_at_a_time(engine: Engine) -> Iterator[None]:
    """Run first-start work (is the database empty? then load the demo) in one process at a
    time: several app processes started together on one empty PostgreSQL database must not
    all load the demo. A session advisory lock, on its own connection, for the block. (SQLite
    has one app process; its writes are serialised anyway.)"""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_FIRST_START_LOCK})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_FIRST_START_LOCK})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (creates it in an empty database).

    SQLite: batch migrations rebuild tables (copy, drop, rename); with foreign keys on, the
    drop would cascade and delete dependent rows (every item score, when ``ratings`` is
    rebuilt). Foreign keys are switched off for the migration and checked after it.
    PostgreSQL: one migrator at a time, by a transaction-scoped advisory lock (released
    even when a migration fails).
    """
    config = alembic_config(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, where it takes effect
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows pointing at missing rows: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
