"""Certification: the rule (data, versioned), an attempt judged by it, and a rater's status.

By default (``calibration/default.yaml``) a rater is certified when, over a calibration round,
their scores agree with the master scores within one point on at least 80% of items and their
mean signed difference is at most 0.5 points either way; the certificate is valid for 12
months. The rule in force is kept with each attempt, so a later change of rule never re-judges
an earlier result.

A rater's status, from their attempts, the date and their drift chart:

* ``not_attempted``: no calibration round completed;
* ``not_certified``: the latest attempt did not meet its rule;
* ``certified``: the latest attempt met its rule and is still valid (``expiring_soon`` when it
  ends within the rule's warning period, 30 days by default);
* ``expired``: the latest attempt met its rule, but its validity has run out;
* ``recalibration_due``: certified, but drift against the master scores since the
  certification has passed the rule's limit (see :mod:`.drift`).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from session_rater.domain.calibration.drift import DriftChart
from session_rater.domain.calibration.figures import AgreementWithMaster

CALIBRATION_STATUSES = ("certified", "not_certified", "expired", "recalibration_due", "not_attempted")


@dataclass(frozen=True)
class CertificationRule:
    """When an attempt certifies a rater, and for how long."""

    id: str = "default"
    version: str = "1"
    within_one_min: float = 0.8
    abs_bias_max: float = 0.5
    valid_months: int = 12
    expiry_warning_days: int = 30
    drift_lambda: float = 0.2
    title: str = "Certification of raters against the benchmark"
    fingerprint: str = ""  # SHA-256 of the rule file it came from, kept with each attempt

    def __post_init__(self) -> None:
        if not 0 < self.within_one_min <= 1:
            raise ValueError(f"within_one_min is a share above 0 and at most 1, not {self.within_one_min}")
        if self.abs_bias_max < 0:
            raise ValueError(f"abs_bias_max is a number of points, 0 or more, not {self.abs_bias_max}")
        if self.valid_months < 1:
            raise ValueError(f"valid_months is at least 1, not {self.valid_months}")
        if self.expiry_warning_days < 0:
            raise ValueError(f"expiry_warning_days is 0 or more, not {self.expiry_warning_days}")
        if not 0 < self.drift_lambda <= 1:
            raise ValueError(f"drift_lambda is above 0 and at most 1, not {self.drift_lambda}")

    def passes(self, figures: AgreementWithMaster) -> bool:
        """Exact at the edges: 8 of 10 items within one point meets 80%; a mean difference of
        exactly 0.5 meets 0.5 (decimals from the rule file are taken as written)."""
        within = Fraction(figures.within_one_count, figures.n_items) >= Fraction(str(self.within_one_min))
        bias = abs(figures.difference_sum / figures.n_items) <= Fraction(str(self.abs_bias_max))
        return within and bias

    def valid_until(self, completed_on: dt.date) -> dt.date:
        """The last day a certificate earned on ``completed_on`` is valid (calendar months: a
        certificate of 31 January for one month runs to 28 or 29 February)."""
        months = completed_on.month - 1 + self.valid_months
        year, month = completed_on.year + months // 12, months % 12 + 1
        return dt.date(year, month, min(completed_on.day, calendar.monthrange(year, month)[1]))

    def describe(self) -> str:
        return (f"within one point on at least {self.within_one_min:.0%} of items and a mean difference of at most "
                f"{self.abs_bias_max:g} points either way; valid for {self.valid_months} months")  # fmt: skip


@dataclass(frozen=True)
class Attempt:
    """One completed calibration round of one rater, judged by the rule in force then."""

    rater_id: int
    completed_on: dt.date
    figures: AgreementWithMaster
    rule: CertificationRule

    @property
    def passed(self) -> bool:
        return self.rule.passes(self.figures)

    @property
    def certified_until(self) -> dt.date | None:
        return self.rule.valid_until(self.completed_on) if self.passed else None


@dataclass(frozen=True)
class RaterStatus:
    status: str
    latest: Attempt | None = None
    certified_until: dt.date | None = None
    expiring_soon: bool = False
    drift_since: dt.date | None = None

    def __post_init__(self) -> None:
        if self.status not in CALIBRATION_STATUSES:
            raise ValueError(f"unknown calibration status {self.status!r}")


def rater_status(attempts: Sequence[Attempt], *, today: dt.date, drift: DriftChart | None = None) -> RaterStatus:
    """The status of one rater from every attempt they made (each attempt is kept; the latest
    decides) and, if any, their drift chart against the master scores."""
    if not attempts:
        return RaterStatus("not_attempted")
    if len({a.rater_id for a in attempts}) > 1:
        raise ValueError("attempts of several raters given for one rater's status")
    latest = max(attempts, key=lambda a: a.completed_on)
    until = latest.certified_until
    if until is None:
        return RaterStatus("not_certified", latest)
    if today > until:
        return RaterStatus("expired", latest, certified_until=until)
    signal = drift.first_signal_after(latest.completed_on) if drift is not None else None
    if signal is not None:
        return RaterStatus("recalibration_due", latest, certified_until=until, drift_since=signal)
    soon = (until - today).days <= latest.rule.expiry_warning_days
    return RaterStatus("certified", latest, certified_until=until, expiring_soon=soon)
