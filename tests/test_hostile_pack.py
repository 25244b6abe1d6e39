"""Packs against hostile hands and failing code: permissions, links, damaged seals, an exporter
that raises, and an interruption after the seal."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from evidence.assemble.finish import PackOutcome
from evidence.audit.export import export_pack
from evidence.collect.run import CollectRequest, collect
from evidence.exporters.pdf import write_pdf
from evidence.exporters.xlsx import write_workbook
from evidence.pack.builder import SHARE_MODES, PackBuilder, SealedPacks, sha256_file
from evidence.pack.runinfo import RunInfo
from tests.conftest import REPO, REPO_CONTROLS, Aws, write_controls

ONE = ("--only", "IAM-01")


def _modes(pack: Path) -> tuple[set[int], set[int]]:
    folders = {stat.S_IMODE(pack.stat().st_mode)}
    files: set[int] = set()
    for path in pack.rglob("*"):
        (folders if path.is_dir() else files).add(stat.S_IMODE(path.stat().st_mode))
    return folders, files


# ---------------------------------------------------------------- permissions


def test_a_pack_is_private_by_default_attachments_included(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    (tmp_path / "evidence").mkdir()
    attached = tmp_path / "evidence" / "review.csv"
    attached.write_text("reviewed,by\n")
    attached.chmod(0o644)
    body = """\
  - id: MAN-1
    title: Access reviews
    criteria: [CC6.2]
    check: manual
    attachments: [evidence/review.csv]
  - id: PW-1
    title: Passwords
    criteria: [CC6.1]
    check: iam.password_policy
