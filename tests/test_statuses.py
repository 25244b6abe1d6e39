"""Honest statuses: failing-and-incomplete, manual with nothing attached, and supplementary
attachments on a checked control, shown alike in results.json, the terminal, README.txt, the
workbook and the PDF."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from evidence.pack.builder import sha256_file
from tests.conftest import ACCOUNT, Aws, write_controls
from tests.test_checks_ec2_rds import snapshot

SNAPSHOTS = """\
  - id: EC2-01
    title: EBS snapshots are private
    criteria: [CC6.1]
    check: ec2.snapshot_public
"""
MANUAL = """\
  - id: MAN-1
    title: Access requests approved
    criteria: [CC6.2]
    check: manual
    attachments: [evidence/approvals.csv]
  - id: MAN-2
    title: Patching
    criteria: [CC7.1]
    check: manual
"""

MANUAL_EMPTY = MANUAL[MANUAL.index("  - id: MAN-2") :]


def pdf_text(pack: Path) -> list[str]:
    (path,) = pack.glob("evidence_*.pdf")
    return [page.extract_text() for page in PdfReader(path).pages]


def summary_rows(pack: Path) -> dict[str, list[Any]]:
    (path,) = pack.glob("evidence_*.xlsx")
    sheet = load_workbook(path)["Summary"]
    header = int(sheet.freeze_panes[1:]) - 1
    return {r[0].value: list(r) for r in sheet.iter_rows(min_row=header + 1)}


def test_failing_and_partly_collected_is_fail_incomplete_everywhere(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    public = snapshot(aws, "us-east-1", public=True)
    aws.proxy.fail("DescribeSnapshots", "UnauthorizedOperation", status=403, region="eu-west-1")
    controls = write_controls(tmp_path / "controls.yaml", SNAPSHOTS)
    run = collect("--region", "us-east-1", "--region", "eu-west-1", controls=controls)
    control = run.control("EC2-01")
    assert run.code == 3
    assert (control["status"], control["incomplete"]) == ("fail", True)
    assert [i["resource"] for i in control["failing"]] == [public]
    (error,) = control["errors"]
    assert (error["region"], error["operation"], error["code"]) == (
        "eu-west-1",
        "DescribeSnapshots",
        "UnauthorizedOperation",
    )
    assert run.results["flags"]["incomplete"] == 1
    # Terminal and README.txt.
    assert "FAIL - INCOMPLETE" in run.out
    assert "1 control: 1 fail (1 incomplete)" in run.out
    assert "1 fail (1 incomplete)" in (run.pack / "README.txt").read_text()
    # Workbook: the status label, the Errors column, and the error among the findings.
    row = summary_rows(run.pack)["EC2-01"]
    assert (row[4].value, row[7].value) == ("FAIL - INCOMPLETE", 1)
    assert row[4].fill.fgColor.rgb.endswith("FFC7CE")
    (path,) = run.pack.glob("evidence_*.xlsx")
    findings = [[c.value for c in r] for r in load_workbook(path)["Findings"].iter_rows(min_row=2)]
    assert [(f[3], f[4], f[7]) for f in findings] == [
        ("us-east-1", public, "FAIL"),
        ("eu-west-1", "DescribeSnapshots", "ERROR"),
    ]
    assert findings[1][2] == ACCOUNT and "UnauthorizedOperation" in findings[1][6]
    # PDF: the summary has an Errors column and says incomplete.
    summary = next(t for t in pdf_text(run.pack) if t.startswith("Summary"))
    assert "Errors" in summary and "FAIL - INCOMPLETE" in summary
    assert "1 fail (1 incomplete)" in summary


def test_failing_with_everything_collected_is_not_incomplete(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    snapshot(aws, "us-east-1", public=True)
    run = collect(controls=write_controls(tmp_path / "controls.yaml", SNAPSHOTS))
    control = run.control("EC2-01")
    assert (run.code, control["status"], control["incomplete"]) == (1, "fail", False)
    assert "INCOMPLETE" not in run.out and "incomplete" not in run.out


def test_manual_with_nothing_attached_says_so_and_is_counted(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "approvals.csv").write_text("ticket,approver\nIT-1,m.lee\n")
    run = collect(controls=write_controls(tmp_path / "controls.yaml", MANUAL))
    attached, empty = run.control("MAN-1"), run.control("MAN-2")
    assert (attached["status"], attached["evidence_missing"]) == ("manual", False)
    assert (empty["status"], empty["evidence_missing"]) == ("manual", True)
    assert run.results["flags"]["evidence_missing"] == 1
    assert run.code == 0
    lines = {line.split()[0]: line for line in run.out.splitlines() if line.startswith("MAN-")}
    assert "MANUAL - NO EVIDENCE" in lines["MAN-2"]
    assert "NO EVIDENCE" not in lines["MAN-1"]
    assert "2 controls: 2 manual (1 with no evidence)" in run.out
    readme = (run.pack / "README.txt").read_text()
    assert "MANUAL - NO EVIDENCE (procedural control with nothing attached" in readme.replace(
        "\n", " "
    )
    rows = summary_rows(run.pack)
    assert rows["MAN-2"][4].value == "MANUAL - NO EVIDENCE"
    assert rows["MAN-2"][4].fill.fgColor.rgb.endswith("F8CBAD")  # not the neutral grey
    assert rows["MAN-1"][4].fill.fgColor.rgb.endswith("D9D9D9")
    summary = next(t for t in pdf_text(run.pack) if t.startswith("Summary"))
    flat = summary.replace("\n", " ")
    assert "MANUAL - NO EVIDENCE" in flat and "2 manual (1 with no evidence)" in flat
    # The legend no longer claims evidence is attached when it is not.
    assert "MANUAL (procedural control, evidence attached)" not in flat
    assert "MANUAL - NO EVIDENCE (procedural control with nothing attached" in flat


def test_no_evidence_is_drawn_in_its_own_colour(aws: Aws, collect: Any, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is missing: .ci/run installs poppler-utils")
        pytest.skip("pdftoppm not installed")
    run = collect(controls=write_controls(tmp_path / "controls.yaml", MANUAL_EMPTY))
    assert run.control("MAN-2")["evidence_missing"] is True
    (path,) = run.pack.glob("evidence_*.pdf")
    texts = pdf_text(run.pack)
    page = next(n for n, t in enumerate(texts, 1) if t.startswith("Summary"))
    prefix = tmp_path / "summary"
    subprocess.run(
        ["pdftoppm", "-r", "60", "-f", str(page), "-l", str(page), "-png", str(path), str(prefix)],
        check=True,
    )
    (image,) = tmp_path.glob("summary*.png")
    pixels = {colour: n for n, colour in Image.open(image).convert("RGB").getcolors(1 << 20) or []}
    assert pixels.get((0xF8, 0xCB, 0xAD), 0) > 100  # the no-evidence chip, filled
    assert pixels.get((0xD9, 0xD9, 0xD9), 0) < 100  # no neutral grey chip (anti-aliasing aside)


def test_attachments_on_a_checked_control_are_copied_hashed_and_listed(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    aws.client("iam").update_account_password_policy(
        MinimumPasswordLength=14,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        MaxPasswordAge=90,
    )
    (tmp_path / "idp").mkdir()
    lockout = tmp_path / "idp" / "okta-lockout-policy.json"
    lockout.write_text('{"lockout": {"maxAttempts": 5}}')
    body = """\
  - id: IAM-01
    title: Password policy
    criteria: [CC6.1]
    check: iam.password_policy
    attachments: [idp/okta-lockout-policy.json]
