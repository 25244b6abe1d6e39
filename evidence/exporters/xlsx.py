"""The auditor workbook: Summary, one sheet per control, Accounts, Findings, Exceptions, Sources
(and Requests when the pack has a request list).

Written in openpyxl's write-only mode so populations of 100,000 rows stream to disk. Every string
that came from AWS is written as a string cell (never a formula), with Excel's quote prefix when it
starts with a character a spreadsheet would read as the start of a formula. Every sheet prints
(xlsx_print): landscape, fitted to the page width, its table's header row on every page.

The workbook is the sheets written by the functions in SHEETS, in order, each a function of a
Book. A new sheet is one more function in that list, which creates its sheet(s) with
book.sheet(name, title_row) so it prints like the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from .. import TOOL_NAME, __version__
from ..evaluate.results import RESULTS_FILE
from ..model import account_statuses
from ..pack.builder import PackBuilder, sha256_file
from ..pack.runinfo import RunInfo
from .chain_text import previous_pack_line
from .common import (
    RESERVED_SHEETS,
    RawReader,
    as_utc,
    attribute_columns,
    export_name,
    params_text,
    sheet_names,
)
from .evidence_refs import EvidenceLocator, describe, item_key
from .exception_tables import control_exceptions_text, exceptions_sheet
from .finding_attributes import finding_columns, key_attributes
from .findings import findings as pack_findings
from .marking import Provenance, provenance_rows
from .period_text import period_line
from .period_xlsx import period_row_count, period_rows
from .requests_sheet import PlainSheet, SheetLink, requests_sheet
from .statuses import exception_text, status_label
from .xlsx_cells import (
    LABEL_FONT,
    LINK_FONT,
    TITLE_FONT,
    WRAP,
    cell,
    colour_statuses,
    header_row,
    is_utc_time,
    label_block,
    set_widths,
    status_cell,
    wide_value_column,
)
from .xlsx_charts import status_chart, status_counts_rows
from .xlsx_ipe import ipe_block, summary_rows
from .xlsx_print import printable
from .xlsx_split import CONTINUATION_TOP, Split, SplitWriter, plan

# The cell helpers other workbooks (diff, sample) build on are in xlsx_cells; named here too.
__all__ = [
    "LABEL_FONT",
    "LINK_FONT",
    "SHEETS",
    "TITLE_FONT",
    "WRAP",
    "Book",
    "SheetWriter",
    "cell",
    "colour_statuses",
    "header_row",
    "label_block",
    "set_widths",
    "status_cell",
    "write_workbook",
]


@dataclass(frozen=True)
class Book:
    """Everything a sheet writer may read, and the workbook it writes into."""

    workbook: Any  # openpyxl Workbook, write-only
    document: Mapping[str, Any]  # results.json
    raw: RawReader
    results_sha256: str
    control_sheets: Mapping[str, str]  # control id -> its sheet's name
    evidence: EvidenceLocator

    @property
    def controls(self) -> Sequence[Mapping[str, Any]]:
        controls: Sequence[Mapping[str, Any]] = self.document["controls"]
        return controls

    def sheet(self, name: str, title_row: int | None) -> Any:
        """A new sheet set up to print; `title_row` is its table's header row."""
        sheet = self.workbook.create_sheet(name)
        printable(sheet, self.document["run"]["pack"], title_row)
        return sheet


SheetWriter = Callable[[Book], None]


def write_workbook(pack: PackBuilder, document: dict[str, Any], run: RunInfo) -> str:
    """Write the workbook into the pack folder and return its file name."""
    name = export_name(document, "xlsx")
    raw = RawReader(pack.dir)
    workbook = Workbook(write_only=True)
    _properties(workbook, document)
    controls = document["controls"]
    sheets = sheet_names([c["id"] for c in controls])
    book = Book(
        workbook,
        document,
        raw,
        sha256_file(pack.dir / RESULTS_FILE),
        dict(zip((c["id"] for c in controls), sheets, strict=True)),
        EvidenceLocator(raw),
    )
    for write in SHEETS:
        write(book)
    workbook.save(pack.dir / name)
    return name


# ---------------------------------------------------------------- sheets


