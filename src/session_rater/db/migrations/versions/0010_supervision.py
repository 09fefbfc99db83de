"""Reports that close the loop: supervision discussions (discussed on DATE, the action agreed)
and the audit team's marks.

Revision ID: 0010_supervision
Revises: 0009_multi_machine
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_supervision"
down_revision = "0009_multi_machine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervision_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("tutor_id", sa.Integer(), nullable=False),
        sa.Column("discussed_on", sa.Date(), nullable=False),
        sa.Column("agreed_action", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("agreed_action <> ''", name=op.f("ck_supervision_records_action_given")),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"],
                                name=op.f("fk_supervision_records_recording_id_recordings"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tutor_id"], ["people.id"], name=op.f("fk_supervision_records_tutor_id_people"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by"], ["people.id"],
                                name=op.f("fk_supervision_records_recorded_by_people"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_records")),
    )  # fmt: skip
    with op.batch_alter_table("supervision_records", schema=None) as batch_op:
        batch_op.create_index("ix_supervision_records_tutor_id_recording_id", ["tutor_id", "recording_id"])

    op.create_table(
        "audit_mark_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("area", sa.String(length=200), nullable=False),
        sa.Column("instrument_id", sa.String(length=100), nullable=False),
        sa.Column("instrument_version", sa.String(length=40), nullable=False),
        sa.Column("mandatory", sa.JSON(), nullable=False),
        sa.Column("marks_csv", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("title <> ''", name=op.f("ck_audit_mark_sets_title_given")),
        sa.ForeignKeyConstraint(["created_by"], ["people.id"], name=op.f("fk_audit_mark_sets_created_by_people"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["updated_by"], ["people.id"], name=op.f("fk_audit_mark_sets_updated_by_people"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_mark_sets")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("audit_mark_sets")
    with op.batch_alter_table("supervision_records", schema=None) as batch_op:
        batch_op.drop_index("ix_supervision_records_tutor_id_recording_id")
    op.drop_table("supervision_records")
