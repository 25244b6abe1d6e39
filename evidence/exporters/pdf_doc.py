"""The PDF's document machinery: page templates, outline entries and contents lines, and the
header and footer stamped on every page (with the total page count and, on a section's
continuation pages, which section they continue)."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate
from reportlab.platypus.doctemplate import IndexingFlowable

from .marking import PageDecorator
from .pdf_layout import MARGIN, PAGE, WIDTH, clip_to_width, outline_of

TOP_MARGIN = MARGIN + 6 * mm  # room for the header and, below its rule, the "continued" line


class PageTotal(IndexingFlowable):  # type: ignore[misc]
    """Zero-size indexing flowable: remembers the page count of the last pass, so every page can
    say "Page x of y". multiBuild runs again until the count is the same twice."""

    def __init__(self, doc: EvidenceDoc) -> None:
        super().__init__()
        self._doc = doc
        self.total: int | None = None
        self._previous: int | None = None

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        pass

    def beforeBuild(self) -> None:
        self._previous = self.total

    def afterBuild(self) -> None:
        self.total = self._doc.page

    def isSatisfied(self) -> bool:
        return self.total is not None and self.total == self._previous


class EvidenceDoc(BaseDocTemplate):  # type: ignore[misc]
    """Headings (see mark_heading) become bookmarks on the page where they are drawn, outline
    entries and contents lines; every page gets a header, a footer with "Page x of y", and a
    continuation page names its section under the header rule."""

    def __init__(
        self,
        filename: str,
        header: str,
        footer: str,
        decorate: PageDecorator | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            filename,
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=TOP_MARGIN,
            bottomMargin=MARGIN,
            **kwargs,
        )
        # No padding: text and tables line up with the header rule.
        frame = Frame(
            self.leftMargin,
            self.bottomMargin,
            self.width,
            self.height,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id="main",
        )
        self.addPageTemplates([PageTemplate("cover", [frame]), PageTemplate("body", [frame])])
        self.header = header
        self.footer = footer
        self.decorate = decorate  # provenance notices and a demo watermark on every page
        self.page_total = PageTotal(self)
        self._keys = 0
        self._section: str | None = None
        self._section_page = 0

    def build_story(self, story: list[Flowable]) -> None:
        self.multiBuild([self.page_total, *story])

    def beforeDocument(self) -> None:
        # multiBuild lays the story out more than once: bookmark keys must repeat exactly.
        self._keys = 0
        self._section = None

    def afterFlowable(self, flowable: Flowable) -> None:
        outline = outline_of(flowable)
        if outline is None:
            return
        text = flowable.getPlainText()
        self._keys += 1
        key = f"section-{self._keys}"
        # The page being drawn: this bookmark's destination is the heading's own page.
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(text, key, level=outline.level, closed=outline.level == 0)
        if outline.level == 0:
            # The contents line is markup again: the plain text escaped, so `<U+202E>` and `&`
            # in a title are shown, not taken for tags.
            self.notify("TOCEntry", (0, escape(text), self.page, key))
            self._section, self._section_page = outline.running, self.page

    def afterPage(self) -> None:
        self._stamp(self.canv)

    def _stamp(self, canvas: Canvas) -> None:
        total = self.page_total.total
        number = f"Page {self.page} of {total if total is not None else '?'}"
        if self.decorate is not None:
            self.decorate(canvas)
        canvas.saveState()
        canvas.setFont("Vera", 7.5)
        canvas.setFillColor(colors.HexColor("#555555"))
        top = PAGE[1] - MARGIN + 2 * mm
        canvas.drawString(MARGIN, top, clip_to_width(self.header, "Vera", 7.5, WIDTH))
        canvas.setStrokeColor(colors.HexColor("#BBBBBB"))
        canvas.line(MARGIN, top - 2 * mm, PAGE[0] - MARGIN, top - 2 * mm)
        bottom = MARGIN - 8 * mm
        right = PAGE[0] - MARGIN
        canvas.drawRightString(right, bottom, number)
        room = WIDTH - pdfmetrics.stringWidth(number, "Vera", 7.5) - 6 * mm
        canvas.drawString(MARGIN, bottom, clip_to_width(self.footer, "Vera", 7.5, room))
        if self._section is not None and self._section_page != self.page:
            canvas.setFont("Vera-Bold", 8)
            canvas.setFillColor(colors.HexColor("#1F3864"))
            suffix = " (continued)"
            room = WIDTH - pdfmetrics.stringWidth(suffix, "Vera-Bold", 8)
            line = clip_to_width(self._section, "Vera-Bold", 8, room) + suffix
            canvas.drawString(MARGIN, top - 6.5 * mm, line)
        canvas.restoreState()
