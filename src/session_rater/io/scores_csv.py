"""Read a long-format scores CSV (what ``session-rater export`` writes, or an old spreadsheet).

Required columns: ``session_id, tutor_id, rater_id, rater_role, item_id, score``; any other
column (``rubric_id``, ``rubric_version``, ``submitted_at`` ...) is kept as text. An empty
``score`` is "not applicable / not observed", not a score. An empty ``tutor_id`` is a session
rated as a whole (the export writes it so); every other required value must be present.

Rows that cannot be used are collected, never silently dropped, each with its line number in
the file (the header is line 1) and every problem found on it:

* a missing required value;
* a ``rater_role`` other than tutor, treatment_manager, external_assessor, benchmark;
* a score that is not a number, or off the scale: not one of ``categories`` where the scale is
  given, otherwise not a whole number (the scale is then inferred from the scores);
* one rater (id and role) scoring one item of one session and tutor more than once: every
  copy is bad, since which one is right cannot be told, and each names the other lines.

The result holds the good rows and the bad ones; the caller decides whether to go on.
Identifier columns become integers where every value is a whole number (as the export writes
them), text otherwise.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from session_rater.domain.bias import group_codes
from session_rater.domain.model import Capacity
from session_rater.errors import ScoreError

REQUIRED = ("session_id", "tutor_id", "rater_id", "rater_role", "item_id", "score")
ROLES = tuple(c.rater_role for c in Capacity)
ID_COLUMNS = ("session_id", "tutor_id", "rater_id")
OPTIONAL_EMPTY = ("tutor_id", "score")
FORM_KEY = ("session_id", "tutor_id", "item_id", "rater_id", "rater_role")
HEADER_LINE = 1


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be used: its ``line`` in the file and every ``problem`` with it."""

    line: int
    problems: tuple[str, ...]

    def __str__(self) -> str:
        return f"line {self.line}: {'; '.join(self.problems)}"


@dataclass(frozen=True)
class ScoresFile:
    """The good rows of a scores file (``scores``) and the bad ones (``bad_rows``, by line)."""

    source: str
    scores: pd.DataFrame
    bad_rows: tuple[BadRow, ...]
    n_rows: int
    categories: tuple[float, ...] | None

    @property
    def ok(self) -> bool:
        return not self.bad_rows


def read_scores_csv(source: str | Path | io.TextIOBase, *, categories: Sequence[float] | None = None) -> ScoresFile:
    """Read and check a scores CSV; see the module docstring for what counts as a bad row.

    Raises :class:`~session_rater.errors.ScoreError` where the file as a whole is unusable
    (empty, or a required column missing); ``FileNotFoundError`` for a missing file.
    """
    name = str(source) if isinstance(source, str | Path) else getattr(source, "name", "<scores>")
    try:
        raw = pd.read_csv(
            source,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            skipinitialspace=False,
            encoding="utf-8-sig" if isinstance(source, str | Path) else None,
        )
    except pd.errors.EmptyDataError:
        raise ScoreError(f"{name}: the file is empty; expected a header line with {', '.join(REQUIRED)}") from None
    except pd.errors.ParserError as error:
        raise ScoreError(f"{name}: not a readable CSV file: {error}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ScoreError(
            f"{name}: missing column(s) {', '.join(missing)}; a scores file needs {', '.join(REQUIRED)} "
            f"(found: {', '.join(raw.columns) or 'none'})"
        )
    lines = _line_numbers(raw, source)
    columns = {column: _Column(raw[column]) for column in REQUIRED}
    blank = np.logical_and.reduce([columns[c].empty for c in REQUIRED])
    if blank.any():  # a blank line: every value empty (with skip_blank_lines=False)
        for column in raw.columns.difference(list(REQUIRED)):
            blank[blank] = (raw.loc[blank, column] == "").to_numpy()

    problems: dict[int, list[str]] = {}

    def report(mask: np.ndarray, message: Callable[[int], str]) -> None:
        for i in np.flatnonzero(mask & ~blank):
            problems.setdefault(int(i), []).append(message(int(i)))

    for column in REQUIRED:
        if column not in OPTIONAL_EMPTY:
            report(columns[column].empty, _always(f"{column} is empty"))
    role = columns["rater_role"]
    report(
        ~role.empty & ~role.map(lambda r: r in ROLES),
        lambda i: f"unknown rater_role {role.text(i)!r} (expected one of {', '.join(ROLES)})",
    )

    text = columns["score"]
    score = text.values(_number)
    number = np.isfinite(score)
    report(~text.empty & ~number, lambda i: f"score {text.text(i)!r} is not a number")
    if categories is not None:
        scale = np.asarray(sorted(float(c) for c in categories))
        off = number & ~np.isin(score, scale)
        expected = f"one of {', '.join(f'{c:g}' for c in scale)}"
    else:
        off = number & (score != np.round(score))
        expected = "a whole number (no scale was given, so only whole numbers are checked)"
    report(off, lambda i: f"score {text.text(i)} is off the scale: expected {expected}")

    _report_duplicates([columns[c] for c in FORM_KEY], lines, report)

    bad_index = np.asarray(sorted(problems), dtype=np.int64)
    bad = tuple(BadRow(int(lines[i]), tuple(problems[i])) for i in bad_index)
    good = ~blank
    good[bad_index] = False
    keep = np.flatnonzero(good)
    scores = pd.DataFrame({"line": lines[keep]})
    for column in ID_COLUMNS:
        scores[column] = columns[column].identifiers(keep)
    scores["rater_role"] = pd.Categorical.from_codes(
        np.asarray([ROLES.index(r) if r in ROLES else -1 for r in role.uniques], dtype=np.int64)[role.codes[keep]],
        categories=list(ROLES),
    )
    scores["item_id"] = columns["item_id"].categorical(keep)
    scores["score"] = np.where(number, score, np.nan)[keep]
    for column in raw.columns.difference(list(REQUIRED), sort=False):
        scores[column] = raw[column].to_numpy()[keep]
    return ScoresFile(
        name, scores, bad, int((~blank).sum()), tuple(float(c) for c in categories) if categories else None
    )