"""
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    control = run.control("IAM-01")
    assert (run.code, control["status"], control["evidence_missing"]) == (0, "pass", False)
    copied = run.pack / "attachments" / "IAM-01" / "okta-lockout-policy.json"
    assert copied.read_bytes() == lockout.read_bytes()
    digest = sha256_file(copied)
    assert control["attachments"] == [
        {
            "file": "idp/okta-lockout-policy.json",
            "path": "attachments/IAM-01/okta-lockout-policy.json",
            "sha256": digest,
        }
    ]
    assert {"path": "attachments/IAM-01/okta-lockout-policy.json", "sha256": digest}.items() <= (
        control["evidence"][-1].items()
    )
    manifest = json.loads((run.pack / "manifest.json").read_text())
    assert {"path": "attachments/IAM-01/okta-lockout-policy.json", "sha256": digest}.items() <= (
        next(f for f in manifest["files"] if f["path"].startswith("attachments/")).items()
    )
    section = "\n".join(t for t in pdf_text(run.pack) if "IAM-01: Password policy" in t)
    assert "Attached evidence (1)" in section
    assert "attachments/IAM-01/okta-lockout-policy.json" in section.replace("\n", "")
    (path,) = run.pack.glob("evidence_*.xlsx")
    sheet = load_workbook(path)["IAM-01"]
    labels = {sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in range(1, 30)}
    assert labels["Attached evidence"] == (
        "idp/okta-lockout-policy.json -> attachments/IAM-01/okta-lockout-policy.json"
    )
    # Re-evaluated offline, the attachment is still there and still listed.
    exported = cli("export", str(run.pack), "--output", str(tmp_path / "exports"))
    assert exported.control("IAM-01")["attachments"] == control["attachments"]


def test_a_missing_supplementary_attachment_is_named_never_a_pass(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    body = """\
  - id: IAM-02
    title: Root MFA
    criteria: [CC6.1]
    check: iam.root_mfa
    attachments: [evidence/root-mfa-screenshot.png]
"""
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    control = run.control("IAM-02")
    assert run.code == 3 and control["status"] in ("error", "fail")
    assert any(
        e["message"] == "evidence/root-mfa-screenshot.png was not found when the pack was built"
        for e in control["errors"]
    )
