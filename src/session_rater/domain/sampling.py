"""Monitoring and audit samples drawn by rule (pure: standard library, numpy and pandas only).

A :class:`SamplingPolicy` holds up to four rules; :func:`draw_sample` applies them to a roster
of recorded sessions and says, for every session it picks, which rule picked it and why, who
rates it (never someone who delivered it) and by when.

* **monitoring** (treatment managers): in every programme group, at least ``percent`` % of the
  recorded sessions, rounded up, and at least ``min_sessions_per_tutor`` session(s) of every
  tutor who delivered in the group; the rest spread across the programme's session numbers.
  Catch-up sessions are left to their own rule unless ``include_catch_up``.
* **catch_up**: 1 in ``one_in`` catch-up sessions, rounded up, in each cell of ``per`` (by
  default each area's programme), spread over ``stratify_by``.
* **external_audit**: ``sessions_per_area`` sessions in each area (all of them if fewer),
  spread over ``stratify_by`` (by default site, then tutor).
* **double_rating**: in each cell of ``per`` (default: area), ``percent`` % of the sessions picked
  by the rules in ``of``, rounded up, get a second rater so agreement can be measured.

Spreading ("stratified") is a nested round robin: within a cell a second session is taken from
a stratum only when every stratum has one, and so on at every level; ties are broken at random.

**Raters.** Each pick goes to the least-loaded eligible rater (active, with the rule's role,
covering the session's area, not one of its tutors), the most constrained picks first; load
counts earlier draws too. A pick nobody may rate is kept, unassigned, and reported.

**Top-ups.** ``previous`` (the selections of earlier draws of the same policy) count towards
every target and are never removed or changed: a new draw only adds what is still missing.

**Randomness** comes from ``numpy.random.default_rng(seed)``, one independent child stream per
rule, applied to the roster sorted by recording id: the same roster, policy, previous selections
and seed give the same draw, whatever order the roster was given in.

**Speed.** Selection is vectorised over the whole roster (grouped ranks by ``numpy.lexsort``);
only the picked sessions (about a tenth) are visited one by one, to assign raters and write
reasons. 50,000 recordings across 40 areas draw in a fraction of a second
(``benchmarks/bench_sampling.py``).
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from itertools import chain
from operator import attrgetter
from typing import overload

import numpy as np
import pandas as pd

from session_rater.domain.model import Capacity, Role

__all__ = [
    "CELL_KEYS",
    "STRATA",
    "CatchUpRule",
    "DoubleRatingRule",
    "Draw",
    "ExternalAuditRule",
    "MonitoringRule",
    "PersonFacts",
    "Rule",
    "SamplingPolicy",
    "Selection",
    "SessionFacts",
    "ceil_percent",
    "draw_sample",
]

STRATA: tuple[str, ...] = ("area", "site", "programme", "group", "tutor", "session_number")
"""What a sample can be spread over (``stratify_by``)."""

CELL_KEYS: tuple[str, ...] = ("area", "site", "programme", "group")
"""What a target can be counted per (``per``)."""

NO_AREA = "(no area)"
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_INT64_SAFE = 2**62
_FACT_FIELDS = ("recording_id", "programme", "group", "area", "site", "session_number", "recorded_on",
                "is_catch_up", "tutor_ids")  # fmt: skip


class Rule(StrEnum):
    """The rule that picked a session (stored with each assignment)."""

    MONITORING = "monitoring"
    CATCH_UP = "catch_up"
    EXTERNAL_AUDIT = "external_audit"

    @property
    def rater_role(self) -> Role:
        return _RATER_ROLE[self]

    @property
    def capacity(self) -> Capacity:
        """The capacity in which the assigned rater rates the session."""
        return Capacity.EXTERNAL if self is Rule.EXTERNAL_AUDIT else Capacity.MONITORING

    @property
    def label(self) -> str:
        return {"monitoring": "monitoring", "catch_up": "catch-up", "external_audit": "external audit"}[self.value]


_RATER_ROLE = {Rule.MONITORING: Role.TREATMENT_MANAGER, Rule.CATCH_UP: Role.TREATMENT_MANAGER,
               Rule.EXTERNAL_AUDIT: Role.EXTERNAL_ASSESSOR}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Inputs and outputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What the sampler needs to know of one recorded session."""

    recording_id: int
    programme: str
    group: str
    area: str | None
    site: str
    session_number: int
    recorded_on: dt.date
    is_catch_up: bool
    tutor_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """A person the sampler may name (tutors) or assign (raters).

    ``areas`` are the areas a rater covers; None means any area.
    """

    id: int
    name: str
    roles: frozenset[str] = frozenset()
    areas: frozenset[str] | None = None
    active: bool = True


