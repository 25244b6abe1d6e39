"""The IPE block: every control shows how complete its population is, as an auditor tests
information produced by the entity (queries as made, reconciliations, exclusions, regions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader

from evidence.catalog.loader import load_catalog
from evidence.evaluate.engine import evaluate
from evidence.model import ControlResult
from evidence.pack.raw import RawSource, RawStore, json_bytes, raw_path
from evidence.pack.runinfo import AccountRun, RunInfo
from evidence.sources.base import Source
from evidence.sources.counts import RDS_QUOTAS
from evidence.sources.ec2 import EBS_SNAPSHOTS
from evidence.sources.rds import RDS_DATABASES
from tests.conftest import ACCOUNT, REPO_CONTROLS, Aws, write_controls
from tests.test_checks_ec2_rds import database, snapshot
from tests.test_checks_iam import console_user
from tests.test_checks_stubbed import StubbedAccount

REGION = "us-east-1"


def labelled(pack: Path, sheet_name: str) -> dict[str, list[str]]:
    """A sheet's label / value rows (the header blocks), reopened with openpyxl."""
    sheet = load_workbook(next(pack.glob("*.xlsx")), read_only=True)[sheet_name]
    found: dict[str, list[str]] = {}
    for row in sheet.iter_rows(values_only=True):
        if len(row) >= 2 and isinstance(row[0], str):
            found.setdefault(row[0], []).append(str(row[1]))
    return found


def ipe(run: Any, control_id: str) -> dict[str, Any]:
    block: dict[str, Any] = run.control(control_id)["ipe"]
    return block


def queries(block: dict[str, Any], operation: str) -> list[dict[str, Any]]:
    return [q for q in block["queries"] if q["operation"] == operation]


# ---------------------------------------------------------------- queries as made


def test_each_parameter_set_is_its_own_query_with_pages_and_records(aws: Aws, collect: Any) -> None:
    ids = sorted(snapshot(aws) for _ in range(3))
    run = collect("--only", "EC2-01", "--region", REGION)
    block = ipe(run, "EC2-01")
    population, candidates = queries(block, "DescribeSnapshots")  # two queries, not one line
    assert population["parameters"] == {"OwnerIds": ["self"], "MaxResults": 1000}
    assert candidates["parameters"]["RestorableByUserIds"] == ["all"]
    for listing in (population, candidates):
        assert (listing["pages"], listing["items"], listing["complete"]) == (1, 3, True)
        assert listing["paginated"] is True
        assert listing["records"] == {"Snapshots": 3}
        assert listing["raw_file"] == raw_path("ec2.snapshots", ACCOUNT, REGION)
        assert (listing["account"], listing["region"]) == (ACCOUNT, REGION)
    lookups = queries(block, "DescribeSnapshotAttribute")
    assert sorted(q["parameters"]["SnapshotId"] for q in lookups) == ids
    assert all(q["complete"] and not q["paginated"] for q in lookups)
    # The enabled-region listing the regions line rests on is a query of this control too.
    (regions,) = queries(block, "DescribeRegions")
    assert regions["region"] == "global" and regions["items"] == 38


def databases(aws: Aws, count: int) -> None:
    for n in range(count):
        database(aws, f"db-{n:03d}")


def test_every_page_of_a_listing_is_one_query(aws: Aws, collect: Any) -> None:
    databases(aws, 101)  # RDS pages hold at most 100 records
    run = collect("--only", "RDS-02", "--region", REGION)
    (listing,) = queries(ipe(run, "RDS-02"), "DescribeDBInstances")
    assert listing["parameters"] == {"MaxRecords": 100}  # the page token is not a parameter set
    assert (listing["pages"], listing["items"], listing["complete"]) == (2, 101, True)
    assert run.control("RDS-02")["population"] == 101


