"""PDF reports: one small document builder that every report of the app shares (tutor
supervision feedback, monitoring report, area report, audit summary), and the audit summary.

Built on ReportLab's Platypus (why ReportLab: ``docs/pdf-library-choice.md``). What every
report gets from :class:`PdfReport`:

* A4 portrait, a title, metadata lines under it, headings, paragraphs and tables;
* **text is text**: everything passed in is escaped before ReportLab's paragraph parser sees it,
  so ``<b>``, ``&amp;`` or ``<font>`` typed by a user is shown as typed, never interpreted;
* tables whose header row repeats on every page, whose cells wrap, and whose rows may split
  across pages when one is taller than a page (a long note);
* a "Page N of M" footer, with the report's title;
* **deterministic output**: the same input gives a byte-identical PDF. The creation date is the
  one passed in (default 2000-01-01 00:00 UTC, ReportLab's invariant date) and the file ID is a
  digest of the content, never the clock or a random number;
* Unicode text in DejaVu Sans (Debian's fonts-dejavu-core) where it is installed, else in the
  Bitstream Vera that ReportLab ships (the same design, Latin-1 only).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from session_rater.domain.audit_scoring import AuditScore, format_half_up

__all__ = ["FONT_CANDIDATES", "Link", "PdfReport", "font_in_use", "render_audit_summary_pdf"]

PAGE_SIZE = A4
MARGIN = 18 * mm
FRAME_WIDTH = PAGE_SIZE[0] - 2 * MARGIN
DEFAULT_CREATED = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
"""ReportLab's invariant date: what a report says it was created on when the caller gives none."""

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_VERA = Path(reportlab.__file__).resolve().parent / "fonts"
FONT_CANDIDATES: tuple[tuple[str, Path, Path, Path], ...] = (
    ("DejaVu Sans", _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf", _DEJAVU / "DejaVuSans-Oblique.ttf"),
    ("Bitstream Vera Sans", _VERA / "Vera.ttf", _VERA / "VeraBd.ttf", _VERA / "VeraIt.ttf"),
)
"""Fonts tried in order: (name, regular, bold, italic). The first whose files exist is used."""

_REGULAR, _BOLD, _ITALIC = "SessionRater-Sans", "SessionRater-Sans-Bold", "SessionRater-Sans-Italic"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def font_in_use() -> str:
    """The name of the font reports are set in (registering it on first use)."""
    return _register_fonts()


_registered: list[str] = []


def _register_fonts() -> str:
    if _registered:
        return _registered[0]
    for name, regular, bold, italic in FONT_CANDIDATES:
        if regular.is_file() and bold.is_file() and italic.is_file():
            for alias, path in ((_REGULAR, regular), (_BOLD, bold), (_ITALIC, italic)):
                pdfmetrics.registerFont(TTFont(alias, str(path)))
            pdfmetrics.registerFontFamily(_REGULAR, normal=_REGULAR, bold=_BOLD, italic=_ITALIC, boldItalic=_BOLD)
            _registered.append(name)
            return name
    raise FileNotFoundError(  # pragma: no cover - ReportLab always ships Vera
        "no font for PDF reports: install Debian's fonts-dejavu-core, or reinstall reportlab"
    )


def _text(value: object) -> str:
    """``value`` as Platypus paragraph text that shows exactly what was typed: control
    characters dropped, ``& < >`` escaped, line breaks kept."""
    text = _CONTROL.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    "))
    return escape(text).replace("\n", "<br/>")


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=_REGULAR, fontSize=9.5, leading=12.5, spaceAfter=4, alignment=TA_LEFT)
    return {
        "title": ParagraphStyle("title", parent=base, fontName=_BOLD, fontSize=17, leading=21, spaceAfter=4),
        "meta": ParagraphStyle("meta", parent=base, fontSize=9, leading=11.5, textColor=colors.HexColor("#444444"), spaceAfter=1),
        "h1": ParagraphStyle("h1", parent=base, fontName=_BOLD, fontSize=13, leading=16, spaceBefore=10, spaceAfter=5),
        "h2": ParagraphStyle("h2", parent=base, fontName=_BOLD, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4),
        "body": base,
        "strong": ParagraphStyle("strong", parent=base, fontName=_BOLD),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=11),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0),
        "cell-right": ParagraphStyle("cell-right", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontName=_BOLD, fontSize=8.5, leading=10.5, spaceAfter=0),
        "head-right": ParagraphStyle("head-right", parent=base, fontName=_BOLD, fontSize=8.5, leading=10.5, spaceAfter=0, alignment=TA_RIGHT),
    }


