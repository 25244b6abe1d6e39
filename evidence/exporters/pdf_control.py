"""One section per control in the PDF, built from parts listed in CONTROL_PARTS: the control and
its result, the test performed, the raw evidence, notes, what could not be collected, attached
files (manual controls), failing items in full and the rest of the population up to 200 rows.

A new part (an exceptions register, an IPE block, a period block) is a function of a
ControlView returning flowables, added to CONTROL_PARTS where it belongs in the reading order.
It starts with subheading(...) so it is in the outline and is never stranded at a page foot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, PageBreak

from .common import RawReader, params_text, sheet_names
from .evidence_refs import EvidenceLocator, EvidenceRef
from .exception_tables import excepted_items_table, register_table
from .finding_attributes import finding_columns
from .pdf_ipe import PdfKit, ipe_section
from .pdf_items import items_table
from .pdf_layout import (
    BODY,
    CELL,
    FILES_SHOWN,
    H2,
    HASH,
    HASH_WIDTH,
    HEADING_CHARACTERS,
    IDENT,
    PASSING_ROWS_SHOWN,
    SMALL,
    SUBHEADING_ROOM,
    WIDTH,
    grid,
    heads,
    key_values,
    more_files,
    section_heading,
    shorten,
    status_chip,
    subheading,
    subheading_paragraph,
    text,
)
from .pdf_tables import data_grid
from .period_pdf import period_section
from .statuses import status_label

NOTE = ParagraphStyle("Note", parent=SMALL, spaceBefore=3)
ID_CHARACTERS = 60  # a control id longer than this is shortened in headings


@dataclass(frozen=True)
class ControlView:
    """Everything a part of a control's section may read."""

    control: Mapping[str, Any]  # the control's entry in results.json
    raw: RawReader
    evidence: Mapping[str, tuple[EvidenceRef, ...]]  # item_key(item) -> where its evidence is
    file_numbers: Mapping[str, str]  # raw file path -> "F1", "F2"... in this section
    workbook: str  # the workbook's file name
    sheet: str  # this control's sheet in it


ControlPart = Callable[[ControlView], Iterable[Flowable]]


def control_heading(control: Mapping[str, Any]) -> str:
    """ "IAM-03: Console users have MFA", shortened for very long ids and titles."""
    return (
        f"{shorten(control['id'], ID_CHARACTERS)}: {shorten(control['title'], HEADING_CHARACTERS)}"
    )


def result_and_facts(view: ControlView) -> Iterator[Flowable]:
    control = view.control
    heading = control_heading(control)
    yield section_heading(heading)
    references = "; ".join(f"{k}: {', '.join(v)}" for k, v in control["references"].items())
    pairs: list[tuple[str, Any]] = [("Result", status_chip(status_label(control).lower(), SMALL))]
    if not heading.endswith(control["title"]):
        pairs.append(("Title", control["title"]))
    if len(control["id"]) > ID_CHARACTERS:
        pairs.append(("Control id", text(control["id"], IDENT)))
    pairs += [
        ("Description", control["description"] or "-"),
        ("Criteria", ", ".join(control["criteria"])),
        ("References", references or "-"),
        ("Check and parameters", f"{control['check']} ({params_text(control['params'])})"),
        ("Population", control["population"]),
        ("Failing", len(control["failing"])),
    ]
    yield key_values(pairs)


def test_performed(view: ControlView) -> Iterator[Flowable]:
    control = view.control
    yield from subheading("Test performed")
    yield text(control["procedure"])
    operations = view.raw.operations([e["path"] for e in control["evidence"]])
    if operations:
        rows = [heads("API operation", "Calls", "Parameters")]
        rows += [
            [text(op.label, IDENT), text(op.calls, CELL), text(op.parameters, IDENT)]
            for op in operations
        ]
        yield grid(rows, [52 * mm, 14 * mm, WIDTH - 66 * mm])


def raw_evidence(view: ControlView) -> Iterator[Flowable]:
    """The raw files, numbered F1, F2...: item tables point into them."""
    evidence = view.control["evidence"]
    if view.control["check"] == "manual":
        return  # a manual control's evidence is its attached files, listed below
    yield from subheading("Raw evidence")
    if not evidence:
        yield text("None.")
        return
    rows = [heads("Ref", "File", "SHA-256", "Collected (UTC)")]
    rows += [
        [
            text(view.file_numbers.get(e["path"], ""), CELL),
            text(e["path"], IDENT),
            text(e["sha256"], HASH),
            text(
                "\n".join(x for x in (e.get("collected"), e.get("source_time")) if x) or "-", CELL
            ),
        ]
        for e in evidence[:FILES_SHOWN]
    ]
    yield grid(rows, [9 * mm, WIDTH - HASH_WIDTH - 43 * mm, HASH_WIDTH, 34 * mm])
    if len(evidence) > FILES_SHOWN:
        yield text(more_files(len(evidence) - FILES_SHOWN, "of this control"), NOTE)
    yield text(
        "Evidence columns below name the file (F1...) and the call in it whose parameters or"
        " response hold the item (call numbers are the Call # of the workbook's Sources sheet),"
        " or the row of a CSV report.",
        NOTE,
    )


def notes(view: ControlView) -> Iterator[Flowable]:
    for note in view.control["notes"]:
        yield text(f"Note: {note}", NOTE)


