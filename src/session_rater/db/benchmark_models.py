"""Tables of the benchmark (issue 10): recordings cleared for training use, benchmark sessions
with their panel, master scores (every version kept), calibration rounds and attempts,
validity assignments blended into My work, and exemplar clips. Rows are only added or moved
forward; every change is in the audit log."""

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
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from session_rater.db.models import Base, utcnow


class TrainingClearance(Base):
    """An administrator cleared this recording for training use (who, when)."""

    __tablename__ = "training_clearances"

    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True)
    cleared_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    cleared_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class BenchmarkSession(Base):
    """A recorded session (and tutor) designated as a benchmark, rated blind by its panel."""

    __tablename__ = "benchmark_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    rubric_id: Mapped[str] = mapped_column(String(100))
    rubric_version: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    designated_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    designated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    panel_lead_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    state: Mapped[str] = mapped_column(String(20), default="panel_rating")

    __table_args__ = (
        UniqueConstraint("recording_id", "tutor_id"),
        CheckConstraint("state IN ('panel_rating', 'adjudication', 'master_scored')", name="state_known"),
        CheckConstraint("reason <> ''", name="reason_given"),
    )


class BenchmarkPanelMember(Base):
    __tablename__ = "benchmark_panel_members"

    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmark_sessions.id", ondelete="CASCADE"),
                                              primary_key=True)  # fmt: skip
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)


class MasterScoreVersion(Base):
    """One version of a benchmark's master scores: version 1 as agreed by the panel lead, each
    later one a change with its reason."""

    __tablename__ = "master_score_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmark_sessions.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    agreed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    agreed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("benchmark_id", "version"),
        CheckConstraint("version = 1 OR (reason IS NOT NULL AND reason <> '')", name="change_has_reason"),
    )


class MasterScoreRow(Base):
    """One item's master score in one version, with its rationale and evidence moments."""

    __tablename__ = "master_scores"

    version_id: Mapped[int] = mapped_column(ForeignKey("master_score_versions.id", ondelete="CASCADE"),
                                            primary_key=True)  # fmt: skip
    item_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    score: Mapped[int | None] = mapped_column(Integer)
    rationale: Mapped[str] = mapped_column(Text, default="")
    moments: Mapped[list] = mapped_column(JSON, default=list)  # type: ignore[type-arg]


class CalibrationRoundRow(Base):
    __tablename__ = "calibration_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (CheckConstraint("title <> ''", name="title_given"),)


class CalibrationRoundSession(Base):
    __tablename__ = "calibration_round_sessions"

    round_id: Mapped[int] = mapped_column(ForeignKey("calibration_rounds.id", ondelete="CASCADE"), primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmark_sessions.id"), primary_key=True)


class CalibrationRoundRater(Base):
    __tablename__ = "calibration_round_raters"

    round_id: Mapped[int] = mapped_column(ForeignKey("calibration_rounds.id", ondelete="CASCADE"), primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)


class CalibrationAttempt(Base):
    """One rater's completed round: the figures as exact counts, and the rule in force then
    (id, version, fingerprint and every threshold), so a later rule never re-judges it."""

    __tablename__ = "calibration_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("calibration_rounds.id"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    completed_on: Mapped[dt.date] = mapped_column(Date)
    n_items: Mapped[int] = mapped_column(Integer)
    exact_count: Mapped[int] = mapped_column(Integer)
    within_one_count: Mapped[int] = mapped_column(Integer)
    difference_sum: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    rule: Mapped[dict] = mapped_column(JSON)  # type: ignore[type-arg]
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("round_id", "rater_id"),
        CheckConstraint("n_items > 0", name="items_compared"),
    )


class ValidityAssignmentRow(Base):
    """A benchmark session blended blind into a rater's My work. ``hidden`` stays true until the
    rater submits; ``draw_id``, ``policy_name``, ``reason`` and ``due_on`` are shown exactly as a
    live monitoring assignment's are."""

    __tablename__ = "validity_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmark_sessions.id"))
    hidden: Mapped[bool] = mapped_column(Boolean, default=True)
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("sample_draws.id"))
    policy_name: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("rater_id", "benchmark_id"),)


class ExemplarClipRow(Base):
    """A clip of a master-scored benchmark marked as the exemplar of an item's score level."""

    __tablename__ = "exemplar_clips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmark_sessions.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(100))
    score: Mapped[int] = mapped_column(Integer)
    start_seconds: Mapped[float] = mapped_column(Float)
    end_seconds: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (CheckConstraint("start_seconds >= 0 AND end_seconds > start_seconds", name="clip_in_order"),)
