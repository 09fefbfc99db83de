"""Every CSV and XLSX file the app or the command line writes goes through here, so that no
cell can run as a formula when the file is opened in a spreadsheet.

OWASP, "CSV Injection": a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)`` can
send data elsewhere, older ones could run commands). Such a text cell is written with a single
quote in front, so the value stays visible and is read as text. Numbers are left as numbers
(a negative score stays -1). In XLSX the cell is also stored as text, never as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as it may be written to a spreadsheet cell: text that a spreadsheet would read
    as a formula gets a leading single quote; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def unguard(cell: str) -> str:
    """Undo :func:`safe_cell` on text read back from a file this module wrote."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_START else cell


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are :func:`safe_cell`\\ ed (headings too)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(safe_cell)
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (no index), formula-safe."""
    return safe_frame(frame).to_csv(index=False, lineterminator="\n")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return csv_text(frame).encode("utf-8")


def write_csv_rows(out: io.TextIOBase | Any, fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """Write ``rows`` (dicts) as CSV with a header to ``out``, formula-safe; the number of rows."""
    writer = csv.DictWriter(out, fieldnames=list(fieldnames), lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
        n += 1
    return n


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame], widths: Mapping[str, Sequence[float]] | None = None) -> bytes:
    """A workbook with one sheet per entry, text cells formula-safe and stored as text."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(title=name[:31])
        sheet.append([safe_cell(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            sheet.append([_xlsx_value(v) for v in row])
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, never a formula
        for i, width in enumerate((widths or {}).get(name, [18] * len(frame.columns))):
            sheet.column_dimensions[get_column_letter(i + 1)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):  # None, NaN
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        value = value.replace(tzinfo=None)  # Excel has no time zones; the column says UTC
    return safe_cell(value)
