"""Root keys, unused credentials, privileged access: pass, fail, error over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from freezegun import freeze_time

from tests.conftest import Aws, write_controls
from tests.test_checks_iam import console_user

ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def test_root_access_keys_pass_fail_and_error(aws: Aws, collect: Any) -> None:
    assert collect("--only", "IAM-05").control("IAM-05")["status"] == "pass"
    aws.backend("iam").account_summary._account_access_keys_present = 1  # not settable by API
    failing = collect("--only", "IAM-05").control("IAM-05")
    assert failing["status"] == "fail"
    assert failing["failing"][0]["resource"] == "<root_account>"
    aws.proxy.fail("GetAccountSummary", "AccessDenied", status=403)
    error = collect("--only", "IAM-05").control("IAM-05")
    assert error["status"] == "error"
    assert error["errors"][0]["operation"] == "GetAccountSummary"


def test_unused_passwords_and_keys_fail_after_the_limit(aws: Aws, collect: Any) -> None:
    now = datetime.now(UTC)
    with freeze_time(now - timedelta(days=200)):
        console_user(aws, "dormant", mfa=True)
        console_user(aws, "active", mfa=True)
        aws.client("iam").create_user(UserName="old-key")
        aws.client("iam").create_access_key(UserName="old-key")
    aws.client("iam").create_user(UserName="new-key")
    aws.client("iam").create_access_key(UserName="new-key")
    users = aws.backend("iam").users
    users["dormant"].password_last_used = (now - timedelta(days=120)).replace(tzinfo=None)
    users["active"].password_last_used = (now - timedelta(days=2)).replace(tzinfo=None)
    control = collect("--only", "IAM-06").control("IAM-06")
    details = {i["resource"]: (i["status"], i["detail"]) for i in control["items"]}
    assert details["dormant"][0] == "fail"
    assert details["dormant"][1].startswith("console password last used 120 days ago (limit 90)")
    assert details["active"][0] == "pass"
    assert details["old-key"][0] == "fail"
    assert "never used, created 20" in details["old-key"][1]
    assert details["new-key"][0] == "pass"
    assert details["new-key"][1].startswith(
        "access key 1 never used, created 0 days ago (limit 90)"
    )


def test_unused_credentials_error_when_report_is_denied(aws: Aws, collect: Any) -> None:
    aws.proxy.fail("GetCredentialReport", "AccessDenied", status=403)
    assert collect("--only", "IAM-06").control("IAM-06")["status"] == "error"


def test_privileged_access_population_and_authorized_list(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    iam = aws.client("iam")
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=ADMIN)
    for user in ("approved-admin", "surprise-admin", "policy-admin", "reader"):
        iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName="admins", UserName="approved-admin")
    iam.put_user_policy(UserName="surprise-admin", PolicyName="debug", PolicyDocument=ALLOW_ALL)
    managed = iam.create_policy(PolicyName="everything", PolicyDocument=ALLOW_ALL)["Policy"]
    iam.attach_user_policy(UserName="policy-admin", PolicyArn=managed["Arn"])
    iam.attach_user_policy(UserName="reader", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    iam.create_role(RoleName="break-glass", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="break-glass", PolicyArn=ADMIN)
    controls = write_controls(
        tmp_path / "controls.yaml",
        """\
  - id: PRIV
    title: Privileged access
    criteria: [CC6.3]
    check: iam.privileged_access
    params:
      authorized: [admins, approved-admin, break-glass, policy-admin]
""",
    )
    control = collect(controls=controls).control("PRIV")
    by_name = {i["resource"]: i for i in control["items"]}
    assert set(by_name) == {
        "admins",
        "approved-admin",
        "surprise-admin",
        "policy-admin",
        "break-glass",
    }  # reader is not an administrator
    assert [i["resource"] for i in control["failing"]] == ["surprise-admin"]
    assert "member of admin group admins" in by_name["approved-admin"]["detail"]
    assert "everything (attached)" in by_name["policy-admin"]["detail"]
    assert by_name["break-glass"]["attributes"]["principal_type"] == "role"


def test_privileged_access_error(aws: Aws, collect: Any) -> None:
    aws.proxy.fail("GetAccountAuthorizationDetails", "AccessDenied", status=403)
    control = collect("--only", "IAM-07").control("IAM-07")
    assert (control["status"], control["errors"][0]["code"]) == ("error", "AccessDenied")
