"""Tables for sampling: draws of a sampling policy and the work they assign."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from session_rater.db.models import Base, utcnow


class SampleDraw(Base):
    """One application of a sampling policy: which version, which seed, when and by whom.

    ``policy`` is the policy's full definition at that version (every default spelled out), so
    a draw can be reproduced, and stays readable, after the YAML file has changed.
    """

    __tablename__ = "sample_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_name: Mapped[str] = mapped_column(String(100), index=True)
    policy_version: Mapped[str] = mapped_column(String(40))
    seed: Mapped[int] = mapped_column(BigInteger)
    drawn_on: Mapped[dt.date] = mapped_column(Date)
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    drawn_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    policy: Mapped[dict] = mapped_column(JSON)
    shortfalls: Mapped[list] = mapped_column(JSON, default=list)

    __table_args__ = (CheckConstraint("seed >= 0", name="seed_not_negative"),)


class SampleAssignment(Base):
    """One session picked by one rule of a policy, with its rater(s) and due date.

    Rows are only ever added: a top-up draw inserts what is still missing and never deletes or
    rewrites an earlier row, so ratings already started stay on their assignment. The unique
    (policy_name, rule, recording_id) makes a session drawn at most once per rule of a policy,
    even when two draws race.
    """

    __tablename__ = "sample_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("sample_draws.id"), index=True)
    policy_name: Mapped[str] = mapped_column(String(100))
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    rater_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    second_rater_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("policy_name", "rule", "recording_id"),
        CheckConstraint("rule IN ('monitoring', 'catch_up', 'external_audit')", name="rule_known"),
        CheckConstraint(
            "second_rater_id IS NULL OR (rater_id IS NOT NULL AND second_rater_id <> rater_id)",
            name="second_rater_differs",
        ),
    )
