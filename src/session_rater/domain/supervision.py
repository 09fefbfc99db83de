"""Supervision feedback for one tutor on one monitored session (pure).

The audit found that "the value of supervision ... was limited by both tutors and treatment
managers over-scoring delivery performance" (HMIP 2002, B5.1). The feedback puts, item by item,
the treatment manager's score beside the tutor's self-assessment and the reference (master
scores where they exist, else the external assessors'), and picks out:

* **strengths**: items the treatment manager scored at the top of the scale;
* **development points**: items scored below the middle of the scale (``score < (min + max) / 2``:
  0 and 1 on a 0-3 scale), and items where the tutor's self-assessment is above the treatment
  manager's score by a point or more (``self - manager >= 1``), the over-scoring the audit found;
* the tutor's **trend**: their mean score per rated session, by date.

"Not applicable / not observed" is not a score: such an item is neither a strength nor a
development point, and takes no part in a mean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from session_rater.domain.rubric import Rubric

OVER_BY = 1
"""A self-assessment this many points above the treatment manager's score is a development point."""


@dataclass(frozen=True)
class ItemFeedback:
    item_id: str
    section: str
    title: str
    manager: int | None  # None: N/A or not scored
    manager_label: str  # the scale point's label, or the N/A label
    descriptor: str  # the behavioural anchor of the manager's score on this item ("" for N/A)
    self_score: int | None
    reference: float | None  # mean of the reference raters' scores

    @property
    def self_above_manager(self) -> bool:
        return self.manager is not None and self.self_score is not None and self.self_score - self.manager >= OVER_BY


@dataclass(frozen=True)
class DevelopmentPoint:
    item: ItemFeedback
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class EvidenceNote:
    """An evidence note a rater wrote, at its moment in the recording (None: no moment)."""

    item_id: str
    item_title: str
    who: str  # e.g. "Helen Price (treatment manager monitoring)"
    moment_seconds: float | None
    text: str


@dataclass(frozen=True)
class TrendPoint:
    """One of the tutor's rated sessions: the mean of the item scores of each capacity."""

    recording_id: int
    recorded_on: dt.date
    label: str
    manager_mean: float | None
    self_mean: float | None
    reference_mean: float | None
    is_this_session: bool


def item_feedback(
    rubric: Rubric,
    manager: Mapping[str, int | None],
    self_scores: Mapping[str, int | None],
    reference: Mapping[str, float],
) -> list[ItemFeedback]:
    """One row per item of ``rubric``, in the form's order. ``manager`` and ``self_scores``
    map item ids to a score (None: N/A); an item missing from a map was not scored."""
    rows = []
    for section in rubric.sections:
        for item in section.items:
            score = manager.get(item.id)
            label = rubric.point(score).label if score is not None else (
                rubric.not_applicable_label if item.id in manager else "not scored")  # fmt: skip
            rows.append(ItemFeedback(
                item.id, section.title, item.title, score, label,
                rubric.descriptor(item.id, score) if score is not None else "",
                self_scores.get(item.id), reference.get(item.id),
            ))  # fmt: skip
    return rows


def strengths(rows: Sequence[ItemFeedback], rubric: Rubric) -> list[ItemFeedback]:
    """Items the treatment manager scored at the top of the scale."""
    return [row for row in rows if row.manager == rubric.maximum]


def development_points(rows: Sequence[ItemFeedback], rubric: Rubric) -> list[DevelopmentPoint]:
    """Items scored below the middle of the scale, and items self-assessed a point or more above
    the treatment manager's score, each with why it was picked."""
    middle = (rubric.minimum + rubric.maximum) / 2
    points = []
    for row in rows:
        reasons = []
        if row.manager is not None and row.manager < middle:
            reasons.append(f"scored {row.manager} ({row.manager_label}), below the middle of the scale")
        if row.self_above_manager:
            gap = row.self_score - row.manager  # type: ignore[operator]
            reasons.append(f"self-assessed {row.self_score}, {gap} point{'s' if gap != 1 else ''} above the "
                           "treatment manager's score")  # fmt: skip
        if reasons:
            points.append(DevelopmentPoint(row, tuple(reasons)))
    return points


def mean_score(scores: Mapping[str, int | None] | Mapping[str, float]) -> float | None:
    """The mean of the scores given (N/A left out); None if there is none."""
    values = [float(v) for v in scores.values() if v is not None]
    return sum(values) / len(values) if values else None