def _properties(workbook: Any, document: Mapping[str, Any]) -> None:
    run = document["run"]
    props = workbook.properties
    props.title = f"SOC 2 evidence: {run['organisation']} ({run['pack']})"
    props.subject = f"AWS control evidence as of {run['as_of']} for {run['scope']}"
    props.creator = f"{TOOL_NAME} {__version__}"
    props.created = as_utc(run["evaluated_at"]).replace(tzinfo=None)  # type: ignore[union-attr]
    props.keywords = "SOC 2; AWS; evidence"


# Evidence pointers name the file in raw/<account>/<region>/ of the row, the call's number in
# it (the Sources sheet's Call #) or the row of a CSV report.
EVIDENCE_HEADER = "Evidence (raw/<account>/<region>/ file, call # or row)"

CHART_COLUMN = 5  # E: the status counts beside the Summary's run block
# The chart sits in C:D beside the run block (its values wrap inside B, the table's References
# column is wide): within the table's width, so the Summary prints at the scale of its table.
CHART_ANCHOR = "C1"


def summary(book: Book) -> None:
    run, controls = book.document["run"], book.controls
    accounts = "; ".join(
        a["account_id"] + (f" ({a['alias']})" if a.get("alias") else "") for a in run["accounts"]
    )
    block = [
        *provenance_rows(Provenance.of(run)),
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
        ("results.json SHA-256", book.results_sha256),
        ("Previous pack", previous_pack_line(run)),
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
    sheet = book.sheet("Summary", table_top)
    widest_status = ["", "", "", "", "EXCEPTION"]
    set_widths(sheet, [("Collection finished (UTC)",), headers, widest_status, *rows[:200]])
    wide_value_column(sheet)
    sheet.freeze_panes = f"A{table_top + 1}"
    counts = status_counts_rows(sheet, book.document["summary"])
    label_block(sheet, 1, block, beside=counts, beside_column=CHART_COLUMN)
    status_chart(sheet, 1, CHART_COLUMN, CHART_ANCHOR)
    sheet.append([])
    sheet.append([cell(sheet, "Controls", font=TITLE_FONT)])
    sheet.append(header_row(sheet, headers))
    for control, row in zip(controls, rows, strict=True):
        target = book.control_sheets[control["id"]]
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


def control_sheets(book: Book) -> None:
    for control in book.controls:
        _control_sheet(book, book.control_sheets[control["id"]], control)


def _control_sheet(book: Book, name: str, control: Mapping[str, Any]) -> None:
    evidence = control["evidence"]
    operations = book.raw.operations([e["path"] for e in evidence])
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
    refs = book.evidence.for_control(control)
    attributes = attribute_columns(items)
    excepted = any("exception" in i for i in items)
    sample = [_item_row(i, attributes, refs, excepted) for i in items[:200]]
    headers = [
        "Resource",
        "Detail",
        "Status",
        "Account",
        "Region",
        "ARN",
        "Id",
        EVIDENCE_HEADER,
        *(_utc_header(a, [row[8 + n] for row in sample]) for n, a in enumerate(attributes)),
        *(["Exception"] if excepted else []),
    ]
    rows = max(len(items), 1)  # an empty population is one row saying so
    split = split_plan(book, name, rows, len(block) + 4, "items of the population", control)
    if split.split:  # the first part says which rows it holds: one more block row
        block.append(("Rows on this sheet", ""))
        split = split_plan(book, name, rows, len(block) + 4, "items of the population", control)
        block[-1] = ("Rows on this sheet", split.note(0))
    table_top = len(block) + 4
    last = get_column_letter(len(headers))

    def prepare(sheet: Any) -> None:
        set_widths(sheet, [("Raw evidence (SHA-256)",), headers, *sample])
        wide_value_column(sheet)

    def finish(sheet: Any, top: int, end: int) -> None:
        sheet.auto_filter.ref = f"A{top}:{last}{end}"
        colour_statuses(sheet, "C", top + 1, end, last)

    sheet = book.sheet(name, table_top)
    prepare(sheet)
    sheet.freeze_panes = f"A{table_top + 1}"
    title = f"{control['id']}: {control['title']}"
    sheet.append([cell(sheet, title, font=TITLE_FONT)])
    sheet.append(
        [
            cell(sheet, "Result", font=LABEL_FONT),
            status_cell(sheet, status_label(control).lower()),
        ]
    )
    label_block(sheet, 3, block)
    sheet.append([])
    sheet.append(header_row(sheet, headers))
    writer = SplitWriter(
        split,
        sheet,
        book.sheet,
        prepare,
        continued(title),
        lambda part: header_row(part, headers),
        finish,
    )
    for item in items:
        writer.append([cell(sheet, v) for v in _item_row(item, attributes, refs, excepted)])
    if not items:
        writer.append([cell(sheet, "(no resources in the population)")])
    title_cell = lambda part, v: cell(part, v, font=LABEL_FONT)  # noqa: E731
    for row in period_rows(sheet, control, cell, title_cell):
        writer.append(row)
    writer.close()


def split_plan(
    book: Book, name: str, rows: int, top: int, what: str, control: Mapping[str, Any] | None = None
) -> Split:
    """A sheet's table planned over as many sheets as Excel's row limit needs (xlsx_split);
    a control's period rows follow its population."""
    taken = {*RESERVED_SHEETS, *book.control_sheets.values(), *book.workbook.sheetnames}
    trailing = period_row_count(control) if control is not None else 0
    return plan(name, rows, top, taken, what, trailing)


def continued(title: str) -> Callable[[Any, str], None]:
    """The top of a continuation sheet: the table's title, and which rows the sheet holds."""

    def preamble(sheet: Any, note: str) -> None:
        sheet.append([cell(sheet, f"{title} (continued)", font=TITLE_FONT)])
        label_block(sheet, 2, [("Rows on this sheet", note)])

    return preamble


def _utc_header(name: str, values: Sequence[Any]) -> str:
    """A column of date-times says they are UTC."""
    return f"{name} (UTC)" if any(is_utc_time(v) for v in values) else name


def _item_row(
    item: Mapping[str, Any],
    attributes: Sequence[str],
    refs: Mapping[str, Any],
    excepted: bool,
) -> list[Any]:
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
        describe(refs.get(item_key(item), ()), file_name_only=True),
        *(values.get(a) for a in attributes),
        *([exception_text(exception) if exception else None] if excepted else []),
    ]


