"""The PDF's period section of a control: in effect since, deviations, changes, populations."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from reportlab.platypus import Flowable

from .period_text import change_line, deviation_line, period_exception

ROWS_SHOWN = 200


def period_section(
    control: Mapping[str, Any],
    heading: Callable[[str], Flowable],
    line: Callable[[str], Flowable],
) -> Iterator[Flowable]:
    """Flowables for the control's period block (nothing for a point-in-time pack)."""
    period = control.get("period")
    if not period:
        return
    yield heading(f"Over the period {period['from']} to {period['until']}: {period['status']}")
    deviations = period["deviations"]
    yield line(f"Deviations ({len(deviations)}):")
    items = {i["id"]: i for i in period["items"]}
    for deviation in deviations[:ROWS_SHOWN]:
        excepted = period_exception(items.get(deviation["item_id"], {}))
        yield line(f"- {deviation['resource']}: {deviation_line(deviation)}{excepted}")
    for problem in [
        *period["gaps"],
        *(f"{e['operation']} {e['code']}: {e['message']}" for e in period["errors"]),
    ][:ROWS_SHOWN]:
        yield line(f"Not shown by the events: {problem}")
    unknown = [i for i in period["items"] if i["status"] == "error"]
    for item in unknown[:ROWS_SHOWN]:
        yield line(f"Error for the period: {item['resource']}: {item['detail']}")
    yield line("In effect since:")
    for item in period["items"][:ROWS_SHOWN]:
        yield line(
            f"- {item['resource']}: {item['in_effect_since']} ({item['in_effect_since_from']})"
        )
    changes = period["changes"]
    yield line(f"Changes in the period ({len(changes)}; the workbook lists every one):")
    for change in changes[:ROWS_SHOWN]:
        yield line(f"- {change_line(change)}")
    for name, ids in period["populations"].items():
        yield line(f"Population {name}: {len(ids)} event(s)")
