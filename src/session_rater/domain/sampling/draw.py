"""Drawing a sample: each rule applied to the roster, raters assigned, due dates set, and the
reason for every pick written (see the package docstring for the rules).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from session_rater.domain.model import Role
from session_rater.domain.sampling.policy import (
    DoubleRatingRule,
    Draw,
    MonitoringRule,
    PersonFacts,
    Rule,
    SamplingPolicy,
    Selection,
    SessionFacts,
    ceil_percent,
)
from session_rater.domain.sampling.raters import RaterPool
from session_rater.domain.sampling.roster import (
    Roster,
    dense,
    rank_within,
    round_robin_pick,
    units,
)


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
    roster: Roster,
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
    unit_rec, unit_tutor = units(roster, rows, True)
    real = unit_tutor >= 0
    unit_rec, unit_tutor = unit_rec[real], unit_tutor[real]
    group_tutor = dense(group[unit_rec], unit_tutor)
    n_gt = int(group_tutor.max(initial=-1)) + 1
    tutor_need = np.maximum(0, rule.min_sessions_per_tutor - np.bincount(group_tutor, weights=chosen[unit_rec], minlength=n_gt))
    initially = chosen.copy()
    group_sn = dense(group, sn)
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
            position = rank_within(group, sn, u)
            levels = [position * target[group] // n[group], sn]
        picked, _ = round_robin_pick(np.arange(len(rows)), group, levels, chosen, u, need)
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
    roster: Roster,
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
    roster: Roster,
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
    cell = dense(*[roster.codes[k][rows] for k in per]) if per else np.zeros(len(rows), np.int64)
    n_cells = int(cell.max(initial=-1)) + 1
    n = np.bincount(cell, minlength=n_cells)
    target = target_of(n)
    need = np.maximum(0, target - np.bincount(cell, weights=chosen, minlength=n_cells).astype(np.int64))
    if not need.any():
        return []
    unit_rec, unit_tutor = units(roster, rows, "tutor" in strata)
    levels = [roster.stratum(k, rows[unit_rec], unit_tutor) for k in strata]
    picked, picked_cell = round_robin_pick(unit_rec, cell[unit_rec], levels, chosen, u, need)
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
    frame = Roster.build(roster)
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
    frame: Roster,
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
    pools = {role: RaterPool(people, role, load, streams["raters"]) for role in (Role.TREATMENT_MANAGER, Role.EXTERNAL_ASSESSOR)}
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


def _due_dates(frame: Roster, picks: Sequence[_Pick], policy: SamplingPolicy, drawn_on: dt.date) -> list[dt.date]:
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
    frame: Roster,
    picks: list[_Pick],
    raters: list[int | None],
    previous: tuple[Selection, ...],
    double: DoubleRatingRule,
    pools: Mapping[Role, RaterPool],
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


def _any_row(frame: Roster, keys: Sequence[str], cell: tuple[int, ...]) -> int:
    mask = np.ones(len(frame), bool)
    for key, code in zip(keys, cell, strict=True):
        mask &= frame.codes[key] == code
    return int(np.flatnonzero(mask)[0])
