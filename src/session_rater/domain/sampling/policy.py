"""What a sampling policy is: its rules and their targets, the facts of sessions and people a
draw is made from, and the draw's result (every selection with its reason).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import overload

import numpy as np

from session_rater.domain.model import Capacity, Role

STRATA: tuple[str, ...] = ("area", "site", "programme", "group", "tutor", "session_number")
"""What a sample can be spread over (``stratify_by``)."""

CELL_KEYS: tuple[str, ...] = ("area", "site", "programme", "group")
"""What a target can be counted per (``per``)."""

DEFAULT_VALIDITY_RATE = 0.1
"""Validity sessions per monitoring assignment when a policy does not say (about 1 in 10)."""

NO_AREA = "(no area)"
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
INT64_SAFE = 2**62
FACT_FIELDS = ("recording_id", "programme", "group", "area", "site", "session_number", "recorded_on",
                "is_catch_up", "tutor_ids")  # fmt: skip


class Rule(StrEnum):
    """The rule that picked a session (stored with each assignment)."""

    MONITORING = "monitoring"
    CATCH_UP = "catch_up"
    EXTERNAL_AUDIT = "external_audit"

    @property
    def rater_role(self) -> Role:
        return RATER_ROLE[self]

    @property
    def capacity(self) -> Capacity:
        """The capacity in which the assigned rater rates the session."""
        return Capacity.EXTERNAL if self is Rule.EXTERNAL_AUDIT else Capacity.MONITORING

    @property
    def label(self) -> str:
        return {"monitoring": "monitoring", "catch_up": "catch-up", "external_audit": "external audit"}[self.value]


RATER_ROLE = {Rule.MONITORING: Role.TREATMENT_MANAGER, Rule.CATCH_UP: Role.TREATMENT_MANAGER,
               Rule.EXTERNAL_AUDIT: Role.EXTERNAL_ASSESSOR}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Inputs and outputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What the sampler needs to know of one recorded session."""

    recording_id: int
    programme: str
    group: str
    area: str | None
    site: str
    session_number: int
    recorded_on: dt.date
    is_catch_up: bool
    tutor_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """A person the sampler may name (tutors) or assign (raters).

    ``areas`` are the areas a rater covers; None means any area.
    """

    id: int
    name: str
    roles: frozenset[str] = frozenset()
    areas: frozenset[str] | None = None
    active: bool = True


def check_percent(value: float, what: str, *, allow_zero: bool) -> None:
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 100):
        bound = "from 0" if allow_zero else "above 0"
        raise ValueError(f"{what} must be a percentage {bound} up to 100, not {value!r}")


def check_names(values: Sequence[str], allowed: Sequence[str], what: str) -> None:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"{what}: unknown {', '.join(map(repr, unknown))}; expected some of {', '.join(allowed)}")
    if len(set(values)) != len(values):
        raise ValueError(f"{what}: each may be named only once, got {list(values)}")


@dataclass(frozen=True)
class MonitoringRule:
    percent: float = 10.0
    min_sessions_per_tutor: int = 1
    spread_session_numbers: bool = True
    include_catch_up: bool = False
    due_days_after_session: int = 28

    def __post_init__(self) -> None:
        check_percent(self.percent, "monitoring.percent", allow_zero=False)
        if self.min_sessions_per_tutor < 0 or self.due_days_after_session < 0:
            raise ValueError("monitoring: min_sessions_per_tutor and due_days_after_session must be 0 or more")


@dataclass(frozen=True)
class CatchUpRule:
    one_in: int = 7
    per: tuple[str, ...] = ("area", "programme")
    stratify_by: tuple[str, ...] = ("site", "tutor")
    due_days_after_session: int = 28

    def __post_init__(self) -> None:
        if self.one_in < 1 or self.due_days_after_session < 0:
            raise ValueError("catch_up: one_in must be 1 or more and due_days_after_session 0 or more")
        check_names(self.per, CELL_KEYS, "catch_up.per")
        check_names(self.stratify_by, STRATA, "catch_up.stratify_by")


