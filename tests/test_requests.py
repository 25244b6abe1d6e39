"""The auditor's request list (PBC): `requests:` on controls, `collect --requests FILE` (CSV or
xlsx), the workbook's Requests sheet, and the requests nothing answers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from evidence.catalog.requests import load_request_list
from evidence.errors import ConfigError
from tests.conftest import Aws, write_controls
from tests.test_pack import small_company

CONTROLS = """  - id: IAM-01
    title: IAM password policy meets company policy
    criteria: [CC6.1]
    check: iam.password_policy
    requests: [PBC-12]
  - id: IAM-03
    title: Console users have MFA
    criteria: [CC6.1]
    check: iam.user_mfa
    requests: [PBC-12, PBC-31]
  - id: EC2-01
    title: EBS snapshots are private
    criteria: [CC6.1, CC6.6]
    check: ec2.snapshot_public
    requests: [PBC-77]
"""
REQUESTS = [
    ("PBC-12", "Provide evidence of how logical access to AWS is authenticated"),
    ("PBC-31", "Population of console users and their MFA status"),
    ("PBC-40", '=HYPERLINK("http://x") change tickets for the period'),
]


def write_csv(path: Path, rows: list[tuple[str, str]], header: str = "ID,Description") -> Path:
    lines = [header] + [f'{i},"{d.replace(chr(34), chr(34) * 2)}"' for i, d in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def write_xlsx(path: Path, rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # the auditor typed text, not a formula
    book.save(path)
    return path


def requests_sheet(pack: Path) -> list[tuple[Any, ...]]:
    (path,) = pack.glob("evidence_*.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-1] == "Requests"
    return [row for row in book["Requests"].iter_rows(values_only=True)]


def check_mapping(run: Any) -> None:
    block = run.results["requests"]
    mapped = {r["id"]: [c["id"] for c in r["controls"]] for r in block["requests"]}
    assert mapped == {
        "PBC-12": ["IAM-01", "IAM-03"],
        "PBC-31": ["IAM-03"],
        "PBC-40": [],
        "PBC-77": ["EC2-01"],
    }
    assert block["unanswered"] == ["PBC-40"] and block["not_listed"] == ["PBC-77"]
    assert (
        "Requests: 2 of 3 on the list answered by a control; not answered: PBC-40;"
        " named by controls but not on the list: PBC-77" in run.out
    )
    rows = requests_sheet(run.pack)
    header = rows.index(
        ("Request", "Description", "Control", "Title", "Status", "Sheet", "Evidence files")
    )
    table = rows[header + 1 :]
    assert [(r[0], r[2], r[4]) for r in table] == [
        ("PBC-12", "IAM-01", "PASS"),
        ("PBC-12", "IAM-03", "FAIL"),
        ("PBC-31", "IAM-03", "FAIL"),
        ("PBC-40", None, "NOT ANSWERED"),
        ("PBC-77", "EC2-01", "FAIL"),
    ]
    files = table[1][6].splitlines()
    assert files and all((run.pack / f).is_file() for f in files)
    assert ("Not answered", "PBC-40") in [r[:2] for r in rows[:header]]
    assert table[3][1] == REQUESTS[2][1]  # the auditor's text, kept as text


def test_requests_from_csv(aws: Aws, collect: Any, cli: Any, tmp_path: Path) -> None:
    small_company(aws)
    controls = write_controls(tmp_path / "controls.yaml", CONTROLS)
    pbc = write_csv(tmp_path / "pbc.csv", REQUESTS)
    run = collect("--region", "us-east-1", "--requests", str(pbc), controls=controls)
    assert run.code == 1, run.err
    check_mapping(run)
    # The list as received is in the pack, hashed like everything else.
    assert (run.pack / "requests" / "pbc.csv").read_bytes() == pbc.read_bytes()
    manifest = json.loads((run.pack / "manifest.json").read_text())
    assert "requests/pbc.csv" in {f["path"] for f in manifest["files"]}
    # The workbook keeps the auditor's "=..." text a string, never a formula.
    (path,) = run.pack.glob("evidence_*.xlsx")
    sheet = openpyxl.load_workbook(path)["Requests"]
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == REQUESTS[2][1])
    assert cell.data_type == "s"
    # An export rebuilds the same mapping offline.
    assert cli("export", str(run.pack)).code == 1
    (again,) = [p for p in run.output_dir.iterdir() if "_export_" in p.name]
    assert json.loads((again / "results.json").read_text())["requests"] == run.results["requests"]


def test_requests_from_xlsx(aws: Aws, collect: Any, tmp_path: Path) -> None:
    small_company(aws)
    controls = write_controls(tmp_path / "controls.yaml", CONTROLS)
    pbc = write_xlsx(
        tmp_path / "pbc.xlsx",
        [(i, "Q3", d) for i, d in REQUESTS],
        header=("Request ID", "Quarter", "Description"),
    )
    run = collect("--region", "us-east-1", "--requests", str(pbc), controls=controls)
    assert run.code == 2 and "pbc.xlsx:1: header: no 'id' column" in run.err
    pbc = write_xlsx(
        tmp_path / "pbc.xlsx",
        [(i, "Q3", d) for i, d in REQUESTS],
        header=("id", "Quarter", "DESCRIPTION"),
    )
    run = collect("--region", "us-east-1", "--requests", str(pbc), controls=controls)
    assert run.code == 1, run.err
    check_mapping(run)


def test_numeric_ids_typed_in_a_spreadsheet(tmp_path: Path) -> None:
    pbc = write_xlsx(
        tmp_path / "pbc.xlsx", [(12, "MFA"), (31.0, "keys"), (None, None)], ("Id", "Description")
    )
    assert [r.id for r in load_request_list(pbc).requests] == ["12", "31"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("pbc.csv", "id,what\nPBC-1,x\n", "pbc.csv:1: header: no 'description' column"),
        ("pbc.csv", "id,description\nPBC-1,x\n,y\n", "pbc.csv:3: id: empty"),
        (
            "pbc.csv",
            "id,description\nPBC-1,x\nPBC-1,y\n",
            "pbc.csv:3: id: duplicate 'PBC-1' (first on line 2)",
        ),
        ("pbc.csv", "id,description\n", "pbc.csv:1: no requests below the header row"),
        ("pbc.csv", b"id,description\n\xff\xfe\n", "pbc.csv: not UTF-8 text"),
        ("pbc.txt", "id,description\nPBC-1,x\n", "pbc.txt: a request list must be a .csv or .xlsx"),
        ("pbc.xlsx", "this is not a workbook", "pbc.xlsx: not a readable xlsx workbook"),
        (None, "", "missing.csv: file not found"),
    ],
)
def test_a_bad_request_list_is_one_line_and_exit_2(
    aws: Aws, collect: Any, tmp_path: Path, name: str | None, content: str | bytes, message: str
) -> None:
    controls = write_controls(tmp_path / "controls.yaml", CONTROLS)
    path = tmp_path / (name or "missing.csv")
    if name is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    run = collect("--region", "us-east-1", "--requests", str(path), controls=controls)
    assert run.code == 2
    assert message in run.err and len(run.err.strip().splitlines()) == 1
    assert "Traceback" not in run.err and run.packs == []


def _symlink_to_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()


def _sparse_11_mib(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(11 << 20)


def _too_many_rows(path: Path) -> None:
    write_csv(path, [(f"PBC-{n}", "x") for n in range(10_001)])


def _too_many_xlsx_rows(path: Path) -> None:
    write_xlsx(path, [(f"PBC-{n}", "x") for n in range(10_001)], ("id", "description"))


def _unclosed_quote(path: Path) -> None:
    path.write_text('id,description\nPBC-1,"unterminated\nPBC-2,x\n', encoding="utf-8")


def _unclosed_quote_later(path: Path) -> None:
    path.write_text('id,description\nPBC-1,x\nPBC-2,"a\nb\n', encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("zero.csv", _symlink_to_zero, "zero.csv: a device, not a regular file"),
        ("pipe.csv", _fifo, "pipe.csv: a FIFO (named pipe), not a regular file"),
        ("dir.csv", _folder, "dir.csv: a folder, not a regular file"),
        ("big.csv", _sparse_11_mib, "big.csv: larger than 10 MiB: not a request list"),
        ("rows.csv", _too_many_rows, "rows.csv:10002: more than 10,000 rows"),
        ("rows.xlsx", _too_many_xlsx_rows, "rows.xlsx:10002: more than 10,000 rows"),
        ("quote.csv", _unclosed_quote, "quote.csv:2: a quoted field is never closed"),
        ("later.csv", _unclosed_quote_later, "later.csv:3: a quoted field is never closed"),
    ],
)
def test_a_request_list_is_a_bounded_regular_file(
    cli: Any, tmp_path: Path, name: str, make: Any, message: str
) -> None:
    """A symlink to /dev/zero once grew the run to 22 GB; a FIFO would block it forever."""
    path = tmp_path / name
    make(path)
    with pytest.raises(ConfigError) as caught:
        load_request_list(path)
    assert message.split(": ", 1)[1] in str(caught.value)
    out = tmp_path / "out"
    run = cli("demo", "--output", str(out), "--requests", str(path))
    assert run.code == 2, run.err
    assert message in run.err and len(run.err.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_demo_checks_the_request_list_before_starting(cli: Any, tmp_path: Path) -> None:
    from tests.conftest import REPO_CONTROLS

    bad = write_csv(tmp_path / "pbc.csv", [], header="name,description")
    run = cli(
        "demo",
        "--controls",
        str(REPO_CONTROLS),
        "--output",
        str(tmp_path / "out"),
        "--requests",
        str(bad),
    )
    assert run.code == 2 and "pbc.csv:1: header: no 'id' column" in run.err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("PBC-1", "controls[0].requests: expected a non-empty list of request ids"),
        ("[12]", "controls[0].requests[0]: expected text (quote it)"),
        ("[PBC-1, PBC-1]", "controls[0].requests[1]: 'PBC-1' is listed twice"),
    ],
)
def test_requests_key_errors_name_line_and_field(tmp_path: Path, value: str, message: str) -> None:
    from evidence.catalog.loader import load_catalog

    path = write_controls(
        tmp_path / "controls.yaml",
        f"  - id: IAM-01\n    title: t\n    criteria: [CC6.1]\n    check: iam.password_policy\n"
        f"    requests: {value}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_catalog(path)
    assert str(caught.value) == f"{path}:8: {message}"
