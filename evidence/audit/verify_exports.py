"""verify: do the workbook and the PDF still cite the pack as it is?

Both exports are written after results.json and cite its SHA-256 and each raw file's: an edit
made after them, with a regenerated manifest, leaves them citing the old hashes. Read back as a
reader sees them (the workbook's cells, the PDF's text), never from hidden metadata:

- workbook: the Summary's "results.json SHA-256" row, and each Sources row's raw file and hash;
- PDF: the cover's results.json SHA-256, and the appendix: every raw file, controls.yaml and
  results.json has its current hash cited there, and no cited hash is of no file in the pack.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ..evaluate.results import RESULTS_FILE
from ..exporters.common import export_name
from ..exporters.pdf_layout import FILES_SHOWN
from ..pack.builder import pack_files
from ..pack.raw import RAW_DIR
from ..pack.verify import Finding
from .pack_context import PackContext, short

EXPORTS = "exports"
SHA256_TEXT = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


def export_citations(context: PackContext) -> list[Finding]:
    """The workbook and the PDF against results.json and raw/ as they are now."""
    document = context.document
    if document is None:
        return []
    results_sha = context.sha256(RESULTS_FILE)
    findings: list[Finding] = []
    failed = {str(f.get("exporter")) for f in document.get("export_failures") or ()}
    for suffix, check in (("xlsx", _workbook), ("pdf", _pdf)):
        try:
            name = export_name(document, suffix)
        except (KeyError, TypeError, ValueError) as exc:
            return [Finding(EXPORTS, RESULTS_FILE, f"names no exports ({exc!r})")]
        if context.sha256(name) is None and failed:
            # results.json says an exporter failed (README.txt says how to rebuild): an export
            # left out then is no edit. One missing with no failure recorded is a difference.
            continue
        if context.sha256(name) is None:
            findings.append(Finding(EXPORTS, name, "missing"))
            continue
        try:
            findings.extend(check(context, name, results_sha))
        except (OSError, ValueError, KeyError, PdfReadError, zipfile.BadZipFile) as exc:
            findings.append(Finding(EXPORTS, name, f"unreadable ({exc!r})"))
    return findings


# ---------------------------------------------------------------- workbook


def _workbook(context: PackContext, name: str, results_sha: str | None) -> Iterator[Finding]:
    book = load_workbook(context.pack_dir / name, read_only=True)
    try:
        cited = _labelled_value(book["Summary"].iter_rows(max_row=60, values_only=True))
        if cited is None:
            yield Finding(EXPORTS, name, "the Summary does not cite results.json's SHA-256")
        elif cited != results_sha:
            yield Finding(
                EXPORTS,
                RESULTS_FILE,
                f"{name} Summary cites SHA-256 {short(cited)}, results.json has"
                f" {short(results_sha)}",
            )
        if "Sources" in book.sheetnames:
            yield from _sources(context, name, book["Sources"].iter_rows(values_only=True))
        else:
            yield Finding(EXPORTS, name, "no Sources sheet")
    finally:
        book.close()


def _labelled_value(rows: Iterable[tuple[Any, ...]]) -> str | None:
    for row in rows:
        cells = [c for c in row if c is not None]
        if len(cells) >= 2 and str(cells[0]).strip().lower() == "results.json sha-256":
            return str(cells[1]).strip()
    return None


def _sources(context: PackContext, name: str, rows: Iterator[tuple[Any, ...]]) -> Iterator[Finding]:
    """Each raw file named in the Sources sheet, against the hash cited beside it."""
    header = [str(c or "").strip().lower() for c in next(rows, ())]
    try:
        path_col, sha_col = header.index("raw file"), header.index("raw file sha-256")
    except ValueError:
        yield Finding(EXPORTS, name, "Sources has no 'Raw file' and 'Raw file SHA-256' columns")
        return
    cited: dict[str, set[str]] = {}
    for row in rows:
        if len(row) > max(path_col, sha_col) and row[path_col]:
            cited.setdefault(str(row[path_col]), set()).add(str(row[sha_col] or ""))
    for path, digests in sorted(cited.items()):
        actual = context.sha256(path)
        for digest in sorted(digests - {actual or ""}):
            yield Finding(
                EXPORTS,
                path,
                f"{name} Sources cites SHA-256 {short(digest)}, the file has {short(actual)}",
            )


# ---------------------------------------------------------------- PDF


def _pdf(context: PackContext, name: str, results_sha: str | None) -> Iterator[Finding]:
    reader = PdfReader(context.pack_dir / name)
    cover = reader.pages[0].extract_text() if reader.pages else ""
    if results_sha not in SHA256_TEXT.findall(cover):
        listed = ", ".join(short(h) for h in SHA256_TEXT.findall(cover)) or "none"
        yield Finding(
            EXPORTS,
            RESULTS_FILE,
            f"{name} cover does not cite its SHA-256 {short(results_sha)} (cites: {listed})",
        )
    start = _appendix_page(reader)
    if start is None:
        yield Finding(EXPORTS, name, "no appendix listing the raw files")
        return
    text = "\n".join(page.extract_text() for page in reader.pages[start:])
    cited = set(SHA256_TEXT.findall(text))
    # The appendix lists the first FILES_SHOWN files and says how many more there are (all of
    # them are in the manifest, checked by the hashes layer): an organisation has thousands.
    in_pack = ["controls.yaml", RESULTS_FILE, *_raw_files(context)]
    expected, more = in_pack[:FILES_SHOWN], len(in_pack) - FILES_SHOWN
    if more > 0 and f"{more} more raw files" not in " ".join(text.split()):
        yield Finding(
            EXPORTS,
            name,
            f"the appendix lists {FILES_SHOWN} of {len(in_pack)} files without saying where the"
            f" other {more} are",
        )
    for path in expected:
        actual = context.sha256(path)
        if actual is not None and actual not in cited:
            yield Finding(
                EXPORTS, path, f"{name} appendix does not cite its SHA-256 {short(actual)}"
            )
    known = {context.sha256(path) for path in pack_files(context.pack_dir)}
    for digest in sorted(cited - known):
        yield Finding(EXPORTS, name, f"the appendix cites SHA-256 {short(digest)}, no file has it")


def _appendix_page(reader: PdfReader) -> int | None:
    """The first page of the appendix, from the PDF outline."""
    for entry in reader.outline:
        if not isinstance(entry, list) and str(entry.title).startswith("Appendix"):
            page = reader.get_destination_page_number(entry)
            return page if page is not None and page >= 0 else None
    return None


def _raw_files(context: PackContext) -> list[str]:
    return [path for path in pack_files(context.pack_dir) if path.startswith(f"{RAW_DIR}/")]
