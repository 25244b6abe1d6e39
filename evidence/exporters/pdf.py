"""The evidence report: a PDF an auditor reads front to back.

Cover, contents (with page numbers and a PDF outline), summary, one section per control (test
performed, result, failing items in full, passing population up to 200 rows, what could not be
collected, the raw files with their SHA-256), and an appendix on verifying the pack. Built from
results.json and raw/ only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    LongTable,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from .. import TOOL_NAME, __version__
from ..evaluate.results import RESULTS_FILE
from ..model import account_statuses
from ..pack.builder import PackBuilder
from ..pack.raw import parse_utc
from ..pack.runinfo import RunInfo
from .common import RawReader, display, export_name, params_text, sheet_names
from .exception_tables import excepted_items_table, register_table
from .pdf_ipe import PdfKit, cover_notice, ipe_section
from .period_pdf import period_section
from .period_text import period_line
from .readme import WHAT_VERIFY_CHECKS
from .statuses import LABEL_COLOURS, STATUS_LEGEND, status_label, summary_line
from .tables import DataTable
from .trend import trend_section

PASSING_ROWS_SHOWN = 200
# Raw files listed per control and in the appendix: an organisation's pack holds thousands, all
# listed with their SHA-256 in manifest.json and SHA256SUMS (and per call on the workbook's
# Sources sheet); printing them all would double the report's pages and memory.
FILES_SHOWN = 60
PAGE = A4
MARGIN = 18 * mm
WIDTH = PAGE[0] - 2 * MARGIN

STATUS_COLOURS = {
    "pass": ("#C6EFCE", "#006100"),
    "fail": ("#FFC7CE", "#9C0006"),
    "error": ("#FFEB9C", "#9C5700"),
    "manual": ("#D9D9D9", "#3A3A3A"),
    "exception": ("#DDEBF7", "#1F4E78"),
    **{label: (f"#{fill}", f"#{ink}") for label, (fill, ink) in LABEL_COLOURS.items()},
}
NAVY = colors.HexColor("#1F3864")


def _register_fonts() -> None:
    # reportlab's bundled Vera: embedded, so names and descriptions outside Latin-1 still show.
    import reportlab

    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    for name, file in (("Vera", "Vera.ttf"), ("Vera-Bold", "VeraBd.ttf")):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, os.path.join(folder, file)))


_register_fonts()
BODY = ParagraphStyle("Body", fontName="Vera", fontSize=9, leading=12, spaceAfter=4)
SMALL = ParagraphStyle("Small", parent=BODY, fontSize=7.5, leading=9.5, spaceAfter=0)
CELL = ParagraphStyle("Cell", parent=BODY, fontSize=7, leading=8.6, spaceAfter=0)
# Identifiers (ARNs, hashes, paths) break anywhere so they never run off the page.
IDENT = ParagraphStyle("Ident", parent=CELL, wordWrap="CJK")
# A SHA-256 on one line: 64 Courier characters at 6.4 pt need 88 mm.
HASH = ParagraphStyle("Hash", parent=CELL, fontName="Courier", fontSize=6.4, wordWrap="CJK")
HASH_WIDTH = 89 * mm
HEAD_CELL = ParagraphStyle("HeadCell", parent=CELL, fontName="Vera-Bold", textColor=colors.white)
H1 = ParagraphStyle(
    "H1",
    parent=BODY,
    fontName="Vera-Bold",
    fontSize=15,
    leading=19,
    spaceBefore=6,
    spaceAfter=8,
    textColor=NAVY,
)
H2 = ParagraphStyle(
    "H2",
    parent=BODY,
    fontName="Vera-Bold",
    fontSize=10.5,
    leading=14,
    spaceBefore=8,
    spaceAfter=4,
    textColor=NAVY,
)
TITLE = ParagraphStyle(
    "Title",
    parent=BODY,
    fontName="Vera-Bold",
    fontSize=24,
    leading=30,
    spaceAfter=14,
    textColor=NAVY,
)


def write_pdf(pack: PackBuilder, document: dict[str, Any], run: RunInfo) -> str:
    name = export_name(document, "pdf")
    raw = RawReader(pack.dir)
    meta = document["run"]
    generated = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    results_sha = raw.sha256(RESULTS_FILE)
    doc = EvidenceDoc(
        str(pack.dir / name),
        title=f"SOC 2 evidence: {meta['organisation']} ({meta['pack']})",
        author=f"{TOOL_NAME} {__version__}",
        subject=f"AWS control evidence as of {meta['as_of']} for {meta['scope']}",
        creator=f"{TOOL_NAME} {__version__}",
    )
    story = [
        *_cover(meta, generated, results_sha),
        *cover_notice(document["controls"], IPE_KIT),
        NextPageTemplate("body"),
        PageBreak(),
        *_contents(),
        PageBreak(),
        *_summary(document),
        *_accounts(document),
        *_controls(document, raw, export_name(document, "xlsx")),
        *_appendix(raw, meta),
    ]
    header = f"{meta['organisation']}  |  {meta['pack']}"
    doc.multiBuild(story, canvasmaker=numbered_canvas(header, f"Generated {generated}"))
    return name


# ---------------------------------------------------------------- document machinery


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


# ---------------------------------------------------------------- building blocks


def text(value: Any, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(str(display(value))).replace("\n", "<br/>"), style)


def status_chip(status: str, style: ParagraphStyle = CELL) -> Paragraph:
    """A coloured status, or status label with its flags (`manual - no evidence`)."""
    base = STATUS_COLOURS.get(status.split(" - ")[0], ("#FFFFFF", "#000000"))
    fill, ink = STATUS_COLOURS.get(status, base)
    return Paragraph(
        f'<font color="{ink}"><b>{escape(status.upper())}</b></font>',
        ParagraphStyle(
            f"chip-{status}-{style.name}", parent=style, backColor=colors.HexColor(fill)
        ),
    )


def grid(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    header: bool = True,
    extra: Sequence[tuple[Any, ...]] = (),
) -> Table:
    """A table whose long rows split across pages with the header row repeated."""
    table = LongTable(
        list(rows), colWidths=list(widths), repeatRows=1 if header else 0, splitByRow=True
    )
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#B7B7B7")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), NAVY))
    table.setStyle(TableStyle([*commands, *extra]))
    return table


def key_values(pairs: Sequence[tuple[str, Any]], label_width: float = 42 * mm) -> Table:
    rows = [
        [
            Paragraph(f"<b>{escape(k)}</b>", SMALL),
            v
            if isinstance(v, Flowable)
            else text(v, ParagraphStyle("kv", parent=SMALL, wordWrap="CJK")),
        ]
        for k, v in pairs
    ]
    return grid(rows, [label_width, WIDTH - label_width], header=False)


def heads(*names: str) -> list[Paragraph]:
    return [Paragraph(escape(n), HEAD_CELL) for n in names]


IPE_KIT = PdfKit(text, grid, heads, H2, BODY, SMALL, CELL, IDENT, WIDTH)


# ---------------------------------------------------------------- sections


# Accounts named on the cover; an organisation's list goes on in "Results by account" (one
# table cell of hundreds of lines cannot be laid out on a page at all).
COVER_ACCOUNTS = 12


def _cover(meta: Mapping[str, Any], generated: str, results_sha: str) -> list[Flowable]:
    named = [
        a["account_id"] + (f" ({a['alias']})" if a.get("alias") else "")
        for a in meta["accounts"][:COVER_ACCOUNTS]
    ]
    more = len(meta["accounts"]) - len(named)
    if more > 0:
        named.append(f"and {more} more ({len(meta['accounts'])} in all: see Results by account)")
    accounts = "\n".join(named)
    return [
        Spacer(1, 30 * mm),
        Paragraph("SOC 2 evidence pack", TITLE),
        Paragraph(escape(meta["organisation"]), ParagraphStyle("org", parent=H1, fontSize=18)),
        Spacer(1, 8 * mm),
        key_values(
            [
                ("Scope: accounts", accounts),
                ("Scope: regions", ", ".join(meta["regions"]) or "global services only"),
                ("As of (UTC)", meta["as_of"]),
                ("Audit period", period_line(meta)),
                ("Collection (UTC)", f"{meta['started']} to {meta['finished']}"),
                ("Generated (UTC)", generated),
                ("Collected by", meta["caller_arn"]),
                ("Tool", f"{meta['tool']} {meta['tool_version']}"),
                ("Pack", meta["pack"]),
                ("results.json SHA-256", text(results_sha, HASH)),
                ("controls.yaml SHA-256", text(meta["controls_sha256"], HASH)),
                ("API calls made", meta["total_calls"]),
            ]
        ),
        Spacer(1, 6 * mm),
        text(
            "Every figure in this report is derived from the raw API responses kept in the pack's"
            " raw/ folder; the appendix explains how to verify the pack's integrity.",
            SMALL,
        ),
    ]


def _contents() -> list[Flowable]:
    toc = TableOfContents(dotsMinLevel=0)
    toc.levelStyles = [
        ParagraphStyle("toc0", parent=BODY, fontName="Vera-Bold", fontSize=9.5, leading=13),
        ParagraphStyle("toc1", parent=BODY, fontSize=8.5, leading=11, leftIndent=12),
    ]
    return [Paragraph("Contents", ParagraphStyle("contents", parent=H1)), toc]


def _summary(document: Mapping[str, Any]) -> list[Flowable]:
    controls = document["controls"]
    rows: list[list[Any]] = [
        heads("Control", "Title", "Criteria", "Status", "Population", "Failing", "Errors")
    ]
    for c in controls:
        rows.append(
            [
                text(c["id"], IDENT),
                text(c["title"], CELL),
                text(", ".join(c["criteria"]), CELL),
                status_chip(status_label(c).lower()),
                text(c["population"], CELL),
                text(len(c["failing"]), CELL),
                text(len(c["errors"]), CELL),
            ]
        )
    return [
        Paragraph("Summary", H1),
        text(f"{summary_line(document)}."),
        grid(rows, [24 * mm, 56 * mm, 22 * mm, 26 * mm, 18 * mm, 14 * mm, 14 * mm]),
        text(STATUS_LEGEND, SMALL),
        *trend_section(document, STATUS_COLOURS, WIDTH),
        *_register(document),
        PageBreak(),
    ]


def _register(document: Mapping[str, Any]) -> list[Flowable]:
    """The accepted exceptions of every control, with their state at the as-of date."""
    table = register_table(document)
    if not table.rows:
        return [Spacer(1, 3 * mm), text(f"{table.title}: {table.empty}", SMALL)]
    return [PageBreak(), Paragraph(table.title, H1), text(table.intro), *data_grid(table)]


def data_grid(table: DataTable) -> list[Flowable]:
    """A plain-data table (exporters/tables.py) drawn as a grid; plain fitted text per cell,
    so tables of thousands of rows stay fast."""
    shown = [(i, c) for i, c in enumerate(table.columns) if c.in_pdf]
    if not table.rows:
        return [text(table.empty)]
    total = sum(c.share for _, c in shown)
    widths = [WIDTH * c.share / total for _, c in shown]
    rows: list[list[Any]] = [heads(*(c.name for _, c in shown))]
    for row in table.rows:
        cells: list[Any] = []
        for (index, column), width in zip(shown, widths, strict=True):
            value = row[index]
            if column.kind == "status":
                cells.append(status_chip(str(value).lower()))
            else:
                font, size = (MONO, MONO_SIZE) if column.kind == "ident" else (PROSE, PROSE_SIZE)
                cells.append(fitted("-" if value in (None, "") else value, width, font, size))
        rows.append(cells)
    fonts: list[tuple[Any, ...]] = [("FONT", (0, 1), (-1, -1), PROSE, PROSE_SIZE, PROSE_SIZE + 1.6)]
    fonts += [
        ("FONT", (n, 1), (n, -1), MONO, MONO_SIZE, MONO_SIZE + 1.6)
        for n, (_, column) in enumerate(shown)
        if column.kind == "ident"
    ]
    return [grid(rows, widths, extra=fonts), *(text(note, SMALL) for note in table.notes)]


def _accounts(document: Mapping[str, Any]) -> list[Flowable]:
    """Results per account: a pack covers every account of the run."""
    accounts = document["run"]["accounts"]
    if len(accounts) < 2:
        return []
    statuses = ["pass", "fail", "error", "manual", "exception"]
    widths = [24 * mm, 24 * mm, 14 * mm, 12 * mm, 12 * mm, 13 * mm, 15 * mm, 18 * mm]
    rows: list[list[Any]] = [
        heads("Account", "Alias", "Regions", *(s.upper() for s in statuses), "Could not open")
    ]
    for account in accounts:
        counts = [str(account_statuses(c, account["account_id"])) for c in document["controls"]]
        problem = account.get("access_error")
        rows.append(
            [
                text(account["account_id"], CELL),
                text(account.get("alias") or "-", CELL),
                text(len(account.get("regions", [])), CELL),
                *(text(counts.count(s), CELL) for s in statuses),
                text(f"{problem['operation']} {problem['code']}" if problem else "-", IDENT),
            ]
        )
    return [
        Paragraph("Results by account", H1),
        text(
            "Controls per status in each account; an account that could not be opened counts"
            " every control as an error."
        ),
        grid(rows, [*widths, WIDTH - sum(widths)]),
        PageBreak(),
    ]


def _controls(document: Mapping[str, Any], raw: RawReader, workbook: str) -> Iterator[Flowable]:
    controls = document["controls"]
    for control, sheet in zip(controls, sheet_names([c["id"] for c in controls]), strict=True):
        yield from _control(control, raw, workbook, sheet)
        yield PageBreak()


def _control(
    control: Mapping[str, Any], raw: RawReader, workbook: str, sheet: str
) -> Iterator[Flowable]:
    evidence = control["evidence"]
    operations = raw.operations([e["path"] for e in evidence])
    references = "; ".join(f"{k}: {', '.join(v)}" for k, v in control["references"].items())
    params = params_text(control["params"])
    yield Paragraph(escape(f"{control['id']}: {control['title']}"), H1)
    yield key_values(
        [
            ("Result", status_chip(status_label(control).lower(), SMALL)),
            ("Description", control["description"] or "-"),
            ("Criteria", ", ".join(control["criteria"])),
            ("References", references or "-"),
            ("Check and parameters", f"{control['check']} ({params})"),
            ("Population", control["population"]),
            ("Failing", len(control["failing"])),
        ]
    )
    yield Paragraph("Test performed", H2)
    yield text(control["procedure"])
    if operations:
        rows = [heads("API operation", "Calls", "Parameters")]
        rows += [
            [text(op.label, IDENT), text(op.calls, CELL), text(op.parameters, IDENT)]
            for op in operations
        ]
        yield grid(rows, [52 * mm, 14 * mm, WIDTH - 66 * mm])
    for note in control["notes"]:
        yield text(f"Note: {note}", SMALL)
    if control["errors"]:
        yield Paragraph("Could not be collected", H2)
        rows = [heads("Account", "Region", "Operation", "AWS error code", "Message")]
        rows += [
            [
                text(e["account"], CELL),
                text(e["region"], CELL),
                text(e["operation"], IDENT),
                text(e["code"], IDENT),
                text(e["message"], CELL),
            ]
            for e in control["errors"]
        ]
        yield grid(rows, [24 * mm, 20 * mm, 36 * mm, 30 * mm, WIDTH - 110 * mm])
    yield from ipe_section(control, IPE_KIT)
    if control["check"] == "manual":
        yield from _attached(control)
        yield from _control_exceptions(control)
        return
    failing = control["failing"]
    yield Paragraph(f"Failing items ({len(failing)})", H2)
    if failing:
        yield _items_table(failing, with_status=False)
    else:
        yield text("None.")
    yield from _control_exceptions(control)
    others = [i for i in control["items"] if i["status"] not in ("fail", "exception")]
    yield Paragraph(f"Rest of the population ({len(others)})", H2)
    if not others:
        yield text("None." if control["items"] else "The population is empty.")
    elif len(others) <= PASSING_ROWS_SHOWN:
        yield _items_table(others, with_status=True)
    else:
        yield text(
            f"{len(others)} items, too many to print: every one is listed on sheet"
            f" '{sheet}' of {workbook} in this pack."
        )
    yield from _attached(control)
    yield from period_section(control, lambda t: Paragraph(escape(t), H2), lambda t: text(t, SMALL))
    yield CondPageBreak(30 * mm)
    yield Paragraph("Raw evidence", H2)
    if not evidence:
        yield text("None.")
        return
    rows = [heads("File", "SHA-256", "Collected (UTC)")]
    rows += [
        [
            text(e["path"], IDENT),
            text(e["sha256"], HASH),
            text(
                "\n".join(x for x in (e.get("collected"), e.get("source_time")) if x) or "-", CELL
            ),
        ]
        for e in evidence[:FILES_SHOWN]
    ]
    yield grid(rows, [WIDTH - HASH_WIDTH - 34 * mm, HASH_WIDTH, 34 * mm])
    if len(evidence) > FILES_SHOWN:
        yield text(_more_files(len(evidence) - FILES_SHOWN, "of this control"), SMALL)


def _more_files(more: int, whose: str) -> str:
    return (
        f"{more} more raw files {whose}, too many to print: every one is listed with its"
        " SHA-256 in the pack's manifest.json and SHA256SUMS, and per API call on the"
        " workbook's Sources sheet."
    )


MONO, MONO_SIZE = "Courier", 6.5  # identifiers: ARNs, resource ids
PROSE, PROSE_SIZE = "Vera", 7
CELL_PADDING = 6  # left + right padding of grid cells, in points


def fitted(value: Any, width: float, font: str, size: float) -> str:
    """Plain text broken into lines that fit a column: far cheaper than a Paragraph per cell
    when a table has thousands of rows. Identifiers are monospace and break anywhere; prose
    breaks between words."""
    room = width - CELL_PADDING
    lines: list[str] = []
    for part in str(display(value)).split("\n"):
        if pdfmetrics.stringWidth(part, font, size) <= room:
            lines.append(part)
        elif font == MONO:
            per_line = max(1, int(room // (0.6 * size)))
            lines.extend(part[i : i + per_line] for i in range(0, len(part), per_line))
        else:
            for line in simpleSplit(part, font, size, room):
                if pdfmetrics.stringWidth(line, font, size) <= room:
                    lines.append(line)
                else:  # one word longer than the column
                    lines.extend(_hard_split(line, font, size, room))
    return "\n".join(lines)


def _hard_split(word: str, font: str, size: float, room: float) -> Iterator[str]:
    line = ""
    for char in word:
        if line and pdfmetrics.stringWidth(line + char, font, size) > room:
            yield line
            line = ""
        line += char
    if line:
        yield line


def _attached(control: Mapping[str, Any]) -> Iterator[Flowable]:
    """Files attached to the control: a manual control's whole evidence, or supplementary."""
    attachments = control.get("attachments", [])
    if not attachments and control["check"] != "manual":
        return
    yield Paragraph(f"Attached evidence ({len(attachments)})", H2)
    if not attachments:
        yield text("None attached yet. Nothing evidences this procedural control.")
        return
    rows = [heads("File (as listed)", "In the pack", "SHA-256")]
    rows += [
        [text(a["file"], IDENT), text(a["path"], IDENT), text(a["sha256"], HASH)]
        for a in attachments
    ]
    yield grid(rows, [40 * mm, WIDTH - HASH_WIDTH - 40 * mm, HASH_WIDTH])