def _pdf_date(created: dt.datetime | dt.date) -> str:
    if not isinstance(created, dt.datetime):
        created = dt.datetime(created.year, created.month, created.day, tzinfo=dt.timezone.utc)
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    offset = created.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"D:{created:%Y%m%d%H%M%S}{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"


def _fit(text: str, width: float, size: float) -> str:
    """``text`` shortened with "..." to fit ``width`` points in the report font at ``size``."""
    if pdfmetrics.stringWidth(text, _REGULAR, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "...", _REGULAR, size) > width:
        text = text[:-1]
    return text.rstrip() + "..."


def _numbered_canvas(footer_left: str, created: str) -> type[Canvas]:
    """A canvas that holds every page back until the end, so that each footer can say
    "Page N of M" (the two-pass recipe from ReportLab's users' list)."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            self.setDateFormatter(lambda *_: created)

        def showPage(self) -> None:  # noqa: N802 - ReportLab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            self.saveState()
            self.setFont(_REGULAR, 8)
            self.setFillColor(colors.HexColor("#444444"))
            self.setStrokeColor(colors.HexColor("#999999"))
            self.setLineWidth(0.4)
            y = MARGIN - 8 * mm
            self.line(MARGIN, y + 3.5 * mm, PAGE_SIZE[0] - MARGIN, y + 3.5 * mm)
            self.drawString(MARGIN, y, _fit(footer_left, FRAME_WIDTH - 30 * mm, 8))
            self.drawRightString(PAGE_SIZE[0] - MARGIN, y, f"Page {self._pageNumber} of {total}")
            self.restoreState()

    return NumberedCanvas


@dataclass(frozen=True)
class Link:
    """A table cell that is a link: ``text`` shown (as typed), ``url`` opened when clicked.
    Only http(s) URLs are linked; anything else is shown as plain text."""

    text: str
    url: str

    def markup(self) -> str:
        if not re.match(r"^https?://", self.url):
            return _text(self.text)
        return f'<a href="{escape(self.url, {chr(34): "&quot;"})}" color="#1a4f9c"><u>{_text(self.text)}</u></a>'


def _cell(value: object) -> str:
    return value.markup() if isinstance(value, Link) else _text(value)


@dataclass(frozen=True)
class _Column:
    title: str
    width: float  # a share of the frame's width
    align: Literal["left", "right"]


class PdfReport:
    """An A4 report built in reading order, then rendered once with :meth:`to_bytes`.

    Every text argument is shown as typed (never interpreted as markup)::

        report = PdfReport("Monitoring report", metadata=["Area: Cumbria", "Period: 2002"])
        report.heading("Coverage")
        report.paragraph("10% of recorded sessions were monitored.")
        report.table(["Tutor", "Sessions"], [["A. Tutor", "12"]], widths=[3, 1], align="lr")
        pdf = report.to_bytes()
    """

    def __init__(
        self,
        title: str,
        *,
        metadata: Sequence[str] = (),
        author: str = "",
        subject: str = "",
        created: dt.datetime | dt.date | None = None,
        footer: str | None = None,
    ) -> None:
        self.font = _register_fonts()
        self.title = str(title)
        self._styles = _styles()
        self._author, self._subject = str(author), str(subject)
        self._created = _pdf_date(created or DEFAULT_CREATED)
        self._footer = self.title if footer is None else str(footer)
        self._story: list[Flowable] = [Paragraph(_text(self.title), self._styles["title"])]
        self._story += [Paragraph(_text(line), self._styles["meta"]) for line in metadata]
        self._story.append(Spacer(1, 4 * mm))

    def heading(self, text: str, *, level: Literal[1, 2] = 1) -> None:
        """A heading, kept on the same page as what follows it."""
        self._story.append(CondPageBreak(30 * mm))
        self._story.append(Paragraph(_text(text), self._styles[f"h{level}"]))

    def paragraph(self, text: str, *, style: Literal["body", "strong", "small"] = "body") -> None:
        self._story.append(Paragraph(_text(text), self._styles[style]))

    def lines(self, texts: Sequence[str], *, style: Literal["body", "strong", "small"] = "body") -> None:
        """Several short lines kept together (e.g. a calculation)."""
        self._story.append(KeepTogether([Paragraph(_text(t), self._styles[style]) for t in texts]))

    def spacer(self, height_mm: float = 4) -> None:
        self._story.append(Spacer(1, height_mm * mm))

    def page_break(self) -> None:
        self._story.append(PageBreak())

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        widths: Sequence[float] | None = None,
        align: str | None = None,
        shade_rows: Sequence[int] = (),
    ) -> None:
        """A table whose header repeats on every page and whose cells wrap.

        ``widths``: relative column widths (default equal); ``align``: one letter per column,
        ``l`` or ``r`` (default all left); ``shade_rows``: indexes of rows to shade (totals).
        A cell given as a :class:`Link` is a link; every other cell is text, shown as typed.
        """
        n = len(header)
        if n == 0:
            raise ValueError("a table needs at least one column")
        if any(len(row) != n for row in rows):
            bad = next(i for i, row in enumerate(rows) if len(row) != n)
            raise ValueError(f"row {bad} has {len(rows[bad])} cells; the header has {n}")
        shares = list(widths) if widths is not None else [1.0] * n
        if len(shares) != n or any(w <= 0 for w in shares):
            raise ValueError(f"widths must be {n} positive numbers, not {shares}")
        sides = align or "l" * n
        if len(sides) != n or set(sides) - {"l", "r"}:
            raise ValueError(f"align must be {n} letters, each l or r, not {sides!r}")
        columns = [_Column(str(h), w / sum(shares), "right" if a == "r" else "left") for h, w, a in zip(header, shares, sides, strict=True)]
        st = self._styles
        data = [[Paragraph(_text(c.title), st["head-right" if c.align == "right" else "head"]) for c in columns]]
        for row in rows:
            data.append([Paragraph(_cell(value), st["cell-right" if c.align == "right" else "cell"]) for value, c in zip(row, columns, strict=True)])
        table = Table(data, colWidths=[c.width * FRAME_WIDTH for c in columns], repeatRows=1, splitInRow=1, hAlign="LEFT")
        commands: list[tuple[Any, ...]] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e4e4")),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#555555")),
            ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.HexColor("#bbbbbb")),
            ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#777777")),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        for index in shade_rows:
            commands.append(("BACKGROUND", (0, index + 1), (-1, index + 1), colors.HexColor("#f2f2f2")))
        table.setStyle(TableStyle(commands))
        self._story.append(table)
        self._story.append(Spacer(1, 3 * mm))

    def to_bytes(self) -> bytes:
        """The PDF: the same report built from the same input gives the same bytes."""
        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer,
            pagesize=PAGE_SIZE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN,
            title=self.title,
            author=self._author,
            subject=self._subject,
            creator="Session Rater",
            invariant=1,
            lang="en-GB",
        )
        document.build(list(self._story), canvasmaker=_numbered_canvas(self._footer, self._created))
        return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# The audit summary
# --------------------------------------------------------------------------------------------


def _mark_text(score: AuditScore, mark: int | None) -> str:
    return score.not_applicable_label if mark is None else f"{mark} {score.label(mark)}"


def render_audit_summary_pdf(
    score: AuditScore,
    *,
    area: str = "",
    audit: str = "",
    created: dt.datetime | dt.date | None = None,
    evidence: Sequence[tuple[str, Sequence[str]]] = (),
    evidence_title: str = "",
) -> bytes:
    """The audit's scoring summary as a PDF: the IQR and each section's arithmetic, the
    mandatory criteria not fully met, then every criterion with its mark, what it counts, whether
    it was carried over from the previous audit, and its note.

    ``area`` and ``audit`` (e.g. "Cumbria", "Follow-up audit, November 2002") go in the
    metadata lines; ``created`` is the PDF's creation date (see :class:`PdfReport`).
    ``evidence``: (criterion or sub-section id, lines) printed after the section that holds it,
    under ``evidence_title`` (e.g. what Session Rater holds on monitoring, beside C1).
    """
    title = f"Audit scoring summary: {score.instrument_title}"
    metadata = [line for line in (f"Area: {area}" if area else "", f"Audit: {audit}" if audit else "") if line]
    metadata += [
        f"Instrument: {score.instrument_id}, version {score.instrument_version}",
        "Marks: " + ", ".join(f"{level.value} {level.label}" for level in reversed(score.scale))
        + f"; {score.not_applicable_label} = not assessed, left out. Mandatory criteria count double (mark and maximum).",
    ]
    footer = " - ".join(part for part in ("Audit scoring summary", area, audit) if part)
    report = PdfReport(title, metadata=metadata, subject="Implementation Quality Rating", created=created, footer=footer)

    report.heading("Implementation Quality Rating")
    report.paragraph(f"IQR {score.iqr_rounded}% ({format_half_up(score.exact_iqr, 2)} before rounding)", style="strong")
    rows = [
        [s.id, s.title, str(s.marks), str(s.maximum), f"{format_half_up(s.exact_percent)}%", f"{s.weight}%", format_half_up(s.exact_weighted)]
        for s in score.sections
    ]
    rows.append(["", "IQR (sum of the weighted percentages)", "", "", "", f"{sum(s.weight for s in score.sections)}%",
                 format_half_up(score.exact_iqr)])  # fmt: skip
    report.table(["Section", "Title", "Marks", "Max", "%", "Weight", "Weighted"], rows,
                 widths=[9, 40, 8, 8, 10, 9, 11], align="llrrrrr", shade_rows=[len(rows) - 1])  # fmt: skip
    report.lines([s.arithmetic for s in score.sections] + [score.arithmetic], style="small")

    report.heading("Mandatory criteria")
    titles = {c.criterion.id: c.criterion.title for c in score.criteria}
    if score.mandatory:
        report.paragraph("Marked mandatory: " + ", ".join(score.mandatory) + ".")
    else:
        report.paragraph(
            "No criterion is marked mandatory. The Performance Standards Manual, which designates them, was not "
            "available; with mandatory criteria the IQR may differ."
        )
    if score.mandatory_not_fully_met:
        report.paragraph("Mandatory criteria not fully met:", style="strong")
        report.table(["Criterion", "Title", "Mark"],
                     [[c, titles[c], _mark_text(score, next(r.mark.mark for r in score.criteria if r.criterion.id == c))]
                      for c in score.mandatory_not_fully_met],
                     widths=[11, 69, 20])  # fmt: skip
    else:
        report.paragraph("Mandatory criteria not fully met: none.")

    for section in score.sections:
        report.heading(f"Section {section.id}: {section.title} (weight {section.weight}%)")
        rows = []
        for result in section.criteria:
            counted = "left out" if result.not_applicable else f"{result.marks} of {result.maximum}"
            if result.mandatory:
                counted += " (mandatory)"
            rows.append([result.criterion.id, result.criterion.title, _mark_text(score, result.mark.mark), counted,
                         "yes" if result.mark.carried_over else "", result.mark.note])  # fmt: skip
        report.table(["Criterion", "Title", "Mark", "Counts", "Carried over", "Note"], rows,
                     widths=[11, 30, 13, 13, 9, 24])  # fmt: skip
        lines = [section.arithmetic]
        if len(section.subsections) > 1:
            lines.insert(0, "Sub-sections: " + ", ".join(f"{sub.id} {sub.marks} of {sub.maximum}" for sub in section.subsections) + ".")
        report.lines(lines, style="small")
        for key, lines in evidence:
            ids = [c.criterion.id for c in section.criteria if c.criterion.id == key or c.criterion.id.startswith(key + ".")]
            if not ids:
                continue
            report.heading(evidence_title or f"Evidence beside {key}", level=2)
            label = f"{key} {titles[key]}" if key in titles else f"{key}: criteria {ids[0]} to {ids[-1]}"
            report.paragraph(label, style="strong")
            report.lines(list(lines), style="small")
    return report.to_bytes()
