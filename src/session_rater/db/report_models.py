"""What the reports keep: supervision discussions ("discussed in supervision on DATE", with the
action agreed), and the audit team's marks. Rows are never deleted by the app; every change is
in the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from session_rater.db.models import Base, utcnow


class SupervisionRecord(Base):
    """One supervision discussion of one tutor's delivery of one session, recorded by the tutor
    or their treatment manager."""

    __tablename__ = "supervision_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    tutor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    discussed_on: Mapped[dt.date] = mapped_column(Date)
    agreed_action: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        CheckConstraint("agreed_action <> ''", name="action_given"),
        Index("ix_supervision_records_tutor_id_recording_id", "tutor_id", "recording_id"),
    )


class AuditMarkSet(Base):
    """The marks of one audit (one area, one instrument version), kept as the marks CSV that
    ``session-rater audit-score`` reads, so that a file imported, typed in or downloaded is the
    same thing."""

    __tablename__ = "audit_mark_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(200))
    instrument_id: Mapped[str] = mapped_column(String(100))
    instrument_version: Mapped[str] = mapped_column(String(40))
    mandatory: Mapped[list] = mapped_column(JSON)  # type: ignore[type-arg]  # criterion ids that count double
    marks_csv: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (CheckConstraint("title <> ''", name="title_given"),)
