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


def test_upgrading_a_database_that_holds_ratings_keeps_every_score(database_url: str) -> None:
    """Batch migrations rebuild tables on SQLite; a rebuild must never cascade into scores."""
    from alembic import command
    from sqlalchemy import text

    from session_rater.db.engine import alembic_config

    engine = make_engine(database_url)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as c:
        c.execute(text("INSERT INTO people (id, display_name, active, is_demo, created_at) VALUES "
                       "(1, 'T', true, false, CURRENT_TIMESTAMP), (2, 'M', true, false, CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO recordings (id, file_path, programme, group_name, session_number, session_title, "
                       "recorded_on, site, is_catch_up, is_demo, created_at) VALUES "
                       "(1, '/x.mp4', 'TF', 'G', 1, 'S', '2026-01-05', 'Site', false, false, CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO rubric_versions (rubric_id, version, title, fingerprint, definition, recorded_at) "
                       "VALUES ('r', '1', 'R', 'f', '{}', CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO ratings (id, recording_id, tutor_id, rater_id, rubric_id, rubric_version, capacity, "
                       "status, started_at, updated_at, is_demo) VALUES "
                       "(1, 1, 1, 2, 'r', '1', 'monitoring', 'draft', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false)"))
        c.execute(text("INSERT INTO item_scores (rating_id, item_id, score, not_applicable, evidence, updated_at) VALUES "
                       "(1, 'a', 2, false, 'seen', CURRENT_TIMESTAMP), (1, 'b', NULL, true, '', CURRENT_TIMESTAMP)"))
    migrate(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM item_scores")).scalar() == 2
        assert c.execute(text("SELECT version, is_current, is_blind FROM ratings")).one() == (1, True, True)
        if engine.dialect.name == "sqlite":
            assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_the_benchmark_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    """0012_benchmarks adds only new tables: down removes them, up brings them back."""
    from alembic import command

    from session_rater.db.engine import alembic_config

    engine = make_engine(database_url)
    migrate(engine)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010_supervision")
    assert "master_score_versions" not in inspect(engine).get_table_names()
    migrate(engine)
    assert {"benchmark_sessions", "master_scores", "calibration_attempts", "validity_assignments",
            "exemplar_clips", "training_clearances"} <= set(inspect(engine).get_table_names())
    assert schema_is_current(engine)
    engine.dispose()