def _check_percent(value: float, what: str, *, allow_zero: bool) -> None:
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 100):
        bound = "from 0" if allow_zero else "above 0"
        raise ValueError(f"{what} must be a percentage {bound} up to 100, not {value!r}")


def _check_names(values: Sequence[str], allowed: Sequence[str], what: str) -> None:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"{what}: unknown {', '.join(map(repr, unknown))}; expected some of {', '.join(allowed)}")
    if len(set(values)) != len(values):
        raise ValueError(f"{what}: each may be named only once, got {list(values)}")


@dataclass(frozen=True)
class MonitoringRule:
    percent: float = 10.0
    min_sessions_per_tutor: int = 1
    spread_session_numbers: bool = True
    include_catch_up: bool = False
    due_days_after_session: int = 28

    def __post_init__(self) -> None:
        _check_percent(self.percent, "monitoring.percent", allow_zero=False)
        if self.min_sessions_per_tutor < 0 or self.due_days_after_session < 0:
            raise ValueError("monitoring: min_sessions_per_tutor and due_days_after_session must be 0 or more")


@dataclass(frozen=True)
class CatchUpRule:
    one_in: int = 7
    per: tuple[str, ...] = ("area", "programme")
    stratify_by: tuple[str, ...] = ("site", "tutor")
    due_days_after_session: int = 28

    def __post_init__(self) -> None:
        if self.one_in < 1 or self.due_days_after_session < 0:
            raise ValueError("catch_up: one_in must be 1 or more and due_days_after_session 0 or more")
        _check_names(self.per, CELL_KEYS, "catch_up.per")
        _check_names(self.stratify_by, STRATA, "catch_up.stratify_by")


@dataclass(frozen=True)
class ExternalAuditRule:
    sessions_per_area: int = 10
    stratify_by: tuple[str, ...] = ("site", "tutor")
    due_days_after_draw: int = 56

    def __post_init__(self) -> None:
        if self.sessions_per_area < 1 or self.due_days_after_draw < 0:
            raise ValueError("external_audit: sessions_per_area must be 1 or more and due_days_after_draw 0 or more")
        _check_names(self.stratify_by, STRATA, "external_audit.stratify_by")


@dataclass(frozen=True)
class DoubleRatingRule:
    percent: float = 20.0
    of: tuple[Rule, ...] = (Rule.MONITORING, Rule.CATCH_UP)
    per: tuple[str, ...] = ("area",)

    def __post_init__(self) -> None:
        _check_percent(self.percent, "double_rating.percent", allow_zero=True)
        _check_names(self.per, CELL_KEYS, "double_rating.per")
        object.__setattr__(self, "of", tuple(Rule(r) for r in self.of))


@dataclass(frozen=True)
class SamplingPolicy:
    """A named, versioned set of sampling rules (a rule left as None is not applied).

    ``programmes``: the programmes the policy applies to (empty: every programme).
    ``min_notice_days``: a session drawn late is never due sooner than this after the draw.
    """

    name: str
    version: str
    title: str
    description: str = ""
    programmes: tuple[str, ...] = ()
    monitoring: MonitoringRule | None = None
    catch_up: CatchUpRule | None = None
    external_audit: ExternalAuditRule | None = None
    double_rating: DoubleRatingRule | None = None
    min_notice_days: int = 7

    def __post_init__(self) -> None:
        if not self.rules:
            raise ValueError(f"policy {self.name!r} has no rule: give at least one of {', '.join(Rule)}")
        if self.double_rating is not None:
            missing = [r for r in self.double_rating.of if r not in self.rules]
            if missing:
                raise ValueError(f"double_rating.of names {', '.join(missing)}, which the policy does not apply")
        if self.min_notice_days < 0:
            raise ValueError("min_notice_days must be 0 or more")

    @property
    def rules(self) -> tuple[Rule, ...]:
        present = {Rule.MONITORING: self.monitoring, Rule.CATCH_UP: self.catch_up,
                   Rule.EXTERNAL_AUDIT: self.external_audit}  # fmt: skip
        return tuple(rule for rule, config in present.items() if config is not None)

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


