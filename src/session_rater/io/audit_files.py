"""Audit files: the audit instrument (YAML) and an audit's marks (CSV), read strictly; the
scoring summary written as a marks CSV, the JSON contract and plain text.

**The instrument** (schema in ``audits/README.md``) is checked like the rubric files, in two
passes that together report every problem of the file in one
:class:`~session_rater.errors.AuditInstrumentError`, each as ``"{file}: {dotted.path}: {what}"``:

1. pydantic models (``extra="forbid"``, strict types) check keys, types and id patterns;
2. cross-field checks on the raw data: weights summing to 100, ids unique, each criterion's id
   inside its sub-section's (``B2.3`` in ``B2``) and each sub-section's inside its section's,
   mandatory ids that are criteria, a scale of 0, 1, 2 ... without gaps.

**A marks file** is CSV with the columns ``criterion_id,mark`` and, optionally, ``note``,
``carried_over`` (yes/no) and ``title`` (for people; not checked). A mark is one of the scale's
values, or ``N/A`` or empty for a criterion not assessed. Every criterion of the instrument
needs a row (an omitted one would silently change the maximum). A mark off the scale, an unknown
criterion, a criterion listed twice, a missing or unknown column: every problem is listed with
its line number (the header is line 1) in one :class:`~session_rater.errors.AuditMarksError`,
and nothing is scored.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, ValidationError

from session_rater.domain.audit_scoring import (
    AuditInstrument,
    AuditMarks,
    AuditScore,
    AuditSection,
    Criterion,
    CriterionMark,
    MarkLevel,
    SubSection,
    unknown_criterion_message,
)
from session_rater.errors import AuditError, AuditInstrumentError, AuditMarksError
from session_rater.io.spreadsheets import safe_cell, unguard
from session_rater.io.yaml_support import (
    TOP_LEVEL,
    StrictLoader,
    basic_type_message,
    describe,
    yaml_error_message,
)

__all__ = [
    "MARKS_COLUMNS",
    "REQUIRED_MARKS_COLUMNS",
    "audit_instrument_to_dict",
    "audit_marks_to_csv",
    "entered_marks_to_csv",
    "audit_score_to_json",
    "audit_score_to_text",
    "load_audit_instrument",
    "load_audit_marks",
    "parse_audit_instrument",
    "parse_audit_instrument_text",
    "parse_audit_marks_csv",
]

_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_VERSION = r"^[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*$"
_SECTION_ID = r"^[A-Z]$"
_SUBSECTION_ID = r"^[A-Z][0-9]+$"
_CRITERION_ID = r"^[A-Z][0-9]+\.[0-9]+$"
_EMPTY = "must not be empty"


# --------------------------------------------------------------------------------------------
# The instrument, pass 1: the schema
# --------------------------------------------------------------------------------------------


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError(_EMPTY)
    return text.strip()


Text = Annotated[StrictStr, AfterValidator(_not_blank)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _PointModel(_Model):
    value: int
    label: Text


class _ScaleModel(_Model):
    points: list[_PointModel] = Field(min_length=2)
    not_applicable: Text = "N/A"


class _CriterionModel(_Model):
    id: Annotated[StrictStr, Field(pattern=_CRITERION_ID)]
    title: Text
    description: Text | None = None


class _SubSectionModel(_Model):
    id: Annotated[StrictStr, Field(pattern=_SUBSECTION_ID)]
    title: Text | None = None
    criteria: list[_CriterionModel] = Field(min_length=1)


class _SectionModel(_Model):
    id: Annotated[StrictStr, Field(pattern=_SECTION_ID)]
    title: Text
    weight: Annotated[int, Field(gt=0, le=100)]
    subsections: list[_SubSectionModel] = Field(min_length=1)


class _InstrumentModel(_Model):
    id: Annotated[StrictStr, Field(pattern=_SLUG)]
    version: Annotated[StrictStr, Field(pattern=_VERSION)]
    title: Text
    source: Text
    description: Text | None = None
    scale: _ScaleModel
    mandatory: list[Annotated[StrictStr, Field(pattern=_CRITERION_ID)]]
    sections: list[_SectionModel] = Field(min_length=1)


_MODEL_UNDER: dict[str | None, type[_Model]] = {
    None: _InstrumentModel,
    "scale": _ScaleModel,
    "points": _PointModel,
    "sections": _SectionModel,
    "subsections": _SubSectionModel,
    "criteria": _CriterionModel,
}
_PATTERN_HINTS = {
    _SLUG: "lowercase letters, digits and single hyphens, e.g. think-first-2002",
    _VERSION: 'letters and digits joined by dots or hyphens, e.g. "1.0"',
    _SECTION_ID: "one capital letter, e.g. A",
    _SUBSECTION_ID: "a capital letter and a number, e.g. B2",
    _CRITERION_ID: "the criterion's number as the audit writes it, e.g. B2.3",
}
_FIELD_HINTS = {
    "version": 'a quoted version such as "1.0"',
    "title": "a title (text)",
    "source": "where the criteria come from (text)",
    "scale": "a mapping with points (value and label of each mark) and not_applicable",
    "points": "a list of marks, each with value and label",
    "value": "a whole number (0, 1, 2)",
    "label": "a short label such as Fully Met",
    "mandatory": "a list of criterion ids (write mandatory: [] for none)",
    "sections": "a list of sections, each with id, title, weight and subsections",
    "weight": "the section's weight in percent (the weights sum to 100)",
    "subsections": "a list of sub-sections, each with id and criteria",
    "criteria": "a list of criteria, each with id and title",
}
_TOO_SHORT = {
    "points": "a scale needs at least two marks",
    "sections": "an instrument needs at least one section",
    "subsections": "a section needs at least one sub-section",
    "criteria": "a sub-section needs at least one criterion",
}
_FIELD_ORDER = (
    "id", "version", "title", "source", "description", "scale", "points", "value", "label",
    "not_applicable", "mandatory", "sections", "weight", "subsections", "criteria",
)  # fmt: skip


def _dotted(loc: Sequence[object]) -> str:
    return ".".join(str(part) for part in loc) if loc else TOP_LEVEL


def _model_at(loc: Sequence[object]) -> type[_Model]:
    names = [part for part in loc if isinstance(part, str)]
    return _MODEL_UNDER.get(names[-1] if names else None, _InstrumentModel)


def _message(error: Mapping[str, Any]) -> str:
    kind: str = error["type"]
    loc = tuple(error["loc"])
    value = error.get("input")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    name = next((str(part) for part in reversed(loc) if isinstance(part, str)), "")
    got = describe(value)
    if kind == "extra_forbidden":
        allowed = list(_model_at(loc[:-1]).model_fields)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key {loc[-1]!r}{hint}; allowed keys are: {', '.join(allowed)}"
    if kind == "missing":
        return f"required field is missing; expected {_FIELD_HINTS.get(name, 'a value')}"
    if name == "weight" and kind in {"greater_than", "less_than_equal"}:
        return f"must be a whole percentage above 0 and at most 100, not {got}"
    if (basic := basic_type_message(kind, name, value)) is not None:
        return basic
    if kind == "list_type":
        return f"must be a list (entries starting with '- ', or [] for none), not {got}"
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(str(ctx.get("pattern")), "an identifier")
        return f"must be {hint}; got {got}"
    if kind == "too_short":
        return f"{_TOO_SHORT.get(name, 'needs at least one entry')}; found {ctx.get('actual_length', 0)}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def _schema_errors(data: object) -> list[tuple[str, str]]:
    try:
        _InstrumentModel.model_validate(data)
    except ValidationError as exc:
        return [(_dotted(e["loc"]), _message(e)) for e in exc.errors(include_url=False)]
    return []


# --------------------------------------------------------------------------------------------
# The instrument, pass 2: cross-field checks on the raw data
# --------------------------------------------------------------------------------------------


def _entries(value: object, path: str) -> list[tuple[str, dict[Any, Any]]]:
    if not isinstance(value, list):
        return []
    return [(f"{path}.{i}", entry) for i, entry in enumerate(value) if isinstance(entry, dict)]


def _text_id(entry: Mapping[Any, Any]) -> str | None:
    value = entry.get("id")
    return value if isinstance(value, str) and value else None


def _unique(kind: str, path: str, identifier: str | None, seen: dict[str, str]) -> list[tuple[str, str]]:
    if identifier is None:
        return []
    if identifier in seen:
        return [(f"{path}.id", f"duplicate {kind} id {identifier!r} (already used by {seen[identifier]}); "
                 f"{kind} ids must be unique")]  # fmt: skip
    seen[identifier] = path
    return []


def _scale_errors(scale: object) -> list[tuple[str, str]]:
    if not isinstance(scale, dict) or not isinstance(scale.get("points"), list):
        return []
    values = [p.get("value") for p in scale["points"] if isinstance(p, dict)]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return []  # pass 1 reports them
    if values != list(range(len(values))):
        return [("scale.points", f"the marks must be 0, 1, 2 ... in ascending order, each once "
                 f"(the audit's scale is 0 Not Met, 1 Largely Met, 2 Fully Met); found "
                 f"{', '.join(str(v) for v in values)}")]  # fmt: skip
    return []


def _cross_field_errors(data: object) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return []
    errors = _scale_errors(data.get("scale"))
    sections = _entries(data.get("sections"), "sections")
    weights = [s.get("weight") for _, s in sections]
    if sections and all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in weights):
        if sum(weights) != 100:
            shown = " + ".join(str(w) for w in weights)
            errors.append(("sections", f"the section weights must sum to 100; {shown} = {sum(weights)}"))
    seen: dict[str, dict[str, str]] = {"section": {}, "sub-section": {}, "criterion": {}}
    for section_path, section in sections:
        section_id = _text_id(section)
        errors += _unique("section", section_path, section_id, seen["section"])
        for sub_path, sub in _entries(section.get("subsections"), f"{section_path}.subsections"):
            sub_id = _text_id(sub)
            errors += _unique("sub-section", sub_path, sub_id, seen["sub-section"])
            if (
                sub_id and section_id and re.match(_SECTION_ID, section_id)
                and re.match(_SUBSECTION_ID, sub_id) and not sub_id.startswith(section_id)
            ):
                errors.append((f"{sub_path}.id", f"sub-section {sub_id} is in section {section_id}; "
                               f"its id must start with {section_id} (e.g. {section_id}1)"))  # fmt: skip
            for criterion_path, criterion in _entries(sub.get("criteria"), f"{sub_path}.criteria"):
                criterion_id = _text_id(criterion)
                errors += _unique("criterion", criterion_path, criterion_id, seen["criterion"])
                if (
                    criterion_id and sub_id and re.match(_CRITERION_ID, criterion_id)
                    and criterion_id.split(".")[0] != sub_id
                ):
                    errors.append((f"{criterion_path}.id", f"criterion {criterion_id} is in sub-section "
                                   f"{sub_id}; its id must be {sub_id}.<number> (e.g. {sub_id}.1)"))  # fmt: skip
    mandatory = data.get("mandatory")
    if isinstance(mandatory, list):
        known = seen["criterion"]
        listed: dict[str, int] = {}
        for index, criterion_id in enumerate(mandatory):
            if not isinstance(criterion_id, str) or not re.match(_CRITERION_ID, criterion_id):
                continue  # pass 1 reports it
            if criterion_id in listed:
                errors.append((f"mandatory.{index}", f"{criterion_id} is already listed (as mandatory.{listed[criterion_id]})"))
            listed.setdefault(criterion_id, index)
            if known and criterion_id not in known:
                close = difflib.get_close_matches(criterion_id, list(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                errors.append((f"mandatory.{index}", f"{criterion_id} is not a criterion of this instrument{hint}"))
    return errors


# --------------------------------------------------------------------------------------------
# The instrument: public API
# --------------------------------------------------------------------------------------------


def _sort_key(path: str) -> tuple[tuple[int, int, str], ...]:
    key: list[tuple[int, int, str]] = []
    for part in path.split("."):
        if part.isdigit():
            key.append((0, int(part), ""))
        elif part in _FIELD_ORDER:
            key.append((1, _FIELD_ORDER.index(part), ""))
        else:
            key.append((2, 0, part))
    return tuple(key)


def parse_audit_instrument(data: object, source: str) -> AuditInstrument:
    """Validate an already-parsed instrument mapping and build the domain instrument.

    Raises :class:`AuditInstrumentError` listing every problem as ``"{source}: {path}: {what}"``.
    """
    if not isinstance(data, dict):
        what = "the file is empty" if data is None else f"must be a mapping, not {describe(data)}"
        raise AuditInstrumentError(source, [
            f"{source}: {TOP_LEVEL}: {what}; an audit instrument is a YAML mapping with id, version, "
            "title, source, scale, mandatory and sections (see audits/README.md)"
        ])  # fmt: skip
    problems: list[tuple[str, str]] = []
    for problem in _schema_errors(data) + _cross_field_errors(data):
        if problem not in problems:
            problems.append(problem)
    problems.sort(key=lambda problem: _sort_key(problem[0]))
    if problems:
        raise AuditInstrumentError(source, [f"{source}: {path}: {message}" for path, message in problems])
    model = _InstrumentModel.model_validate(data)
    try:
        return _to_domain(model)
    except AuditError as exc:  # a rule the passes above missed: still the file's fault
        raise AuditInstrumentError(source, [f"{source}: {TOP_LEVEL}: {exc}"]) from None


def _to_domain(model: _InstrumentModel) -> AuditInstrument:
    return AuditInstrument(
        id=model.id,
        version=model.version,
        title=model.title,
        source=model.source,
        sections=tuple(
            AuditSection(
                id=section.id,
                title=section.title,
                weight=section.weight,
                subsections=tuple(
                    SubSection(
                        id=sub.id,
                        title=sub.title or "",
                        criteria=tuple(Criterion(c.id, c.title, c.description or "") for c in sub.criteria),
                    )
                    for sub in section.subsections
                ),
            )
            for section in model.sections
        ),
        mandatory=frozenset(model.mandatory),
        scale=tuple(MarkLevel(p.value, p.label) for p in model.scale.points),
        not_applicable_label=model.scale.not_applicable,
    )


def audit_instrument_to_dict(instrument: AuditInstrument) -> dict[str, Any]:
    """The instrument in the file schema: ``parse_audit_instrument(audit_instrument_to_dict(i), s) == i``
    (the description, which the domain does not keep, is left out)."""

    def criterion(c: Criterion) -> dict[str, Any]:
        return {"id": c.id, "title": c.title, **({"description": c.description} if c.description else {})}

    def subsection(sub: SubSection) -> dict[str, Any]:
        return {"id": sub.id, **({"title": sub.title} if sub.title else {}),
                "criteria": [criterion(c) for c in sub.criteria]}  # fmt: skip

    return {
        "id": instrument.id,
        "version": instrument.version,
        "title": instrument.title,
        "source": instrument.source,
        "scale": {
            "points": [{"value": level.value, "label": level.label} for level in instrument.scale],
            "not_applicable": instrument.not_applicable_label,
        },
        "mandatory": [c for c in instrument.criterion_ids if instrument.is_mandatory(c)],
        "sections": [
            {"id": s.id, "title": s.title, "weight": s.weight, "subsections": [subsection(sub) for sub in s.subsections]}
            for s in instrument.sections
        ],
    }


def _decode(raw: bytes, source: str, error: type[AuditInstrumentError] | type[AuditMarksError]) -> str:
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(source, [f"{source}: line {line}: the file is not UTF-8 text "
                             f"(byte 0x{raw[exc.start]:02x}); save it as UTF-8"]) from None  # fmt: skip


def _read(path: Path, error: type[AuditInstrumentError] | type[AuditMarksError], what: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(path.name, [f"{path.name}: {TOP_LEVEL}: no such file: {path}; check the path to the {what}"]) from None
    except OSError as exc:
        raise error(path.name, [f"{path.name}: {TOP_LEVEL}: cannot read {path} ({exc.strerror or exc}); "
                                f"give a readable {what} file"]) from None  # fmt: skip
    return _decode(raw, path.name, error)


def parse_audit_instrument_text(text: str, source: str) -> AuditInstrument:
    """Validate instrument YAML text: the strict YAML loader (no key twice), then the schema."""
    try:
        data = yaml.load(text.removeprefix("\ufeff"), Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise AuditInstrumentError(source, [yaml_error_message(source, exc)]) from None
    return parse_audit_instrument(data, source)


def load_audit_instrument(path: Path) -> AuditInstrument:
    """Read and validate one instrument file; every problem becomes an :class:`AuditInstrumentError`."""
    path = Path(path)
    return parse_audit_instrument_text(_read(path, AuditInstrumentError, "audit instrument"), path.name)


# --------------------------------------------------------------------------------------------
# Marks CSV: reading
# --------------------------------------------------------------------------------------------

REQUIRED_MARKS_COLUMNS = ("criterion_id", "mark")
MARKS_COLUMNS = ("criterion_id", "title", "mark", "carried_over", "note")
_NOT_APPLICABLE = {"", "n/a"}
_YES = {"yes", "y", "true", "1"}
_NO = {"", "no", "n", "false", "0"}
_WHOLE_FILE = "(whole file)"


def _header_problems(header: list[str]) -> list[str]:
    problems: list[str] = []
    for name in sorted({n for n in header if header.count(n) > 1}):
        problems.append(f"column {name!r} appears more than once; keep one")
    for name in header:
        if name not in MARKS_COLUMNS:
            close = difflib.get_close_matches(name, MARKS_COLUMNS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown column {name!r}{hint}; the columns are {', '.join(MARKS_COLUMNS)} "
                            f"(only {' and '.join(REQUIRED_MARKS_COLUMNS)} are required)")  # fmt: skip
    missing = [name for name in REQUIRED_MARKS_COLUMNS if name not in header]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}; the header line must name at least "
                        f"{','.join(REQUIRED_MARKS_COLUMNS)} (found: {','.join(header) or 'nothing'})")  # fmt: skip
    return problems


def _mark(text: str, instrument: AuditInstrument) -> int | None:
    """The mark written as ``text``; ``ValueError`` with the message if it is not one."""
    if text.casefold() in _NOT_APPLICABLE:
        return None
    if text.isdigit() and int(text) in instrument.mark_values:
        return int(text)
    off = "is off the scale" if re.fullmatch(r"[+-]?[0-9]+(\.[0-9]*)?", text) else "is not a mark"
    raise ValueError(f"mark {text!r} {off}; use {instrument.describe_scale()} (or leave it empty for N/A)")


def _flag(text: str) -> bool:
    if text.casefold() in _YES:
        return True
    if text.casefold() in _NO:
        return False
    raise ValueError(f"carried_over {text!r} is not yes or no; write yes for a criterion fully met at the "
                     "previous audit and not re-assessed, or leave it empty")  # fmt: skip


def parse_audit_marks_csv(text: str, instrument: AuditInstrument, source: str) -> AuditMarks:
    """Read a marks CSV (see the module docstring). Nothing is returned unless every row is
    good and every criterion has one: else :class:`AuditMarksError` lists every problem, each
    as ``"{source}: line {n}: {what}"``."""
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    errors: list[str] = []
    try:
        header = [cell.strip().casefold() for cell in next(rows)]
    except StopIteration:
        header = []
    except csv.Error as exc:
        raise AuditMarksError(source, [f"{source}: line 1: not readable as CSV ({exc})"]) from None
    if not any(header):
        raise AuditMarksError(source, [f"{source}: line 1: the file is empty; expected a header line "
                                       f"{','.join(REQUIRED_MARKS_COLUMNS)} and one row per criterion"])  # fmt: skip
    errors += [f"{source}: line 1: {problem}" for problem in _header_problems(header)]
    if any(name not in header for name in REQUIRED_MARKS_COLUMNS):
        raise AuditMarksError(source, errors)
    top = instrument.top_mark
    known = set(instrument.criterion_ids)
    first_line: dict[str, int] = {}
    marks: list[CriterionMark] = []
    line = 1
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(f"{source}: line {line + 1}: not readable as CSV ({exc}); check the quotes")
            break
        start, line = line + 1, rows.line_num
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        problems: list[str] = []
        if len(row) > len(header):
            problems.append(f"has {len(row)} values but the header has {len(header)} columns; "
                            "quote a value that contains a comma")  # fmt: skip
        cells = dict(zip(header, [*row, *[""] * (len(header) - len(row))], strict=False))
        criterion_id = cells["criterion_id"].strip()
        mark: int | None = None
        mark_ok = True
        if not criterion_id:
            problems.append("criterion_id is empty")
        elif criterion_id not in known:
            problems.append(unknown_criterion_message(criterion_id, instrument))
        elif criterion_id in first_line:
            problems.append(f"criterion {criterion_id} is listed twice (first on line {first_line[criterion_id]}); "
                            "keep one row per criterion")  # fmt: skip
        else:
            first_line[criterion_id] = start
        try:
            mark = _mark(cells["mark"].strip(), instrument)
        except ValueError as exc:
            problems.append(str(exc))
            mark_ok = False
        try:
            carried_over = _flag(cells.get("carried_over", "").strip())
        except ValueError as exc:
            problems.append(str(exc))
            carried_over = False
        else:
            if carried_over and mark_ok and mark != top:
                problems.append(f"carried_over is yes but the mark is {cells['mark'].strip() or 'empty (N/A)'}; "
                                f"only a fully met criterion ({top}) carries over")  # fmt: skip
        if problems:
            errors += [f"{source}: line {start}: {problem}" for problem in problems]
        else:
            marks.append(CriterionMark(criterion_id, mark, unguard(cells.get("note", "").strip()), carried_over))
    missing = [c for c in instrument.criterion_ids if c not in first_line]
    if missing and len(missing) < len(known):
        errors.append(f"{source}: {_WHOLE_FILE}: no row for {', '.join(missing)}; every criterion needs "
                      "a row (mark N/A for one not assessed)")  # fmt: skip
    elif missing:
        errors.append(f"{source}: {_WHOLE_FILE}: no criterion of {instrument.id} is marked; expected one row "
                      f"per criterion ({instrument.criterion_ids[0]} to {instrument.criterion_ids[-1]})")  # fmt: skip
    if errors:
        raise AuditMarksError(source, errors)
    order = {c: i for i, c in enumerate(instrument.criterion_ids)}
    return AuditMarks(tuple(sorted(marks, key=lambda m: order[m.criterion_id])))


def load_audit_marks(path: Path, instrument: AuditInstrument) -> AuditMarks:
    """Read and check a marks CSV file; see :func:`parse_audit_marks_csv`."""
    path = Path(path)
    return parse_audit_marks_csv(_read(path, AuditMarksError, "marks CSV"), instrument, path.name)


# --------------------------------------------------------------------------------------------
# Writing: marks CSV, the JSON contract, plain text
# --------------------------------------------------------------------------------------------


def audit_marks_to_csv(marks: AuditMarks, instrument: AuditInstrument) -> str:
    """The marks as a marks CSV (every column, the instrument's order), readable back by
    :func:`parse_audit_marks_csv`; free text is guarded against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MARKS_COLUMNS)
    for criterion in instrument.criteria:
        given = marks.get(criterion.id)
        if given is None:
            continue
        mark = "N/A" if given.mark is None else str(given.mark)  # what the reader takes
        writer.writerow([criterion.id, safe_cell(criterion.title), mark, "yes" if given.carried_over else "",
                         safe_cell(given.note)])  # fmt: skip
    return out.getvalue()


