"""`diff OLD NEW` between two runs of the demo company on the moto server, with changed state:
a user gains MFA, a snapshot becomes public, a control is added to the catalogue."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from evidence.audit.diff import Change, diff_documents
from evidence.cli import main
from evidence.demo.company import REGIONS, seed_company
from tests.conftest import ACCOUNT, Aws, emulated_aws, write_controls
from tests.faultproxy import FaultProxy

USER_MFA = """  - id: IAM-03
    title: Console users have MFA
    criteria: [CC6.1]
    check: iam.user_mfa
"""
EBS_SNAPSHOTS = """  - id: EC2-01
    title: EBS snapshots are private
    criteria: [CC6.1, CC6.6]
    check: ec2.snapshot_public
"""
RDS_SNAPSHOTS = """  - id: RDS-01
    title: RDS snapshots are private
    criteria: [CC6.1, CC6.6]
    check: rds.snapshot_public
"""
REGION_ARGS = tuple(arg for region in REGIONS for arg in ("--region", region))


def collect_named(output: Path, controls: Path, *args: str) -> tuple[int, Path]:
    """`collect` into a folder that may already hold packs; the pack it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                *("collect", "--controls", str(controls), "--output", str(output)),
                *("--max-attempts", "2", *args),
            ]
        )
    (line,) = [line for line in out.getvalue().splitlines() if line.startswith("Pack: ")]
    return code, Path(line.removeprefix("Pack: "))


def gain_mfa(aws: Aws, user: str) -> None:
    iam = aws.client("iam")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"{user}-new")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName=user,
        SerialNumber=serial["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )


def make_public(aws: Aws, region: str, name: str) -> str:
    ec2 = aws.client("ec2", region)
    snapshots = ec2.describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": "tag:Name", "Values": [name]}]
    )["Snapshots"]
    snapshot_id: str = snapshots[0]["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot_id,
        Attribute="createVolumePermission",
        OperationType="add",
        GroupNames=["all"],
    )
    return snapshot_id


@pytest.fixture(scope="module")
def two_runs(
    moto_url: str, proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, str]:
    """The demo company collected, changed, collected again with one more control."""
    tmp = tmp_path_factory.mktemp("diff")
    with emulated_aws(moto_url, proxy, tmp) as aws:
        seed_company(aws.url)
        before = write_controls(tmp / "v1.yaml", USER_MFA + EBS_SNAPSHOTS, "Example Corp")
        after = write_controls(
            tmp / "v2.yaml", USER_MFA + EBS_SNAPSHOTS + RDS_SNAPSHOTS, "Example Corp"
        )
        _, old = collect_named(tmp / "output", before, *REGION_ARGS)
        gain_mfa(aws, "jack.novak")
        public = make_public(aws, "eu-west-1", "eu-web-root")
        _, new = collect_named(tmp / "output", after, *REGION_ARGS)
    return old, new, public


