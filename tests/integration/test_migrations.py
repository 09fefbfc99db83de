"""Migrations create the schema from empty on both databases, are idempotent, and agree
with the models (no pending autogenerate difference)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from session_rater.db.engine import make_engine, migrate, schema_is_current
from session_rater.db.models import Base


def test_upgrade_from_empty_creates_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert schema_is_current(engine)
    engine.dispose()


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    migrate(engine)
    assert schema_is_current(engine)


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
