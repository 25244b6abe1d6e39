"""The evidence report: a PDF an auditor reads front to back.

Cover, contents (with page numbers and a PDF outline), summary, one section per control (test
performed, result, failing items in full, passing population up to 200 rows, what could not be
collected, the raw files with their SHA-256), and an appendix on verifying the pack. Built from
results.json and raw/ only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    Paragraph,
    Spacer,
)
from reportlab.platypus.tableofcontents import TableOfContents

from .. import TOOL_NAME, __version__
from ..evaluate.results import RESULTS_FILE
from ..model import account_statuses
from ..pack.builder import PackBuilder
from ..pack.raw import parse_utc
from ..pack.runinfo import RunInfo
from .common import RawReader, export_name
from .pdf_control import controls_section
from .pdf_doc import EvidenceDoc, numbered_canvas
from .pdf_layout import (
    BODY,
    CELL,
    H1,
    HASH,
    HASH_WIDTH,
    IDENT,
    SMALL,
    TITLE,
    WIDTH,
    grid,
    heads,
    key_values,
    status_chip,
    text,
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
        NextPageTemplate("body"),
        PageBreak(),
        *_contents(),
        PageBreak(),
        *_summary(document),
        *_accounts(document),
        *controls_section(document, raw, export_name(document, "xlsx")),
        *_appendix(raw, meta),
    ]
    header = f"{meta['organisation']}  |  {meta['pack']}"
    doc.multiBuild(story, canvasmaker=numbered_canvas(header, f"Generated {generated}"))
    return name


# ---------------------------------------------------------------- sections


def _cover(meta: Mapping[str, Any], generated: str, results_sha: str) -> list[Flowable]:
    accounts = "\n".join(
        a["account_id"] + (f" ({a['alias']})" if a.get("alias") else "") for a in meta["accounts"]
    )
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
        heads("Control", "Title", "Criteria", "Status", "Population", "Failing")
    ]
    for c in controls:
        rows.append(
            [
                text(c["id"], IDENT),
                text(c["title"], CELL),
                text(", ".join(c["criteria"]), CELL),
                status_chip(c["status"]),
                text(c["population"], CELL),
                text(len(c["failing"]), CELL),
            ]
        )
    counts = ", ".join(f"{n} {s}" for s, n in document["summary"].items() if n)
    return [
        Paragraph("Summary", H1),
        text(f"{len(controls)} controls: {counts}."),
        grid(rows, [24 * mm, 68 * mm, 26 * mm, 18 * mm, 20 * mm, 18 * mm]),
        text(
            "Statuses: PASS; FAIL (a resource breaks the control); ERROR (evidence could not be"
            " collected; the operation and AWS error code are named; never counted as a pass);"
            " MANUAL (procedural control, evidence attached).",
            SMALL,
        ),
        PageBreak(),
    ]


def _accounts(document: Mapping[str, Any]) -> list[Flowable]:
    """Results per account: a pack covers every account of the run."""
    accounts = document["run"]["accounts"]
    if len(accounts) < 2:
        return []
    statuses = ["pass", "fail", "error", "manual"]
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
        grid(
            rows, [26 * mm, 30 * mm, 16 * mm, 13 * mm, 13 * mm, 13 * mm, 15 * mm, WIDTH - 126 * mm]
        ),
        PageBreak(),
    ]


def _appendix(raw: RawReader, meta: Mapping[str, Any]) -> list[Flowable]:
    files = ["controls.yaml", RESULTS_FILE, *raw.all_files()]
    rows = [heads("File", "Bytes", "SHA-256")]
    rows += [
        [text(path, IDENT), text(raw.size(path), CELL), text(raw.sha256(path), HASH)]
        for path in files
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
            "Both recompute every hash and name any changed, missing or added file. Each raw file"
            " holds, per AWS call: service, operation, parameters, UTC time, request id, HTTP"
            " status, retries and the response as AWS returned it."
        ),
        grid(rows, [WIDTH - HASH_WIDTH - 15 * mm, 15 * mm, HASH_WIDTH]),
        Spacer(1, 4 * mm),
        text(
            f"Report generated by {TOOL_NAME} {__version__}; evidence as of"
            f" {parse_utc(meta['as_of']).isoformat().replace('+00:00', 'Z')}.",
            SMALL,
        ),
    ]
