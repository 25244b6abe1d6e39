"""The auditor workbook: Summary, one sheet per control, Accounts, Findings, Exceptions, Sources.

Written in openpyxl's write-only mode so populations of 100,000 rows stream to disk. Every string
that came from AWS is written as a string cell (never a formula), with Excel's quote prefix when it
starts with a character a spreadsheet would read as the start of a formula.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from copy import copy
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from .. import TOOL_NAME, __version__
from ..evaluate.results import RESULTS_FILE
from ..model import account_statuses
from ..pack.builder import PackBuilder, sha256_file
from ..pack.raw import parse_utc
from ..pack.runinfo import RunInfo
from .common import (
    RawReader,
    as_utc,
    attribute_columns,
    display,
    export_name,
    params_text,
    sheet_names,
)
from .exception_tables import control_exceptions_text, exceptions_sheet
from .findings import findings
from .period_text import period_line
from .period_xlsx import append_period
from .requests_sheet import PlainSheet, SheetLink, requests_sheet
from .statuses import LABEL_COLOURS, exception_text, status_label
from .xlsx_ipe import ipe_block, summary_rows

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
HEADER_FONT = Font(bold=True, color="FFFFFF")
LABEL_FONT = Font(bold=True)
TOP = Alignment(vertical="top")
TITLE_FONT = Font(bold=True, size=14)
LINK_FONT = Font(color="0563C1", underline="single")
WRAP = Alignment(wrap_text=True, vertical="top", horizontal="left")


def write_workbook(pack: PackBuilder, document: dict[str, Any], run: RunInfo) -> str:
    name = export_name(document, "xlsx")
    raw = RawReader(pack.dir)
    workbook = Workbook(write_only=True)
    _properties(workbook, document)
    controls = document["controls"]
    sheets = sheet_names([c["id"] for c in controls])
    _summary(workbook, document, sheets, sha256_file(pack.dir / RESULTS_FILE))
    for control, sheet in zip(controls, sheets, strict=True):
        _control_sheet(workbook, sheet, control, raw)
    _accounts(workbook, document)
    _findings(workbook, controls, dict(zip((c["id"] for c in controls), sheets, strict=True)))
    by_id = dict(zip((c["id"] for c in controls), sheets, strict=True))
    plain_sheet(workbook, exceptions_sheet(document, by_id))
    _sources(workbook, raw)
    requests = requests_sheet(document, by_id)
    if requests is not None:
        plain_sheet(workbook, requests)
    workbook.save(pack.dir / name)
    return name


# ---------------------------------------------------------------- cells


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
    if not value.isprintable():  # the characters Excel refuses are all non-printable
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
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
    status: (PatternFill("solid", fgColor=fill), Font(bold=True, color=font))
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


# ---------------------------------------------------------------- sheets


def _properties(workbook: Any, document: Mapping[str, Any]) -> None:
    run = document["run"]
    props = workbook.properties
    props.title = f"SOC 2 evidence: {run['organisation']} ({run['pack']})"
    props.subject = f"AWS control evidence as of {run['as_of']} for {run['scope']}"
    props.creator = f"{TOOL_NAME} {__version__}"
    props.created = as_utc(run["evaluated_at"]).replace(tzinfo=None)  # type: ignore[union-attr]
    props.keywords = "SOC 2; AWS; evidence"


BLOCK_VALUE_WIDTH = 70  # column B: the header blocks' values, and the widest table column


def _block(sheet: Any, first_row: int, rows: Sequence[tuple[str, Any]]) -> None:
    """Label / value rows; wrapped values get the row height they need (no application
    recomputes heights of a streamed sheet)."""
    for offset, (label, value) in enumerate(rows):
        text = str(display(value))
        lines = sum(max(1, -(-len(line) // (BLOCK_VALUE_WIDTH - 4))) for line in text.split("\n"))
        if lines > 1:
            sheet.row_dimensions[first_row + offset].height = 15 * lines
        sheet.append(
            [cell(sheet, label, font=LABEL_FONT, alignment=TOP), cell(sheet, value, alignment=WRAP)]
        )


def _wide_value_column(sheet: Any) -> None:
    sheet.column_dimensions["B"].width = BLOCK_VALUE_WIDTH


def _summary(
    workbook: Any, document: Mapping[str, Any], sheets: Sequence[str], results_sha: str
) -> None:
    run, controls = document["run"], document["controls"]
    sheet = workbook.create_sheet("Summary")
    accounts = "; ".join(
        a["account_id"] + (f" ({a['alias']})" if a.get("alias") else "") for a in run["accounts"]
    )
    block = [
        ("Organisation", run["organisation"]),
        ("Pack", run["pack"]),
        ("Accounts", accounts),
        ("Regions", ", ".join(run["regions"]) or "global services only"),
        ("Caller ARN", run["caller_arn"]),
        ("Tool", f"{run['tool']} {run['tool_version']}"),
        ("As of (UTC)", run["as_of"]),
        ("Audit period", period_line(run)),
        ("Collection started (UTC)", run["started"]),
        ("Collection finished (UTC)", run["finished"]),
        ("controls.yaml SHA-256", run["controls_sha256"]),
        ("results.json SHA-256", results_sha),
        ("API calls made", run["total_calls"]),
        *summary_rows(controls),
    ]
    headers = [
        "Control",
        "Title",
        "Criteria",
        "References",
        "Status",
        "Population",
        "Failing",
        "Errors",
        "Sheet",
    ]
    rows = [_summary_row(c) for c in controls]
    table_top = len(block) + 3
    set_widths(sheet, [("Collection finished (UTC)",), headers, *rows[:200]])
    _wide_value_column(sheet)
    sheet.freeze_panes = f"A{table_top + 1}"
    _block(sheet, 1, block)
    sheet.append([])
    sheet.append([cell(sheet, "Controls", font=TITLE_FONT)])
    sheet.append(header_row(sheet, headers))
    for control, row, target in zip(controls, rows, sheets, strict=True):
        link = cell(sheet, control["id"], font=LINK_FONT)
        link.hyperlink = Hyperlink(ref="", location=f"'{target}'!A1", display=control["id"])
        cells = [
            link,
            *(cell(sheet, v) for v in row[1:4]),
            status_cell(sheet, status_label(control).lower()),
            *(cell(sheet, v) for v in row[5:8]),
            cell(sheet, target),
        ]
        sheet.append(cells)
    sheet.auto_filter.ref = f"A{table_top}:{get_column_letter(len(headers))}{table_top + len(rows)}"


def _summary_row(control: Mapping[str, Any]) -> list[Any]:
    references = "; ".join(f"{k}: {', '.join(v)}" for k, v in control["references"].items())
    return [
        control["id"],
        control["title"],
        ", ".join(control["criteria"]),
        references,
        status_label(control),
        control["population"],
        len(control["failing"]),
        len(control["errors"]),
    ]


def _control_sheet(workbook: Any, name: str, control: Mapping[str, Any], raw: RawReader) -> None:
    sheet = workbook.create_sheet(name)
    evidence = control["evidence"]
    operations = raw.operations([e["path"] for e in evidence])
    block: list[tuple[str, Any]] = [
        ("Description", control["description"]),
        ("Criteria", ", ".join(control["criteria"])),
        ("References", "; ".join(f"{k}: {', '.join(v)}" for k, v in control["references"].items())),
        ("Check", control["check"]),
        ("Parameters", params_text(control["params"])),
        ("Test procedure", control["procedure"]),
        (
            "API operations used",
            "\n".join(
                f"{op.label}, {op.calls} call(s): {op.parameters}"
                + (f" ({op.errors} failed)" if op.errors else "")
                for op in operations
            )
            or "none",
        ),
        (
            "Collected (UTC)",
            "\n".join(f"{e['path']}: {e['collected']}" for e in evidence if e.get("collected")),
        ),
        (
            "Source timestamps",
            "\n".join(f"{e['path']}: {e['source_time']}" for e in evidence if e.get("source_time"))
            or "none",
        ),
        ("Population", control["population"]),
        ("Failing", len(control["failing"])),
        (
            "Could not collect",
            "\n".join(
                f"{e['account']} {e['region']}: {e['operation']} {e['code']}: {e['message']}"
                for e in control["errors"]
            )
            or "nothing",
        ),
        ("Notes", "\n".join(control["notes"]) or "none"),
        (
            "Attached evidence",
            "\n".join(f"{a['file']} -> {a['path']}" for a in control.get("attachments", []))
            or "none",
        ),
        ("Accepted exceptions", control_exceptions_text(control) or "none"),
        ("Raw evidence (SHA-256)", "\n".join(f"{e['path']}  {e['sha256']}" for e in evidence)),
    ]
    block += ipe_block(control)
    items = control["items"]
    attributes = attribute_columns(items)
    excepted = any("exception" in i for i in items)
    headers = ["Resource", "Detail", "Status", "Account", "Region", "ARN", "Id", *attributes]
    headers += ["Exception"] if excepted else []
    table_top = len(block) + 4
    sample = [_item_row(i, attributes, excepted) for i in items[:200]]
    set_widths(sheet, [("Raw evidence (SHA-256)",), headers, *sample])
    _wide_value_column(sheet)
    sheet.freeze_panes = f"A{table_top + 1}"
    sheet.append([cell(sheet, f"{control['id']}: {control['title']}", font=TITLE_FONT)])
    sheet.append(
        [
            cell(sheet, "Result", font=LABEL_FONT),
            status_cell(sheet, status_label(control).lower()),
        ]
    )
    _block(sheet, 3, block)
    sheet.append([])
    sheet.append(header_row(sheet, headers))
    for item in items:
        sheet.append([cell(sheet, value) for value in _item_row(item, attributes, excepted)])
    if not items:
        sheet.append([cell(sheet, "(no resources in the population)")])
    end = table_top + max(len(items), 1)
    last = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A{table_top}:{last}{end}"
    colour_statuses(sheet, "C", table_top + 1, end, last)
    append_period(sheet, control, cell, lambda sh, v: cell(sh, v, font=LABEL_FONT))


def _item_row(item: Mapping[str, Any], attributes: Sequence[str], excepted: bool) -> list[Any]:
    values = item.get("attributes", {})
    exception = item.get("exception")
    return [
        item["resource"],
        item["detail"],
        item["status"].upper(),
        item["account"],
        item["region"],
        item["arn"],
        item.get("id"),
        *(values.get(a) for a in attributes),
        *([exception_text(exception) if exception else None] if excepted else []),
    ]


def _accounts(workbook: Any, document: Mapping[str, Any]) -> None:
    """One row per account: how it was reached, its status counts, each control's status."""
    sheet = workbook.create_sheet("Accounts")
    controls = document["controls"]
    statuses = ["pass", "fail", "error", "manual", "exception"]
    headers = [
        "Account",
        "Alias",
        "Collected as",
        "Regions",
        "Could not open",
        *(s.upper() for s in statuses),
        *(c["id"] for c in controls),
    ]
    rows = []
    for account in document["run"]["accounts"]:
        account_id = account["account_id"]
        per_control = [str(account_statuses(c, account_id)) for c in controls]
        problem = account.get("access_error") or account.get("regions_error")
        rows.append(
            [
                account_id,
                account.get("alias"),
                account["caller_arn"],
                ", ".join(account.get("regions", [])),
                f"{problem['operation']} {problem['code']}: {problem['message']}"
                if problem
                else None,
                *(per_control.count(s) for s in statuses),
                *(s.upper() for s in per_control),
            ]
        )
    set_widths(sheet, [headers, *rows[:200]], cap=40)
    sheet.freeze_panes = "B2"
    sheet.append(header_row(sheet, headers))
    for row in rows:
        sheet.append([cell(sheet, value) for value in row])
    last_row, first_status = len(rows) + 1, 6 + len(statuses)
    last_col = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A1:{last_col}{last_row}"
    for index in range(first_status, len(headers) + 1):
        column = get_column_letter(index)
        colour_statuses(sheet, column, 2, last_row, column, tint_rows=False)


