"""The workbook's "Requests" sheet: the auditor's request list mapped to controls, sheets, files.

Built as plain rows from results.json's `requests` block; the workbook writer styles them (so
the auditor's text gets the same formula-safe cells as AWS strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REQUESTS_SHEET = "Requests"
UNANSWERED = "NOT ANSWERED"


@dataclass(frozen=True)
class SheetLink:
    """A cell that opens another sheet of the workbook."""

    sheet: str
    text: str


@dataclass(frozen=True)
class PlainSheet:
    """A sheet as data: a title, label/value lines above a table, the table itself."""

    name: str
    title: str
    lines: tuple[tuple[str, str], ...]
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    status_column: int | None = None  # 0-based column holding a status, coloured like others


def requests_sheet(document: Mapping[str, Any], sheets: Mapping[str, str]) -> PlainSheet | None:
    """One row per request and answering control (a request nothing answers gets one row saying
    so); None when the pack has no request list and no control names a request."""
    block = document.get("requests")
    if not block:
        return None
    rows: list[tuple[Any, ...]] = []
    for request in block["requests"]:
        description = request["description"] or (
            "" if request["listed"] else "(named in controls.yaml, not on the request list)"
        )
        if not request["controls"]:
            rows.append((request["id"], description, None, None, UNANSWERED, None, None))
        for control in request["controls"]:
            sheet = sheets.get(control["id"])
            rows.append(
                (
                    request["id"],
                    description,
                    SheetLink(sheet, control["id"]) if sheet else control["id"],
                    control["title"],
                    control["status"].upper(),
                    sheet,
                    "\n".join(control["files"]),
                )
            )
    listed = sum(1 for r in block["requests"] if r["listed"])
    lines = (
        (
            "Request list",
            f"{block['file']} (SHA-256 {block['sha256']})" if block["file"] else "none given",
        ),
        (
            "Requests on the list",
            f"{listed}, answered by at least one control: {listed - len(block['unanswered'])}",
        ),
        ("Not answered", ", ".join(block["unanswered"]) or "none"),
        ("Named by controls, not on the list", ", ".join(block["not_listed"]) or "none"),
    )
    return PlainSheet(
        name=REQUESTS_SHEET,
        title="Auditor requests",
        lines=lines,
        headers=("Request", "Description", "Control", "Title", "Status", "Sheet", "Evidence files"),
        rows=tuple(rows),
        status_column=4,
    )
