"""EC2 checks: public snapshots, open security groups, EBS default encryption, AZ spread."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import CollectionError, Item, Status
from ..sources.ec2 import (
    EBS_ENCRYPTION_DEFAULT,
    EBS_SNAPSHOTS,
    INSTANCES,
    PREFIX_LISTS,
    SECURITY_GROUPS,
    PrefixLists,
)
from .base import NoParams, ScopeContext, check, events
from .bounds import Port, Zones


@check(
    "ec2.snapshot_public",
    summary="No EBS snapshot owned by the account is public.",
    procedure=(
        "In each region, list the account's own snapshots (ec2:DescribeSnapshots OwnerIds=self),"
        " list those AWS reports as restorable by all (RestorableByUserIds=all), and confirm each"
        " of these from its createVolumePermission attribute (ec2:DescribeSnapshotAttribute)."
        " A snapshot whose permission includes the group `all` fails."
    ),
    params=NoParams,
    sources=(EBS_SNAPSHOTS,),
    change_events=events(
        "ec2",
        "CreateSnapshot",
        "CreateSnapshots",
        "CopySnapshot",
        "DeleteSnapshot",
        "ModifySnapshotAttribute",
        "ResetSnapshotAttribute",
    ),
)
def snapshot_public(ctx: ScopeContext[NoParams]) -> Iterator[Item | CollectionError]:
    data = ctx.get(EBS_SNAPSHOTS)
    for snapshot in data.snapshots:
        snapshot_id = str(snapshot["SnapshotId"])
        permissions = data.permissions.get(snapshot_id)
        arn = f"arn:{ctx.partition}:ec2:{ctx.region}::snapshot/{snapshot_id}"
        if snapshot_id in data.failures:
            yield from ctx.unread(snapshot_id, data.failures[snapshot_id], arn)
            continue
        if snapshot_id in data.candidates and permissions is None:
            status, detail = Status.ERROR, "listed as restorable by all, attribute not read"
        elif permissions is not None and permissions.public:
            status, detail = Status.FAIL, "public: any AWS account can create a volume from it"
        else:
            status, detail = Status.PASS, "private"
        shared = permissions.shared_with if permissions else ()
        if shared and status is Status.PASS:
            detail += f" (shared with {', '.join(shared)})"
        yield ctx.item(
            snapshot_id,
            status,
            detail,
            arn,
            volume_id=snapshot.get("VolumeId"),
            start_time=snapshot.get("StartTime"),
            encrypted=snapshot.get("Encrypted"),
            description=snapshot.get("Description", ""),
            shared_with=list(shared),
            attribute_checked=permissions is not None,
        )


# ---------------------------------------------------------------- security groups


@dataclass(frozen=True)
class OpenPortsParams:
    ports: tuple[Port, ...] = (22, 3389)  # administration ports (SSH, RDP)


WORLD = ("0.0.0.0/0", "::/0")


def port_exposure(rule: Mapping[str, Any], ports: tuple[int, ...]) -> str | None:
    """Which administration ports (or all ports) a rule's protocol and port range admit."""
    protocol = str(rule.get("IpProtocol"))
    low, high = rule.get("FromPort", -1), rule.get("ToPort", -1)
    if protocol == "-1" or (
        protocol in ("tcp", "udp", "6", "17") and (low, high) in ((0, 65535), (-1, -1))
    ):
        return "all ports"
    if protocol in ("tcp", "udp", "6", "17"):
        exposed = [p for p in ports if low <= p <= high]
        if exposed:
            return f"port {', '.join(map(str, exposed))}"
    return None


