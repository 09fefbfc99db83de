"""Shared fixtures: a migrated database on SQLite and, where configured, on PostgreSQL.

PostgreSQL tests run when SESSION_RATER_TEST_POSTGRES_URL names a server (``.ci/run`` sets it
to the local one); without it they are skipped, saying so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from session_rater.db.engine import make_engine, migrate
from session_rater.db.store import Store
from session_rater.domain.rubric import Rubric
from session_rater.io.rubric_files import load_rubric

REPO = Path(__file__).resolve().parents[1]
POSTGRES_ENV = "SESSION_RATER_TEST_POSTGRES_URL"


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind (the PostgreSQL one is wiped first)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    engine = make_engine(url)
    _reset_postgres(engine)
    engine.dispose()
    yield url


def _admin_url(url: str) -> str:
    """The same server's ``postgres`` database, as a psycopg (libpq) URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


@pytest.fixture
def own_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own on the configured server (created empty,
    dropped afterwards), for tests that run several processes or restore backups: they never
    touch the database that other test runs share."""
    import secrets

    import psycopg
    from sqlalchemy.engine import make_url

    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    name = f"sr_test_{secrets.token_hex(5)}"
    with psycopg.connect(_admin_url(url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_url(url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> Store:
    return Store(engine)


@pytest.fixture(scope="session")
def think_first() -> Rubric:
    return load_rubric(REPO / "rubrics" / "think-first-video-monitoring.yaml")


@pytest.fixture
def national_pages():  # type: ignore[no-untyped-def]
    """benchmarks/national_pages.py loaded as a module (benchmarks/ is not a package)."""
    import importlib.util
    import sys

    folder = Path(__file__).resolve().parents[1] / "benchmarks"
    spec = importlib.util.spec_from_file_location("national_pages_under_test", folder / "national_pages.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    sys.path.insert(0, str(folder))  # it imports its neighbours (browser_wire)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module
