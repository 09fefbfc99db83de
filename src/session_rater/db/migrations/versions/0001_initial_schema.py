"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('email', name=op.f('uq_people_email'))
    )
    op.create_table('recordings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_path', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('programme', sa.String(length=200), nullable=False),
    sa.Column('group_name', sa.String(length=200), nullable=False),
    sa.Column('session_number', sa.Integer(), nullable=False),
    sa.Column('session_title', sa.String(length=300), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=200), nullable=True),
    sa.Column('is_catch_up', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('session_number >= 1', name=op.f('ck_recordings_session_number_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recordings'))
    )
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recordings_content_hash'), ['content_hash'], unique=False)

    op.create_table('rubric_versions',
    sa.Column('rubric_id', sa.String(length=100), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('rubric_id', 'version', name=op.f('pk_rubric_versions'))
    )
    op.create_table('person_roles',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_roles_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'role', name=op.f('pk_person_roles'))
    )
    op.create_table('ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('tutor_id', sa.Integer(), nullable=True),
    sa.Column('rater_id', sa.Integer(), nullable=False),
    sa.Column('rubric_id', sa.String(length=100), nullable=False),
    sa.Column('rubric_version', sa.String(length=40), nullable=False),
    sa.Column('capacity', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.CheckConstraint("(status = 'submitted') = (submitted_at IS NOT NULL)", name=op.f('ck_ratings_submitted_has_time')),
    sa.CheckConstraint("capacity IN ('self_assessment', 'monitoring', 'external', 'benchmark')", name=op.f('ck_ratings_capacity_known')),
    sa.CheckConstraint("status IN ('draft', 'submitted')", name=op.f('ck_ratings_status_known')),
    sa.ForeignKeyConstraint(['rater_id'], ['people.id'], name=op.f('fk_ratings_rater_id_people')),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_ratings_recording_id_recordings')),
    sa.ForeignKeyConstraint(['rubric_id', 'rubric_version'], ['rubric_versions.rubric_id', 'rubric_versions.version'], name='fk_ratings_rubric_versions'),
    sa.ForeignKeyConstraint(['tutor_id'], ['people.id'], name=op.f('fk_ratings_tutor_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings')),
    sa.UniqueConstraint('recording_id', 'tutor_id', 'rater_id', 'capacity', name=op.f('uq_ratings_recording_id_tutor_id_rater_id_capacity'))
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ratings_rater_id'), ['rater_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ratings_recording_id'), ['recording_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ratings_tutor_id'), ['tutor_id'], unique=False)

    op.create_table('recording_tutors',
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_recording_tutors_person_id_people')),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_recording_tutors_recording_id_recordings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recording_id', 'person_id', name=op.f('pk_recording_tutors'))
    )
    op.create_table('item_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rating_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=100), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('not_applicable', sa.Boolean(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('moment_seconds', sa.Float(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('NOT (not_applicable AND score IS NOT NULL)', name=op.f('ck_item_scores_na_has_no_score')),
    sa.CheckConstraint('moment_seconds IS NULL OR moment_seconds >= 0', name=op.f('ck_item_scores_moment_not_negative')),
    sa.ForeignKeyConstraint(['rating_id'], ['ratings.id'], name=op.f('fk_item_scores_rating_id_ratings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_scores')),
    sa.UniqueConstraint('rating_id', 'item_id', name=op.f('uq_item_scores_rating_id_item_id'))
    )


def downgrade() -> None:
    op.drop_table('item_scores')
    op.drop_table('recording_tutors')
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ratings_tutor_id'))
        batch_op.drop_index(batch_op.f('ix_ratings_recording_id'))
        batch_op.drop_index(batch_op.f('ix_ratings_rater_id'))

    op.drop_table('ratings')
    op.drop_table('person_roles')
    op.drop_table('rubric_versions')
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recordings_content_hash'))

    op.drop_table('recordings')
    op.drop_table('people')
