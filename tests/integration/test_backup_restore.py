"""A backup restores: demo data, a backup while the database is open, the database wiped, a
restore into the empty database; ``export`` gives the same rows, the audit log is whole and
people sign in. A database that holds anything is not overwritten unless asked, and the
refusal says what it holds. On SQLite and on a PostgreSQL database of the test's own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from session_rater.cli.main import main as cli
from session_rater.db.engine import make_engine
from session_rater.errors import BackupError
from session_rater.settings import Settings, load_settings
from session_rater.usecases.backup import backup, restore
from session_rater.usecases.demo import DEMO_PASSWORD, demo_email
from session_rater.usecases.services import Services, open_services

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    env = {"SESSION_RATER_DATA_DIR": str(tmp_path / "data"), "SESSION_RATER_RUBRICS_DIR": str(REPO / "rubrics"),
           "SESSION_RATER_RECORDINGS_DIR": str(REPO / "sample_sessions")}  # fmt: skip
    if request.param == "postgresql":
        if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
            pytest.skip("PostgreSQL backups need pg_dump and pg_restore (apt-get install postgresql-client)")
        env["DATABASE_URL"] = request.getfixturevalue("own_postgres_url")
    yield load_settings(env)


def _snapshot(svc: Services) -> tuple[str, list[tuple[object, ...]]]:
    entries = [(e.id, e.at, e.actor_id, e.entity, e.entity_id, e.action, e.before, e.after)
               for e in svc.store.audit_entries(limit=100_000)]  # fmt: skip
    return svc.export_csv_text(), entries


def _wipe(settings: Settings) -> None:
    if settings.is_sqlite:
        for path in (settings.data_dir).glob("session_rater.db*"):
            path.unlink()
        return
    engine = make_engine(settings.database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def test_a_backup_taken_while_the_app_runs_restores_the_same_scores_audit_log_and_sign_ins(
    settings: Settings, tmp_path: Path
) -> None:
    svc = open_services(settings, load_demo=True)
    exported, audit = _snapshot(svc)
    assert exported.count("\n") > 50 and len(audit) > 20
    made = backup(settings, tmp_path / "backups" / "nightly.backup")  # the app's engine is open meanwhile
    assert made.counts["item_scores"] > 0 and made.path.stat().st_size > 0
    svc.close()

    _wipe(settings)
    restored = restore(settings, made.path)

    assert restored.restored == made.counts
    again = open_services(settings, load_demo=False)
    try:
        assert _snapshot(again) == (exported, audit)
        token, signed = again.accounts.sign_in(demo_email("Helen Price"), DEMO_PASSWORD)
        assert again.accounts.resume(token).person.display_name == "Helen Price"
    finally:
        again.close()


def test_a_database_that_holds_data_is_not_replaced_unless_asked_and_the_refusal_says_what_it_holds(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    open_services(settings, load_demo=True).close()
    for key, value in {"SESSION_RATER_DATA_DIR": str(settings.data_dir),
                       "SESSION_RATER_RUBRICS_DIR": str(settings.rubrics_dir),
                       "DATABASE_URL": settings.database_url}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    file = tmp_path / "copy.backup"
    assert cli(["backup", str(file)]) == 0
    assert "Backed up" in capsys.readouterr().out

    with pytest.raises(BackupError, match=r"not empty: it holds \d+ people, \d+ recorded sessions, \d+ ratings"):
        restore(settings, file)
    assert cli(["restore", str(file)]) == 1
    assert "--replace" in capsys.readouterr().err

    assert cli(["restore", str(file), "--replace"]) == 0
    out = capsys.readouterr()
    assert "Replacing what the database holds" in out.err and "Restored" in out.out


def test_a_backup_of_one_kind_of_database_is_refused_by_the_other(settings: Settings, tmp_path: Path) -> None:
    other = tmp_path / "other.backup"
    other.write_bytes(b"PGDMP..." if settings.is_sqlite else b"SQLite format 3\x00....")
    with pytest.raises(BackupError, match="same kind"):
        restore(settings, other)
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"hello")
    with pytest.raises(BackupError, match="not a Session Rater backup"):
        restore(settings, junk)


def test_without_pg_dump_the_backup_says_to_install_the_client_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    settings = load_settings({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    from session_rater.db import backup as engine_backup

    with pytest.raises(BackupError, match="pg_dump was not found.*postgresql-client"):
        engine_backup.postgres_backup(settings.database_url, tmp_path / "x.backup")
