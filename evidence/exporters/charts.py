"""Charts drawn with reportlab's own graphics (no other dependency): controls by status, by Trust
Services Criterion, by account, and the status trend across packs.

Each function returns a Drawing (a flowable) sized to the width it is given. Colours follow the
status colours used everywhere else, darker so that thin bars still read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String, Wedge
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics

from ..model import account_statuses
from ..pack.raw import parse_utc
from .shown_text import drawable

# Most urgent first: the order of stacked segments and legends.
STATUS_ORDER = ("fail", "error", "exception", "manual", "pass")
CHART_COLOURS = {
    "fail": colors.HexColor("#D9534F"),
    "error": colors.HexColor("#E8A33D"),
    "exception": colors.HexColor("#4A7BB7"),
    "manual": colors.HexColor("#9B9B9B"),
    "pass": colors.HexColor("#4E9A5B"),
}
INK = colors.HexColor("#222222")
GRID = colors.HexColor("#D0D0D0")
TITLE_FONT, TITLE_SIZE = "Vera-Bold", 8.5
LABEL_FONT, LABEL_SIZE = "Vera", 7
MAX_ROWS = 30  # bars per chart; more accounts are summarised in a note under the chart
MAX_PACKS = 12  # columns in the trend chart: the most recent packs


@dataclass(frozen=True)
class PackStatus:
    """One pack's place in a trend: its name, as-of time (ISO 8601 UTC) and controls per
    status."""

    name: str
    as_of: str
    counts: Mapping[str, int]

    @staticmethod
    def of(document: Mapping[str, Any]) -> PackStatus:
        """From a results.json document."""
        run = document["run"]
        return PackStatus(run["pack"], run["as_of"], dict(document["summary"]))


def _width(text: str, font: str = LABEL_FONT, size: float = LABEL_SIZE) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


def _fit(text: str, room: float, font: str = LABEL_FONT, size: float = LABEL_SIZE) -> str:
    text = drawable(text, font)
    if _width(text, font, size) <= room:
        return text
    while text and _width(text + "\u2026", font, size) > room:
        text = text[:-1]
    return text + "\u2026"


def _legend(drawing: Drawing, x: float, y: float, statuses: Sequence[str]) -> None:
    for status in statuses:
        drawing.add(Rect(x, y - 1, 7, 7, fillColor=CHART_COLOURS[status], strokeColor=None))
        label = status.upper()
        drawing.add(String(x + 9, y, label, fontName=LABEL_FONT, fontSize=LABEL_SIZE))
        x += 9 + _width(label) + 10


def _present(rows: Sequence[Mapping[str, int]]) -> list[str]:
    return [s for s in STATUS_ORDER if any(r.get(s, 0) for r in rows)]


# ---------------------------------------------------------------- controls by status


def status_chart(counts: Mapping[str, int], width: float, height: float = 118) -> Drawing:
    """A ring of controls by status with the total inside, and a legend with counts and shares."""
    drawing = Drawing(width, height)
    drawing.add(
        String(
            0,
            height - TITLE_SIZE,
            "Controls by status",
            fontName=TITLE_FONT,
            fontSize=TITLE_SIZE,
            fillColor=INK,
        )
    )
    total = sum(counts.get(s, 0) for s in STATUS_ORDER)
    radius = (height - TITLE_SIZE - 10) / 2
    cx, cy = radius + 2, radius + 2
    hole = radius * 0.58
    shown = [s for s in STATUS_ORDER if counts.get(s, 0)]
    if len(shown) <= 1:  # one status (or none): a whole ring
        fill = CHART_COLOURS[shown[0]] if shown else GRID
        drawing.add(Circle(cx, cy, radius, fillColor=fill, strokeColor=None))
    else:
        angle = 90.0
        for status in shown:
            sweep = 360.0 * counts[status] / total
            drawing.add(
                Wedge(
                    cx,
                    cy,
                    radius,
                    angle - sweep,
                    angle,
                    fillColor=CHART_COLOURS[status],
                    strokeColor=colors.white,
                    strokeWidth=1,
                )
            )
            angle -= sweep
    drawing.add(Circle(cx, cy, hole, fillColor=colors.white, strokeColor=None))
    drawing.add(
        String(
            cx,
            cy,
            str(total),
            textAnchor="middle",
            fontName="Vera-Bold",
            fontSize=15,
            fillColor=INK,
        )
    )
    drawing.add(
        String(
            cx,
            cy - 10,
            "controls",
            textAnchor="middle",
            fontName=LABEL_FONT,
            fontSize=LABEL_SIZE,
            fillColor=INK,
        )
    )
    x = 2 * radius + 16
    y = cy + 6.5 * len(shown) - 9
    for status in shown:  # the statuses present; the line above the chart gives every count
        n = counts[status]
        drawing.add(Rect(x, y - 1, 8, 8, fillColor=CHART_COLOURS[status], strokeColor=None))
        share = f" ({100 * n / total:.0f}%)"
        drawing.add(
            String(
                x + 12,
                y,
                f"{status.upper()}  {n}{share}",
                fontName=LABEL_FONT,
                fontSize=LABEL_SIZE + 0.5,
                fillColor=INK,
            )
        )
        y -= 13
    return drawing


# ---------------------------------------------------------------- stacked bars


def stacked_rows(
    title: str,
    rows: Sequence[tuple[str, Mapping[str, int]]],
    width: float,
    note: str = "",
) -> Drawing:
    """One horizontal bar per row (label, controls per status), segments in STATUS_ORDER with
    their count written inside when there is room, the row's total at the end."""
    bar, gap = 8.5, 3.0
    top = TITLE_SIZE + 16  # title and legend
    bottom = 10.0 if note else 0.0
    height = top + len(rows) * (bar + gap) + bottom + 2
    drawing = Drawing(width, height)
    drawing.add(
        String(
            0, height - TITLE_SIZE, title, fontName=TITLE_FONT, fontSize=TITLE_SIZE, fillColor=INK
        )
    )
    _legend(drawing, 0, height - TITLE_SIZE - 12, _present([r for _, r in rows]))
    label_room = min(max((_width(label) for label, _ in rows), default=0.0) + 4, width * 0.38)
    scale_room = width - label_room - 22
    largest = max((sum(r.values()) for _, r in rows), default=0) or 1
    y = height - top - bar
    for label, counts in rows:
        drawing.add(
            String(
                label_room - 4,
                y + 2,
                _fit(label, label_room - 4),
                textAnchor="end",
                fontName=LABEL_FONT,
                fontSize=LABEL_SIZE,
                fillColor=INK,
            )
        )
        x = label_room
        for status in STATUS_ORDER:
            n = counts.get(status, 0)
            if not n:
                continue
            length = scale_room * n / largest
            drawing.add(
                Rect(
                    x,
                    y,
                    length,
                    bar,
                    fillColor=CHART_COLOURS[status],
                    strokeColor=colors.white,
                    strokeWidth=0.5,
                )
            )
            if length >= _width(str(n)) + 3:
                drawing.add(
                    String(
                        x + length / 2,
                        y + 2,
                        str(n),
                        textAnchor="middle",
                        fontName=LABEL_FONT,
                        fontSize=LABEL_SIZE - 0.5,
                        fillColor=colors.white,
                    )
                )
            x += length
        drawing.add(
            String(
                x + 3,
                y + 2,
                str(sum(counts.values())),
                fontName=LABEL_FONT,
                fontSize=LABEL_SIZE,
                fillColor=INK,
            )
        )
        y -= bar + gap
    if note:
        drawing.add(
            String(
                0,
                1,
                note,
                fontName=LABEL_FONT,
                fontSize=LABEL_SIZE - 0.5,
                fillColor=colors.HexColor("#555555"),
            )
        )
    return drawing


