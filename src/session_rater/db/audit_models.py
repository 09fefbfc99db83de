"""The audit log: every change to a rating, who made it, when, and the values before and after."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from session_rater.db.models import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    entity: Mapped[str] = mapped_column(String(40))  # "rating" | "item_score"
    entity_id: Mapped[int] = mapped_column(Integer)
    rating_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the rating concerned, for filtering
    action: Mapped[str] = mapped_column(String(40))  # "create" | "update" | "submit" | "correct"
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    # Whether a person has seen others' ratings of a session (Store.is_unblinded, on every form's
    # first click and on Compare) looks up (actor, "blindness", session): without this it read
    # the whole log, about one row per item score (migration 0011).
    # The Audit log filtered by kind, newest first, a page at a time (0013); in (at, id) order,
    # the newest first whatever the entries sharing an instant (0014, in place of an index on at).
    __table_args__ = (
        Index("ix_audit_log_at_id", "at", "id"),
        Index("ix_audit_log_actor_id_entity_entity_id", "actor_id", "entity", "entity_id"),
        Index("ix_audit_log_entity_at", "entity", "at", postgresql_where=text("entity <> 'blindness'")),
    )
