"""The audit period of a Type II pack: UTC dates, both inclusive, and how its events were read.

`2026-07-01..2026-09-30` or `2026Q3` (ASCII digits only). A pack without a period is a
point-in-time pack.

Bounds: a period is at most MAX_PERIOD_DAYS long (a Type II period is 3 to 12 months); it ends no
later than today (UTC), since a period's evidence is collected once it has happened (a quarter in
progress is given as its dates so far, `2026-10-01..2026-12-01`); and its events are read from
its start to the as-of time, so it starts at most MAX_WINDOW_DAYS before then.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ..errors import UsageError
from .raw import parse_utc, utc_iso

# [0-9], not \d: `\d` also matches full-width digits and other scripts' digits.
_RANGE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})\.\.([0-9]{4}-[0-9]{2}-[0-9]{2})$")
_QUARTER = re.compile(r"^([0-9]{4})[Qq]([1-4])$")

MAX_PERIOD_DAYS = 366
MAX_WINDOW_DAYS = 2 * 366  # from the period's start to the as-of time

# CloudTrail event history (LookupEvents) keeps the last 90 days of management events.
EVENT_HISTORY_DAYS = 90


@dataclass(frozen=True)
class Period:
    """Start and end are UTC calendar dates, both inclusive."""

    start: date
    end: date

    @property
    def start_time(self) -> datetime:
        return datetime.combine(self.start, time(0), UTC)

    @property
    def end_time(self) -> datetime:
        """The first instant after the period (exclusive)."""
        return datetime.combine(self.end + timedelta(days=1), time(0), UTC)

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()} (UTC, inclusive)"

    def to_json(self) -> dict[str, str]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "from": utc_iso(self.start_time),
            "until": utc_iso(self.end_time),
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Period:
        return Period(date.fromisoformat(data["start"]), date.fromisoformat(data["end"]))


def parse_period(text: str) -> Period:
    """`YYYY-MM-DD..YYYY-MM-DD` or `YYYYQn`; raises UsageError naming what is wrong."""
    text = text.strip()
    quarter = _QUARTER.match(text)
    if quarter:
        year, number = int(quarter.group(1)), int(quarter.group(2))
        start = date(year, 3 * number - 2, 1)
        following = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
        return Period(start, following - timedelta(days=1))
    found = _RANGE.match(text)
    if not found and not text.isascii():
        raise UsageError(f"--period {text!r}: use ASCII digits (0-9) only")
    if not found:
        raise UsageError(
            f"--period {text!r}: expected START..END as UTC dates (2026-07-01..2026-09-30)"
            " or a quarter (2026Q3)"
        )
    try:
        start, end = (date.fromisoformat(found.group(i)) for i in (1, 2))
    except ValueError as exc:
        raise UsageError(f"--period {text!r}: {exc}") from None
    if end < start:
        raise UsageError(f"--period {text!r}: the end is before the start")
    days = (end - start).days + 1
    if days > MAX_PERIOD_DAYS:
        raise UsageError(
            f"--period {text!r}: {days:,} days; a period is at most {MAX_PERIOD_DAYS} days"
        )
    return Period(start, end)


class EventsFrom:
    """Where the period's CloudTrail events are read."""

    AUTO = "auto"  # LookupEvents when the whole window is in event history, else the S3 logs
    LOOKUP = "lookup"  # cloudtrail:LookupEvents (last 90 days)
    S3 = "s3"  # the trail's log files in S3

    CHOICES = (AUTO, LOOKUP, S3)


@dataclass(frozen=True)
class EventsPlan:
    """How a run reads the period's events: the mode used and why, and the window asked for.

    The window starts at the period's start and ends when the events are read (after the
    period when collected later), so each item's state can be rebuilt back from the as-of time.
    """

    mode: str  # EventsFrom.LOOKUP or EventsFrom.S3
    reason: str
    window_start: str  # UTC ISO 8601

    def to_json(self) -> dict[str, str]:
        return {"mode": self.mode, "reason": self.reason, "window_start": self.window_start}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> EventsPlan:
        return EventsPlan(data["mode"], data["reason"], data["window_start"])

    @property
    def window_start_time(self) -> datetime:
        return parse_utc(self.window_start)


def plan_events(period: Period, requested: str, now: datetime) -> EventsPlan:
    """Choose how to read events: LookupEvents within event history, the trail's S3 logs
    otherwise or when asked. Raises UsageError for a period that starts in the future, ends
    after today (UTC) or starts more than MAX_WINDOW_DAYS before `now`."""
    if period.start_time > now:
        raise UsageError(f"--period: {period.start.isoformat()} is in the future")
    today = now.astimezone(UTC).date()
    if period.end > today:
        raise UsageError(
            f"--period: it ends {period.end.isoformat()}, after today ({today.isoformat()} UTC);"
            f" a period so far is {period.start.isoformat()}..{today.isoformat()}"
        )
    if (today - period.start).days > MAX_WINDOW_DAYS:
        raise UsageError(
            f"--period: it starts {period.start.isoformat()}, more than {MAX_WINDOW_DAYS} days"
            " ago (its events are read from its start to now)"
        )
    oldest = now - timedelta(days=EVENT_HISTORY_DAYS)
    start = utc_iso(period.start_time)
    if requested == EventsFrom.S3:
        return EventsPlan(EventsFrom.S3, "asked for (--events-from s3)", start)
    if period.start_time >= oldest:
        why = "the period is within CloudTrail event history (90 days)"
        if requested == EventsFrom.LOOKUP:
            why = "asked for (--events-from lookup); " + why
        return EventsPlan(EventsFrom.LOOKUP, why, start)
    if requested == EventsFrom.LOOKUP:
        raise UsageError(
            f"--events-from lookup: the period starts {period.start.isoformat()}, more than"
            f" {EVENT_HISTORY_DAYS} days ago; CloudTrail event history holds 90 days"
            " (use --events-from s3 or leave it out)"
        )
    return EventsPlan(
        EventsFrom.S3,
        f"the period starts more than {EVENT_HISTORY_DAYS} days ago: older than event history",
        start,
    )
