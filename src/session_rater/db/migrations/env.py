"""Alembic environment: runs against the connection or engine that session_rater.db.engine
hands over in ``config.attributes``; batch mode so ALTERs work on SQLite too."""

from __future__ import annotations

from alembic import context

from session_rater.db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = config.attributes.get("engine")
    if engine is None:
        from session_rater.db.engine import make_engine
        from session_rater.settings import load_settings

        engine = make_engine(load_settings().database_url)
    with engine.begin() as conn:
        _run(conn)