def results(pack: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((pack / "results.json").read_text())
    return document


def item_named(pack: Path, control_id: str, resource: str) -> dict[str, Any]:
    control = next(c for c in results(pack)["controls"] if c["id"] == control_id)
    item: dict[str, Any] = next(i for i in control["items"] if i["resource"] == resource)
    return item


def test_diff_names_what_changed_item_by_item(two_runs: Any, cli: Any) -> None:
    old, new, public = two_runs
    run = cli("diff", str(old), str(new))
    assert run.code == 1, run.err  # something fails that did not: the snapshot
    assert f"old: {old.name}" in run.out and f"new: {new.name}" in run.out
    assert "resolved: jack.novak (123456789012/global) FAIL -> PASS" in run.out
    assert f"new failing: {public} (123456789012/eu-west-1) PASS -> FAIL" in run.out
    assert "only in the new pack (not compared): RDS-01" in run.out
    assert "the control catalogues differ" in run.out

    as_json = json.loads(cli("diff", str(old), str(new), "--json").out)
    controls = {c["id"]: c for c in as_json["controls"]}
    assert set(controls) == {"IAM-03", "EC2-01"} and as_json["only_new"] == ["RDS-01"]
    mfa = [(c["change"], c["id"]) for c in controls["IAM-03"]["changes"]]
    assert mfa == [("resolved", item_named(new, "IAM-03", "jack.novak")["id"])]
    snapshots = [(c["change"], c["resource"]) for c in controls["EC2-01"]["changes"]]
    assert snapshots == [("new failing", public)]
    # The same resources in both runs: nothing was added to or removed from a population.
    assert controls["EC2-01"]["old_status"] == controls["EC2-01"]["new_status"] == "fail"


def test_diff_workbook(two_runs: Any, cli: Any, tmp_path: Path) -> None:
    old, new, public = two_runs
    target = tmp_path / "diff.xlsx"
    assert cli("diff", str(old), str(new), "--xlsx", str(target)).code == 1
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Summary", "Changes"]
    changes = list(book["Changes"].iter_rows(values_only=True))
    assert changes[0][:3] == ("Control", "Change", "Item id")
    assert {(row[0], row[1], row[5]) for row in changes[1:]} == {
        ("IAM-03", "resolved", "jack.novak"),
        ("EC2-01", "new failing", public),
    }
    first_cells = [row[0] for row in book["Summary"].iter_rows(values_only=True)]
    assert "only in the new pack: RDS-01" in first_cells
    assert "IAM-03" in first_cells and "EC2-01" in first_cells


def test_a_pack_against_itself_has_no_changes(two_runs: Any, cli: Any) -> None:
    _, new, _ = two_runs
    run = cli("diff", str(new), str(new), "--json")
    assert run.code == 0
    document = json.loads(run.out)
    assert all(c["changes"] == [] for c in document["controls"])
    assert document["not_compared"] == [] and document["only_new"] == []


def test_different_scopes_are_compared_on_what_they_share(two_runs: Any) -> None:
    old, new, _ = two_runs
    narrow = copy.deepcopy(results(new))
    # As if the new run had collected us-east-1 only: eu-west-1 items cannot be compared.
    narrow["run"]["accounts"][0]["regions"] = ["us-east-1"]
    for control in narrow["controls"]:
        control["items"] = [i for i in control["items"] if i["region"] != "eu-west-1"]
    diff = diff_documents(results(old), narrow)
    assert all(c.of(Change.REMOVED) == [] for c in diff.controls)
    assert (
        f"regions only in the old pack for {ACCOUNT} (not compared): eu-west-1" in diff.not_compared
    )
    other = copy.deepcopy(narrow)
    other["run"]["scope"] = "org-999999999999"
    other["run"]["accounts"][0]["account_id"] = "999999999999"
    for control in other["controls"]:
        for item in control["items"]:
            item["account"], item["id"] = "999999999999", item["id"][::-1]
    diff = diff_documents(results(old), other)
    assert sum(len(c.changes) for c in diff.controls) == 0
    assert any(n.startswith("scopes differ") for n in diff.not_compared)
    assert f"accounts only in the old pack (not compared): {ACCOUNT}" in diff.not_compared


def test_exceptions_added_and_expired(two_runs: Any, cli: Any) -> None:
    """Accepted-risk exceptions (item status `exception` with its record): a failing item newly
    covered is "exception added"; an excepted item failing again is "exception expired"."""
    old, new, _ = two_runs
    record = {
        "reason": "legacy vendor login",
        "owner": "jane",
        "approved_by": "ciso",
        "expires": "2026-12-31",
    }
    before, after = results(old), copy.deepcopy(results(new))
    control = next(c for c in after["controls"] if c["id"] == "IAM-03")
    rosa = next(i for i in control["items"] if i["resource"] == "rosa.moreno")
    rosa.update(status="exception", exception=record)
    diff = diff_documents(before, after)
    mfa = next(c for c in diff.controls if c.id == "IAM-03")
    (added,) = mfa.of(Change.EXCEPTION_ADDED)
    assert (added.resource, added.old_status, added.new_status) == (
        "rosa.moreno",
        "fail",
        "exception",
    )
    assert added.exception == record
    backwards = diff_documents(after, before)
    (expired,) = next(c for c in backwards.controls if c.id == "IAM-03").of(
        Change.EXCEPTION_EXPIRED
    )
    assert expired.resource == "rosa.moreno" and backwards.worse


def test_diff_refuses_what_is_not_a_verified_pack(two_runs: Any, cli: Any, tmp_path: Path) -> None:
    old, new, _ = two_runs
    run = cli("diff", str(tmp_path), str(new))
    assert run.code == 2 and "not an evidence pack" in run.err and "Traceback" not in run.err
    run = cli("diff", str(old), str(new), "--xlsx", str(new / "diff.xlsx"))
    assert run.code == 2 and "packs are never modified" in run.err
    assert not (new / "diff.xlsx").exists()
