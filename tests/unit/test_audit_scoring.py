"""The audit's own scoring (the IQR): section percentages, mandatory criteria, N/A, follow-ups.

Expected numbers are worked by hand in the comments from the rules of HMIP's "Scoring
Approach" (2002 follow-up audit of Think First in Cumbria): 2/1/0 marks, mandatory doubled,
N/A left out, section % = marks / maximum x 100, IQR = 0.2 A + 0.3 B + 0.3 C + 0.2 D.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from session_rater.domain.audit_scoring import (
    CARRIED_OVER_NOTE,
    AuditInstrument,
    AuditMarks,
    AuditSection,
    Criterion,
    CriterionMark,
    SubSection,
    follow_up,
    format_half_up,
    score_audit,
)
from session_rater.errors import AuditError, SessionRaterError


def _section(section_id: str, weight: int, *criteria: str) -> AuditSection:
    subsections: dict[str, list[Criterion]] = {}
    for criterion_id in criteria:
        subsections.setdefault(criterion_id.split(".")[0], []).append(Criterion(criterion_id, f"Criterion {criterion_id}"))
    return AuditSection(
        section_id,
        f"Section {section_id}",
        weight,
        tuple(SubSection(sub, "", tuple(items)) for sub, items in subsections.items()),
    )


SMALL = AuditInstrument(
    id="small-audit",
    version="1.0",
    title="A small audit",
    source="tests",
    sections=(
        _section("A", 20, "A1.1", "A1.2"),
        _section("B", 30, "B1.1", "B1.2", "B2.1"),
        _section("C", 30, "C1.1", "C1.2"),
        _section("D", 20, "D1.1", "D1.2"),
    ),
)


def _marks(**given: int | None) -> AuditMarks:
    """Marks keyed like A1_1=2 (Python names cannot hold dots)."""
    return AuditMarks(tuple(CriterionMark(key.replace("_", "."), mark) for key, mark in given.items()))


# A 2,1 | B 2,0,1 | C 2,2 | D 0,1
BASE = dict(A1_1=2, A1_2=1, B1_1=2, B1_2=0, B2_1=1, C1_1=2, C1_2=2, D1_1=0, D1_2=1)


def test_iqr_without_mandatory_criteria_or_na_is_the_weighted_sum_of_section_percentages() -> None:
    score = score_audit(_marks(**BASE), SMALL)
    # A 3/4 = 75% x 20% = 15; B 3/6 = 50% x 30% = 15; C 4/4 = 100% x 30% = 30; D 1/4 = 25% x 20% = 5
    assert [(s.marks, s.maximum, s.percent) for s in score.sections] == [(3, 4, 75.0), (3, 6, 50.0), (4, 4, 100.0), (1, 4, 25.0)]
    assert score.exact_iqr == 65
    assert score.iqr_rounded == 65
    assert [s.arithmetic for s in score.sections] == [
        "A: 3 of 4 available = 75.0% x 20% = 15.0",
        "B: 3 of 6 available = 50.0% x 30% = 15.0",
        "C: 4 of 4 available = 100.0% x 30% = 30.0",
        "D: 1 of 4 available = 25.0% x 20% = 5.0",
    ]
    assert score.arithmetic == "IQR = 15.0 + 15.0 + 30.0 + 5.0 = 65.0, rounded 65%"
    assert score.mandatory == () and score.mandatory_not_fully_met == ()


def test_an_na_criterion_is_left_out_of_both_the_marks_and_the_maximum() -> None:
    score = score_audit(_marks(**{**BASE, "B1_2": None}), SMALL)
    # B: 2 + 1 of 2 + 2 = 3/4 = 75% x 30% = 22.5; IQR = 15 + 22.5 + 30 + 5 = 72.5
    b = score.sections[1]
    assert (b.marks, b.maximum, b.assessed, b.not_applicable) == (3, 4, 2, 1)
    assert score.exact_iqr == Fraction(145, 2)
    assert score.iqr_rounded == 73  # half up, as a person rounds (round() would give 72)


def test_a_mandatory_criterion_counts_double_in_marks_and_maximum() -> None:
    instrument = SMALL.with_mandatory({"B1.2", "D1.2"})
    score = score_audit(_marks(**BASE), instrument)
    # B: 2 + 2x0 + 1 = 3 of 2 + 4 + 2 = 8 -> 37.5% x 30% = 11.25
    # D: 0 + 2x1 = 2 of 2 + 4 = 6 -> 33.3% x 20% = 6.67
    # IQR = 15 + 11.25 + 30 + 20/3 = 62.9166...
    assert (score.sections[1].marks, score.sections[1].maximum) == (3, 8)
    assert (score.sections[3].marks, score.sections[3].maximum) == (2, 6)
    assert score.exact_iqr == Fraction(15) + Fraction(45, 4) + 30 + Fraction(20, 3)
    assert score.iqr_rounded == 63
    assert score.sections[3].arithmetic == "D: 2 of 6 available = 33.3% x 20% = 6.7"
    assert score.mandatory == ("B1.2", "D1.2")
    assert score.mandatory_not_fully_met == ("B1.2", "D1.2")


def test_a_mandatory_na_criterion_is_left_out_and_is_not_listed_as_not_fully_met() -> None:
    instrument = SMALL.with_mandatory({"A1.1", "B1.2"})
    score = score_audit(_marks(**{**BASE, "B1_2": None}), instrument)
    # A: 2x2 + 1 = 5 of 4 + 2 = 6 -> 83.3% x 20% = 16.67; B as with N/A: 22.5
    # IQR = 50/3 + 22.5 + 30 + 5 = 74.1666...
    assert (score.sections[0].marks, score.sections[0].maximum) == (5, 6)
    assert score.exact_iqr == Fraction(50, 3) + Fraction(45, 2) + 30 + 5
    assert score.iqr_rounded == 74
    assert score.mandatory == ("A1.1", "B1.2")
    assert score.mandatory_not_fully_met == ()  # A1.1 fully met, B1.2 not assessed


def test_doubling_changes_nothing_in_a_section_whose_marks_are_all_equal() -> None:
    marks = _marks(**{**BASE, "C1_1": 1, "C1_2": 1})
    plain = score_audit(marks, SMALL)
    doubled = score_audit(marks, SMALL.with_mandatory({"C1.1"}))
    assert plain.sections[2].percent == doubled.sections[2].percent == 50.0


@pytest.mark.parametrize(("mark", "iqr"), [(0, 0), (1, 50), (2, 100)])
def test_the_iqr_runs_from_0_to_100(mark: int, iqr: int) -> None:
    marks = AuditMarks(tuple(CriterionMark(c, mark) for c in SMALL.criterion_ids))
    assert score_audit(marks, SMALL).exact_iqr == iqr
    assert score_audit(marks, SMALL.with_mandatory(SMALL.criterion_ids[:3])).exact_iqr == iqr


def test_rounding_for_display_is_half_up() -> None:
    assert [format_half_up(x) for x in (Fraction(125, 2), Fraction(6225, 100), Fraction(20, 3))] == ["62.5", "62.3", "6.7"]
    assert format_half_up(Fraction(129, 2), 0) == "65"


# --------------------------------------------------------------------------------------------
# What cannot be scored
# --------------------------------------------------------------------------------------------


def test_a_criterion_without_a_mark_is_refused_naming_it() -> None:
    given = dict(BASE)
    del given["C1_2"], given["D1_1"]
    with pytest.raises(AuditError, match=r"no mark for 2 criteria \(C1\.2, D1\.1\)"):
        score_audit(_marks(**given), SMALL)


def test_a_mark_off_the_scale_is_refused() -> None:
    with pytest.raises(AuditError, match=r"criterion A1\.1: mark 3 is off the scale; use 0 \(Not Met\), 1 \(Largely Met\), 2 \(Fully Met\) or N/A"):
        score_audit(_marks(**{**BASE, "A1_1": 3}), SMALL)


def test_an_unknown_criterion_is_refused_with_the_closest_id() -> None:
    with pytest.raises(AuditError, match=r"unknown criterion 'a1\.1' \(did you mean 'A1\.1'\?\)"):
        score_audit(AuditMarks((*_marks(**BASE).marks, CriterionMark("a1.1", 2))), SMALL)


def test_a_criterion_marked_twice_is_refused() -> None:
    with pytest.raises(AuditError, match=r"criteria marked more than once: A1\.1"):
        AuditMarks((CriterionMark("A1.1", 2), CriterionMark("A1.1", 1)))


def test_a_section_with_every_criterion_na_has_no_percentage_so_no_iqr() -> None:
    with pytest.raises(AuditError, match=r"every criterion of section C .* is N/A"):
        score_audit(_marks(**{**BASE, "C1_1": None, "C1_2": None}), SMALL)


@pytest.mark.parametrize("mark", [True, 1.5, "2"])
def test_a_mark_is_a_whole_number_or_none(mark: object) -> None:
    with pytest.raises(AuditError, match="a mark is a whole number or None"):
        CriterionMark("A1.1", mark)  # type: ignore[arg-type]


def test_an_na_criterion_cannot_be_carried_over() -> None:
    with pytest.raises(AuditError, match="only a fully met criterion carries over"):
        CriterionMark("A1.1", None, carried_over=True)


def test_a_carried_over_mark_below_fully_met_is_refused() -> None:
    marks = AuditMarks(tuple(CriterionMark(c, 1, carried_over=c == "A1.1") for c in SMALL.criterion_ids))
    with pytest.raises(AuditError, match=r"A1\.1: marked carried over with 1"):
        score_audit(marks, SMALL)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s[:3] + (replace(s[3], weight=25),), r"section weights must sum to 100, not 105"),
        (lambda s: (s[0], s[0], s[2], s[3]), r"section id 'A' is used more than once"),
        (lambda s: s[:3] + (replace(s[3], subsections=()),), r"section D has no criteria"),
        (lambda s: s[:3] + (replace(s[3], weight=0),), r"whole percentages above 0"),
    ],
)
def test_an_instrument_breaking_a_scoring_rule_is_refused(change, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuditError, match=message):
        AuditInstrument("x", "1", "x", "x", change(SMALL.sections))


def test_mandatory_criteria_must_be_criteria_of_the_instrument() -> None:
    with pytest.raises(AuditError, match=r"mandatory criteria Z9\.9 are not criteria"):
        SMALL.with_mandatory({"A1.1", "Z9.9"})


def test_audit_errors_are_session_rater_errors_and_value_errors() -> None:
    assert issubclass(AuditError, SessionRaterError) and issubclass(AuditError, ValueError)


# --------------------------------------------------------------------------------------------
# Follow-up audits
# --------------------------------------------------------------------------------------------


def test_a_follow_up_carries_over_fully_met_criteria_and_lists_the_rest_to_reassess() -> None:
    instrument = SMALL.with_mandatory({"A1.2", "B1.2", "C1.1"})
    previous = _marks(**{**BASE, "D1_2": None})
    start = follow_up(previous, instrument)
    assert [(m.criterion_id, m.mark, m.carried_over, m.note) for m in start.marks] == [
        (c, 2, True, CARRIED_OVER_NOTE) for c in ("A1.1", "B1.1", "C1.1", "C1.2")
    ]
    assert start.to_reassess == ("A1.2", "B1.2", "B2.1", "D1.1", "D1.2")
    # mandatory and marked below 2 at the previous audit (C1.1 was fully met)
    assert start.mandatory_not_fully_met == ("A1.2", "B1.2")


def test_completing_a_follow_up_scores_carried_over_marks_with_the_new_ones() -> None:
    start = follow_up(_marks(**BASE), SMALL)
    marks = start.marks
    for criterion_id, mark in {"A1.2": 2, "B1.2": 1, "B2.1": 1, "D1.1": None, "D1.2": 1}.items():
        marks = marks.with_mark(CriterionMark(criterion_id, mark, "re-assessed"))
    score = score_audit(marks, SMALL)
    # A 4/4 = 100% -> 20; B 2+1+1 = 4/6 -> 20; C 4/4 -> 30; D (D1.1 N/A) 1/2 = 50% -> 10: IQR 80
    assert score.exact_iqr == 80
    assert score.carried_over == ("A1.1", "B1.1", "C1.1", "C1.2")


def test_a_carried_over_mark_is_not_replaced_unless_asked() -> None:
    start = follow_up(_marks(**BASE), SMALL)
    with pytest.raises(AuditError, match=r"A1\.1 was fully met at the previous audit"):
        start.marks.with_mark(CriterionMark("A1.1", 1))
    replaced = start.marks.with_mark(CriterionMark("A1.1", 1), replace_carried_over=True)
    assert replaced["A1.1"] == CriterionMark("A1.1", 1)


def test_a_follow_up_of_a_follow_up_carries_over_what_was_carried_over_and_what_is_now_fully_met() -> None:
    first = follow_up(_marks(**BASE), SMALL).marks
    for criterion_id in ("A1.2", "B1.2", "B2.1", "D1.1", "D1.2"):
        first = first.with_mark(CriterionMark(criterion_id, 2 if criterion_id == "B2.1" else 1))
    second = follow_up(first, SMALL)
    assert [m.criterion_id for m in second.marks] == ["A1.1", "B1.1", "B2.1", "C1.1", "C1.2"]
    assert second.to_reassess == ("A1.2", "B1.2", "D1.1", "D1.2")


def test_a_follow_up_of_marks_for_another_instrument_is_refused() -> None:
    with pytest.raises(AuditError, match=r"unknown criterion 'E1\.1'"):
        follow_up(AuditMarks((CriterionMark("E1.1", 2),)), SMALL)
