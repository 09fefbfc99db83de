"""The certification rule file (calibration/README.md): strict YAML, every problem of the
file reported at once as ``file: path.to.field: message``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError

from session_rater.domain.calibration import CertificationRule
from session_rater.errors import CertificationRuleError
from session_rater.io.yaml_support import (
    MAX_YAML_BYTES,
    TOP_LEVEL,
    StrictLoader,
    basic_type_message,
    describe,
    size_message,
    utf8_size,
    yaml_error_message,
)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: StrictStr = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=100)
    version: StrictStr = Field(min_length=1, max_length=40)
    title: StrictStr = Field(min_length=1, max_length=500)
    within_one_min: StrictFloat | StrictInt = Field(gt=0, le=1)
    abs_bias_max: StrictFloat | StrictInt = Field(ge=0, le=10)
    valid_months: StrictInt = Field(ge=1, le=120)
    expiry_warning_days: StrictInt = Field(30, ge=0, le=365)
    drift_lambda: StrictFloat | StrictInt = Field(0.2, gt=0, le=1)


def _message(error: dict) -> str:  # type: ignore[type-arg]
    field = str(error["loc"][-1]) if error["loc"] else ""
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a key of a certification rule (see calibration/README.md)"
    return basic_type_message(error["type"], field, error.get("input")) or error["msg"]


def parse_certification_rule(text: str, source: str) -> CertificationRule:
    """The rule in ``text`` (a file named ``source``), or a CertificationRuleError listing every problem."""
    size = utf8_size(text)
    if size > MAX_YAML_BYTES:
        raise CertificationRuleError(source, [size_message(source, size, "certification rule")])
    try:
        data = yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CertificationRuleError(source, [yaml_error_message(source, exc)]) from None
    if not isinstance(data, dict):
        raise CertificationRuleError(source, [f"{source}: {TOP_LEVEL}: must be a mapping with id, version, title, "
                                              f"within_one_min, abs_bias_max and valid_months, not {describe(data)}"])  # fmt: skip
    try:
        model = _Rule.model_validate(data)
    except ValidationError as exc:
        raise CertificationRuleError(source, [
            f"{source}: {'.'.join(str(p) for p in e['loc'][:1]) or TOP_LEVEL}: {_message(e)}"  # type: ignore[arg-type]
            for e in exc.errors(include_url=False)
        ]) from None  # fmt: skip
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
