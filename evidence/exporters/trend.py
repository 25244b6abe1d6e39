"""The PDF summary's trend: controls per status in this pack and the packs before it.

Drawn with reportlab's own graphics from results.json's `history` (pack.chain.history_points),
so it needs nothing but the pack. Absent for the first pack of a scope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from ..model import Status
from ..pack.chain import HistoryPoint, history_points

TREND_POINTS_SHOWN = 12  # the latest packs; results.json keeps more
HEIGHT = 75 * mm


def trend_section(
    document: Mapping[str, Any], colours: Mapping[str, Any], width: float
) -> list[Any]:
    """The chart as a one-element flowable list, or [] when the pack has no history."""
    points = history_points(document)
    if len(points) < 2:
        return []
    return [Spacer(1, 4 * mm), trend_chart(points[-TREND_POINTS_SHOWN:], colours, width)]


def trend_chart(
    points: Sequence[HistoryPoint], colours: Mapping[str, Any], width: float
) -> Drawing:
    """Stacked bars of controls per status, one bar per pack (oldest left, this pack right),
    labelled with each pack's as-of date."""
    statuses = [str(s) for s in Status if any(p.counts.get(str(s), 0) for p in points)]
    drawing = Drawing(width, HEIGHT)
    drawing.add(
        String(
            0, HEIGHT - 10, "Controls by status across packs", fontName="Helvetica-Bold", fontSize=9
        )
    )
    chart = VerticalBarChart()
    chart.x, chart.y = 28, 30
    chart.width, chart.height = width - 130, HEIGHT - 50
    chart.data = [[p.counts.get(s, 0) for p in points] for s in statuses]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.categoryNames = _labels(points)
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 30 if len(points) > 6 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(points) > 6 else "n"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.forceZero = True
    chart.barWidth = 10
    chart.groupSpacing = 8
    for index, status in enumerate(statuses):
        fill, outline = colours.get(status, ("#D9D9D9", "#3A3A3A"))
        chart.bars[index].fillColor = colors.HexColor(fill)
        chart.bars[index].strokeColor = colors.HexColor(outline)
        chart.bars[index].strokeWidth = 0.5
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 90, HEIGHT - 25
    legend.fontSize = 7
    legend.columnMaximum = len(statuses)  # one column
    legend.alignment = "right"
    legend.colorNamePairs = [
        (colors.HexColor(colours.get(s, ("#D9D9D9", ""))[0]), s.upper()) for s in reversed(statuses)
    ]
    drawing.add(legend)
    return drawing


def _labels(points: Sequence[HistoryPoint]) -> list[str]:
    """Each pack's as-of date; with the time when two packs share a day."""
    days = [p.as_of[:10] for p in points]
    if len(set(days)) == len(days):
        return [day or p.name for day, p in zip(days, points, strict=True)]
    return [p.as_of[:19].replace("T", " ") or p.name for p in points]
