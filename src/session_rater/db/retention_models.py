"""Holds on recordings: a recording on hold (a benchmark, a complaint, an investigation ...)
is kept whatever the retention policy says, until the hold is released. Rows are never
deleted: a released hold keeps who released it, when and why."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from session_rater.db.models import Base, utcnow


class RecordingHold(Base):
    __tablename__ = "recording_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # "benchmark" | "complaint" | "audit" | "legal" | "other"
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    placed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    release_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("reason <> ''", name="reason_given"),
        Index("ix_recording_holds_recording_id_released_at", "recording_id", "released_at"),
    )
