"""Sampling policy files: strict validation of policy YAML, and the inverse for draw snapshots.

A policy file is YAML (schema in ``policies/README.md``). :func:`parse_policy` checks an
already-parsed mapping in two passes, like the rubric files, and reports every problem of the
file at once in a :class:`PolicyError`, each as ``"{file}: {dotted.path}: {what is expected}"``:

1. pydantic models (``extra="forbid"``, strict types, bounds) check keys, types and ranges;
2. cross-field checks on the raw data: a stratum named twice, ``double_rating.of`` naming a
   rule the policy does not apply, a policy with no rule at all.

**The previous version stays in force.** Loading never raises for one broken file:
:func:`load_policy_dir` returns the valid policies and the broken files' errors side by side.
Pass the catalog in force as ``previous`` and every policy that came from a file that is now
broken is kept (and listed in :attr:`PolicyCatalog.kept`) instead of disappearing::

    catalog = load_policy_dir(directory)                      # at start-up
    ...                                                       # an administrator edits a file
    catalog = load_policy_dir(directory, previous=catalog)    # broken edit: old one still in force
    for name, error in catalog.errors.items(): show(error)

With no catalog in memory (the command line), the policy snapshot stored with the last draw
plays that part (see ``cli_sample``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
)

from session_rater.domain.sampling import (
    CELL_KEYS,
    DEFAULT_VALIDITY_RATE,
    STRATA,
    CatchUpRule,
    DoubleRatingRule,
    ExternalAuditRule,
    MonitoringRule,
    Rule,
    SamplingPolicy,
)
from session_rater.errors import NotFoundError, PolicyError
from session_rater.domain.versions import version_sort_key
from session_rater.io.yaml_support import (
    TOP_LEVEL,
    YamlInputError,
    basic_type_message,
    compose_within_limits,
    describe,
    line_of,
    load_yaml_text,
    read_yaml_file,
)

__all__ = [
    "POLICY_FILE_SUFFIXES",
    "PolicyCatalog",
    "PolicyError",
    "load_policy",
    "load_policy_dir",
    "parse_policy",
    "parse_policy_text",
    "policy_to_dict",
    "read_policy_text",
]

POLICY_FILE_SUFFIXES = (".yaml", ".yml")
_NAME = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_VERSION = r"^[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*$"
_TOP_LEVEL = TOP_LEVEL


# --------------------------------------------------------------------------------------------
# Pass 1: the schema
# --------------------------------------------------------------------------------------------


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


Text = Annotated[StrictStr, AfterValidator(_not_blank)]
Stratum = Literal["area", "site", "programme", "group", "tutor", "session_number"]
CellKey = Literal["area", "site", "programme", "group"]
RuleName = Literal["monitoring", "catch_up", "external_audit"]
Days = Annotated[int, Field(ge=0)]  # (a test checks these Literals against STRATA, CELL_KEYS and Rule)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _MonitoringModel(_Model):
    percent: Annotated[float, Field(gt=0, le=100)] = 10
    min_sessions_per_tutor: Annotated[int, Field(ge=0)] = 1
    spread_session_numbers: bool = True
    include_catch_up: bool = False
    due_days_after_session: Days = 28


class _CatchUpModel(_Model):
    one_in: Annotated[int, Field(ge=1)] = 7
    per: list[CellKey] = ["area", "programme"]
    stratify_by: list[Stratum] = ["site", "tutor"]
    due_days_after_session: Days = 28


class _ExternalAuditModel(_Model):
    sessions_per_area: Annotated[int, Field(ge=1)] = 10
    stratify_by: list[Stratum] = ["site", "tutor"]
    due_days_after_draw: Days = 56


class _DoubleRatingModel(_Model):
    percent: Annotated[float, Field(ge=0, le=100)] = 20
    of: list[RuleName] = ["monitoring", "catch_up"]
    per: list[CellKey] = ["area"]


class _PolicyModel(_Model):
    name: Annotated[StrictStr, Field(pattern=_NAME)]
    version: Annotated[StrictStr, Field(pattern=_VERSION)]
    title: Text
    description: Text | None = None
    programmes: list[Text] = []
    min_notice_days: Days = 7
    validity_rate: Annotated[float, Field(ge=0, le=1)] = DEFAULT_VALIDITY_RATE
    monitoring: _MonitoringModel | None = None
    catch_up: _CatchUpModel | None = None
    external_audit: _ExternalAuditModel | None = None
    double_rating: _DoubleRatingModel | None = None


_MODEL_UNDER: dict[str | None, type[_Model]] = {
    None: _PolicyModel,
    "monitoring": _MonitoringModel,
    "catch_up": _CatchUpModel,
    "external_audit": _ExternalAuditModel,
    "double_rating": _DoubleRatingModel,
}
_CHOICES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "stratify_by": ("stratum", "strata", STRATA),
    "per": ("grouping", "groupings", CELL_KEYS),
    "of": ("rule", "rules", tuple(Rule)),
}
_HINTS: dict[str, str] = {
    "name": "lowercase letters, digits and single hyphens, e.g. default or think-first-audit",
    "version": 'a quoted version such as "1.0"',
    "title": "a short title (text)",
}
_VALIDITY_RATE_HINT = (
    "must be a share from 0 to 1 of a treatment manager's monitoring assignments, written as a decimal: "
    "validity_rate: 0.1 adds about 1 validity session per 10 monitoring assignments (the default), "
    "validity_rate: 0 adds none"
)


def _dotted(loc: Sequence[object]) -> str:
    return ".".join(str(part) for part in loc) if loc else _TOP_LEVEL


def _model_at(loc: Sequence[object]) -> type[_Model]:
    names = [part for part in loc if isinstance(part, str)]
    return _MODEL_UNDER.get(names[-1] if names else None, _PolicyModel)


def _unknown(value: str, allowed: Sequence[str], what: str, plural: str) -> str:
    message = f"unknown {what} {value!r}"
    close = difflib.get_close_matches(value, list(allowed), n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return f"{message}; allowed {plural} are: {', '.join(allowed)}"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _message(error: Mapping[str, Any]) -> str:
    kind: str = error["type"]
    loc = tuple(error["loc"])
    value = error.get("input")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    field_name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    got = describe(value)
    if field_name == "validity_rate" and kind != "missing":
        return f"{_VALIDITY_RATE_HINT}; got {got}"
    if kind == "extra_forbidden":
        return _unknown(str(loc[-1]), list(_model_at(loc[:-1]).model_fields), "key", "keys")
    if kind == "missing":
        return f"required field is missing; expected {_HINTS.get(field_name, 'a value')}"
    if kind == "literal_error" and field_name in _CHOICES:
        what, plural, allowed = _CHOICES[field_name]
        return _unknown(str(value), allowed, what, plural) if isinstance(value, str) else f"must be a {what} name, not {got}"
    if field_name == "percent" and kind in {"greater_than", "greater_than_equal", "less_than_equal"}:
        low = "above 0" if _model_at(loc[:-1]) is _MonitoringModel else "from 0"
        return f"must be a percentage {low} up to 100, not {got}"
    if kind == "greater_than_equal":
        return f"must be a whole number of at least {_number(ctx['ge'])}, not {got}"
    if (basic := basic_type_message(kind, field_name, value)) is not None:
        return basic
    if kind == "float_type":
        return f"must be a number, not {got}"
    if kind == "list_type":
        return f"must be a list (e.g. [site, tutor]), not {got}"
    if kind == "string_pattern_mismatch":
        return f"must be {_HINTS.get(field_name, 'text of letters and digits')}; got {got}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def _schema_errors(data: object) -> list[tuple[str, str]]:
    try:
        _PolicyModel.model_validate(data)
    except ValidationError as exc:
        return [(_dotted(e["loc"]), _message(e)) for e in exc.errors(include_url=False)]
    return []


# --------------------------------------------------------------------------------------------
# Pass 2: cross-field checks, on the raw data
# --------------------------------------------------------------------------------------------


def _cross_field_errors(data: object) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return []
    errors: list[tuple[str, str]] = []
    for rule in ("catch_up", "external_audit", "double_rating"):
        section = data.get(rule)
        if not isinstance(section, dict):
            continue
        for key in ("per", "stratify_by", "of"):
            values = section.get(key)
            if not isinstance(values, list):
                continue
            seen: dict[object, int] = {}
            for index, value in enumerate(values):
                if isinstance(value, str) and value in seen:
                    errors.append((f"{rule}.{key}.{index}", f"{value!r} is already listed (as {rule}.{key}.{seen[value]})"))
                elif isinstance(value, str):
                    seen[value] = index
    present = [r.value for r in Rule if data.get(r.value) is not None]
    if not present:
        errors.append((_TOP_LEVEL, f"a policy needs at least one rule: {', '.join(Rule)}"))
    double = data.get("double_rating")
    if isinstance(double, dict):
        of = double.get("of", ["monitoring", "catch_up"])
        for index, value in enumerate(of if isinstance(of, list) else []):
            if value in set(Rule) and value not in present:
                errors.append(
                    (f"double_rating.of.{index}", f"rule {value!r} is not in this policy; add a {value}: section or remove it here")
                )
    return errors


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

_FIELD_ORDER = ("name", "version", "title", "description", "programmes", "min_notice_days", "validity_rate", *Rule,
                "double_rating")  # fmt: skip


def _sort_key(path: str) -> tuple[tuple[int, int, str], ...]:
    key = []
    for part in path.split("."):
        if part.isdigit():
            key.append((0, int(part), ""))
        elif part in _FIELD_ORDER:
            key.append((1, _FIELD_ORDER.index(part), ""))
        else:
            key.append((2, 0, part))
    return tuple(key)


def parse_policy(data: object, source: str, *, tree: yaml.Node | None = None) -> SamplingPolicy:
    """Validate an already-parsed policy mapping and build the domain :class:`SamplingPolicy`.

    Raises :class:`PolicyError` listing every problem, each as ``"{source}: {path}: {message}"``;
    given the YAML node ``tree`` the mapping came from, each ends with ``(line N)`` of the file.
    """
    if data is None:
        raise PolicyError(source, [(f"{source}: {_TOP_LEVEL}: the file is empty; a policy is a YAML mapping "
                                    "with name, version, title and at least one rule (see policies/README.md)")])
    if not isinstance(data, dict):
        raise PolicyError(source, [(f"{source}: {_TOP_LEVEL}: must be a mapping (key: value pairs such as "
                                    f"'name: default'), not {describe(data)}")])
    problems: list[tuple[str, str]] = []
    for problem in _schema_errors(data) + _cross_field_errors(data):
        if problem not in problems:
            problems.append(problem)
    problems.sort(key=lambda p: _sort_key(p[0]))
    if problems:
        raise PolicyError(source, [f"{source}: {path}: {message}{_at_line(tree, path)}" for path, message in problems])
    model = _PolicyModel.model_validate(data)
    return _to_domain(model)


def _at_line(tree: yaml.Node | None, path: str) -> str:
    line = line_of(tree, path) if path != _TOP_LEVEL else None
    return "" if line is None else f" (line {line})"


def _to_domain(model: _PolicyModel) -> SamplingPolicy:
    m, c, a, d = model.monitoring, model.catch_up, model.external_audit, model.double_rating
    return SamplingPolicy(
        name=model.name,
        version=model.version,
        title=model.title,
        description=model.description or "",
        programmes=tuple(model.programmes),
        min_notice_days=model.min_notice_days,
        validity_rate=model.validity_rate,
        monitoring=None if m is None else MonitoringRule(
            percent=m.percent, min_sessions_per_tutor=m.min_sessions_per_tutor,
            spread_session_numbers=m.spread_session_numbers, include_catch_up=m.include_catch_up,
            due_days_after_session=m.due_days_after_session,
        ),
        catch_up=None if c is None else CatchUpRule(
            one_in=c.one_in, per=tuple(c.per), stratify_by=tuple(c.stratify_by),
            due_days_after_session=c.due_days_after_session,
        ),
        external_audit=None if a is None else ExternalAuditRule(
            sessions_per_area=a.sessions_per_area, stratify_by=tuple(a.stratify_by),
            due_days_after_draw=a.due_days_after_draw,
        ),
        double_rating=None if d is None else DoubleRatingRule(
            percent=d.percent, of=tuple(Rule(r) for r in d.of), per=tuple(d.per)
        ),
    )  # fmt: skip


def policy_to_dict(policy: SamplingPolicy) -> dict[str, Any]:
    """The policy as plain data in the file schema (every default spelled out), for the snapshot
    stored with each draw: ``parse_policy(policy_to_dict(p), s) == p``."""
    result: dict[str, Any] = {"name": policy.name, "version": policy.version, "title": policy.title}
    if policy.description:
        result["description"] = policy.description
    result["programmes"] = list(policy.programmes)
    result["min_notice_days"] = policy.min_notice_days
    result["validity_rate"] = policy.validity_rate
    if policy.monitoring is not None:
        result["monitoring"] = {
            "percent": policy.monitoring.percent,
            "min_sessions_per_tutor": policy.monitoring.min_sessions_per_tutor,
            "spread_session_numbers": policy.monitoring.spread_session_numbers,
            "include_catch_up": policy.monitoring.include_catch_up,
            "due_days_after_session": policy.monitoring.due_days_after_session,
        }
    if policy.catch_up is not None:
        result["catch_up"] = {
            "one_in": policy.catch_up.one_in,
            "per": list(policy.catch_up.per),
            "stratify_by": list(policy.catch_up.stratify_by),
            "due_days_after_session": policy.catch_up.due_days_after_session,
        }
    if policy.external_audit is not None:
        result["external_audit"] = {
            "sessions_per_area": policy.external_audit.sessions_per_area,
            "stratify_by": list(policy.external_audit.stratify_by),
            "due_days_after_draw": policy.external_audit.due_days_after_draw,
        }
    if policy.double_rating is not None:
        result["double_rating"] = {
            "percent": policy.double_rating.percent,
            "of": [r.value for r in policy.double_rating.of],
            "per": list(policy.double_rating.per),
        }
    return result


def parse_policy_text(text: str, source: str) -> SamplingPolicy:
    """Validate policy YAML text (e.g. edited in the app before it is saved), within the size
    limits of :mod:`~session_rater.io.yaml_support`."""
    try:
        data = load_yaml_text(text, source, "policy file")
    except YamlInputError as exc:
        raise PolicyError(source, [str(exc)]) from None
    return parse_policy(data, source, tree=compose_within_limits(text) if isinstance(data, dict) else None)


def load_policy(path: Path) -> SamplingPolicy:
    """Read and validate one policy file. Every problem becomes a :class:`PolicyError`."""
    return parse_policy_text(read_policy_text(path), Path(path).name)


def read_policy_text(path: Path) -> str:
    """The text of one policy file as written (e.g. to edit it). A :class:`PolicyError` when it
    cannot be read, is over the size limit of :mod:`~session_rater.io.yaml_support` or is not
    UTF-8 text."""
    path = Path(path)
    source = path.name
    try:
        raw = read_yaml_file(path, source, "policy file")
    except YamlInputError as exc:
        raise PolicyError(source, [str(exc)]) from None
    except OSError as exc:
        raise PolicyError(source, [f"{source}: {_TOP_LEVEL}: cannot read {path} ({exc.strerror or exc})"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyError(source, [f"{source}: line {line}: the file is not UTF-8 text; save it as UTF-8"]) from None
    return text


@dataclass(frozen=True)
class PolicyCatalog:
    """The policies in force by (name, version), the file each came from, and broken files.

    ``kept``: policies still in force from an earlier load because their file is now broken.
    """

    policies: Mapping[tuple[str, str], SamplingPolicy]
    origins: Mapping[tuple[str, str], str]
    errors: Mapping[str, PolicyError]
    kept: frozenset[tuple[str, str]] = field(default=frozenset())

    def names(self) -> list[str]:
        return sorted({name for name, _ in self.policies})

    def versions(self, name: str) -> list[SamplingPolicy]:
        """Every version of ``name`` in force, oldest first."""
        found = [p for (n, _), p in self.policies.items() if n == name]
        return sorted(found, key=lambda p: (version_sort_key(p.version), p.version))

    def latest(self, name: str) -> SamplingPolicy:
        """The highest version of ``name``; :class:`NotFoundError` if there is none."""
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none"
            broken = f"; broken file(s): {', '.join(sorted(self.errors))}" if self.errors else ""
            raise NotFoundError(f"no sampling policy named {name!r} is loaded (loaded: {known}{broken})")
        return versions[-1]


def load_policy_dir(directory: Path, *, previous: PolicyCatalog | None = None) -> PolicyCatalog:
    """Load every ``*.yaml``/``*.yml`` file of ``directory`` (not hidden files).

    A broken file lands in ``errors`` and the others still load. A file declaring a (name,
    version) that an earlier file (in name order) declared is an error. With ``previous``,
    the policies that came from a file that is now broken stay in force.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise PolicyError(str(directory), [(f"{directory}: {_TOP_LEVEL}: policy directory not found; create it "
                                            "or set SESSION_RATER_POLICIES_DIR to the folder of policy files")])
    policies: dict[tuple[str, str], SamplingPolicy] = {}
    origins: dict[tuple[str, str], str] = {}
    errors: dict[str, PolicyError] = {}
    paths = sorted(
        p for p in directory.iterdir() if p.suffix in POLICY_FILE_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )
    for path in paths:
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            errors[path.name] = exc
            continue
        key = (policy.name, policy.version)
        if key in policies:
            errors[path.name] = PolicyError(path.name, [(
                f"{path.name}: version: policy {policy.name!r} version {policy.version!r} is already defined by "
                f"{origins[key]}; bump the version in one of them or remove the copy"
            )])  # fmt: skip
            continue
        policies[key] = policy
        origins[key] = path.name
    kept: set[tuple[str, str]] = set()
    if previous is not None:
        for key, origin in previous.origins.items():
            if origin in errors and key not in policies:
                policies[key] = previous.policies[key]
                origins[key] = origin
                kept.add(key)
    return PolicyCatalog(policies=policies, origins=origins, errors=errors, kept=frozenset(kept))

