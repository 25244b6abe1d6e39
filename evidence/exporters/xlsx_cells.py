"""Workbook cells: values made safe and typed for a spreadsheet (AWS strings never formulas, ISO
UTC times as dates), shared styles, status colours and column widths for write-only sheets."""

import re
from collections.abc import Iterable, Sequence
from copy import copy
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..pack.raw import parse_utc
from .common import (
    display,
)
from .shown_text import visible
from .statuses import LABEL_COLOURS

MAX_CELL = 32_767  # Excel's limit on characters in a cell
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]00:00)$")
DATE_FORMAT = "yyyy-mm-dd h:mm:ss"  # openpyxl's own default for datetimes

STATUS_STYLE = {
    "pass": ("C6EFCE", "006100"),
    "fail": ("FFC7CE", "9C0006"),
    "error": ("FFEB9C", "9C5700"),
    "manual": ("D9D9D9", "3A3A3A"),
    "exception": ("DDEBF7", "1F4E78"),
}
FAILING_ROW_COLOUR = "FDE9E9"
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
# Fonts name the workbook's default face: a font without a name falls back to another face in
# some applications (LibreOffice prints it in a serif).
FACE = "Calibri"
HEADER_FONT = Font(name=FACE, bold=True, color="FFFFFF")
LABEL_FONT = Font(name=FACE, bold=True)
TOP = Alignment(vertical="top")
TITLE_FONT = Font(name=FACE, bold=True, size=14)
LINK_FONT = Font(name=FACE, color="0563C1", underline="single")
WRAP = Alignment(wrap_text=True, vertical="top", horizontal="left")


class _Styles:
    """Each distinct style is built once; later cells copy its style array. Setting font and fill
    objects on every cell made style registration most of the cost of a large sheet."""

    def __init__(self) -> None:
        # Per workbook object, not per id(): a later workbook can reuse a freed one's id, and
        # style arrays index into their own workbook's style tables (IndexError on save).
        self._arrays: WeakKeyDictionary[Any, dict[tuple[tuple[str, Any], ...], Any]]
        self._arrays = WeakKeyDictionary()

    def apply(self, sheet: Any, target: WriteOnlyCell, style: dict[str, Any]) -> None:
        arrays = self._arrays.setdefault(sheet.parent, {})
        key = tuple(sorted((k, id(v)) for k, v in style.items()))
        array = arrays.get(key)
        if array is None:
            template = WriteOnlyCell(sheet)
            for name, setting in style.items():
                setattr(template, name, setting)
            array = arrays[key] = template._style
        target._style = copy(array)


_STYLES = _Styles()


def cell(sheet: Any, value: Any, **style: Any) -> Any:
    """A value ready to append: AWS strings never become formulas; ISO UTC times become dates.

    Plain values are returned as they are (openpyxl's fast path); a cell object is built only
    where a style or Excel's quote prefix is needed.
    """
    kind = type(value)
    if kind is str:
        return _text(sheet, value, style)
    if kind is bool:
        return _text(sheet, "yes" if value else "no", style)
    if value is None or kind is int or kind is float:
        return _styled(sheet, value, style) if style else value
    if kind is datetime:
        return _date(sheet, value, style)
    return _text(sheet, str(display(value)), style)


def _text(sheet: Any, value: str, style: dict[str, Any]) -> Any:
    if not value:
        return None  # openpyxl skips None cells entirely
    if value[-1] == "Z" and _ISO_UTC.match(value):
        return _date(sheet, parse_utc(value), style)
    if not value.isprintable():  # invisible, bidi and the characters Excel refuses
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", visible(value))
    if len(value) > MAX_CELL:
        value = value[: MAX_CELL - 40] + " … (truncated: see the raw file)"
    if value.startswith(FORMULA_STARTS):
        # A string cell (openpyxl reads a leading "=" as a formula), with the quote prefix so
        # Excel keeps it text even when the cell is edited.
        result = WriteOnlyCell(sheet, value=value)
        result.data_type = "s"
        _STYLES.apply(sheet, result, {**style, "quotePrefix": True})
        return result
    return _styled(sheet, value, style) if style else value


def _date(sheet: Any, moment: datetime, style: dict[str, Any]) -> Any:
    # Excel has no time zones: UTC, and every header says so. A plain datetime gets openpyxl's
    # date format; a styled one needs it in its style.
    value = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    return _styled(sheet, value, {**style, "number_format": DATE_FORMAT}) if style else value


