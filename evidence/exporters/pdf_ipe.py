"""The PDF's IPE section of each control, and the cover's notice of regions not collected.

The report's building blocks (text, tables, styles) come in a PdfKit from pdf.py, so this
section looks like the rest of the report without importing it back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer

from .ipe_text import (
    exclusion_lines,
    ipe_of,
    pack_regions_notice,
    query_lines,
    reconciliation_lines,
    region_lines,
)
from .shown_text import pdf_markup

QUERY_ROWS_SHOWN = 30  # beyond this, results.json and the workbook hold every query
FLAG = "#9C0006"


@dataclass(frozen=True)
class PdfKit:
    text: Callable[[Any, ParagraphStyle], Paragraph]
    grid: Callable[[Sequence[Sequence[Any]], Sequence[float]], Flowable]
    heads: Callable[..., list[Paragraph]]
    h2: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    ident: ParagraphStyle
    width: float


def _flagged(value: str, style: ParagraphStyle, flag: bool) -> Paragraph:
    if not flag:
        return Paragraph(pdf_markup(value, style.fontName), style)
    return Paragraph(f'<font color="{FLAG}"><b>{pdf_markup(value, "Vera-Bold")}</b></font>', style)


def _part(title: str, kit: PdfKit) -> Paragraph:
    # The section heading's font, smaller; not named H2, so it stays out of the outline.
    style = ParagraphStyle(
        "ipe-part", parent=kit.h2, fontSize=8.5, leading=11, spaceBefore=5, spaceAfter=2
    )
    return Paragraph(pdf_markup(title, style.fontName), style)


def ipe_section(control: Mapping[str, Any], kit: PdfKit) -> Iterator[Flowable]:
    """Queries as made, reconciliations, exclusions and regions of one control."""
    ipe = ipe_of(control)
    if ipe is None:
        return
    yield Paragraph("Completeness of the population (IPE)", kit.h2)
    yield from _queries(ipe, kit)
    yield from _reconciliations(ipe, kit)
    yield from _exclusions(ipe, kit)
    yield _part("Regions", kit)
    for line in region_lines(ipe):
        yield _flagged(line, kit.small, "NOT COLLECTED IN" in line)


def _queries(ipe: Mapping[str, Any], kit: PdfKit) -> Iterator[Flowable]:
    lines = query_lines(ipe)
    yield _part(f"Queries as made ({len(ipe['queries'])})", kit)
    if not lines:
        yield kit.text("No query was recorded for this control.", kit.small)
        return
    rows: list[list[Any]] = [
        kit.heads("Where", "Operation", "Parameters", "Pages", "Records", "To the end")
    ]
    rows += [
        [
            kit.text(line.where, kit.cell),
            kit.text(line.operation, kit.ident),
            kit.text(line.parameters, kit.ident),
            kit.text(line.pages, kit.cell),
            kit.text(line.records, kit.cell),
            _flagged(line.complete, kit.cell, line.incomplete),
        ]
        for line in lines[:QUERY_ROWS_SHOWN]
    ]
    fixed = 22 * mm + 38 * mm + 11 * mm + 28 * mm + 18 * mm
    yield kit.grid(rows, [22 * mm, 38 * mm, kit.width - fixed, 11 * mm, 28 * mm, 18 * mm])
    if len(lines) > QUERY_ROWS_SHOWN:
        yield kit.text(
            f"{len(lines) - QUERY_ROWS_SHOWN} more lines: results.json (ipe.queries) holds every"
            " query, the workbook's Sources sheet every call.",
            kit.small,
        )


def _reconciliations(ipe: Mapping[str, Any], kit: PdfKit) -> Iterator[Flowable]:
    lines = reconciliation_lines(ipe)
    yield _part("Reconciliation with an independent count", kit)
    if not lines:
        yield kit.text("AWS offers no independent count for this evidence.", kit.small)
        return
    rows: list[list[Any]] = [kit.heads("Where", "Records", "Listed", "Counted by", "Result")]
    for line in lines:
        result = line.result + (f": {line.detail}" if line.detail else "")
        rows.append(
            [
                kit.text(line.where, kit.cell),
                kit.text(line.subject, kit.cell),
                kit.text(line.listed, kit.cell),
                kit.text(line.independent, kit.cell),
                _flagged(result, kit.cell, line.flagged),
            ]
        )
    fixed = 22 * mm + 22 * mm + 40 * mm + 44 * mm
    yield kit.grid(rows, [22 * mm, 22 * mm, 40 * mm, 44 * mm, kit.width - fixed])


def _exclusions(ipe: Mapping[str, Any], kit: PdfKit) -> Iterator[Flowable]:
    lines = exclusion_lines(ipe)
    yield _part("Excluded from the population", kit)
    if not lines:
        yield kit.text("Nothing: every record read is in the population.", kit.small)
        return
    rows: list[list[Any]] = [kit.heads("Where", "Why", "Count", "Which")]
    rows += [
        [
            kit.text(line.where, kit.cell),
            kit.text(line.reason, kit.cell),
            kit.text(line.count, kit.cell),
            kit.text(line.resources, kit.ident),
        ]
        for line in lines
    ]
    fixed = 22 * mm + 50 * mm + 12 * mm
    yield kit.grid(rows, [22 * mm, 50 * mm, 12 * mm, kit.width - fixed])


def cover_notice(controls: Sequence[Mapping[str, Any]], kit: PdfKit) -> list[Flowable]:
    """The cover's statement that the pack is partial, or nothing when it is not."""
    notice = pack_regions_notice(controls)
    return [Spacer(1, 4 * mm), _flagged(notice, kit.body, True)] if notice else []
