"""One form per rater for a session rated as a whole (tutor_id NULL): a partial unique index,
since NULLs never collide in the (recording, tutor, rater, capacity, version) constraint.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "uq_ratings_session_level",
        "ratings",
        ["recording_id", "rater_id", "capacity", "version"],
        unique=True,
        sqlite_where=sa.text("tutor_id IS NULL"),
        postgresql_where=sa.text("tutor_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_ratings_session_level", table_name="ratings")