def _styled(sheet: Any, value: Any, style: dict[str, Any]) -> WriteOnlyCell:
    result = WriteOnlyCell(sheet, value=value)
    _STYLES.apply(sheet, result, style)
    return result


_STATUS_LOOK = {
    status: (PatternFill("solid", fgColor=fill), Font(name=FACE, bold=True, color=font))
    for status, (fill, font) in {**STATUS_STYLE, **LABEL_COLOURS}.items()
}


def status_cell(sheet: Any, status: str) -> WriteOnlyCell:
    """A coloured status, or status label with its flags (`manual - no evidence`)."""
    base = _STATUS_LOOK.get(status.split(" - ")[0], _STATUS_LOOK["manual"])
    fill, font = _STATUS_LOOK.get(status, base)
    result: WriteOnlyCell = cell(sheet, status.upper(), fill=fill, font=font)
    return result


def colour_statuses(
    sheet: Any, column: str, first: int, last_row: int, last_col: str, tint_rows: bool = True
) -> None:
    """Population tables colour their status column and tint failing rows by conditional
    formatting: one rule each instead of a styled cell per row, so 100,000 rows stay fast, and
    every spreadsheet application renders it."""
    if last_row < first:
        return
    for status, (fill, font) in {**STATUS_STYLE, **LABEL_COLOURS}.items():
        sheet.conditional_formatting.add(
            f"{column}{first}:{column}{last_row}",
            CellIsRule(
                operator="equal",
                formula=[f'"{status.upper()}"'],
                fill=PatternFill("solid", fgColor=fill, bgColor=fill),
                font=Font(bold=True, color=font),
            ),
        )
    if not tint_rows:
        return
    sheet.conditional_formatting.add(
        f"A{first}:{last_col}{last_row}",
        FormulaRule(
            formula=[f'${column}{first}="FAIL"'],
            fill=PatternFill("solid", fgColor=FAILING_ROW_COLOUR, bgColor=FAILING_ROW_COLOUR),
        ),
    )


def header_row(sheet: Any, names: Sequence[str]) -> list[WriteOnlyCell]:
    return [cell(sheet, n, font=HEADER_FONT, fill=HEADER_FILL) for n in names]


def set_widths(sheet: Any, rows: Iterable[Sequence[Any]], minimum: int = 8, cap: int = 60) -> None:
    """Column widths from the header and a sample of rows (write-only sheets need them first)."""
    widths: dict[int, int] = {}
    for row in rows:
        for index, value in enumerate(row, 1):
            text = str(display(value)) if value is not None else ""
            longest = max((len(line) for line in text.splitlines()), default=0)
            widths[index] = max(widths.get(index, minimum), min(longest + 2, cap))
    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = width


BLOCK_VALUE_WIDTH = 70  # column B: the header blocks' values, and the widest table column


MAX_ROW_HEIGHT = 409  # points: the most a spreadsheet row can be


def label_block(
    sheet: Any,
    first_row: int,
    rows: Sequence[tuple[str, Any]],
    beside: Sequence[Sequence[Any]] = (),
    beside_column: int = 4,
) -> None:
    """Label / value rows; wrapped values get the row height they need (no application
    recomputes heights of a streamed sheet), up to a row's maximum. `beside`: cells written on
    the same rows from column `beside_column` on (a small table next to the block)."""
    for offset, (label, value) in enumerate(rows):
        text = str(display(value))
        lines = sum(max(1, -(-len(line) // (BLOCK_VALUE_WIDTH - 4))) for line in text.split("\n"))
        if lines > 1:
            height = min(MAX_ROW_HEIGHT, 15 * lines)
            sheet.row_dimensions[first_row + offset].height = height
        extra = list(beside[offset]) if offset < len(beside) else []
        gap = [None] * (beside_column - 3) if extra else []
        sheet.append(
            [
                cell(sheet, label, font=LABEL_FONT, alignment=TOP),
                cell(sheet, value, alignment=WRAP),
                *gap,
                *extra,
            ]
        )


def is_utc_time(value: Any) -> bool:
    """An ISO 8601 UTC time (written as an Excel date-time), or a datetime."""
    if isinstance(value, datetime):
        return True
    return isinstance(value, str) and value[-1:] == "Z" and _ISO_UTC.match(value) is not None


def wide_value_column(sheet: Any) -> None:
    sheet.column_dimensions["B"].width = BLOCK_VALUE_WIDTH
