"""Drift: a rater's signed difference from master scores over time, on an EWMA chart.

Each point is one benchmark session the rater scored (a calibration or a blind validity
session): the mean of rater minus master over its items. The exponentially weighted moving
average (Roberts, S. W. (1959). Control chart tests based on geometric moving averages.
*Technometrics*, 1(3), 239-250; Montgomery, D. C. (2019). *Introduction to Statistical Quality
Control*, 8th ed., section 9.2)

    z_i = lambda * x_i + (1 - lambda) * z_(i-1),   z_0 = 0 (the target: no bias)

weights recent sessions more (lambda = 0.2 by default, Montgomery's usual choice for small
shifts) and smooths one odd session away. The chart signals when ``z_i`` leaves the band of
plus or minus the certification rule's bias limit (0.5 points by default): the rater's recent
scoring has moved as far from the benchmark as the rule allows for certification. The limits
are the rule's, not 3-sigma limits, because a rater has only a handful of benchmark sessions a
year, too few to estimate their own variability; the method and the limit are stated with
every chart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DriftPoint:
    on: dt.date
    difference: float  # this session: rater minus master, mean over its items
    ewma: float
    outside: bool


@dataclass(frozen=True)
class DriftChart:
    lam: float
    limit: float
    points: tuple[DriftPoint, ...]

    @property
    def method(self) -> str:
        return (f"EWMA of each session's mean difference from the master scores (lambda = {self.lam:g}, "
                f"starting at 0), limits plus or minus {self.limit:g} points (the certification rule's)")  # fmt: skip

    @property
    def first_signal(self) -> dt.date | None:
        return next((p.on for p in self.points if p.outside), None)

    def first_signal_after(self, day: dt.date) -> dt.date | None:
        """The first session after ``day`` (a certification) at which the chart is outside its limits."""
        return next((p.on for p in self.points if p.outside and p.on > day), None)


def ewma_chart(sessions: Sequence[tuple[dt.date, float]], *, limit: float, lam: float = 0.2) -> DriftChart:
    """The EWMA chart of ``sessions`` (date, mean signed difference), taken in date order."""
    if not 0 < lam <= 1:
        raise ValueError(f"lambda is above 0 and at most 1, not {lam}")
    if limit < 0:
        raise ValueError(f"the limit is a number of points, 0 or more, not {limit}")
    z = 0.0
    points = []
    for on, x in sorted(sessions, key=lambda s: s[0]):
        z = lam * x + (1 - lam) * z
        points.append(DriftPoint(on, x, z, abs(z) > limit))
    return DriftChart(lam, limit, tuple(points))
