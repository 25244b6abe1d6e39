"""The PDF's item tables (failing items, the rest of a population): resource, account, region,
ARN, the attributes the check declares for findings, detail and where the evidence is. Columns
empty for the whole table are dropped, and widths follow what the columns hold.

Cells are plain text fitted to their column (not a Paragraph each): a table of 10,000 rows stays
fast."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable

from .evidence_refs import EvidenceRef, item_key
from .finding_attributes import FindingColumn, plain
from .pdf_layout import (
    CELL_PADDING,
    MONO,
    MONO_SIZE,
    PROSE,
    PROSE_SIZE,
    SMALL,
    WIDTH,
    fitted,
    grid,
    heads,
    status_chip,
    text,
)

SAMPLE_ROWS = 400  # rows measured to size the columns
WIDEST = 70 * mm  # no column is sized for more than this; longer values wrap
NARROWEST = 11 * mm
FIRST_LINE_WIDEST = 40 * mm
HEAD_FONT, HEAD_SIZE = "Vera-Bold", 7
CAPTION = ParagraphStyle("Caption", parent=SMALL, spaceAfter=2)


@dataclass(frozen=True)
class Column:
    label: str
    value: Callable[[Mapping[str, Any]], str]
    font: str = PROSE
    status: bool = False  # a coloured status chip instead of text
    anywhere: bool = False  # an identifier: lines break anywhere, not between words
    whole_first_line: bool = False  # sized so the first line (the resource) rarely wraps


def evidence_label(refs: Sequence[EvidenceRef], numbers: Mapping[str, str]) -> str:
    """ "F1 call 3; F2 row 5": the file's number in the section's raw evidence table."""
    parts = []
    for ref in refs:
        name = numbers.get(ref.path, ref.path.rsplit("/", 1)[-1])
        detail = ref.numbers()
        parts.append(f"{name} {detail}" if detail else name)
    return "\n".join(parts)


_ISO_UTC = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z$")


def cell_text(value: Any) -> str:
    """A value as a cell shows it: times in UTC without the ISO 8601 T and Z (the column says
    UTC), yes/no, lists joined, nothing for None."""
    text = plain(value)
    match = _ISO_UTC.match(text)
    return f"{match.group(1)} {match.group(2)}" if match else text


def _is_time(value: Any) -> bool:
    return isinstance(value, str) and _ISO_UTC.match(value) is not None


def items_table(
    items: Sequence[Mapping[str, Any]],
    attributes: Sequence[FindingColumn],
    evidence: Mapping[str, tuple[EvidenceRef, ...]],
    numbers: Mapping[str, str],
    with_status: bool,
) -> list[Flowable]:
    """One row per item. `evidence` maps item_key(item) to its references and `numbers` a raw
    file's path to its short name in the section (F1, F2...). Account and region, when the
    same for every row, are said once above the table instead of in columns."""
    flowables: list[Flowable] = []
    columns = [
        Column("Resource / ARN", _resource_and_arn, MONO, anywhere=True, whole_first_line=True)
    ]
    same = []
    for key, name in (("account", "Account"), ("region", "Region")):
        distinct = {str(i[key]) for i in items}
        if len(distinct) == 1:
            same.append(f"{name.lower()} {distinct.pop()}")
        else:
            columns.append(Column(name, lambda i, key=key: str(i[key])))  # type: ignore[misc]
    if same:
        flowables.append(text(f"Every item below: {', '.join(same)}.", CAPTION))
    if with_status:
        columns.append(Column("Status", lambda i: str(i["status"]), status=True))
    for attribute in attributes:
        timed = any(_is_time(attribute.value(i)) for i in items[:SAMPLE_ROWS])
        columns.append(
            Column(
                attribute.label + (" (UTC)" if timed else ""),
                lambda i, a=attribute: cell_text(a.value(i)),  # type: ignore[misc]
            )
        )
    columns += [
        Column("Detail", lambda i: str(i["detail"] or "")),
        Column(
            "Item id / evidence",
            lambda i: "\n".join(
                x
                for x in (
                    f"id {i['id']}" if i.get("id") else "",
                    evidence_label(evidence.get(item_key(i), ()), numbers),
                )
                if x
            ),
            MONO,
        ),
    ]
    values = [[column.value(item) for column in columns] for item in items]
    keep = [n for n in range(len(columns)) if any(row[n] for row in values)]
    columns = [columns[n] for n in keep]
    values = [[row[n] for n in keep] for row in values]
    widths = column_widths(columns, values[:SAMPLE_ROWS])
    rows: list[list[Any]] = [heads(*(c.label for c in columns))]
    for row in values:
        rows.append(
            [
                status_chip(value)
                if column.status
                else fitted(value, width, column.font, _size(column.font), column.anywhere)
                for column, value, width in zip(columns, row, widths, strict=True)
            ]
        )
    fonts: list[tuple[Any, ...]] = [("FONT", (0, 1), (-1, -1), PROSE, PROSE_SIZE, PROSE_SIZE + 1.6)]
    for index, column in enumerate(columns):
        if column.font == MONO:
            fonts.append(("FONT", (index, 1), (index, -1), MONO, MONO_SIZE, MONO_SIZE + 1.6))
    flowables.append(grid(rows, widths, extra=fonts))
    return flowables


def _resource_and_arn(item: Mapping[str, Any]) -> str:
    """The resource, and under it its ARN (when it has one that says more)."""
    resource, arn = str(item["resource"]), str(item["arn"] or "")
    return f"{resource}\n{arn}" if arn and arn != resource else resource


def _size(font: str) -> float:
    return MONO_SIZE if font == MONO else PROSE_SIZE


MOST_LINES = 12  # beyond this many lines a row may get, columns just keep their minimum
WORD_WRAP_WASTE = 1.15  # prose wrapped between words fills its lines less than an identifier


@dataclass(frozen=True)
class _Extent:
    """What a column's values need: its minimum width, the width of its longest line (capped
    at WIDEST), and the line widths of its bulkiest cells."""

    least: float
    longest: float
    bulky: tuple[tuple[float, ...], ...]
    waste: float

    def lines(self, width: float) -> int:
        room = max(width - CELL_PADDING - 1, 1.0)
        return max(
            (sum(max(1, -int(-w * self.waste // room)) for w in cell) for cell in self.bulky),
            default=1,
        )

    def width_for(self, lines: int) -> float:
        """The narrowest width (from least to longest) at which no bulky cell needs more than
        `lines` lines; the longest when none does."""
        low, high = self.least, max(self.least, self.longest)
        if self.lines(low) <= lines:
            return low
        for _ in range(24):
            middle = (low + high) / 2
            if self.lines(middle) <= lines:
                high = middle
            else:
                low = middle
        return high


def _extent(column: Column, index: int, sample: Sequence[Sequence[str]]) -> _Extent:
    head = max(pdfmetrics.stringWidth(w, HEAD_FONT, HEAD_SIZE) for w in column.label.split())
    least = max(NARROWEST, head + CELL_PADDING + 1)
    if column.status:
        widest = max(
            (pdfmetrics.stringWidth(row[index].upper(), HEAD_FONT, HEAD_SIZE) for row in sample),
            default=0.0,
        )
        least = max(least, widest + CELL_PADDING + 1)
        return _Extent(least, least, (), 1.0)
    font, size = column.font, _size(column.font)
    cells = [
        tuple(pdfmetrics.stringWidth(line, font, size) for line in row[index].split("\n"))
        for row in sample
    ]
    if column.whole_first_line:  # the resource on one line
        first = max((c[0] for c in cells), default=0.0)
        least = max(least, min(FIRST_LINE_WIDEST, first + CELL_PADDING + 1))
    longest = min(WIDEST, max((max(c) for c in cells), default=0.0) + CELL_PADDING + 1)
    bulky = tuple(sorted(cells, key=sum, reverse=True)[:5])
    return _Extent(least, max(least, longest), bulky, 1.0 if column.anywhere else WORD_WRAP_WASTE)


def column_widths(columns: Sequence[Column], sample: Sequence[Sequence[str]]) -> list[float]:
    """Widths that add up to the page width and keep rows short: the fewest lines any cell
    needs (a row is as tall as its tallest cell) is found first, giving each column the
    narrowest width that achieves it; what is left goes to the columns that would still wrap,
    the least lacking first in full, then in proportion to what they lack, then to all in
    proportion to their width. Every column keeps at least its header's longest word."""
    extents = [_extent(column, n, sample) for n, column in enumerate(columns)]
    least = sum(e.least for e in extents)
    if least >= WIDTH:
        return [e.least * WIDTH / least for e in extents]
    widths = [e.least for e in extents]
    for lines in range(1, MOST_LINES + 1):
        trial = [e.width_for(lines) for e in extents]
        if sum(trial) <= WIDTH:
            widths = trial
            break
    slack = WIDTH - sum(widths)
    lacking = [max(0.0, e.longest - w) for e, w in zip(extents, widths, strict=True)]
    # Short columns first get all they need (a time, an id on one line: fewer lines to draw).
    for index in sorted(range(len(extents)), key=lambda n: lacking[n]):
        if 0 < lacking[index] <= slack:
            widths[index] += lacking[index]
            slack -= lacking[index]
            lacking[index] = 0.0
    if sum(lacking) > 0:
        given = min(slack, sum(lacking))
        widths = [w + given * d / sum(lacking) for w, d in zip(widths, lacking, strict=True)]
        slack -= given
    return [w + slack * w / sum(widths) for w in widths]
