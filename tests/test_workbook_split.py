"""A table over a worksheet's row limit continues on further sheets, each saying which rows it
holds. Excel's limit is 1,048,576 rows; the tests lower it (xlsx_split.EXCEL_MAX_ROWS) so a few
hundred rows of a real pack, collected from the moto server, need several sheets."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from evidence.exporters import xlsx_split
from evidence.exporters.xlsx_split import SplitWriter, continuation_name, plan
from tests.conftest import Aws
from tests.test_checks_iam import console_user
from tests.test_workbook import table, workbook_path

LIMIT = 50  # rows per sheet in the tests of a collected pack
USERS = 130
BUCKETS = 60  # a few calls each: enough for the Sources sheet to need several sheets


def test_plan_fills_each_sheet_and_says_where_every_row_is() -> None:
    split = plan("IAM-03", 250, 30, {"Summary", "IAM-03 (2)"}, "items", limit=70)
    # 40 rows under a header on row 30, then 66 under the continuation's header on row 4.
    assert [(p.first, p.last, p.top) for p in split.parts] == [  # 70 rows a sheet
        (1, 40, 30),
        (41, 106, 4),
        (107, 172, 4),
        (173, 238, 4),
        (239, 250, 4),
    ]
    names = [p.name for p in split.parts]
    assert names == ["IAM-03", "IAM-03 (2~2)", "IAM-03 (3)", "IAM-03 (4)", "IAM-03 (5)"]
    assert split.note(2) == (
        "Rows 107 to 172 of the 250 items; 1 to 40 on 'IAM-03'; 41 to 106 on 'IAM-03 (2~2)';"
        " 173 to 238 on 'IAM-03 (4)'; 239 to 250 on 'IAM-03 (5)'."
    )
    assert not plan("IAM-03", 40, 30, (), "items", limit=70).split
    assert plan("IAM-03", 41, 30, (), "items", limit=70).split
    with pytest.raises(ValueError):
        plan("IAM-03", 10, 70, (), "items", limit=70)


def test_continuation_names_fit_31_characters_and_never_repeat() -> None:
    base = "CC6.1-password-policy-for-production"
    taken = {base[:27] + " (2)"}
    name = continuation_name(base, 2, taken)
    assert len(name) <= 31 and name.lower() not in {t.lower() for t in taken}
    assert name.endswith("(2~2)")
    assert continuation_name("Findings", 12, ()) == "Findings (12)"


def test_rows_after_the_table_continue_without_its_header(tmp_path: Path) -> None:
    """A control's period section follows its population, across parts as needed."""
    book = Workbook(write_only=True)
    split = plan("T", 20, 3, (), "items", trailing=15, limit=12)
    first = book.create_sheet("T")
    first.append(["title"])
    first.append([])
    first.append(["header"])
    finished: list[tuple[str, int, int]] = []

    def preamble(sheet: Any, note: str) -> None:
        sheet.append(["continued"])
        sheet.append(["rows", note])

    writer = SplitWriter(
        split,
        first,
        lambda name, _top: book.create_sheet(name),
        lambda sheet: None,
        preamble,
        lambda sheet: ["header"],
        lambda sheet, top, end: finished.append((sheet.title, top, end)),
    )
    for n in range(1, 21):
        writer.append([f"item {n}"])
    for n in range(1, 16):
        writer.append([f"after {n}"])
    writer.close()
    book.save(tmp_path / "t.xlsx")
    reopened = load_workbook(tmp_path / "t.xlsx")
    values = {s.title: [r[0] for r in s.iter_rows(values_only=True)] for s in reopened}
    assert reopened.sheetnames == ["T", "T (2)", "T (3)", "T (4)", "T (5)"]
    assert all(len(v) <= 12 for v in values.values())
    items = [v for s in values.values() for v in s if v and v.startswith("item ")]
    after = [v for s in values.values() for v in s if v and v.startswith("after ")]
    assert items == [f"item {n}" for n in range(1, 21)]
    assert after == [f"after {n}" for n in range(1, 16)]
    # The header repeats only on parts that hold table rows; the filter spans just those.
    assert values["T (3)"][:4] == ["continued", "rows", None, "header"]
    assert "header" not in values["T (4)"] and "header" not in values["T (5)"]
    assert finished == [("T", 3, 12), ("T (2)", 4, 12), ("T (3)", 4, 7)]
    # The part where the table ends says its rows, then what follows; later parts say so.
    assert split.note(2).startswith("Rows 18 to 20 of the 20 items;")
    assert split.note(3).startswith("The section after the items, continued;")


