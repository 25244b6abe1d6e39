"""One section per control in the PDF: the test performed, the result, failing items in full, the
rest of the population up to 200 rows, what could not be collected and the raw files used."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    PageBreak,
    Paragraph,
    Table,
)

from .common import RawReader, params_text, sheet_names
from .pdf_layout import (
    CELL,
    H1,
    H2,
    HASH,
    HASH_WIDTH,
    IDENT,
    MONO,
    MONO_SIZE,
    PASSING_ROWS_SHOWN,
    PROSE,
    PROSE_SIZE,
    SMALL,
    WIDTH,
    fitted,
    grid,
    heads,
    key_values,
    status_chip,
    text,
)


def controls_section(
    document: Mapping[str, Any], raw: RawReader, workbook: str
) -> Iterator[Flowable]:
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
            ("Result", status_chip(control["status"], SMALL)),
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
    if control["check"] == "manual":
        yield from _attached(control)
        return
    failing = control["failing"]
    yield Paragraph(f"Failing items ({len(failing)})", H2)
    if failing:
        yield _items_table(failing, with_status=False)
    else:
        yield text("None.")
    others = [i for i in control["items"] if i["status"] != "fail"]
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
        for e in evidence
    ]
    yield grid(rows, [WIDTH - HASH_WIDTH - 34 * mm, HASH_WIDTH, 34 * mm])


def _attached(control: Mapping[str, Any]) -> Iterator[Flowable]:
    """A manual control's evidence is its attached files."""
    yield Paragraph(f"Attached evidence ({len(control['items'])})", H2)
    if not control["items"]:
        yield text("None attached yet.")
        return
    rows = [heads("File (as listed)", "In the pack", "SHA-256")]
    rows += [
        [
            text(i["resource"], IDENT),
            text(i["detail"].removeprefix("attached as "), IDENT),
            text(i["attributes"].get("sha256", ""), HASH),
        ]
        for i in control["items"]
    ]
    yield grid(rows, [40 * mm, WIDTH - HASH_WIDTH - 40 * mm, HASH_WIDTH])


def _items_table(items: Sequence[Mapping[str, Any]], with_status: bool) -> Table:
    names = ["Resource", "Account", "Region", "ARN", "Detail"]
    widths = [34 * mm, 21 * mm, 18 * mm, 52 * mm]
    if with_status:
        names.insert(3, "Status")
        widths.insert(3, 14 * mm)
    widths.append(WIDTH - sum(widths))
    arn_col, detail_col = len(names) - 2, len(names) - 1
    rows: list[list[Any]] = [heads(*names)]
    for item in items:
        row: list[Any] = [
            fitted(item["resource"], widths[0], MONO, MONO_SIZE),
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
