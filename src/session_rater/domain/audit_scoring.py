"""The audit's own scoring: the Implementation Quality Rating (IQR) of an audit of accredited
programmes, and the start of a follow-up audit.

Source: HM Inspectorate of Probation, *Audit of Accredited Programmes, Level 2 Follow-up Report
on Cumbria Probation Area - Think First* (November 2002), "Scoring Approach":

* each criterion is **Fully Met** (2 marks), **Largely Met** (1) or **Not Met** (0); a criterion
  not assessed is **N/A** and is left out of both the marks and the maximum;
* a criterion designated *mandatory* (in the Performance Standards Manual) has its mark doubled,
  and so its maximum (4 instead of 2), so that a section's percentage stays within 0 to 100;
* a section's percentage is its marks over the maximum available, times 100::

      p_s = 100 * sum_{c in s, c not N/A} f_c * m_c  /  sum_{c in s, c not N/A} f_c * 2

  with ``f_c`` = 2 for a mandatory criterion, else 1;
* the IQR is the weighted sum of the section percentages, with weights A 20%, B 30%, C 30%,
  D 20%::

      IQR = sum_s (w_s / 100) * p_s

* in a follow-up audit, criteria fully met at the original audit are not re-assessed: their
  marks carry over (:func:`follow_up`).

Arithmetic is exact (:class:`fractions.Fraction`); figures are rounded half up only for display.
Which criteria are mandatory is not public (the manual is not available): an instrument marks
none unless an audit team says otherwise (:meth:`AuditInstrument.with_mandatory`).

Pure: imports only the standard library and the exception tree.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from types import MappingProxyType

from session_rater.errors import AuditError

__all__ = [
    "CARRIED_OVER_NOTE",
    "DEFAULT_SCALE",
    "MANDATORY_FACTOR",
    "AuditInstrument",
    "AuditMarks",
    "AuditScore",
    "AuditSection",
    "Criterion",
    "CriterionMark",
    "CriterionResult",
    "FollowUp",
    "MarkLevel",
    "SectionScore",
    "SubSection",
    "SubSectionScore",
    "follow_up",
    "format_half_up",
    "score_audit",
]

MANDATORY_FACTOR = 2
"""A mandatory criterion's mark, and its maximum, count this many times ("the mark given is
doubled")."""

CARRIED_OVER_NOTE = "Criterion fully met at the previous audit; not re-assessed, mark carried over."


@dataclass(frozen=True)
class MarkLevel:
    """One point of the audit's scale: 2 "Fully Met", 1 "Largely Met", 0 "Not Met"."""

    value: int
    label: str


DEFAULT_SCALE = (MarkLevel(0, "Not Met"), MarkLevel(1, "Largely Met"), MarkLevel(2, "Fully Met"))


@dataclass(frozen=True)
class Criterion:
    id: str  # as the audit report numbers it, e.g. "B2.3"
    title: str
    description: str = ""


@dataclass(frozen=True)
class SubSection:
    id: str  # e.g. "B2"
    title: str  # "" where the report gives none
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class AuditSection:
    id: str  # "A" to "D"
    title: str
    weight: int  # percent of the IQR; the weights of an instrument sum to 100
    subsections: tuple[SubSection, ...]

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for sub in self.subsections for c in sub.criteria)


