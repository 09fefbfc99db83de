"""The retention policy file (retention/README.md): strict YAML, every problem of the file
reported at once as ``file: path.to.field: message``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from session_rater.domain.retention import Period, RetentionPolicy
from session_rater.errors import RetentionPolicyError
from session_rater.io.yaml_support import TOP_LEVEL, StrictLoader, basic_type_message, describe, yaml_error_message


class _Period(BaseModel):
    model_config = ConfigDict(extra="forbid")
    years: StrictInt = Field(0, ge=0, le=100)
    months: StrictInt = Field(0, ge=0, le=1200)
    days: StrictInt = Field(0, ge=0, le=36500)


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: StrictStr = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=100)
    version: StrictStr = Field(min_length=1, max_length=40)
    title: StrictStr = Field(min_length=1)
    keep_after_session: _Period
    keep_while_audit_open: StrictBool = True


def _message(error: dict) -> str:  # type: ignore[type-arg]
    field = str(error["loc"][-1]) if error["loc"] else ""
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a key of a retention policy (see retention/README.md)"
    return basic_type_message(error["type"], field, error.get("input")) or error["msg"]


def parse_retention_policy(text: str, source: str) -> RetentionPolicy:
    try:
        data = yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise RetentionPolicyError(source, [yaml_error_message(source, exc)]) from None
    if not isinstance(data, dict):
        raise RetentionPolicyError(source, [f"{source}: {TOP_LEVEL}: must be a mapping with id, version, title and "
                                            f"keep_after_session, not {describe(data)}"])  # fmt: skip
    try:
        model = _Policy.model_validate(data)
    except ValidationError as exc:
        raise RetentionPolicyError(source, [
            f"{source}: {'.'.join(str(p) for p in e['loc']) or TOP_LEVEL}: {_message(e)}"  # type: ignore[arg-type]
            for e in exc.errors(include_url=False)
        ]) from None  # fmt: skip
    period = model.keep_after_session
    try:
        keep = Period(period.years, period.months, period.days)
    except ValueError as exc:
        raise RetentionPolicyError(source, [f"{source}: keep_after_session: {exc}"]) from None
    return RetentionPolicy(id=model.id, version=model.version, title=model.title, keep_after_session=keep,
                           keep_while_audit_open=model.keep_while_audit_open,
                           fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest())  # fmt: skip


def load_retention_policy(path: Path) -> RetentionPolicy:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RetentionPolicyError(str(path), [f"{path}: cannot be read: {exc.strerror or exc}"]) from None
    return parse_retention_policy(text, Path(path).name)
