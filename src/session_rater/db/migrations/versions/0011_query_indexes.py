"""Indexes for the queries that dominate the pages at national scale (issue 17), found with
EXPLAIN on PostgreSQL and SQLite on 20,006 recordings and 300 thousand item scores:

- audit_log (actor_id, entity, entity_id): Store.is_unblinded, asked on the first click of every
  form and twice per Compare visit, read the whole log (one row per item score saved).
- recording_tutors (person_id, recording_id): the sessions a tutor delivered (every tutor's reach,
  the Sessions page's Tutor filter); the primary key leads with the recording.
- recordings (recorded_on, id): the Sessions list, newest first, one page at a time, without
  sorting every recording; the date filter.
- recordings (team, area): a treatment manager's reach, their teams' sessions.
- recording_access_log (accessed_at), sign_in_attempts (at): the Audit log page, newest first.

Revision ID: 0011_query_indexes
Revises: 0010_supervision
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0011_query_indexes"
down_revision = "0010_supervision"
branch_labels = None
depends_on = None

INDEXES = [
    ("audit_log", "ix_audit_log_actor_id_entity_entity_id", ["actor_id", "entity", "entity_id"]),
    ("recording_tutors", "ix_recording_tutors_person_id_recording_id", ["person_id", "recording_id"]),
    ("recordings", "ix_recordings_recorded_on_id", ["recorded_on", "id"]),
    ("recordings", "ix_recordings_team_area", ["team", "area"]),
    ("recording_access_log", "ix_recording_access_log_accessed_at", ["accessed_at"]),
    ("sign_in_attempts", "ix_sign_in_attempts_at", ["at"]),
]


def upgrade() -> None:
    # Plain CREATE INDEX (no table rebuild on SQLite): batch mode would copy audit_log.
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
