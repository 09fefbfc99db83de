"""PDF reports, read back as a person would: pdftoppm turns the pages into PNGs, pdftotext reads
the words, pdfinfo counts the pages (Debian's poppler-utils; CI installs it)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from session_rater.domain.audit_scoring import score_audit
from session_rater.io.audit_files import load_audit_instrument, load_audit_marks
from session_rater.io.pdf_report import PdfReport, render_audit_summary_pdf

REPO = Path(__file__).resolve().parents[2]
INSTRUMENT = load_audit_instrument(REPO / "audits" / "think-first-2002.yaml")
MARKS = load_audit_marks(REPO / "tests" / "data" / "audit" / "cumbria-2002-follow-up-marks.csv", INSTRUMENT)

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftoppm", "pdftotext", "pdfinfo")),
    reason="needs Debian's poppler-utils (pdftoppm, pdftotext, pdfinfo): apt-get install poppler-utils",
)


def _summary(**mandatory: object) -> bytes:
    instrument = INSTRUMENT.with_mandatory(mandatory.get("ids", ()))  # type: ignore[arg-type]
    return render_audit_summary_pdf(
        score_audit(MARKS, instrument),
        area="Cumbria Probation Area",
        audit="Level 2 follow-up audit, November 2002",
        created=dt.date(2002, 11, 30),
    )


def _write(pdf: bytes, tmp_path: Path, name: str = "report.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def _pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M)[1])  # type: ignore[index]


def _text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", *pages, str(path), "-"], capture_output=True, text=True, check=True).stdout


def _flat(text: str) -> str:
    return " ".join(text.split())


def _png_pages(path: Path, tmp_path: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    return sorted(tmp_path.glob("page-*.png"))


def test_the_audit_summary_renders_to_three_a4_pages_with_page_n_of_m(tmp_path: Path) -> None:
    path = _write(_summary(), tmp_path)
    pngs = _png_pages(path, tmp_path)
    assert _pages(path) == len(pngs) == 3
    for number, png in enumerate(pngs, start=1):
        with Image.open(png) as image:
            assert image.size == (331, 468)  # A4 at 40 dpi
            assert image.convert("L").getextrema()[0] < 100  # something is printed on it
        assert f"Page {number} of 3" in _text(path, number)


def test_the_audit_summary_shows_the_arithmetic_and_every_criterion(tmp_path: Path) -> None:
    text = _flat(_text(_write(_summary(), tmp_path)))
    assert "IQR 63% (63.48 before rounding)" in text
    for line in (
        "A: 5 of 8 available = 62.5% x 20% = 12.5",
        "B: 36 of 46 available = 78.3% x 30% = 23.5",
        "C: 7 of 12 available = 58.3% x 30% = 17.5",
        "D: 7 of 14 available = 50.0% x 20% = 10.0",
        "IQR = 12.5 + 23.5 + 17.5 + 10.0 = 63.5, rounded 63%",
        "Sub-sections: B1 3 of 4, B2 4 of 8, B3 8 of 8, B4 10 of 10, B5 3 of 4, B6 5 of 8, B7 3 of 4.",
        "No criterion is marked mandatory",
        "Mandatory criteria not fully met: none.",
    ):
        assert line in text
    for criterion in INSTRUMENT.criteria:
        assert criterion.id in text
        assert criterion.title.split()[0] in text
    assert text.count("Criterion fully met at original audit.") == 10  # the carried-over notes
    assert text.count("left out") == 2 + 1  # B4.3 and D1.8, and the scale line


def test_mandatory_criteria_not_fully_met_are_listed(tmp_path: Path) -> None:
    text = _flat(_text(_write(_summary(ids={"A1.1", "B2.4", "D1.1"}), tmp_path)))
    assert "Marked mandatory: A1.1, B2.4, D1.1." in text
    assert "Mandatory criteria not fully met:" in text
    assert "B2.4 Timeliness 0 Not Met" in text
    assert "0 of 4 (mandatory)" in text


def test_rendering_twice_gives_identical_bytes_even_in_another_process(tmp_path: Path) -> None:
    first = _summary()
    assert _summary() == first
    script = (
        "import sys, datetime as dt; from pathlib import Path\n"
        "from session_rater.domain.audit_scoring import score_audit\n"
        "from session_rater.io.audit_files import load_audit_instrument, load_audit_marks\n"
        "from session_rater.io.pdf_report import render_audit_summary_pdf\n"
        f"i = load_audit_instrument(Path({str(REPO / 'audits' / 'think-first-2002.yaml')!r}))\n"
        f"m = load_audit_marks(Path({str(REPO / 'tests' / 'data' / 'audit' / 'cumbria-2002-follow-up-marks.csv')!r}), i)\n"
        "sys.stdout.buffer.write(render_audit_summary_pdf(score_audit(m, i), area='Cumbria Probation Area',"
        " audit='Level 2 follow-up audit, November 2002', created=dt.date(2002, 11, 30)))\n"
    )
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True).stdout
    assert other == first


def test_the_creation_date_is_the_one_given(tmp_path: Path) -> None:
    info = subprocess.run(["pdfinfo", str(_write(_summary(), tmp_path))], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^CreationDate:\s+Sat Nov 30 00:00:00 2002 UTC", info, re.M)


def test_user_text_is_shown_as_typed_never_as_markup(tmp_path: Path) -> None:
    typed = 'Note: <b>not bold</b> & <font color="red">not red</font> <br/> &amp; Zoë Łukasz “quoted”'
    report = PdfReport(typed, metadata=[typed])
    report.heading(typed)
    report.paragraph(typed)
    report.table(["<i>head</i>", "B"], [[typed, "=1+1"]])
    text = _text(_write(report.to_bytes(), tmp_path))
    assert text.count("<b>not bold</b> & <font") >= 5  # title, metadata, heading, paragraph, cell (may wrap)
    assert "<i>head</i>" in text
    assert "&amp; Zoë Łukasz “quoted”" in _flat(text)


def test_a_long_table_repeats_its_header_on_every_page_and_wraps_its_cells(tmp_path: Path) -> None:
    report = PdfReport("Monitoring report", metadata=["Area: test"])
    rows = [[f"Tutor {i:03d}", "A note that is long enough to wrap over several lines of its narrow cell " * 2, str(i)] for i in range(150)]
    report.table(["Tutor", "Evidence note", "Sessions"], rows, widths=[2, 3, 1], align="llr")
    path = _write(report.to_bytes(), tmp_path)
    pages = _pages(path)
    assert pages >= 4
    for page in range(1, pages + 1):
        text = _text(path, page)
        assert "Evidence note" in text and "Sessions" in text, page
        assert f"Page {page} of {pages}" in text
    everything = _flat(_text(path))
    assert all(f"Tutor {i:03d}" in everything for i in range(150))


def test_a_cell_taller_than_a_page_splits_instead_of_failing(tmp_path: Path) -> None:
    report = PdfReport("Long note")
    report.table(["Criterion", "Note"], [["A1.1", "word " * 3000], ["A1.2", "short"]], widths=[1, 4])
    path = _write(report.to_bytes(), tmp_path)
    assert _pages(path) >= 2
    assert "A1.2" in _text(path)


@pytest.mark.parametrize(
    ("header", "rows", "kwargs", "message"),
    [
        ([], [], {}, "at least one column"),
        (["a", "b"], [["1"]], {}, "row 0 has 1 cells; the header has 2"),
        (["a", "b"], [["1", "2"]], {"widths": [1]}, "widths must be 2 positive numbers"),
        (["a", "b"], [["1", "2"]], {"align": "lc"}, "align must be 2 letters, each l or r"),
    ],
)
def test_a_malformed_table_is_refused(header: list[str], rows: list[list[str]], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PdfReport("x").table(header, rows, **kwargs)  # type: ignore[arg-type]
