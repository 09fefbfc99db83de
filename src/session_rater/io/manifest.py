"""The recordings manifest: a CSV file listing session recordings and what they are.

Format (UTF-8, with or without a byte-order mark; one header row naming every column below,
in any order, then one row per recording)::

    file,programme,group,session_number,session_title,date,site,catch_up,tutors
    tf01-s03-problem-solving.mp4,Think First,Carlisle TF-01,3,Problem solving: defining the problem,2026-02-10,Carlisle,no,Sam Rowe;Priya Nair

* ``file``: path of the recording relative to the manifest's folder (``/`` separated; it may
  not be absolute nor go up with ``..``). Listed at most once.
* ``session_number``: a whole number, 1 or more.
* ``date``: ISO ``YYYY-MM-DD``.
* ``catch_up``: ``yes``/``no`` (``true``/``false`` and ``1``/``0`` are accepted too).
* ``tutors``: 1 to 3 display names separated by ``;``.

:func:`load_manifest` checks every row and raises one :class:`ManifestError` counting every
problem and listing the first 50 with their line numbers. It does not require the recordings
to exist; ask :func:`missing_files` for that.

Limits (sample_sessions/README.md states them for whoever writes a manifest): at most
:data:`MAX_MANIFEST_ROWS` rows after the header (blank lines count) and
:data:`MAX_MANIFEST_BYTES` in all, both checked before any row is validated. A manifest of a
million rows once took 50 s and 1.8 GB and, with every row bad, printed four million lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TextIO

from session_rater.errors import ManifestError, ProblemTally

COLUMNS: tuple[str, ...] = (
    "file",
    "programme",
    "group",
    "session_number",
    "session_title",
    "date",
    "site",
    "catch_up",
    "tutors",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("area", "team")
"""Where the session belongs (for who may see it): a treatment manager monitors their teams'
sessions, a programme manager sees their area's reports. Either may be left out or empty."""
MAX_TUTORS = 3
MAX_MANIFEST_ROWS = 100_000
"""Rows after the header, blank lines included: more than a service records in years."""
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
"""64 MiB: a row is about 150 bytes, so the row limit is reached long before this one."""
TUTOR_SEPARATOR = ";"

_TRUE = frozenset({"yes", "true", "1"})
_FALSE = frozenset({"no", "false", "0"})
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ManifestEntry:
    """One row of the manifest, typed and checked."""

    file: str  # as written in the manifest, relative to the manifest's folder
    programme: str
    group: str
    session_number: int
    session_title: str
    date: dt.date
    site: str
    catch_up: bool
    tutors: tuple[str, ...]
    path: Path  # ``file`` resolved against the manifest's folder (absolute)
    area: str | None = None
    team: str | None = None


def load_manifest(path: Path) -> list[ManifestEntry]:
    """Read and validate the manifest at ``path``; entries come back in file order.

    Raises :class:`ManifestError` counting every problem found and listing the first ones (with
    line numbers) when the file is missing, unreadable, over the limits, has the wrong columns,
    or has bad rows.
    """
    source = str(path)
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            _check_size(handle, source)
            return _read_rows(handle, source, Path(path).resolve().parent)
    except FileNotFoundError:
        raise ManifestError(
            source, [f"the file does not exist; create it with the header line {','.join(COLUMNS)}"]
        ) from None
    except UnicodeDecodeError as exc:
        raise ManifestError(
            source, [f"the file is not UTF-8 text ({exc.reason}); save it as CSV UTF-8"]
        ) from None
    except OSError as exc:
        raise ManifestError(source, [f"the file cannot be read: {exc.strerror or exc}"]) from None


def _check_size(handle: TextIO, source: str) -> None:
    """Refuse a manifest over :data:`MAX_MANIFEST_BYTES` or :data:`MAX_MANIFEST_ROWS` before
    validating a row of it (counting rows is a quick pass of the csv module alone)."""
    size = os.fstat(handle.fileno()).st_size
    if size > MAX_MANIFEST_BYTES:
        raise ManifestError(source, [(
            f"the file is {size:,d} bytes, more than the limit of {MAX_MANIFEST_BYTES:,d} bytes "
            f"(64 MiB); split it into manifests of at most {MAX_MANIFEST_ROWS:,d} rows, e.g. one "
            "manifest.csv per folder of recordings"
        )])  # fmt: skip
    reader = csv.reader(handle, strict=True)
    rows = -1  # the header is not a row
    try:
        for _ in reader:
            rows += 1
            if rows > MAX_MANIFEST_ROWS:
                raise ManifestError(source, [(
                    f"line {reader.line_num}: the manifest has more than {MAX_MANIFEST_ROWS:,d} rows (the "
                    f"limit; blank lines count); split it into manifests of at most {MAX_MANIFEST_ROWS:,d} "
                    "rows, e.g. one manifest.csv per folder of recordings"
                )])  # fmt: skip
    except csv.Error:
        pass  # reported with its line number when the rows are read
    handle.seek(0)


