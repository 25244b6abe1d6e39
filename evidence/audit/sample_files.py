"""A drawn sample written beside its pack: `<pack>_sample_<control>_<seed>/`, sealed like a pack.

    sample.csv      the parameters (pack, its manifest SHA-256, control, population count, method,
                    seed, size), then the sampled items with every attribute
    sample.xlsx     the same on a "Sample" sheet, and the whole population with each item's
                    selection key on a "Population" sheet
    sample.json     the same for machines
    README.txt      how the sample was drawn, how to reproduce it and how to verify the folder
    manifest.json, SHA256SUMS   written last (pack/builder.py), so `verify` works on it

sample.csv holds no wall-clock time: drawn again from the same pack, control, size and seed, it is
the same file byte for byte.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from .. import TOOL_NAME, __version__
from ..exporters.xlsx import (
    FORMULA_STARTS,
    LABEL_FONT,
    TITLE_FONT,
    TOP,
    WRAP,
    cell,
    colour_statuses,
    header_row,
    set_widths,
)
from ..pack.builder import PackBuilder
from ..pack.raw import json_bytes, utc_iso
from .sample import DEFAULT_POPULATION, Sample, selection_key

CSV_FILE = "sample.csv"
XLSX_FILE = "sample.xlsx"
JSON_FILE = "sample.json"
README_FILE = "README.txt"


def sample_folder_name(pack: str, control: str, seed: str) -> str:
    """`<pack>_sample_<control>_<seed>`, with characters unsafe in a file name replaced."""
    return f"{pack}_sample_{_safe(control)}_{_safe(seed)[:64]}"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", text) or "_"


def parameters(sample: Sample) -> list[tuple[str, Any]]:
    """What the sample was drawn from and how: the block heading every output."""
    control = sample.control
    size_from = (
        f"frequency {sample.frequency}, {sample.table.source} sample-size table"
        if sample.frequency and sample.table
        else "given"
    )
    return [
        ("pack", sample.pack),
        ("pack_manifest_sha256", sample.pack_manifest_sha256),
        ("pack_as_of", sample.as_of),
        ("control", control["id"]),
        ("control_title", control.get("title", "")),
        ("population", sample.population_path),
        ("population_count", len(sample.population)),
        ("method", sample.method),
        ("seed", sample.seed),
        ("size_requested", sample.size),
        ("size_from", size_from),
        ("sample_count", len(sample.selected)),
        ("tool", f"{TOOL_NAME} {__version__}"),
    ]


def flatten(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as one row: nested mappings (attributes, exception) become `key.sub` columns,
    lists become JSON text."""
    row: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, Mapping):
            for sub, inner in value.items():
                row[f"{key}.{sub}"] = _scalar(inner)
        else:
            row[key] = _scalar(value)
    return row


