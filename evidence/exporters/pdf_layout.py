"""The PDF's look: page geometry, fonts, paragraph styles and the small building blocks (text,
status chips, grids, label/value tables, cells fitted to a column) every section uses."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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
    CondPageBreak,
    Flowable,
    LongTable,
    Paragraph,
    Table,
    TableStyle,
)

from .common import display
from .shown_text import drawable, pdf_markup
from .statuses import LABEL_COLOURS

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
    # Labels that are more than a plain status: flags, and states of accepted exceptions.
    **{label: (f"#{fill}", f"#{ink}") for label, (fill, ink) in LABEL_COLOURS.items()},
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
# Identifiers (ARNs, paths, operations) are single words: a word longer than its line is split
# wherever the line ends (splitLongWords), so none runs off the page. (CJK wrapping would do the
# same but takes time quadratic in the word's length.)
IDENT = ParagraphStyle("Ident", parent=CELL, splitLongWords=1)
# A SHA-256 on one line: 64 Courier characters at 6.4 pt need 88 mm.
HASH = ParagraphStyle("Hash", parent=CELL, fontName="Courier", fontSize=6.4, wordWrap="CJK")
HASH_WIDTH = 89 * mm
# Raw files listed per control and in the appendix: an organisation's pack holds thousands, all
# listed with their SHA-256 in manifest.json and SHA256SUMS (and per call on the workbook's
# Sources sheet); printing them all would double the report's pages and memory.
FILES_SHOWN = 60


def more_files(more: int, whose: str) -> str:
    """The line under a file list cut at FILES_SHOWN: how many more, and where they all are."""
    return (
        f"{more} more raw files {whose}, too many to print: every one is listed with its"
        " SHA-256 in the pack's manifest.json and SHA256SUMS, in results.json (each control's"
        " evidence) and per API call on the workbook's Sources sheet."
    )


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

HEADING_CHARACTERS = 160  # longer titles are shortened in headings; sections show them whole
ELLIPSIS = "\u2026"


def shorten(value: str, limit: int) -> str:
    """At most `limit` characters, ending in an ellipsis when cut."""
    return value if len(value) <= limit else value[: limit - 1].rstrip() + ELLIPSIS


def clip_to_width(value: str, font: str, size: float, width: float) -> str:
    """One line that fits `width` points: cut at the end, with an ellipsis, when too long (drawn
    in `font`: shown_text.drawable)."""
    value = drawable(value, font)
    if pdfmetrics.stringWidth(value, font, size) <= width:
        return value
    low, high = 0, len(value)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if pdfmetrics.stringWidth(value[:middle] + ELLIPSIS, font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return value[:low] + ELLIPSIS


def text(value: Any, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(pdf_markup(display(value), style.fontName).replace("\n", "<br/>"), style)


def status_chip(status: str, style: ParagraphStyle = CELL) -> Paragraph:
    """A coloured status, or status label with its flags (`manual - no evidence`)."""
    base = STATUS_COLOURS.get(status.split(" - ")[0], ("#FFFFFF", "#000000"))
    fill, ink = STATUS_COLOURS.get(status, base)
    return Paragraph(
        f'<font color="{ink}"><b>{escape(status.upper())}</b></font>',
        ParagraphStyle(
            f"chip-{status}-{style.name}", parent=style, backColor=colors.HexColor(fill)
        ),
    )


class FlowingTable(LongTable):  # type: ignore[misc]
    """A table that splits between rows, and inside a row when that row is too tall for what is
    left of the page: a tall row (a long description, a detail of thousands of characters) is
    never pushed whole to the next page, leaving this one mostly blank, nor fails to fit a page
    at all (reportlab's LayoutError)."""

    TALL_ROW = 90  # points: a shorter row may move to the next page whole

    def split(self, available_width: float, available_height: float) -> list[Any]:
        self._calc(available_width, available_height)
        by_row: list[Any] = self._splitRows(available_height)
        if len(by_row) == 1:
            return by_row  # the whole table fits
        repeat = self.repeatRows
        header = repeat if isinstance(repeat, int) else max(repeat) + 1
        following = by_row[0]._nrows if by_row else header  # the first row that did not fit
        if following >= len(self._rowHeights) or self._rowHeights[following] <= self.TALL_ROW:
            return by_row  # an ordinary row moves to the next page whole
        if available_height - sum(self._rowHeights[:following]) < self.TALL_ROW / 2:
            return by_row  # too little room left to start a tall row here
        in_row: list[Any] = self._splitRows(available_height, doInRowSplit=1)
        return in_row or by_row


def grid(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    header: bool = True,
    extra: Sequence[tuple[Any, ...]] = (),
) -> Table:
    """A table whose rows split across pages (long rows inside themselves) with the header row
    repeated on every page."""
    # A flowable cell is a one-element list: the form reportlab can split inside a row.
    cells = [[[v] if isinstance(v, Flowable) else v for v in row] for row in rows]
    table = FlowingTable(
        cells, colWidths=list(widths), repeatRows=1 if header else 0, splitByRow=1, splitInRow=1
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


KV_VALUE = ParagraphStyle("KeyValue", parent=SMALL)


def key_values(pairs: Sequence[tuple[str, Any]], label_width: float = 42 * mm) -> Table:
    rows = [
        [
            Paragraph(f"<b>{pdf_markup(k, 'Vera-Bold')}</b>", SMALL),
            v if isinstance(v, Flowable) else text(v, KV_VALUE),
        ]
        for k, v in pairs
    ]
    return grid(rows, [label_width, WIDTH - label_width], header=False)


def heads(*names: str) -> list[Paragraph]:
    return [Paragraph(pdf_markup(n, HEAD_CELL.fontName), HEAD_CELL) for n in names]


@dataclass(frozen=True)
class Outline:
    """What a heading contributes to the document: an outline entry at `level` (0: a section,
    also a contents line) and, for a section, the title its continuation pages carry."""

    level: int
    running: str


def outline_of(flowable: Flowable) -> Outline | None:
    return getattr(flowable, "_soc_outline", None)


def section_heading(title: str, running: str | None = None) -> Paragraph:
    """A section's title (it starts a page): outline entry, contents line, running title."""
    paragraph = Paragraph(pdf_markup(title, H1.fontName), H1)
    paragraph._soc_outline = Outline(0, running or title)
    return paragraph


SUBHEADING_ROOM = 28 * mm  # a subheading needs this much below it, or it starts the next page


def subheading(title: str) -> list[Flowable]:
    """A part of a section: in the outline; never alone at the foot of a page (it moves to the
    next page unless there is room for it and the first lines of what follows)."""
    return [CondPageBreak(SUBHEADING_ROOM), subheading_paragraph(title)]


def subheading_paragraph(title: str) -> Paragraph:
    """The subheading itself, for code that lays out its own part (put a
    CondPageBreak(SUBHEADING_ROOM) before it)."""
    paragraph = Paragraph(pdf_markup(title, H2.fontName), H2)
    paragraph._soc_outline = Outline(1, title)
    return paragraph


MONO, MONO_SIZE = "Courier", 6.5  # identifiers: ARNs, resource ids
PROSE, PROSE_SIZE = "Vera", 7
CELL_PADDING = 6  # left + right padding of grid cells, in points


def fitted(value: Any, width: float, font: str, size: float, anywhere: bool | None = None) -> str:
    """Plain text broken into lines that fit a column: far cheaper than a Paragraph per cell
    when a table has thousands of rows. Identifiers (monospace, unless `anywhere` says
    otherwise) break anywhere; prose breaks between words, and inside a word only when the
    word alone is wider than the column."""
    room = width - CELL_PADDING
    lines: list[str] = []
    anywhere = font == MONO if anywhere is None else anywhere
    for part in drawable(str(display(value)), font).split("\n"):
        if pdfmetrics.stringWidth(part, font, size) <= room:
            lines.append(part)
        elif anywhere and font == MONO:
            per_line = max(1, int(room // (0.6 * size)))
            lines.extend(part[i : i + per_line] for i in range(0, len(part), per_line))
        else:
            for line in simpleSplit(part, font, size, room):
                if pdfmetrics.stringWidth(line, font, size) <= room:
                    lines.append(line)
                else:  # one word longer than the column (or an identifier)
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