"""
    run = collect(controls=write_controls(tmp_path / "controls.yaml", body))
    assert (run.pack / "attachments" / "MAN-1" / "review.csv").is_file()
    assert _modes(run.pack) == ({0o700}, {0o600})


@pytest.mark.parametrize(
    ("mode", "folders", "files"), [("group", 0o750, 0o640), ("world", 0o755, 0o644)]
)
def test_share_mode_widens_every_folder_and_file(
    aws: Aws, collect: Any, cli: Any, mode: str, folders: int, files: int
) -> None:
    run = collect(*ONE, "--share-mode", mode)
    assert _modes(run.pack) == ({folders}, {files})
    exported = cli("export", str(run.pack), "--share-mode", "private")
    assert _modes(exported.pack) == ({0o700}, {0o600})  # copied raw/ included


# ---------------------------------------------------------------- verify: links and the seal


def test_a_file_replaced_by_a_link_to_an_identical_copy_is_a_change(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    pack = collect(*ONE).pack
    copy = tmp_path / "copy-of-results.json"
    copy.write_bytes((pack / "results.json").read_bytes())
    (pack / "results.json").unlink()
    (pack / "results.json").symlink_to(copy)
    run = cli("verify", str(pack))
    assert run.code == 1
    assert "changed: results.json (replaced by a symbolic link)" in run.out


def test_an_added_link_and_a_linked_folder_are_changes(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    pack = collect(*ONE).pack
    (pack / "extra").symlink_to("/etc/hostname")
    raw_account = next(p for p in (pack / "raw").iterdir() if p.is_dir())
    outside = tmp_path / "raw-copy"
    os.rename(raw_account, outside)
    raw_account.symlink_to(outside, target_is_directory=True)
    run = cli("verify", str(pack))
    assert run.code == 1
    assert "added: extra (a symbolic link)" in run.out
    assert f"added: raw/{raw_account.name} (a symbolic link)" in run.out
    assert f"missing: raw/{raw_account.name}/global/iam.password_policy.json" in run.out


@pytest.mark.parametrize("damage", ["missing", "not-json", "no-files", "link", "outside-path"])
def test_a_damaged_or_missing_manifest_is_a_change_not_a_stranger(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path, damage: str
) -> None:
    pack = collect(*ONE).pack
    manifest = pack / "manifest.json"
    original = manifest.read_text()
    if damage == "missing":
        manifest.unlink()
    elif damage == "not-json":
        manifest.write_text(original[:-20])
    elif damage == "no-files":
        manifest.write_text(json.dumps({"pack": pack.name}))
    elif damage == "link":
        (tmp_path / "m.json").write_text(original)
        manifest.unlink()
        manifest.symlink_to(tmp_path / "m.json")
    else:
        data = json.loads(original)
        data["files"].append({"path": "../outside.txt", "size": 1, "sha256": "0" * 64})
        manifest.write_text(json.dumps(data))
    (pack / "README.txt").write_text("edited")  # still found, through SHA256SUMS
    run = cli("verify", str(pack))
    assert run.code == 1, run.out + run.err
    assert (
        "missing: manifest.json" if damage == "missing" else "changed: manifest.json"
    ) in run.out
    assert "changed: README.txt" in run.out


def test_a_folder_with_nothing_of_a_pack_is_still_not_a_pack(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{")
    assert cli("verify", str(tmp_path)).code == 2


def test_readme_says_truthfully_what_sha256sum_checks_and_what_only_verify_does(
    aws: Aws, collect: Any, cli: Any
) -> None:
    pack = collect(*ONE).pack
    readme = (pack / "README.txt").read_text()
    assert "does not notice a file added" in readme
    assert "follows symbolic links" in readme
    assert "detects added files" not in readme and "any changed, missing or added" not in readme
    (pdf,) = pack.glob("evidence_*.pdf")
    appendix = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    assert "It does not notice a file added to the folder" in appendix  # the PDF says the same
    # ...and that is what happens: an added file passes sha256sum -c, not verify.
    (pack / "added.txt").write_text("slipped in")
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=pack, capture_output=True)
    assert sums.returncode == 0
    assert cli("verify", str(pack)).code == 1


# ---------------------------------------------------------------- an exporter that fails


def write_broken(pack: PackBuilder, document: dict[str, Any], run: RunInfo) -> str:
    """An exporter that writes half a file and then raises, as a layout bug would."""
    (pack.dir / "broken.pdf").write_bytes(b"%PDF-1.4 half")
    raise RuntimeError("Flowable too large\nfor the frame")


def test_a_failing_exporter_still_seals_the_pack_and_export_rebuilds_it(
    aws: Aws, tmp_path: Path, cli: Any
) -> None:
    request = CollectRequest(
        controls_path=REPO_CONTROLS,
        output_dir=tmp_path / "output",
        only=("IAM-01", "IAM-03"),
        exporters=(write_broken, write_workbook),
    )
    outcome: PackOutcome = collect(request)
    pack = outcome.path
    assert outcome.exit_code == 3
    assert cli("verify", str(pack)).code == 0
    results = json.loads((pack / "results.json").read_text())
    assert results["export_failures"] == [
        {
            "exporter": "broken",
            "error": "RuntimeError: Flowable too large for the frame",
            "rebuild": f"soc-evidence export {pack.name}",
        }
    ]
    assert [c["id"] for c in results["controls"]] == ["IAM-01", "IAM-03"]
    assert list(pack.glob("raw/*/global/*.json"))
    assert not (pack / "broken.pdf").exists()  # the partial file is not left behind
    readme = (pack / "README.txt").read_text()
    assert "NOT WRITTEN" in readme and "broken: RuntimeError" in readme
    assert f"soc-evidence export {pack.name}" in readme
    # The workbook that did work cites results.json as sealed (it was rebuilt after the failure).
    (workbook,) = pack.glob("evidence_*.xlsx")
    summary = load_workbook(workbook, read_only=True)["Summary"]
    cells = {str(c) for row in summary.iter_rows(values_only=True) for c in row if c}
    assert sha256_file(pack / "results.json") in cells

    rebuilt = export_pack(pack, tmp_path / "exports", datetime.now(UTC))
    assert rebuilt.exit_code != 3 or rebuilt.results["controls"] != results["controls"]
    assert rebuilt.results["export_failures"] == []
    assert list(rebuilt.path.glob("evidence_*.pdf")) and list(rebuilt.path.glob("evidence_*.xlsx"))


def test_every_exporter_failing_still_keeps_the_evidence(aws: Aws, tmp_path: Path) -> None:
    def write_also_broken(pack: PackBuilder, document: dict[str, Any], run: RunInfo) -> str:
        raise MemoryError("no room") from None

    request = CollectRequest(
        controls_path=REPO_CONTROLS,
        output_dir=tmp_path / "output",
        only=("IAM-01",),
        exporters=(write_broken, write_also_broken, write_pdf),
    )
    outcome = collect(request)
    assert outcome.exit_code == 3
    labels = [f["exporter"] for f in outcome.results["export_failures"]]
    assert labels == ["broken", "also_broken"]
    assert list(outcome.path.glob("evidence_*.pdf"))


# ---------------------------------------------------------------- interrupted after the seal


def test_the_ledger_names_a_pack_only_once_it_is_in_place(tmp_path: Path) -> None:
    sealed = SealedPacks()
    pack = PackBuilder(tmp_path, SHARE_MODES["private"], sealed)
    pack.write_bytes("results.json", b"{}")
    assert sealed.sealed() == []
    final = pack.seal("pack", "2026-01-01T00:00:00Z")
    assert sealed.sealed() == [final]


def test_ctrl_c_after_the_demo_sealed_its_pack_tells_one_story(tmp_path: Path) -> None:
    output = tmp_path / "output"
    process = subprocess.Popen(
        [sys.executable, "-m", "evidence", "demo", "--only", "IAM-01", "--output", str(output)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if output.is_dir() and any(not p.name.startswith(".") for p in output.iterdir()):
            # The pack is sealed and the emulator is still running: freeze the process where it
            # is so that Ctrl-C lands after the seal, not after the end.
            process.send_signal(signal.SIGSTOP)
            process.send_signal(signal.SIGINT)
            process.send_signal(signal.SIGCONT)
            break
        time.sleep(0.005)
    out, err = process.communicate(timeout=60)
    (pack,) = [p for p in output.iterdir() if not p.name.startswith(".")]
    assert "no pack was written" not in err
    if process.returncode == 130:
        assert f"interrupted after the pack was sealed; it is complete: {pack}" in err
    else:  # the run had already finished: it said where the pack is
        assert process.returncode == 0 and f"Pack: {pack}" in out
    assert "Traceback" not in err