def _control_exceptions(control: Mapping[str, Any]) -> Iterator[Flowable]:
    """Excepted items with the exception beside each, then the control's exceptions and their
    state (expired and stale ones included)."""
    if not control.get("exceptions"):
        return
    excepted = excepted_items_table(control)
    if excepted.rows:
        yield Paragraph(excepted.title, H2)
        yield from data_grid(excepted)
    register = register_table({"controls": [control]})
    yield Paragraph(f"Accepted exceptions ({len(register.rows)})", H2)
    yield from data_grid(register)


def _items_table(items: Sequence[Mapping[str, Any]], with_status: bool) -> Table:
    names = ["Resource / item id", "Account", "Region", "ARN", "Detail"]
    widths = [34 * mm, 21 * mm, 18 * mm, 52 * mm]
    if with_status:
        names.insert(3, "Status")
        widths.insert(3, 14 * mm)
    widths.append(WIDTH - sum(widths))
    arn_col, detail_col = len(names) - 2, len(names) - 1
    rows: list[list[Any]] = [heads(*names)]
    for item in items:
        row: list[Any] = [
            fitted(item["resource"], widths[0], MONO, MONO_SIZE)
            + (f"\nid {item['id']}" if item.get("id") else ""),
            item["account"],
            item["region"],
            fitted(item["arn"] or "-", widths[arn_col], MONO, MONO_SIZE),
            fitted(item["detail"], widths[detail_col], PROSE, PROSE_SIZE),
        ]
        if with_status:
            row.insert(3, status_chip(item["status"]))
        rows.append(row)
    fonts = [
        ("FONT", (0, 1), (-1, -1), PROSE, PROSE_SIZE, PROSE_SIZE + 1.6),
        ("FONT", (0, 1), (0, -1), MONO, MONO_SIZE, MONO_SIZE + 1.6),
        ("FONT", (arn_col, 1), (arn_col, -1), MONO, MONO_SIZE, MONO_SIZE + 1.6),
    ]
    return grid(rows, widths, extra=fonts)


