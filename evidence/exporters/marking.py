"""Marks a pack that must not be mistaken for evidence from AWS: a demo pack, or one collected
through an endpoint that is not AWS's own.

The notices come from results.json's `run.demo` and `run.endpoints` only. Every export shows
them where a reader cannot miss them: README.txt's head, the workbook's Summary, the PDF's
cover, and the top of every PDF page (with a DEMO watermark across every page of a demo pack).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from ..pack.provenance import not_aws
from .shown_text import drawable, pdf_markup

DEMO_NOTICE = (
    "DEMO: collected from an emulated demo account seeded with findings;"
    " not evidence of any real system."
)
NOT_AWS_PREFIX = "Not collected from AWS: "
WARNING_RED = colors.HexColor("#B00020")


@dataclass(frozen=True)
class Provenance:
    """What a reader must be told about where a pack's data came from."""

    demo: bool = False
    not_aws: tuple[str, ...] = ()  # endpoints used that are not AWS's own

    @staticmethod
    def of(run: Mapping[str, Any]) -> Provenance:
        """From results.json's `run` block: `not_aws_endpoints`, judged per call when collected.
        A pack made before that judgement lists every endpoint it used (nothing shows any was
        AWS's own); a pack without endpoints at all is unmarked."""
        judged = run.get("not_aws_endpoints")
        endpoints = (run.get("endpoints") or ()) if judged is None else judged
        return Provenance(bool(run.get("demo", False)), not_aws(endpoints))

    @property
    def notices(self) -> tuple[str, ...]:
        """One line per warning, in the words every export uses."""
        lines = []
        if self.demo:
            lines.append(DEMO_NOTICE)
        if self.not_aws:
            lines.append(NOT_AWS_PREFIX + ", ".join(self.not_aws))
        return tuple(lines)


def readme_notices(provenance: Provenance) -> str:
    """The head of README.txt: each notice framed, or "" for a pack from AWS."""
    if not provenance.notices:
        return ""
    return "".join(f"*** {line} ***\n" for line in provenance.notices) + "\n"


def provenance_rows(provenance: Provenance) -> list[tuple[str, str]]:
    """Label/value rows for the top of the workbook's Summary sheet."""
    labels = {DEMO_NOTICE: "DEMO PACK"}
    return [(labels.get(line, "PROVENANCE"), line) for line in provenance.notices]


_COVER = ParagraphStyle(
    "Notice", fontName="Vera-Bold", fontSize=10, leading=13, textColor=WARNING_RED, wordWrap="CJK"
)


def cover_notices(provenance: Provenance, width: float) -> list[Flowable]:
    """A red-framed box of notices for the PDF cover (nothing for a pack from AWS)."""
    if not provenance.notices:
        return []
    box = Table(
        [[Paragraph(pdf_markup(line, _COVER.fontName), _COVER)] for line in provenance.notices],
        colWidths=[width],
    )
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.5, WARNING_RED),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#FDECEE")),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return [box]


PageDecorator = Callable[[Canvas], None]


def page_marking(provenance: Provenance, margin: float) -> PageDecorator | None:
    """Draws, on every PDF page, the notices above the page header and, for a demo pack, a DEMO
    watermark across the page. None for a pack from AWS."""
    if not provenance.notices:
        return None

    def decorate(canvas: Canvas) -> None:
        width, height = canvas._pagesize
        canvas.saveState()
        if provenance.demo:
            canvas.setFillColor(WARNING_RED, alpha=0.12)
            canvas.translate(width / 2, height / 2)
            canvas.rotate(50)
            canvas.setFont("Vera-Bold", 150)
            canvas.drawCentredString(0, -20, "DEMO")
            canvas.setFont("Vera-Bold", 28)
            canvas.drawCentredString(0, -70, "NOT EVIDENCE")
            canvas.rotate(-50)
            canvas.translate(-width / 2, -height / 2)
        canvas.setFillColor(WARNING_RED)
        y = height - 7 * mm
        for line in provenance.notices:
            size, room = 7.5, width - 2 * margin
            canvas.setFont("Vera-Bold", size)
            canvas.drawString(margin, y, _fit(drawable(line, "Vera-Bold"), "Vera-Bold", size, room))
            y -= 3.6 * mm
        canvas.restoreState()

    return decorate


def _fit(text: str, font: str, size: float, room: float) -> str:
    """The text, shortened with an ellipsis if it is wider than the room (many endpoints)."""
    if pdfmetrics.stringWidth(text, font, size) <= room:
        return text
    while text and pdfmetrics.stringWidth(text + " …", font, size) > room:
        text = text[:-1]
    return text + " …"
