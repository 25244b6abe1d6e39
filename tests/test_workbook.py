"""The auditor workbook, reopened with openpyxl and converted by a real spreadsheet application."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bench.bench_workbook import synthetic_pack
from evidence.exporters.common import sheet_names
from evidence.exporters.xlsx import write_workbook
from evidence.pack.builder import PackBuilder, sha256_file
from tests.conftest import ACCOUNT, CORE, Aws, collect_pack, emulated_aws, write_controls
from tests.faultproxy import FaultProxy
from tests.test_checks_ec2_rds import snapshot
from tests.test_checks_iam import console_user

FORMULA_LIKE_USERS = ("=1+2", "+svc", "-dash", "@ops")
FORMULA_LIKE_DESCRIPTION = '=HYPERLINK("http://attacker.example","click")'


@pytest.fixture(scope="module")
def seeded(moto_url: str, proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pack whose AWS data includes names and descriptions that look like formulas."""
    tmp = tmp_path_factory.mktemp("seeded")
    with emulated_aws(moto_url, proxy, tmp) as aws:
        for name in FORMULA_LIKE_USERS:
            console_user(aws, name, mfa=False)
        console_user(aws, "alice", mfa=True)
        ec2 = aws.client("ec2")
        volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)
        ec2.create_snapshot(VolumeId=volume["VolumeId"], Description=FORMULA_LIKE_DESCRIPTION)
        ec2.create_snapshot(VolumeId=volume["VolumeId"], Description="\tstarts with a tab")
        snapshot(aws, public=True)
        code, pack = collect_pack(tmp / "output", *CORE, "--region", "us-east-1")
    assert code == 1
    return pack


def workbook_path(pack: Path) -> Path:
    (path,) = pack.glob("evidence_*.xlsx")
    return path


def table(sheet: Any) -> tuple[int, list[str]]:
    """Row number and header names of the sheet's table (the row its panes are frozen under)."""
    row = int(sheet.freeze_panes[1:]) - 1
    return row, [c.value for c in sheet[row] if c.value is not None]


def test_workbook_sheets_links_types_and_colours(seeded: Path) -> None:
    pack = seeded
    path = workbook_path(pack)
    assert path.name == f"evidence_{pack.name}.xlsx"
    book = load_workbook(path)
    control_ids = ["IAM-01", "IAM-02", "IAM-03", "IAM-04", "EC2-01", "RDS-01", "RDS-02"]
    assert book.sheetnames == [
        "Summary",
        *control_ids,
        "Accounts",
        "Findings",
        "Exceptions",
        "Sources",
    ]
    assert book.properties.title.startswith("SOC 2 evidence: Example Corp")
    assert book.properties.creator.startswith("soc-evidence ")
    assert book.properties.subject and isinstance(book.properties.created, datetime)

    summary = book["Summary"]
    block = {summary.cell(r, 1).value: summary.cell(r, 2).value for r in range(1, 20)}
    assert block["Accounts"] == ACCOUNT
    assert block["Caller ARN"].startswith("arn:aws:")
    assert isinstance(block["As of (UTC)"], datetime)
    assert block["results.json SHA-256"] == sha256_file(pack / "results.json")
    header_row, headers = table(summary)
    assert headers == [
        "Control",
        "Title",
        "Criteria",
        "References",
        "Status",
        "Population",
        "Failing",
        "Errors",
        "Sheet",
    ]
    assert summary.auto_filter.ref.startswith(f"A{header_row}:")
    rows = {summary.cell(r, 1).value: r for r in range(header_row + 1, header_row + 8)}
    iam03 = summary.cell(rows["IAM-03"], 1)
    assert iam03.hyperlink.location == "'IAM-03'!A1"
    status = summary.cell(rows["IAM-03"], 5)
    assert status.value == "FAIL" and status.fill.fgColor.rgb.endswith("FFC7CE")
    passing = summary.cell(rows["RDS-01"], 5)
    assert passing.value == "PASS" and passing.fill.fgColor.rgb.endswith("C6EFCE")

    sheet = book["IAM-03"]
    header_row, headers = table(sheet)
    assert headers[:7] == ["Resource", "Detail", "Status", "Account", "Region", "ARN", "Id"]
    assert sheet.auto_filter.ref.startswith(f"A{header_row}:")
    labels = [sheet.cell(r, 1).value for r in range(1, header_row)]
    for label in (
        "Test procedure",
        "API operations used",
        "Collected (UTC)",
        "Source timestamps",
        "Population",
        "Raw evidence (SHA-256)",
    ):
        assert label in labels
    ops = sheet.cell(labels.index("API operations used") + 1, 2).value
    assert "iam:GetCredentialReport" in ops
    population = {sheet.cell(r, 1).value: r for r in range(header_row + 1, sheet.max_row + 1)}
    assert set(population) == {"alice", *FORMULA_LIKE_USERS}
    assert sheet.cell(population["=1+2"], 3).value == "FAIL"
    # Status colours and failing rows: conditional formatting over the whole table.
    last_row = sheet.max_row
    rules = {str(cf.sqref): cf.rules for cf in sheet.conditional_formatting}
    status_rules = rules[f"C{header_row + 1}:C{last_row}"]
    colours = {r.formula[0]: r.dxf.fill.fgColor.rgb[-6:] for r in status_rules}
    assert colours['"FAIL"'] == "FFC7CE" and colours['"PASS"'] == "C6EFCE"
    assert colours['"ERROR"'] == "FFEB9C" and colours['"MANUAL"'] == "D9D9D9"
    (row_rule,) = next(v for k, v in rules.items() if k.startswith(f"A{header_row + 1}:"))
    assert row_rule.formula == [f'$C{header_row + 1}="FAIL"']
    assert row_rule.dxf.fill.fgColor.rgb.endswith("FDE9E9")  # failing rows stand out
    created = headers.index("user_created (UTC)") + 1  # date-time columns say UTC
    assert isinstance(sheet.cell(population["alice"], created).value, datetime)
    assert "mfa_active" in headers  # not a date-time: no (UTC)