@dataclass(frozen=True, slots=True)
class Selection:
    """One session picked by one rule, with its rater(s) and due date."""

    recording_id: int
    rule: Rule
    reason: str
    rater_id: int | None
    second_rater_id: int | None = None
    due_on: dt.date | None = None


@dataclass(frozen=True)
class Draw:
    """The result of :func:`draw_sample`: what was picked now, on top of ``previous``."""

    policy_name: str
    policy_version: str
    seed: int
    drawn_on: dt.date
    selections: tuple[Selection, ...]
    previous: tuple[Selection, ...] = ()
    shortfalls: tuple[str, ...] = ()

    @property
    def all_selections(self) -> tuple[Selection, ...]:
        return self.previous + self.selections

    def of_rule(self, rule: Rule, *, include_previous: bool = True) -> list[Selection]:
        pool = self.all_selections if include_previous else self.selections
        return [s for s in pool if s.rule is rule]


@overload
def ceil_percent(percent: float, n: int) -> int: ...
@overload
def ceil_percent(percent: float, n: np.ndarray) -> np.ndarray: ...
def ceil_percent(percent: float, n: int | np.ndarray) -> int | np.ndarray:
    """``ceil(percent * n / 100)`` in exact arithmetic (10 % of 10 is 1, not 2)."""
    share = Fraction(str(percent)) / 100
    p, q = share.numerator, share.denominator
    return (np.asarray(n) * p + q - 1) // q if isinstance(n, np.ndarray) else -(-n * p // q)


# --------------------------------------------------------------------------------------------
# The roster as columns
# --------------------------------------------------------------------------------------------


@dataclass
class _Roster:
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
    def build(cls, facts: Sequence[SessionFacts]) -> _Roster:
        n = len(facts)
        (recording_id, programme, group, area, site, session_number, recorded_on, is_catch_up,
         tutor_ids) = zip(*map(attrgetter(*_FACT_FIELDS), facts)) if n else ((),) * len(_FACT_FIELDS)  # fmt: skip
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
        codes["group"] = _dense(codes["programme"], group_name)  # a group is (programme, group name)
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
            recorded_on=(ordinals - _EPOCH_ORDINAL).astype("datetime64[D]")[order],
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


def _dense(*columns: np.ndarray) -> np.ndarray:
    """One dense code (0..k-1) per distinct combination of the integer columns."""
    code = columns[0].astype(np.int64)
    if len(code) and code.min() < 0:
        code = pd.factorize(code)[0].astype(np.int64)
    for column in columns[1:]:
        other = column.astype(np.int64)
        if len(other) and other.min() < 0:
            other = pd.factorize(other)[0].astype(np.int64)
        width = int(other.max(initial=0)) + 1
        if int(code.max(initial=0)) + 1 > _INT64_SAFE // width:  # keep the combined code exact
            code = pd.factorize(code)[0].astype(np.int64)
            other = pd.factorize(other)[0].astype(np.int64)
            width = int(other.max(initial=0)) + 1
        code = code * width + other
    return np.asarray(pd.factorize(code)[0], dtype=np.int64)


def _rank_within(group: np.ndarray, *keys: np.ndarray) -> np.ndarray:
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


def _distinct_chosen_per_cell(cell: np.ndarray, rec: np.ndarray, chosen: np.ndarray, n_cells: int) -> np.ndarray:
    """How many distinct chosen recordings each cell holds."""
    if not chosen.any():
        return np.zeros(n_cells, np.int64)
    pairs = np.unique(np.stack([cell[chosen], rec[chosen]]), axis=1)
    return np.bincount(pairs[0], minlength=n_cells)


