"""Values every process of one installation must share, kept in the database they share."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from session_rater.db.models import Base, utcnow


class SharedValue(Base):
    """A value every process of the installation reads: a key generated once (the
    recording-link signing key when SESSION_RATER_SECRET is not set), or a marker one process
    changes to tell the others (``rubrics_generation``: the rubric files changed, read them)."""

    __tablename__ = "shared_values"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
