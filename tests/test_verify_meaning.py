"""verify checks meaning, not only bytes: the issue's tamper (a raw file edited, manifest.json and
SHA256SUMS regenerated) and one case per layer: citations, re-evaluation, exports."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from evidence.audit import verify_meaning
from evidence.audit.pack_context import PackContext
from evidence.audit.verification import verify
from evidence.audit.verify_exports import export_citations
from evidence.audit.verify_meaning import cited_hashes, re_evaluation
from evidence.pack.verify import Finding
from tests.conftest import ACCOUNT, collect_pack, emulated_aws
from tests.faultproxy import FaultProxy
from tests.test_checks_ec2_rds import snapshot
from tests.test_checks_iam import COMPLIANT_POLICY, console_user

POLICY_FILE = f"raw/{ACCOUNT}/global/iam.password_policy.json"
REPORT_FILE = f"raw/{ACCOUNT}/global/iam.credential_report.json"


def reseal(pack: Path) -> None:
    """What the forger in the issue did: manifest.json and SHA256SUMS regenerated to match."""
    manifest = json.loads((pack / "manifest.json").read_text())
    listed = {e["path"] for e in manifest["files"]}
    on_disk = {
        p.relative_to(pack).as_posix()
        for p in pack.rglob("*")
        if p.is_file() and p.name not in ("manifest.json", "SHA256SUMS", "manifest.sig.json")
    }
    manifest["files"] = []
    for relative in sorted(listed | on_disk):
        if (pack / relative).is_file():
            content = (pack / relative).read_bytes()
            digest = hashlib.sha256(content).hexdigest()
            manifest["files"].append({"path": relative, "size": len(content), "sha256": digest})
    (pack / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    lines = [f"{e['sha256']}  {e['path']}" for e in manifest["files"]]
    digest = hashlib.sha256((pack / "manifest.json").read_bytes()).hexdigest()
    (pack / "SHA256SUMS").write_text("\n".join([*lines, f"{digest}  manifest.json"]) + "\n")


def edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def set_min_length(raw: dict[str, Any], length: int) -> None:
    (call,) = raw["calls"]
    call["response"]["PasswordPolicy"]["MinimumPasswordLength"] = length


@pytest.fixture(scope="module")
def sealed(moto_url: str, proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pack with a passing password policy, a console user without MFA and a public snapshot."""
    tmp = tmp_path_factory.mktemp("sealed")
    with emulated_aws(moto_url, proxy, tmp) as aws:
        aws.client("iam").update_account_password_policy(**COMPLIANT_POLICY)
        console_user(aws, "alice", mfa=True)
        console_user(aws, "mallory", mfa=False)
        snapshot(aws, public=True)
        only = ("--only", "IAM-01", "--only", "IAM-03", "--only", "EC2-01")
        code, pack = collect_pack(tmp / "output", *only, "--region", "us-east-1")
    assert code == 1
    return pack


@pytest.fixture
def pack(sealed: Path, tmp_path: Path) -> Path:
    copy = tmp_path / sealed.name
    shutil.copytree(sealed, copy)
    return copy


def layers(pack: Path) -> dict[str, list[Finding]]:
    context = PackContext.open(pack)
    return {
        "cited": cited_hashes(context),
        "re-evaluated": re_evaluation(context)[0],
        "exports": export_citations(context),
    }


def test_an_untouched_pack_passes_every_layer(pack: Path, cli: Any) -> None:
    assert layers(pack) == {"cited": [], "re-evaluated": [], "exports": []}
    run = cli("verify", str(pack))
    assert run.code == 0
    assert "intact" in run.out
    assert "results re-derived from raw/" in run.out and "exports cite results.json" in run.out


def test_the_issue_tamper_exits_1_naming_the_raw_file_and_the_control(pack: Path, cli: Any) -> None:
    edit_json(pack / POLICY_FILE, lambda raw: set_min_length(raw, 4))
    reseal(pack)
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=pack, capture_output=True)
    assert sums.returncode == 0  # the bytes check alone is fooled, as in the issue
    assert cli("verify", "--hashes-only", str(pack)).code == 0

    run = cli("verify", str(pack))
    assert run.code == 1
    assert "NOT intact" in run.err
    lines = run.out.splitlines()
    cited = [line for line in lines if line.startswith("cited: ")]
    assert cited == [
        f"cited: {POLICY_FILE}: IAM-01: results.json cites SHA-256"
        + cited[0].split("cites SHA-256")[1]
    ]
    item = next(line for line in lines if line.startswith("re-evaluated:") and " item " in line)
    assert item.startswith(f"re-evaluated: {POLICY_FILE}: IAM-01: item ")
    assert "attributes.minimum_length: results.json says 12, raw/ gives 4" in item
    assert 'status: results.json says "pass", raw/ gives "fail"' in item
    exports = [line for line in lines if line.startswith("exports: ")]
    assert any(line.startswith(f"exports: {POLICY_FILE}: evidence_") for line in exports)
    assert any("appendix does not cite" in line for line in exports)


