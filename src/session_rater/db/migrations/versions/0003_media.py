"""media: files of a recording, conversion jobs, the recording access log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

``media_files`` is unique on (kind, content_hash): a file's identity is its content. Jobs and
log lines go with their recording (only demo recordings are ever deleted); media files are
detached (recording_id NULL) and log lines lose the person when a person is deleted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('media_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('container', sa.String(length=40), nullable=True),
    sa.Column('video_codec', sa.String(length=40), nullable=True),
    sa.Column('audio_codec', sa.String(length=40), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('frame_rate', sa.Float(), nullable=True),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('interlaced', sa.Boolean(), nullable=False),
    sa.Column('has_audio', sa.Boolean(), nullable=False),
    sa.Column('browser_playable', sa.Boolean(), nullable=False),
    sa.Column('probed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('original', 'playable')", name=op.f('ck_media_files_kind_known')),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_media_files_recording_id_recordings'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_files')),
    sa.UniqueConstraint('kind', 'content_hash', name=op.f('uq_media_files_kind_content_hash'))
    )
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_files_recording_id'), ['recording_id'], unique=False)
    op.create_table('recording_access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('accessed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('range_header', sa.Text(), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_recording_access_log_person_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_recording_access_log_recording_id_recordings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_access_log'))
    )
    with op.batch_alter_table('recording_access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_access_log_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_recording_access_log_recording_id_accessed_at', ['recording_id', 'accessed_at'], unique=False)
    op.create_table('transcode_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('source_path', sa.Text(), nullable=False),
    sa.Column('output_path', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker_pid', sa.Integer(), nullable=True),
    sa.Column('worker_host', sa.String(length=255), nullable=True),
    sa.CheckConstraint("action IN ('remux', 'transcode')", name=op.f('ck_transcode_jobs_action_known')),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name=op.f('ck_transcode_jobs_status_known')),
    sa.CheckConstraint('progress >= 0 AND progress <= 1', name=op.f('ck_transcode_jobs_progress_fraction')),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], name=op.f('fk_transcode_jobs_recording_id_recordings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcode_jobs'))
    )
    with op.batch_alter_table('transcode_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcode_jobs_recording_id'), ['recording_id'], unique=False)
        batch_op.create_index('ix_transcode_jobs_status_id', ['status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('transcode_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_transcode_jobs_status_id')
        batch_op.drop_index(batch_op.f('ix_transcode_jobs_recording_id'))

    op.drop_table('transcode_jobs')
    with op.batch_alter_table('recording_access_log', schema=None) as batch_op:
        batch_op.drop_index('ix_recording_access_log_recording_id_accessed_at')
        batch_op.drop_index(batch_op.f('ix_recording_access_log_person_id'))

    op.drop_table('recording_access_log')
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_files_recording_id'))

    op.drop_table('media_files')
