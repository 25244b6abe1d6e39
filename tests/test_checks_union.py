"""NET-01 (ec2.security_groups_open): a group's rules are judged together, and "the internet" is
a documented size of public address space (checks/internet.py), not the words 0.0.0.0/0."""

from __future__ import annotations

import ipaddress
from typing import Any

from evidence.checks.internet import reach
from tests.conftest import Aws
from tests.test_checks_enforced import prefix_list
from tests.test_checks_infrastructure import group


def tcp(port: int, *cidrs: str) -> dict[str, Any]:
    v4 = [{"CidrIp": c} for c in cidrs if ":" not in c]
    v6 = [{"CidrIpv6": c} for c in cidrs if ":" in c]
    rule: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if v4:
        rule["IpRanges"] = v4
    if v6:
        rule["Ipv6Ranges"] = v6
    return rule


def items(collect: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """(group name, source) -> item."""
    control = collect("--only", "NET-01", "--region", "us-east-1").control("NET-01")
    return {(i["attributes"]["group_name"], i["attributes"]["source"]): i for i in control["items"]}


def test_issue_example_halves_of_the_internet_fail(aws: Aws, collect: Any) -> None:
    group(aws, "halves", [tcp(22, "0.0.0.0/1", "128.0.0.0/1"), tcp(3389, "2000::/3")])
    found = items(collect)
    for source in ("0.0.0.0/1", "128.0.0.0/1", "2000::/3"):
        assert found[("halves", source)]["status"] == "fail", source
    assert found[("halves", "0.0.0.0/1")]["detail"].startswith(
        "port 22 open to the internet from 0.0.0.0/1: 2,092,957,696 public IPv4 addresses"
    )
    assert "100% of global unicast IPv6" in found[("halves", "2000::/3")]["detail"]


def test_rules_that_are_the_internet_only_together_fail_together(aws: Aws, collect: Any) -> None:
    # Two public /8s: neither is more than a /8 alone, together they are.
    group(aws, "two-eights", [tcp(22, "16.0.0.0/8", "17.0.0.0/8", "10.0.0.0/8")])
    group(aws, "split-ports", [tcp(22, "16.0.0.0/8"), tcp(3389, "17.0.0.0/8")])
    group(aws, "every-port", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "16.0.0.0/8"}]}])
    aws.client("ec2").authorize_security_group_ingress(
        GroupId=aws.client("ec2").describe_security_groups(GroupNames=["every-port"])[
            "SecurityGroups"
        ][0]["GroupId"],
        IpPermissions=[tcp(3389, "17.0.0.0/8")],
    )
    found = items(collect)
    sixteen = found[("two-eights", "16.0.0.0/8")]
    assert sixteen["status"] == "fail"
    assert sixteen["detail"].startswith(
        "port 22 open to the internet from 16.0.0.0/8 together with the group's other rules"
        " for it (17.0.0.0/8): 33,554,432 public IPv4 addresses"
    )
    assert found[("two-eights", "17.0.0.0/8")]["status"] == "fail"
    # A private range adds no public address: it is not part of the opening.
    assert found[("two-eights", "10.0.0.0/8")]["status"] == "pass"
    # Different ports are different openings.
    assert found[("split-ports", "16.0.0.0/8")]["status"] == "pass"
    assert found[("split-ports", "17.0.0.0/8")]["status"] == "pass"
    # A rule open to every port joins the rules for each administration port.
    assert found[("every-port", "16.0.0.0/8")]["status"] == "fail"
    assert found[("every-port", "17.0.0.0/8")]["detail"].startswith(
        "port 3389 open to the internet"
    )


def test_offices_private_ranges_and_small_ipv6_pass(aws: Aws, collect: Any) -> None:
    group(
        aws,
        "admin",
        [
            tcp(22, "81.2.69.0/24", "10.0.0.0/8", "172.16.0.0/12", "100.64.0.0/10"),
            tcp(3389, "2a01:4f8::/32", "fc00::/7", "fe80::/10"),
        ],
    )
    group(aws, "org-eight", [tcp(22, "17.0.0.0/8")])  # one organisation's legacy /8
    found = items(collect)
    assert {k: v["status"] for k, v in found.items() if k[0] in ("admin", "org-eight")} == {
        ("admin", "81.2.69.0/24"): "pass",
        ("admin", "10.0.0.0/8"): "pass",
        ("admin", "172.16.0.0/12"): "pass",
        ("admin", "100.64.0.0/10"): "pass",
        ("admin", "2a01:4f8::/32"): "pass",
        ("admin", "fc00::/7"): "pass",
        ("admin", "fe80::/10"): "pass",
        ("org-eight", "17.0.0.0/8"): "pass",
    }


def test_a_prefix_list_and_a_cidr_are_unioned(aws: Aws, collect: Any) -> None:
    low_half = prefix_list(aws, "low-half", "0.0.0.0/2", "64.0.0.0/2")
    group_id = group(aws, "mixed", [tcp(22, "128.0.0.0/2")])
    aws.client("ec2").authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "PrefixListIds": [{"PrefixListId": low_half}],
            },
            tcp(22, "192.0.0.0/2"),
        ],
    )
    found = items(collect)
    for source in (low_half, "128.0.0.0/2", "192.0.0.0/2"):
        assert found[("mixed", source)]["status"] == "fail", source
    assert found[("mixed", low_half)]["detail"].startswith(
        f"port 22 open to the internet from prefix list {low_half} (low-half)"
    )


def test_an_unread_prefix_list_leaves_the_group_s_public_rules_unproven(
    aws: Aws, collect: Any
) -> None:
    listed = prefix_list(aws, "vendors", "16.0.0.0/8")
    group_id = group(aws, "vendors", [tcp(22, "17.0.0.0/8"), tcp(22, "10.0.0.0/8")])
    aws.client("ec2").authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "PrefixListIds": [{"PrefixListId": listed}],
            }
        ],
    )
    aws.proxy.fail("GetManagedPrefixListEntries", "UnauthorizedOperation", status=403)
    found = items(collect)
    assert found[("vendors", listed)]["status"] == "error"
    seventeen = found[("vendors", "17.0.0.0/8")]
    assert seventeen["status"] == "error"  # with 16.0.0.0/8 it would be the internet
    assert f"prefix list {listed} (not read)" in seventeen["detail"]
    assert found[("vendors", "10.0.0.0/8")]["status"] == "pass"  # never public


def net(*cidrs: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(c) for c in cidrs]


def test_what_counts_as_the_internet() -> None:
    assert reach(net("0.0.0.0/0")).internet
    assert reach(net("::/0")).internet
    assert reach(net("0.0.0.0/1")).internet and reach(net("128.0.0.0/1")).internet
    assert reach(net("2000::/3")).internet
    assert reach(net("16.0.0.0/7")).internet  # more than a /8 of public space
    assert not reach(net("17.0.0.0/8")).internet  # exactly a /8: one organisation
    assert not reach(net("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")).internet
    assert not reach(net("224.0.0.0/3")).internet  # multicast and reserved
    assert not reach(net("2600::/16")).internet and reach(net("2600::/15")).internet
    assert not reach(net("fc00::/7", "fe80::/10", "ff00::/8", "::1/128")).internet
    # Overlaps are counted once: the same /8 three times is still a /8.
    assert not reach(net("17.0.0.0/8", "17.0.0.0/9", "17.128.0.0/9")).internet
    # Private space inside a wide source does not count: 0.0.0.0/4 holds 10.0.0.0/8 and 0/8.
    assert reach(net("0.0.0.0/4")).public_v4 == 2**28 - 2 * 2**24
