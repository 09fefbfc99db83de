"""Capacities, rating states and the long-format score record that analysis works on."""

from __future__ import annotations

import math

from dataclasses import dataclass
from enum import StrEnum

MAX_SEED = 2**63 - 1
"""The largest seed of a draw or a bootstrap: seeds are stored as signed 64-bit integers."""


class Role(StrEnum):
    """What a person may do. A person may hold several roles."""

    TUTOR = "tutor"
    TREATMENT_MANAGER = "treatment_manager"
    EXTERNAL_ASSESSOR = "external_assessor"
    PROGRAMME_MANAGER = "programme_manager"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Capacity(StrEnum):
    """In which capacity a rating was made. Stored with every rating."""

    SELF_ASSESSMENT = "self_assessment"  # a tutor on their own delivery (integrity checklist)
    MONITORING = "monitoring"  # a treatment manager's video monitoring
    EXTERNAL = "external"  # an external assessor / audit team
    BENCHMARK = "benchmark"  # an agreed master score

    @property
    def label(self) -> str:
        return _CAPACITY_LABELS[self]

    @property
    def rater_role(self) -> str:
        """The ``rater_role`` column of the export format."""
        return _RATER_ROLES[self]

    @classmethod
    def from_rater_role(cls, rater_role: str) -> Capacity:
        for capacity, role in _RATER_ROLES.items():
            if role == rater_role:
                return capacity
        raise ValueError(
            f"unknown rater_role {rater_role!r}; expected one of {', '.join(_RATER_ROLES.values())}"
        )


_CAPACITY_LABELS = {
    Capacity.SELF_ASSESSMENT: "Tutor self-assessment",
    Capacity.MONITORING: "Treatment manager monitoring",
    Capacity.EXTERNAL: "External assessment",
    Capacity.BENCHMARK: "Benchmark",
}
_RATER_ROLES = {
    Capacity.SELF_ASSESSMENT: "tutor",
    Capacity.MONITORING: "treatment_manager",
    Capacity.EXTERNAL: "external_assessor",
    Capacity.BENCHMARK: "benchmark",
}


class RatingStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


@dataclass(frozen=True)
class ScoreRecord:
    """One submitted item score in long format: the unit of every comparison.

    ``score`` is None for "not applicable / not observed".
    """

    session_id: int
    tutor_id: int | None
    rater_id: int
    capacity: Capacity
    item_id: str
    score: int | None


def format_moment(seconds: float | None) -> str:
    """12.4 -> '0:12', 3725 -> '1:02:05'. None -> ''."""
    if seconds is None:
        return ""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def check_moment_within(seconds: float | None, duration_seconds: float | None) -> None:
    """A moment must lie within the recording (when its length is known from the probe).

    Raises ValueError saying the recording's length. The last partial second counts as in it
    (a 36.4 s recording accepts 0:36)."""
    if seconds is None or duration_seconds is None or duration_seconds <= 0:
        return
    if seconds > math.ceil(duration_seconds):
        raise ValueError(
            f"{format_moment(seconds)} is after the end of the recording, which is "
            f"{format_moment(math.ceil(duration_seconds))} long: give a moment from 0:00 to that"
        )


def parse_moment(text: str) -> float | None:
    """Parse a moment in the recording: '75', '1:15', '1:02:05' or '' (no moment).

    Raises ValueError with a message a rater understands.
    """
    text = text.strip()
    if not text:
        return None
    parts = text.split(":")
    if len(parts) > 3 or not all(p.strip().replace(".", "", 1).isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a time: write seconds (75), m:ss (1:15) or h:mm:ss (1:02:05)")
    value = 0.0
    for part in parts:
        value = value * 60 + float(part)
    if len(parts) > 1 and any(float(p) >= 60 for p in parts[1:]):
        raise ValueError(f"{text!r}: minutes and seconds must be below 60")
    return value
