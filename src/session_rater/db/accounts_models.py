"""Tables of sign-in and scope: who manages which team, which area a programme manager
oversees, which sessions an external assessor is assigned, and the sign-in sessions and
attempts (for idle expiry and for rate-limiting failed sign-ins)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from session_rater.db.models import Base, utcnow


class ManagedTeam(Base):
    """A treatment manager monitors the sessions of the teams they manage."""

    __tablename__ = "managed_teams"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    area: Mapped[str] = mapped_column(String(200), primary_key=True)
    team: Mapped[str] = mapped_column(String(200), primary_key=True)


class PersonArea(Base):
    """A programme manager sees the reports of their areas."""

    __tablename__ = "person_areas"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    area: Mapped[str] = mapped_column(String(200), primary_key=True)


class AssessorAssignment(Base):
    """A session assigned by an administrator to an external assessor. Withdrawing keeps the
    row (``withdrawn_at``); assigning again reopens it. Sample assignments that name an
    assessor count as assignments too (see AccountsStore.scope_of)."""

    __tablename__ = "assessor_assignments"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    assigned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SignInSession(Base):
    """One signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so
    a copy of the database does not let anyone sign in."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(20))  # "password" | "oidc"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(40))  # "signed_out" | "idle" | "deactivated"

    __table_args__ = (CheckConstraint("method IN ('password', 'oidc')", name="method_known"),)


class SignInAttempt(Base):
    """A sign-in attempt with a password, kept to rate-limit failures per account and per client."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(320))
    client: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_sign_in_attempts_login_at", "login", "at"),
        Index("ix_sign_in_attempts_client_at", "client", "at"),
        Index("ix_sign_in_attempts_at", "at"),  # the audit log, newest first (0011)
    )
