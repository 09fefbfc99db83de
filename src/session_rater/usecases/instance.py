"""One installation, any number of processes: what they must share and what they must not.

* **The signing key.** Recording URLs, viewer cookies and Streamlit's own cookies are signed
  with one key, so a link signed by one app process plays from another and a browser moved to
  another process (a failover behind the proxy) stays signed in. It is SESSION_RATER_SECRET
  when set; otherwise, on PostgreSQL, a key generated once into the database (every process
  reads the same); on SQLite, a key file in the data folder (one machine).
* **The rubric files.** An administrator who adds a rubric version through one process writes
  a new file to the (shared) rubrics folder and bumps ``rubrics_generation`` in the database;
  every other process reads the folder again on its next page run
  (:func:`follow_rubric_changes`), so new ratings everywhere use the new version.
* **The embedded SQLite database serves one app process.** :func:`hold_embedded_database`
  takes an exclusive lock on ``<database>.lock`` for the life of the process; a second app
  process on the same file is refused with a message that says to use PostgreSQL. (SQLite's
  own locking keeps short commands, such as ``export`` or ``backup``, safe beside the app.)
  The lock is an ``flock``: the kernel releases it when the process dies, even by SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import os
import secrets
import socket
from pathlib import Path
from typing import IO

from sqlalchemy import Engine

from session_rater.db.engine import sqlite_file
from session_rater.db.instance_store import set_shared_value, shared_secret, shared_value
from session_rater.errors import ConfigurationError
from session_rater.settings import Settings
from session_rater.usecases.recording_links import load_or_create_secret

_held: dict[Path, IO[str]] = {}

SEVERAL_PROCESSES_HELP = (
    "The embedded SQLite database serves one app process. To run several app processes (behind a "
    "reverse proxy, or on several machines), use PostgreSQL: set DATABASE_URL=postgresql+psycopg://... "
    "(README, \"Several app processes\")."
)


def signing_key(settings: Settings, engine: Engine) -> bytes:
    """The key every process of this installation signs with (see the module docstring)."""
    if settings.secret:
        return settings.secret.encode()
    if settings.is_sqlite:
        return load_or_create_secret(settings.data_dir, None)
    return shared_secret(engine, "signing_key", lambda: secrets.token_hex(32)).encode()


RUBRICS_GENERATION = "rubrics_generation"


def announce_rubrics_changed(engine: Engine) -> str:
    """Tell the other processes that the rubric files changed (they read them again); returns
    the new generation, which the announcing process has already read."""
    generation = secrets.token_hex(8)
    set_shared_value(engine, RUBRICS_GENERATION, generation)
    return generation


def rubrics_generation(engine: Engine) -> str | None:
    return shared_value(engine, RUBRICS_GENERATION)


def streamlit_cookie_secret(key: bytes) -> str:
    """Streamlit's ``server.cookieSecret`` (its XSRF and sign-in cookies), derived from the
    signing key, so that every app process accepts the cookies of the others."""
    return hmac.new(key, b"session-rater: streamlit server.cookieSecret", hashlib.sha256).hexdigest()


def _lock_path(settings: Settings) -> Path | None:
    database = sqlite_file(settings.database_url)
    return None if database is None else database.with_name(database.name + ".lock")


def hold_embedded_database(settings: Settings) -> None:
    """Claim the embedded SQLite database for this app process (nothing to do on PostgreSQL);
    ConfigurationError if another process serves it. Idempotent within a process."""
    lock = _lock_path(settings)
    if lock is None or lock in _held:
        return
    lock.parent.mkdir(parents=True, exist_ok=True)
    handle = lock.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ConfigurationError(
            f"Another app process ({holder}) is already serving the database {lock.with_suffix('')}. "
            + SEVERAL_PROCESSES_HELP
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}, since {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n")
    handle.flush()
    _held[lock] = handle


def embedded_database_in_use(settings: Settings) -> str | None:
    """Who serves the embedded SQLite database now (None: nobody, or not SQLite), without
    claiming it: for ``serve`` to refuse before starting, and ``restore`` to refuse under a
    running app."""
    lock = _lock_path(settings)
    if lock is None or lock in _held or not lock.exists():
        return None
    with lock.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            return handle.read().strip() or "another process"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def release_embedded_database(settings: Settings) -> None:
    """Let go of the database (tests, and a process about to hand it to another)."""
    lock = _lock_path(settings)
    handle = _held.pop(lock, None) if lock is not None else None
    if handle is not None:
        handle.close()
