"""Accounts and scope: local passwords (argon2 hashes), OIDC subjects, sign-in sessions and
attempts, a recording's team, treatment managers' teams, programme managers' areas and
external assessors' assignments.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=320), nullable=False),
    sa.Column('client', sa.String(length=100), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempts'))
    )
    with op.batch_alter_table('sign_in_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_attempts_client_at', ['client', 'at'], unique=False)
        batch_op.create_index('ix_sign_in_attempts_login_at', ['login', 'at'], unique=False)

    op.create_table('assessor_assignments',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by'], ['people.id'], name=op.f('fk_assessor_assignments_assigned_by_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_assessor_assignments_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_assessor_assignments_recording_id_recordings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'recording_id', name=op.f('pk_assessor_assignments'))
    )
    op.create_table('managed_teams',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=200), nullable=False),
    sa.Column('team', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_managed_teams_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'area', 'team', name=op.f('pk_managed_teams'))
    )
    op.create_table('person_areas',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_areas_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'area', name=op.f('pk_person_areas'))
    )
    op.create_table('sign_in_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=40), nullable=True),
    sa.CheckConstraint("method IN ('password', 'oidc')", name=op.f('ck_sign_in_sessions_method_known')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_sign_in_sessions_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_sessions_token_hash'))
    )
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_sessions_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('oidc_subject', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_people_oidc_subject'), ['oidc_subject'])

    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_column('team')

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_people_oidc_subject'), type_='unique')
        batch_op.drop_column('oidc_subject')
        batch_op.drop_column('password_hash')

    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_sessions_person_id'))

    op.drop_table('sign_in_sessions')
    op.drop_table('person_areas')
    op.drop_table('managed_teams')
    op.drop_table('assessor_assignments')
    with op.batch_alter_table('sign_in_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_attempts_login_at')
        batch_op.drop_index('ix_sign_in_attempts_client_at')

    op.drop_table('sign_in_attempts')