def rule_exposure(
    rule: Mapping[str, Any], ports: tuple[int, ...], prefix_lists: PrefixLists | None = None
) -> str | None:
    """Why an ingress rule exposes administration to the internet, or None. A rule whose source
    is a managed prefix list is judged on the list's CIDR entries (EC2 applies the rule to each
    entry: VPC User Guide, "Reference prefix lists in your AWS resources"); a referenced
    security group is never the internet."""
    exposed = port_exposure(rule, ports)
    if exposed is None:
        return None
    source = rule.get("CidrIpv4") or rule.get("CidrIpv6")
    if source in WORLD:
        return f"{exposed} open to {source}"
    prefix_list = rule.get("PrefixListId")
    if prefix_list and prefix_lists is not None:
        world = [c for c in prefix_lists.entries.get(str(prefix_list), ()) if c in WORLD]
        if world:
            name = prefix_lists.names.get(str(prefix_list), "")
            return f"{exposed} open to {', '.join(world)} through prefix list {prefix_list}" + (
                f" ({name})" if name else ""
            )
    return None


@check(
    "ec2.security_groups_open",
    summary="No security group allows the internet to reach administration ports or all ports.",
    procedure=(
        "In each region, list every security group rule (ec2:DescribeSecurityGroupRules), the"
        " groups (ec2:DescribeSecurityGroups) and the network interfaces using them"
        " (ec2:DescribeNetworkInterfaces). The population is every ingress rule; a rule from"
        " 0.0.0.0/0 or ::/0 to an administration port (the `ports` parameter) or to all ports"
        " fails. A rule whose source is a managed prefix list is judged on the list's entries"
        " (ec2:DescribeManagedPrefixLists, ec2:GetManagedPrefixListEntries); a rule whose list"
        " could not be read is an error. A referenced security group is not the internet. Each"
        " rule says whether its group is attached to anything."
    ),
    params=OpenPortsParams,
    sources=(SECURITY_GROUPS, PREFIX_LISTS),
    change_events=events(
        "ec2",
        "CreateSecurityGroup",
        "DeleteSecurityGroup",
        "AuthorizeSecurityGroupIngress",
        "RevokeSecurityGroupIngress",
        "ModifySecurityGroupRules",
        "ModifyManagedPrefixList",
    ),
)
def security_groups_open(ctx: ScopeContext[OpenPortsParams]) -> Iterator[Item | CollectionError]:
    data = ctx.get(SECURITY_GROUPS)
    prefix_lists = ctx.get(PREFIX_LISTS)
    groups = {g["GroupId"]: g for g in data["SecurityGroups"]}
    attached: dict[str, int] = {}
    for interface in data["NetworkInterfaces"]:
        for group in interface.get("Groups", []):
            attached[group["GroupId"]] = attached.get(group["GroupId"], 0) + 1
    for rule in data["SecurityGroupRules"]:
        if rule.get("IsEgress"):
            ctx.exclude(str(rule.get("SecurityGroupRuleId")), "egress rule (outbound only)")
            continue
        group_id = str(rule.get("GroupId"))
        rule_id = str(rule.get("SecurityGroupRuleId"))
        arn = ctx.arn("ec2", f"security-group-rule/{rule_id}")
        prefix_list = str(rule.get("PrefixListId") or "")
        if prefix_list in prefix_lists.failures and port_exposure(rule, ctx.params.ports):
            yield from ctx.unread(
                rule_id, prefix_lists.failures[prefix_list], arn, group_id=group_id
            )
            continue
        exposure = rule_exposure(rule, ctx.params.ports, prefix_lists)
        low, high = rule.get("FromPort", -1), rule.get("ToPort", -1)
        ports = (
            "all"
            if str(rule.get("IpProtocol")) == "-1"
            else (str(low) if low == high else f"{low}-{high}")
        )
        source = (
            rule.get("CidrIpv4")
            or rule.get("CidrIpv6")
            or rule.get("PrefixListId")
            or (rule.get("ReferencedGroupInfo") or {}).get("GroupId")
            or "?"
        )
        in_use = attached.get(group_id, 0)
        usage = f"attached to {in_use} network interface(s)" if in_use else "not attached"
        yield ctx.item(
            rule_id,
            Status.FAIL if exposure else Status.PASS,
            f"{exposure or 'not open to the internet on an administration port'}; group {usage}",
            arn,
            group_id=group_id,
            group_name=groups.get(group_id, {}).get("GroupName"),
            vpc_id=groups.get(group_id, {}).get("VpcId"),
            protocol=rule.get("IpProtocol"),
            ports=ports,
            source=source,
            prefix_list_entries=list(prefix_lists.entries.get(prefix_list, ())),
            attached=bool(in_use),
            description=rule.get("Description", ""),
        )


