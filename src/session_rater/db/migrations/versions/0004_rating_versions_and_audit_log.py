"""Rating versions (corrections with a reason), stale-edit revisions and the audit log.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('rating_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['people.id'], name=op.f('fk_audit_log_actor_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_rating_id'), ['rating_id'], unique=False)

    with op.batch_alter_table('item_scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('supersedes_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('correction_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('is_current', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('is_blind', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('confirmed_uniform', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_ratings_recording_id_tutor_id_rater_id_capacity'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_ratings_recording_id_tutor_id_rater_id_capacity_version'), ['recording_id', 'tutor_id', 'rater_id', 'capacity', 'version'])
        batch_op.create_foreign_key(batch_op.f('fk_ratings_supersedes_id_ratings'), 'ratings', ['supersedes_id'], ['id'])
        batch_op.create_check_constraint('versions_chain', '(version = 1) = (supersedes_id IS NULL)')
        batch_op.create_check_constraint(
            'correction_has_reason', "version = 1 OR (correction_reason IS NOT NULL AND correction_reason <> '')"
        )



def downgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_constraint('ck_ratings_correction_has_reason', type_='check')
        batch_op.drop_constraint('ck_ratings_versions_chain', type_='check')
        batch_op.drop_constraint(batch_op.f('fk_ratings_supersedes_id_ratings'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_ratings_recording_id_tutor_id_rater_id_capacity_version'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_ratings_recording_id_tutor_id_rater_id_capacity'), ['recording_id', 'tutor_id', 'rater_id', 'capacity'])
        batch_op.drop_column('confirmed_uniform')
        batch_op.drop_column('is_blind')
        batch_op.drop_column('is_current')
        batch_op.drop_column('correction_reason')
        batch_op.drop_column('supersedes_id')
        batch_op.drop_column('version')

    with op.batch_alter_table('item_scores', schema=None) as batch_op:
        batch_op.drop_column('revision')

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_rating_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
