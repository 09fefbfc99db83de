"""The design of a G study: the object of measurement, its facets, what is nested in what.

Brennan (2001, section 3.2) builds every design from two relations between facets: crossed
(``p x i``: every person takes every item) and nested (``i:h``: each item belongs to one
category ``h``). The *effects* of a design are the sets of indices that can vary together:
a set of columns is an effect when it holds, with every nested column, the column it is nested
in (its "nesting indices"). For ``p x (r:t)`` these are ``p, t, r:t, pt, pr:t``; ``r`` alone is
not an effect, since a rater is only defined within a task.

An effect's *primary* indices are those that are not the nesting index of another index of the
effect; Brennan names an effect by its primary indices, a colon, then its nesting indices
(``pr:t``). The design is named the same way: ``p x (r:t)``, ``i:p``, ``(r:s:t) x i``.

Each column is given a one-letter symbol for these names: its first letter (after dropping an
``_id`` suffix), lengthened to the shortest unambiguous prefix when two columns share a letter.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from session_rater.errors import DesignError


@dataclass(frozen=True)
class Effect:
    """One effect of a design: the columns it is made of and its name in Brennan's notation."""

    columns: frozenset[str]
    primary: tuple[str, ...]
    nesting: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class Design:
    """An object of measurement, its facets and the nesting between them (``child -> parent``)."""

    object: str
    facets: tuple[str, ...]
    parent: Mapping[str, str]
    symbols: Mapping[str, str]
    effects: tuple[Effect, ...]

    @property
    def variables(self) -> tuple[str, ...]:
        """The object, then the facets, in the order given."""
        return (self.object, *self.facets)

    def ancestors(self, column: str) -> tuple[str, ...]:
        """The columns ``column`` is nested in, innermost first."""
        chain = []
        while column in self.parent:
            column = self.parent[column]
            chain.append(column)
        return tuple(chain)

    def closure(self, column: str) -> frozenset[str]:
        """``column`` with every column it is nested in: the smallest effect holding it."""
        return frozenset((column, *self.ancestors(column)))

    @property
    def object_cells(self) -> frozenset[str]:
        """The object with the columns it is nested in: what identifies one object of measurement."""
        return self.closure(self.object)

    def effect(self, columns: frozenset[str]) -> Effect:
        for effect in self.effects:
            if effect.columns == columns:
                return effect
        raise KeyError(columns)

    @property
    def name(self) -> str:
        """The design in Brennan's notation, object first: ``p x i``, ``p x (r:t)``, ``(r:s:t) x i``."""
        children: dict[str, list[str]] = {v: [] for v in self.variables}
        for child, parent in self.parent.items():
            children[parent].append(child)
        for kids in children.values():
            kids.sort(key=self.variables.index)

        def render(column: str) -> str:
            kids = children[column]
            if not kids:
                return self.symbols[column]
            inner = [render(kid) for kid in kids]
            if len(inner) == 1:
                nested = inner[0]
                nested = f"({nested})" if " x " in nested else nested
            else:
                nested = "(" + " x ".join(inner) + ")"
            return f"{nested}:{self.symbols[column]}"

        roots = [v for v in self.variables if v not in self.parent]
        parts = [render(root) for root in roots]
        if len(parts) == 1:
            return parts[0]
        return " x ".join(f"({part})" if ":" in part else part for part in parts)


def make_design(
    data: object,
    *,
    object: str,
    facets: Iterable[str],
    nested: Mapping[str, str] | None,
    value: str,
) -> Design:
    """Check the arguments of :func:`g_study` against the data and build the design's effects."""
    if not isinstance(data, pd.DataFrame):
        raise DesignError(
            f"data must be a pandas DataFrame in long format (one row per score); got {type(data).__name__}"
        )
    if isinstance(facets, str) or not isinstance(facets, Iterable):
        raise DesignError(f"facets must be a list of column names, e.g. ['rater', 'item']; got {facets!r}")
    facets = tuple(facets)
    if not facets:
        raise DesignError("facets is empty: a G study needs at least one facet to generalise over")
    if len(set(facets)) != len(facets):
        raise DesignError(f"facets are named twice: {list(facets)}")
    if object in facets:
        raise DesignError(f"the object of measurement {object!r} cannot also be a facet")
    if value in (object, *facets):
        raise DesignError(f"the value column {value!r} cannot also be the object or a facet")
    missing = [c for c in (object, *facets, value) if c not in data.columns]
    if missing:
        raise DesignError(f"data have no column {', '.join(map(repr, missing))}; columns are {list(data.columns)}")
    variables = (object, *facets)
    parent = dict(nested or {})
    for child, par in parent.items():
        if child not in variables or par not in variables:
            unknown = child if child not in variables else par
            raise DesignError(
                f"nested={{{child!r}: {par!r}}}: {unknown!r} is neither the object nor a facet ({list(variables)})"
            )
        if child == par:
            raise DesignError(f"nested={{{child!r}: {par!r}}}: a column cannot be nested in itself")
    for start in parent:
        seen = {start}
        column = start
        while column in parent:
            column = parent[column]
            if column in seen:
                raise DesignError(f"nested describes a cycle through {column!r}: nesting must be a hierarchy")
            seen.add(column)

    symbols = _symbols(variables)
    ordered = {v: i for i, v in enumerate(variables)}

    def closed(columns: frozenset[str]) -> bool:
        return all(parent[c] in columns for c in columns if c in parent)

    effects = []
    for size in range(1, len(variables) + 1):
        for combo in itertools.combinations(variables, size):
            columns = frozenset(combo)
            if closed(columns):
                effects.append(_effect(columns, parent, symbols, ordered))
    return Design(object, facets, parent, symbols, tuple(effects))


def _effect(
    columns: frozenset[str], parent: Mapping[str, str], symbols: Mapping[str, str], ordered: Mapping[str, int]
) -> Effect:
    nesting_set = {parent[c] for c in columns if c in parent}
    primary = tuple(sorted(columns - nesting_set, key=ordered.__getitem__))

    # nesting indices from the innermost outwards, those at the same depth written together
    def depth(column: str) -> int:
        d = 0
        while column in parent:
            column = parent[column]
            d += 1
        return d

    by_depth: dict[int, list[str]] = {}
    for column in nesting_set:
        by_depth.setdefault(depth(column), []).append(column)
    levels = [sorted(by_depth[d], key=ordered.__getitem__) for d in sorted(by_depth, reverse=True)]
    nesting = tuple(c for level in levels for c in level)
    name = "".join(symbols[c] for c in primary)
    if levels:
        name += ":" + ":".join("".join(symbols[c] for c in level) for level in levels)
    return Effect(columns, primary, nesting, name)


def _symbols(variables: Sequence[str]) -> dict[str, str]:
    stems = {v: (v[:-3] if v.lower().endswith("_id") and len(v) > 3 else v).lower() for v in variables}
    length = {v: 1 for v in variables}
    while True:
        symbol = {v: stems[v][: length[v]] for v in variables}
        clashes = [v for v in variables if list(symbol.values()).count(symbol[v]) > 1]
        grown = False
        for v in clashes:
            if length[v] < len(stems[v]):
                length[v] += 1
                grown = True
        if not clashes or not grown:
            if clashes:  # identical stems: fall back to the full column names
                return {v: v for v in variables}
            return symbol