def could_not_collect(view: ControlView) -> Iterator[Flowable]:
    errors = view.control["errors"]
    if not errors:
        return
    yield from subheading("Could not be collected")
    rows = [heads("Account", "Region", "Operation", "AWS error code", "Message")]
    rows += [
        [
            text(e["account"], CELL),
            text(e["region"], CELL),
            text(e["operation"], IDENT),
            text(e["code"], IDENT),
            text(e["message"], CELL),
        ]
        for e in errors
    ]
    yield grid(rows, [24 * mm, 20 * mm, 36 * mm, 30 * mm, WIDTH - 110 * mm])


# The report's building blocks for the IPE section (pdf_ipe), so it looks like the rest.
IPE_KIT = PdfKit(text, grid, heads, H2, BODY, SMALL, CELL, IDENT, WIDTH)


def ipe(view: ControlView) -> Iterator[Flowable]:
    """Completeness of the population: queries as made, reconciliations, exclusions, regions."""
    flowables = list(ipe_section(view.control, IPE_KIT))
    if flowables:
        yield CondPageBreak(SUBHEADING_ROOM)  # its heading never alone at a page foot
        yield from flowables


def attached_files(view: ControlView) -> Iterator[Flowable]:
    """Files attached to the control: a manual control's whole evidence, or supplementary."""
    control = view.control
    attachments = control.get("attachments", [])
    if not attachments and control["check"] != "manual":
        return
    yield from subheading(f"Attached evidence ({len(attachments)})")
    if not attachments:
        yield text("None attached yet. Nothing evidences this procedural control.")
        return
    rows = [heads("File (as listed)", "In the pack", "SHA-256")]
    rows += [
        [text(a["file"], IDENT), text(a["path"], IDENT), text(a["sha256"], HASH)]
        for a in attachments
    ]
    yield grid(rows, [40 * mm, WIDTH - HASH_WIDTH - 40 * mm, HASH_WIDTH])


def failing_items(view: ControlView) -> Iterator[Flowable]:
    control = view.control
    if control["check"] == "manual":
        return
    failing = control["failing"]
    yield from subheading(f"Failing items ({len(failing)})")
    if failing:
        yield from _table(view, failing, with_status=False)
    else:
        yield text("None.")


def control_exceptions(view: ControlView) -> Iterator[Flowable]:
    """Excepted items with the exception beside each, then the control's exceptions and their
    state (expired and stale ones included)."""
    control = view.control
    if not control.get("exceptions"):
        return
    excepted = excepted_items_table(control)
    if excepted.rows:
        yield from subheading(excepted.title)
        yield from data_grid(excepted)
    register = register_table({"controls": [control]})
    yield from subheading(f"Accepted exceptions ({len(register.rows)})")
    yield from data_grid(register)


def rest_of_population(view: ControlView) -> Iterator[Flowable]:
    control = view.control
    if control["check"] == "manual":
        return
    others = [i for i in control["items"] if i["status"] not in ("fail", "exception")]
    yield from subheading(f"Rest of the population ({len(others)})")
    if not others:
        yield text("None." if control["items"] else "The population is empty.")
    elif len(others) <= PASSING_ROWS_SHOWN:
        yield from _table(view, others, with_status=True)
    else:
        yield text(
            f"{len(others)} items, too many to print: every one is listed on sheet"
            f" '{view.sheet}' of {view.workbook} in this pack."
        )


def _table(view: ControlView, items: list[Mapping[str, Any]], with_status: bool) -> list[Flowable]:
    return items_table(
        items, finding_columns(view.control), view.evidence, view.file_numbers, with_status
    )


def period(view: ControlView) -> Iterator[Flowable]:
    """The control over the audit period (packs collected with a period)."""
    flowables = list(period_section(view.control, subheading_paragraph, lambda t: text(t, SMALL)))
    if flowables:
        # Its lines are separate paragraphs: kept together so that none is stranded alone on a
        # page (a block longer than a page still splits).
        yield CondPageBreak(SUBHEADING_ROOM)
        yield KeepTogether(flowables)


# Reading order: what the control found first (result, the evidence of a manual control, the
# failing items, the exceptions, the period's deviations), then how it was tested and how
# complete the evidence is (procedure, raw files, IPE block), then the rest of the population.
# An organisation's IPE block alone can fill pages: findings never wait behind it.
CONTROL_PARTS: list[ControlPart] = [
    result_and_facts,
    attached_files,
    failing_items,
    control_exceptions,
    period,
    could_not_collect,
    notes,
    test_performed,
    raw_evidence,
    ipe,
    rest_of_population,
]


def controls_section(
    document: Mapping[str, Any], raw: RawReader, workbook: str
) -> Iterator[Flowable]:
    """Every control, each from a new page."""
    controls = document["controls"]
    locator = EvidenceLocator(raw)
    for index, (control, sheet) in enumerate(
        zip(controls, sheet_names([c["id"] for c in controls]), strict=True)
    ):
        view = ControlView(
            control,
            raw,
            locator.for_control(control),
            {e["path"]: f"F{n}" for n, e in enumerate(control["evidence"], 1)},
            workbook,
            sheet,
        )
        if index:
            yield PageBreak()
        for part in CONTROL_PARTS:
            yield from part(view)
