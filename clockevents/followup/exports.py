"""The impact report as files: each table as CSV, the whole report as XLSX and as PDF.

Every table is one header and rows of plain values, so the three formats say the same thing.
CSV cells that a spreadsheet would run as a formula are defused as in the participants
export; in the workbook every text is written as text, never as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

from clockevents.errors import ValidationFailed
from clockevents.followup.models import OUTCOME_KINDS, SURVEY_STAGES
from clockevents.followup.report_types import (
    FIGURE_LABELS,
    OUTCOME_LABELS,
    STAGE_LABELS,
    Report,
    Tally,
)
from clockevents.registration.csvio import defuse

Table = tuple[list[str], list[list[Any]]]

# A font with all of Unicode's Latin, Greek and Cyrillic letters, when the system has one;
# otherwise the PDF falls back to a core font and replaces what Latin-1 lacks.
UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)


def _summary(report: Report) -> Table:
    figures = report.total.figures()
    return ["figure", "label", "value"], [[k, FIGURE_LABELS[k], v] for k, v in figures.items()]


def _outcomes(report: Report) -> Table:
    total = report.total
    rows = [
        [k, OUTCOME_LABELS[k], total.outcomes[k], total.agreements[k] if k != "none" else 0]
        for k in OUTCOME_KINDS
    ]
    return ["kind", "label", "reports", "confirmed_agreements"], rows


def _surveys(report: Report) -> Table:
    total = report.total
    return ["stage", "label", "answers"], [[s, STAGE_LABELS[s], total.stages[s]] for s in SURVEY_STAGES]


def _breakdown(dimension: str) -> Callable[[Report], Table]:
    def table(report: Report) -> Table:
        keys = list(Tally().figures())
        rows = [[g.label, *g.tally.figures().values()] for g in report.breakdowns[dimension]]
        return [dimension, *keys], rows

    return table


def _matrix(which: str) -> Callable[[Report], Table]:
    def table(report: Report) -> Table:
        matrix = report.matrix_held if which == "held" else report.matrix_agreements
        labels = report.matrix_labels
        return ["cluster", *labels], [[label, *matrix[i]] for i, label in enumerate(labels)]

    return table


TABLES: dict[str, tuple[str, Callable[[Report], Table]]] = {
    "summary": ("Summary", _summary),
    "outcomes": ("Outcomes by kind", _outcomes),
    "surveys": ("Survey answers by stage", _surveys),
    "by_cluster": ("By cluster", _breakdown("cluster")),
    "by_type": ("By participant type", _breakdown("type")),
    "by_country": ("By country", _breakdown("country")),
    "matrix_held": ("Meetings held, cluster by cluster", _matrix("held")),
    "matrix_agreements": ("Confirmed agreements, cluster by cluster", _matrix("agreements")),
}


def table(report: Report, name: str) -> Table:
    """One of ``TABLES`` by name (else a 400 on the ``table`` field)."""
    if name not in TABLES:
        raise ValidationFailed({"table": f"Unknown table; choose from {', '.join(TABLES)}."})
    return TABLES[name][1](report)


KEY_COLUMNS = {"figure": "Figure", "kind": "Outcome", "stage": "Survey stage"}
DIMENSION_LABELS = {"by_cluster": "Cluster", "by_type": "Participant type", "by_country": "Country"}


def readable(report: Report, name: str) -> Table:
    """A table for people (the page, the PDF): labels instead of the machine keys the files keep.

    The summary, outcome and survey tables drop their key column; the breakdowns turn into one
    row per figure and one column per group, which fits a page however many figures there are.
    """
    header, rows = table(report, name)
    if header[0] in KEY_COLUMNS and header[1] == "label":
        return [KEY_COLUMNS[header[0]], *header[2:]], [r[1:] for r in rows]
    if name in DIMENSION_LABELS:
        keys = header[1:]
        groups = [r[0] for r in rows]
        flipped = [[FIGURE_LABELS[k], *(r[i + 1] for r in rows)] for i, k in enumerate(keys)]
        return [DIMENSION_LABELS[name], *groups], flipped
    return header, rows


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return defuse(value) if isinstance(value, str) else value


def to_csv(report: Report, name: str = "summary") -> str:
    """One table as CSV, formula-looking cells defused."""
    header, rows = table(report, name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])  # matrix headers are cluster names
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


def _title(report: Report) -> str:
    scope = f" · {report.cluster_name}" if report.cluster_name else ""
    return f"Impact report · {report.event_title}{scope}"


def to_xlsx(report: Report) -> bytes:
    """The whole report as a workbook, one sheet per table."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    for name, (title, build) in TABLES.items():
        header, rows = build(report)
        sheet = book.add_worksheet(name)  # the table's name, as in the CSV links
        sheet.write_string(0, 0, title, bold)
        for c, head in enumerate(header):
            sheet.write_string(2, c, head, bold)
        for r, row in enumerate(rows, start=3):
            for c, value in enumerate(row):
                if value is None:
                    sheet.write_blank(r, c, None)
                elif isinstance(value, bool) or not isinstance(value, int | float):
                    sheet.write_string(r, c, str(value))  # never a formula, whatever it starts with
                else:
                    sheet.write_number(r, c, value)
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, max(len(header) - 1, 1), 14)
    book.set_properties({"title": _title(report), "created": report.generated_at.replace(tzinfo=None)})
    book.close()
    return buffer.getvalue()


