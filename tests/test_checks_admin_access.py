"""IAM-07 (iam.privileged_access): administrative access is decided by evaluating each policy the
way IAM does (checks/admin_access.py over checks/policy.py), privilege escalation included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evidence.checks.admin_access import EVERYTHING, administrative_grants
from tests.conftest import ACCOUNT, Aws, write_controls

PRIV = """\
  - id: PRIV
    title: Privileged access
    criteria: [CC6.3]
    check: iam.privileged_access
    params:
      authorized: [approved-escalator]
"""


def document(*statements: dict[str, Any]) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **s} for s in statements]}
    )


def inline(aws: Aws, user: str, *statements: dict[str, Any]) -> None:
    iam = aws.client("iam")
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user, PolicyName=f"{user}-policy", PolicyDocument=document(*statements)
    )


def privileged(collect: Any, tmp_path: Path) -> dict[str, dict[str, Any]]:
    control = collect(controls=write_controls(tmp_path / "c.yaml", PRIV)).control("PRIV")
    return {i["resource"]: i for i in control["items"]}


def test_issue_examples_disguised_administrators_fail(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    inline(aws, "not-resource", {"Action": "*", "NotResource": "arn:aws:s3:::nothing"})
    inline(aws, "arn-wildcards", {"Action": "*:*", "Resource": "arn:aws:*:*:*:*"})
    inline(aws, "iam-star", {"Action": "iam:*", "Resource": "*"})
    found = privileged(collect, tmp_path)
    for user in ("not-resource", "arn-wildcards", "iam-star"):
        assert found[user]["status"] == "fail", user
    assert "(inline, allows * on *)" in found["arn-wildcards"]["detail"]
    assert "privilege escalation" in found["not-resource"]["detail"]
    assert "iam:PutUserPolicy" in found["iam-star"]["detail"]


def test_escalation_grants_in_managed_group_and_role_policies(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    iam = aws.client("iam")
    pass_any_role = iam.create_policy(
        PolicyName="deployer",
        PolicyDocument=document(
            {
                "Action": ["iam:PassRole", "ec2:RunInstances"],
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/*",
            }
        ),
    )["Policy"]["Arn"]
    iam.create_role(
        RoleName="ci",
        AssumeRolePolicyDocument=document(
            {"Action": "sts:AssumeRole", "Principal": {"Service": "codebuild.amazonaws.com"}}
        ),
    )
    iam.attach_role_policy(RoleName="ci", PolicyArn=pass_any_role)
    iam.create_group(GroupName="self-service")
    iam.put_group_policy(
        GroupName="self-service",
        PolicyName="own-policies",
        PolicyDocument=document({"Action": "iam:Put*Policy", "Resource": "arn:aws:iam::*:user/*"}),
    )
    iam.create_user(UserName="member")
    iam.add_user_to_group(GroupName="self-service", UserName="member")
    inline(aws, "approved-escalator", {"Action": "iam:CreatePolicyVersion", "Resource": "*"})
    inline(
        aws,
        "not-action",
        {"NotAction": ["s3:*", "ec2:*"], "Resource": "*"},  # everything but two services
    )
    found = privileged(collect, tmp_path)
    assert found["ci"]["status"] == "fail"
    assert "iam:PassRole on every role" in found["ci"]["detail"]
    assert "iam:PutUserPolicy on every user" in found["self-service"]["detail"]
    assert "member of admin group self-service" in found["member"]["detail"]
    assert found["approved-escalator"]["status"] == "pass"
    assert found["not-action"]["status"] == "fail"


def test_narrow_grants_are_not_administrative(aws: Aws, collect: Any, tmp_path: Path) -> None:
    inline(aws, "storage", {"Action": "s3:*", "Resource": "*"})
    inline(aws, "iam-reader", {"Action": ["iam:Get*", "iam:List*"], "Resource": "*"})
    inline(
        aws, "one-role", {"Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/app"}
    )
    inline(
        aws, "power-user", {"NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}
    )
    inline(aws, "all-of-s3", {"Action": "*", "Resource": "arn:aws:s3:::*"})
    found = privileged(collect, tmp_path)
    assert not {"storage", "iam-reader", "one-role", "power-user", "all-of-s3"} & set(found)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Action": "*", "Resource": "*"}, EVERYTHING),
        ({"Action": "**", "Resource": "arn:aws:*"}, EVERYTHING),
        ({"Action": "*:*", "Resource": "arn:*"}, EVERYTHING),
        ({"Action": "*:", "Resource": "*"}, None),  # matches no action
        ({"Action": "IAM:PUTROLEPOLICY", "Resource": "*"}, "iam:PutRolePolicy on every role"),
        ({"Action": "iam:Attach*", "Resource": "*"}, "iam:AttachUserPolicy"),
        ({"Action": "iam:AddUserToGroup", "Resource": "arn:aws:iam::*:group/*"}, "on every group"),
        ({"Action": "iam:AddUserToGroup", "Resource": "arn:aws:iam::*:group/ops"}, None),
        ({"Action": "iam:*", "NotResource": "arn:aws:iam::*:*"}, None),
        ({"Action": "iam:*", "NotResource": "arn:aws:iam::*:user/admin*"}, "all 14"),
        ({"Action": "iam:*", "NotResource": "arn:aws:iam::*:user/*"}, "on every role"),
    ],
)
def test_administrative_grants(statement: dict[str, Any], expected: str | None) -> None:
    grants = administrative_grants(document(statement))
    if expected is None:
        assert grants == ()
    else:
        assert grants and expected in grants[0]


def test_attached_aws_managed_policies_are_read_and_judged(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    iam = aws.client("iam")
    for user, policy in (
        ("iam-admin", "IAMFullAccess"),
        ("power-user", "PowerUserAccess"),
        ("reader", "ReadOnlyAccess"),
    ):
        iam.create_user(UserName=user)
        iam.attach_user_policy(UserName=user, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    run = collect(controls=write_controls(tmp_path / "c.yaml", PRIV))
    found = {i["resource"]: i for i in run.control("PRIV")["items"]}
    assert set(found) == {"iam-admin"}
    assert found["iam-admin"]["detail"].startswith(
        "not on the authorized list: user with administrative access via IAMFullAccess"
        " (attached, can grant itself every permission (privilege escalation)"
    )
    assert run.results["run"]["calls_per_operation"]["iam:GetPolicyVersion"] == 3


def test_an_unreadable_aws_managed_policy_makes_its_holder_an_error(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    iam = aws.client("iam")
    iam.create_user(UserName="iam-admin")
    iam.attach_user_policy(UserName="iam-admin", PolicyArn="arn:aws:iam::aws:policy/IAMFullAccess")
    aws.proxy.fail("GetPolicyVersion", "AccessDenied", status=403)
    control = collect(controls=write_controls(tmp_path / "c.yaml", PRIV)).control("PRIV")
    (item,) = control["items"]
    assert (item["resource"], item["status"]) == ("iam-admin", "error")
    assert (
        "IAMFullAccess (attached, unreadable policy: GetPolicyVersion failed with AccessDenied)"
        in (item["detail"])
    )
    assert control["errors"][0]["operation"] == "GetPolicyVersion"
