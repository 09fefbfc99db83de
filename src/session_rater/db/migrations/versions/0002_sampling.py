"""sampling: draws of a sampling policy and the assignments they make

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Assignments are only ever added (top-ups never delete); a session is drawn at most once per
rule of a policy (unique policy_name, rule, recording_id).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sample_draws',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_name', sa.String(length=100), nullable=False),
    sa.Column('policy_version', sa.String(length=40), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('drawn_on', sa.Date(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('drawn_by', sa.Integer(), nullable=True),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('shortfalls', sa.JSON(), nullable=False),
    sa.CheckConstraint('seed >= 0', name=op.f('ck_sample_draws_seed_not_negative')),
    sa.ForeignKeyConstraint(['drawn_by'], ['people.id'], name=op.f('fk_sample_draws_drawn_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sample_draws'))
    )
    with op.batch_alter_table('sample_draws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sample_draws_policy_name'), ['policy_name'], unique=False)

    op.create_table('sample_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('policy_name', sa.String(length=100), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('rater_id', sa.Integer(), nullable=True),
    sa.Column('second_rater_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("rule IN ('monitoring', 'catch_up', 'external_audit')", name=op.f('ck_sample_assignments_rule_known')),
    sa.CheckConstraint('second_rater_id IS NULL OR (rater_id IS NOT NULL AND second_rater_id <> rater_id)', name=op.f('ck_sample_assignments_second_rater_differs')),
    sa.ForeignKeyConstraint(['draw_id'], ['sample_draws.id'], name=op.f('fk_sample_assignments_draw_id_sample_draws')),
    sa.ForeignKeyConstraint(['rater_id'], ['people.id'], name=op.f('fk_sample_assignments_rater_id_people')),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_sample_assignments_recording_id_recordings')),
    sa.ForeignKeyConstraint(['second_rater_id'], ['people.id'], name=op.f('fk_sample_assignments_second_rater_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sample_assignments')),
    sa.UniqueConstraint('policy_name', 'rule', 'recording_id', name=op.f('uq_sample_assignments_policy_name_rule_recording_id'))
    )
    with op.batch_alter_table('sample_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sample_assignments_draw_id'), ['draw_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_assignments_rater_id'), ['rater_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_assignments_recording_id'), ['recording_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_assignments_second_rater_id'), ['second_rater_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sample_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sample_assignments_second_rater_id'))
        batch_op.drop_index(batch_op.f('ix_sample_assignments_recording_id'))
        batch_op.drop_index(batch_op.f('ix_sample_assignments_rater_id'))
        batch_op.drop_index(batch_op.f('ix_sample_assignments_draw_id'))

    op.drop_table('sample_assignments')
    with op.batch_alter_table('sample_draws', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sample_draws_policy_name'))

    op.drop_table('sample_draws')
