"""The period in words, shared by README.txt, the PDF and the workbook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .statuses import exception_text


def period_line(run: Mapping[str, Any]) -> str:
    """`2026-07-01 to 2026-09-30 (UTC, inclusive); events from ...` or the point-in-time note."""
    period = run.get("period")
    if not period:
        return "none: a point-in-time pack (configuration as of the as-of time only)"
    events = period.get("events") or {}
    how = {"lookup": "CloudTrail LookupEvents", "s3": "the trail's log files in S3"}.get(
        events.get("mode", ""), "CloudTrail"
    )
    reason = f" ({events['reason']})" if events.get("reason") else ""
    return f"{period['start']} to {period['end']} (UTC, inclusive); changes read from {how}{reason}"


def deviation_line(deviation: Mapping[str, Any]) -> str:
    """One deviation: interval, what, who."""
    started = deviation.get("started_by") or {}
    ended = deviation.get("ended_by") or {}
    who = f"; by {started['principal']} from {started['source_ip']}" if started else ""
    until = f"; ended by {ended['event_name']} ({ended['principal']})" if ended else ""
    return f"{deviation['from']} to {deviation['until']}: {deviation['what']}{who}{until}"


def period_exception(item: Mapping[str, Any]) -> str:
    """` - EXCEPTION: <accepted risk>` after a period item's deviation that an accepted
    exception covers (or the exception that did not apply), else nothing."""
    exception = item.get("exception")
    if not exception:
        return ""
    label = "EXCEPTION" if item["status"] == "exception" else "FAIL"
    return f" - {label}: {exception_text(exception)}"


def change_line(change: Mapping[str, Any]) -> str:
    resources = ", ".join(change["resources"]) or "-"
    return (
        f"{change['time']} {change['event_name']} on {resources} by {change['principal']}"
        f" from {change['source_ip']}: {change['what']}"
    )