@pytest.fixture
def many_users(aws: Aws, collect: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pack whose IAM-03 population, Findings and Sources each need several sheets."""
    for n in range(USERS):
        console_user(aws, f"user-{n:03d}", mfa=False)
    s3 = aws.client("s3")
    for n in range(BUCKETS):
        s3.create_bucket(Bucket=f"split-{n:02d}")
    monkeypatch.setattr(xlsx_split, "EXCEL_MAX_ROWS", LIMIT)
    run = collect("--only", "IAM-03", "--only", "TLS-01", "--region", "us-east-1")
    assert run.code == 1, run.err
    pack: Path = run.pack
    return pack


NOTE = re.compile(r"^Rows ([\d,]+) to ([\d,]+) of the ([\d,]+) (.+?);")


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _parts(book: Any, base: str) -> list[Any]:
    names = [base, *(n for n in book.sheetnames if re.fullmatch(re.escape(base) + r" \(\d+\)", n))]
    return [book[n] for n in names]


def _rows_on(sheet: Any) -> tuple[int, int, list[tuple[Any, ...]]]:
    """The note's first and last row, and the table rows the sheet holds."""
    end = sheet.max_row  # before reading: reading past it adds empty cells
    notes = [
        r[1]
        for r in sheet.iter_rows(max_row=min(40, end), max_col=2, values_only=True)
        if r[0] == "Rows on this sheet"
    ]
    (note,) = notes
    match = NOTE.match(note)
    assert match, note
    header, _ = table(sheet)
    rows = list(sheet.iter_rows(min_row=header + 1, max_row=end, values_only=True))
    return _number(match[1]), _number(match[2]), rows


def test_a_population_over_the_row_limit_continues_on_numbered_sheets(many_users: Path) -> None:
    pack = many_users
    results = json.loads((pack / "results.json").read_text())
    control = next(c for c in results["controls"] if c["id"] == "IAM-03")
    assert control["population"] >= USERS
    book = load_workbook(workbook_path(pack))
    parts = _parts(book, "IAM-03")
    assert len(parts) >= 3
    # Continuations come right after the first part, before the next control.
    start = book.sheetnames.index("IAM-03")
    assert book.sheetnames[start : start + len(parts)] == [p.title for p in parts]
    resources, expected_first = [], 1
    for part in parts:
        end = part.max_row
        assert end <= LIMIT, part.title
        first, last, rows = _rows_on(part)
        assert first == expected_first and last - first + 1 == len(rows), part.title
        header, headers = table(part)
        assert headers[:3] == ["Resource", "Detail", "Status"]
        assert re.fullmatch(f"A{header}:[A-Z]+{end}", part.auto_filter.ref), part.title
        ranges = {str(r.sqref) for r in part.conditional_formatting}
        assert f"C{header + 1}:C{end}" in ranges, part.title
        resources += [r[0] for r in rows]
        expected_first = last + 1
    assert resources == [i["resource"] for i in control["items"]]
    assert parts[1]["A1"].value == "IAM-03: Console users have MFA (continued)"
    # The result and evidence stay on the first part, where every link in the workbook points.
    first_block = [r[0] for r in parts[0].iter_rows(max_row=40, max_col=1, values_only=True)]
    assert "Result" in first_block and "Raw evidence (SHA-256)" in first_block
    summary_links = {
        c.value: c.hyperlink.location
        for row in book["Summary"].iter_rows()
        for c in row
        if c.hyperlink
    }
    assert summary_links["IAM-03"] == "'IAM-03'!A1"


def test_findings_and_sources_over_the_row_limit_continue_too(many_users: Path) -> None:
    pack = many_users
    results = json.loads((pack / "results.json").read_text())
    book = load_workbook(workbook_path(pack))
    findings = _parts(book, "Findings")
    assert len(findings) >= 2
    rows: list[tuple[Any, ...]] = []
    for part in findings:
        assert part.max_row <= LIMIT
        first, last, on_sheet = _rows_on(part)
        assert first == len(rows) + 1 and last == len(rows) + len(on_sheet)
        rows += on_sheet
        links = [c.hyperlink.location for r in part.iter_rows() for c in r if c.hyperlink]
        assert links and set(links) <= {"'IAM-03'!A1", "'TLS-01'!A1"}
    failing = [(c["id"], i["id"]) for c in results["controls"] for i in c["failing"]]
    assert [(r[0], r[11]) for r in rows if r[11]] == failing

    sources = _parts(book, "Sources")
    assert len(sources) >= 2
    calls = [row for part in sources for row in _rows_on(part)[2]]
    assert len(calls) == results["run"]["total_calls"]
    assert all(part.max_row <= LIMIT for part in sources)


def test_libreoffice_converts_a_split_workbook(many_users: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "soffice is part of the development machine (README: Testing)"
    path = workbook_path(many_users)
    out = tmp_path / "converted"
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(out / f"{path.stem}.pdf").pages)
    assert "IAM-03: Console users have MFA (continued)" in text
    assert "IAM-03 (2)" in text and "Findings (2)" in text and "Sources (2)" in text
    assert "user-129" in text
