"""EC2 checks: public snapshots, open security groups, EBS default encryption, AZ spread."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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
from .internet import Network, Reach, is_public, parse_source, reach


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
    finding_attributes=("description", "volume_id", "volume_size_gib", "start_time"),
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
            volume_size_gib=snapshot.get("VolumeSize"),
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
ALL_PORTS = -1  # the key under which rules open to every port are judged together


def port_exposure(rule: Mapping[str, Any], ports: tuple[int, ...]) -> str | None:
    """Which administration ports (or all ports) a rule's protocol and port range admit."""
    keys = exposed_ports(rule, ports)
    if not keys:
        return None
    if ALL_PORTS in keys:
        return "all ports"
    return f"port {', '.join(map(str, keys))}"


def exposed_ports(rule: Mapping[str, Any], ports: tuple[int, ...]) -> tuple[int, ...]:
    """The keys a rule is judged under: ALL_PORTS and every administration port when it admits
    every port (protocol -1, or TCP/UDP 0-65535), else the administration ports in its range."""
    protocol = str(rule.get("IpProtocol"))
    low, high = rule.get("FromPort", -1), rule.get("ToPort", -1)
    if protocol == "-1" or (
        protocol in ("tcp", "udp", "6", "17") and (low, high) in ((0, 65535), (-1, -1))
    ):
        return (ALL_PORTS, *ports)
    if protocol in ("tcp", "udp", "6", "17"):
        return tuple(p for p in ports if low <= p <= high)
    return ()


def rule_sources(rule: Mapping[str, Any], prefix_lists: PrefixLists) -> tuple[Network, ...]:
    """The networks a rule admits: its CIDR, or its managed prefix list's entries (EC2 applies
    the rule to each entry: VPC User Guide, "Reference prefix lists in your AWS resources"). A
    referenced security group admits its members' private addresses, never the internet."""
    cidr = rule.get("CidrIpv4") or rule.get("CidrIpv6")
    if cidr:
        network = parse_source(str(cidr))
        return (network,) if network else ()
    prefix_list = str(rule.get("PrefixListId") or "")
    found = (parse_source(c) for c in prefix_lists.entries.get(prefix_list, ()))
    return tuple(n for n in found if n is not None)


def _source_label(rule: Mapping[str, Any], prefix_lists: PrefixLists) -> str:
    cidr = rule.get("CidrIpv4") or rule.get("CidrIpv6")
    if cidr:
        return str(cidr)
    prefix_list = str(rule.get("PrefixListId") or "")
    name = prefix_lists.names.get(prefix_list, "")
    return f"prefix list {prefix_list}" + (f" ({name})" if name else "")


def rule_exposure(
    rule: Mapping[str, Any], ports: tuple[int, ...], prefix_lists: PrefixLists | None = None
) -> str | None:
    """Why one ingress rule, on its own, opens administration ports (or all ports) to the
    internet (checks/internet.py), or None. The period replay judges rules one at a time with
    it; the as-of check judges a group's rules together (rule_verdict)."""
    exposed = port_exposure(rule, ports)
    if exposed is None:
        return None
    lists = prefix_lists or PrefixLists({}, {}, {}, {})
    own = rule_sources(rule, lists)
    if not reach(own).internet:
        return None
    return _open_alone(exposed, rule, own, lists)


def _open_alone(
    label: str, rule: Mapping[str, Any], own: Sequence[Network], prefix_lists: PrefixLists
) -> str:
    world = [str(n) for n in own if str(n) in WORLD]
    source = _source_label(rule, prefix_lists)
    if world:
        via = f" through {source}" if rule.get("PrefixListId") else ""
        return f"{label} open to {', '.join(world)}{via}"
    return f"{label} open to the internet from {source}: {reach(own).describe()}"


@dataclass(frozen=True)
class GroupPorts:
    """One security group's ingress rules judged together, by the port key they admit
    (ALL_PORTS or a port): computed once per group, so a group of n rules costs O(n)."""

    reaches: Mapping[int, Reach]  # port key -> public addresses of the union of its sources
    public_sources: Mapping[int, tuple[str, ...]]  # port key -> rules adding public addresses
    unread: Mapping[int, tuple[str, ...]]  # port key -> prefix lists whose entries were not read


def group_ports(
    rules: Sequence[Mapping[str, Any]], ports: tuple[int, ...], prefix_lists: PrefixLists
) -> GroupPorts:
    sources: dict[int, list[Network]] = {}
    public: dict[int, set[str]] = {}
    unread: dict[int, list[str]] = {}
    for rule in rules:
        prefix_list = str(rule.get("PrefixListId") or "")
        own = rule_sources(rule, prefix_lists)
        adds = any(is_public(n) for n in own)
        for key in exposed_ports(rule, ports):
            sources.setdefault(key, []).extend(own)
            if adds:
                public.setdefault(key, set()).add(_source_label(rule, prefix_lists))
            if prefix_list in prefix_lists.failures:
                unread.setdefault(key, []).append(prefix_list)
    return GroupPorts(
        {k: reach(v) for k, v in sources.items()},
        {k: tuple(sorted(v)) for k, v in public.items()},
        {k: tuple(v) for k, v in unread.items()},
    )


