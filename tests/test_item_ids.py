"""Every item has a stable id: the same resource keeps its id in every pack (and re-export)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evidence.model import item_id
from tests.conftest import Aws


def _ids(control: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {i["id"]: (i["resource"], i["detail"]) for i in control["items"]}


def test_item_id_names_the_resource_not_the_run() -> None:
    base = item_id("iam.user_mfa", "123456789012", "global", "alice")
    assert base == item_id("iam.user_mfa", "123456789012", "global", "alice")
    assert len(base) == 16 and int(base, 16) >= 0
    others = {
        item_id("iam.user_mfa", "123456789012", "global", "bob"),
        item_id("iam.user_mfa", "210987654321", "global", "alice"),
        item_id("iam.user_mfa", "123456789012", "eu-west-1", "alice"),
        item_id("iam.access_key_rotation", "123456789012", "global", "alice"),
        item_id("iam.user_mfa", "123456789012", "global", "alice", "access_key_2"),
    }
    assert base not in others and len(others) == 5
    # Field boundaries count: ("ab", "c") and ("a", "bc") are different resources.
    assert item_id("x", "ab", "c", "d") != item_id("x", "a", "bc", "d")


def test_same_resources_same_ids_in_two_packs_and_an_export(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    iam = aws.client("iam")
    for user in ("alice", "bob", "svc"):
        iam.create_user(UserName=user)
        iam.create_login_profile(UserName=user, Password="Pa55word!Pa55word!")
    iam.create_access_key(UserName="svc")
    iam.create_access_key(UserName="svc")  # two keys of one user: two items, two ids
    ec2 = aws.client("ec2")
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    for port in (22, 443):
        ec2.authorize_security_group_ingress(
            GroupId=group, IpProtocol="tcp", FromPort=port, ToPort=port, CidrIp="0.0.0.0/0"
        )

    only = ("--only", "IAM-02", "--only", "IAM-03", "--only", "IAM-04", "--only", "NET-01")
    first = collect(*only)
    second = collect(*only)
    exported = cli("export", str(first.pack), "--output", str(tmp_path / "exports"))
    assert exported.code in (0, 1, 3), exported.err
    for control_id in ("IAM-02", "IAM-03", "IAM-04", "NET-01"):
        one, two = first.control(control_id), second.control(control_id)
        ids = [i["id"] for i in one["items"]]
        assert ids and len(set(ids)) == len(ids), f"{control_id}: ids not unique: {ids}"
        assert _ids(one).keys() == _ids(two).keys(), control_id
        assert _ids(one) == _ids(exported.control(control_id)), control_id
    keys = [i for i in first.control("IAM-04")["items"] if i["resource"] == "svc"]
    assert len(keys) == 2 and keys[0]["id"] != keys[1]["id"]
    # A new user adds one id and keeps the others.
    iam.create_user(UserName="carol")
    iam.create_login_profile(UserName="carol", Password="Pa55word!Pa55word!")
    third = collect(*only)
    added = _ids(third.control("IAM-03")).keys() - _ids(first.control("IAM-03")).keys()
    assert len(added) == 1
    assert _ids(third.control("IAM-03"))[added.pop()][0] == "carol"