def test_a_listing_cut_short_did_not_run_to_the_end(aws: Aws, collect: Any) -> None:
    databases(aws, 101)
    # The second page (its request carries the Marker) is refused.
    aws.proxy.fail("DescribeDBInstances", "AccessDenied", status=403, body_contains="Marker")
    run = collect("--only", "RDS-02", "--region", REGION)
    (listing,) = queries(ipe(run, "RDS-02"), "DescribeDBInstances")
    assert (listing["pages"], listing["items"], listing["complete"]) == (2, 100, False)
    assert listing["errors"] == ["AccessDenied"]
    assert run.control("RDS-02")["status"] == "error"


def test_not_configured_is_an_answer_and_a_refusal_is_not(aws: Aws, collect: Any) -> None:
    aws.client("s3").create_bucket(Bucket="data")
    aws.proxy.fail("GetBucketEncryption", "AccessDenied", status=403)
    run = collect("--only", "IAM-01", "--only", "ENC-03")
    # No password policy: AWS answers NoSuchEntity (HTTP 404), the evidence that none is set.
    (policy,) = queries(ipe(run, "IAM-01"), "GetAccountPasswordPolicy")
    assert (policy["complete"], policy["errors"], policy["items"]) == (True, ["NoSuchEntity"], 0)
    (refused,) = queries(ipe(run, "ENC-03"), "GetBucketEncryption")
    assert (refused["complete"], refused["errors"]) == (False, ["AccessDenied"])
    (listing,) = queries(ipe(run, "ENC-03"), "ListBuckets")
    assert listing["complete"] is True


# ---------------------------------------------------------------- reconciliations


def with_root_row(aws: Aws) -> None:
    """AWS's credential report always has a <root_account> row; moto's has none, so the test
    adds it in moto's in-process backend (reset with the server between tests)."""
    backend = aws.backend("iam")
    original = backend.get_credential_report
    root = (
        f"<root_account>,arn:aws:iam::{ACCOUNT}:root,2020-01-01T00:00:00+00:00,not_supported,"
        "2024-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,"
        "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    )

    def report() -> str:
        header, rows = original().split("\n", 1)
        return f"{header}\n{root}{rows}"

    backend.get_credential_report = report


def users_reconciliation(run: Any, control_id: str = "IAM-03") -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        r for r in ipe(run, control_id)["reconciliations"] if r["subject"] == "IAM users"
    ]
    assert len(found) == 1
    return found[0]


def test_credential_report_rows_reconcile_with_the_account_summary(aws: Aws, collect: Any) -> None:
    with_root_row(aws)
    for name in ("alice", "bob", "carol"):
        console_user(aws, name, mfa=True)
    run = collect("--only", "IAM-03")
    found = users_reconciliation(run)
    assert (found["listed"]["count"], found["independent"]["count"]) == (4, 4)
    assert found["result"] == "match"
    assert found["independent"]["source"].startswith("iam:GetAccountSummary Users")
    # The independent count is evidence of the control: its file is listed and hashed.
    paths = [e["path"] for e in run.control("IAM-03")["evidence"]]
    assert raw_path("iam.account_summary", ACCOUNT, "global") in paths
    assert queries(ipe(run, "IAM-03"), "GetAccountSummary")


def test_users_created_between_the_two_calls_are_a_mismatch(aws: Aws, collect: Any) -> None:
    with_root_row(aws)
    console_user(aws, "alice", mfa=True)
    iam = aws.client("iam")

    def hire() -> None:
        for name in ("dave", "erin"):
            iam.create_user(UserName=name)

    # Whichever of the two is answered first, the other sees two more users.
    aws.proxy.after_first({"GetCredentialReport", "GetAccountSummary"}, hire)
    run = collect("--only", "IAM-03", "--max-workers", "1")
    found = users_reconciliation(run)
    assert found["result"] == "mismatch"
    assert abs(found["listed"]["count"] - found["independent"]["count"]) == 2
    assert "4 hours" in found["detail"]  # the report's own time is named as a cause
    # Flagged in the exports too, not only in results.json.
    assert any(
        "IAM users: MISMATCH" in v for v in labelled(run.pack, "IAM-03")["IPE: reconciliation"]
    )
    pdf = "\n".join(p.extract_text() for p in PdfReader(next(run.pack.glob("*.pdf"))).pages)
    assert "MISMATCH" in pdf


