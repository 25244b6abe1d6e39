"""The auditor workbook: Summary, one sheet per control, Findings, Sources.

Written in openpyxl's write-only mode so populations of 100,000 rows stream to disk. Every string
that came from AWS is written as a string cell (never a formula), with Excel's quote prefix when it
starts with a character a spreadsheet would read as the start of a formula.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from .. import TOOL_NAME, __version__
from ..evaluate.results import RESULTS_FILE
from ..model import account_statuses
from ..pack.builder import PackBuilder, sha256_file
from ..pack.runinfo import RunInfo
from .common import (
    RawReader,
    as_utc,
    attribute_columns,
    export_name,
    params_text,
    sheet_names,
)
from .xlsx_cells import (
    LABEL_FONT,
    LINK_FONT,
    TITLE_FONT,
    cell,
    colour_statuses,
    header_row,
    label_block,
    set_widths,
    status_cell,
    wide_value_column,
)


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
    _sources(workbook, raw)
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
        ("Collection started (UTC)", run["started"]),
        ("Collection finished (UTC)", run["finished"]),
        ("controls.yaml SHA-256", run["controls_sha256"]),
        ("results.json SHA-256", results_sha),
        ("API calls made", run["total_calls"]),
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
    wide_value_column(sheet)
    sheet.freeze_panes = f"A{table_top + 1}"
    label_block(sheet, 1, block)
    sheet.append([])
    sheet.append([cell(sheet, "Controls", font=TITLE_FONT)])
    sheet.append(header_row(sheet, headers))
    for control, row, target in zip(controls, rows, sheets, strict=True):
        link = cell(sheet, control["id"], font=LINK_FONT)
        link.hyperlink = Hyperlink(ref="", location=f"'{target}'!A1", display=control["id"])
        cells = [
            link,
            *(cell(sheet, v) for v in row[1:4]),
            status_cell(sheet, control["status"]),
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
        control["status"].upper(),
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
        ("Raw evidence (SHA-256)", "\n".join(f"{e['path']}  {e['sha256']}" for e in evidence)),
    ]
    items = control["items"]
    attributes = attribute_columns(items)
    headers = ["Resource", "Detail", "Status", "Account", "Region", "ARN", *attributes]
    table_top = len(block) + 4
    sample = [_item_row(i, attributes) for i in items[:200]]
    set_widths(sheet, [("Raw evidence (SHA-256)",), headers, *sample])
    wide_value_column(sheet)
    sheet.freeze_panes = f"A{table_top + 1}"
    sheet.append([cell(sheet, f"{control['id']}: {control['title']}", font=TITLE_FONT)])
    sheet.append([cell(sheet, "Result", font=LABEL_FONT), status_cell(sheet, control["status"])])
    label_block(sheet, 3, block)
    sheet.append([])
    sheet.append(header_row(sheet, headers))
    for item in items:
        sheet.append([cell(sheet, value) for value in _item_row(item, attributes)])
    if not items:
        sheet.append([cell(sheet, "(no resources in the population)")])
    end = table_top + max(len(items), 1)
    last = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A{table_top}:{last}{end}"
    colour_statuses(sheet, "C", table_top + 1, end, last)


def _item_row(item: Mapping[str, Any], attributes: Sequence[str]) -> list[Any]:
    values = item.get("attributes", {})
    return [
        item["resource"],
        item["detail"],
        item["status"].upper(),
        item["account"],
        item["region"],
        item["arn"],
        *(values.get(a) for a in attributes),
    ]


def _accounts(workbook: Any, document: Mapping[str, Any]) -> None:
    """One row per account: how it was reached, its status counts, each control's status."""
    sheet = workbook.create_sheet("Accounts")
    controls = document["controls"]
    statuses = ["pass", "fail", "error", "manual"]
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
    ]
    rows = [(c, i) for c in controls for i in c["failing"]]
    sample = [
        [
            c["id"],
            c["title"],
            i["account"],
            i["region"],
            i["resource"],
            i["arn"],
            i["detail"],
            "FAIL",
            "x" * 16,
            "x" * 30,
            "x" * 12,
        ]
        for c, i in rows[:200]
    ]
    set_widths(sheet, [headers, *sample])
    sheet.freeze_panes = "A2"
    sheet.append(header_row(sheet, headers))
    for control, item in rows:
        link = cell(sheet, control["id"], font=LINK_FONT)
        link.hyperlink = Hyperlink(
            ref="", location=f"'{sheets[control['id']]}'!A1", display=control["id"]
        )
        sheet.append(
            [
                link,
                *(
                    cell(sheet, v)
                    for v in (
                        control["title"],
                        item["account"],
                        item["region"],
                        item["resource"],
                        item["arn"],
                        item["detail"],
                        item["status"].upper(),
                    )
                ),
            ]
        )
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