# ---------------------------------------------------------------- EBS encryption by default


@check(
    "ec2.ebs_encryption_default",
    summary="New EBS volumes are encrypted by default in every region collected.",
    procedure="In each region, read ec2:GetEbsEncryptionByDefault; a region where it is off fails.",
    params=NoParams,
    sources=(EBS_ENCRYPTION_DEFAULT,),
    change_events=events("ec2", "EnableEbsEncryptionByDefault", "DisableEbsEncryptionByDefault"),
)
def ebs_encryption_default(ctx: ScopeContext[NoParams]) -> Iterator[Item]:
    enabled = ctx.get(EBS_ENCRYPTION_DEFAULT)
    yield ctx.item(
        ctx.region,
        Status.PASS if enabled else Status.FAIL,
        "EBS encryption by default on" if enabled else "EBS encryption by default off",
        "",
        ebs_encryption_by_default=enabled,
    )


# ---------------------------------------------------------------- instances across zones


@dataclass(frozen=True)
class InstanceSpreadParams:
    tags: dict[str, str] = field(default_factory=dict)  # scope, e.g. {Environment: production}
    workload_tag: str = "Workload"  # instances are grouped by this tag, or by Auto Scaling group
    min_zones: Zones = 2


def _instance_tags(instance: Mapping[str, Any]) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in instance.get("Tags", [])}


@check(
    "ec2.multi_az",
    summary="Production workloads run in at least two Availability Zones.",
    procedure=(
        "In each region, list the instances that are not terminated (ec2:DescribeInstances),"
        " keep those carrying the `tags` parameter's tags, and group them by Auto Scaling group"
        " (tag aws:autoscaling:groupName) or else by the `workload_tag` tag. Each workload is one"
        " item; it passes when its instances span at least `min_zones` Availability Zones. An"
        " instance in neither grouping is a workload of its own."
    ),
    params=InstanceSpreadParams,
    sources=(INSTANCES,),
    change_events=events(
        "ec2", "RunInstances", "StartInstances", "StopInstances", "TerminateInstances"
    )
    + events(
        "autoscaling", "CreateAutoScalingGroup", "UpdateAutoScalingGroup", "DeleteAutoScalingGroup"
    ),
)
def instances_multi_az(ctx: ScopeContext[InstanceSpreadParams]) -> Iterator[Item]:
    workloads: dict[str, list[Mapping[str, Any]]] = {}
    for reservation in ctx.get(INSTANCES)["Reservations"]:
        for instance in reservation.get("Instances", []):
            tags = _instance_tags(instance)
            if any(tags.get(k) != v for k, v in ctx.params.tags.items()):
                ctx.exclude(str(instance["InstanceId"]), "outside the scope (`tags` parameter)")
                continue
            group = tags.get("aws:autoscaling:groupName")
            key = (
                f"asg:{group}"
                if group
                else f"{ctx.params.workload_tag}:{tags[ctx.params.workload_tag]}"
                if ctx.params.workload_tag in tags
                else f"instance:{instance['InstanceId']}"
            )
            workloads.setdefault(key, []).append(instance)
    for key, instances in sorted(workloads.items()):
        zones = sorted({str(i.get("Placement", {}).get("AvailabilityZone")) for i in instances})
        spread = len(zones) >= ctx.params.min_zones
        yield ctx.item(
            key,
            Status.PASS if spread else Status.FAIL,
            f"{len(instances)} instance(s) in {len(zones)} zone(s): {', '.join(zones)}"
            + ("" if spread else f" (at least {ctx.params.min_zones} required)"),
            "",
            instances=[str(i["InstanceId"]) for i in instances],
            zones=zones,
        )
