"""The rubric (programme integrity checklist) as an immutable value.

A rubric has an ordinal scale of anchored points, sections (the monitoring form's domains) and
items. An item may override the scale's descriptor for some points. Whether "not applicable /
not observed" is allowed is a property of the rubric; N/A is never a score.

Rubrics are read from YAML by :mod:`session_rater.io.rubric_files`, which validates them
strictly; this module only models a rubric that is already known to be valid.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from session_rater.errors import RubricError, ScoreError


DEFAULT_NOT_APPLICABLE_LABEL = "Not applicable / not observed"


class RatedUnit(StrEnum):
    """What one completed form rates."""

    TUTOR = "tutor"  # each tutor of a session separately (the published monitoring forms)
    SESSION = "session"  # the session as a whole


@dataclass(frozen=True)
class ScalePoint:
    value: int
    label: str
    descriptor: str


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    guidance: str = ""
    descriptors: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    description: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Rubric:
    id: str
    version: str
    title: str
    description: str
    rated_unit: RatedUnit
    scale: tuple[ScalePoint, ...]  # ascending by value, contiguous
    allow_not_applicable: bool
    sections: tuple[Section, ...]
    not_applicable_label: str = DEFAULT_NOT_APPLICABLE_LABEL

    @property
    def key(self) -> tuple[str, str]:
        """(id, version): what every rating stores."""
        return (self.id, self.version)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @property
    def scale_values(self) -> tuple[int, ...]:
        return tuple(point.value for point in self.scale)

    @property
    def minimum(self) -> int:
        return self.scale[0].value

    @property
    def maximum(self) -> int:
        return self.scale[-1].value

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"rubric {self.id} v{self.version} has no item {item_id!r}")

    def point(self, value: int) -> ScalePoint:
        for point in self.scale:
            if point.value == value:
                return point
        raise KeyError(f"{value} is not on the scale of rubric {self.id} v{self.version}")

    def descriptor(self, item_id: str, value: int) -> str:
        """The anchor for ``value`` on ``item_id``: the item's own if it has one, else the scale's."""
        item = self.item(item_id)
        return item.descriptors.get(value) or self.point(value).descriptor

    def describe_scale(self) -> str:
        return ", ".join(f"{p.value} ({p.label})" for p in self.scale)


def validate_score(rubric: Rubric, item_id: str, score: object) -> int:
    """The score as an int on the rubric's scale, or ScoreError saying what is allowed."""
    allowed = f"scores on {rubric.title!r} are whole numbers from {rubric.minimum} to {rubric.maximum}"
    if isinstance(score, bool) or not isinstance(score, int | float | str):
        raise ScoreError(f"Score {score!r} for item {item_id!r} is not a number: {allowed}.")
    try:
        number = float(score)
    except ValueError:
        raise ScoreError(f"Score {score!r} for item {item_id!r} is not a number: {allowed}.") from None
    if not number.is_integer() or int(number) not in rubric.scale_values:
        raise ScoreError(f"Score {score!r} for item {item_id!r} is not on the scale: {allowed}.")
    return int(number)


def rubric_to_dict(rubric: Rubric) -> dict[str, Any]:
    """The rubric as plain data in the file schema (``io.rubric_files.parse_rubric`` reads it
    back to the same rubric): what a rubric version's snapshot in the database holds.

    Descriptor keys are ints (as YAML writes them); after a JSON round trip they become digit
    strings, which both readers accept.
    """
    return {
        "id": rubric.id,
        "version": rubric.version,
        "title": rubric.title,
        "description": rubric.description,
        "rated_unit": rubric.rated_unit.value,
        "scale": {
            "points": [
                {"value": p.value, "label": p.label, "descriptor": p.descriptor}
                for p in rubric.scale
            ]
        },
        "not_applicable": {
            "allowed": rubric.allow_not_applicable,
            "label": rubric.not_applicable_label,
        },
        "sections": [_section_to_dict(section) for section in rubric.sections],
    }


def _section_to_dict(section: Section) -> dict[str, Any]:
    result: dict[str, Any] = {"id": section.id, "title": section.title}
    if section.description:
        result["description"] = section.description
    result["items"] = [_item_to_dict(item) for item in section.items]
    return result


def _item_to_dict(item: Item) -> dict[str, Any]:
    result: dict[str, Any] = {"id": item.id, "title": item.title}
    if item.guidance:
        result["guidance"] = item.guidance
    if item.descriptors:
        result["descriptors"] = {value: text for value, text in sorted(item.descriptors.items())}
    return result


def rubric_fingerprint(rubric: Rubric) -> str:
    """SHA-256 (hex) of the rubric's canonical JSON: changes whenever any wording or point does."""
    canonical = json.dumps(
        rubric_to_dict(rubric), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def rubric_from_dict(data: Mapping[str, Any], source: str) -> Rubric:
    """The rubric of a snapshot written by :func:`rubric_to_dict` (already validated when it was
    recorded, so read as it is). A snapshot that does not have that shape is a RubricError
    naming ``source``."""
    try:
        return Rubric(
            id=data["id"],
            version=data["version"],
            title=data["title"],
            description=data.get("description") or "",
            rated_unit=RatedUnit(data["rated_unit"]),
            scale=tuple(ScalePoint(int(p["value"]), p["label"], p["descriptor"]) for p in data["scale"]["points"]),
            allow_not_applicable=bool(data["not_applicable"]["allowed"]),
            not_applicable_label=data["not_applicable"].get("label") or DEFAULT_NOT_APPLICABLE_LABEL,
            sections=tuple(
                Section(
                    id=s["id"],
                    title=s["title"],
                    description=s.get("description") or "",
                    items=tuple(
                        Item(
                            id=i["id"],
                            title=i["title"],
                            guidance=i.get("guidance") or "",
                            descriptors=MappingProxyType(
                                dict(sorted((int(k), v) for k, v in (i.get("descriptors") or {}).items()))
                            ),
                        )
                        for i in s["items"]
                    ),
                )
                for s in data["sections"]
            ),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RubricError(source, [f"{source}: the stored definition is not a rubric ({exc!r})"]) from None