def _scalar(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return value


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {"id": None}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def write_sample_folder(sample: Sample, output_dir: Path) -> Path:
    """Write and seal the sample's folder in `output_dir` (beside the pack by default)."""
    name = sample_folder_name(sample.pack, sample.control["id"], sample.seed)
    with PackBuilder(output_dir) as folder:
        name = folder.free_name(name)
        rows = [
            {"rank": s.rank, "selection_key": s.key, **flatten(s.item)} for s in sample.selected
        ]
        columns = ["rank", "selection_key", *_columns([flatten(s.item) for s in sample.selected])]
        folder.write_bytes(CSV_FILE, _csv(parameters(sample), columns, rows))
        folder.write_bytes(JSON_FILE, json_bytes(_json(sample)))
        _workbook(sample, columns, rows, folder.dir / XLSX_FILE)
        folder.write_bytes(README_FILE, _readme(name, sample).encode("utf-8"))
        return folder.seal(name, utc_iso(sample.drawn_at))


def _csv(block: list[tuple[str, Any]], columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["parameter", "value"])
    writer.writerows((key, _csv_text(value)) for key, value in block)
    writer.writerow([])
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_text(row.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8")


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A spreadsheet opening the CSV would run text starting with = + - @ as a formula: the
    # quote prefix keeps it text (OWASP). sample.json and sample.xlsx hold the values unchanged.
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _json(sample: Sample) -> dict[str, Any]:
    return {
        **dict(parameters(sample)),
        "frequency": sample.frequency,
        "sample_size_table": sample.table.to_json() if sample.table else None,
        "drawn_at": utc_iso(sample.drawn_at),
        "items": [{"rank": s.rank, "selection_key": s.key, **s.item} for s in sample.selected],
    }


def _workbook(sample: Sample, columns: list[str], rows: list[dict[str, Any]], path: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sample")
    block = parameters(sample)
    sample_rows = ([row.get(c) for c in columns] for row in rows[:200])
    set_widths(sheet, [("pack_manifest_sha256",), columns, *sample_rows], cap=50)
    sheet.column_dimensions["B"].width = 70
    top = len(block) + 3
    sheet.freeze_panes = f"A{top + 1}"  # write-only sheets take it before the first row
    _print_wide(sheet)
    sheet.append([cell(sheet, f"Sample of {sample.control['id']}", font=TITLE_FONT)])
    for number, (key, value) in enumerate(block, 2):
        lines = -(-len(str(value)) // 66)  # column B holds about 66 characters a line
        if lines > 1:  # write-only sheets: no application recomputes heights of streamed rows
            sheet.row_dimensions[number].height = 15 * lines
        label = cell(sheet, key, font=LABEL_FONT, alignment=TOP)
        sheet.append([label, cell(sheet, value, alignment=WRAP)])
    sheet.append([])
    sheet.append(header_row(sheet, columns))
    for row in rows:
        sheet.append([cell(sheet, _upper_status(c, row.get(c))) for c in columns])
    _status_colours(sheet, columns, top, len(rows))
    _population_sheet(book, sample)
    book.save(path)


def _population_sheet(book: Any, sample: Sample) -> None:
    """The whole population with each item's key and rank, so the auditor can see the sample
    is the lowest keys of all of it."""
    sheet = book.create_sheet("Population")
    _print_wide(sheet)
    ranks = {s.item.get("id"): s.rank for s in sample.selected}
    headers = ["id", "selection_key", "sample_rank", "resource", "account", "region", "status"]
    set_widths(sheet, [headers, ["x" * 16, "x" * 64, "rank", "x" * 30, "x" * 12, "x" * 14]])
    sheet.freeze_panes = "A2"
    sheet.append(header_row(sheet, headers))
    for item in sample.population:
        item_id = str(item["id"])
        sheet.append(
            [
                cell(sheet, value)
                for value in (
                    item_id,
                    selection_key(sample.seed, item_id),
                    ranks.get(item_id),
                    item.get("resource"),
                    item.get("account"),
                    item.get("region"),
                    _upper_status("status", item.get("status")),
                )
            ]
        )
    last = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A1:{last}{len(sample.population) + 1}"
    colour_statuses(sheet, "G", 2, len(sample.population) + 1, last, tint_rows=False)


def _print_wide(sheet: Any) -> None:
    """Printed (or converted to PDF) landscape, every column on the page's width."""
    sheet.page_setup.orientation = "landscape"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0


def _upper_status(column: str, value: Any) -> Any:
    return value.upper() if column == "status" and isinstance(value, str) else value


def _status_colours(sheet: Any, columns: list[str], top: int, count: int) -> None:
    if "status" in columns and count:
        letter = get_column_letter(columns.index("status") + 1)
        colour_statuses(
            sheet, letter, top + 1, top + count, get_column_letter(len(columns)), tint_rows=False
        )
    sheet.auto_filter.ref = f"A{top}:{get_column_letter(len(columns))}{top + max(count, 1)}"


def reproduce_command(sample: Sample) -> str:
    """The command that draws this sample again from the pack."""
    words = [TOOL_NAME, "sample", sample.pack, "--control", str(sample.control["id"])]
    if sample.frequency:
        words += ["--frequency", sample.frequency]
        if sample.table and sample.table.source != "default":
            words += ["--table", sample.table.source]
    else:
        words += ["--size", str(sample.size)]
    words += ["--seed", shlex.quote(sample.seed)]
    if sample.population_path != DEFAULT_POPULATION:
        words += ["--population", sample.population_path]
    return " ".join(words)


def _readme(name: str, sample: Sample) -> str:
    block = "\n".join(f"{key + ':':<22}{value}" for key, value in parameters(sample))
    return f"""Sample {name}
{"=" * (len(name) + 7)}

{block}

Drawn at (UTC): {utc_iso(sample.drawn_at)}

How the sample was drawn
------------------------
{sample.method}

To reproduce it from the pack (the same items, in the same order, on any machine):
    {reproduce_command(sample)}

Files
-----
sample.csv    the parameters above, then the sampled items with every attribute (text starting
              with = + - @ is prefixed with ' so a spreadsheet keeps it text)
sample.xlsx   the same ("Sample"), and the whole population with each item's selection key
              ("Population")
sample.json   the same for programs, values unchanged

How to verify this folder
-------------------------
    cd {name} && sha256sum -c SHA256SUMS
    {TOOL_NAME} verify {name}
"""