def _criterion_key(criterion: str) -> tuple[Any, ...]:
    """CC1.1 < CC6.1 < CC10.1 < A1.2 < C1.1: the Trust Services Criteria's own order."""
    series = ("CC", "A", "C", "PI", "P")
    match = re.match(r"([A-Za-z]+)(.*)", criterion)
    prefix, rest = (match.group(1).upper(), match.group(2)) if match else (criterion, "")
    numbers = tuple(int(n) for n in re.findall(r"\d+", rest))
    rank = series.index(prefix) if prefix in series else len(series)
    return (rank, prefix, numbers, criterion)


def criteria_chart(controls: Sequence[Mapping[str, Any]], width: float) -> Drawing:
    """Controls by Trust Services Criterion and status (a control counts under each of its
    criteria)."""
    per: dict[str, Counter[str]] = {}
    for control in controls:
        for criterion in control["criteria"] or ["(none)"]:
            per.setdefault(str(criterion), Counter())[control["status"]] += 1
    names = sorted(per, key=_criterion_key)
    shown, note = names[:MAX_ROWS], ""
    if len(names) > MAX_ROWS:
        note = f"The first {MAX_ROWS} of {len(names)} criteria; the summary table lists all."
    return stacked_rows(
        "Controls by Trust Services Criterion", [(n, per[n]) for n in shown], width, note
    )


