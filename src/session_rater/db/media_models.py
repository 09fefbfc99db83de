"""Tables for recording media: files on disk, conversion jobs, the access log.

* ``media_files``: every file known for a recording: the ``original`` (as ingested, never
  modified) and the ``playable`` file the app serves (the original itself when a browser plays
  it as it is, else the remuxed or transcoded derivative). A file is known by its content hash,
  so a moved original is found again by hashing it.
* ``transcode_jobs``: the queue of remux/transcode work, run one at a time by
  :mod:`session_rater.usecases.conversion_worker` outside the Streamlit script.
* ``recording_access_log``: who fetched which recording when (the audit trail of the
  recording route).

Deleting a recording (only demo rows are ever deleted) deletes its jobs and log lines and
detaches its media files; deleting a person keeps their log lines without the name.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from session_rater.db.models import Base, utcnow

MEDIA_KINDS = ("original", "playable")
JOB_ACTIONS = ("remux", "transcode")
JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class MediaFile(Base):
    """One file of a recording, as probed."""

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    container: Mapped[str | None] = mapped_column(String(40))
    video_codec: Mapped[str | None] = mapped_column(String(40))
    audio_codec: Mapped[str | None] = mapped_column(String(40))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    frame_rate: Mapped[float | None] = mapped_column(Float)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    interlaced: Mapped[bool] = mapped_column(Boolean, default=False)
    has_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    browser_playable: Mapped[bool] = mapped_column(Boolean, default=False)
    probed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("kind", "content_hash"),
        CheckConstraint(_in("kind", MEDIA_KINDS), name="kind_known"),
    )


class TranscodeJob(Base):
    """Make a recording's browser-safe file: queued -> running -> done | failed | cancelled."""

    __tablename__ = "transcode_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    source_path: Mapped[str] = mapped_column(Text)
    output_path: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    worker_host: Mapped[str | None] = mapped_column(String(255))
    # The lease: the worker holding the job (a random id per worker) renews lease_expires_at
    # while it works; a job whose lease has lapsed is taken up again by the next claim.
    worker_id: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # claims so far

    __table_args__ = (
        CheckConstraint(_in("action", JOB_ACTIONS), name="action_known"),
        CheckConstraint(_in("status", JOB_STATUSES), name="status_known"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_fraction"),
        Index("ix_transcode_jobs_status_id", "status", "id"),
    )


class RecordingAccess(Base):
    """One request for a recording's video (the audit trail)."""

    __tablename__ = "recording_access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    accessed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    method: Mapped[str] = mapped_column(String(10))
    range_header: Mapped[str | None] = mapped_column(Text)
    status_code: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_recording_access_log_recording_id_accessed_at", "recording_id", "accessed_at"),
        Index("ix_recording_access_log_accessed_at", "accessed_at"),  # the audit log, newest first (0011)
        Index("ix_recording_access_log_person_id_accessed_at", "person_id", "accessed_at"),  # by person (0013)
    )
