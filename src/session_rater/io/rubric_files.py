"""Rubric files: strict validation of rubric YAML, and the inverse for database snapshots.

A rubric file is YAML (schema documented in ``rubrics/README.md``). :func:`parse_rubric`
validates an already-parsed mapping in two passes and reports every problem of the file in a
single :class:`~session_rater.errors.RubricError`:

1. pydantic models (``extra="forbid"``, strict types) check keys and types;
2. cross-field checks on the raw data check what one field cannot check alone: unique ids,
   a contiguous ascending scale, item descriptors only for points on the scale.

Every message reads ``"{file}: {dotted.path}: {what is expected}"``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
)

from session_rater.domain.rubric import (  # the writers are the domain's, shared with storage
    DEFAULT_NOT_APPLICABLE_LABEL,
    Item,
    RatedUnit,
    Rubric,
    ScalePoint,
    Section,
    rubric_fingerprint,
    rubric_to_dict,
)
from session_rater.domain.versions import version_sort_key
from session_rater.errors import NotFoundError, RubricError
from session_rater.io.yaml_support import (
    TOP_LEVEL,
    YamlInputError,
    basic_type_message,
    describe,
    load_yaml_text,
    read_yaml_file,
)

__all__ = [
    "DEFAULT_NOT_APPLICABLE_LABEL",
    "RubricCatalog",
    "load_rubric",
    "load_rubric_dir",
    "parse_rubric",
    "rubric_fingerprint",
    "rubric_to_dict",
    "version_sort_key",
]

RUBRIC_FILE_SUFFIXES = (".yaml", ".yml")

_RUBRIC_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_PART_ID = r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$"
_VERSION = r"^[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*$"
_INTEGER_TEXT = re.compile(r"^-?[0-9]+$")
_TOP_LEVEL = TOP_LEVEL


# --------------------------------------------------------------------------------------------
# Pass 1: the schema, as strict pydantic models
# --------------------------------------------------------------------------------------------


_EMPTY = "must not be empty"


def _not_blank(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise ValueError(_EMPTY)
    return stripped


def _point_value_key(key: object) -> int:
    """Descriptor keys are point values: YAML gives ints, a JSON snapshot gives digit strings."""
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and _INTEGER_TEXT.match(key.strip()):
        return int(key)
    raise ValueError(
        f"descriptor keys must be scale point values (whole numbers, e.g. 2:), not {describe(key)}"
    )


Text = Annotated[StrictStr, AfterValidator(_not_blank)]
PointValueKey = Annotated[int, BeforeValidator(_point_value_key)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _ScalePointModel(_Model):
    value: int
    label: Text
    descriptor: Text


class _ScaleModel(_Model):
    points: list[_ScalePointModel] = Field(min_length=2)


class _NotApplicableModel(_Model):
    allowed: bool
    label: Text | None = None


class _ItemModel(_Model):
    id: Annotated[StrictStr, Field(pattern=_PART_ID)]
    title: Text
    guidance: Text | None = None
    descriptors: dict[PointValueKey, Text] | None = None


class _SectionModel(_Model):
    id: Annotated[StrictStr, Field(pattern=_PART_ID)]
    title: Text
    description: Text | None = None
    items: list[_ItemModel] = Field(min_length=1)


class _RubricModel(_Model):
    id: Annotated[StrictStr, Field(pattern=_RUBRIC_ID)]
    version: Annotated[StrictStr, Field(pattern=_VERSION)]
    title: Text
    description: Text
    rated_unit: Literal["tutor", "session"]
    scale: _ScaleModel
    not_applicable: _NotApplicableModel
    sections: list[_SectionModel] = Field(min_length=1)


# The model found under a key (the last named element of an error's location).
_MODEL_UNDER: dict[str | None, type[_Model]] = {
    None: _RubricModel,
    "scale": _ScaleModel,
    "points": _ScalePointModel,
    "not_applicable": _NotApplicableModel,
    "sections": _SectionModel,
    "items": _ItemModel,
}

_PATTERN_HINTS: dict[str, str] = {
    _RUBRIC_ID: "lowercase letters, digits and single hyphens, e.g. think-first-video-monitoring",
    _PART_ID: "lowercase letters and digits joined by single dots or hyphens, "
    "e.g. manual.order or style.open-questions",
    _VERSION: 'letters and digits joined by dots or hyphens, e.g. "1.0" or "2.1-draft"',
}

# What each field expects, for "required field is missing; expected ...".
_FIELD_HINTS: dict[str, str] = {
    "version": 'a quoted version such as "1.0"',
    "title": "a short title (text)",
    "description": "text",
    "guidance": "a sentence or two telling the rater what to look for",
    "rated_unit": "'tutor' (each tutor of a session rated separately) or 'session' "
    "(the session as a whole)",
    "scale": "a mapping with points: a list of scale points",
    "points": "a list of points, each with value, label and descriptor",
    "value": "a whole number",
    "label": "a short label (text), such as 'Partly demonstrated'",
    "descriptor": "text describing the behaviour that earns this point",
    "descriptors": "the text describing the behaviour that earns this point on this item",
    "not_applicable": "a mapping with allowed: true or false (and an optional label)",
    "allowed": "true or false",
    "sections": "a list of sections, each with id, title and items",
    "items": "a list of items, each with id and title",
}

# Field names in schema order, to list a file's errors roughly in the order of the file.
_FIELD_ORDER: tuple[str, ...] = (
    "id", "version", "title", "description", "rated_unit", "scale", "points", "value", "label",
    "descriptor", "not_applicable", "allowed", "sections", "items", "guidance", "descriptors",
)  # fmt: skip

_TOO_SHORT_HINTS: dict[str, str] = {
    "points": "a scale needs at least two points",
    "sections": "a rubric needs at least one section",
    "items": "a section needs at least one item",
}


# --------------------------------------------------------------------------------------------
# Turning pydantic's errors into the author's language
# --------------------------------------------------------------------------------------------


def _dotted(loc: Sequence[object]) -> str:
    parts = [str(part) for part in loc if part != "[key]"]
    return ".".join(parts) if parts else _TOP_LEVEL


def _model_at(loc: Sequence[object]) -> type[_Model]:
    names = [part for part in loc if isinstance(part, str)]
    return _MODEL_UNDER.get(names[-1] if names else None, _RubricModel)


def _unknown_key_message(loc: Sequence[object]) -> str:
    key = str(loc[-1])
    allowed = list(_model_at(loc[:-1]).model_fields)
    message = f"unknown key {key!r}"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return message + f"; allowed keys are: {', '.join(allowed)}"


def _is_optional(loc: Sequence[object]) -> bool:
    field = loc[-1] if loc else None
    if not isinstance(field, str):
        return False
    info = _model_at(loc[:-1]).model_fields.get(field)
    return info is not None and not info.is_required()


def _pydantic_message(error: Mapping[str, Any]) -> str:
    kind: str = error["type"]
    loc: tuple[object, ...] = tuple(error["loc"])
    value = error.get("input")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    field = next((part for part in reversed(loc) if isinstance(part, str)), None)
    got = describe(value)

    if kind in {"extra_forbidden", "invalid_key"}:
        return _unknown_key_message(loc)
    if kind == "missing":
        if field == "id":
            parent = _model_at(loc[:-1])
            hint = _PATTERN_HINTS[_RUBRIC_ID if parent is _RubricModel else _PART_ID]
        else:
            hint = _FIELD_HINTS.get(str(field), "a value")
        return f"required field is missing; expected {hint}"
    if (basic := basic_type_message(kind, str(field), value)) is not None:
        return basic
    if kind == "list_type":
        return f"must be a list (entries starting with '- '), not {got}"
    if kind == "literal_error":
        expected = _FIELD_HINTS["rated_unit"] if field == "rated_unit" else ctx.get("expected")
        return f"must be {expected}, not {got}"
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(str(ctx.get("pattern")), f"text matching {ctx.get('pattern')}")
        if isinstance(value, str) and not value.strip():
            return f"{_EMPTY}; expected {hint}"
        return f"must be {hint}; got {got}"
    if kind == "too_short":
        hint = _TOO_SHORT_HINTS.get(str(field), f"needs at least {ctx.get('min_length')} entries")
        return f"{hint}; found {ctx.get('actual_length', 0)}"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        if message == _EMPTY:
            optional = " (or leave the key out)" if _is_optional(loc) else ""
            return f"{_EMPTY}; expected {_FIELD_HINTS.get(str(field), 'some text')}{optional}"
        return message
    return str(error["msg"])


def _schema_errors(data: object) -> list[tuple[str, str]]:
    try:
        _RubricModel.model_validate(data)
    except ValidationError as exc:
        return [
            (_dotted(error["loc"]), _pydantic_message(error))
            for error in exc.errors(include_url=False)
        ]
    return []


# --------------------------------------------------------------------------------------------
# Pass 2: cross-field checks, on the raw data (so they run even when pass 1 found errors)
# --------------------------------------------------------------------------------------------


def _as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _entries(value: object, path: str) -> Iterator[tuple[str, dict[Any, Any]]]:
    """The mappings of a list, each with its dotted path; nothing if ``value`` is not a list."""
    if isinstance(value, list):
        for index, entry in enumerate(value):
            if isinstance(entry, dict):
                yield f"{path}.{index}", entry


def _join(values: Iterable[int]) -> str:
    return ", ".join(str(v) for v in values)


def _describe_gap(distinct: Sequence[int], most: int = 10) -> str:
    """'' if ``distinct`` (sorted) has no gaps, else which values are missing."""
    missing_count = distinct[-1] - distinct[0] + 1 - len(distinct)
    if missing_count == 0:
        return ""
    if missing_count > most:
        return f"{missing_count} values between {distinct[0]} and {distinct[-1]} are missing"
    missing = [v for a, b in zip(distinct, distinct[1:], strict=False) for v in range(a + 1, b)]
    if len(missing) == 1:
        return f"value {missing[0]} is missing"
    return f"values {_join(missing)} are missing"


def _scale_errors(data: Mapping[str, Any]) -> tuple[list[tuple[str, str]], tuple[int, ...] | None]:
    """Errors of the scale, and its distinct values (ascending) when every point has a number."""
    scale = data.get("scale")
    if not isinstance(scale, dict):
        return [], None
    points = list(_entries(scale.get("points"), "scale.points"))
    errors: list[tuple[str, str]] = []
    values: list[int] = []
    first_use: dict[int, str] = {}
    for path, point in points:
        value = _as_int(point.get("value"))
        if value is None:
            continue
        values.append(value)
        if value in first_use:
            errors.append(
                (
                    f"{path}.value",
                    f"duplicate scale value {value} (already used by {first_use[value]}); "
                    "each point needs its own value",
                )
            )
        else:
            first_use[value] = path
    raw_points = scale.get("points")
    if not isinstance(raw_points, list) or len(values) != len(raw_points) or len(values) < 2:
        return errors, None  # some values are missing or not numbers: reported by pass 1
    distinct = sorted(set(values))
    gap = _describe_gap(distinct)
    if gap:
        errors.append(
            (
                "scale.points",
                f"scale values must be consecutive whole numbers; {gap} "
                f"(values are {_join(values)})",
            )
        )
    if any(b < a for a, b in zip(values, values[1:], strict=False)):
        errors.append(
            (
                "scale.points",
                f"points must be listed in ascending order of value; found {_join(values)}, "
                f"expected {_join(distinct)}",
            )
        )
    return errors, tuple(distinct)


def _id_text(entry: Mapping[str, Any]) -> str | None:
    value = entry.get("id")
    return value if isinstance(value, str) and value.strip() else None


def _section_and_item_errors(
    data: Mapping[str, Any], scale_values: tuple[int, ...] | None
) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    section_ids: dict[str, str] = {}
    item_ids: dict[str, str] = {}
    for section_path, section in _entries(data.get("sections"), "sections"):
        section_id = _id_text(section)
        if section_id is not None:
            if section_id in section_ids:
                errors.append(
                    (
                        f"{section_path}.id",
                        f"duplicate section id {section_id!r} (already used by "
                        f"{section_ids[section_id]}); section ids must be unique",
                    )
                )
            else:
                section_ids[section_id] = section_path
        for item_path, item in _entries(section.get("items"), f"{section_path}.items"):
            item_id = _id_text(item)
            if item_id is not None:
                if item_id in item_ids:
                    errors.append(
                        (
                            f"{item_path}.id",
                            f"duplicate item id {item_id!r} (already used by {item_ids[item_id]}); "
                            "item ids must be unique across the whole rubric",
                        )
                    )
                else:
                    item_ids[item_id] = item_path
            errors.extend(_descriptor_errors(item.get("descriptors"), item_path, scale_values))
    return errors


def _descriptor_errors(
    descriptors: object, item_path: str, scale_values: tuple[int, ...] | None
) -> list[tuple[str, str]]:
    if not isinstance(descriptors, dict) or scale_values is None:
        return []
    errors: list[tuple[str, str]] = []
    seen: set[int] = set()
    for key in descriptors:
        try:
            value = _point_value_key(key)
        except ValueError:
            continue  # reported by pass 1
        if value in seen:
            errors.append(
                (f"{item_path}.descriptors.{key}", f"more than one descriptor for point {value}")
            )
        seen.add(value)
        if value not in scale_values:
            errors.append(
                (
                    f"{item_path}.descriptors.{key}",
                    f"descriptor for point {value}, which is not on the scale "
                    f"(points are {_join(scale_values)})",
                )
            )
    return errors


def _cross_field_errors(data: object) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return []
    errors, scale_values = _scale_errors(data)
    return errors + _section_and_item_errors(data, scale_values)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _path_sort_key(path: str) -> tuple[tuple[int, int, str], ...]:
    key: list[tuple[int, int, str]] = []
    for part in path.split("."):
        if _INTEGER_TEXT.match(part):
            key.append((0, int(part), ""))
        elif part in _FIELD_ORDER:
            key.append((1, _FIELD_ORDER.index(part), ""))
        else:
            key.append((2, 0, part))
    return tuple(key)


def parse_rubric(data: object, source: str) -> Rubric:
    """Validate an already-parsed rubric mapping and build the domain :class:`Rubric`.

    Raises :class:`RubricError` listing every problem found, each as
    ``"{source}: {dotted.path}: {message}"``.
    """
    problems: list[tuple[str, str]] = []
    for problem in _schema_errors(data) + _cross_field_errors(data):
        if problem not in problems:
            problems.append(problem)
    problems.sort(key=lambda problem: _path_sort_key(problem[0]))  # stable: keeps pass order
    if problems:
        raise RubricError(source, [f"{source}: {path}: {message}" for path, message in problems])
    model = _RubricModel.model_validate(data)
    return _to_domain(model)


def _to_domain(model: _RubricModel) -> Rubric:
    return Rubric(
        id=model.id,
        version=model.version,
        title=model.title,
        description=model.description,
        rated_unit=RatedUnit(model.rated_unit),
        scale=tuple(
            ScalePoint(value=p.value, label=p.label, descriptor=p.descriptor)
            for p in model.scale.points
        ),
        allow_not_applicable=model.not_applicable.allowed,
        not_applicable_label=model.not_applicable.label or DEFAULT_NOT_APPLICABLE_LABEL,
        sections=tuple(
            Section(
                id=section.id,
                title=section.title,
                description=section.description or "",
                items=tuple(
                    Item(
                        id=item.id,
                        title=item.title,
                        guidance=item.guidance or "",
                        descriptors=_frozen_descriptors(item.descriptors),
                    )
                    for item in section.items
                ),
            )
            for section in model.sections
        ),
    )


def _frozen_descriptors(descriptors: Mapping[int, str] | None) -> Mapping[int, str]:
    return MappingProxyType(dict(sorted((descriptors or {}).items())))


def _read_text(path: Path, source: str) -> str:
    try:
        raw = read_yaml_file(path, source, "rubric file")
    except YamlInputError as exc:
        raise RubricError(source, [str(exc)]) from None
    except FileNotFoundError:
        raise RubricError(
            source, [f"{source}: {_TOP_LEVEL}: file not found at {path}; check the path"]
        ) from None
    except OSError as exc:
        raise RubricError(
            source,
            [f"{source}: {_TOP_LEVEL}: cannot read {path} ({exc.strerror or exc}); "
             "it must be a readable file"],
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RubricError(
            source,
            [f"{source}: line {line}: the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
             "save it as UTF-8 in your editor"],
        ) from None


def parse_rubric_text(text: str, source: str) -> Rubric:
    """Validate rubric YAML given as text (a file's, or typed into the Rubrics page): the strict
    YAML loader (no key twice, within the size limits of
    :mod:`~session_rater.io.yaml_support`), then :func:`parse_rubric`. Every problem becomes a
    :class:`RubricError` listing them as ``"{source}: {where}: {what}"``."""
    try:
        data = load_yaml_text(text, source, "rubric file")
    except YamlInputError as exc:
        raise RubricError(source, [str(exc)]) from None
    if data is None:
        raise RubricError(
            source,
            [f"{source}: {_TOP_LEVEL}: the file is empty; a rubric file is a YAML mapping "
             "with id, version, title, description, rated_unit, scale, not_applicable and "
             "sections (see rubrics/README.md)"],
        )
    if not isinstance(data, dict):
        raise RubricError(
            source,
            [f"{source}: {_TOP_LEVEL}: must be a mapping (key: value pairs such as "
             f"'id: my-rubric'), not {describe(data)}"],
        )
    return parse_rubric(data, source)


def load_rubric(path: Path) -> Rubric:
    """Read and validate one rubric file. Every problem becomes a :class:`RubricError`."""
    path = Path(path)
    return parse_rubric_text(_read_text(path, path.name), path.name)


@dataclass(frozen=True)
class RubricCatalog:
    """Every valid rubric of a directory by (id, version), and the broken files by name."""

    rubrics: dict[tuple[str, str], Rubric]
    errors: dict[str, RubricError]

    def versions(self, rubric_id: str) -> list[Rubric]:
        """Every loaded version of ``rubric_id``, oldest first."""
        found = [r for (rid, _), r in self.rubrics.items() if rid == rubric_id]
        return sorted(found, key=lambda r: (version_sort_key(r.version), r.version))

    def latest(self, rubric_id: str) -> Rubric:
        """The highest version of ``rubric_id``; :class:`NotFoundError` if there is none."""
        versions = self.versions(rubric_id)
        if not versions:
            known = ", ".join(sorted({rid for rid, _ in self.rubrics})) or "none"
            raise NotFoundError(f"no rubric with id {rubric_id!r} was loaded (loaded: {known})")
        return versions[-1]

    def all_latest(self) -> list[Rubric]:
        """The latest version of every rubric id, ordered by id."""
        return [self.latest(rid) for rid in sorted({rid for rid, _ in self.rubrics})]


def load_rubric_dir(directory: Path) -> RubricCatalog:
    """Load every ``*.yaml``/``*.yml`` file of ``directory`` (not hidden files, not subdirectories).

    A broken file lands in ``errors`` and the others still load. A file declaring an
    (id, version) that an earlier file (in name order) already declared is an error.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise RubricError(
            str(directory),
            [f"{directory}: {_TOP_LEVEL}: rubric directory not found; create it or point the "
             "application at the directory holding the rubric files"],
        )
    rubrics: dict[tuple[str, str], Rubric] = {}
    origin: dict[tuple[str, str], str] = {}
    errors: dict[str, RubricError] = {}
    paths = sorted(
        path
        for path in directory.iterdir()
        if path.suffix in RUBRIC_FILE_SUFFIXES and path.is_file() and not path.name.startswith(".")
    )
    for path in paths:
        try:
            rubric = load_rubric(path)
        except RubricError as exc:
            errors[path.name] = exc
            continue
        if rubric.key in rubrics:
            errors[path.name] = RubricError(
                path.name,
                [f"{path.name}: version: rubric {rubric.id!r} version {rubric.version!r} is "
                 f"already defined by {origin[rubric.key]}; bump the version in one of them "
                 "or remove the copy"],
            )
            continue
        rubrics[rubric.key] = rubric
        origin[rubric.key] = path.name
    return RubricCatalog(rubrics=rubrics, errors=errors)