def _findings(
    workbook: Any, controls: Sequence[Mapping[str, Any]], sheets: Mapping[str, str]
) -> None:
    """Every failing item, every excepted item (its exception's owner, ticket and terms filled
    in) and everything that could not be collected, with where."""
    sheet = workbook.create_sheet("Findings")
    headers = [
        "Control",
        "Title",
        "Account",
        "Region",
        "Resource",
        "ARN",
        "Detail",
        "Status",
        "Owner",
        "Remediation",
        "Ticket",
        "Item id",
    ]
    rows = [
        [
            f.control["id"],
            f.control["title"],
            f.account,
            f.region,
            f.resource,
            f.arn,
            f.detail,
            f.status,
            f.owner,
            f.remediation,
            f.ticket,
            f.item_id,
        ]
        for f in findings(controls)
    ]
    sample = [[*r[:8], r[8] or "x" * 16, r[9] or "x" * 30, r[10] or "x" * 12, r[11]] for r in rows]
    set_widths(sheet, [headers, *sample[:200]])
    sheet.freeze_panes = "A2"
    sheet.append(header_row(sheet, headers))
    for row in rows:
        link = cell(sheet, row[0], font=LINK_FONT)
        link.hyperlink = Hyperlink(ref="", location=f"'{sheets[row[0]]}'!A1", display=row[0])
        sheet.append([link, *(cell(sheet, v) for v in row[1:])])
    last = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
    colour_statuses(sheet, "H", 2, len(rows) + 1, last)