@dataclass(frozen=True)
class ExternalAuditRule:
    sessions_per_area: int = 10
    stratify_by: tuple[str, ...] = ("site", "tutor")
    due_days_after_draw: int = 56

    def __post_init__(self) -> None:
        if self.sessions_per_area < 1 or self.due_days_after_draw < 0:
            raise ValueError("external_audit: sessions_per_area must be 1 or more and due_days_after_draw 0 or more")
        check_names(self.stratify_by, STRATA, "external_audit.stratify_by")


@dataclass(frozen=True)
class DoubleRatingRule:
    percent: float = 20.0
    of: tuple[Rule, ...] = (Rule.MONITORING, Rule.CATCH_UP)
    per: tuple[str, ...] = ("area",)

    def __post_init__(self) -> None:
        check_percent(self.percent, "double_rating.percent", allow_zero=True)
        check_names(self.per, CELL_KEYS, "double_rating.per")
        object.__setattr__(self, "of", tuple(Rule(r) for r in self.of))


@dataclass(frozen=True)
class SamplingPolicy:
    """A named, versioned set of sampling rules (a rule left as None is not applied).

    ``programmes``: the programmes the policy applies to (empty: every programme).
    ``min_notice_days``: a session drawn late is never due sooner than this after the draw.
    ``validity_rate``: validity sessions (master-scored benchmark sessions, blind) added to a
    treatment manager's work per monitoring assignment of theirs (0.1: about 1 in 10; 0: none).
    """

    name: str
    version: str
    title: str
    description: str = ""
    programmes: tuple[str, ...] = ()
    monitoring: MonitoringRule | None = None
    catch_up: CatchUpRule | None = None
    external_audit: ExternalAuditRule | None = None
    double_rating: DoubleRatingRule | None = None
    min_notice_days: int = 7
    validity_rate: float = DEFAULT_VALIDITY_RATE

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValueError(f"policy {self.name!r} has no rule: give at least one of {', '.join(Rule)}")
        if self.double_rating is not None:
            missing = [r for r in self.double_rating.of if r not in self.rules]
            if missing:
                raise ValueError(f"double_rating.of names {', '.join(missing)}, which the policy does not apply")
        if self.min_notice_days < 0:
            raise ValueError("min_notice_days must be 0 or more")
        if not 0 <= self.validity_rate <= 1:
            raise ValueError(f"validity_rate must be a share from 0 to 1 (0.1: 1 in 10), not {self.validity_rate!r}")

    @property
    def rules(self) -> tuple[Rule, ...]:
        present = {Rule.MONITORING: self.monitoring, Rule.CATCH_UP: self.catch_up,
                   Rule.EXTERNAL_AUDIT: self.external_audit}  # fmt: skip
        return tuple(rule for rule, config in present.items() if config is not None)

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


@dataclass(frozen=True, slots=True)
class Selection:
    """One session picked by one rule, with its rater(s) and due date."""

    recording_id: int
    rule: Rule
    reason: str
    rater_id: int | None
    second_rater_id: int | None = None
    due_on: dt.date | None = None


@dataclass(frozen=True)
class Draw:
    """The result of :func:`draw_sample`: what was picked now, on top of ``previous``."""

    policy_name: str
    policy_version: str
    seed: int
    drawn_on: dt.date
    selections: tuple[Selection, ...]
    previous: tuple[Selection, ...] = ()
    shortfalls: tuple[str, ...] = ()

    @property
    def all_selections(self) -> tuple[Selection, ...]:
        return self.previous + self.selections

    def of_rule(self, rule: Rule, *, include_previous: bool = True) -> list[Selection]:
        pool = self.all_selections if include_previous else self.selections
        return [s for s in pool if s.rule is rule]


@overload
def ceil_percent(percent: float, n: int) -> int: ...
@overload
def ceil_percent(percent: float, n: np.ndarray) -> np.ndarray: ...
def ceil_percent(percent: float, n: int | np.ndarray) -> int | np.ndarray:
    """``ceil(percent * n / 100)`` in exact arithmetic (10 % of 10 is 1, not 2)."""
    share = Fraction(str(percent)) / 100
    p, q = share.numerator, share.denominator
    return (np.asarray(n) * p + q - 1) // q if isinstance(n, np.ndarray) else -(-n * p // q)


# --------------------------------------------------------------------------------------------
# The roster as columns
# --------------------------------------------------------------------------------------------