def accounts(book: Book) -> None:
    """One row per account: how it was reached, its status counts, each control's status."""
    controls = book.controls
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
    for account in book.document["run"]["accounts"]:
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
    sheet = book.sheet("Accounts", 1)
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


FINDINGS_HEADERS = [
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
    "Key attributes",
    EVIDENCE_HEADER,
]


def findings(book: Book) -> None:
    """Every failing item, every excepted item (its exception's owner, ticket and terms filled
    in) and everything that could not be collected, with where; for items, the attributes
    their check says matter and where their evidence is."""
    rows = []
    per_control: dict[str, tuple[dict[str, Any], Mapping[str, Any], Any]] = {}
    for finding in pack_findings(book.controls):
        control = finding.control
        if control["id"] not in per_control:  # once per control, not per finding
            wanted = [i for i in control["items"] if i["status"] in ("fail", "exception", "error")]
            per_control[control["id"]] = (
                {i["id"]: i for i in wanted if i.get("id")},
                book.evidence.for_control(control, wanted),
                finding_columns(control),
            )
        by_id, refs, columns = per_control[control["id"]]
        attributes = evidence = ""
        item = by_id.get(finding.item_id) if finding.item_id else None
        if item is not None:  # an item, not something that could not be collected
            attributes = key_attributes(columns, item)
            evidence = describe(refs.get(item_key(item), ()), file_name_only=True)
        rows.append(
            [
                control["id"],
                control["title"],
                finding.account,
                finding.region,
                finding.resource,
                finding.arn,
                finding.detail,
                finding.status,
                finding.owner,
                finding.remediation,
                finding.ticket,
                finding.item_id,
                attributes,
                evidence,
            ]
        )
    sample = [
        [*r[:8], r[8] or "x" * 16, r[9] or "x" * 30, r[10] or "x" * 12, *r[11:]] for r in rows
    ]
    last = get_column_letter(len(FINDINGS_HEADERS))

    def finish(sheet: Any, top: int, end: int) -> None:
        sheet.auto_filter.ref = f"A{top}:{last}{end}"
        colour_statuses(sheet, "H", top + 1, end, last)

    writer = table_sheets(
        book,
        "Findings",
        len(rows),
        "findings",
        FINDINGS_HEADERS,
        lambda sheet: set_widths(sheet, [FINDINGS_HEADERS, *sample[:200]]),
        finish,
    )
    for row in rows:
        writer.append(partial(_finding_cells, book, row))
    writer.close()


