"""The evidence report: a PDF an auditor reads front to back.

Cover, contents (with page numbers and a PDF outline whose entries open their own pages),
summary with charts, results by account (several accounts), one section per control (see
pdf_control), and an appendix on verifying the pack. Built from results.json and raw/ only.

The document is the sections listed in SECTIONS, each a function of a Report returning
flowables and starting on a new page (a section with nothing to say returns nothing). A new
section is one more function in that list; a new part of every control's section goes in
pdf_control.CONTROL_PARTS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
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
from ..pack.chain import history_points
from ..pack.raw import parse_utc
from ..pack.runinfo import RunInfo
from .chain_text import previous_pack_line
from .charts import PackStatus, accounts_chart, criteria_chart, status_chart, status_trend
from .common import RawReader, export_name
from .exception_tables import register_table
from .marking import Provenance, cover_notices, page_marking
from .pdf_control import IPE_KIT, controls_section
from .pdf_doc import EvidenceDoc
from .pdf_ipe import cover_notice
from .pdf_layout import (
    BODY,
    CELL,
    FILES_SHOWN,
    H1,
    HASH,
    HASH_WIDTH,
    HEADING_CHARACTERS,
    IDENT,
    MARGIN,
    SMALL,
    TITLE,
    WIDTH,
    grid,
    heads,
    key_values,
    more_files,
    section_heading,
    shorten,
    status_chip,
    subheading,
    text,
)
from .pdf_tables import data_grid
from .period_text import period_line
from .readme import WHAT_VERIFY_CHECKS
from .shown_text import pdf_markup
from .statuses import STATUS_LEGEND, status_label, summary_line


@dataclass(frozen=True)
class Report:
    """Everything a section of the PDF may read."""

    document: Mapping[str, Any]  # results.json
    raw: RawReader
    generated: str  # when this report was made, ISO 8601 UTC
    results_sha256: str
    workbook: str  # the workbook's file name, for pointers to its sheets
    history: Sequence[PackStatus]  # earlier packs, for the status trend (may be empty)

    def earlier_packs(self) -> list[PackStatus]:
        """The packs before this one for the trend: those passed in, else the history recorded
        in results.json (pack.chain.history_points; its last point is this pack)."""
        if self.history:
            return list(self.history)
        return [PackStatus(p.name, p.as_of, p.counts) for p in history_points(self.document)[:-1]]

    @property
    def run(self) -> Mapping[str, Any]:
        run: Mapping[str, Any] = self.document["run"]
        return run


Section = Callable[[Report], Iterable[Flowable]]


def write_pdf(
    pack: PackBuilder,
    document: dict[str, Any],
    run: RunInfo,
    history: Sequence[PackStatus] = (),
) -> str:
    """Write the report into the pack folder and return its file name.

    `history`: earlier packs of the same scope (name, as-of, controls per status), in any
    order; when given, or when results.json records a history (pack.chain), the summary shows
    the status trend across them and this pack.
    """
    name = export_name(document, "pdf")
    raw = RawReader(pack.dir)
    meta = document["run"]
    report = Report(
        document,
        raw,
        datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        raw.sha256(RESULTS_FILE),
        export_name(document, "xlsx"),
        tuple(history),
    )
    doc = EvidenceDoc(
        str(pack.dir / name),
        header=f"{meta['organisation']}  |  {meta['pack']}",
        footer=f"Generated {report.generated}",
        decorate=page_marking(Provenance.of(meta), MARGIN),
        title=f"SOC 2 evidence: {meta['organisation']} ({meta['pack']})",
        author=f"{TOOL_NAME} {__version__}",
        subject=f"AWS control evidence as of {meta['as_of']} for {meta['scope']}",
        creator=f"{TOOL_NAME} {__version__}",
    )
    story: list[Flowable] = []
    for section in SECTIONS:
        flowables = list(section(report))
        if flowables and story:
            story.append(PageBreak())
        story += flowables
    doc.build_story(story)
    return name


# ---------------------------------------------------------------- sections


COVER_ACCOUNTS = 12  # more are listed under "Results by account"


def cover(report: Report) -> list[Flowable]:
    meta, generated, results_sha = report.run, report.generated, report.results_sha256
    names = [
        a["account_id"] + (f" ({a['alias']})" if a.get("alias") else "") for a in meta["accounts"]
    ]
    accounts = "\n".join(names[:COVER_ACCOUNTS])
    if len(names) > COVER_ACCOUNTS:
        more = len(names) - COVER_ACCOUNTS
        accounts += f"\nand {more} more ({len(names)} in all: see Results by account)"
    organisation = meta["organisation"]
    heading = shorten(organisation, HEADING_CHARACTERS)
    whole = [("Organisation", organisation)] if heading != organisation else []
    return [
        *cover_notices(Provenance.of(meta), WIDTH),
        Spacer(1, 30 * mm),
        Paragraph("SOC 2 evidence pack", TITLE),
        Paragraph(pdf_markup(heading, H1.fontName), ParagraphStyle("org", parent=H1, fontSize=18)),
        Spacer(1, 8 * mm),
        key_values(
            [
                *whole,
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
                ("Previous pack", _previous_pack(meta)),
                ("API calls made", meta["total_calls"]),
            ]
        ),
        Spacer(1, 6 * mm),
        text(
            "Every figure in this report is derived from the raw API responses kept in the pack's"
            " raw/ folder; the appendix explains how to verify the pack's integrity.",
            SMALL,
        ),
        *cover_notice(report.document["controls"], IPE_KIT),
    ]


def contents(report: Report) -> list[Flowable]:
    toc = TableOfContents(dotsMinLevel=0)
    toc.levelStyles = [
        ParagraphStyle("toc0", parent=BODY, fontName="Vera-Bold", fontSize=9.5, leading=13),
        ParagraphStyle("toc1", parent=BODY, fontSize=8.5, leading=11, leftIndent=12),
    ]
    return [Paragraph("Contents", ParagraphStyle("contents", parent=H1)), toc]


def _side_by_side(left: Flowable, right: Flowable, left_width: float) -> Table:
    table = Table([[left, right]], colWidths=[left_width, WIDTH - left_width])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def summary(report: Report) -> Iterator[Flowable]:
    document = report.document
    controls = document["controls"]
    yield section_heading("Summary")
    yield text(f"{summary_line(document)}.")
    left = 72 * mm
    yield _side_by_side(
        status_chart(document["summary"], left - 6 * mm),
        criteria_chart(controls, WIDTH - left),
        left,
    )
    yield Spacer(1, 4 * mm)
    earlier = report.earlier_packs()
    if earlier:
        yield status_trend([*earlier, PackStatus.of(document)], WIDTH)
        yield Spacer(1, 4 * mm)
    yield from subheading("Controls")
    yield text(STATUS_LEGEND, SMALL)
    rows: list[list[Any]] = [
        heads("Control", "Title", "Criteria", "Status", "Items", "Failing", "Errors")
    ]
    for c in controls:
        rows.append(
            [
                text(shorten(c["id"], 60), IDENT),
                text(shorten(c["title"], HEADING_CHARACTERS), CELL),
                text(", ".join(c["criteria"]), CELL),
                status_chip(status_label(c).lower()),
                text(c["population"], CELL),
                text(len(c["failing"]), CELL),
                text(len(c["errors"]), CELL),
            ]
        )
    yield grid(rows, [22 * mm, 64 * mm, 24 * mm, 28 * mm, 12 * mm, 12 * mm, 12 * mm])
    register = register_table(document)
    if not register.rows:
        yield Spacer(1, 3 * mm)
        yield text(f"{register.title}: {register.empty}", SMALL)


def exceptions_register(report: Report) -> Iterator[Flowable]:
    """The accepted exceptions of every control, with their state at the as-of date."""
    table = register_table(report.document)
    if table.rows:
        yield section_heading(table.title)
        yield text(table.intro)
        yield from data_grid(table)


def accounts(report: Report) -> Iterator[Flowable]:
    """Results per account: a pack covers every account of the run."""
    document = report.document
    accounts = document["run"]["accounts"]
    if len(accounts) < 2:
        return
    statuses = ["pass", "fail", "error", "manual", "exception"]
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
    yield section_heading("Results by account")
    yield text(
        "Controls per status in each account; an account that could not be opened counts"
        " every control as an error."
    )
    yield accounts_chart(document, WIDTH)
    yield Spacer(1, 4 * mm)
    yield grid(
        rows,
        [24 * mm, 28 * mm, 14 * mm, 11 * mm, 11 * mm, 12 * mm, 14 * mm, 18 * mm, WIDTH - 132 * mm],
    )


def controls(report: Report) -> Iterator[Flowable]:
    yield from controls_section(report.document, report.raw, report.workbook)


def appendix(report: Report) -> list[Flowable]:
    raw, meta = report.raw, report.run
    files = ["controls.yaml", RESULTS_FILE, *raw.all_files()]
    rows = [heads("File", "Bytes", "SHA-256")]
    rows += [
        [text(path, IDENT), text(raw.size(path), CELL), text(raw.sha256(path), HASH)]
        for path in files[:FILES_SHOWN]
    ]
    pack = meta["pack"]
    return [
        section_heading("Appendix: raw evidence and how to verify this pack"),
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
            [text(more_files(len(files) - FILES_SHOWN, "in the pack"), SMALL)]
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


# The document, in reading order: each section starts on a new page.
SECTIONS: list[Section] = [
    cover,
    contents,
    summary,
    exceptions_register,
    accounts,
    controls,
    appendix,
]


def _previous_pack(meta: Mapping[str, Any]) -> Any:
    """The hash chain's link on the cover: the name and manifest hash set as a hash, or why
    there is none as plain words."""
    line = previous_pack_line(meta)
    return text(line, HASH) if meta.get("previous_pack") else line
