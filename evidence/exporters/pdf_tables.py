"""Plain-data tables (exporters/tables.py) drawn in the PDF: the exceptions register, excepted
items. Plain fitted text per cell, so tables of thousands of rows stay fast."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable

from .pdf_layout import (
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
from .tables import DataTable


def data_grid(table: DataTable) -> list[Flowable]:
    """The table as a grid, columns sized by their shares of the page width, then its notes;
    its `empty` sentence when it has no rows."""
    shown = [(i, c) for i, c in enumerate(table.columns) if c.in_pdf]
    if not table.rows:
        return [text(table.empty)]
    total = sum(c.share for _, c in shown)
    widths = [WIDTH * c.share / total for _, c in shown]
    rows: list[list[Any]] = [heads(*(c.name for _, c in shown))]
    for row in table.rows:
        cells: list[Any] = []
        for (index, column), width in zip(shown, widths, strict=True):
            value = row[index]
            if column.kind == "status":
                cells.append(status_chip(str(value).lower()))
            else:
                font, size = (MONO, MONO_SIZE) if column.kind == "ident" else (PROSE, PROSE_SIZE)
                cells.append(fitted("-" if value in (None, "") else value, width, font, size))
        rows.append(cells)
    fonts: list[tuple[Any, ...]] = [("FONT", (0, 1), (-1, -1), PROSE, PROSE_SIZE, PROSE_SIZE + 1.6)]
    fonts += [
        ("FONT", (n, 1), (n, -1), MONO, MONO_SIZE, MONO_SIZE + 1.6)
        for n, (_, column) in enumerate(shown)
        if column.kind == "ident"
    ]
    return [grid(rows, widths, extra=fonts), *(text(note, SMALL) for note in table.notes)]