class _Pdf:
    """A thin writer over fpdf2: headings, small tables and bars, with one font."""

    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(orientation="landscape", format="A4")
        self.pdf.set_title(title)
        self.pdf.set_auto_page_break(auto=True, margin=12)
        font = next((f for f in UNICODE_FONTS if f.exists()), None)
        if font is not None:
            self.pdf.add_font("report", "", str(font))
            self.family, self.unicode = "report", True
        else:
            self.family, self.unicode = "helvetica", False
        self.pdf.add_page()

    def text(self, value: Any) -> str:
        s = "" if value is None else str(value)
        return s if self.unicode else s.encode("latin-1", "replace").decode("latin-1")

    def heading(self, value: str, size: int = 13) -> None:
        self.pdf.set_font(self.family, size=size)
        self.pdf.ln(3)
        self.pdf.cell(0, 8, self.text(value), new_x="LMARGIN", new_y="NEXT")

    def fit(self, value: Any, width: float) -> str:
        """The text, cut short with an ellipsis so it fits ``width`` millimetres."""
        text = self.text(value)
        if self.pdf.get_string_width(text) <= width - 2:
            return text
        while text and self.pdf.get_string_width(text + "...") > width - 2:
            text = text[:-1]
        return text + "..."

    def table(self, header: list[str], rows: list[list[Any]]) -> None:
        pdf = self.pdf
        usable = pdf.w - pdf.l_margin - pdf.r_margin
        columns = len(header)
        first = min(62.0, usable / 3)
        # Wide tables (many groups) are cut into column groups that fit the page.
        per_page = max(1, int((usable - first) // 26))
        for start in range(1, max(columns, 2), per_page):
            chunk = list(range(start, min(columns, start + per_page)))
            width = min((usable - first) / max(len(chunk), 1), 60.0)
            pdf.set_font(self.family, size=8)
            pdf.set_fill_color(230, 236, 241)
            pdf.cell(first, 6, self.fit(header[0], first), border=1, fill=True)
            for c in chunk:
                pdf.cell(width, 6, self.fit(header[c], width), border=1, fill=True, align="C")
            pdf.ln()
            for row in rows:
                pdf.cell(first, 5.5, self.fit(row[0], first), border=1)
                for c in chunk:
                    pdf.cell(width, 5.5, self.fit(row[c], width), border=1, align="R")
                pdf.ln()
            pdf.ln(2)

    def bars(self, items: list[tuple[str, int]]) -> None:
        pdf = self.pdf
        top = max((v for _, v in items), default=0) or 1
        pdf.set_font(self.family, size=9)
        pdf.set_fill_color(47, 111, 159)
        for label, value in items:
            pdf.cell(60, 6, self.text(label)[:40])
            length = 120 * value / top
            x, y = pdf.get_x(), pdf.get_y()
            if length > 0:
                pdf.rect(x, y + 1, length, 4, style="F")
            pdf.set_x(x + length + 2)
            pdf.cell(20, 6, str(value), new_x="LMARGIN", new_y="NEXT")


def to_pdf(report: Report) -> bytes:
    """The whole report as a printable PDF: the figures, bars for the outcomes, every table."""
    doc = _Pdf(_title(report))
    doc.heading(_title(report), size=16)
    stamp = report.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc.pdf.set_font(doc.family, size=9)
    doc.pdf.cell(0, 6, doc.text(f"Generated {stamp}"), new_x="LMARGIN", new_y="NEXT")
    doc.heading("Outcomes by kind")
    doc.bars([(OUTCOME_LABELS[k], report.total.outcomes[k]) for k in OUTCOME_KINDS])
    for name, (title, _) in TABLES.items():
        header, rows = readable(report, name)
        doc.heading(title)
        doc.table(header, rows)
    return bytes(doc.pdf.output())