@dataclass(frozen=True)
class AuditInstrument:
    """The audit's criteria in sections and sub-sections, the section weights, the scale and
    the set of mandatory criteria. Checked on construction; :class:`AuditError` lists every
    rule broken."""

    id: str
    version: str
    title: str
    source: str
    sections: tuple[AuditSection, ...]
    mandatory: frozenset[str] = frozenset()
    scale: tuple[MarkLevel, ...] = DEFAULT_SCALE
    not_applicable_label: str = "N/A"

    def __post_init__(self) -> None:
        object.__setattr__(self, "mandatory", frozenset(self.mandatory))
        problems = _instrument_problems(self)
        if problems:
            raise AuditError(f"audit instrument {self.id!r}: " + "; ".join(problems))

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for section in self.sections for c in section.criteria)

    @property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria)

    @property
    def top_mark(self) -> int:
        """The mark of a fully met criterion."""
        return max(level.value for level in self.scale)

    @property
    def mark_values(self) -> tuple[int, ...]:
        return tuple(level.value for level in self.scale)

    def label(self, mark: int | None) -> str:
        if mark is None:
            return self.not_applicable_label
        return next(level.label for level in self.scale if level.value == mark)

    def describe_scale(self) -> str:
        points = ", ".join(f"{level.value} ({level.label})" for level in self.scale)
        return f"{points} or {self.not_applicable_label}"

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise AuditError(unknown_criterion_message(criterion_id, self))

    def is_mandatory(self, criterion_id: str) -> bool:
        return criterion_id in self.mandatory

    def with_mandatory(self, criterion_ids: Iterable[str]) -> AuditInstrument:
        """This instrument with ``criterion_ids`` (and only those) mandatory: how an audit team
        that has the Performance Standards Manual marks them."""
        return replace(self, mandatory=frozenset(criterion_ids))


def unknown_criterion_message(criterion_id: str, instrument: AuditInstrument) -> str:
    """"unknown criterion 'B9.9' ..." with the closest known id, for every caller's messages."""
    known = instrument.criterion_ids
    by_case = {c.casefold(): c for c in known}
    close = [by_case[criterion_id.casefold()]] if criterion_id.casefold() in by_case else (
        difflib.get_close_matches(criterion_id, known, n=1)
    )
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"unknown criterion {criterion_id!r}{hint}; {instrument.id} has criteria "
        f"{known[0]} to {known[-1]}"
    )


def _duplicates(ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    twice: list[str] = []
    for identifier in ids:
        if identifier in seen and identifier not in twice:
            twice.append(identifier)
        seen.add(identifier)
    return twice


def _instrument_problems(instrument: AuditInstrument) -> list[str]:
    problems: list[str] = []
    values = sorted(level.value for level in instrument.scale)
    if len(values) < 2 or values != list(range(len(values))):
        problems.append(f"the scale's marks must be 0, 1, 2 ... without gaps, not {values}")
    if not instrument.sections:
        problems.append("an instrument needs at least one section")
    weights = [s.weight for s in instrument.sections]
    if any(isinstance(w, bool) or not isinstance(w, int) or w <= 0 for w in weights):
        problems.append(f"section weights must be whole percentages above 0, not {weights}")
    elif instrument.sections and sum(weights) != 100:
        problems.append(f"section weights must sum to 100, not {sum(weights)} ({weights})")
    for section in instrument.sections:
        if not section.criteria:
            problems.append(f"section {section.id} has no criteria")
    for kind, ids in (
        ("section", [s.id for s in instrument.sections]),
        ("sub-section", [sub.id for s in instrument.sections for sub in s.subsections]),
        ("criterion", list(instrument.criterion_ids)),
    ):
        for twice in _duplicates(ids):
            problems.append(f"{kind} id {twice!r} is used more than once")
    unknown = sorted(instrument.mandatory - set(instrument.criterion_ids))
    if unknown:
        problems.append(f"mandatory criteria {', '.join(unknown)} are not criteria of the instrument")
    return problems


# --------------------------------------------------------------------------------------------
# Marks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionMark:
    """The mark one audit gave one criterion: 0, 1, 2 or ``None`` for N/A (not assessed)."""

    criterion_id: str
    mark: int | None
    note: str = ""
    carried_over: bool = False  # fully met at the previous audit and not re-assessed

    def __post_init__(self) -> None:
        if self.mark is not None and (isinstance(self.mark, bool) or not isinstance(self.mark, int)):
            raise AuditError(
                f"criterion {self.criterion_id}: a mark is a whole number or None (N/A), "
                f"not {self.mark!r}"
            )
        if self.carried_over and self.mark is None:
            raise AuditError(
                f"criterion {self.criterion_id}: only a fully met criterion carries over, "
                "and an N/A criterion has no mark"
            )


@dataclass(frozen=True)
class AuditMarks:
    """The marks of one audit, complete or in progress, each criterion at most once."""

    marks: tuple[CriterionMark, ...] = ()
    _by_id: Mapping[str, CriterionMark] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "marks", tuple(self.marks))
        twice = _duplicates(m.criterion_id for m in self.marks)
        if twice:
            raise AuditError(f"criteria marked more than once: {', '.join(twice)}; keep one mark each")
        object.__setattr__(self, "_by_id", MappingProxyType({m.criterion_id: m for m in self.marks}))

    def __iter__(self) -> Iterator[CriterionMark]:
        return iter(self.marks)

    def __len__(self) -> int:
        return len(self.marks)

    def __contains__(self, criterion_id: object) -> bool:
        return criterion_id in self._by_id

    def __getitem__(self, criterion_id: str) -> CriterionMark:
        return self._by_id[criterion_id]

    def get(self, criterion_id: str) -> CriterionMark | None:
        return self._by_id.get(criterion_id)

    def with_mark(self, mark: CriterionMark, *, replace_carried_over: bool = False) -> AuditMarks:
        """These marks with ``mark`` added, or replacing the criterion's earlier mark. A mark
        carried over from the previous audit is kept unless ``replace_carried_over``: the audit
        does not re-assess it."""
        old = self._by_id.get(mark.criterion_id)
        if old is not None and old.carried_over and not replace_carried_over:
            raise AuditError(
                f"criterion {mark.criterion_id} was fully met at the previous audit and its mark "
                "is carried over; pass replace_carried_over=True to re-assess it"
            )
        if old is None:
            return AuditMarks((*self.marks, mark))
        return AuditMarks(tuple(mark if m.criterion_id == mark.criterion_id else m for m in self.marks))


