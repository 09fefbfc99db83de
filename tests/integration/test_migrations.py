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


QUERY_INDEXES = {  # migration 0011 (issue 17): table -> the indexes it adds there
    "audit_log": {"ix_audit_log_actor_id_entity_entity_id"},
    "recording_tutors": {"ix_recording_tutors_person_id_recording_id"},
    "recordings": {"ix_recordings_recorded_on_id", "ix_recordings_team_area"},
    "recording_access_log": {"ix_recording_access_log_accessed_at"},
    "sign_in_attempts": {"ix_sign_in_attempts_at"},
}


def _query_indexes(engine: Engine) -> set[str]:
    found = {ix["name"] for table in QUERY_INDEXES for ix in inspect(engine).get_indexes(table)}
    return found & set().union(*QUERY_INDEXES.values())


def test_0011_adds_the_query_indexes_and_downgrades_to_0010_without_them(database_url: str) -> None:
    from alembic import command

    from session_rater.db.engine import alembic_config

    engine = make_engine(database_url)
    migrate(engine)
    assert _query_indexes(engine) == set().union(*QUERY_INDEXES.values())
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010_supervision")
    assert _query_indexes(engine) == set()
    assert not schema_is_current(engine)
    migrate(engine)
    assert _query_indexes(engine) == set().union(*QUERY_INDEXES.values())
    engine.dispose()


def _plan(engine: Engine, run) -> str:  # type: ignore[no-untyped-def]
    """The query plans (EXPLAIN) of the statements ``run()`` makes, as one text. On PostgreSQL
    sequential scans are discouraged so that an empty table still shows which index a query can use."""
    from sqlalchemy import event

    statements: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    lines = []
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            cursor.execute("SET enable_seqscan = off")
        for statement, parameters in statements:
            cursor.execute(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + statement, parameters)
            lines += [str(row[0] if postgres else row[-1]) for row in cursor.fetchall()]
    return "\n".join(lines)


def test_is_unblinded_and_the_sessions_page_read_through_their_indexes(engine: Engine) -> None:
    """Issue 17: is_unblinded scanned the whole audit log (3.26 million rows nationally) and the
    Sessions list sorted every recording to show fifty."""
    from session_rater.db.store import Reach, Store

    store = Store(engine)
    plan = _plan(engine, lambda: store.is_unblinded(1, 2, 3))
    assert "ix_audit_log_actor_id_entity_entity_id" in plan, plan
    plan = _plan(engine, lambda: store.session_page(None, offset=0, limit=50))
    assert "ix_recordings_recorded_on_id" in plan and "TEMP B-TREE FOR ORDER BY" not in plan, plan
    plan = _plan(engine, lambda: store.session_page(Reach(7), offset=0, limit=50))
    assert "ix_recording_tutors_person_id_recording_id" in plan, plan


def test_the_benchmark_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    """0012_benchmarks (after 0011) adds only new tables: down removes them, up brings them back."""
    from alembic import command

    from session_rater.db.engine import alembic_config

    engine = make_engine(database_url)
    migrate(engine)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011_query_indexes")
    assert "master_score_versions" not in inspect(engine).get_table_names()
    migrate(engine)
    assert {"benchmark_sessions", "master_scores", "calibration_attempts", "validity_assignments",
            "exemplar_clips", "training_clearances"} <= set(inspect(engine).get_table_names())
    assert schema_is_current(engine)
    engine.dispose()