def test_no_cell_holds_a_formula_made_from_aws_data(seeded: Path) -> None:
    book = load_workbook(workbook_path(seeded))
    texts: dict[str, Any] = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}: {cell.value}"
                if isinstance(cell.value, str):
                    texts.setdefault(cell.value, cell)
    for value in (*FORMULA_LIKE_USERS, FORMULA_LIKE_DESCRIPTION, "\tstarts with a tab"):
        assert value in texts, value
        assert texts[value].data_type == "s"
        assert texts[value].quotePrefix, value


def test_findings_and_sources_sheets(seeded: Path) -> None:
    pack = seeded
    book = load_workbook(workbook_path(pack))
    findings = book["Findings"]
    header = [c.value for c in findings[1]]
    assert header == [
        "Control",
        "Title",
        "Account",
        "Region",
        "Resource",
        "ARN",
        "Detail",
        "Status",
        "Owner",
        "Remediation",
        "Ticket",
        "Item id",
        "Key attributes",
        "Evidence (raw/<account>/<region>/ file, call # or row)",
    ]
    assert findings.freeze_panes == "A2"
    results = json.loads((pack / "results.json").read_text())
    expected = [
        (c["id"], i["resource"], i["id"]) for c in results["controls"] for i in c["failing"]
    ]
    rows = [(r[0].value, r[4].value, r[11].value) for r in findings.iter_rows(min_row=2)]
    assert rows == expected and len(rows) >= 6
    assert all(r[8].value is None and r[10].value is None for r in findings.iter_rows(min_row=2))
    # What an owner needs to act: the check's declared attributes, and where the evidence is.
    by_resource = {r[4].value: r for r in findings.iter_rows(min_row=2)}
    user = by_resource["=1+2"]
    assert "User created: 20" in user[12].value
    assert user[13].value.startswith("iam.credential_report.json call ")
    assert "; iam.credential_report.csv row " in user[13].value
    public = next(r for r in findings.iter_rows(min_row=2) if r[0].value == "EC2-01")
    assert "Volume ID: vol-" in public[12].value and "Volume size (GiB): " in public[12].value
    assert public[13].value.startswith("ec2.snapshots.json call ")

    sources = book["Sources"]
    header = [c.value for c in sources[1]]
    assert header[0] == "Time (UTC)" and header[-1] == "Raw file SHA-256"
    assert header[10:12] == ["Raw file", "Call #"]
    calls = list(sources.iter_rows(min_row=2, values_only=True))
    assert len(calls) == results["run"]["total_calls"]
    for row in calls:
        assert isinstance(row[0], datetime)
        assert row[12] == sha256_file(pack / row[10])
        raw = json.loads((pack / row[10]).read_text())
        (call,) = [c for c in raw["calls"] if c["seq"] == row[11]]
        assert call["operation"] == row[4]
    operations = {row[4] for row in calls}
    assert {"GetCallerIdentity", "GetCredentialReport", "DescribeSnapshotAttribute"} <= operations


def test_sheet_names_are_unique_and_short_however_long_the_ids() -> None:
    ids = ["A" * 40, "A" * 40 + "-2", "Summary", "x[1]:y/z", "a" * 31, "A" * 31]
    names = sheet_names(ids)
    assert len(set(n.lower() for n in names)) == len(names)
    assert all(len(n) <= 31 for n in names)
    assert "Summary" not in names
    assert not any(ch in n for n in names for ch in "[]:*?/\\")


def test_long_control_ids_in_a_real_pack(aws: Aws, collect: Any, tmp_path: Path) -> None:
    long_id = "CC6.1-password-policy-for-the-production-organisation"
    body = "".join(
        f"""\
  - id: {long_id}-{n}
    title: Password policy {n}
    criteria: [CC6.1]
    check: iam.password_policy
"""
        for n in (1, 2)
    )
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    book = load_workbook(workbook_path(run.pack))
    assert len(book.sheetnames) == 7
    assert all(len(n) <= 31 for n in book.sheetnames)
    summary = book["Summary"]
    links = [c.hyperlink.location for row in summary.iter_rows() for c in row if c.hyperlink]
    assert len(links) == 2 and len(set(links)) == 2
    for link in links:
        assert link.split("!")[0].strip("'") in book.sheetnames


