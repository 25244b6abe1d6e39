"""EBS/RDS snapshot visibility and RDS Multi-AZ against the moto server: pass, fail, error."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ACCOUNT, Aws, write_controls

OTHER_ACCOUNT = "999999999999"


def snapshot(
    aws: Aws, region: str = "us-east-1", public: bool = False, shared_with: str | None = None
) -> str:
    ec2 = aws.client("ec2", region)
    volume = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8)
    snapshot_id: str = ec2.create_snapshot(VolumeId=volume["VolumeId"])["SnapshotId"]
    if public:
        ec2.modify_snapshot_attribute(
            SnapshotId=snapshot_id,
            Attribute="createVolumePermission",
            OperationType="add",
            GroupNames=["all"],
        )
    if shared_with:
        ec2.modify_snapshot_attribute(
            SnapshotId=snapshot_id,
            Attribute="createVolumePermission",
            OperationType="add",
            UserIds=[shared_with],
        )
    return snapshot_id


# ---------------------------------------------------------------- EBS snapshots


def test_public_ebs_snapshot_fails_in_the_region_it_is_in(aws: Aws, collect: Any) -> None:
    private = snapshot(aws, "us-east-1")
    shared = snapshot(aws, "us-east-1", shared_with=OTHER_ACCOUNT)
    public = snapshot(aws, "eu-west-1", public=True)
    run = collect("--only", "EC2-01", "--region", "us-east-1", "--region", "eu-west-1")
    control = run.control("EC2-01")
    assert run.code == 1
    assert control["population"] == 3
    (failing,) = control["failing"]
    assert (failing["resource"], failing["region"]) == (public, "eu-west-1")
    assert failing["arn"] == f"arn:aws:ec2:eu-west-1::snapshot/{public}"
    by_id = {i["resource"]: i for i in control["items"]}
    assert by_id[private]["status"] == "pass"
    assert by_id[shared]["detail"] == f"private (shared with {OTHER_ACCOUNT})"


def test_candidates_are_confirmed_from_the_attribute(aws: Aws, collect: Any) -> None:
    # moto ignores RestorableByUserIds: every snapshot comes back as a candidate. Each must be
    # confirmed from its createVolumePermission before anything is called public or private.
    ids = {snapshot(aws) for _ in range(3)}
    run = collect("--only", "EC2-01", "--region", "us-east-1")
    control = run.control("EC2-01")
    assert control["status"] == "pass"
    assert all(i["attributes"]["attribute_checked"] for i in control["items"])
    raw = json.loads((run.pack / f"raw/{ACCOUNT}/us-east-1/ec2.snapshots.json").read_text())
    confirmed = {
        c["parameters"]["SnapshotId"]
        for c in raw["calls"]
        if c["operation"] == "DescribeSnapshotAttribute"
    }
    assert confirmed == ids
    listings = [c["parameters"] for c in raw["calls"] if c["operation"] == "DescribeSnapshots"]
    assert {"OwnerIds": ["self"], "MaxResults": 1000} in listings
    assert {"OwnerIds": ["self"], "RestorableByUserIds": ["all"], "MaxResults": 1000} in listings


def test_snapshots_owned_by_other_accounts_are_not_in_the_population(
    aws: Aws, collect: Any
) -> None:
    own = snapshot(aws)
    foreign = snapshot(aws, public=True)
    # As moto does with its built-in AMI snapshots: listed, but owned by another account.
    aws.backend("ec2", "us-east-1").snapshots[foreign].owner_id = OTHER_ACCOUNT
    run = collect("--only", "EC2-01", "--region", "us-east-1")
    control = run.control("EC2-01")
    assert [i["resource"] for i in control["items"]] == [own]
    assert control["status"] == "pass"
    assert run.results["run"]["calls_per_operation"]["ec2:DescribeSnapshotAttribute"] == 1


def test_ebs_snapshot_error_names_region_operation_and_code(aws: Aws, collect: Any) -> None:
    snapshot_id = snapshot(aws)
    aws.proxy.fail("DescribeSnapshotAttribute", "UnauthorizedOperation", status=403)
    run = collect("--only", "EC2-01", "--region", "us-east-1")
    control = run.control("EC2-01")
    # The one snapshot is an error item of its own; the others would still be judged.
    assert (run.code, control["status"], control["population"]) == (3, "error", 1)
    assert control["items"][0]["status"] == "error"
    assert control["errors"][0] == {
        "account": ACCOUNT,
        "region": "us-east-1",
        "operation": "DescribeSnapshotAttribute",
        "code": "UnauthorizedOperation",
        "message": f"snapshot {snapshot_id}: injected by the test proxy",
    }


# ---------------------------------------------------------------- RDS snapshots


def database(
    aws: Aws, identifier: str, region: str = "us-east-1", multi_az: bool = True, **extra: Any
) -> None:
    aws.client("rds", region).create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="password123",
        MultiAZ=multi_az,
        **extra,
    )


def test_public_db_and_cluster_snapshots_fail(aws: Aws, collect: Any) -> None:
    rds = aws.client("rds")
    database(aws, "orders")
    rds.create_db_snapshot(DBInstanceIdentifier="orders", DBSnapshotIdentifier="orders-private")
    rds.create_db_snapshot(DBInstanceIdentifier="orders", DBSnapshotIdentifier="orders-public")
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="orders-public", AttributeName="restore", ValuesToAdd=["all"]
    )
    rds.create_db_cluster(
        DBClusterIdentifier="billing",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="password123",
    )
    rds.create_db_cluster_snapshot(
        DBClusterIdentifier="billing", DBClusterSnapshotIdentifier="billing-public"
    )
    rds.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="billing-public", AttributeName="restore", ValuesToAdd=["all"]
    )
    control = collect("--only", "RDS-01", "--region", "us-east-1").control("RDS-01")
    assert control["status"] == "fail"
    assert sorted(i["resource"] for i in control["failing"]) == ["billing-public", "orders-public"]
    kinds = {i["resource"]: i["attributes"]["kind"] for i in control["items"]}
    assert kinds["billing-public"] == "cluster snapshot"
    assert kinds["orders-private"] == "db snapshot"


def test_private_and_account_shared_rds_snapshots_pass(aws: Aws, collect: Any) -> None:
    rds = aws.client("rds")
    database(aws, "orders")
    rds.create_db_snapshot(DBInstanceIdentifier="orders", DBSnapshotIdentifier="orders-shared")
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="orders-shared", AttributeName="restore", ValuesToAdd=[OTHER_ACCOUNT]
    )
    control = collect("--only", "RDS-01", "--region", "us-east-1").control("RDS-01")
    assert control["status"] == "pass"
    shared = next(i for i in control["items"] if i["resource"] == "orders-shared")
    assert shared["detail"] == f"private (shared with {OTHER_ACCOUNT})"
    assert shared["attributes"]["restore"] == [OTHER_ACCOUNT]


def test_rds_snapshot_error_when_attributes_are_denied(aws: Aws, collect: Any) -> None:
    database(aws, "orders")
    aws.client("rds").create_db_snapshot(DBInstanceIdentifier="orders", DBSnapshotIdentifier="s1")
    aws.proxy.fail("DescribeDBSnapshotAttributes", "AccessDenied", status=403)
    control = collect("--only", "RDS-01", "--region", "us-east-1").control("RDS-01")
    assert control["status"] == "error"
    assert control["errors"][0]["operation"] == "DescribeDBSnapshotAttributes"


# ---------------------------------------------------------------- RDS Multi-AZ


def test_single_az_instance_fails_and_aurora_across_zones_passes(aws: Aws, collect: Any) -> None:
    database(aws, "orders", multi_az=True)
    database(aws, "reporting", multi_az=False)
    rds = aws.client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="billing",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="password123",
    )
    for n, zone in (("1", "us-east-1a"), ("2", "us-east-1b")):
        rds.create_db_instance(
            DBInstanceIdentifier=f"billing-{n}",
            DBInstanceClass="db.r6g.large",
            Engine="aurora-postgresql",
            DBClusterIdentifier="billing",
            AvailabilityZone=zone,
        )
    control = collect("--only", "RDS-02", "--region", "us-east-1").control("RDS-02")
    assert control["population"] == 4
    assert [i["resource"] for i in control["failing"]] == ["reporting"]
    aurora = next(i for i in control["items"] if i["resource"] == "billing-1")
    assert aurora["status"] == "pass"
    assert aurora["attributes"]["availability_zones"] == ["us-east-1a", "us-east-1b"]


def test_multi_az_tag_filter_limits_the_population(aws: Aws, collect: Any, tmp_path: Any) -> None:
    database(aws, "orders", multi_az=True, Tags=[{"Key": "env", "Value": "prod"}])
    database(aws, "scratch", multi_az=False, Tags=[{"Key": "env", "Value": "dev"}])
    controls = write_controls(
        tmp_path / "controls.yaml",
        """\
  - id: DB-1
    title: Production databases are Multi-AZ
    criteria: [A1.2]
    check: rds.multi_az
    params:
      tags: {env: prod}
""",
    )
    run = collect("--region", "us-east-1", controls=controls)
    control = run.control("DB-1")
    assert (run.code, control["status"]) == (0, "pass")
    assert [i["resource"] for i in control["items"]] == ["orders"]


def test_multi_az_error_when_instances_cannot_be_listed(aws: Aws, collect: Any) -> None:
    aws.proxy.fail("DescribeDBInstances", "AccessDenied", status=403)
    control = collect("--only", "RDS-02", "--region", "us-east-1").control("RDS-02")
    assert control["status"] == "error"
    assert control["errors"][0]["operation"] == "DescribeDBInstances"