def entered_marks_to_csv(rows: Iterable[tuple[str, str, bool, str]]) -> str:
    """The marks as entered on the Audit page, (criterion id, mark, carried over, note) per
    criterion, as a marks CSV for :func:`parse_audit_marks_csv` (csv.writer quotes what needs
    it; free text guarded against formula injection, which the reader undoes). A criterion with
    no mark yet is left out, so the check names it (an empty mark in a file means N/A)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["criterion_id", "mark", "carried_over", "note"])
    for criterion_id, mark, carried_over, note in rows:
        if mark:
            writer.writerow([criterion_id, mark, "yes" if carried_over else "", safe_cell(str(note or ""))])
    return out.getvalue()


def audit_score_to_json(score: AuditScore) -> dict[str, Any]:
    """The JSON contract of ``session-rater audit-score --format json``: percentages from 0 to
    100, ids in the instrument's order::

        {"iqr": float, "sections": {"A": {"percent", "marks", "max", "weight"}, ...},
         "mandatory": [ids], "mandatory_not_fully_met": [ids]}
    """
    return {
        "iqr": score.iqr,
        "sections": {
            s.id: {"percent": s.percent, "marks": s.marks, "max": s.maximum, "weight": s.weight}
            for s in score.sections
        },
        "mandatory": list(score.mandatory),
        "mandatory_not_fully_met": list(score.mandatory_not_fully_met),
    }


def audit_score_to_text(score: AuditScore) -> str:
    """The scoring summary for a terminal: every criterion's mark, each section's arithmetic,
    the IQR, the mandatory criteria not fully met."""
    lines = [
        f"{score.instrument_title} (v{score.instrument_version}): scoring summary",
        "Marks: " + ", ".join(f"{level.value} {level.label}" for level in score.scale)
        + f", {score.not_applicable_label} not assessed (left out).",
        "Mandatory criteria (mark and maximum count double): "
        + (", ".join(score.mandatory) if score.mandatory else "none marked"),
    ]
    for section in score.sections:
        lines += ["", f"Section {section.id}: {section.title} (weight {section.weight}%)"]
        for result in section.criteria:
            mark = result.mark.mark
            shown = score.not_applicable_label if mark is None else str(mark)
            flags = [flag for flag, on in (("mandatory", result.mandatory), ("carried over", result.mark.carried_over)) if on]
            extra = f" [{', '.join(flags)}]" if flags else ""
            lines.append(f"  {result.criterion.id:<6} {shown:>3}  {score.label(mark):<11}  {result.criterion.title}{extra}")
            if result.mark.note:
                lines.append(f"  {'':<6} {'':>3}  note: {result.mark.note}")
        not_applicable = f" ({section.not_applicable} N/A left out)" if section.not_applicable else ""
        lines.append(f"  {section.arithmetic}{not_applicable}")
    lines += [
        "",
        score.arithmetic,
        "Mandatory criteria not fully met: "
        + (", ".join(score.mandatory_not_fully_met) if score.mandatory_not_fully_met else "none"),
    ]
    if not score.mandatory:
        lines.append(
            "(No criterion is marked mandatory: the Performance Standards Manual that designates them "
            "is not available. Pass --mandatory ID,... to mark them.)"
        )
    return "\n".join(lines) + "\n"

