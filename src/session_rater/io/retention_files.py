"""The retention policy file (retention/README.md): strict YAML, every problem of the file
reported at once as ``file: path.to.field: message (line N)`` (io.yaml_support)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from session_rater.domain.retention import Period, RetentionPolicy
from session_rater.errors import RetentionPolicyError
from session_rater.io.yaml_support import YamlSchemaError, parse_yaml_model


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


def parse_retention_policy(text: str, source: str) -> RetentionPolicy:
    try:
        model = parse_yaml_model(text, source, _Policy, what="retention policy", readme="retention/README.md",
                                 keys="id, version, title and keep_after_session")  # fmt: skip
    except YamlSchemaError as exc:
        raise RetentionPolicyError(source, exc.errors) from None
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
