"""Organisation-wide, multi-region collection over the moto server: accounts through AssumeRole,
an account that cannot be opened, a region that fails, the call-count bound, the in-flight limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import ACCOUNT, Aws
from tests.test_checks_ec2_rds import database
from tests.test_checks_iam import console_user

OTHER = "111111111111"
ROLE = "OrganizationAccountAccessRole"


def account(aws: Aws, account_id: str) -> Aws:
    """An Aws handle whose clients act in another account (moto maps assumed roles to it)."""
    credentials = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="seed"
    )["Credentials"]

    class InAccount(Aws):
        def client(self, service: str, region: str = "us-east-1", **_: str) -> Any:
            return Aws.client(
                self,
                service,
                region,
                key=credentials["AccessKeyId"],
                secret=credentials["SecretAccessKey"],
                token=credentials["SessionToken"],
            )

    return InAccount(aws.url, aws.proxy)


def snapshots(aws: Aws, region: str, count: int, public: int = 0) -> None:
    ec2 = aws.client("ec2", region)
    volume = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8)["VolumeId"]
    for n in range(count):
        snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
        if n < public:
            ec2.modify_snapshot_attribute(
                SnapshotId=snapshot,
                Attribute="createVolumePermission",
                OperationType="add",
                GroupNames=["all"],
            )


def test_accounts_are_collected_through_their_role(aws: Aws, collect: Any) -> None:
    console_user(aws, "home-user", mfa=True)
    other = account(aws, OTHER)
    console_user(other, "other-user", mfa=False)
    snapshots(other, "eu-west-1", 2, public=1)
    run = collect(
        "--accounts",
        f"{ACCOUNT},{OTHER}",
        "--only",
        "IAM-03",
        "--only",
        "EC2-01",
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
    )
    assert run.code == 1
    assert run.pack.name.startswith(f"accounts-{ACCOUNT}_")
    accounts = {a["account_id"]: a for a in run.results["run"]["accounts"]}
    assert accounts[OTHER]["caller_arn"].startswith(f"arn:aws:sts::{OTHER}:assumed-role/{ROLE}/")
    assert accounts[OTHER]["caller_arn"].split("/")[-1].startswith("soc-evidence-")
    mfa = run.control("IAM-03")
    assert {(i["account"], i["resource"], i["status"]) for i in mfa["items"]} == {
        (ACCOUNT, "home-user", "pass"),
        (OTHER, "other-user", "fail"),
    }
    public = run.control("EC2-01")["failing"]
    assert [(i["account"], i["region"]) for i in public] == [(OTHER, "eu-west-1")]
    raw_other = run.pack / "raw" / OTHER / "global" / "iam.credential_report.json"
    assert json.loads(raw_other.read_text())["caller_arn"] == accounts[OTHER]["caller_arn"]
    assert "account" in run.out and OTHER in run.out  # the per-account summary


def test_assumed_role_credentials_are_never_written(aws: Aws, collect: Any) -> None:
    run = collect("--accounts", OTHER, "--only", "IAM-01")
    assume = json.loads((run.pack / "raw" / OTHER / "global" / "sts.assume_role.json").read_text())
    credentials = assume["calls"][0]["response"]["Credentials"]
    assert credentials["SecretAccessKey"] == "<redacted>"
    assert credentials["SessionToken"] == "<redacted>"
    assert credentials["AccessKeyId"].startswith("ASIA")  # an identifier, not a secret
    assert assume["calls"][0]["parameters"]["RoleArn"] == f"arn:aws:iam::{OTHER}:role/{ROLE}"


def test_organization_collects_every_active_account(aws: Aws, collect: Any) -> None:
    organizations = aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    created = [
        organizations.create_account(AccountName=name, Email=f"{name}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        for name in ("prod", "staging")
    ]
    run = collect("--organization", "--only", "IAM-01")
    assert run.pack.name.startswith(f"org-{ACCOUNT}_")
    collected = [a["account_id"] for a in run.results["run"]["accounts"]]
    assert sorted(collected) == sorted([ACCOUNT, *created])
    items = run.control("IAM-01")["items"]
    assert sorted(i["account"] for i in items) == sorted(collected)
    assert (run.pack / "raw" / ACCOUNT / "global" / "organizations.accounts.json").is_file()


def test_an_account_whose_role_cannot_be_assumed_is_an_error_for_that_account_only(
    aws: Aws, collect: Any
) -> None:
    console_user(account(aws, OTHER), "other-user", mfa=True)
    locked = "222222222222"
    aws.proxy.fail(
        "AssumeRole",
        "AccessDenied",
        status=403,
        body_contains=locked,
        message=f"not authorized to perform sts:AssumeRole on {locked}",
    )
    run = collect(
        "--accounts",
        f"{OTHER},{locked}",
        "--only",
        "IAM-03",
        "--only",
        "EC2-01",
        "--region",
        "us-east-1",
    )
    assert run.code == 3
    for control_id in ("IAM-03", "EC2-01"):
        control = run.control(control_id)
        assert control["status"] == "error"
        (error,) = control["errors"]
        assert (error["account"], error["operation"], error["code"]) == (
            locked,
            "AssumeRole",
            "AccessDenied",
        )
        assert f"cannot assume arn:aws:iam::{locked}:role/{ROLE}" in error["message"]
    assert [i["account"] for i in run.control("IAM-03")["items"]] == [OTHER]
    accounts = {a["account_id"]: a for a in run.results["run"]["accounts"]}
    assert accounts[locked]["access_error"]["code"] == "AccessDenied"


def test_a_failing_region_is_an_error_for_that_region_only(aws: Aws, collect: Any) -> None:
    snapshots(aws, "us-east-1", 2)
    aws.proxy.fail("DescribeSnapshots", "UnauthorizedOperation", status=403, region="eu-west-1")
    run = collect("--only", "EC2-01", "--region", "us-east-1", "--region", "eu-west-1")
    control = run.control("EC2-01")
    assert control["status"] == "error"
    assert [(e["region"], e["operation"]) for e in control["errors"]] == [
        ("eu-west-1", "DescribeSnapshots")
    ]
    assert {i["region"] for i in control["items"]} == {"us-east-1"}
    assert control["population"] == 2


def test_region_all_is_per_account(aws: Aws, collect: Any) -> None:
    aws.proxy.fail(
        "DescribeRegions",
        "UnauthorizedOperation",
        status=403,
        body_contains="opt-in-status",
        times=1,
    )  # the first account asked
    run = collect(
        "--accounts",
        f"{ACCOUNT},{OTHER}",
        "--only",
        "IAM-01",
        "--only",
        "RDS-02",
        "--region",
        "all",
        "--max-workers",
        "1",
    )
    accounts = {a["account_id"]: a for a in run.results["run"]["accounts"]}
    failed = [a for a in accounts.values() if a["regions_error"]]
    opened = [a for a in accounts.values() if not a["regions_error"]]
    assert len(failed) == 1 and len(opened) == 1
    assert len(opened[0]["regions"]) > 10
    multi_az = run.control("RDS-02")
    assert [e["account"] for e in multi_az["errors"]] == [failed[0]["account_id"]]
    assert run.control("IAM-01")["errors"] == []  # global controls are unaffected


def test_calls_stay_within_the_fewest_that_give_correct_results(aws: Aws, collect: Any) -> None:
    other = account(aws, OTHER)
    for handle in (aws, other):
        for region in ("us-east-1", "eu-west-1"):
            snapshots(handle, region, 6, public=1)
            database(handle, f"db-{region}", region=region)
            handle.client("rds", region).create_db_snapshot(
                DBInstanceIdentifier=f"db-{region}", DBSnapshotIdentifier=f"snap-{region}"
            )
    run = collect(
        "--accounts",
        f"{ACCOUNT},{OTHER}",
        "--only",
        "EC2-01",
        "--only",
        "RDS-01",
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
    )
    calls = run.results["run"]["calls_per_operation"]
    scopes = 2 * 2  # accounts x regions
    # The fewest: one listing page per scope and kind, plus what the API forces per resource
    # (the emulator lists every snapshot as restorable by all, so each must be confirmed).
    fewest = {
        "sts:GetCallerIdentity": 1,
        "sts:AssumeRole": 1,
        "iam:ListAccountAliases": 2,
        "ec2:DescribeSnapshots": scopes,
        "ec2:DescribeSnapshotAttribute": scopes * 6,
        "rds:DescribeDBSnapshots": scopes,
        "rds:DescribeDBSnapshotAttributes": scopes,
        "rds:DescribeDBClusterSnapshots": scopes,
        "ec2:DescribeRegions": 2,  # each account's enabled regions, for the IPE block
    }
    assert calls["ec2:DescribeSnapshots"] == 2 * scopes  # the population, and the candidates
    assert {k: v for k, v in calls.items() if k != "ec2:DescribeSnapshots"} == {
        k: v for k, v in fewest.items() if k != "ec2:DescribeSnapshots"
    }
    assert sum(calls.values()) <= 1.2 * sum(fewest.values())
    assert len(run.control("EC2-01")["failing"]) == 4


def test_calls_in_flight_per_account_and_region_are_bounded(aws: Aws, collect: Any) -> None:
    snapshots(aws, "us-east-1", 30)
    collect(
        "--only",
        "EC2-01",
        "--only",
        "RDS-01",
        "--only",
        "RDS-02",
        "--only",
        "IAM-01",
        "--only",
        "IAM-02",
        "--region",
        "us-east-1",
        "--max-in-flight",
        "1",
        "--max-workers",
        "8",
    )
    assert aws.proxy.peak_in_flight[("testing", "us-east-1")] == 1
    assert aws.proxy.peak_in_flight[("testing", "global")] == 1
    aws.proxy.reset()
    snapshots(aws, "us-east-1", 1)
    collect(
        "--only",
        "EC2-01",
        "--only",
        "RDS-01",
        "--only",
        "RDS-02",
        "--region",
        "us-east-1",
        "--max-in-flight",
        "3",
    )
    assert 1 <= aws.proxy.peak_in_flight[("testing", "us-east-1")] <= 3


def test_progress_lines_and_quiet(aws: Aws, collect: Any) -> None:
    noisy = collect("--only", "IAM-01")
    lines = [line for line in noisy.err.splitlines() if line.startswith("[")]
    assert lines and lines[-1].startswith(f"[{len(lines)}/{len(lines)}] ")
    assert any(f"{ACCOUNT}/global/iam.password_policy: ok" in line for line in lines)
    assert collect("--only", "IAM-01", "--quiet").err == ""


def test_accounts_and_organization_together_are_a_usage_error(collect: Any, aws: Aws) -> None:
    run = collect("--accounts", OTHER, "--organization")
    assert run.code == 2 and "cannot be used together" in run.err
    bad = collect("--accounts", "12345")
    assert bad.code == 2 and "not a 12-digit account id: 12345" in bad.err


def test_export_of_a_multi_account_pack(aws: Aws, collect: Any, cli: Any, tmp_path: Path) -> None:
    pack = collect("--accounts", f"{ACCOUNT},{OTHER}", "--only", "IAM-01").pack
    exported = cli("export", str(pack))
    assert exported.code == 1
    results = json.loads((exported.pack / "results.json").read_text())
    assert len(results["run"]["accounts"]) == 2


def test_exports_break_results_down_per_account(aws: Aws, collect: Any) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    console_user(account(aws, OTHER), "no-mfa", mfa=False)
    aws.proxy.fail("AssumeRole", "AccessDenied", status=403, body_contains="222222222222")
    run = collect(
        "--accounts", f"{ACCOUNT},{OTHER},222222222222", "--only", "IAM-01", "--only", "IAM-03"
    )
    (xlsx,) = run.pack.glob("evidence_*.xlsx")
    sheet = load_workbook(xlsx)["Accounts"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    header = [c.value for c in sheet[1]]
    assert header[:9] == [
        "Account",
        "Alias",
        "Collected as",
        "Regions",
        "Could not open",
        "PASS",
        "FAIL",
        "ERROR",
        "MANUAL",
    ]
    assert rows[OTHER][header.index("IAM-03")] == "FAIL"
    assert rows[ACCOUNT][header.index("IAM-03")] == "PASS"
    assert rows["222222222222"][header.index("ERROR")] == 2
    assert rows["222222222222"][4].startswith("AssumeRole AccessDenied")
    (pdf,) = run.pack.glob("evidence_*.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Results by account" in text and "222222222222" in text


def test_organizational_units_collect_the_accounts_below_them_each_in_its_own_scope(
    aws: Aws, collect: Any, cli: Any
) -> None:
    """Root -> prod -> prod-eu, and root -> staging: --organizational-unit prod collects the
    accounts of prod and prod-eu only; each unit's packs chain and show in history apart."""
    organizations = aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]

    def unit(parent: str, name: str) -> str:
        made = organizations.create_organizational_unit(ParentId=parent, Name=name)
        return str(made["OrganizationalUnit"]["Id"])

    def member(name: str, parent: str) -> str:
        created = organizations.create_account(AccountName=name, Email=f"{name}@example.com")
        account_id = str(created["CreateAccountStatus"]["AccountId"])
        organizations.move_account(
            AccountId=account_id, SourceParentId=root, DestinationParentId=parent
        )
        return account_id

    prod = unit(root, "prod")
    prod_eu = unit(prod, "prod-eu")
    staging = unit(root, "staging")
    web, eu = member("web", prod), member("eu", prod_eu)
    member("qa", staging)
    member("sandbox", root)

    run = collect("--organizational-unit", prod, "--only", "IAM-01")
    assert run.code in (0, 1), run.err
    collected = sorted(a["account_id"] for a in run.results["run"]["accounts"])
    assert collected == sorted([web, eu])  # not staging's, the root's or the management account
    scope = f"org-{ACCOUNT}-{prod}"
    assert run.pack.name.startswith(f"{scope}_")
    raw = json.loads(
        (run.pack / "raw" / ACCOUNT / "global" / "organizations.unit_accounts.json").read_text()
    )
    asked = [(c["operation"], c["parameters"].get("ParentId")) for c in raw["calls"]]
    assert ("ListAccountsForParent", prod_eu) in asked and ("ListChildren", prod) in asked

    staging_run = collect("--organizational-unit", staging, "--only", "IAM-01")
    again = collect("--organizational-unit", prod, "--only", "IAM-01")
    assert staging_run.pack.name.startswith(f"org-{ACCOUNT}-{staging}_")
    # Each unit's packs chain among themselves: prod's second pack follows prod's first.
    previous = again.results["run"]["previous_pack"]
    assert previous["name"] == run.pack.name
    assert staging_run.results["run"].get("previous_pack") is None
    history = cli("history", str(run.output_dir))
    assert history.code == 0, history.out + history.err
    assert scope in history.out and f"org-{ACCOUNT}-{staging}" in history.out


