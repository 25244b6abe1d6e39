"""EC2 sources: the account's own EBS snapshots and which of them anyone can restore."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..rawstore import RawSource
from .base import FetchContext, Scope, Source, register

_PAGE_SIZE = 1000


@dataclass(frozen=True)
class VolumePermissions:
    public: bool  # createVolumePermission includes Group=all
    shared_with: tuple[str, ...]  # account ids it is shared with


@dataclass(frozen=True)
class EbsSnapshots:
    snapshots: tuple[Mapping[str, Any], ...]  # DescribeSnapshots entries owned by the account
    candidates: frozenset[str]  # ids AWS listed as restorable by all
    permissions: Mapping[str, VolumePermissions]  # confirmed per candidate


def _fetch_snapshots(ctx: FetchContext) -> None:
    ec2 = ctx.client("ec2")
    paginator = ec2.get_paginator("describe_snapshots")
    config = {"PageSize": _PAGE_SIZE}
    # The population: every snapshot the account owns.
    for _ in paginator.paginate(OwnerIds=["self"], PaginationConfig=config):
        pass
    # One filtered listing names the public ones; each is then confirmed from its attribute,
    # because a filter alone is not proof (and some emulators ignore it).
    candidates = [
        snapshot["SnapshotId"]
        for page in paginator.paginate(
            OwnerIds=["self"], RestorableByUserIds=["all"], PaginationConfig=config
        )
        for snapshot in page["Snapshots"]
        if snapshot.get("OwnerId") == ctx.account
    ]
    for snapshot_id in candidates:
        ec2.describe_snapshot_attribute(Attribute="createVolumePermission", SnapshotId=snapshot_id)


def _parse_snapshots(raw: RawSource) -> EbsSnapshots:
    snapshots: dict[str, Mapping[str, Any]] = {}
    candidates: set[str] = set()
    permissions: dict[str, VolumePermissions] = {}
    for call in raw.successful("DescribeSnapshots"):
        owned = [
            s for s in (call.response or {}).get("Snapshots", []) if s.get("OwnerId") == raw.account
        ]
        if "RestorableByUserIds" in call.parameters:
            candidates.update(s["SnapshotId"] for s in owned)
        else:
            snapshots.update((s["SnapshotId"], s) for s in owned)
    for call in raw.successful("DescribeSnapshotAttribute"):
        grants = (call.response or {}).get("CreateVolumePermissions", [])
        permissions[str(call.parameters["SnapshotId"])] = VolumePermissions(
            public=any(grant.get("Group") == "all" for grant in grants),
            shared_with=tuple(sorted(g["UserId"] for g in grants if "UserId" in g)),
        )
    return EbsSnapshots(
        snapshots=tuple(snapshots[k] for k in sorted(snapshots)),
        candidates=frozenset(candidates),
        permissions=permissions,
    )


EBS_SNAPSHOTS = register(
    Source(
        name="ec2.snapshots",
        scope=Scope.REGIONAL,
        actions=("ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"),
        fetch=_fetch_snapshots,
        parse=_parse_snapshots,
    )
)
