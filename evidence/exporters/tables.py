"""A table as plain data, so a section can be built once and drawn by both the workbook and the
PDF: rows of values with typed columns, no openpyxl or reportlab in sight."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Column:
    """`kind`: text (prose, wraps between words), ident (identifiers: break anywhere), status
    (a status label: coloured), number. `share` is the column's relative width in the PDF;
    `in_pdf` False keeps a column (e.g. long id lists) for the workbook only."""

    name: str
    share: float = 1.0
    kind: str = "text"
    in_pdf: bool = True


@dataclass(frozen=True)
class DataTable:
    """A titled table; `empty` is what to say when it has no rows (never a blank space)."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    empty: str = "None."
    intro: str = ""
    notes: tuple[str, ...] = ()  # lines said under the table

    @property
    def headers(self) -> list[str]:
        return [c.name for c in self.columns]

    def status_column(self) -> int | None:
        """The 0-based index of the status column, if there is one."""
        return next((i for i, c in enumerate(self.columns) if c.kind == "status"), None)