def accounts_chart(document: Mapping[str, Any], width: float) -> Drawing:
    """Controls by status in each account; with more than MAX_ROWS accounts, those with the
    most failing (then erroring) controls."""
    rows = []
    for account in document["run"]["accounts"]:
        account_id = account["account_id"]
        counts = Counter(str(account_statuses(c, account_id)) for c in document["controls"])
        label = account_id + (f" ({account['alias']})" if account.get("alias") else "")
        rows.append((label, counts))
    rows.sort(key=lambda r: (-r[1].get("fail", 0), -r[1].get("error", 0), r[0]))
    note = ""
    if len(rows) > MAX_ROWS:
        note = (
            f"{MAX_ROWS} of {len(rows)} accounts: those with the most failing controls; the"
            " table below lists every account."
        )
    return stacked_rows("Controls by status in each account", rows[:MAX_ROWS], width, note)


# ---------------------------------------------------------------- trend


def status_trend(packs: Sequence[PackStatus], width: float, height: float = 150) -> Drawing:
    """One stacked column per pack (oldest on the left, at most MAX_PACKS of the most recent),
    labelled with its as-of date: how the controls' statuses moved from pack to pack."""
    ordered = sorted(packs, key=lambda p: parse_utc(p.as_of))[-MAX_PACKS:]
    drawing = Drawing(width, height)
    drawing.add(
        String(
            0,
            height - TITLE_SIZE,
            "Controls by status across packs",
            fontName=TITLE_FONT,
            fontSize=TITLE_SIZE,
            fillColor=INK,
        )
    )
    _legend(drawing, 0, height - TITLE_SIZE - 12, _present([p.counts for p in ordered]))
    axis_x, base = 22.0, 22.0
    plot_top = height - TITLE_SIZE - 22
    largest = max((sum(p.counts.get(s, 0) for s in STATUS_ORDER) for p in ordered), default=0)
    step = _nice_step(largest)
    ceiling = max(step, -(-largest // step) * step)
    scale = (plot_top - base) / ceiling
    for tick in range(0, ceiling + 1, step):
        y = base + tick * scale
        drawing.add(Line(axis_x, y, width, y, strokeColor=GRID, strokeWidth=0.5))
        drawing.add(
            String(
                axis_x - 3,
                y - 2.5,
                str(tick),
                textAnchor="end",
                fontName=LABEL_FONT,
                fontSize=LABEL_SIZE - 0.5,
                fillColor=INK,
            )
        )
    slot = (width - axis_x) / max(len(ordered), 1)
    column = min(slot * 0.6, 40.0)
    dates = [parse_utc(p.as_of) for p in ordered]
    same_day = len({d.date() for d in dates}) < len(dates)
    for index, (pack, moment) in enumerate(zip(ordered, dates, strict=True)):
        x = axis_x + index * slot + (slot - column) / 2
        y = base
        for status in STATUS_ORDER:
            n = pack.counts.get(status, 0)
            if not n:
                continue
            drawing.add(
                Rect(
                    x,
                    y,
                    column,
                    n * scale,
                    fillColor=CHART_COLOURS[status],
                    strokeColor=colors.white,
                    strokeWidth=0.5,
                )
            )
            if n * scale >= LABEL_SIZE + 2 and column >= _width(str(n)) + 2:
                drawing.add(
                    String(
                        x + column / 2,
                        y + n * scale / 2 - 2.5,
                        str(n),
                        textAnchor="middle",
                        fontName=LABEL_FONT,
                        fontSize=LABEL_SIZE - 0.5,
                        fillColor=colors.white,
                    )
                )
            y += n * scale
        label = moment.strftime("%Y-%m-%d %H:%M" if same_day else "%Y-%m-%d")
        if _width(label, LABEL_FONT, LABEL_SIZE - 0.5) > slot - 2:  # narrow columns
            label = moment.strftime("%m-%d %H:%M" if same_day else "%y-%m-%d")
        drawing.add(
            String(
                x + column / 2,
                base - 10,
                _fit(label, slot - 2, LABEL_FONT, LABEL_SIZE - 0.5),
                textAnchor="middle",
                fontName=LABEL_FONT,
                fontSize=LABEL_SIZE - 0.5,
                fillColor=INK,
            )
        )
    drawing.add(Line(axis_x, base, width, base, strokeColor=INK, strokeWidth=0.6))
    if len(packs) > len(ordered):
        drawing.add(
            String(
                0,
                0,
                f"The {len(ordered)} most recent of {len(packs)} packs.",
                fontName=LABEL_FONT,
                fontSize=LABEL_SIZE - 0.5,
                fillColor=INK,
            )
        )
    return drawing


def _nice_step(largest: int) -> int:
    """A gridline step giving at most about five lines: 1, 2, 5, 10, 20, 50..."""
    step = 1
    while largest / step > 5:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if largest / step <= 5:
                break
    return step