def test_a_report_without_its_root_row_does_not_reconcile(aws: Aws, collect: Any) -> None:
    console_user(aws, "alice", mfa=True)
    found = users_reconciliation(collect("--only", "IAM-03"))
    assert (found["listed"]["count"], found["independent"]["count"]) == (1, 2)
    assert found["result"] == "mismatch"
    assert "no <root_account> row" in found["detail"]


def test_an_independent_count_not_collected_is_said_not_performed(aws: Aws, collect: Any) -> None:
    database(aws, "orders")
    run = collect("--only", "RDS-02", "--region", REGION)
    (found,) = ipe(run, "RDS-02")["reconciliations"]
    # moto lacks rds:DescribeAccountAttributes: the check is unaffected, the count says why.
    assert found["subject"] == "RDS DB instances"
    assert found["result"] == "not performed"
    assert found["detail"].startswith("DescribeAccountAttributes:")
    assert run.control("RDS-02")["status"] == "pass"
    aws.proxy.fail("GetAccountSummary", "AccessDenied", status=403)
    found = users_reconciliation(collect("--only", "IAM-03"))
    assert found["result"] == "not performed"
    assert "GetAccountSummary: AccessDenied" in found["detail"]


def test_snapshots_listed_reconcile_with_the_pages(aws: Aws, collect: Any) -> None:
    for _ in range(2):
        snapshot(aws)
    database(aws, "orders")
    aws.client("rds").create_db_snapshot(DBInstanceIdentifier="orders", DBSnapshotIdentifier="s")
    run = collect("--only", "EC2-01", "--only", "RDS-01", "--region", REGION)
    (ebs,) = ipe(run, "EC2-01")["reconciliations"]
    (rds,) = ipe(run, "RDS-01")["reconciliations"]
    assert (ebs["subject"], ebs["listed"]["count"], ebs["independent"]["count"]) == (
        "EBS snapshots",
        2,
        2,
    )
    # The manual snapshot and the automated one the instance got.
    assert (rds["listed"]["count"], rds["independent"]["count"], rds["result"]) == (2, 2, "match")


# Offline: raw files collected through botocore's Stubber (moto serves no DescribeAccountAttributes
# and never repeats a record across pages), written as a pack's raw/ and evaluated from there.