def _sources(workbook: Any, raw: RawReader) -> None:
    sheet = workbook.create_sheet("Sources")
    headers = [
        "Time (UTC)",
        "Account",
        "Region",
        "Service",
        "Operation",
        "Parameters",
        "Request id",
        "HTTP status",
        "Retries",
        "Error",
        "Raw file",
        "Raw file SHA-256",
    ]
    set_widths(
        sheet,
        [
            headers,
            [
                "2026-01-01 00:00:00",
                "123456789012",
                "ap-southeast-2",
                "ec2",
                "DescribeSnapshotAttribute",
                "x" * 50,
                "x" * 36,
                "200",
                "0",
                "AccessDenied",
                "x" * 55,
                "x" * 64,
            ],
        ],
    )
    sheet.freeze_panes = "A2"
    sheet.append(header_row(sheet, headers))
    count = 0
    for path, source, call in raw.calls():
        count += 1
        sheet.append(
            [
                cell(sheet, v)
                for v in (
                    call.time,
                    source.account,
                    source.region,
                    call.service,
                    call.operation,
                    json.dumps(call.parameters, sort_keys=True),
                    call.request_id,
                    call.http_status,
                    call.retry_attempts,
                    call.error.code if call.error else None,
                    path,
                    raw.sha256(path),
                )
            ]
        )
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"


