"""The PDF's look: page geometry, fonts, paragraph styles and the small building blocks (text,
status chips, grids, label/value tables, cells fitted to a column) every section uses."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    LongTable,
    Paragraph,
    Table,
    TableStyle,
)

from .common import display

PASSING_ROWS_SHOWN = 200
PAGE = A4
MARGIN = 18 * mm
WIDTH = PAGE[0] - 2 * MARGIN

STATUS_COLOURS = {
    "pass": ("#C6EFCE", "#006100"),
    "fail": ("#FFC7CE", "#9C0006"),
    "error": ("#FFEB9C", "#9C5700"),
    "manual": ("#D9D9D9", "#3A3A3A"),
    "exception": ("#DDEBF7", "#1F4E78"),
}
NAVY = colors.HexColor("#1F3864")


def _register_fonts() -> None:
    # reportlab's bundled Vera: embedded, so names and descriptions outside Latin-1 still show.
    import reportlab

    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    for name, file in (("Vera", "Vera.ttf"), ("Vera-Bold", "VeraBd.ttf")):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file)))


_register_fonts()
BODY = ParagraphStyle("Body", fontName="Vera", fontSize=9, leading=12, spaceAfter=4)
SMALL = ParagraphStyle("Small", parent=BODY, fontSize=7.5, leading=9.5, spaceAfter=0)
CELL = ParagraphStyle("Cell", parent=BODY, fontSize=7, leading=8.6, spaceAfter=0)
# Identifiers (ARNs, hashes, paths) break anywhere so they never run off the page.
IDENT = ParagraphStyle("Ident", parent=CELL, wordWrap="CJK")
# A SHA-256 on one line: 64 Courier characters at 6.4 pt need 88 mm.
HASH = ParagraphStyle("Hash", parent=CELL, fontName="Courier", fontSize=6.4, wordWrap="CJK")
HASH_WIDTH = 89 * mm
HEAD_CELL = ParagraphStyle("HeadCell", parent=CELL, fontName="Vera-Bold", textColor=colors.white)
H1 = ParagraphStyle(
    "H1",
    parent=BODY,
    fontName="Vera-Bold",
    fontSize=15,
    leading=19,
    spaceBefore=6,
    spaceAfter=8,
    textColor=NAVY,
)
H2 = ParagraphStyle(
    "H2",
    parent=BODY,
    fontName="Vera-Bold",
    fontSize=10.5,
    leading=14,
    spaceBefore=8,
    spaceAfter=4,
    textColor=NAVY,
)
TITLE = ParagraphStyle(
    "Title",
    parent=BODY,
    fontName="Vera-Bold",
    fontSize=24,
    leading=30,
    spaceAfter=14,
    textColor=NAVY,
)


# ---------------------------------------------------------------- building blocks


def text(value: Any, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(str(display(value))).replace("\n", "<br/>"), style)


def status_chip(status: str, style: ParagraphStyle = CELL) -> Paragraph:
    fill, ink = STATUS_COLOURS.get(status, ("#FFFFFF", "#000000"))
    return Paragraph(
        f'<font color="{ink}"><b>{escape(status.upper())}</b></font>',
        ParagraphStyle(
            f"chip-{status}-{style.name}", parent=style, backColor=colors.HexColor(fill)
        ),
    )


def grid(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    header: bool = True,
    extra: Sequence[tuple[Any, ...]] = (),
) -> Table:
    """A table whose long rows split across pages with the header row repeated."""
    table = LongTable(
        list(rows), colWidths=list(widths), repeatRows=1 if header else 0, splitByRow=True
    )
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#B7B7B7")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), NAVY))
    table.setStyle(TableStyle([*commands, *extra]))
    return table


def key_values(pairs: Sequence[tuple[str, Any]], label_width: float = 42 * mm) -> Table:
    rows = [
        [
            Paragraph(f"<b>{escape(k)}</b>", SMALL),
            v
            if isinstance(v, Flowable)
            else text(v, ParagraphStyle("kv", parent=SMALL, wordWrap="CJK")),
        ]
        for k, v in pairs
    ]
    return grid(rows, [label_width, WIDTH - label_width], header=False)


def heads(*names: str) -> list[Paragraph]:
    return [Paragraph(escape(n), HEAD_CELL) for n in names]


MONO, MONO_SIZE = "Courier", 6.5  # identifiers: ARNs, resource ids
PROSE, PROSE_SIZE = "Vera", 7
CELL_PADDING = 6  # left + right padding of grid cells, in points


def fitted(value: Any, width: float, font: str, size: float) -> str:
    """Plain text broken into lines that fit a column: far cheaper than a Paragraph per cell
    when a table has thousands of rows. Identifiers are monospace and break anywhere; prose
    breaks between words."""
    room = width - CELL_PADDING
    lines: list[str] = []
    for part in str(display(value)).split("\n"):
        if pdfmetrics.stringWidth(part, font, size) <= room:
            lines.append(part)
        elif font == MONO:
            per_line = max(1, int(room // (0.6 * size)))
            lines.extend(part[i : i + per_line] for i in range(0, len(part), per_line))
        else:
            for line in simpleSplit(part, font, size, room):
                if pdfmetrics.stringWidth(line, font, size) <= room:
                    lines.append(line)
                else:  # one word longer than the column
                    lines.extend(_hard_split(line, font, size, room))
    return "\n".join(lines)


def _hard_split(word: str, font: str, size: float, room: float) -> Iterator[str]:
    line = ""
    for char in word:
        if line and pdfmetrics.stringWidth(line + char, font, size) > room:
            yield line
            line = ""
        line += char
    if line:
        yield line
