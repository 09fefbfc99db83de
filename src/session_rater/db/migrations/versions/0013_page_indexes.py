"""Indexes for the pages an administrator and a treatment manager use daily at national scale
(issue 17), found with EXPLAIN on PostgreSQL and SQLite (20,006 recordings, 18,605 sample
assignments, 300 thousand item scores):

- audit_log (entity, at): the Audit log filtered by kind, newest first, one page at a time;
  without it a rare kind walked the whole log backwards on its time index to fill a page (by
  person it reads through 0011's (actor_id, entity, entity_id), one person's entries only). On
  PostgreSQL it leaves out the "blindness" entries, so that Store.is_unblinded keeps to 0011's
  (actor_id, entity, entity_id) whatever the planner estimates of a small log.
- recording_access_log (person_id, accessed_at): the same, for the recording plays of a person.
- ratings (capacity, status, recording_id, tutor_id): Coverage's sessions with a submitted
  monitoring rating, read from the index alone.

Revision ID: 0013_page_indexes
Revises: 0012_benchmarks
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_page_indexes"
down_revision = "0012_benchmarks"
branch_labels = None
depends_on = None

PARTIAL = {"ix_audit_log_entity_at": "entity <> 'blindness'"}  # PostgreSQL only
INDEXES = [
    ("audit_log", "ix_audit_log_entity_at", ["entity", "at"]),
    ("recording_access_log", "ix_recording_access_log_person_id_accessed_at", ["person_id", "accessed_at"]),
    ("ratings", "ix_ratings_capacity_status_recording_id_tutor_id", ["capacity", "status", "recording_id", "tutor_id"]),
]


def upgrade() -> None:
    # Plain CREATE INDEX (no table rebuild on SQLite): batch mode would copy audit_log.
    for table, name, columns in INDEXES:
        where = {"postgresql_where": sa.text(PARTIAL[name])} if name in PARTIAL else {}
        op.create_index(name, table, columns, **where)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
