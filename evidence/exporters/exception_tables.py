"""Accepted exceptions as tables: the register of every exception (workbook sheet, PDF section)
and, per control, the excepted items with the exception beside each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .requests_sheet import PlainSheet, SheetLink
from .statuses import STATE_WORDS, exception_register, exception_scope, exception_text
from .tables import Column, DataTable

EXCEPTIONS_SHEET = "Exceptions"

REGISTER_TITLE = "Exceptions (accepted risks)"
REGISTER_INTRO = (
    "Every exception in controls.yaml, judged at the pack's as-of date: an applied exception turns"
    " the failing items it matches into EXCEPTION (never PASS); an expired one does not apply and"
    " those items fail; a stale one matches no failing item. Days left count from the as-of date."
)


def register_table(document: Mapping[str, Any]) -> DataTable:
    """One row per exception: control, what it covers, reason, owner, approver, approved,
    expires, days left, state, matched items, ticket, warning, and its line in controls.yaml."""
    # Shares are millimetres of the PDF's 174 mm text width (headers and dates on one line).
    columns = (
        Column("Control", 13, "ident"),
        Column("Resource", 19, "ident"),
        Column("Reason", 26),
        Column("Owner", 13),
        Column("Approver", 15.5),
        Column("Approved", 17),
        Column("Expires", 17),
        Column("Days left", 10, "number"),
        Column("State", 15, "status"),
        Column("Matched items", 14.5, "number"),
        Column("Matched item ids", 0, "ident", in_pdf=False),
        Column("Ticket", 14, "ident"),
        Column("Warning", 0, in_pdf=False),  # the PDF lists warnings under the table
        Column("controls.yaml line", 0, "number", in_pdf=False),
    )
    rows = tuple(
        (
            control["id"],
            exception_scope(exception),
            exception["reason"],
            exception["owner"],
            exception["approved_by"],
            exception["approved_on"],
            exception["expires"],
            exception["days_left"],
            exception["state"].replace("_", " ").upper(),
            len(exception["matched_items"]),
            ", ".join(exception["matched_items"]),
            exception.get("ticket"),
            exception.get("warning"),
            exception.get("line"),
        )
        for control, exception in exception_register(document)
    )
    warnings = tuple(
        f"Warning: {control['id']} {exception_scope(exception)}: {exception['warning']}."
        for control, exception in exception_register(document)
        if exception.get("warning")
    )
    return DataTable(
        REGISTER_TITLE,
        columns,
        rows,
        empty="No exceptions are recorded in controls.yaml.",
        intro=REGISTER_INTRO,
        notes=warnings,
    )


def exceptions_sheet(document: Mapping[str, Any], sheets: Mapping[str, str]) -> PlainSheet:
    """The register as the workbook's "Exceptions" sheet, each control linked to its sheet."""
    table = register_table(document)
    rows = tuple(
        (SheetLink(sheets[row[0]], row[0]) if row[0] in sheets else row[0], *row[1:])
        for row in table.rows
    )
    flags = document.get("flags", {})
    counts = ", ".join(
        f"{flags.get(f'exceptions_{state}', 0)} {state.replace('_', ' ')}"
        for state in ("applied", "expired", "not_yet_approved", "stale")
    )
    return PlainSheet(
        name=EXCEPTIONS_SHEET,
        title=table.title,
        lines=(
            ("How to read it", table.intro),
            ("Exceptions", f"{len(rows)}: {counts}" if rows else table.empty),
        ),
        headers=tuple(table.headers),
        rows=rows,
        status_column=table.status_column(),
    )


def excepted_items_table(control: Mapping[str, Any]) -> DataTable:
    """The control's items covered by an applied exception, each with that exception."""
    items = [i for i in control["items"] if i["status"] == "exception"]
    columns = (  # millimetres of the PDF's text width
        Column("Id", 25, "ident"),
        Column("Resource", 25, "ident"),
        Column("Account", 20, "ident"),
        Column("Region", 17, "ident"),
        Column("Detail", 35),
        Column("Accepted exception", 52),
    )
    rows = tuple(
        (
            i["id"],
            i["resource"],
            i["account"],
            i["region"],
            i["detail"],
            exception_text(i["exception"]),
        )
        for i in items
    )
    return DataTable(f"Excepted items ({len(rows)})", columns, rows)


def control_exceptions_text(control: Mapping[str, Any]) -> str:
    """A control's exceptions in a few lines, with their state (for the control's own sheet)."""
    return "\n".join(
        f"{exception_scope(e)}: {STATE_WORDS[e['state']]}; {len(e['matched_items'])} matched;"
        f" {exception_text(e)}"
        for e in control.get("exceptions", [])
    )