@dataclass(frozen=True)
class Verdict:
    status: Status
    detail: str


def rule_verdict(
    rule: Mapping[str, Any], group: GroupPorts, ports: tuple[int, ...], prefix_lists: PrefixLists
) -> Verdict:
    """Whether a rule is part of an opening of an administration port (or of every port) to the
    internet: the union of the sources of every rule of its group that admits the port reaches
    the internet (checks/internet.py), and this rule adds public addresses to it. A rule that
    alone is the internet names its source; one that is the internet only with its group's
    other rules names them too. When another rule's prefix list could not be read, a rule
    with public sources is not proven either way (error)."""
    own = rule_sources(rule, prefix_lists)
    keys = exposed_ports(rule, ports)
    if not keys or not any(is_public(n) for n in own):
        return Verdict(Status.PASS, "not open to the internet on an administration port")
    alone = reach(own)
    together = group.reaches
    failing = [k for k in keys if together[k].internet]
    if failing:
        label = "all ports" if ALL_PORTS in failing else f"port {', '.join(map(str, failing))}"
        if alone.internet:
            return Verdict(Status.FAIL, _open_alone(label, rule, own, prefix_lists))
        source = _source_label(rule, prefix_lists)
        others = [o for o in group.public_sources[failing[0]] if o != source]
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        return Verdict(
            Status.FAIL,
            f"{label} open to the internet from {source} together with the group's other rules"
            f" for it ({shown}): {together[failing[0]].describe()}",
        )
    unknown = sorted({pl for k in keys for pl in group.unread.get(k, ())})
    if unknown:
        return Verdict(
            Status.ERROR,
            f"not proven: with prefix list {', '.join(unknown)} (not read) the group's rules for"
            " the port might together reach the internet",
        )
    return Verdict(Status.PASS, "not open to the internet on an administration port")


@check(
    "ec2.security_groups_open",
    summary="No security group allows the internet to reach administration ports or all ports.",
    procedure=(
        "In each region, list every security group rule (ec2:DescribeSecurityGroupRules), the"
        " groups (ec2:DescribeSecurityGroups) and the network interfaces using them"
        " (ec2:DescribeNetworkInterfaces). The population is every ingress rule. A group admits"
        " a port from the union of all its rules that admit it (security groups are"
        " permissive: any rule suffices), so the sources are judged together: CIDRs and the"
        " entries of managed prefix lists (ec2:DescribeManagedPrefixLists,"
        " ec2:GetManagedPrefixListEntries). When that union holds more public IPv4 addresses"
        " than a /8, or more global unicast IPv6 (2000::/3) than a /16, after removing the"
        " special-purpose blocks that are not globally reachable (RFC 1918, RFC 6598, loopback,"
        " link-local, documentation, multicast, reserved: IANA special-purpose registries), an"
        " administration port (the `ports` parameter) or all ports are open to the internet and"
        " every rule adding public addresses to it fails (0.0.0.0/0, ::/0, 0.0.0.0/1 with"
        " 128.0.0.0/1, 2000::/3; not an office /24 or 10.0.0.0/8). A rule whose prefix list"
        " could not be read is an error, and so is a rule whose verdict depends on it. A"
        " referenced security group is not the internet. Each rule says whether its group is"
        " attached to anything."
    ),
    params=OpenPortsParams,
    sources=(SECURITY_GROUPS, PREFIX_LISTS),
    finding_attributes=("group_name", "description", "ports", "source"),
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
    ingress: dict[str, list[Mapping[str, Any]]] = {}
    for rule in data["SecurityGroupRules"]:
        if not rule.get("IsEgress"):
            ingress.setdefault(str(rule.get("GroupId")), []).append(rule)
    by_group = {
        g: group_ports(rules, ctx.params.ports, prefix_lists) for g, rules in ingress.items()
    }
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
                rule_id,
                prefix_lists.failures[prefix_list],
                arn,
                group_id=group_id,
                group_name=groups.get(group_id, {}).get("GroupName"),
                source=prefix_list,
            )
            continue
        verdict = rule_verdict(rule, by_group[group_id], ctx.params.ports, prefix_lists)
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
            verdict.status,
            f"{verdict.detail}; group {usage}",
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
    finding_attributes=("ebs_encryption_by_default",),
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
    finding_attributes=("instances", "zones"),
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