def test_libreoffice_opens_the_workbook(seeded: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("CI") == "true":
            pytest.fail("soffice is missing: .ci/run installs libreoffice-calc-nogui")
        pytest.skip("LibreOffice not installed")
    path = workbook_path(seeded)
    out = tmp_path / "converted"
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    pdf = out / (path.stem + ".pdf")
    assert pdf.is_file() and pdf.stat().st_size > 10_000
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    text = "".join(page.extract_text() for page in reader.pages)
    assert "IAM-03" in text and "Example Corp" in text
    # Printed as set: landscape pages, each with the pack and sheet in its header and
    # "Page x of y" in its footer.
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, 1):
        box = page.mediabox
        assert box.width > box.height
        page_text = page.extract_text()
        assert seeded.name in page_text and f"Page {number} of {total}" in page_text
    assert "Summary" in reader.pages[0].extract_text()


def test_every_sheet_prints_landscape_fitted_to_width_with_titles_header_and_footer(
    seeded: Path,
) -> None:
    book = load_workbook(workbook_path(seeded))
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape", sheet.title
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        header_row = int(sheet.freeze_panes[1:]) - 1  # the table's header row
        assert sheet.print_title_rows == f"${header_row}:${header_row}", sheet.title
        assert sheet.oddHeader.left.text == seeded.name  # the pack
        assert sheet.oddHeader.right.text == "&A"  # the sheet's name
        assert sheet.oddFooter.right.text == "Page &P of &N"


def test_summary_has_the_status_chart_over_the_status_counts(seeded: Path) -> None:
    results = json.loads((seeded / "results.json").read_text())
    summary = load_workbook(workbook_path(seeded))["Summary"]
    (chart,) = summary._charts
    (series,) = chart.series
    values = series.val.numRef.f  # e.g. 'Summary'!$F$2:$F$6
    categories = series.cat.strRef.f if series.cat.strRef else series.cat.numRef.f
    cells = summary[values.split("!")[1].replace("$", "")]
    names = summary[categories.split("!")[1].replace("$", "")]
    counts = {n[0].value.lower(): c[0].value for n, c in zip(names, cells, strict=True)}
    assert counts == {s: results["summary"].get(s, 0) for s in counts}
    assert set(counts) == {"pass", "fail", "error", "manual", "exception"}
    assert len(series.dPt) == 5  # each status its own colour
    # Within the table's columns (A:I), beside the run block: the sheet prints at its table's scale.
    anchor = chart.anchor._from
    assert (anchor.col, anchor.row) == (2, 0)  # C1


def test_population_rows_point_to_their_evidence(seeded: Path) -> None:
    book = load_workbook(workbook_path(seeded))
    sheet = book["EC2-01"]
    header_row, headers = table(sheet)
    column = headers.index("Evidence (raw/<account>/<region>/ file, call # or row)") + 1
    for row in range(header_row + 1, sheet.max_row + 1):
        snapshot_id = sheet.cell(row, 1).value
        pointer = sheet.cell(row, column).value
        name, calls = pointer.split(" call ")
        raw = json.loads((seeded / "raw" / ACCOUNT / "us-east-1" / name).read_text())
        for seq in calls.split(", "):
            (call,) = [c for c in raw["calls"] if c["seq"] == int(seq)]
            assert snapshot_id in json.dumps(call)


def test_text_of_any_length_in_the_workbook(tmp_path: Path) -> None:
    from tests.test_pdf import extreme_document

    document, run = extreme_document()
    with PackBuilder(tmp_path) as pack:
        synthetic_pack(pack, run)
        path = pack.dir / write_workbook(pack, document, run)
    book = load_workbook(path)
    summary = book["Summary"]
    assert summary["B1"].value.startswith("ORGANISATION-START")
    sheet = book["EC2-01"]
    description = sheet["B3"].value
    assert description.startswith("DESCRIPTION-START") and description.endswith("DESCRIPTION-END")
    for sheet in book.worksheets:
        for row, dimension in sheet.row_dimensions.items():
            assert dimension.height is None or dimension.height <= 409, (sheet.title, row)
        for cells in sheet.iter_rows():
            for value in cells:
                assert not isinstance(value.value, str) or len(value.value) <= 32_767


def test_workbooks_in_one_process_keep_their_own_styles() -> None:
    """A freed workbook's id can be reused by the next one; its cached styles must not be (they
    index into the old workbook's style tables: IndexError on save)."""
    import gc
    import io

    from openpyxl import Workbook

    from evidence.exporters.xlsx_cells import LABEL_FONT, WRAP, cell

    for _ in range(20):
        for styles in ({"font": LABEL_FONT}, {"alignment": WRAP}):
            book = Workbook(write_only=True)
            sheet = book.create_sheet("x")
            sheet.append([cell(sheet, "a", **styles), cell(sheet, "b", alignment=WRAP)])
            book.save(io.BytesIO())
            del book, sheet
            gc.collect()