def _round_robin_pick(
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
        cell = _dense(f_cell, *f_levels[:depth])
        held = np.zeros(len(f_rec), np.int64)  # per free unit: how many its stratum already holds
        if unit_chosen.any():
            all_cells = _dense(unit_cell, *levels[:depth])
            n_cells = int(all_cells.max(initial=-1)) + 1
            held = _distinct_chosen_per_cell(all_cells, unit_rec, unit_chosen, n_cells)[all_cells[free]]
        pair = _dense(cell, f_rec)  # a recording counts once per stratum, however many tutors it has
        n_pairs = int(pair.max(initial=-1)) + 1
        best = np.full(n_pairs, np.inf)
        np.minimum.at(best, pair, priority)
        first = np.unique(pair, return_index=True)[1]
        pair_rank = np.empty(n_pairs, np.int64)
        pair_rank[pair[first]] = _rank_within(cell[first], best[pair[first]], u[f_rec[first]])
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


def _units(roster: _Roster, rows: np.ndarray, with_tutors: bool) -> tuple[np.ndarray, np.ndarray]:
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


@dataclass(frozen=True, slots=True)
class _Pick:
    row: int
    rule: Rule
    reason: str
    cell: int  # the group, or the cell of ``per``: selections are listed by cell, in pick order


def _names(people: Mapping[int, PersonFacts], ids: Iterable[int]) -> str:
    named = [people[i].name if i in people else f"person #{i}" for i in ids]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _monitoring(
    roster: _Roster,
    rule: MonitoringRule,
    rows: np.ndarray,
    chosen: np.ndarray,
    u: np.ndarray,
    people: Mapping[int, PersonFacts],
) -> tuple[list[_Pick], list[str]]:
    group = pd.factorize(roster.codes["group"][rows])[0].astype(np.int64)
    n_groups = int(group.max(initial=-1)) + 1
    n = np.bincount(group, minlength=n_groups)
    target = ceil_percent(rule.percent, n)
    sn = roster.session_number[rows]
    unit_rec, unit_tutor = _units(roster, rows, True)
    real = unit_tutor >= 0
    unit_rec, unit_tutor = unit_rec[real], unit_tutor[real]
    group_tutor = _dense(group[unit_rec], unit_tutor)
    n_gt = int(group_tutor.max(initial=-1)) + 1
    tutor_need = np.maximum(0, rule.min_sessions_per_tutor - np.bincount(group_tutor, weights=chosen[unit_rec], minlength=n_gt))
    initially = chosen.copy()
    group_sn = _dense(group, sn)
    sn_held = np.bincount(group_sn, weights=chosen, minlength=int(group_sn.max(initial=-1)) + 1)

    order: list[np.ndarray] = []  # picks in order: tutor cover rounds, then the spread
    while True:  # greedy set cover: each round, in each group, the session covering most tutors still needed
        open_units = (tutor_need[group_tutor] > 0) & ~chosen[unit_rec]
        if not open_units.any():
            break
        gain = np.bincount(unit_rec[open_units], minlength=len(rows))
        candidates = np.flatnonzero(gain > 0)
        ranked = candidates[np.lexsort((u[candidates], sn_held[group_sn[candidates]] > 0, -gain[candidates], group[candidates]))]
        first = np.r_[True, group[ranked][1:] != group[ranked][:-1]]
        picked = ranked[first]
        chosen[picked] = True
        sn_held[group_sn[picked]] += 1
        picked_mask = np.zeros(len(rows), bool)
        picked_mask[picked] = True
        tutor_need = np.maximum(0, tutor_need - np.bincount(group_tutor[picked_mask[unit_rec]], minlength=n_gt))
        order.append(picked)

    need = np.maximum(0, target - np.bincount(group, weights=chosen, minlength=n_groups).astype(np.int64))
    if need.any():
        levels: list[np.ndarray] = []
        if rule.spread_session_numbers:  # k equal-count bins of the group's session numbers
            position = _rank_within(group, sn, u)
            levels = [position * target[group] // n[group], sn]
        picked, _ = _round_robin_pick(np.arange(len(rows)), group, levels, chosen, u, need)
        chosen[picked] = True
        order.append(picked)

    shortfalls = []
    if rule.min_sessions_per_tutor > 1:
        short = np.flatnonzero(tutor_need > 0)
        if len(short):
            shortfalls.append(
                f"monitoring: {len(short)} tutor(s) delivered fewer than {rule.min_sessions_per_tutor} "
                "sessions in a group, so all their sessions there were drawn"
            )

    # Reasons, in pick order: what each pick adds to its group.
    picks: list[_Pick] = []
    tutors_held: dict[int, Counter[int]] = defaultdict(Counter)
    numbers_held: dict[int, set[int]] = defaultdict(set)
    group_of, row_of, number_of = group.tolist(), rows.tolist(), sn.tolist()
    for local in np.flatnonzero(initially).tolist():
        g = group_of[local]
        tutors_held[g].update(roster.tutors[row_of[local]])
        numbers_held[g].add(number_of[local])
    pct = f"{rule.percent:g}%"
    per_tutor = f" and {rule.min_sessions_per_tutor} per tutor" if rule.min_sessions_per_tutor else ""
    heads = [
        f"monitoring: group {roster.labels['group'][roster.codes['group'][row]][1]} needs {k} of {size} "
        f"sessions ({pct}){per_tutor}"
        for row, k, size in zip(rows[np.unique(group, return_index=True)[1]].tolist(), target.tolist(), n.tolist(), strict=True)
    ]
    for local in np.concatenate(order).tolist() if order else []:
        g, row, number = group_of[local], row_of[local], number_of[local]
        parts = [heads[g]]
        newly = [t for t in roster.tutors[row] if tutors_held[g][t] < rule.min_sessions_per_tutor]
        if newly:
            parts.append(f"covers tutor{'s' if len(newly) > 1 else ''} {_names(people, newly)}")
        if number not in numbers_held[g]:
            parts.append(f"session number {number} not yet covered")
        elif not newly:
            parts.append(f"spreads the sample across the programme (session number {number})")
        tutors_held[g].update(roster.tutors[row])
        numbers_held[g].add(number)
        picks.append(_Pick(row, Rule.MONITORING, "; ".join(parts), g))
    return picks, shortfalls


def _spread_reason(
    roster: _Roster,
    strata: Sequence[str],
    row: int,
    held: dict[tuple[str, int, object], int],
    cell: int,
    people: Mapping[int, PersonFacts],
) -> str:
    """E.g. 'site Carlisle (first sampled), tutor Jo Bell (2nd sampled)': where the pick falls in
    each stratum of its cell, counting in ``held`` (which it updates)."""
    parts = []
    for key in strata:
        values: Sequence[object]
        if key == "tutor":
            values = roster.tutors[row] or (-1,)
        elif key == "session_number":
            values = (int(roster.session_number[row]),)
        else:
            values = (roster.codes[key][row],)
        for value in values:
            count = held.get((key, cell, value), 0) + 1
            held[(key, cell, value)] = count
            if key == "tutor":
                shown = "no tutor recorded" if value == -1 else f"tutor {_names(people, [int(value)])}"  # type: ignore[call-overload]
            elif key == "session_number":
                shown = f"session number {value}"
            else:
                label = roster.labels[key][int(value)]  # type: ignore[call-overload]
                shown = f"group {label[1]}" if key == "group" else f"{key} {label}"
            parts.append(f"{shown} ({_ordinal(count)} sampled)" if count > 1 else f"{shown} (first sampled)")
    return ", ".join(parts)


def _stratified_rule(
    roster: _Roster,
    rule: Rule,
    rows: np.ndarray,
    per: Sequence[str],
    strata: Sequence[str],
    chosen: np.ndarray,
    u: np.ndarray,
    target_of: Callable[[np.ndarray], np.ndarray],
    describe: Callable[[str, int, int], str],
    people: Mapping[int, PersonFacts],
) -> list[_Pick]:
    cell = _dense(*[roster.codes[k][rows] for k in per]) if per else np.zeros(len(rows), np.int64)
    n_cells = int(cell.max(initial=-1)) + 1
    n = np.bincount(cell, minlength=n_cells)
    target = target_of(n)
    need = np.maximum(0, target - np.bincount(cell, weights=chosen, minlength=n_cells).astype(np.int64))
    if not need.any():
        return []
    unit_rec, unit_tutor = _units(roster, rows, "tutor" in strata)
    levels = [roster.stratum(k, rows[unit_rec], unit_tutor) for k in strata]
    picked, picked_cell = _round_robin_pick(unit_rec, cell[unit_rec], levels, chosen, u, need)
    held: dict[tuple[str, int, object], int] = {}
    for local in np.flatnonzero(chosen):  # what earlier draws hold, for "(2nd sampled)"
        _spread_reason(roster, strata, int(rows[local]), held, int(cell[local]), people)
    chosen[picked] = True
    picks = []
    for local, c in zip(picked.tolist(), picked_cell.tolist(), strict=True):
        row = int(rows[local])
        head = describe(roster.cell_label(per, row), int(n[c]), int(target[c]))
        spread = _spread_reason(roster, strata, row, held, c, people)
        picks.append(_Pick(row, rule, f"{head}; {spread}" if spread else head, c))
    return picks


# --------------------------------------------------------------------------------------------
# Raters
# --------------------------------------------------------------------------------------------


class _RaterPool:
    """Raters of one role, least loaded first; ties broken by a random order fixed per draw."""

    def __init__(self, people: Sequence[PersonFacts], role: Role, load: Counter[int], rng: np.random.Generator) -> None:
        raters = sorted((p for p in people if p.active and role.value in p.roles), key=lambda p: p.id)
        tiebreak = dict(zip([p.id for p in raters], rng.permutation(len(raters)).tolist(), strict=True))
        self._load = load
        self._tiebreak = tiebreak
        self._any_area = [p.id for p in raters if p.areas is None]
        self._by_area: dict[str, list[int]] = defaultdict(list)
        for p in raters:
            for area in p.areas or ():
                self._by_area[area].append(p.id)
        self._heaps: dict[str, list[tuple[int, int, int]]] = {}
        self._covering: dict[str, frozenset[int]] = {}

    def covering(self, area: str) -> frozenset[int]:
        if area not in self._covering:
            self._covering[area] = frozenset(self._any_area) | frozenset(self._by_area.get(area, ()))
        return self._covering[area]

    def _heap(self, area: str) -> list[tuple[int, int, int]]:
        if area not in self._heaps:
            self._heaps[area] = [(self._load[i], self._tiebreak[i], i) for i in self.covering(area)]
            heapq.heapify(self._heaps[area])
        return self._heaps[area]

    def eligible(self, area: str, excluded: Iterable[int]) -> int:
        """How many raters could take a session in ``area`` that ``excluded`` delivered."""
        covering = self.covering(area)
        return len(covering) - len(covering.intersection(excluded))

    def take(self, area: str, excluded: Iterable[int]) -> int | None:
        """The least-loaded rater covering ``area`` who is not in ``excluded``; load + 1."""
        heap = self._heap(area)
        excluded = set(excluded)
        set_aside = []
        found = None
        while heap:
            load, tie, rater = heapq.heappop(heap)
            if load != self._load[rater]:  # stale entry: the rater got work from another heap
                heapq.heappush(heap, (self._load[rater], tie, rater))
                continue
            if rater in excluded:
                set_aside.append((load, tie, rater))
                continue
            found = rater
            break
        for entry in set_aside:
            heapq.heappush(heap, entry)
        if found is not None:
            self._load[found] += 1
            heapq.heappush(heap, (self._load[found], self._tiebreak[found], found))
        return found


# --------------------------------------------------------------------------------------------
# The draw
# --------------------------------------------------------------------------------------------


def draw_sample(
    roster: Sequence[SessionFacts],
    people: Sequence[PersonFacts],
    policy: SamplingPolicy,
    *,
    seed: int,
    drawn_on: dt.date,
    previous: Sequence[Selection] = (),
) -> Draw:
    """Apply every rule of ``policy`` to ``roster``, on top of the ``previous`` selections.

    ``people`` names tutors in the reasons and says who may rate: an active person with the
    rule's role (treatment manager; external assessor for the audit) who covers the session's
    area, and who did not deliver the session. Work goes to the least-loaded eligible rater.
    A pick with no eligible rater is kept unassigned and listed in ``Draw.shortfalls``.
    """
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a whole number of 0 or more, not {seed!r}")
    by_id = {p.id: p for p in people}
    frame = _Roster.build(roster)
    streams = dict(zip(["monitoring", "catch_up", "external_audit", "raters", "double"],
                       np.random.default_rng(int(seed)).spawn(5), strict=True))  # fmt: skip
    in_scope = np.isin(frame.labels["programme"][frame.codes["programme"]], list(policy.programmes)) \
        if policy.programmes else np.ones(len(frame), bool)  # fmt: skip
    previous = tuple(previous)
    row_of = frame.rows_of([s.recording_id for s in previous])  # recording id -> row, if in the roster
    held_by_rule: dict[Rule, np.ndarray] = {rule: np.zeros(len(frame), bool) for rule in Rule}
    for s in previous:
        if s.recording_id in row_of:
            held_by_rule[Rule(s.rule)][row_of[s.recording_id]] = True

    picks: list[_Pick] = []
    shortfalls: list[str] = []
    if policy.monitoring is not None:
        mask = in_scope if policy.monitoring.include_catch_up else in_scope & ~frame.is_catch_up
        rows = np.flatnonzero(mask)
        u = streams["monitoring"].random(len(frame))[rows]
        found, short = _monitoring(frame, policy.monitoring, rows, held_by_rule[Rule.MONITORING][rows], u, by_id)
        picks += found
        shortfalls += short
    if policy.catch_up is not None:
        rule_c = policy.catch_up
        rows = np.flatnonzero(in_scope & frame.is_catch_up)
        picks += _stratified_rule(
            frame, Rule.CATCH_UP, rows, rule_c.per, rule_c.stratify_by, held_by_rule[Rule.CATCH_UP][rows],
            streams["catch_up"].random(len(frame))[rows],
            lambda n: (n + rule_c.one_in - 1) // rule_c.one_in,
            lambda cell, n, k: f"catch-up: {cell} needs {k} of {n} catch-up sessions (1 in {rule_c.one_in})",
            by_id,
        )
    if policy.external_audit is not None:
        rule_a = policy.external_audit
        rows = np.flatnonzero(in_scope)
        picks += _stratified_rule(
            frame, Rule.EXTERNAL_AUDIT, rows, ("area",), rule_a.stratify_by, held_by_rule[Rule.EXTERNAL_AUDIT][rows],
            streams["external_audit"].random(len(frame))[rows],
            lambda n: np.minimum(n, rule_a.sessions_per_area),
            lambda cell, n, k: f"external audit: {cell} needs {k} of {n} sessions",
            by_id,
        )

    selections, assign_shortfalls = _assign(frame, picks, previous, policy, people, streams, drawn_on, row_of)
    return Draw(
        policy_name=policy.name,
        policy_version=policy.version,
        seed=int(seed),
        drawn_on=drawn_on,
        selections=tuple(selections),
        previous=previous,
        shortfalls=tuple(shortfalls + assign_shortfalls),
    )


def _assign(
    frame: _Roster,
    picks: list[_Pick],
    previous: tuple[Selection, ...],
    policy: SamplingPolicy,
    people: Sequence[PersonFacts],
    streams: Mapping[str, np.random.Generator],
    drawn_on: dt.date,
    row_of: Mapping[int, int],
) -> tuple[list[Selection], list[str]]:
    """Raters (least loaded eligible first), second raters, due dates; the selections in order."""
    load: Counter[int] = Counter()
    for s in previous:
        load.update(i for i in (s.rater_id, s.second_rater_id) if i is not None)
    pools = {role: _RaterPool(people, role, load, streams["raters"]) for role in (Role.TREATMENT_MANAGER, Role.EXTERNAL_ASSESSOR)}
    areas = frame.area_names
    raters: list[int | None] = [None] * len(picks)
    unassigned: Counter[tuple[Rule, str]] = Counter()
    choice = [pools[p.rule.rater_role].eligible(areas[p.row], frame.tutors[p.row]) for p in picks]
    for i in sorted(range(len(picks)), key=lambda i: (choice[i], i)):  # the most constrained first
        pick = picks[i]
        area = areas[pick.row]
        raters[i] = pools[pick.rule.rater_role].take(area, frame.tutors[pick.row])
        if raters[i] is None:
            unassigned[(pick.rule, area)] += 1

    second: dict[int, int] = {}
    shortfalls = [
        f"{rule.label}: {n} session(s) in {area} left unassigned: no active "
        f"{rule.rater_role.label.lower()} covering the area who did not deliver them"
        for (rule, area), n in sorted(unassigned.items())
    ]
    double = policy.double_rating
    if double is not None and double.percent > 0:
        shortfalls += _double_rate(frame, picks, raters, previous, double, pools, streams["double"], row_of, second)

    dues = _due_dates(frame, picks, policy, drawn_on)
    ids = frame.ids.tolist()
    selections = []
    rule_order = {rule: k for k, rule in enumerate(Rule)}
    for i in sorted(range(len(picks)), key=lambda i: (rule_order[picks[i].rule], picks[i].cell, i)):
        pick, rater = picks[i], raters[i]
        reason = pick.reason if rater is not None else pick.reason + "; no eligible rater yet"
        if i in second:
            reason += f"; double rated ({double.percent:g}% of the sample, for agreement)"  # type: ignore[union-attr]
        selections.append(Selection(ids[pick.row], pick.rule, reason, rater, second.get(i), dues[i]))
    return selections, shortfalls


def _due_dates(frame: _Roster, picks: Sequence[_Pick], policy: SamplingPolicy, drawn_on: dt.date) -> list[dt.date]:
    """Monitoring and catch-up: ``due_days_after_session`` after the session, but never sooner
    than ``min_notice_days`` after the draw. External audit: ``due_days_after_draw``."""
    rows = np.fromiter((p.row for p in picks), np.int64, len(picks))
    days = np.fromiter(
        (
            policy.external_audit.due_days_after_draw if p.rule is Rule.EXTERNAL_AUDIT and policy.external_audit
            else policy.monitoring.due_days_after_session if p.rule is Rule.MONITORING and policy.monitoring
            else policy.catch_up.due_days_after_session if policy.catch_up else 0
            for p in picks
        ),
        np.int64,
        len(picks),
    ).astype("timedelta64[D]")
    audit = np.fromiter((p.rule is Rule.EXTERNAL_AUDIT for p in picks), bool, len(picks))
    drawn = np.datetime64(drawn_on, "D")
    after_session = np.maximum(frame.recorded_on[rows] + days, drawn + np.timedelta64(policy.min_notice_days, "D"))
    return np.where(audit, drawn + days, after_session).tolist()  # type: ignore[no-any-return]


def _double_rate(
    frame: _Roster,
    picks: list[_Pick],
    raters: list[int | None],
    previous: tuple[Selection, ...],
    double: DoubleRatingRule,
    pools: Mapping[Role, _RaterPool],
    rng: np.random.Generator,
    row_of: Mapping[int, int],
    second: dict[int, int],
) -> list[str]:
    """Give a second rater to enough new picks that each cell of ``double.per`` reaches the share."""

    def cell_of(row: int) -> tuple[int, ...]:
        return tuple(int(frame.codes[k][row]) for k in double.per)

    total: Counter[tuple[int, ...]] = Counter()
    held: Counter[tuple[int, ...]] = Counter()
    for s in previous:
        if s.rule in double.of and s.recording_id in row_of:
            c = cell_of(row_of[s.recording_id])
            total[c] += 1
            held[c] += s.second_rater_id is not None
    fresh: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, pick in enumerate(picks):
        if pick.rule in double.of:
            c = cell_of(pick.row)
            total[c] += 1
            if raters[i] is not None:
                fresh[c].append(i)
    shortfalls = []
    for c in sorted(total):
        need = int(ceil_percent(double.percent, total[c])) - held[c]
        candidates = fresh.get(c, [])
        for k in rng.permutation(len(candidates)).tolist():
            if need <= 0:
                break
            i = candidates[k]
            pick = picks[i]
            area = frame.area_names[pick.row]
            other = pools[pick.rule.rater_role].take(area, (*frame.tutors[pick.row], raters[i]))
            if other is not None:
                second[i] = other
                need -= 1
        if need > 0:
            label = frame.cell_label(double.per, _any_row(frame, double.per, c))
            shortfalls.append(
                f"double rating: {label} is {need} second rating(s) short: not enough eligible raters"
            )
    return shortfalls


def _any_row(frame: _Roster, keys: Sequence[str], cell: tuple[int, ...]) -> int:
    mask = np.ones(len(frame), bool)
    for key, code in zip(keys, cell, strict=True):
        mask &= frame.codes[key] == code
    return int(np.flatnonzero(mask)[0])
