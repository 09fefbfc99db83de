"""The certification rule in force (the file SESSION_RATER_CERTIFICATION_RULE names), and the
rule and figures as stored with each attempt, so that an attempt is judged by the rule it was
judged by then."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from session_rater.domain.calibration import AgreementWithMaster, Attempt, CertificationRule
from session_rater.domain.calibration.records import AttemptRecord
from session_rater.io.calibration_files import load_certification_rule
from session_rater.usecases.services import Services


def rule_in_force(svc: Services) -> CertificationRule:
    """The certification rule file named by SESSION_RATER_CERTIFICATION_RULE."""
    return load_certification_rule(svc.settings.certification_rule)


def rule_as_stored(rule: CertificationRule) -> dict[str, Any]:
    return dataclasses.asdict(rule)


def rule_from_stored(stored: Mapping[str, Any]) -> CertificationRule:
    names = {f.name for f in dataclasses.fields(CertificationRule)}
    return CertificationRule(**{k: v for k, v in stored.items() if k in names})


def stored_attempt(record: AttemptRecord) -> Attempt:
    figures = AgreementWithMaster(record.n_items, record.exact_count, record.within_one_count,
                                  Fraction(record.difference_sum))  # fmt: skip
    return Attempt(record.rater_id, record.completed_on, figures, rule_from_stored(record.rule))