def _appendix(raw: RawReader, meta: Mapping[str, Any]) -> list[Flowable]:
    files = ["controls.yaml", RESULTS_FILE, *raw.all_files()]
    rows = [heads("File", "Bytes", "SHA-256")]
    rows += [
        [text(path, IDENT), text(raw.size(path), CELL), text(raw.sha256(path), HASH)]
        for path in files[:FILES_SHOWN]
    ]
    pack = meta["pack"]
    return [
        Paragraph("Appendix: raw evidence and how to verify this pack", H1),
        text(
            "Every file below is in the pack and listed, with its SHA-256, in manifest.json and"
            " SHA256SUMS (written after this report, so the report cannot quote them; both also"
            " hash this report). To verify the whole pack:"
        ),
        KeepTogether(
            [
                text(
                    f"cd {pack} && sha256sum -c SHA256SUMS",
                    ParagraphStyle(
                        "code", parent=SMALL, fontName="Courier", leftIndent=12, spaceAfter=3
                    ),
                ),
                text(
                    f"{TOOL_NAME} verify {pack}",
                    ParagraphStyle(
                        "code2", parent=SMALL, fontName="Courier", leftIndent=12, spaceAfter=6
                    ),
                ),
            ]
        ),
        text(
            WHAT_VERIFY_CHECKS + " Each raw file holds, per AWS call: service, operation,"
            " parameters, UTC time, request id, HTTP status, retries and the response as AWS"
            " returned it."
        ),
        grid(rows, [WIDTH - HASH_WIDTH - 15 * mm, 15 * mm, HASH_WIDTH]),
        *(
            [text(_more_files(len(files) - FILES_SHOWN, "in the pack"), SMALL)]
            if len(files) > FILES_SHOWN
            else []
        ),
        Spacer(1, 4 * mm),
        text(
            f"Report generated by {TOOL_NAME} {__version__}; evidence as of"
            f" {parse_utc(meta['as_of']).isoformat().replace('+00:00', 'Z')}.",
            SMALL,
        ),
    ]