def _finding_cells(book: Book, row: Sequence[Any], sheet: Any) -> list[Any]:
    link = cell(sheet, row[0], font=LINK_FONT)
    target = book.control_sheets[row[0]]
    link.hyperlink = Hyperlink(ref="", location=f"'{target}'!A1", display=row[0])
    return [link, *(cell(sheet, v) for v in row[1:])]


def table_sheets(
    book: Book,
    name: str,
    rows: int,
    what: str,
    headers: Sequence[str],
    prepare: Callable[[Any], None],
    finish: Callable[[Any, int, int], None],
) -> SplitWriter:
    """A sheet that is only a table (header on row 1), its first part written down to the
    header; when the rows need more than one sheet, every part starts with its note instead."""
    split = split_plan(book, name, rows, 1, what)
    if split.split:
        split = split_plan(book, name, rows, CONTINUATION_TOP, what)
    top = split.parts[0].top
    sheet = book.sheet(name, top)
    prepare(sheet)
    sheet.freeze_panes = f"A{top + 1}"
    preamble = continued(name)
    if split.split:
        sheet.append([cell(sheet, name, font=TITLE_FONT)])
        label_block(sheet, 2, [("Rows on this sheet", split.note(0))])
        sheet.append([])
    sheet.append(header_row(sheet, headers))
    return SplitWriter(
        split, sheet, book.sheet, prepare, preamble, lambda part: header_row(part, headers), finish
    )


def exceptions(book: Book) -> None:
    """The register of accepted exceptions, with their state at the as-of date."""
    plain_sheet(book, exceptions_sheet(book.document, book.control_sheets))


SOURCES_HEADERS = [
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
    "Call #",
    "Raw file SHA-256",
]


def sources(book: Book) -> None:
    """Every API call of the pack; "Call #" is the call's sequence number in its raw file, the
    number evidence pointers use."""
    widths = [
        SOURCES_HEADERS,
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
            "0000",
            "x" * 64,
        ],
    ]
    last = get_column_letter(len(SOURCES_HEADERS))

    def finish(sheet: Any, top: int, end: int) -> None:
        sheet.auto_filter.ref = f"A{top}:{last}{end}"

    writer = table_sheets(
        book,
        "Sources",
        book.raw.call_count(),
        "calls",
        SOURCES_HEADERS,
        lambda sheet: set_widths(sheet, widths),
        finish,
    )
    for path, source, call in book.raw.calls():
        writer.append(
            [
                cell(writer.sheet, v)
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
                    call.seq,
                    book.raw.sha256(path),
                )
            ]
        )
    writer.close()


def requests(book: Book) -> None:
    """The auditor's request list mapped to controls (when the pack has one)."""
    table = requests_sheet(book.document, book.control_sheets)
    if table is not None:
        plain_sheet(book, table)


def plain_sheet(book: Book, table: PlainSheet) -> None:
    """Write a sheet given as data (title, label/value lines, a table): every value through
    cell(), links to other sheets as hyperlinks, the status column coloured."""
    top = len(table.lines) + 3
    sheet = book.sheet(table.name, top)
    shown = [[c.text if isinstance(c, SheetLink) else c for c in row] for row in table.rows]
    set_widths(sheet, [table.headers, *shown[:200]])
    sheet.column_dimensions["B"].width = max(sheet.column_dimensions["B"].width or 0, 50)
    sheet.freeze_panes = f"A{top + 1}"  # a write-only sheet drops panes set after a row
    sheet.append([cell(sheet, table.title, font=TITLE_FONT)])
    label_block(sheet, 2, table.lines)
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


# The workbook's sheets, in order.
SHEETS: list[SheetWriter] = [
    summary,
    control_sheets,
    accounts,
    findings,
    exceptions,
    sources,
    requests,
]