def plain_sheet(workbook: Any, table: PlainSheet) -> None:
    """Write a sheet given as data (title, label/value lines, a table): every value through
    cell(), links to other sheets as hyperlinks, the status column coloured."""
    sheet = workbook.create_sheet(table.name)
    shown = [[c.text if isinstance(c, SheetLink) else c for c in row] for row in table.rows]
    set_widths(sheet, [table.headers, *shown[:200]])
    sheet.column_dimensions["B"].width = max(sheet.column_dimensions["B"].width or 0, 50)
    top = len(table.lines) + 3
    sheet.freeze_panes = f"A{top + 1}"  # a write-only sheet drops panes set after a row
    sheet.append([cell(sheet, table.title, font=TITLE_FONT)])
    _block(sheet, 2, table.lines)
    sheet.append([])
    sheet.append(header_row(sheet, table.headers))
    for row in table.rows:
        cells = []
        for value in row:
            if isinstance(value, SheetLink):
                link = cell(sheet, value.text, font=LINK_FONT)
                link.hyperlink = Hyperlink(
                    ref="", location=f"'{value.sheet}'!A1", display=value.text
                )
                cells.append(link)
            else:
                cells.append(
                    cell(sheet, value, alignment=WRAP)
                    if isinstance(value, str)
                    else cell(sheet, value)
                )
        sheet.append(cells)
    last_row, last_col = top + len(table.rows), get_column_letter(len(table.headers))
    sheet.auto_filter.ref = f"A{top}:{last_col}{last_row}"
    if table.status_column is not None:
        column = get_column_letter(table.status_column + 1)
        colour_statuses(sheet, column, top + 1, last_row, last_col, tint_rows=False)
