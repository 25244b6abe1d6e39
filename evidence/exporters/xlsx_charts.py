"""Charts in the workbook (openpyxl's own): controls by status on the Summary sheet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import DataPoint

from .charts import CHART_COLOURS, STATUS_ORDER
from .xlsx_cells import LABEL_FONT, cell, header_row


def status_counts_rows(sheet: Any, counts: Mapping[str, int]) -> list[list[Any]]:
    """The chart's data: a header and one row per status, in the charts' order."""
    return [
        header_row(sheet, ["Status", "Controls"]),
        *([cell(sheet, s.upper(), font=LABEL_FONT), counts.get(s, 0)] for s in STATUS_ORDER),
    ]


def status_chart(sheet: Any, first_row: int, column: int, anchor: str) -> BarChart:
    """Controls by status, one coloured bar per status, from the status rows written at
    (first_row, column): header row first, then one row per STATUS_ORDER status."""
    chart = BarChart()
    chart.type = "bar"  # horizontal: status names read left to right
    chart.title = "Controls by status"
    chart.style = 2
    chart.legend = None
    chart.y_axis.title = "controls"
    chart.y_axis.majorGridlines = None
    chart.x_axis.scaling.orientation = "maxMin"  # the first status on top
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    last = first_row + len(STATUS_ORDER)
    data = Reference(sheet, min_col=column + 1, min_row=first_row, max_row=last)
    labels = Reference(sheet, min_col=column, min_row=first_row + 1, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(labels)
    series = chart.series[0]
    for index, status in enumerate(STATUS_ORDER):
        point = DataPoint(idx=index)
        point.graphicalProperties.solidFill = CHART_COLOURS[status].hexval()[2:]
        point.graphicalProperties.line.solidFill = CHART_COLOURS[status].hexval()[2:]
        series.dPt.append(point)
    series.dLbls = DataLabelList()
    series.dLbls.showVal = True
    series.dLbls.showSerName = False
    series.dLbls.showCatName = False
    series.dLbls.showLegendKey = False
    chart.width, chart.height = 12.5, 6.5  # centimetres
    sheet.add_chart(chart, anchor)
    return chart
