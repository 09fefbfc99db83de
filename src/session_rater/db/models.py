"""Tables. SQLAlchemy 2.0 typed declarative models; Alembic migrations must agree with these
(a test compares them).

The thing rated is a (recording, tutor) pair when the rubric is rated per tutor, or the
recording alone (``tutor_id`` NULL) when rated per session. Every rating stores the rubric id
and version it was made under; the rubric's definition at that version is kept in
``rubric_versions`` so later edits to the YAML file never change an earlier rating.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A local account: an argon2 hash (never the password). NULL: no local sign-in.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The organisation identity provider's subject ("sub" claim), bound at first OIDC sign-in.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)

    roles: Mapped[list[PersonRole]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}


class PersonRole(Base):
    __tablename__ = "person_roles"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)

    person: Mapped[Person] = relationship(back_populates="roles")


class Recording(Base):
    """A recorded programme session (one video file)."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    programme: Mapped[str] = mapped_column(String(200))
    group_name: Mapped[str] = mapped_column(String(200))
    session_number: Mapped[int] = mapped_column(Integer)
    session_title: Mapped[str] = mapped_column(String(300))
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    site: Mapped[str] = mapped_column(String(200))
    area: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))  # the delivery team, within the area
    is_catch_up: Mapped[bool] = mapped_column(Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Set when the retention policy deleted the recording's files (its scores are kept).
    files_deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    files_deleted_note: Mapped[str | None] = mapped_column(Text)

    tutors: Mapped[list[RecordingTutor]] = relationship(
        back_populates="recording",
        cascade="all, delete-orphan",
        order_by="RecordingTutor.position",
        lazy="selectin",
    )

    __table_args__ = (
        CheckConstraint("session_number >= 1", name="session_number_positive"),
        # The Sessions list, newest first, one page at a time; the date filter (0011).
        Index("ix_recordings_recorded_on_id", "recorded_on", "id"),
        # A treatment manager's reach: their teams' sessions (0011).
        Index("ix_recordings_team_area", "team", "area"),
    )


class RecordingTutor(Base):
    """Who delivered a recorded session (usually two co-tutors)."""

    __tablename__ = "recording_tutors"

    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    recording: Mapped[Recording] = relationship(back_populates="tutors")
    person: Mapped[Person] = relationship(lazy="joined")

    # The sessions a tutor delivered (every tutor's reach, the Tutor filter): the primary key
    # leads with the recording, so without this each lookup read the whole table (0011).
    __table_args__ = (Index("ix_recording_tutors_person_id_recording_id", "person_id", "recording_id"),)


class RubricVersion(Base):
    """A snapshot of a rubric's definition at one version, taken when it is first used."""

    __tablename__ = "rubric_versions"

    rubric_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    fingerprint: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict] = mapped_column(JSON)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rating(Base):
    """One version of one rater's form for one (recording, tutor) in one capacity.

    Version 1 is the rating as first made. Once submitted it is read-only; a correction is a
    new version (``supersedes_id`` the one before, ``correction_reason`` why) and every earlier
    version is kept. ``is_current`` marks the version that counts: the newest submitted one
    (a correction in progress does not count until it is submitted).
    """

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    rubric_id: Mapped[str] = mapped_column(String(100))
    rubric_version: Mapped[str] = mapped_column(String(40))
    capacity: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    is_blind: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    confirmed_uniform: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    scores: Mapped[list[ItemScore]] = relationship(
        back_populates="rating", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        ForeignKeyConstraint(
            ["rubric_id", "rubric_version"],
            ["rubric_versions.rubric_id", "rubric_versions.version"],
            name="fk_ratings_rubric_versions",
        ),
        UniqueConstraint("recording_id", "tutor_id", "rater_id", "capacity", "version"),
        # NULLs never collide in the constraint above: one form per rater for a session rated
        # as a whole (tutor_id NULL) needs its own partial index.
        Index(
            "uq_ratings_session_level",
            "recording_id",
            "rater_id",
            "capacity",
            "version",
            unique=True,
            sqlite_where=text("tutor_id IS NULL"),
            postgresql_where=text("tutor_id IS NULL"),
        ),
        # Coverage's sessions with a submitted monitoring rating, from the index alone (0013).
        Index("ix_ratings_capacity_status_recording_id_tutor_id", "capacity", "status", "recording_id", "tutor_id"),
        CheckConstraint("(version = 1) = (supersedes_id IS NULL)", name="versions_chain"),
        CheckConstraint(
            "version = 1 OR (correction_reason IS NOT NULL AND correction_reason <> '')",
            name="correction_has_reason",
        ),
        CheckConstraint(
            "capacity IN ('self_assessment', 'monitoring', 'external', 'benchmark')",
            name="capacity_known",
        ),
        CheckConstraint("status IN ('draft', 'submitted')", name="status_known"),
        CheckConstraint(
            "(status = 'submitted') = (submitted_at IS NOT NULL)", name="submitted_has_time"
        ),
    )


class ItemScore(Base):
    """One item of one rating: a score or N/A, an evidence note, an optional moment."""

    __tablename__ = "item_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(100))
    score: Mapped[int | None] = mapped_column(Integer)
    not_applicable: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[str] = mapped_column(Text, default="")
    moment_seconds: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # +1 on every save

    rating: Mapped[Rating] = relationship(back_populates="scores")

    __table_args__ = (
        UniqueConstraint("rating_id", "item_id"),
        CheckConstraint("NOT (not_applicable AND score IS NOT NULL)", name="na_has_no_score"),
        CheckConstraint("moment_seconds IS NULL OR moment_seconds >= 0", name="moment_not_negative"),
    )


# Tables of other concepts live in their own modules on the same metadata; importing them
# here makes Base.metadata (and so Alembic) complete whichever module is imported first.
from session_rater.db import (  # noqa: E402,F401
    accounts_models,
    audit_models,
    benchmark_models,
    instance_models,
    media_models,
    report_models,
    retention_models,
    sampling_models,
)