def test_organizational_unit_ids_are_checked_before_anything_is_collected(
    collect: Any, aws: Aws
) -> None:
    bad = collect("--organizational-unit", "prod")
    assert bad.code == 2 and "--organizational-unit: not an organizational unit id" in bad.err
    assert "Traceback" not in bad.err and not bad.packs
    both = collect("--accounts", OTHER, "--organizational-unit", "ou-ab12-cdef3456")
    assert both.code == 2 and "cannot be used together" in both.err
    aws.client("organizations").create_organization(FeatureSet="ALL")
    unknown = collect("--organizational-unit", "ou-ab12-cdef3456", "--only", "IAM-01")
    assert unknown.code == 2
    assert "--organizational-unit: cannot list the accounts under ou-ab12-cdef3456" in unknown.err
    assert "ParentNotFoundException" in unknown.err and "Traceback" not in unknown.err


def test_accounts_are_opened_as_earlier_ones_finish(aws: Aws, collect: Any) -> None:
    """An organisation's clients and assumed-role credentials are held by a few accounts at a
    time: with one worker and one region, two accounts are open at once (twice the worker's
    slots), each next one opened when one of them has finished."""
    others = [f"{n}" * 12 for n in range(2, 7)]
    run = collect(
        "--accounts",
        ",".join([ACCOUNT, *others]),
        "--only",
        "IAM-01",
        "--only",
        "NET-01",
        "--region",
        "us-east-1",
        "--max-workers",
        "1",
    )
    assert run.code in (0, 1), run.err
    spans = []
    for folder in (run.pack / "raw").iterdir():
        if not folder.is_dir():
            continue
        times = [
            call["time"]
            for path in folder.rglob("*.json")
            for call in json.loads(path.read_text())["calls"]
        ]
        spans.append((min(times), max(times)))
    assert len(spans) == 6
    open_at_once = max(sum(1 for s in spans if s[0] <= t <= s[1]) for t, _ in spans)
    assert open_at_once == 2