def offline_results(tmp_path: Path, body: str, *raws: RawSource) -> ControlResult:
    for raw in raws:
        file = tmp_path / raw_path(raw.source, raw.account, raw.region)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(json_bytes(raw.to_json()))
    catalog = load_catalog(write_controls(tmp_path / "controls.yaml", body))
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    run = RunInfo(
        "test",
        ACCOUNT,
        "Test Co",
        f"arn:aws:iam::{ACCOUNT}:user/auditor",
        now,
        now,
        (AccountRun(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/auditor", regions=(REGION,)),),
        (REGION,),
        "controls.yaml",
        catalog.sha256,
        tuple(catalog.ids()),
    )
    (result,) = evaluate(catalog, RawStore(tmp_path), run)
    return result


def collected(account: StubbedAccount, *sources: Source[Any]) -> list[RawSource]:
    raws = [account.collect(source) for source in sources]
    for stub in account.stubs.values():
        stub.assert_no_pending_responses()
    return raws


MULTI_AZ = "  - {id: RDS-02, title: Multi-AZ, criteria: [A1.2], check: rds.multi_az}\n"


def rds_account(instances: int, used: int) -> StubbedAccount:
    account = StubbedAccount(region=REGION)
    rds = account.stub("rds")
    listed = [
        {"DBInstanceIdentifier": f"db-{n}", "MultiAZ": True, "Engine": "postgres"}
        for n in range(instances)
    ]
    rds.add_response("describe_db_instances", {"DBInstances": listed})
    rds.add_response("describe_db_clusters", {"DBClusters": []})
    rds.add_response(
        "describe_account_attributes",
        {
            "AccountQuotas": [
                {"AccountQuotaName": "DBInstances", "Used": used, "Max": 40},
                {"AccountQuotaName": "AllocatedStorage", "Used": 20, "Max": 100000},
            ]
        },
    )
    return account


def test_db_instances_reconcile_with_the_quota_usage(tmp_path: Path) -> None:
    for instances, used, result in ((3, 3, "match"), (3, 4, "mismatch")):
        account = rds_account(instances, used)
        raws = collected(account, RDS_DATABASES, RDS_QUOTAS)
        folder = tmp_path / result
        control = offline_results(folder, MULTI_AZ, *raws)
        assert control.ipe is not None
        (found,) = control.ipe.to_json()["reconciliations"]
        assert (found["listed"]["count"], found["independent"]["count"]) == (instances, used)
        assert found["result"] == result
        assert found["independent"]["source"] == (
            "rds:DescribeAccountAttributes quota DBInstances, Used"
        )


def test_a_snapshot_returned_twice_across_pages_is_a_mismatch(tmp_path: Path) -> None:
    account = StubbedAccount(region=REGION)
    ec2 = account.stub("ec2")

    def page(*ids: str, token: str | None = None) -> dict[str, Any]:
        snapshots = [{"SnapshotId": i, "OwnerId": ACCOUNT, "VolumeId": "vol-1"} for i in ids]
        return {"Snapshots": snapshots, **({"NextToken": token} if token else {})}

    # A snapshot created while the listing paged shifts the second page by one record.
    ec2.add_response("describe_snapshots", page("snap-1", "snap-2", token="next"))
    ec2.add_response("describe_snapshots", page("snap-2", "snap-3"))
    ec2.add_response("describe_snapshots", page())  # RestorableByUserIds=all: none
    (raw,) = collected(account, EBS_SNAPSHOTS)
    control = offline_results(
        tmp_path,
        "  - {id: EC2-01, title: Snapshots, criteria: [CC6.1], check: ec2.snapshot_public}\n",
        raw,
    )
    assert control.population == 3
    assert control.ipe is not None
    block = control.ipe.to_json()
    (found,) = block["reconciliations"]
    assert (found["listed"]["count"], found["independent"]["count"]) == (3, 4)
    assert found["result"] == "mismatch"
    assert found["detail"] == "returned more than once: snap-2"
    listing = next(q for q in block["queries"] if q["operation"] == "DescribeSnapshots")
    assert (listing["pages"], listing["items"], listing["complete"]) == (2, 4, True)


# ---------------------------------------------------------------- exclusions


def test_what_was_left_out_of_a_population_is_listed_with_reasons(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    with_root_row(aws)
    console_user(aws, "alice", mfa=True)
    iam = aws.client("iam")
    for name in ("ci-bot", "deploy-bot"):
        iam.create_user(UserName=name)  # no console password
    s3 = aws.client("s3")
    for bucket in ("prod-data", "scratch", "old-logs"):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket="prod-data", Tagging={"TagSet": [{"Key": "Env", "Value": "prod"}]})
    controls = write_controls(
        tmp_path / "controls.yaml",
        "  - {id: MFA, title: MFA, criteria: [CC6.1], check: iam.user_mfa}\n"
        "  - id: ENC\n    title: Encryption\n    criteria: [CC6.1]\n    check: s3.encryption\n"
        "    params: {tags: {Env: prod}}\n",
    )
    run = collect(controls=controls)
    mfa = {e["reason"]: e for e in ipe(run, "MFA")["exclusions"]}
    no_password = mfa["no console password (password_enabled false)"]
    assert (no_password["count"], no_password["resources"]) == (2, ["ci-bot", "deploy-bot"])
    assert mfa["the root user: judged by the root MFA check"]["resources"] == ["<root_account>"]
    # Population and exclusions together account for every row of the report.
    assert run.control("MFA")["population"] + sum(e["count"] for e in mfa.values()) == 4
    (outside,) = ipe(run, "ENC")["exclusions"]
    assert outside["reason"].startswith("outside the scope")
    assert sorted(outside["resources"]) == ["old-logs", "scratch"]
    assert outside["count"] == 2
    (excluded,) = labelled(run.pack, "ENC")["IPE: excluded"]
    assert "2 outside the scope" in excluded


# ---------------------------------------------------------------- regions


def summary_value(pack: Path, label: str) -> str:
    (value,) = labelled(pack, "Summary")[label]
    return value


def test_an_enabled_region_not_collected_is_named_on_the_control_and_the_cover(
    aws: Aws, collect: Any
) -> None:
    run = collect("--only", "EC2-01", "--only", "IAM-01", "--region", REGION)
    regions = ipe(run, "EC2-01")["regions"]
    (account,) = regions["accounts"]
    assert account["collected"] == [REGION]
    assert len(account["enabled"]) == 38  # moto: every region enabled
    assert "eu-west-1" in regions["not_collected"][ACCOUNT]
    assert REGION not in regions["not_collected"][ACCOUNT]
    assert len(regions["not_collected"][ACCOUNT]) == 37
    assert ipe(run, "IAM-01")["regions"] == {"scope": "global", "accounts": [], "not_collected": {}}
    # The control's sections and the pack's cover and Summary all say so.
    pages = [p.extract_text() for p in PdfReader(next(run.pack.glob("*.pdf"))).pages]
    assert "Not collected in these enabled regions" in pages[0]
    assert "eu-west-1" in pages[0]
    start = next(i for i, p in enumerate(pages) if p.startswith("EC2-01: EBS snapshots"))
    section = " ".join(" ".join(pages[start : start + 2]).split())  # lines wrap anywhere
    assert "Completeness of the population (IPE)" in section
    assert "NOT COLLECTED IN" in section
    assert "eu-west-1" in summary_value(run.pack, "Regions not collected")


def test_every_enabled_region_collected_leaves_no_gap(aws: Aws, collect: Any) -> None:
    run = collect("--only", "ENC-01", "--region", "all")
    regions = ipe(run, "ENC-01")["regions"]
    assert regions["not_collected"] == {}
    assert regions["accounts"][0]["enabled"] == regions["accounts"][0]["collected"]
    assert summary_value(run.pack, "Regions not collected").startswith("none")
    first_page = PdfReader(next(run.pack.glob("*.pdf"))).pages[0].extract_text()
    assert "Not collected in" not in first_page


def test_enabled_regions_that_cannot_be_listed_are_said_unknown(aws: Aws, collect: Any) -> None:
    aws.proxy.fail("DescribeRegions", "UnauthorizedOperation", status=403)
    run = collect("--only", "EC2-01", "--region", REGION)
    (account,) = ipe(run, "EC2-01")["regions"]["accounts"]
    assert account["enabled"] is None
    assert "DescribeRegions: UnauthorizedOperation" in account["enabled_source"]
    # The regions asked for are still collected: the listing only serves the IPE block.
    assert run.control("EC2-01")["status"] == "pass"


# ---------------------------------------------------------------- offline, and permissions


def test_the_ipe_block_is_rederived_offline_from_raw(aws: Aws, collect: Any, cli: Any) -> None:
    snapshot(aws)
    console_user(aws, "alice", mfa=False)
    run = collect("--only", "EC2-01", "--only", "IAM-03", "--region", REGION)
    exported = cli("export", str(run.pack))
    again = json.loads((exported.pack / "results.json").read_text())
    for control in again["controls"]:
        assert control["ipe"] == run.control(control["id"])["ipe"]


def test_independent_counts_are_in_the_least_privilege_policy(cli: Any) -> None:
    printed = cli(
        "permissions", "--controls", str(REPO_CONTROLS), "--only", "RDS-02", "--only", "IAM-03"
    )
    actions = json.loads(printed.out)["Statement"][0]["Action"]
    assert {"rds:DescribeAccountAttributes", "iam:GetAccountSummary"} <= set(actions)
