"""The PDF's document machinery: page templates, outline entries and contents lines, and the
canvas that stamps every page's header and footer."""

from __future__ import annotations

from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
)

from .pdf_layout import MARGIN, PAGE


class EvidenceDoc(BaseDocTemplate):  # type: ignore[misc]
    """Headings become outline entries (bookmarks) and contents lines with their page."""

    def __init__(self, filename: str, **kwargs: Any) -> None:
        super().__init__(
            filename,
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN + 6 * mm,
            bottomMargin=MARGIN,
            **kwargs,
        )
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="main")
        self.addPageTemplates([PageTemplate("cover", [frame]), PageTemplate("body", [frame])])
        self._keys = 0

    def afterFlowable(self, flowable: Flowable) -> None:
        if not isinstance(flowable, Paragraph) or flowable.style.name not in ("H1", "H2"):
            return
        level = 0 if flowable.style.name == "H1" else 1
        text = flowable.getPlainText()
        self._keys += 1
        key = f"section-{self._keys}"
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(text, key, level=level, closed=level == 0)
        if level == 0:  # the printed contents lists sections; the outline has their parts too
            self.notify("TOCEntry", (level, text, self.page, key))

    def beforeDocument(self) -> None:
        self._keys = 0  # multiBuild runs the story more than once: keys must repeat exactly


def numbered_canvas(header: str, footer: str) -> type[canvas.Canvas]:
    """A canvas that knows the page count: pages are kept until save(), then stamped."""

    class NumberedCanvas(canvas.Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._stamp(total)
                super().showPage()
            super().save()

        def _stamp(self, total: int) -> None:
            self.saveState()
            self.setFont("Vera", 7.5)
            self.setFillColor(colors.HexColor("#555555"))
            top = PAGE[1] - MARGIN + 2 * mm
            self.drawString(MARGIN, top, header)
            self.setStrokeColor(colors.HexColor("#BBBBBB"))
            self.line(MARGIN, top - 2 * mm, PAGE[0] - MARGIN, top - 2 * mm)
            bottom = MARGIN - 8 * mm
            self.drawString(MARGIN, bottom, footer)
            self.drawRightString(PAGE[0] - MARGIN, bottom, f"Page {self._pageNumber} of {total}")
            self.restoreState()

    return NumberedCanvas
