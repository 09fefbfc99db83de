"""Storage: SQLAlchemy 2.0 tables, the engine factory, Alembic migrations and the store."""
