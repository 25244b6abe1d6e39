"""Accepted exceptions as tables: the register of every exception (workbook sheet, PDF section)
and, per control, the excepted items with the exception beside each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .statuses import STATE_WORDS, exception_register, exception_scope, exception_text
from .tables import Column, DataTable

REGISTER_TITLE = "Exceptions (accepted risks)"
REGISTER_INTRO = (
    "Every exception in controls.yaml, judged at the pack's as-of date: an applied exception turns"
    " the failing items it matches into EXCEPTION (never PASS); an expired one does not apply and"
    " those items fail; a stale one matches no failing item. Days left count from the as-of date."
)


def register_table(document: Mapping[str, Any]) -> DataTable:
    """One row per exception: control, what it covers, reason, owner, approver, approved,
    expires, days left, state, matched items, ticket, warning, and its line in controls.yaml."""
    columns = (
        Column("Control", 1.3, "ident"),
        Column("Resource", 1.7, "ident"),
        Column("Reason", 3.0),
        Column("Owner", 1.2),
        Column("Approved by", 1.2),
        Column("Approved on", 1.4, "number"),
        Column("Expires", 1.4, "number"),
        Column("Days left", 0.9, "number"),
        Column("State", 1.5, "status"),
        Column("Matched items", 1.0, "number"),
        Column("Matched item ids", 3.0, "ident", in_pdf=False),
        Column("Ticket", 1.2, "ident"),
        Column("Warning", 2.0),
        Column("controls.yaml line", 1.0, "number", in_pdf=False),
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
    return DataTable(
        REGISTER_TITLE,
        columns,
        rows,
        empty="No exceptions are recorded in controls.yaml.",
        intro=REGISTER_INTRO,
    )


def excepted_items_table(control: Mapping[str, Any]) -> DataTable:
    """The control's items covered by an applied exception, each with that exception."""
    items = [i for i in control["items"] if i["status"] == "exception"]
    columns = (
        Column("Id", 1.0, "ident"),
        Column("Resource", 1.5, "ident"),
        Column("Account", 1.0, "ident"),
        Column("Region", 0.9, "ident"),
        Column("Detail", 2.0),
        Column("Accepted exception", 3.2),
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
