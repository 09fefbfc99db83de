"""The roster of recorded sessions as numpy columns, and the vectorised picking over it: dense
codes, ranks within groups, and the nested round robin that spreads a sample over strata.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter

import numpy as np
import pandas as pd

from session_rater.domain.sampling.policy import (
    EPOCH_ORDINAL,
    FACT_FIELDS,
    INT64_SAFE,
    NO_AREA,
    SessionFacts,
)


@dataclass
class Roster:
    """The roster sorted by recording id, one numpy column per fact; strings as dense codes."""

    ids: np.ndarray
    session_number: np.ndarray
    recorded_on: np.ndarray  # datetime64[D]
    is_catch_up: np.ndarray
    codes: dict[str, np.ndarray]  # area, site, programme, group -> dense codes
    labels: dict[str, np.ndarray]  # the same -> label of each code
    tutors: tuple[tuple[int, ...], ...]
    unit_row: np.ndarray  # one unit per (recording, tutor); a recording without tutors: tutor -1
    unit_tutor: np.ndarray

    @classmethod
    def build(cls, facts: Sequence[SessionFacts]) -> Roster:
        n = len(facts)
        (recording_id, programme, group, area, site, session_number, recorded_on, is_catch_up,
         tutor_ids) = zip(*map(attrgetter(*FACT_FIELDS), facts)) if n else ((),) * len(FACT_FIELDS)  # fmt: skip
        ids = np.fromiter(recording_id, np.int64, n)
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        if n > 1 and (ids[1:] == ids[:-1]).any():
            duplicates = sorted({int(i) for i in ids[1:][ids[1:] == ids[:-1]]})[:5]
            raise ValueError(f"the roster lists recording(s) {duplicates} more than once")

        def factorize(values: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
            codes, uniques = pd.factorize(np.array(values, dtype=object)[order])
            return codes.astype(np.int64), np.asarray(uniques, dtype=object)

        codes: dict[str, np.ndarray] = {}
        labels: dict[str, np.ndarray] = {}
        area_named = [NO_AREA if a is None else a for a in area]
        for key, values in (("area", area_named), ("site", site), ("programme", programme)):
            codes[key], labels[key] = factorize(values)
        group_name, group_names = factorize(group)
        codes["group"] = dense(codes["programme"], group_name)  # a group is (programme, group name)
        first = np.unique(codes["group"], return_index=True)[1]
        labels["group"] = np.empty(len(first), dtype=object)
        labels["group"][:] = [
            (labels["programme"][codes["programme"][i]], group_names[group_name[i]]) for i in first
        ]
        tutors = tuple(tutor_ids[i] for i in order.tolist())
        counts = np.maximum(1, np.fromiter(map(len, tutors), np.int64, n))
        ordinals = np.fromiter(map(dt.date.toordinal, recorded_on), np.int64, n)
        return cls(
            ids=ids,
            session_number=np.fromiter(session_number, np.int64, n)[order],
            recorded_on=(ordinals - EPOCH_ORDINAL).astype("datetime64[D]")[order],
            is_catch_up=np.fromiter(is_catch_up, bool, n)[order],
            codes=codes,
            labels=labels,
            tutors=tutors,
            unit_row=np.repeat(np.arange(n), counts),
            unit_tutor=np.fromiter(chain.from_iterable(t or (-1,) for t in tutors), np.int64, int(counts.sum())),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def rows_of(self, recording_ids: Sequence[int]) -> dict[int, int]:
        """Recording id -> row, for the ids that are in the roster."""
        wanted = np.asarray(recording_ids, dtype=np.int64)
        if len(self.ids) == 0 or len(wanted) == 0:
            return {}
        at = np.searchsorted(self.ids, wanted).clip(0, len(self.ids) - 1)
        found = self.ids[at] == wanted
        return dict(zip(wanted[found].tolist(), at[found].tolist(), strict=True))

    @functools.cached_property
    def area_names(self) -> list[str]:
        return self.labels["area"][self.codes["area"]].tolist()  # type: ignore[no-any-return]

    def stratum(self, key: str, rows: np.ndarray, unit_tutor: np.ndarray) -> np.ndarray:
        if key == "tutor":
            return unit_tutor
        column = self.session_number if key == "session_number" else self.codes[key]
        return np.asarray(column[rows], dtype=np.int64)

    def cell_label(self, keys: Sequence[str], row: int) -> str:
        parts = []
        for key in keys:
            label = self.labels[key][self.codes[key][row]]
            parts.append(f"group {label[1]}" if key == "group" else f"{key} {label}")
        return ", ".join(parts) if parts else "all sessions"


# --------------------------------------------------------------------------------------------
# Vectorised building blocks
# --------------------------------------------------------------------------------------------


def dense(*columns: np.ndarray) -> np.ndarray:
    """One dense code (0..k-1) per distinct combination of the integer columns."""
    code = columns[0].astype(np.int64)
    if len(code) and code.min() < 0:
        code = pd.factorize(code)[0].astype(np.int64)
    for column in columns[1:]:
        other = column.astype(np.int64)
        if len(other) and other.min() < 0:
            other = pd.factorize(other)[0].astype(np.int64)
        width = int(other.max(initial=0)) + 1
        if int(code.max(initial=0)) + 1 > INT64_SAFE // width:  # keep the combined code exact
            code = pd.factorize(code)[0].astype(np.int64)
            other = pd.factorize(other)[0].astype(np.int64)
            width = int(other.max(initial=0)) + 1
        code = code * width + other
    return np.asarray(pd.factorize(code)[0], dtype=np.int64)


def rank_within(group: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """0-based rank of each row within its group, ordered by ``keys`` (most significant first)."""
    if len(group) == 0:
        return np.zeros(0, np.int64)
    order = np.lexsort((*reversed(keys), group))
    sorted_group = group[order]
    position = np.arange(len(order))
    starts = np.r_[True, sorted_group[1:] != sorted_group[:-1]]
    start_of_run = np.maximum.accumulate(np.where(starts, position, 0))
    ranks = np.empty(len(order), np.int64)
    ranks[order] = position - start_of_run
    return ranks


def distinct_chosen_per_cell(cell: np.ndarray, rec: np.ndarray, chosen: np.ndarray, n_cells: int) -> np.ndarray:
    """How many distinct chosen recordings each cell holds."""
    if not chosen.any():
        return np.zeros(n_cells, np.int64)
    pairs = np.unique(np.stack([cell[chosen], rec[chosen]]), axis=1)
    return np.bincount(pairs[0], minlength=n_cells)


def round_robin_pick(
    unit_rec: np.ndarray,
    unit_cell: np.ndarray,
    levels: Sequence[np.ndarray],
    chosen: np.ndarray,
    u: np.ndarray,
    need: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``need[cell]`` more recordings in each cell, spread over nested strata ``levels``.

    Units are recordings, or (recording, tutor) pairs when a level is the tutor. ``chosen`` and
    ``u`` (uniform random keys) are per recording. Returns the picked recordings and their
    cells, in pick order. At each level, from the innermost out, a recording's priority in its
    stratum is how many recordings the stratum already holds plus its rank among the stratum's
    free recordings, ordered by their best priority at the level below: a stratum gets its
    (k+1)-th recording only when every stratum with free recordings has k.
    """
    unit_chosen = chosen[unit_rec]
    free = ~unit_chosen
    f_rec, f_cell = unit_rec[free], unit_cell[free]
    f_levels = [level[free] for level in levels]
    priority = u[f_rec].astype(np.float64)
    for depth in range(len(levels), 0, -1):
        cell = dense(f_cell, *f_levels[:depth])
        held = np.zeros(len(f_rec), np.int64)  # per free unit: how many its stratum already holds
        if unit_chosen.any():
            all_cells = dense(unit_cell, *levels[:depth])
            n_cells = int(all_cells.max(initial=-1)) + 1
            held = distinct_chosen_per_cell(all_cells, unit_rec, unit_chosen, n_cells)[all_cells[free]]
        pair = dense(cell, f_rec)  # a recording counts once per stratum, however many tutors it has
        n_pairs = int(pair.max(initial=-1)) + 1
        best = np.full(n_pairs, np.inf)
        np.minimum.at(best, pair, priority)
        first = np.unique(pair, return_index=True)[1]
        pair_rank = np.empty(n_pairs, np.int64)
        pair_rank[pair[first]] = rank_within(cell[first], best[pair[first]], u[f_rec[first]])
        priority = pair_rank[pair] + held.astype(np.float64)
    order = np.lexsort((u[f_rec], priority, f_cell))
    recs, cells = f_rec[order], f_cell[order]
    _, first = np.unique(recs, return_index=True)
    keep = np.zeros(len(recs), bool)
    keep[first] = True
    recs, cells = recs[keep], cells[keep]
    position = np.arange(len(cells))
    starts = np.r_[True, cells[1:] != cells[:-1]] if len(cells) else np.zeros(0, bool)
    within = position - np.maximum.accumulate(np.where(starts, position, 0))
    take = within < need[cells]
    return recs[take], cells[take]


def units(roster: Roster, rows: np.ndarray, with_tutors: bool) -> tuple[np.ndarray, np.ndarray]:
    """For the population ``rows``: each unit's local row index and tutor (-1: none). Without
    tutors, one unit per recording; with them, one per (recording, tutor)."""
    if not with_tutors:
        return np.arange(len(rows)), np.full(len(rows), -1, np.int64)
    local = np.full(len(roster), -1, np.int64)
    local[rows] = np.arange(len(rows))
    mask = local[roster.unit_row] >= 0
    return local[roster.unit_row[mask]], roster.unit_tutor[mask]


# --------------------------------------------------------------------------------------------
# The rules: which rows each picks, and why
# --------------------------------------------------------------------------------------------


