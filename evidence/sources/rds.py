"""RDS sources: DB and cluster snapshots with their restore attributes; instances and clusters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..pack.raw import RawSource, ResourceFailure
from .base import FetchContext, Scope, Source, register

_PAGE = {"PageSize": 100}  # RDS's maximum page size


@dataclass(frozen=True)
class RdsSnapshot:
    identifier: str
    arn: str
    kind: str  # "db" or "cluster"
    snapshot_type: str  # manual, automated, ...
    source: str  # DB instance or cluster identifier
    created: str | None
    encrypted: bool
    restore: tuple[str, ...] | None  # the `restore` attribute; None when AWS cannot share it
    failure: ResourceFailure | None = None  # its attributes could not be read


@dataclass(frozen=True)
class RdsSnapshots:
    snapshots: tuple[RdsSnapshot, ...]


# What differs between DB snapshots and cluster snapshots is only names: declared once as data.
@dataclass(frozen=True)
class _SnapshotKind:
    kind: str
    list_method: str
    list_operation: str
    list_key: str
    id_field: str
    arn_field: str
    source_field: str
    created_field: str
    attributes_method: str
    attributes_operation: str
    attributes_key: str
    attributes_list_key: str


_KINDS = (
    _SnapshotKind(
        "db",
        "describe_db_snapshots",
        "DescribeDBSnapshots",
        "DBSnapshots",
        "DBSnapshotIdentifier",
        "DBSnapshotArn",
        "DBInstanceIdentifier",
        "SnapshotCreateTime",
        "describe_db_snapshot_attributes",
        "DescribeDBSnapshotAttributes",
        "DBSnapshotAttributesResult",
        "DBSnapshotAttributes",
    ),
    _SnapshotKind(
        "cluster",
        "describe_db_cluster_snapshots",
        "DescribeDBClusterSnapshots",
        "DBClusterSnapshots",
        "DBClusterSnapshotIdentifier",
        "DBClusterSnapshotArn",
        "DBClusterIdentifier",
        "SnapshotCreateTime",
        "describe_db_cluster_snapshot_attributes",
        "DescribeDBClusterSnapshotAttributes",
        "DBClusterSnapshotAttributesResult",
        "DBClusterSnapshotAttributes",
    ),
)


def _shareable(snapshot: Mapping[str, Any]) -> bool:
    # Only manual snapshots can be shared; automated ones cannot be made public at all.
    return snapshot.get("SnapshotType") == "manual"


def _fetch_snapshots(ctx: FetchContext) -> None:
    rds = ctx.client("rds")
    for kind in _KINDS:
        identifiers = [
            snapshot[kind.id_field]
            for page in rds.get_paginator(kind.list_method).paginate(PaginationConfig=_PAGE)
            for snapshot in page[kind.list_key]
            if _shareable(snapshot)
        ]
        ask: Callable[..., Any] = getattr(rds, kind.attributes_method)

        def attributes(arguments: dict[str, str], ask: Callable[..., Any] = ask) -> Any:
            return ask(**arguments)

        ctx.each_resource(
            f"{kind.kind}_snapshot", {i: {kind.id_field: i} for i in identifiers}, attributes
        )


def _restore_values(raw: RawSource, kind: _SnapshotKind) -> dict[str, tuple[str, ...]]:
    values: dict[str, tuple[str, ...]] = {}
    for call in raw.successful(kind.attributes_operation):
        result = (call.response or {}).get(kind.attributes_key, {})
        restore: tuple[str, ...] = ()
        for attribute in result.get(kind.attributes_list_key, []):
            if attribute.get("AttributeName") == "restore":
                restore = tuple(attribute.get("AttributeValues", []))
        values[str(call.parameters[kind.id_field])] = restore
    return values


def _parse_snapshots(raw: RawSource) -> RdsSnapshots:
    found: list[RdsSnapshot] = []
    for kind in _KINDS:
        restore = _restore_values(raw, kind)
        failed = raw.failed_resources(f"{kind.kind}_snapshot")
        for call in raw.successful(kind.list_operation):
            for snapshot in (call.response or {}).get(kind.list_key, []):
                identifier = str(snapshot[kind.id_field])
                found.append(
                    RdsSnapshot(
                        identifier=identifier,
                        arn=str(snapshot.get(kind.arn_field, "")),
                        kind=kind.kind,
                        snapshot_type=str(snapshot.get("SnapshotType", "")),
                        source=str(snapshot.get(kind.source_field, "")),
                        created=snapshot.get(kind.created_field),
                        encrypted=bool(snapshot.get("StorageEncrypted", snapshot.get("Encrypted"))),
                        restore=restore.get(identifier) if _shareable(snapshot) else None,
                        failure=failed.get(identifier),
                    )
                )
    return RdsSnapshots(tuple(found))


RDS_SNAPSHOTS = register(
    Source(
        name="rds.snapshots",
        scope=Scope.REGIONAL,
        actions=(
            "rds:DescribeDBSnapshots",
            "rds:DescribeDBSnapshotAttributes",
            "rds:DescribeDBClusterSnapshots",
            "rds:DescribeDBClusterSnapshotAttributes",
        ),
        fetch=_fetch_snapshots,
        parse=_parse_snapshots,
    )
)


@dataclass(frozen=True)
class RdsDatabases:
    instances: tuple[Mapping[str, Any], ...]
    clusters: Mapping[str, Mapping[str, Any]]  # by DBClusterIdentifier


def _fetch_databases(ctx: FetchContext) -> None:
    rds = ctx.client("rds")
    for method in ("describe_db_instances", "describe_db_clusters"):
        for _ in rds.get_paginator(method).paginate(PaginationConfig=_PAGE):
            pass


def _parse_databases(raw: RawSource) -> RdsDatabases:
    instances = [
        instance
        for call in raw.successful("DescribeDBInstances")
        for instance in (call.response or {}).get("DBInstances", [])
    ]
    clusters = {
        str(cluster["DBClusterIdentifier"]): cluster
        for call in raw.successful("DescribeDBClusters")
        for cluster in (call.response or {}).get("DBClusters", [])
    }
    return RdsDatabases(tuple(instances), clusters)


RDS_DATABASES = register(
    Source(
        name="rds.databases",
        scope=Scope.REGIONAL,
        actions=("rds:DescribeDBInstances", "rds:DescribeDBClusters"),
        fetch=_fetch_databases,
        parse=_parse_databases,
    )
)
