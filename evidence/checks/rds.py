"""RDS checks: snapshots are not public; databases are Multi-AZ."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import CollectionError, Item, Status
from ..sources.rds import RDS_DATABASES, RDS_SNAPSHOTS
from .base import NoParams, ScopeContext, check, events


@check(
    "rds.snapshot_public",
    summary="No DB snapshot or DB cluster snapshot of the account is public.",
    procedure=(
        "In each region, list every DB snapshot (rds:DescribeDBSnapshots) and DB cluster snapshot"
        " (rds:DescribeDBClusterSnapshots); for each manual one read its `restore` attribute"
        " (rds:DescribeDBSnapshotAttributes, rds:DescribeDBClusterSnapshotAttributes). A snapshot"
        " whose `restore` attribute contains `all` fails. Automated snapshots cannot be shared."
    ),
    params=NoParams,
    sources=(RDS_SNAPSHOTS,),
    change_events=events(
        "rds",
        "CreateDBSnapshot",
        "CopyDBSnapshot",
        "DeleteDBSnapshot",
        "ModifyDBSnapshotAttribute",
        "CreateDBClusterSnapshot",
        "CopyDBClusterSnapshot",
        "DeleteDBClusterSnapshot",
        "ModifyDBClusterSnapshotAttribute",
    ),
)
def snapshot_public(ctx: ScopeContext[NoParams]) -> Iterator[Item | CollectionError]:
    for snapshot in ctx.get(RDS_SNAPSHOTS).snapshots:
        if snapshot.failure is not None:
            yield from ctx.unread(snapshot.identifier, snapshot.failure, snapshot.arn)
            continue
        shared = [v for v in snapshot.restore or () if v != "all"]
        if snapshot.restore is None and snapshot.snapshot_type == "manual":
            # Manual snapshots can be shared: no attribute answer is no proof.
            status, detail = Status.ERROR, "restore attribute not read"
        elif snapshot.restore is None:
            status, detail = Status.PASS, f"{snapshot.snapshot_type} snapshot: cannot be shared"
        elif "all" in snapshot.restore:
            status, detail = Status.FAIL, "public: restore attribute contains all"
        else:
            status, detail = Status.PASS, "private"
            if shared:
                detail += f" (shared with {', '.join(shared)})"
        yield ctx.item(
            snapshot.identifier,
            status,
            detail,
            snapshot.arn,
            kind=f"{snapshot.kind} snapshot",
            snapshot_type=snapshot.snapshot_type,
            source=snapshot.source,
            created=snapshot.created,
            encrypted=snapshot.encrypted,
            restore=list(snapshot.restore) if snapshot.restore is not None else None,
        )


@dataclass(frozen=True)
class MultiAzParams:
    # Only instances carrying all these tags are in scope (e.g. {Environment: production}).
    tags: dict[str, str] = field(default_factory=dict)


def _tags(resource: Mapping[str, Any]) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in resource.get("TagList", [])}


def instances_in_scope(
    ctx: ScopeContext[Any], wanted: Mapping[str, str]
) -> Iterator[tuple[Mapping[str, Any], dict[str, str]]]:
    for instance in ctx.get(RDS_DATABASES).instances:
        tags = _tags(instance)
        if all(tags.get(key) == value for key, value in wanted.items()):
            yield instance, tags
        else:
            identifier = str(instance["DBInstanceIdentifier"])
            ctx.exclude(identifier, "outside the scope (`tags` parameter)")


@check(
    "rds.multi_az",
    summary="Every DB instance in scope is deployed across several Availability Zones.",
    procedure=(
        "In each region, list every DB instance (rds:DescribeDBInstances) and DB cluster"
        " (rds:DescribeDBClusters). An instance passes if MultiAZ is true, or if it belongs to a"
        " cluster that is Multi-AZ or whose member instances span several Availability Zones."
        " With the `tags` parameter, only instances carrying those tags are in the population."
    ),
    params=MultiAzParams,
    sources=(RDS_DATABASES,),
    change_events=events(
        "rds",
        "CreateDBInstance",
        "DeleteDBInstance",
        "ModifyDBInstance",
        "RestoreDBInstanceFromDBSnapshot",
        "ModifyDBCluster",
    ),
)
def multi_az(ctx: ScopeContext[MultiAzParams]) -> Iterator[Item]:
    data = ctx.get(RDS_DATABASES)
    member_zones: dict[str, set[str]] = {}
    for instance in data.instances:
        if cluster_id := instance.get("DBClusterIdentifier"):
            member_zones.setdefault(cluster_id, set()).add(instance.get("AvailabilityZone", ""))
    for instance, tags in instances_in_scope(ctx, ctx.params.tags):
        cluster_id = instance.get("DBClusterIdentifier")
        if cluster_id:
            cluster = data.clusters.get(cluster_id, {})
            zones = sorted(member_zones.get(cluster_id, set()) - {""})
            multi = bool(cluster.get("MultiAZ")) or len(zones) > 1
            how = f"cluster {cluster_id} spans {', '.join(zones) or 'unknown zones'}"
        else:
            multi = bool(instance.get("MultiAZ"))
            zones = [
                z
                for z in (
                    instance.get("AvailabilityZone"),
                    instance.get("SecondaryAvailabilityZone"),
                )
                if z
            ]
            how = "Multi-AZ deployment" if multi else f"single AZ {', '.join(zones) or 'unknown'}"
        yield ctx.item(
            str(instance["DBInstanceIdentifier"]),
            Status.PASS if multi else Status.FAIL,
            how,
            str(instance.get("DBInstanceArn", "")),
            engine=instance.get("Engine"),
            instance_class=instance.get("DBInstanceClass"),
            multi_az=multi,
            availability_zones=zones,
            db_cluster=cluster_id,
            tags=tags,
        )


@check(
    "rds.encryption",
    summary="Every DB instance in scope encrypts its storage.",
    procedure=(
        "In each region, list every DB instance (rds:DescribeDBInstances) and check"
        " StorageEncrypted (for Aurora, the cluster's storage). With the `tags` parameter, only"
        " instances carrying those tags are in the population."
    ),
    params=MultiAzParams,
    sources=(RDS_DATABASES,),
    change_events=events(
        "rds", "CreateDBInstance", "DeleteDBInstance", "RestoreDBInstanceFromDBSnapshot"
    ),
)
def rds_encryption(ctx: ScopeContext[MultiAzParams]) -> Iterator[Item]:
    for instance, tags in instances_in_scope(ctx, ctx.params.tags):
        encrypted = bool(instance.get("StorageEncrypted"))
        yield ctx.item(
            str(instance["DBInstanceIdentifier"]),
            Status.PASS if encrypted else Status.FAIL,
            "storage encrypted" if encrypted else "storage not encrypted",
            str(instance.get("DBInstanceArn", "")),
            engine=instance.get("Engine"),
            kms_key_id=instance.get("KmsKeyId"),
            tags=tags,
        )
