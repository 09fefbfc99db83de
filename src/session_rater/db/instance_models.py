"""Values every process of one installation must share, kept in the database they share."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from session_rater.db.models import Base, utcnow


class SharedSecret(Base):
    """A key generated once for the installation (the recording-link signing key when
    SESSION_RATER_SECRET is not set), so that every app process signs and checks alike."""

    __tablename__ = "shared_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