def _marks_problems(marks: AuditMarks, instrument: AuditInstrument, *, complete: bool) -> list[str]:
    problems: list[str] = []
    known = set(instrument.criterion_ids)
    for m in marks:
        if m.criterion_id not in known:
            problems.append(unknown_criterion_message(m.criterion_id, instrument))
        elif m.mark is not None and m.mark not in instrument.mark_values:
            problems.append(
                f"criterion {m.criterion_id}: mark {m.mark} is off the scale; use "
                f"{instrument.describe_scale()}"
            )
        elif m.carried_over and m.mark != instrument.top_mark:
            problems.append(
                f"criterion {m.criterion_id}: marked carried over with {m.mark}, but only a fully "
                f"met criterion ({instrument.top_mark}) carries over"
            )
    if complete:
        missing = [c for c in instrument.criterion_ids if c not in marks]
        if missing:
            problems.append(
                f"no mark for {len(missing)} criteria ({', '.join(missing)}); give each a mark "
                f"({instrument.describe_scale()})"
            )
    return problems


def _check_marks(marks: AuditMarks, instrument: AuditInstrument, *, complete: bool) -> None:
    problems = _marks_problems(marks, instrument, complete=complete)
    if problems:
        raise AuditError("; ".join(problems))


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


def format_half_up(value: Fraction | float | int, places: int = 1) -> str:
    """``value`` rounded half up (as a person rounds: 62.25 -> 62.3, 64.5 -> 65), as text."""
    exact = Fraction(value)
    decimal = Decimal(exact.numerator) / Decimal(exact.denominator)
    return str(decimal.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class CriterionResult:
    """One criterion as scored: its mark, and what it counts towards its section."""

    criterion: Criterion
    mark: CriterionMark
    mandatory: bool
    marks: int  # the mark, doubled if mandatory; 0 if N/A
    maximum: int  # the top mark, doubled if mandatory; 0 if N/A

    @property
    def not_applicable(self) -> bool:
        return self.mark.mark is None


@dataclass(frozen=True)
class SubSectionScore:
    id: str
    title: str
    criteria: tuple[CriterionResult, ...]

    @property
    def marks(self) -> int:
        return sum(c.marks for c in self.criteria)

    @property
    def maximum(self) -> int:
        return sum(c.maximum for c in self.criteria)


@dataclass(frozen=True)
class SectionScore:
    """A section's marks over the maximum available, its percentage and its weighted share."""

    id: str
    title: str
    weight: int
    subsections: tuple[SubSectionScore, ...]

    @property
    def criteria(self) -> tuple[CriterionResult, ...]:
        return tuple(c for sub in self.subsections for c in sub.criteria)

    @property
    def marks(self) -> int:
        return sum(sub.marks for sub in self.subsections)

    @property
    def maximum(self) -> int:
        return sum(sub.maximum for sub in self.subsections)

    @property
    def assessed(self) -> int:
        return sum(1 for c in self.criteria if not c.not_applicable)

    @property
    def not_applicable(self) -> int:
        return sum(1 for c in self.criteria if c.not_applicable)

    @property
    def exact_percent(self) -> Fraction:
        return _section_percentage(self.marks, self.maximum)

    @property
    def percent(self) -> float:
        return float(self.exact_percent)

    @property
    def exact_weighted(self) -> Fraction:
        return Fraction(self.weight, 100) * self.exact_percent

    @property
    def weighted(self) -> float:
        return float(self.exact_weighted)

    @property
    def arithmetic(self) -> str:
        """e.g. ``"A: 5 of 8 available = 62.5% x 20% = 12.5"``."""
        return (
            f"{self.id}: {self.marks} of {self.maximum} available = "
            f"{format_half_up(self.exact_percent)}% x {self.weight}% = "
            f"{format_half_up(self.exact_weighted)}"
        )


@dataclass(frozen=True)
class AuditScore:
    """The scoring summary of one audit: each section's arithmetic and the IQR."""

    instrument_id: str
    instrument_version: str
    instrument_title: str
    scale: tuple[MarkLevel, ...]
    not_applicable_label: str
    sections: tuple[SectionScore, ...]
    exact_iqr: Fraction
    mandatory: tuple[str, ...]  # in the instrument's order
    mandatory_not_fully_met: tuple[str, ...]  # mandatory, marked below the top mark (not N/A)

    @property
    def iqr(self) -> float:
        """The IQR, from 0 to 100, unrounded."""
        return float(self.exact_iqr)

    @property
    def iqr_rounded(self) -> int:
        """The IQR as the audit prints it: a whole percentage, rounded half up."""
        return int(format_half_up(self.exact_iqr, 0))

    @property
    def criteria(self) -> tuple[CriterionResult, ...]:
        return tuple(c for section in self.sections for c in section.criteria)

    @property
    def carried_over(self) -> tuple[str, ...]:
        return tuple(c.criterion.id for c in self.criteria if c.mark.carried_over)

    @property
    def arithmetic(self) -> str:
        """e.g. ``"IQR = 12.5 + 23.5 + 17.5 + 10.0 = 63.5, rounded 63%"``."""
        parts = " + ".join(format_half_up(s.exact_weighted) for s in self.sections)
        return f"IQR = {parts} = {format_half_up(self.exact_iqr)}, rounded {self.iqr_rounded}%"

    def label(self, mark: int | None) -> str:
        if mark is None:
            return self.not_applicable_label
        return next(level.label for level in self.scale if level.value == mark)


def _factor(mandatory: bool) -> int:
    return MANDATORY_FACTOR if mandatory else 1


def _counted(mark: int | None, top: int, mandatory: bool) -> tuple[int, int]:
    """(marks, maximum) a criterion adds to its section: nothing if N/A, doubled if mandatory."""
    if mark is None:
        return 0, 0
    return _factor(mandatory) * mark, _factor(mandatory) * top


def _section_percentage(marks: int, maximum: int) -> Fraction:
    return Fraction(100 * marks, maximum)


def score_audit(marks: AuditMarks, instrument: AuditInstrument) -> AuditScore:
    """Score a complete audit: each section's percentage and the IQR.

    Every criterion of ``instrument`` must have a mark (N/A counts as a mark); a section whose
    criteria are all N/A has no percentage, and then the IQR is undefined: both raise
    :class:`AuditError`, as does a mark off the scale or for an unknown criterion.
    """
    _check_marks(marks, instrument, complete=True)
    top = instrument.top_mark
    sections: list[SectionScore] = []
    for section in instrument.sections:
        subsections: list[SubSectionScore] = []
        for sub in section.subsections:
            results: list[CriterionResult] = []
            for criterion in sub.criteria:
                given = marks[criterion.id]  # every criterion has one: checked above
                mandatory = instrument.is_mandatory(criterion.id)
                counted, maximum = _counted(given.mark, top, mandatory)
                results.append(CriterionResult(criterion, given, mandatory, counted, maximum))
            subsections.append(SubSectionScore(sub.id, sub.title, tuple(results)))
        scored = SectionScore(section.id, section.title, section.weight, tuple(subsections))
        if scored.maximum == 0:
            raise AuditError(
                f"every criterion of section {section.id} ({section.title}) is N/A, so the "
                "section has no percentage and the IQR is undefined; assess at least one of "
                f"{', '.join(c.id for c in section.criteria)}"
            )
        sections.append(scored)
    mandatory = tuple(c for c in instrument.criterion_ids if instrument.is_mandatory(c))
    not_fully_met = tuple(
        c for c in mandatory if (m := marks.get(c)) is not None and m.mark is not None and m.mark < top
    )
    return AuditScore(
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        instrument_title=instrument.title,
        scale=instrument.scale,
        not_applicable_label=instrument.not_applicable_label,
        sections=tuple(sections),
        exact_iqr=sum((s.exact_weighted for s in sections), Fraction(0)),
        mandatory=mandatory,
        mandatory_not_fully_met=not_fully_met,
    )


# --------------------------------------------------------------------------------------------
# Follow-up audits
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    """The start of a follow-up audit.

    ``marks`` holds the criteria fully met at the previous audit, carried over; the audit team
    marks the criteria in ``to_reassess`` (:meth:`AuditMarks.with_mark`) and then scores the
    whole with :func:`score_audit`. ``mandatory_not_fully_met`` lists the mandatory criteria
    the previous audit did not find fully met: the ones the area was told to attend to.
    """

    marks: AuditMarks
    to_reassess: tuple[str, ...]
    mandatory_not_fully_met: tuple[str, ...]


def follow_up(previous_marks: AuditMarks, instrument: AuditInstrument) -> FollowUp:
    """Start a follow-up audit from ``previous_marks`` under ``instrument``.

    A criterion fully met at the previous audit (whether assessed then or itself carried over)
    carries over with its mark and ``carried_over=True``; every other criterion (marked below
    the top mark, N/A, or not marked at all) is to be re-assessed.
    """
    _check_marks(previous_marks, instrument, complete=False)
    top = instrument.top_mark
    carried: list[CriterionMark] = []
    to_reassess: list[str] = []
    not_fully_met: list[str] = []
    for criterion_id in instrument.criterion_ids:
        previous = previous_marks.get(criterion_id)
        if previous is not None and previous.mark == top:
            carried.append(CriterionMark(criterion_id, top, CARRIED_OVER_NOTE, carried_over=True))
            continue
        to_reassess.append(criterion_id)
        if instrument.is_mandatory(criterion_id) and previous is not None and previous.mark is not None:
            not_fully_met.append(criterion_id)
    return FollowUp(AuditMarks(tuple(carried)), tuple(to_reassess), tuple(not_fully_met))
