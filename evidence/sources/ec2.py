"""EC2 sources: the account's own EBS snapshots and which of them anyone can restore."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..pack.raw import RawSource, ResourceFailure
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
    failures: Mapping[str, ResourceFailure] = field(default_factory=dict)  # unconfirmed


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
    ctx.each_resource(
        "snapshot",
        {snapshot_id: snapshot_id for snapshot_id in candidates},
        lambda snapshot_id: ec2.describe_snapshot_attribute(
            Attribute="createVolumePermission", SnapshotId=snapshot_id
        ),
    )


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
        failures=raw.failed_resources("snapshot"),
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


def _listing_source(
    name: str, actions: tuple[str, ...], listings: tuple[tuple[str, str, dict[str, Any]], ...]
) -> Source[Mapping[str, tuple[Mapping[str, Any], ...]]]:
    """A regional source made of complete paginated listings: (method, result key, arguments).
    Parsed as result key -> every entry of every page."""

    def fetch(ctx: FetchContext) -> None:
        ec2 = ctx.client("ec2")
        for method, _, arguments in listings:
            for _ in ec2.get_paginator(method).paginate(**arguments):
                pass

    def parse(raw: RawSource) -> Mapping[str, tuple[Mapping[str, Any], ...]]:
        found: dict[str, list[Mapping[str, Any]]] = {key: [] for _, key, _ in listings}
        for call in raw.calls:
            if call.error is None and call.response is not None:
                for key in found:
                    found[key].extend(call.response.get(key, []))
        return {key: tuple(values) for key, values in found.items()}

    return register(Source(name, Scope.REGIONAL, actions, fetch, parse))


_PAGE = {"PaginationConfig": {"PageSize": 1000}}

SECURITY_GROUPS = _listing_source(
    "ec2.security_groups",
    (
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeNetworkInterfaces",
    ),
    (
        ("describe_security_groups", "SecurityGroups", _PAGE),
        ("describe_security_group_rules", "SecurityGroupRules", _PAGE),
        # What a group is attached to: every network interface names its groups.
        ("describe_network_interfaces", "NetworkInterfaces", _PAGE),
    ),
)

INSTANCES = _listing_source(
    "ec2.instances",
    ("ec2:DescribeInstances",),
    (
        (
            "describe_instances",
            "Reservations",
            {
                "Filters": [
                    {
                        "Name": "instance-state-name",
                        "Values": ["pending", "running", "stopping", "stopped"],
                    }
                ],
                **_PAGE,
            },
        ),
    ),
)


def _fetch_ebs_default(ctx: FetchContext) -> None:
    ctx.client("ec2").get_ebs_encryption_by_default()


def _parse_ebs_default(raw: RawSource) -> bool:
    for call in raw.successful("GetEbsEncryptionByDefault"):
        return bool((call.response or {}).get("EbsEncryptionByDefault"))
    raise ValueError("no GetEbsEncryptionByDefault answer recorded")


EBS_ENCRYPTION_DEFAULT = register(
    Source(
        name="ec2.ebs_encryption_default",
        scope=Scope.REGIONAL,
        actions=("ec2:GetEbsEncryptionByDefault",),
        fetch=_fetch_ebs_default,
        parse=_parse_ebs_default,
    )
)


@dataclass(frozen=True)
class PrefixLists:
    """The managed prefix lists security group rules refer to, with their CIDR entries."""

    entries: Mapping[str, tuple[str, ...]]  # prefix list id -> CIDRs
    names: Mapping[str, str]  # prefix list id -> name
    owners: Mapping[str, str]  # prefix list id -> owner (an account id, or AWS)
    failures: Mapping[str, ResourceFailure]  # prefix list id -> why its entries were not read


def _fetch_prefix_lists(ctx: FetchContext) -> None:
    rules = ctx.read(SECURITY_GROUPS)["SecurityGroupRules"]
    ids = sorted({str(r["PrefixListId"]) for r in rules if r.get("PrefixListId")})
    if not ids:
        return
    ec2 = ctx.client("ec2")
    for _ in ec2.get_paginator("describe_managed_prefix_lists").paginate(PrefixListIds=ids):
        pass

    def entries(prefix_list_id: str) -> None:
        pages = ec2.get_paginator("get_managed_prefix_list_entries")
        for _ in pages.paginate(PrefixListId=prefix_list_id):
            pass

    ctx.each_resource("prefix_list", {i: i for i in ids}, entries)


def _parse_prefix_lists(raw: RawSource) -> PrefixLists:
    entries: dict[str, list[str]] = {}
    for call in raw.successful("GetManagedPrefixListEntries"):
        found = entries.setdefault(str(call.parameters["PrefixListId"]), [])
        found.extend(str(e["Cidr"]) for e in (call.response or {}).get("Entries", []))
    described = [
        p
        for call in raw.successful("DescribeManagedPrefixLists")
        for p in (call.response or {}).get("PrefixLists", [])
    ]
    return PrefixLists(
        {k: tuple(v) for k, v in entries.items()},
        {str(p["PrefixListId"]): str(p.get("PrefixListName", "")) for p in described},
        {str(p["PrefixListId"]): str(p.get("OwnerId", "")) for p in described},
        raw.failed_resources("prefix_list"),
    )


PREFIX_LISTS = register(
    Source(
        name="ec2.prefix_lists",
        scope=Scope.REGIONAL,
        actions=("ec2:DescribeManagedPrefixLists", "ec2:GetManagedPrefixListEntries"),
        fetch=_fetch_prefix_lists,
        parse=_parse_prefix_lists,
        after=(SECURITY_GROUPS,),
    )
)
