"""Several machines: leases on conversion jobs, values shared through the database (a signing
key, the rubric files' generation),
holds on recordings, and the retention policy's deletion of a recording's files.

Revision ID: 0009_multi_machine
Revises: 0006 (the revision id of 0006_accounts_and_scope; 0007 and 0008 are added in
parallel and the chain is mended when the branches are merged)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_multi_machine"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shared_values",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_shared_values")),
    )
    op.create_table(
        "recording_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.Integer(), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.Integer(), nullable=True),
        sa.Column("release_note", sa.Text(), nullable=True),
        sa.CheckConstraint("reason <> ''", name=op.f("ck_recording_holds_reason_given")),
        sa.ForeignKeyConstraint(["placed_by"], ["people.id"], name=op.f("fk_recording_holds_placed_by_people"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"],
                                name=op.f("fk_recording_holds_recording_id_recordings"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["released_by"], ["people.id"], name=op.f("fk_recording_holds_released_by_people"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_holds")),
    )  # fmt: skip
    with op.batch_alter_table("recording_holds", schema=None) as batch_op:
        batch_op.create_index("ix_recording_holds_recording_id_released_at", ["recording_id", "released_at"])

    with op.batch_alter_table("transcode_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("files_deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("files_deleted_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_column("files_deleted_note")
        batch_op.drop_column("files_deleted_at")

    with op.batch_alter_table("transcode_jobs", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("worker_id")

    with op.batch_alter_table("recording_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_recording_holds_recording_id_released_at")
    op.drop_table("recording_holds")
    op.drop_table("shared_values")