def test_cited_layer_names_a_raw_file_whose_meaning_did_not_change(pack: Path) -> None:
    """Re-indenting a raw file keeps its meaning; only the citations can show it was touched."""
    path = pack / REPORT_FILE
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4))
    found = layers(pack)
    assert found["re-evaluated"] == []
    assert {(f.file, f.control) for f in found["cited"]} == {
        (REPORT_FILE, "IAM-03"),
    }
    assert {f.file for f in found["exports"]} >= {REPORT_FILE}


def test_re_evaluation_names_the_control_and_item_of_an_edited_result(pack: Path) -> None:
    """A finding turned into a pass in results.json, the exports rebuilt from it so they cite
    the new hash: only re-evaluating raw/ shows it."""

    def hide_mallory(document: dict[str, Any]) -> None:
        control = next(c for c in document["controls"] if c["id"] == "IAM-03")
        (failing,) = control["failing"]
        control["failing"] = []
        control["status"] = "pass"
        next(i for i in control["items"] if i["id"] == failing["id"])["status"] = "pass"

    edit_json(pack / "results.json", hide_mallory)
    found = layers(pack)
    assert found["cited"] == []
    mallory = [f for f in found["re-evaluated"] if f.item]
    assert len(mallory) == 1
    assert (mallory[0].file, mallory[0].control) == ("results.json", "IAM-03")
    assert mallory[0].message.startswith("mallory: status: results.json says")
    assert any(
        f.control == "IAM-03" and f.message.startswith("status:") for f in found["re-evaluated"]
    )


def test_re_evaluation_finds_an_item_removed_from_the_population(pack: Path) -> None:
    def drop_mallory(document: dict[str, Any]) -> None:
        control = next(c for c in document["controls"] if c["id"] == "IAM-03")
        control["items"] = [i for i in control["items"] if i["resource"] != "mallory"]
        control["failing"] = []
        control["population"] = len(control["items"])

    edit_json(pack / "results.json", drop_mallory)
    (missing,) = [f for f in re_evaluation(PackContext.open(pack))[0] if f.item]
    assert missing.control == "IAM-03"
    assert missing.message == "mallory: in raw/, missing from results.json"


def test_re_evaluation_uses_the_pack_own_catalogue(pack: Path) -> None:
    """A stricter policy written into the pack's controls.yaml afterwards: the results no
    longer follow from it."""
    controls = pack / "controls.yaml"
    controls.write_text(controls.read_text().replace("min_length: 8", "min_length: 16", 1))
    found = [f for f in re_evaluation(PackContext.open(pack))[0] if f.control == "IAM-01"]
    messages = " ".join(f.message for f in found)
    assert "params.min_length: results.json says 8, raw/ gives 16" in messages
    assert 'status: results.json says "pass", raw/ gives "fail"' in messages


def test_exports_layer_names_exports_citing_another_results_json(pack: Path) -> None:
    """results.json rewritten with the same meaning (re-indented): its hash changed, so the
    workbook's Summary and the PDF's cover no longer cite it."""
    path = pack / "results.json"
    path.write_text(json.dumps(json.loads(path.read_text()), indent=2))
    found = layers(pack)
    assert found["cited"] == [] and found["re-evaluated"] == []
    messages = [f.message for f in found["exports"]]
    (pdf,) = pack.glob("evidence_*.pdf")
    assert {f.file for f in found["exports"]} == {"results.json", pdf.name}
    assert any(".xlsx Summary cites SHA-256" in m for m in messages)
    assert any(".pdf cover does not cite its SHA-256" in m for m in messages)
    assert any(".pdf appendix does not cite its SHA-256" in m for m in messages)


def test_a_raw_file_slipped_in_later_is_not_in_the_appendix(pack: Path, cli: Any) -> None:
    extra = pack / f"raw/{ACCOUNT}/global/iam.extra.json"
    extra.write_text('{"calls": []}\n')
    reseal(pack)
    found = layers(pack)
    (finding,) = found["exports"]
    assert finding.file == extra.relative_to(pack).as_posix()
    assert "appendix does not cite its SHA-256" in finding.message
    assert cli("verify", str(pack)).code == 1


def test_another_tool_version_is_said_and_differences_still_reported(
    pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_meaning, "__version__", "99.0")
    edit_json(pack / POLICY_FILE, lambda raw: set_min_length(raw, 4))
    findings, notes = re_evaluation(PackContext.open(pack))
    (note,) = notes
    assert "was made by soc-evidence" in note and "re-evaluated with 99.0" in note
    assert any(f.control == "IAM-01" for f in findings)


def test_a_cited_path_outside_the_pack_is_never_read(pack: Path) -> None:
    def point_outside(document: dict[str, Any]) -> None:
        document["controls"][0]["evidence"][0]["path"] = "../../../../etc/passwd"

    edit_json(pack / "results.json", point_outside)
    (finding,) = cited_hashes(PackContext.open(pack))
    assert (finding.file, finding.message) == (
        "../../../../etc/passwd",
        "results.json cites a file outside the pack",
    )


