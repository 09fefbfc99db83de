"""The rubric (programme integrity checklist) as an immutable value.

A rubric has an ordinal scale of anchored points, sections (the monitoring form's domains) and
items. An item may override the scale's descriptor for some points. Whether "not applicable /
not observed" is allowed is a property of the rubric; N/A is never a score.

Rubrics are read from YAML by :mod:`session_rater.io.rubric_files`, which validates them
strictly; this module only models a rubric that is already known to be valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


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
    not_applicable_label: str = "Not applicable / not observed"

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
