"""The sampler, by property over random rosters (hypothesis) and by example.

Targets are those of the HMIP 2002 follow-up audit of Think First (section B): treatment
managers monitor 10% of recorded sessions and one in seven catch-up sessions; the audit team
rates ten sessions per area. Every expected count below is recomputed here, independently of
the sampler, from the roster and the policy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_rater.domain.sampling import (
    CatchUpRule,
    DoubleRatingRule,
    Draw,
    ExternalAuditRule,
    MonitoringRule,
    PersonFacts,
    Rule,
    SamplingPolicy,
    Selection,
    SessionFacts,
    ceil_percent,
    draw_sample,
)

DRAWN_ON = dt.date(2026, 6, 1)
ROLES = ("tutor", "treatment_manager", "external_assessor")
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------------
# Random rosters, people and policies
# --------------------------------------------------------------------------------------------


@st.composite
def rosters(draw: st.DrawFn) -> tuple[list[SessionFacts], list[PersonFacts]]:
    """Up to 3 areas of up to 3 sites, up to 4 groups per area of 1-18 sessions; people 1-10
    who may be tutors, treatment managers and external assessors at once (so conflicts of
    interest arise), some covering only some areas, some inactive. Hypothesis draws the shape;
    a Random seeded by it fills in each session (fast; replayed exactly, shrunk by shape)."""
    rnd = random.Random(draw(st.integers(0, 2**32)))
    areas = [f"Area {i}" for i in range(draw(st.integers(1, 3)))]
    person_ids = list(range(1, draw(st.integers(2, 10)) + 1))
    facts: list[SessionFacts] = []
    recording_id = draw(st.integers(1, 1000))
    for area in areas:
        sites = [f"{area} site {i}" for i in range(draw(st.integers(1, 3)))]
        for g in range(draw(st.integers(1, 4))):
            programme = rnd.choice(["Think First", "ETS"])
            team = rnd.sample(person_ids, rnd.randint(1, min(3, len(person_ids))))
            site = rnd.choice(sites)
            for _ in range(draw(st.integers(1, 18))):
                recording_id += rnd.randint(1, 3)
                facts.append(
                    SessionFacts(
                        recording_id=recording_id,
                        programme=programme,
                        group=f"{area[-1]}-G{g}",
                        area=None if area == areas[0] and rnd.random() < 0.2 else area,
                        site=rnd.choice([site, site, *sites]),
                        session_number=rnd.randint(1, 22),
                        recorded_on=dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randint(0, 200)),
                        is_catch_up=rnd.random() < 0.25,
                        tutor_ids=tuple(rnd.sample(team, rnd.randint(0, len(team)))),
                    )
                )
    people = []
    for pid in person_ids:
        roles = frozenset(rnd.sample(ROLES, rnd.randint(1, len(ROLES))))
        covers = None if rnd.random() < 0.6 else frozenset(rnd.sample([*areas, "(no area)"], rnd.randint(1, len(areas))))
        people.append(PersonFacts(pid, f"Person {pid}", roles, covers, active=rnd.random() > 0.1))
    return facts, people


@st.composite
def policies(draw: st.DrawFn) -> SamplingPolicy:
    strata = st.lists(st.sampled_from(["site", "tutor", "programme", "group", "session_number"]), unique=True, max_size=3)
    return SamplingPolicy(
        name="random",
        version="1",
        title="random policy",
        monitoring=MonitoringRule(
            percent=draw(st.sampled_from([5, 10, 12.5, 33.3, 50, 100])),
            min_sessions_per_tutor=draw(st.integers(0, 2)),
            spread_session_numbers=draw(st.booleans()),
            include_catch_up=draw(st.booleans()),
            due_days_after_session=draw(st.integers(0, 60)),
        ),
        catch_up=CatchUpRule(
            one_in=draw(st.integers(1, 9)),
            per=tuple(draw(st.lists(st.sampled_from(["area", "site", "programme", "group"]), unique=True, max_size=2))),
            stratify_by=tuple(draw(strata)),
        ),
        external_audit=ExternalAuditRule(
            sessions_per_area=draw(st.integers(1, 12)),
            stratify_by=tuple(draw(st.sampled_from([["site", "tutor"], ["site"], ["site", "session_number"]]))),
        ),
        double_rating=DoubleRatingRule(percent=draw(st.sampled_from([0, 20, 50, 100]))),
        min_notice_days=draw(st.integers(0, 14)),
    )


def _draw(facts: Sequence[SessionFacts], people: Sequence[PersonFacts], policy: SamplingPolicy, seed: int = 7,
          previous: Sequence[Selection] = ()) -> Draw:  # fmt: skip
    return draw_sample(facts, people, policy, seed=seed, drawn_on=DRAWN_ON, previous=previous)


# --------------------------------------------------------------------------------------------
# Independent reference computations
# --------------------------------------------------------------------------------------------


def _monitoring_groups(facts: Sequence[SessionFacts], rule: MonitoringRule) -> dict[tuple[str, str], list[SessionFacts]]:
    groups: dict[tuple[str, str], list[SessionFacts]] = defaultdict(list)
    for f in facts:
        if rule.include_catch_up or not f.is_catch_up:
            groups[(f.programme, f.group)].append(f)
    return groups


def _drawn(draw: Draw, rule: Rule) -> set[int]:
    return {s.recording_id for s in draw.all_selections if s.rule is rule}


def _area(f: SessionFacts) -> str:
    return "(no area)" if f.area is None else f.area


def _check_monitoring_targets(facts: Sequence[SessionFacts], policy: SamplingPolicy, draw: Draw) -> None:
    rule = policy.monitoring
    assert rule is not None
    drawn = _drawn(draw, Rule.MONITORING)
    for key, sessions in _monitoring_groups(facts, rule).items():
        picked = [f for f in sessions if f.recording_id in drawn]
        assert len(picked) >= math.ceil(rule.percent * len(sessions) / 100 - 1e-9), key
        delivered = Counter(t for f in sessions for t in f.tutor_ids)
        covered = Counter(t for f in picked for t in f.tutor_ids)
        for tutor, n in delivered.items():
            assert covered[tutor] >= min(n, rule.min_sessions_per_tutor), (key, tutor)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(rosters(), policies(), st.integers(0, 2**32))
def test_every_tutor_is_monitored_in_every_group_and_each_group_meets_its_share(roster, policy, seed) -> None:  # type: ignore[no-untyped-def]
    facts, people = roster
    _check_monitoring_targets(facts, policy, _draw(facts, people, policy, seed))


@PROPERTY_SETTINGS
@given(rosters(), policies(), st.integers(0, 2**32), st.randoms(use_true_random=False))
def test_the_same_seed_gives_the_same_draw_whatever_the_order_of_the_roster(roster, policy, seed, rnd) -> None:  # type: ignore[no-untyped-def]
    facts, people = roster
    shuffled = list(facts)
    rnd.shuffle(shuffled)
    assert _draw(facts, people, policy, seed) == _draw(shuffled, people, policy, seed)


@PROPERTY_SETTINGS
@given(rosters(), policies(), st.integers(0, 2**32))
def test_nobody_is_assigned_a_session_they_delivered_and_every_rater_is_eligible(roster, policy, seed) -> None:  # type: ignore[no-untyped-def]
    facts, people = roster
    by_id = {f.recording_id: f for f in facts}
    person = {p.id: p for p in people}
    draw = _draw(facts, people, policy, seed)
    for s in draw.selections:
        session = by_id[s.recording_id]
        raters = [r for r in (s.rater_id, s.second_rater_id) if r is not None]
        assert not set(raters) & set(session.tutor_ids), s
        assert len(set(raters)) == len(raters)
        assert s.second_rater_id is None or s.rater_id is not None
        for r in raters:
            p = person[r]
            assert p.active and s.rule.rater_role.value in p.roles
            assert p.areas is None or _area(session) in p.areas
        if s.rater_id is None:
            assert any("unassigned" in line for line in draw.shortfalls)


@PROPERTY_SETTINGS
@given(rosters(), policies(), st.integers(0, 2**32), st.integers(0, 2**32), st.floats(0, 1))
def test_a_top_up_keeps_everything_already_drawn_and_meets_the_targets_on_the_larger_roster(
    roster, policy, seed1, seed2, split  # type: ignore[no-untyped-def]
) -> None:
    facts, people = roster
    ordered = sorted(facts, key=lambda f: (f.recorded_on, f.recording_id))
    earlier = ordered[: int(len(ordered) * split)]
    first = _draw(earlier, people, policy, seed1)
    second = _draw(facts, people, policy, seed2, previous=first.selections)
    assert second.previous == first.selections
    before = {(s.rule, s.recording_id) for s in first.selections}
    added = {(s.rule, s.recording_id) for s in second.selections}
    assert not before & added, "a top-up draws nothing twice"
    assert len(added) == len(second.selections)
    _check_monitoring_targets(facts, policy, second)


@PROPERTY_SETTINGS
@given(rosters(), policies(), st.integers(0, 2**32))
def test_catch_up_sessions_are_drawn_one_in_n_rounded_up_in_every_cell(roster, policy, seed) -> None:  # type: ignore[no-untyped-def]
    facts, people = roster
    rule = policy.catch_up
    assert rule is not None
    drawn = _drawn(_draw(facts, people, policy, seed), Rule.CATCH_UP)
    cells: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for f in facts:
        if f.is_catch_up:
            values = {"area": _area(f), "site": f.site, "programme": f.programme, "group": f"{f.programme}/{f.group}"}
            cells[tuple(values[k] for k in rule.per)].append(f.recording_id)
    for cell, ids in cells.items():
        assert len(set(ids) & drawn) == math.ceil(len(ids) / rule.one_in), cell
    assert drawn <= {f.recording_id for f in facts if f.is_catch_up}


@PROPERTY_SETTINGS
@given(rosters(), policies(), st.integers(0, 2**32))
def test_the_external_audit_draws_n_per_area_spread_evenly_over_sites(roster, policy, seed) -> None:  # type: ignore[no-untyped-def]
    facts, people = roster
    rule = policy.external_audit
    assert rule is not None and rule.stratify_by[0] == "site"
    drawn = _drawn(_draw(facts, people, policy, seed), Rule.EXTERNAL_AUDIT)
    by_area: dict[str, list[SessionFacts]] = defaultdict(list)
    for f in facts:
        by_area[_area(f)].append(f)
    for area, sessions in by_area.items():
        picked = [f for f in sessions if f.recording_id in drawn]
        assert len(picked) == min(rule.sessions_per_area, len(sessions)), area
        size = Counter(f.site for f in sessions)
        got = Counter(f.site for f in picked)
        for a in size:
            for b in size:
                # a site gets one more than another only once the other has nothing left to give
                assert got[a] <= got[b] + 1 or got[b] == size[b], (area, got, size)


@PROPERTY_SETTINGS
@given(rosters(), policies(), st.integers(0, 2**32))
def test_double_rating_reaches_its_share_of_each_area_or_says_why_not(roster, policy, seed) -> None:  # type: ignore[no-untyped-def]
    facts, people = roster
    rule = policy.double_rating
    assert rule is not None
    draw = _draw(facts, people, policy, seed)
    area_of = {f.recording_id: _area(f) for f in facts}
    total: Counter[str] = Counter()
    doubled: Counter[str] = Counter()
    for s in draw.selections:
        if s.rule in rule.of:
            total[area_of[s.recording_id]] += 1
            doubled[area_of[s.recording_id]] += s.second_rater_id is not None
    for area in total:
        short = any(line.startswith(f"double rating: area {area} ") for line in draw.shortfalls)
        assert doubled[area] >= math.ceil(rule.percent * total[area] / 100 - 1e-9) or short, area
        assert doubled[area] <= math.ceil(rule.percent * total[area] / 100 - 1e-9)
    assert all(s.second_rater_id is None for s in draw.selections if s.rule not in rule.of)


@PROPERTY_SETTINGS
@given(rosters(), policies(), st.integers(0, 2**32))
def test_monitoring_is_due_weeks_after_the_session_but_never_sooner_than_the_notice(roster, policy, seed) -> None:  # type: ignore[no-untyped-def]
    facts, people = roster
    by_id = {f.recording_id: f for f in facts}
    for s in _draw(facts, people, policy, seed).selections:
        if s.rule is Rule.EXTERNAL_AUDIT:
            assert s.due_on == DRAWN_ON + dt.timedelta(days=policy.external_audit.due_days_after_draw)  # type: ignore[union-attr]
        else:
            config = policy.monitoring if s.rule is Rule.MONITORING else policy.catch_up
            after_session = by_id[s.recording_id].recorded_on + dt.timedelta(days=config.due_days_after_session)  # type: ignore[union-attr]
            assert s.due_on == max(after_session, DRAWN_ON + dt.timedelta(days=policy.min_notice_days))


# --------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------

HMIP = SamplingPolicy(
    name="default", version="1.0", title="HMIP targets", monitoring=MonitoringRule(), catch_up=CatchUpRule(),
    external_audit=ExternalAuditRule(), double_rating=DoubleRatingRule(),
)  # fmt: skip
MANAGERS = [PersonFacts(90, "Helen Price", frozenset({"treatment_manager"})),
            PersonFacts(91, "Mark Dixon", frozenset({"treatment_manager"}))]  # fmt: skip
JO, SAM = PersonFacts(1, "Jo Bell", frozenset({"tutor"})), PersonFacts(2, "Sam Rowe", frozenset({"tutor"}))


def _group(n: int, tutors: Sequence[int] = (1,), *, start: int = 1, group: str = "Carlisle TF-01",
           catch_up: bool = False) -> list[SessionFacts]:  # fmt: skip
    return [
        SessionFacts(start + i, "Think First", group, "Cumbria", "Carlisle", i + 1,
                     dt.date(2026, 1, 5) + dt.timedelta(days=7 * i), catch_up, (tutors[i % len(tutors)],))
        for i in range(n)
    ]  # fmt: skip


@pytest.mark.parametrize(("percent", "n", "expected"), [(10, 10, 1), (10, 11, 2), (10, 14, 2), (12.5, 8, 1),
                                                        (12.5, 9, 2), (33.3, 1000, 333), (100, 7, 7), (0.1, 1, 1)])
def test_shares_are_rounded_up_in_exact_arithmetic(percent: float, n: int, expected: int) -> None:
    assert ceil_percent(percent, n) == expected


def test_a_reason_says_what_the_group_needs_which_tutor_it_covers_and_which_session_number() -> None:
    facts = _group(14, (1, 2))
    draw = _draw(facts, [JO, SAM, *MANAGERS], dataclasses.replace(HMIP, double_rating=None))
    reasons = [s.reason for s in draw.of_rule(Rule.MONITORING)]
    assert len(reasons) == 2
    for reason in reasons:
        assert reason.startswith("monitoring: group Carlisle TF-01 needs 2 of 14 sessions (10%) and 1 per tutor; covers tutor ")
        assert "not yet covered" in reason
    assert {r.split("covers tutor ")[1].split(";")[0] for r in reasons} == {"Jo Bell", "Sam Rowe"}


def test_the_sample_is_spread_across_the_programmes_session_numbers() -> None:
    facts = _group(20)  # sessions 1-20, one tutor: 20% is 4, one from each quarter of the programme
    policy = dataclasses.replace(HMIP, monitoring=MonitoringRule(percent=20), catch_up=None, external_audit=None,
                                 double_rating=None)  # fmt: skip
    for seed in range(25):
        numbers = sorted(f.session_number for f in facts if f.recording_id in _drawn(_draw(facts, MANAGERS, policy, seed), Rule.MONITORING))
        assert [(n - 1) // 5 for n in numbers] == [0, 1, 2, 3], numbers


def test_work_is_shared_evenly_between_managers_but_never_given_to_one_who_delivered() -> None:
    facts = _group(100, (1, 2)) + _group(100, (90,), start=200, group="Barrow TF-02")  # Helen delivered Barrow
    helen = PersonFacts(90, "Helen Price", frozenset({"treatment_manager", "tutor"}))
    draw = _draw(facts, [helen, *MANAGERS[1:], JO, SAM], dataclasses.replace(HMIP, external_audit=None, double_rating=None))
    barrow = {f.recording_id for f in facts if f.group == "Barrow TF-02"}
    assert {s.rater_id for s in draw.selections if s.recording_id in barrow} == {91}
    load = Counter(s.rater_id for s in draw.selections)
    assert load[90] > 0 and abs(load[90] - load[91]) <= 1


def test_a_session_nobody_may_rate_is_drawn_unassigned_and_reported() -> None:
    facts = _group(10, (90,))
    draw = _draw(facts, [PersonFacts(90, "Helen Price", frozenset({"treatment_manager", "tutor"}))],
                 dataclasses.replace(HMIP, external_audit=None, double_rating=None))  # fmt: skip
    assert draw.selections and all(s.rater_id is None for s in draw.selections)
    assert "no eligible rater yet" in draw.selections[0].reason
    assert draw.shortfalls == (
        (
            "monitoring: 1 session(s) in Cumbria left unassigned: no active treatment manager covering the area "
            "who did not deliver them"
        ),
    )


def test_drawing_again_with_nothing_new_adds_nothing() -> None:
    facts = _group(30, (1, 2)) + _group(8, (1,), start=100, catch_up=True)
    people = [JO, SAM, *MANAGERS, PersonFacts(95, "Ruth Okafor", frozenset({"external_assessor"}))]
    first = _draw(facts, people, HMIP, seed=1)
    again = _draw(facts, people, HMIP, seed=2, previous=first.selections)
    assert again.selections == () and again.previous == first.selections


def test_different_seeds_draw_different_samples() -> None:
    facts = _group(200, (1, 2))
    samples = {frozenset(_drawn(_draw(facts, MANAGERS, HMIP, seed), Rule.MONITORING)) for seed in range(5)}
    assert len(samples) > 1


def test_an_empty_roster_draws_nothing() -> None:
    draw = _draw([], MANAGERS, HMIP)
    assert draw.selections == () and draw.shortfalls == ()


def test_a_policy_limited_to_some_programmes_leaves_the_others_alone() -> None:
    ets = [dataclasses.replace(f, programme="ETS", recording_id=f.recording_id + 500) for f in _group(10)]
    policy = dataclasses.replace(HMIP, programmes=("ETS",))
    assert {s.recording_id for s in _draw(_group(10) + ets, MANAGERS, policy).selections} <= {f.recording_id for f in ets}


def test_a_roster_listing_a_recording_twice_is_refused() -> None:
    facts = _group(3)
    with pytest.raises(ValueError, match="more than once"):
        _draw(facts + facts[:1], MANAGERS, HMIP)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MonitoringRule(percent=0), "percentage above 0"),
        (lambda: MonitoringRule(percent=101), "percentage above 0"),
        (lambda: DoubleRatingRule(percent=-1), "percentage from 0"),
        (lambda: CatchUpRule(one_in=0), "one_in"),
        (lambda: ExternalAuditRule(stratify_by=("site", "colour")), "unknown 'colour'"),
        (lambda: ExternalAuditRule(sessions_per_area=-10), "sessions_per_area"),
        (lambda: SamplingPolicy("x", "1", "t"), "no rule"),
        (lambda: SamplingPolicy("x", "1", "t", monitoring=MonitoringRule(), double_rating=DoubleRatingRule()),
         "catch_up, which the policy does not apply"),
    ],
)
def test_rules_built_in_code_are_checked_too(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        make()


def test_a_negative_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="seed"):
        draw_sample(_group(3), MANAGERS, HMIP, seed=-1, drawn_on=DRAWN_ON)

