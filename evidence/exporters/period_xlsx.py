"""The workbook's period rows: appended to a control's sheet after its population (and counted
first, so a population over a sheet's row limit can be split with them: xlsx_split)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .period_text import deviation_line
from .statuses import exception_text

Cell = Callable[[Any, Any], Any]


def period_row_count(control: Mapping[str, Any]) -> int:
    """How many rows period_rows yields for the control."""
    period = control.get("period")
    if not period:
        return 0
    problems = len(period["gaps"]) + len(period["errors"])
    return 2 + problems + 2 + len(period["items"]) + 2 + len(period["changes"])


def period_rows(
    sheet: Any, control: Mapping[str, Any], cell: Cell, title: Cell
) -> Iterator[list[Any]]:
    """Deviations, in effect since and every change (the sampling population, with ids): the
    rows to append after the population, built one at a time."""
    period = control.get("period")
    if not period:
        return
    yield []
    yield [
        title(sheet, f"Period {period['from']} to {period['until']}: {period['status'].upper()}")
    ]
    for problem in [
        *period["gaps"],
        *(f"{e['operation']} {e['code']}: {e['message']}" for e in period["errors"]),
    ]:
        yield [cell(sheet, "Not shown by the events"), cell(sheet, problem)]
    yield [title(sheet, "Items over the period")]
    yield [
        cell(sheet, h)
        for h in (
            "Item id",
            "Resource",
            "Status (period)",
            "Status (as of)",
            "In effect since",
            "From",
            "Deviations",
            "Detail",
            "Accepted exception",
        )
    ]
    for item in period["items"]:
        deviations = "\n".join(deviation_line(d) for d in item["deviations"])
        yield [
            cell(sheet, v)
            for v in (
                item["id"],
                item["resource"],
                item["status"],
                item["status_as_of"],
                item["in_effect_since"],
                item["in_effect_since_from"],
                deviations,
                item["detail"],
                exception_text(item["exception"]) if item.get("exception") else None,
            )
        ]
    yield [title(sheet, "Changes in the period (population for sampling)")]
    yield [
        cell(sheet, h)
        for h in (
            "Change id",
            "Time (UTC)",
            "Event",
            "Resources",
            "Principal",
            "Source IP",
            "User agent",
            "Effect",
            "Request parameters",
            "CloudTrail event id",
        )
    ]
    for change in period["changes"]:
        yield [
            cell(sheet, v)
            for v in (
                change["id"],
                change["time"],
                change["event_name"],
                ", ".join(change["resources"]),
                change["principal"],
                change["source_ip"],
                change["user_agent"],
                change["what"],
                str(change["request_parameters"]),
                change["event_id"],
            )
        ]