class _Column:
    """One column as codes into its distinct (stripped) values: each value is checked once."""

    def __init__(self, values: pd.Series):
        codes, uniques = pd.factorize(values)
        stripped = [str(u).strip() for u in uniques]
        merged, self.uniques = pd.factorize(np.asarray(stripped, dtype=object))  # " a" and "a" are one value
        self.uniques = np.asarray(self.uniques, dtype=object)
        self.codes = np.asarray(merged, dtype=np.int64)[codes] if len(uniques) else codes.astype(np.int64)
        self.empty = self.map(lambda u: u == "")

    def map(self, test: Callable[[str], bool]) -> np.ndarray:
        """``test`` of each row's value, evaluated once per distinct value."""
        per_value = np.asarray([test(u) for u in self.uniques], dtype=bool)
        return np.asarray(per_value[self.codes])

    def values(self, convert: Callable[[str], float]) -> np.ndarray:
        per_value = np.asarray([convert(u) for u in self.uniques], dtype=float)
        return np.asarray(per_value[self.codes])

    def text(self, row: int) -> str:
        return str(self.uniques[self.codes[row]])

    def identifiers(self, rows: np.ndarray) -> pd.Series:
        """Integers where every value is written as one (no leading zeros, as the export writes
        them; nullable where some are empty), text otherwise."""
        codes = self.codes[rows]
        used = np.flatnonzero(np.bincount(codes, minlength=len(self.uniques)))
        written = [self.uniques[c] for c in used if self.uniques[c] != ""]
        if all(_WHOLE.fullmatch(u) for u in written):
            lookup = np.asarray([int(u) if u != "" else 0 for u in self.uniques], dtype=np.int64)
            numbers = lookup[codes]
            missing = self.empty[rows]
            if missing.any():
                return pd.Series(pd.arrays.IntegerArray(numbers, missing))
            return pd.Series(numbers)
        return pd.Series(np.where(self.empty[rows], None, self.uniques[codes]), dtype=object)

    def categorical(self, rows: np.ndarray) -> pd.Categorical:
        """Categories in order of first appearance (for items: the rubric's order, as exported)."""
        codes = self.codes[rows]
        used = np.zeros(len(self.uniques), dtype=bool)
        used[codes] = True
        remap = np.cumsum(used) - 1
        return pd.Categorical.from_codes(remap[codes], categories=list(self.uniques[used]))


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return np.nan
    return value if np.isfinite(value) else np.nan


def _always(message: str) -> Callable[[int], str]:
    return lambda i: message


def _line_numbers(raw: pd.DataFrame, source: object) -> np.ndarray:
    """Line of each row: the header is line 1; quoted values spanning lines are counted."""
    lines = np.arange(len(raw), dtype=np.int64) + HEADER_LINE + 1
    if len(raw) == 0 or not _may_span_lines(source, len(raw)):
        return lines
    extra = sum(raw[c].str.count("\n").to_numpy() for c in raw.columns)
    return np.asarray(lines + np.concatenate([[0], np.cumsum(extra)[:-1]]), dtype=np.int64)


def _may_span_lines(source: object, n_rows: int) -> bool:
    """False when the file has no more line breaks than records (the usual case, checked cheaply)."""
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            breaks = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))
    elif isinstance(source, io.StringIO):
        breaks = source.getvalue().count("\n")
    else:
        return True
    return breaks > n_rows + HEADER_LINE


def _report_duplicates(
    key: Sequence[_Column], lines: np.ndarray, report: Callable[[np.ndarray, Callable[[int], str]], None]
) -> None:
    """Every copy of a (session, tutor, item, rater, role) scored more than once, naming the others."""
    codes = pd.DataFrame({str(i): column.codes for i, column in enumerate(key)})
    combined, n_keys = group_codes(codes, list(codes.columns))
    complete = np.logical_and.reduce([~c.empty for c in key if c is not key[1]])  # tutor_id may be empty
    duplicated = (np.bincount(combined, minlength=n_keys) > 1)[combined] & complete
    if not duplicated.any():
        return
    index = np.flatnonzero(duplicated)
    copies: dict[int, list[int]] = {}
    ordered = index[np.argsort(combined[index], kind="stable")]
    starts = np.flatnonzero(np.diff(combined[ordered], prepend=-1))
    for members in np.split(ordered, starts[1:]):
        rows = [int(r) for r in members]
        for i in rows:
            copies[i] = rows
    session, tutor, item, rater, role = key

    def message(i: int) -> str:
        others = ", ".join(str(lines[j]) for j in copies[i] if j != i)
        return (
            f"rater {rater.text(i)} ({role.text(i)}) scored item {item.text(i)} of session {session.text(i)}, "
            f"tutor {tutor.text(i) or '(none)'} more than once: also on line {others}"
        )

    report(duplicated, message)


_WHOLE = re.compile(r"-?(?:0|[1-9][0-9]*)")


__all__ = ["REQUIRED", "ROLES", "BadRow", "ScoresFile", "read_scores_csv"]
