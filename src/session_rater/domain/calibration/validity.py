"""Validity sessions: benchmark sessions blended blind into a rater's live monitoring work.

A sampling policy sets a rate (about 1 in 10 of a treatment manager's monitoring assignments by
default). Nothing tells a validity session apart from live work until the rating is submitted;
then the rater sees the comparison with the master scores, as after calibration. A validity
session is never a session the rater delivered or has rated before.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np


def validity_sessions_due(*, monitoring_assignments: int, validity_assigned: int, rate: float,
                          candidates: Sequence[int], excluded: Collection[int],
                          rng: np.random.Generator) -> list[int]:  # fmt: skip
    """The benchmark recordings to add to a rater's work now: enough that validity sessions
    make up ``rate`` of their monitoring assignments (rounded down, so a rater with 9
    assignments at 1 in 10 has none yet), drawn at random from ``candidates`` less
    ``excluded`` (those the rater delivered or has rated) with the caller's generator."""
    if not 0 <= rate <= 1:
        raise ValueError(f"the validity rate is a share from 0 to 1, not {rate}")
    if monitoring_assignments < 0 or validity_assigned < 0:
        raise ValueError("assignment counts are 0 or more")
    due = math.floor(monitoring_assignments * rate + 1e-9) - validity_assigned
    pool = sorted(set(candidates) - set(excluded))
    if due <= 0 or not pool:
        return []
    picks = rng.choice(len(pool), size=min(due, len(pool)), replace=False)
    return [pool[i] for i in sorted(picks)]
