"""The hash chain between packs of one scope (`run.previous_pack`), `history DIR`, and the PDF's
trend chart: three packs of a changing account on the moto server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from evidence.exporters.chain_text import NO_PREVIOUS
from evidence.pack.builder import MANIFEST, SUMS, pack_files, sha256_file
from tests.conftest import emulated_aws, write_controls
from tests.faultproxy import FaultProxy
from tests.test_checks_ec2_rds import snapshot
from tests.test_checks_iam import console_user
from tests.test_diff import EBS_SNAPSHOTS, USER_MFA, collect_named, gain_mfa


@pytest.fixture(scope="module")
def collected(
    moto_url: str, proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    """bob without MFA; then with it; then a public snapshot appears."""
    tmp = tmp_path_factory.mktemp("history")
    controls = write_controls(tmp / "controls.yaml", USER_MFA + EBS_SNAPSHOTS)
    with emulated_aws(moto_url, proxy, tmp) as aws:
        console_user(aws, "alice", mfa=True)
        console_user(aws, "bob", mfa=False)
        snapshot(aws)
        packs = [collect_named(tmp / "output", controls, "--region", "us-east-1")[1]]
        gain_mfa(aws, "bob")
        packs.append(collect_named(tmp / "output", controls, "--region", "us-east-1")[1])
        snapshot(aws, public=True)
        packs.append(collect_named(tmp / "output", controls, "--region", "us-east-1")[1])
    return packs


@pytest.fixture
def three_packs(collected: list[Path], tmp_path: Path) -> list[Path]:
    """A copy of the three packs' folder each test may damage."""
    output = tmp_path / "packs"
    shutil.copytree(collected[0].parent, output)
    return [output / pack.name for pack in collected]


def run_info(pack: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((pack / "results.json").read_text())
    return document


def reseal(pack: Path) -> None:
    """Rewrite manifest.json and SHA256SUMS after an edit, as someone hiding it would."""
    manifest = json.loads((pack / MANIFEST).read_text())
    manifest["files"] = [
        {"path": p, "size": (pack / p).stat().st_size, "sha256": sha256_file(pack / p)}
        for p in pack_files(pack)
    ]
    (pack / MANIFEST).write_text(json.dumps(manifest, indent=2))
    sums = [f"{e['sha256']}  {e['path']}" for e in manifest["files"]]
    sums.append(f"{sha256_file(pack / MANIFEST)}  {MANIFEST}")
    (pack / SUMS).write_text("\n".join(sums) + "\n")


def test_each_pack_links_to_the_one_before(three_packs: list[Path], cli: Any) -> None:
    first, second, third = three_packs
    assert run_info(first)["run"]["previous_pack"] is None
    assert run_info(first)["history"] == []
    for earlier, later in ((first, second), (second, third)):
        assert run_info(later)["run"]["previous_pack"] == {
            "name": earlier.name,
            "manifest_sha256": sha256_file(earlier / MANIFEST),
        }
        run = cli("verify", str(later))
        assert run.code == 0 and f"previous pack {earlier.name}: link intact" in run.out
    history = run_info(third)["history"]
    assert [h["pack"] for h in history] == [first.name, second.name]
    assert history[0]["summary"]["fail"] == 1 and history[1]["summary"]["pass"] == 2


def test_the_link_is_said_where_a_reader_looks(three_packs: list[Path]) -> None:
    """README.txt's header, the workbook's Summary and the PDF cover each name the previous
    pack and its manifest's SHA-256, or say that none was found."""
    first, second, _ = three_packs
    link = f"{first.name} (manifest SHA-256 {sha256_file(first / MANIFEST)})"
    for pack, expected in ((first, NO_PREVIOUS), (second, link)):
        header = (pack / "README.txt").read_text().split("What is in this folder")[0]
        assert f"Previous pack: {expected}" in header, pack.name
        (workbook,) = pack.glob("evidence_*.xlsx")
        summary = load_workbook(workbook, read_only=True)["Summary"]
        rows = {r[0]: r[1] for r in summary.iter_rows(max_col=2, values_only=True) if r[0]}
        assert rows["Previous pack"] == expected
        (pdf,) = pack.glob("evidence_*.pdf")
        cover = "".join(PdfReader(pdf).pages[0].extract_text().split())
        assert "Previouspack" + "".join(expected.split()) in cover


def test_history_prints_each_controls_timeline(three_packs: list[Path], cli: Any) -> None:
    first, _, third = three_packs
    run = cli("history", str(first.parent))
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == f"Scope {first.name.split('_')[0]}: 3 pack(s)"
    timeline = {line.split()[0]: line.split()[1:] for line in lines if line[:4] in ("IAM-", "EC2-")}
    assert timeline == {
        "IAM-03": ["FAIL", "1", "PASS", "PASS"],
        "EC2-01": ["PASS", "PASS", "FAIL", "1"],
    }
    assert f"#3 {third.name}" in run.out and "Chain: intact" in run.out


def test_the_pdf_summary_gets_a_trend_once_history_exists(three_packs: list[Path]) -> None:
    first, _, third = three_packs

    def summary_text(pack: Path) -> str:
        (pdf,) = pack.glob("evidence_*.pdf")
        return "".join(page.extract_text() for page in PdfReader(pdf).pages[:4])

    assert "Controls by status across packs" not in summary_text(first)
    assert "Controls by status across packs" in summary_text(third)


def test_an_edited_and_resealed_pack_breaks_the_chain(three_packs: list[Path], cli: Any) -> None:
    first, second, _ = three_packs
    results = first / "results.json"
    results.write_text(results.read_text().replace('"fail"', '"pass"'))
    reseal(first)
    assert cli("verify", "--hashes-only", str(first)).code == 0  # its bytes look intact...
    assert cli("verify", str(first)).code == 1  # (its results no longer follow from raw/)
    run = cli("verify", str(second))  # ...but the pack after it recorded its manifest
    assert run.code == 1
    assert f"previous pack {first.name}: manifest.json changed" in run.out
    history = cli("history", str(first.parent))
    assert history.code == 1 and "Chain: BROKEN (1 link(s))" in history.out


def test_a_removed_pack_breaks_the_chain(three_packs: list[Path], cli: Any) -> None:
    first, second, third = three_packs
    shutil.rmtree(second)
    run = cli("verify", str(third))
    assert run.code == 1 and f"previous pack {second.name} is missing" in run.out
    assert cli("history", str(first.parent)).code == 1


def test_a_pack_handed_over_alone_still_verifies(
    three_packs: list[Path], cli: Any, tmp_path: Path
) -> None:
    _, second, third = three_packs
    alone = tmp_path / "handed-over" / third.name
    shutil.copytree(third, alone)
    run = cli("verify", str(alone))
    assert run.code == 0
    assert f"previous pack {second.name} is not beside this pack: link not checked" in run.out


def test_history_of_a_folder_without_packs(cli: Any, tmp_path: Path) -> None:
    run = cli("history", str(tmp_path))
    assert run.code == 2 and "no evidence packs" in run.err and "Traceback" not in run.err
