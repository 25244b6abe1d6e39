"""Manual (procedural) controls: attachments copied into the pack, hashed, missing ones named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from evidence.pack.builder import sha256_file
from tests.conftest import Aws, write_controls

MANUAL = """\
  - id: MAN-1
    title: Access requests approved
    criteria: [CC6.2]
    check: manual
    attachments: [evidence/access-requests-q3.pdf, evidence/approvals.csv]
  - id: MAN-2
    title: Patching
    criteria: [CC7.1]
    check: manual
"""


def test_attachments_are_copied_hashed_and_listed(aws: Aws, collect: Any, tmp_path: Path) -> None:
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "access-requests-q3.pdf").write_bytes(b"%PDF-1.4 signed forms")
    (tmp_path / "evidence" / "approvals.csv").write_text("ticket,approver\nIT-1,m.lee\n")
    run = collect(controls=write_controls(tmp_path / "controls.yaml", MANUAL))
    assert run.code == 0
    control = run.control("MAN-1")
    assert (control["status"], control["population"], control["errors"]) == ("manual", 2, [])
    copied = run.pack / "attachments" / "MAN-1" / "approvals.csv"
    assert copied.read_text() == "ticket,approver\nIT-1,m.lee\n"
    assert control["evidence"][1] == {
        "path": "attachments/MAN-1/approvals.csv",
        "sha256": sha256_file(copied),
        "collected": None,
        "source_time": None,
    }
    manifest = json.loads((run.pack / "manifest.json").read_text())
    assert "attachments/MAN-1/access-requests-q3.pdf" in {f["path"] for f in manifest["files"]}
    empty = run.control("MAN-2")
    assert empty["status"] == "manual"
    assert "No evidence is attached yet" in empty["notes"][-1]
    (pdf,) = run.pack.glob("evidence_*.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Attached evidence (2)" in text and "None attached yet." in text
    assert "attachments/MAN-1/approvals.csv" in text


def test_a_missing_attachment_is_an_error_naming_the_path(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "approvals.csv").write_text("x")
    run = collect(controls=write_controls(tmp_path / "controls.yaml", MANUAL))
    assert run.code == 3
    control = run.control("MAN-1")
    assert control["status"] == "error"
    assert control["errors"][0]["message"] == (
        "evidence/access-requests-q3.pdf was not found when the pack was built"
    )


def test_every_label_the_terminal_shows_is_explained_in_the_legend(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    """A manual control whose declared files are all missing reads ERROR - NO EVIDENCE; the
    legend (README.txt, README.md's status list) once explained only MANUAL - NO EVIDENCE."""
    run = collect(controls=write_controls(tmp_path / "controls.yaml", MANUAL))
    assert run.code == 3
    line = next(line for line in run.out.splitlines() if line.startswith("MAN-1"))
    assert "ERROR - NO EVIDENCE" in line
    readme = " ".join((run.pack / "README.txt").read_text().split())
    assert "ERROR - NO EVIDENCE (procedural control whose attached files are all missing" in readme
    repo_readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    assert "`ERROR - NO EVIDENCE`: every attached file is missing" in repo_readme


def test_export_keeps_the_attachments(aws: Aws, collect: Any, cli: Any, tmp_path: Path) -> None:
    (tmp_path / "evidence").mkdir()
    for name in ("access-requests-q3.pdf", "approvals.csv"):
        (tmp_path / "evidence" / name).write_text(name)
    pack = collect(controls=write_controls(tmp_path / "controls.yaml", MANUAL)).pack
    exported = cli("export", str(pack)).pack
    assert (exported / "attachments" / "MAN-1" / "approvals.csv").read_text() == "approvals.csv"
    assert json.loads((exported / "results.json").read_text())["controls"][0]["status"] == "manual"
