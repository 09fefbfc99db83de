"""What calibration storage returns, as plain frozen values: recordings cleared for training,
benchmark sessions with their panel and state, master scores (versioned), calibration rounds,
attempts, validity assignments and exemplar clips."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from session_rater.domain.calibration.adjudication import MasterScore


class BenchmarkState(StrEnum):
    """Where a benchmark session is: its panel rating blind, the panel lead adjudicating (every
    panel rating is in), or master-scored (locked; a change is a new version)."""

    PANEL_RATING = "panel_rating"
    ADJUDICATION = "adjudication"
    MASTER_SCORED = "master_scored"


@dataclass(frozen=True)
class TrainingClearance:
    """A recording an administrator cleared for training use (benchmarks, exemplars): it shows
    a group of offenders, so who cleared it and when is kept."""

    recording_id: int
    cleared_by: int | None
    cleared_at: dt.datetime
    note: str


@dataclass(frozen=True)
class BenchmarkView:
    id: int
    recording_id: int
    tutor_id: int | None
    rubric_id: str
    rubric_version: str
    reason: str
    designated_by: int | None
    designated_at: dt.datetime
    panel: tuple[int, ...]
    panel_lead: int
    state: BenchmarkState


@dataclass(frozen=True)
class MasterScoreSet:
    """One version of a benchmark's master scores (version 1 as first agreed; each change a new
    version with its reason)."""

    benchmark_id: int
    version: int
    agreed_by: int | None
    agreed_at: dt.datetime
    reason: str | None
    scores: tuple[MasterScore, ...]

    def by_item(self) -> dict[str, int | None]:
        return {m.item_id: m.score for m in self.scores}


@dataclass(frozen=True)
class CalibrationRound:
    id: int
    title: str
    due_on: dt.date
    created_by: int | None
    created_at: dt.datetime
    benchmark_ids: tuple[int, ...]
    rater_ids: tuple[int, ...]


@dataclass(frozen=True)
class AttemptRecord:
    """A stored attempt: the figures as exact counts and the rule it was judged by (as stored)."""

    id: int
    round_id: int
    rater_id: int
    completed_on: dt.date
    n_items: int
    exact_count: int
    within_one_count: int
    difference_sum: int
    passed: bool
    rule: dict[str, Any]


@dataclass(frozen=True)
class ValidityAssignment:
    id: int
    rater_id: int
    benchmark_id: int
    recording_id: int
    tutor_id: int | None
    hidden: bool
    due_on: dt.date | None
    reason: str
    created_at: dt.datetime


@dataclass(frozen=True)
class ExemplarClip:
    id: int
    benchmark_id: int
    item_id: str
    score: int
    start_seconds: float
    end_seconds: float
    note: str
    created_by: int | None
