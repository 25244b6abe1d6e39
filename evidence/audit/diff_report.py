"""A pack diff shown three ways: a terminal table, JSON, and a workbook."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from tabulate import tabulate

from ..exporters.xlsx import TITLE_FONT, cell, colour_statuses, header_row, set_widths
from .diff import Change, PackDiff

DETAIL_LINES_SHOWN = 20  # per control and kind of change on a terminal; JSON and xlsx have all
_COUNTED = (
    Change.NEW_FAILING,
    Change.RESOLVED,
    Change.ADDED,
    Change.REMOVED,
    Change.EXCEPTION_ADDED,
    Change.EXCEPTION_EXPIRED,
)


def diff_json(diff: PackDiff) -> str:
    return json.dumps({"schema_version": 1, **dataclasses.asdict(diff)}, indent=2, default=str)


def _status(value: str | None) -> str:
    return value.upper() if value else "-"


def diff_text(diff: PackDiff) -> str:
    """The comparison, the per-control table, the item changes and what was not compared."""
    lines = [
        f"old: {diff.old.name} (as of {diff.old.as_of})",
        f"new: {diff.new.name} (as of {diff.new.as_of})",
        "",
    ]
    rows = [
        (
            c.id,
            _status(c.old_status)
            + (" -> " + _status(c.new_status) if c.old_status != c.new_status else ""),
            *(len(c.of(kind)) for kind in _COUNTED),
        )
        for c in diff.controls
    ]
    lines.append(tabulate(rows, headers=("control", "status", *(k.value for k in _COUNTED))))
    for control in diff.controls:
        if not control.changes and not control.notes:
            continue
        lines.append(f"\n{control.id} {control.title}")
        lines.extend(f"  note: {note}" for note in control.notes)
        for kind in Change:
            changes = control.of(kind)
            for change in changes[:DETAIL_LINES_SHOWN]:
                where = f"{change.account}/{change.region}"
                moved = f"{_status(change.old_status)} -> {_status(change.new_status)}"
                excepted = ""
                if change.exception:
                    reason = change.exception.get("reason", "")
                    expires = change.exception.get("expires", "")
                    excepted = f" [exception: {reason}; expires {expires}]"
                lines.append(
                    f"  {kind.value}: {change.resource} ({where}) {moved}:"
                    f" {change.detail}{excepted}"
                )
            if len(changes) > DETAIL_LINES_SHOWN:
                lines.append(
                    f"  {kind.value}: ... and {len(changes) - DETAIL_LINES_SHOWN} more"
                    " (all of them: --json, --xlsx)"
                )
    lines.append("")
    if diff.only_new:
        lines.append(f"only in the new pack (not compared): {', '.join(diff.only_new)}")
    if diff.only_old:
        lines.append(f"only in the old pack (not compared): {', '.join(diff.only_old)}")
    lines.extend(diff.not_compared)
    return "\n".join(lines).rstrip() + "\n"


def write_diff_workbook(diff: PackDiff, path: Path) -> None:
    """Summary (the two packs, a row per control, what was not compared) and Changes (every
    item change)."""
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("Summary")
    headers = (
        "Control",
        "Title",
        "Old status",
        "New status",
        *(k.value.capitalize() for k in _COUNTED),
        "Notes",
    )
    rows = [
        (
            c.id,
            c.title,
            _status(c.old_status),
            _status(c.new_status),
            *(len(c.of(k)) for k in _COUNTED),
            "; ".join(c.notes),
        )
        for c in diff.controls
    ]
    set_widths(summary, [headers, *rows])
    summary.append([cell(summary, "Pack comparison", font=TITLE_FONT)])
    for label, side in (("Old", diff.old), ("New", diff.new)):
        summary.append(
            [cell(summary, f"{label} pack"), cell(summary, side.name), cell(summary, side.as_of)]
        )
    summary.append([])
    top = 5
    summary.append(header_row(summary, headers))
    for row in rows:
        summary.append([cell(summary, v) for v in row])
    last = top + len(rows)
    colour_statuses(summary, "C", top + 1, last, "D", tint_rows=False)
    colour_statuses(summary, "D", top + 1, last, "D", tint_rows=False)
    summary.append([])
    not_compared = [
        *(f"only in the new pack: {i}" for i in diff.only_new),
        *(f"only in the old pack: {i}" for i in diff.only_old),
        *diff.not_compared,
    ]
    summary.append([cell(summary, "Not compared", font=TITLE_FONT)])
    for note in not_compared or [
        "nothing: both packs cover the same controls, accounts and regions"
    ]:
        summary.append([cell(summary, note)])
    changes = workbook.create_sheet("Changes")
    change_headers = (
        "Control",
        "Change",
        "Item id",
        "Account",
        "Region",
        "Resource",
        "Old status",
        "New status",
        "Detail",
        "Exception",
    )
    change_rows: list[tuple[Any, ...]] = [
        (
            control.id,
            change.change.value,
            change.id,
            change.account,
            change.region,
            change.resource,
            _status(change.old_status),
            _status(change.new_status),
            change.detail,
            json.dumps(change.exception, sort_keys=True, default=str) if change.exception else None,
        )
        for control in diff.controls
        for change in control.changes
    ]
    set_widths(changes, [change_headers, *change_rows[:200]])
    changes.freeze_panes = "A2"
    changes.append(header_row(changes, change_headers))
    for row in change_rows:
        changes.append([cell(changes, v) for v in row])
    last_row = len(change_rows) + 1
    changes.auto_filter.ref = f"A1:{get_column_letter(len(change_headers))}{last_row}"
    colour_statuses(changes, "H", 2, last_row, "J", tint_rows=False)
    workbook.save(path)