def _read_rows(handle: TextIO, source: str, base: Path) -> list[ManifestEntry]:
    reader = csv.reader(handle, strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ManifestError(
                source, [f"line 1: the file is empty; the first line must be {','.join(COLUMNS)}"]
            )
        columns = [cell.strip() for cell in header]
        _check_header(columns, source)
        errors = ProblemTally()
        entries: list[ManifestEntry] = []
        first_line_of_file: dict[str, int] = {}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank line
            if len(row) != len(columns):
                errors.add(
                    f"line {line}: has {len(row)} fields, expected {len(columns)} "
                    f"({','.join(columns)}); quote fields that contain a comma"
                )
                continue
            cells = dict(zip(columns, (cell.strip() for cell in row)))
            entry, row_errors = _parse_row(cells, line, base)
            errors.extend(row_errors)
            key = str(PurePosixPath(cells["file"])) if cells["file"] else ""
            if key in first_line_of_file:
                errors.add(
                    f"line {line}: file {cells['file']!r} is already listed on line "
                    f"{first_line_of_file[key]}; list each recording once"
                )
            elif key:
                first_line_of_file[key] = line
            if entry is not None and not errors:
                entries.append(entry)
    except csv.Error as exc:
        raise ManifestError(
            source, [f"line {reader.line_num}: not valid CSV ({exc}); check the quotes on that line"]
        ) from None
    if errors:
        raise ManifestError(source, errors.kept, total=errors.count)
    return entries


def missing_files(entries: Iterable[ManifestEntry]) -> list[ManifestEntry]:
    """Return the entries whose recording file is not present (in the order given)."""
    return [entry for entry in entries if not entry.path.is_file()]


def _check_header(header: list[str], source: str) -> None:
    errors: list[str] = []
    missing = [c for c in COLUMNS if c not in header]
    known = COLUMNS + OPTIONAL_COLUMNS
    unknown = [c for c in header if c not in known]
    repeated = sorted({c for c in header if c in known and header.count(c) > 1})
    if missing:
        errors.append(f"line 1: missing column(s): {', '.join(missing)}")
    if unknown:
        errors.append(
            "line 1: unknown column(s): "
            + ", ".join(repr(c) for c in unknown)
            + " (check the spelling; remove columns that are not part of the format)"
        )
    if repeated:
        errors.append(f"line 1: column(s) given more than once: {', '.join(repeated)}")
    if errors:
        errors.append(f"line 1: the header must be: {','.join(COLUMNS)} (optionally also: {','.join(OPTIONAL_COLUMNS)})")
        raise ManifestError(source, errors)


def _parse_row(
    cells: dict[str, str], line: int, base: Path
) -> tuple[ManifestEntry | None, list[str]]:
    errors: list[str] = []
    where = f"line {line}"

    for column in ("file", "programme", "group", "session_title", "site"):
        if not cells[column]:
            errors.append(f"{where}: {column} is empty")

    file = cells["file"]
    resolved: Path | None = None
    if file:
        pure = PurePosixPath(file)
        if "\\" in file or pure.is_absolute() or re.match(r"^[A-Za-z]:", file):
            errors.append(
                f"{where}: file {file!r} must be a path relative to the manifest's folder, "
                "written with '/' (e.g. tf01-s03-problem-solving.mp4)"
            )
        elif ".." in pure.parts:
            errors.append(f"{where}: file {file!r} may not contain '..'; put it in the manifest's folder")
        else:
            resolved = (base / pure).resolve()

    number: int | None = None
    raw_number = cells["session_number"]
    if not raw_number:
        errors.append(f"{where}: session_number is empty; give a whole number, 1 or more")
    elif not re.fullmatch(r"\d+", raw_number) or int(raw_number) < 1:
        errors.append(f"{where}: session_number {raw_number!r} is not a whole number of 1 or more")
    else:
        number = int(raw_number)

    date: dt.date | None = None
    raw_date = cells["date"]
    if not raw_date:
        errors.append(f"{where}: date is empty; give it as YYYY-MM-DD, e.g. 2026-02-10")
    else:
        try:
            if not _ISO_DATE_RE.fullmatch(raw_date):
                raise ValueError
            date = dt.date.fromisoformat(raw_date)
        except ValueError:
            errors.append(f"{where}: date {raw_date!r} is not a real date written as YYYY-MM-DD")

    catch_up: bool | None = None
    raw_catch_up = cells["catch_up"].lower()
    if raw_catch_up in _TRUE:
        catch_up = True
    elif raw_catch_up in _FALSE:
        catch_up = False
    else:
        errors.append(f"{where}: catch_up {cells['catch_up']!r} must be yes or no")

    tutors: tuple[str, ...] | None = None
    raw_tutors = cells["tutors"]
    names = [name.strip() for name in raw_tutors.split(TUTOR_SEPARATOR)]
    if not raw_tutors:
        errors.append(f"{where}: tutors is empty; give 1 to {MAX_TUTORS} names separated by ';'")
    elif any(not name for name in names):
        errors.append(f"{where}: tutors {raw_tutors!r} has an empty name; separate names with a single ';'")
    elif len(names) > MAX_TUTORS:
        errors.append(f"{where}: tutors lists {len(names)} names; at most {MAX_TUTORS} are allowed")
    elif len(set(names)) != len(names):
        errors.append(f"{where}: tutors {raw_tutors!r} names the same tutor twice")
    else:
        tutors = tuple(names)

    if (
        errors
        or resolved is None
        or number is None
        or date is None
        or catch_up is None
        or tutors is None
    ):
        return None, errors
    entry = ManifestEntry(
        file=file,
        programme=cells["programme"],
        group=cells["group"],
        session_number=number,
        session_title=cells["session_title"],
        date=date,
        site=cells["site"],
        catch_up=catch_up,
        tutors=tutors,
        path=resolved,
        area=cells.get("area") or None,
        team=cells.get("team") or None,
    )
    return entry, []
