"""A table longer than a worksheet holds, split across sheets: `IAM-03`, `IAM-03 (2)`, ...

Excel holds at most 1,048,576 rows in a worksheet, header rows included (Microsoft, "Excel
specifications and limits"); a longer sheet opens truncated, with a warning, or not at all, and
LibreOffice Calc has the same limit by default. So a population, the Findings or the Sources of
a large organisation continue on further sheets, named after the first with " (2)", " (3)", ...
placed right after it. Every part says which rows it holds (the first in its label block, the
others in a note above their table) and names the others; links elsewhere in the workbook point
to the first part, which holds the control's result and evidence.

Parts are planned before the first row is written (a write-only sheet cannot go back), from the
number of rows, so each note can say where the table ends.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter

EXCEL_MAX_ROWS = 1_048_576  # rows in a worksheet, header included; tests lower it
CONTINUATION_TOP = 4  # a continuation part: title, note, a blank row, then the table's header
MAX_SHEET_NAME = 31


@dataclass(frozen=True)
class Part:
    """One sheet of a split table: `first` to `last` (1-based, inclusive) of its rows, counting
    the table's rows and then any rows written after the table (`Split.trailing`)."""

    name: str
    first: int
    last: int
    top: int  # the sheet row of the table's header (of the note, on a part with no table rows)


@dataclass(frozen=True)
class Split:
    """A table of `rows` rows, then `trailing` rows of another section, over `parts`."""

    parts: tuple[Part, ...]
    rows: int
    trailing: int
    what: str  # what the rows are, e.g. "items of the population", "calls"

    @property
    def split(self) -> bool:
        return len(self.parts) > 1

    def note(self, index: int) -> str:
        """Which rows part `index` holds, and where the others are."""
        part = self.parts[index]
        table_last = min(part.last, self.rows)
        if part.first <= self.rows:
            here = f"Rows {part.first:,} to {table_last:,} of the {self.rows:,} {self.what}"
        else:
            here = f"The section after the {self.what}, continued"
        others = [
            f"{p.first:,} to {min(p.last, self.rows):,} on '{p.name}'"
            if p.first <= self.rows
            else f"the rest on '{p.name}'"
            for p in self.parts
            if p is not part
        ]
        return f"{here}; {'; '.join(others)}." if others else f"{here}."


def continuation_name(base: str, number: int, taken: Collection[str]) -> str:
    """`base (number)`, cut to a sheet name's 31 characters, unique against `taken` (compared
    without case, as Excel does)."""
    used = {name.lower() for name in taken}
    suffix, extra = f" ({number})", 1
    while True:
        candidate = base[: MAX_SHEET_NAME - len(suffix)] + suffix
        if candidate.lower() not in used:
            return candidate
        extra += 1
        suffix = f" ({number}~{extra})"


def plan(
    name: str,
    rows: int,
    first_top: int,
    taken: Collection[str],
    what: str,
    trailing: int = 0,
    limit: int | None = None,
) -> Split:
    """Split `rows` table rows and `trailing` rows after them over sheets of at most `limit`
    rows (default EXCEL_MAX_ROWS, read when called): the first sheet's table header is on row
    `first_top`, a continuation's on CONTINUATION_TOP. Names come from continuation_name."""
    limit = EXCEL_MAX_ROWS if limit is None else limit
    if limit - max(first_top, CONTINUATION_TOP) < 1:
        raise ValueError(f"{limit} rows leave no room for a table under row {first_top}")
    total = rows + trailing
    parts: list[Part] = []
    first, top, sheet_name = 1, first_top, name
    names = [*taken, name]
    while True:
        last = min(total, first + (limit - top) - 1)
        parts.append(Part(sheet_name, first, last, top))
        if last >= total:
            break
        first, top = last + 1, CONTINUATION_TOP
        sheet_name = continuation_name(name, len(parts) + 1, names)
        names.append(sheet_name)
    return Split(tuple(parts), rows, trailing, what)


Finish = Callable[[Any, int, int], None]  # (sheet, header row, last table row) of a part


class SplitWriter:
    """Appends the rows of a planned Split, opening each continuation part when the one before
    is full: `preamble(sheet, note)` writes its two top rows (a title, the note saying which rows
    it holds), then a blank row and, while table rows remain, the table's header again. The
    first part must already hold everything down to its header row.

    `new_sheet(name, title_row)` creates a sheet set up to print; `prepare(sheet)` sets what a
    write-only sheet needs before its first row (column widths); `header(sheet)` is the header
    row's cells; `finish(sheet, first, last)` closes a part's table rows (filter, colours)."""

    def __init__(
        self,
        split: Split,
        first_sheet: Any,
        new_sheet: Callable[[str, int | None], Any],
        prepare: Callable[[Any], None],
        preamble: Callable[[Any, str], None],
        header: Callable[[Any], Sequence[Any]],
        finish: Finish,
    ) -> None:
        self.split = split
        self.sheet = first_sheet
        self._new_sheet, self._prepare, self._preamble = new_sheet, prepare, preamble
        self._header, self._finish = header, finish
        self._index, self._written = 0, 0  # the part being written, rows written in all

    def append(self, row: Sequence[Any] | Callable[[Any], Sequence[Any]]) -> None:
        """Append one row (the table's, then the trailing section's) on the part it belongs to.
        A row holding hyperlinks is given as a function of the sheet it lands on (a link cell
        belongs to its sheet)."""
        if self._written == self.split.parts[self._index].last:
            self._close_part()
            self._open(self._index + 1)
        self.sheet.append(row(self.sheet) if callable(row) else row)
        self._written += 1

    def close(self) -> None:
        """Finish the last part's table rows; call once every row is appended."""
        self._close_part()

    def _close_part(self) -> None:
        part = self.split.parts[self._index]
        if part.first <= self.split.rows:
            last = min(self._written, self.split.rows, part.last)
            self._finish(self.sheet, part.top, part.top + max(last - part.first + 1, 0))

    def _open(self, index: int) -> None:
        if index >= len(self.split.parts):
            raise ValueError(f"more rows than planned ({self.split.parts[-1].last:,})")
        part = self.split.parts[index]
        with_header = part.first <= self.split.rows
        sheet = self._new_sheet(part.name, part.top if with_header else None)
        self._prepare(sheet)
        if with_header:
            sheet.freeze_panes = f"A{part.top + 1}"  # before the first row: write-only
        self._preamble(sheet, self.split.note(index))
        sheet.append([])
        if with_header:
            sheet.append(list(self._header(sheet)))
        self.sheet, self._index = sheet, index


def filter_range(top: int, last_row: int, columns: int) -> str:
    """The auto-filter range of a table whose header is on `top`."""
    return f"A{top}:{get_column_letter(columns)}{max(last_row, top)}"
