"""The certification rule file (calibration/README.md): strict YAML, every problem of the
file reported at once as ``file: path.to.field: message (line N)`` (io.yaml_support)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from session_rater.domain.calibration import CertificationRule
from session_rater.errors import CertificationRuleError
from session_rater.io.yaml_support import YamlSchemaError, parse_yaml_model


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: StrictStr = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=100)
    version: StrictStr = Field(min_length=1, max_length=40)
    title: StrictStr = Field(min_length=1, max_length=500)
    within_one_min: StrictFloat = Field(gt=0, le=1)  # a strict float takes a whole number too (1)
    abs_bias_max: StrictFloat = Field(ge=0, le=10)
    valid_months: StrictInt = Field(ge=1, le=120)
    expiry_warning_days: StrictInt = Field(30, ge=0, le=365)
    drift_lambda: StrictFloat = Field(0.2, gt=0, le=1)


def parse_certification_rule(text: str, source: str) -> CertificationRule:
    """The rule in ``text`` (a file named ``source``), or a CertificationRuleError listing every problem."""
    try:
        model = parse_yaml_model(text, source, _Rule, what="certification rule", readme="calibration/README.md",
                                 keys="id, version, title, within_one_min, abs_bias_max and valid_months")  # fmt: skip
    except YamlSchemaError as exc:
        raise CertificationRuleError(source, exc.errors) from None
    return CertificationRule(
        id=model.id, version=model.version, title=model.title, within_one_min=float(model.within_one_min),
        abs_bias_max=float(model.abs_bias_max), valid_months=model.valid_months,
        expiry_warning_days=model.expiry_warning_days, drift_lambda=float(model.drift_lambda),
        fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def load_certification_rule(path: Path) -> CertificationRule:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CertificationRuleError(str(path), [f"{path}: cannot be read: {exc.strerror or exc}"]) from None
    return parse_certification_rule(text, Path(path).name)
