"""The benchmark (issue 10): recordings cleared for training use, benchmark sessions and their
panels, versioned master scores, calibration rounds and attempts, validity assignments and
exemplar clips. New tables only (indexes in batch mode, so it runs on SQLite and PostgreSQL).

Revision ID: 0012_benchmarks
Revises: 0010_supervision
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_benchmarks'
down_revision = '0011_query_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:  # fmt: skip
    op.create_table('benchmark_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('tutor_id', sa.Integer(), nullable=True),
    sa.Column('rubric_id', sa.String(length=100), nullable=False),
    sa.Column('rubric_version', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('designated_by', sa.Integer(), nullable=True),
    sa.Column('designated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('panel_lead_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.CheckConstraint("reason <> ''", name=op.f('ck_benchmark_sessions_reason_given')),
    sa.CheckConstraint("state IN ('panel_rating', 'adjudication', 'master_scored')", name=op.f('ck_benchmark_sessions_state_known')),
    sa.ForeignKeyConstraint(['designated_by'], ['people.id'], name=op.f('fk_benchmark_sessions_designated_by_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['panel_lead_id'], ['people.id'], name=op.f('fk_benchmark_sessions_panel_lead_id_people')),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_benchmark_sessions_recording_id_recordings')),
    sa.ForeignKeyConstraint(['tutor_id'], ['people.id'], name=op.f('fk_benchmark_sessions_tutor_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benchmark_sessions')),
    sa.UniqueConstraint('recording_id', 'tutor_id', name=op.f('uq_benchmark_sessions_recording_id_tutor_id'))
    )
    with op.batch_alter_table('benchmark_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benchmark_sessions_recording_id'), ['recording_id'], unique=False)

    op.create_table('calibration_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("title <> ''", name=op.f('ck_calibration_rounds_title_given')),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_calibration_rounds_created_by_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_rounds'))
    )
    op.create_table('training_clearances',
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('cleared_by', sa.Integer(), nullable=True),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['cleared_by'], ['people.id'], name=op.f('fk_training_clearances_cleared_by_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_training_clearances_recording_id_recordings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recording_id', name=op.f('pk_training_clearances'))
    )
    op.create_table('benchmark_panel_members',
    sa.Column('benchmark_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['benchmark_id'], ['benchmark_sessions.id'], name=op.f('fk_benchmark_panel_members_benchmark_id_benchmark_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_benchmark_panel_members_person_id_people')),
    sa.PrimaryKeyConstraint('benchmark_id', 'person_id', name=op.f('pk_benchmark_panel_members'))
    )
    op.create_table('calibration_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('rater_id', sa.Integer(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('n_items', sa.Integer(), nullable=False),
    sa.Column('exact_count', sa.Integer(), nullable=False),
    sa.Column('within_one_count', sa.Integer(), nullable=False),
    sa.Column('difference_sum', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('n_items > 0', name=op.f('ck_calibration_attempts_items_compared')),
    sa.ForeignKeyConstraint(['rater_id'], ['people.id'], name=op.f('fk_calibration_attempts_rater_id_people')),
    sa.ForeignKeyConstraint(['round_id'], ['calibration_rounds.id'], name=op.f('fk_calibration_attempts_round_id_calibration_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_attempts')),
    sa.UniqueConstraint('round_id', 'rater_id', name=op.f('uq_calibration_attempts_round_id_rater_id'))
    )
    with op.batch_alter_table('calibration_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibration_attempts_rater_id'), ['rater_id'], unique=False)

    op.create_table('calibration_round_raters',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('rater_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['rater_id'], ['people.id'], name=op.f('fk_calibration_round_raters_rater_id_people')),
    sa.ForeignKeyConstraint(['round_id'], ['calibration_rounds.id'], name=op.f('fk_calibration_round_raters_round_id_calibration_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'rater_id', name=op.f('pk_calibration_round_raters'))
    )
    op.create_table('calibration_round_sessions',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('benchmark_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['benchmark_id'], ['benchmark_sessions.id'], name=op.f('fk_calibration_round_sessions_benchmark_id_benchmark_sessions')),
    sa.ForeignKeyConstraint(['round_id'], ['calibration_rounds.id'], name=op.f('fk_calibration_round_sessions_round_id_calibration_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'benchmark_id', name=op.f('pk_calibration_round_sessions'))
    )
    op.create_table('exemplar_clips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('benchmark_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=100), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('start_seconds', sa.Float(), nullable=False),
    sa.Column('end_seconds', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('start_seconds >= 0 AND end_seconds > start_seconds', name=op.f('ck_exemplar_clips_clip_in_order')),
    sa.ForeignKeyConstraint(['benchmark_id'], ['benchmark_sessions.id'], name=op.f('fk_exemplar_clips_benchmark_id_benchmark_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_exemplar_clips_created_by_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exemplar_clips'))
    )
    op.create_table('master_score_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('benchmark_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('agreed_by', sa.Integer(), nullable=True),
    sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("version = 1 OR (reason IS NOT NULL AND reason <> '')", name=op.f('ck_master_score_versions_change_has_reason')),
    sa.ForeignKeyConstraint(['agreed_by'], ['people.id'], name=op.f('fk_master_score_versions_agreed_by_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['benchmark_id'], ['benchmark_sessions.id'], name=op.f('fk_master_score_versions_benchmark_id_benchmark_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_master_score_versions')),
    sa.UniqueConstraint('benchmark_id', 'version', name=op.f('uq_master_score_versions_benchmark_id_version'))
    )
    op.create_table('validity_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rater_id', sa.Integer(), nullable=False),
    sa.Column('benchmark_id', sa.Integer(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=True),
    sa.Column('policy_name', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['benchmark_id'], ['benchmark_sessions.id'], name=op.f('fk_validity_assignments_benchmark_id_benchmark_sessions')),
    sa.ForeignKeyConstraint(['draw_id'], ['sample_draws.id'], name=op.f('fk_validity_assignments_draw_id_sample_draws')),
    sa.ForeignKeyConstraint(['rater_id'], ['people.id'], name=op.f('fk_validity_assignments_rater_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_validity_assignments')),
    sa.UniqueConstraint('rater_id', 'benchmark_id', name=op.f('uq_validity_assignments_rater_id_benchmark_id'))
    )
    with op.batch_alter_table('validity_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_validity_assignments_rater_id'), ['rater_id'], unique=False)

    op.create_table('master_scores',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=100), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('moments', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['master_score_versions.id'], name=op.f('fk_master_scores_version_id_master_score_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', 'item_id', name=op.f('pk_master_scores'))
    )


def downgrade() -> None:  # fmt: skip
    op.drop_table('master_scores')
    with op.batch_alter_table('validity_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_validity_assignments_rater_id'))

    op.drop_table('validity_assignments')
    op.drop_table('master_score_versions')
    op.drop_table('exemplar_clips')
    op.drop_table('calibration_round_sessions')
    op.drop_table('calibration_round_raters')
    with op.batch_alter_table('calibration_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibration_attempts_rater_id'))

    op.drop_table('calibration_attempts')
    op.drop_table('benchmark_panel_members')
    op.drop_table('training_clearances')
    op.drop_table('calibration_rounds')
    with op.batch_alter_table('benchmark_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_benchmark_sessions_recording_id'))

    op.drop_table('benchmark_sessions')
