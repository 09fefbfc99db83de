"""The certification rule file (calibration/README.md): the shipped rule is the issue's
default, and a malformed file says every problem at once, where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from session_rater.domain.calibration import CertificationRule
from session_rater.errors import CertificationRuleError
from session_rater.io.calibration_files import load_certification_rule, parse_certification_rule
from session_rater.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "calibration" / "default.yaml"


def test_the_shipped_rule_is_80_percent_within_one_point_half_a_point_of_bias_for_12_months():
    rule = load_certification_rule(SHIPPED)
    assert (rule.within_one_min, rule.abs_bias_max, rule.valid_months, rule.expiry_warning_days) == (0.8, 0.5, 12, 30)
    assert (rule.id, rule.version) == ("certification", "1") and len(rule.fingerprint) == 64
    defaults = CertificationRule()
    assert (defaults.within_one_min, defaults.abs_bias_max, defaults.valid_months) == (0.8, 0.5, 12)


def test_every_problem_of_a_malformed_rule_is_listed_with_its_key():
    text = "id: certification\nversion: 2\ntitle: x\nwithin_one_min: 1.5\nabs_bias_max: half\nvalid_monts: 12\n"
    with pytest.raises(CertificationRuleError) as caught:
        parse_certification_rule(text, "rule.yaml")
    message = str(caught.value)
    for expected in ("rule.yaml: version:", "rule.yaml: within_one_min:", "rule.yaml: abs_bias_max:",
                     "rule.yaml: valid_months: is required", "rule.yaml: valid_monts: is not a key"):  # fmt: skip
        assert expected in message, message


def test_a_rule_that_is_not_yaml_or_not_a_mapping_or_missing_says_so(tmp_path: Path):
    with pytest.raises(CertificationRuleError, match="rule.yaml"):
        parse_certification_rule("id: [unclosed\n", "rule.yaml")
    with pytest.raises(CertificationRuleError, match="must be a mapping"):
        parse_certification_rule("- 1\n", "rule.yaml")
    with pytest.raises(CertificationRuleError, match="cannot be read"):
        load_certification_rule(tmp_path / "absent.yaml")