@pytest.mark.parametrize(
    ("target", "content", "expected"),
    [
        ("results.json", "{not json", "results: results.json: unreadable"),
        (POLICY_FILE, "{not json", "re-evaluated: raw/: cannot be evaluated"),
    ],
)
def test_unreadable_files_are_findings_not_tracebacks(
    pack: Path, cli: Any, target: str, content: str, expected: str
) -> None:
    (pack / target).write_text(content)
    reseal(pack)
    run = cli("verify", str(pack))
    assert run.code == 1
    assert expected in run.out
    assert "Traceback" not in run.err


def test_verify_layers_run_in_order_and_stop_at_hashes_when_asked(pack: Path) -> None:
    edit_json(pack / POLICY_FILE, lambda raw: set_min_length(raw, 4))
    full = verify(pack)
    assert [f.layer for f in full.findings] == sorted(
        (f.layer for f in full.findings), key=["cited", "re-evaluated", "exports"].index
    )
    assert full.files.changed == [POLICY_FILE]
    quick = verify(pack, hashes_only=True)
    assert quick.findings == [] and quick.files.changed == [POLICY_FILE]


def test_results_removed_and_resealed_is_still_a_difference(pack: Path, cli: Any) -> None:
    """Only a sealed folder with no evidence at all (a drawn sample) is checked by hashes
    alone; a pack whose results.json was removed, manifest regenerated, is not intact."""
    (pack / "results.json").unlink()
    reseal(pack)
    run = cli("verify", str(pack))
    assert run.code == 1
    assert "results: results.json: unreadable" in run.out


@pytest.mark.parametrize(
    "command",
    [
        ["export", "--output", "{out}"],
        ["export", "--oscal", "--output", "{out}"],
        ["sample", "--control", "IAM-03", "--size", "1", "--seed", "s", "--output", "{out}"],
        ["bundle", "--output", "{out}"],
        ["diff", "{original}"],
    ],
    ids=["export", "oscal", "sample", "bundle", "diff"],
)
def test_no_command_carries_a_resealed_tamper_on(
    command: list[str], sealed: Path, pack: Path, cli: Any, tmp_path: Path
) -> None:
    """The issue's forgery (a raw file edited, the hashes regenerated) passes a hash check; every
    command that reads a pack verifies it in full first and refuses it, writing nothing."""
    edit_json(pack / POLICY_FILE, lambda raw: set_min_length(raw, 4))
    reseal(pack)
    out = tmp_path / "derived"
    args = [a.format(out=out, original=sealed) for a in command]
    run = cli(args[0], *args[1:], str(pack)) if args[0] != "diff" else cli(*args, str(pack))
    assert run.code == 2
    (line,) = run.err.strip().splitlines()
    assert line.startswith(f"soc-evidence: error: {pack}: does not verify (cited: {POLICY_FILE}")
    assert "IAM-01" in line and line.endswith("refusing to " + line.rsplit("refusing to ")[1])
    assert not out.exists() or not any(out.iterdir())
    assert (
        sorted(p.name for p in pack.parent.iterdir()) == [pack.name, "derived"][: 1 + out.exists()]
    )


def test_an_exported_pack_points_back_to_the_pack_it_came_from(pack: Path, cli: Any) -> None:
    run = cli("export", "--output", str(pack.parent / "exports"), str(pack))
    assert run.code == 1  # the pack's findings, re-evaluated
    (exported,) = (pack.parent / "exports").iterdir()
    meta = json.loads((exported / "results.json").read_text())["run"]
    manifest = hashlib.sha256((pack / "manifest.json").read_bytes()).hexdigest()
    assert meta["exported_from"] == {"pack": pack.name, "manifest_sha256": manifest}
    assert cli("verify", str(exported)).code == 0


@pytest.mark.parametrize(
    "command",
    [
        ["export", "--output", "{pack}"],
        ["export", "--output", "{pack}/raw"],
        ["export", "--oscal", "--output", "{pack}/raw"],
        ["sample", "--control", "IAM-03", "--size", "1", "--seed", "s", "--output", "{pack}"],
        ["bundle", "--output", "{pack}"],
        ["diff", "--xlsx", "{pack}/diff.xlsx", "{original}"],
    ],
    ids=["export", "export-into-raw", "oscal", "sample", "bundle", "diff-xlsx"],
)
def test_no_command_writes_inside_a_pack(
    command: list[str], sealed: Path, pack: Path, cli: Any
) -> None:
    """Packs are immutable: an --output (or --xlsx) inside the pack read is refused in one line
    before anything is written, and the pack still verifies."""
    args = [a.format(pack=pack, original=sealed) for a in command]
    before = sorted(p.relative_to(pack) for p in pack.rglob("*"))
    run = cli(*args, str(pack))
    assert run.code == 2, run.err
    (line,) = run.err.strip().splitlines()
    assert f": inside pack {pack}; packs are never modified" in line
    assert sorted(p.relative_to(pack) for p in pack.rglob("*")) == before
    assert cli("verify", str(pack)).code == 0
