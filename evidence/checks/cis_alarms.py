"""The CIS AWS Foundations Benchmark v3.0 section 4 alarms, each defined by behaviour: CloudTrail
events its metric filter must count, and events it must not.

A filter passes for an alarm when it matches every "must match" event and none of the "must not
match" ones (checks/filter_pattern.py evaluates it offline). The events are CloudTrail records as
CloudTrail delivers them to CloudWatch Logs (CloudTrail User Guide, "CloudTrail record contents"
and "CloudTrail userIdentity element"); the event names are those of the benchmark's own filter
patterns (CIS AWS Foundations Benchmark v3.0.0, 4.1 to 4.15). "Must not" events are the nearest
events the alarm must stay quiet on (a sign-in *with* MFA for the no-MFA alarm, a successful call
for the unauthorized-calls alarm, a read of the same service for change alarms): a filter that
counts them does not tell the condition apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ACCOUNT = "111122223333"


@dataclass(frozen=True)
class Probe:
    """One CloudTrail event, with the words that name it in a finding."""

    label: str
    event: Mapping[str, Any]


@dataclass(frozen=True)
class AlarmSpec:
    key: str  # the name used in the `required` parameter
    title: str
    cis: str  # CIS AWS Foundations Benchmark v3.0 item
    must_match: tuple[Probe, ...]
    must_not_match: tuple[Probe, ...]


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = _merge(dict(base[key]), value)
        else:
            base[key] = value
    return base


def cloudtrail_event(source: str, name: str, **extra: Any) -> dict[str, Any]:
    """A management event made by an IAM user, as CloudTrail records it; `extra` overrides."""
    event: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEPRINCIPAL",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAEXAMPLEKEY",
            "userName": "alice",
        },
        "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {},
        "responseElements": None,
        "requestID": "0f8e3b6c-1111-2222-3333-444455556666",
        "eventID": "9a1b2c3d-1111-2222-3333-444455556666",
        "readOnly": name.startswith(("Describe", "Get", "List")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    return _merge(event, extra)


def _calls(source: str, names: tuple[str, ...]) -> tuple[Probe, ...]:
    return tuple(Probe(f"{name} ({source})", cloudtrail_event(source, name)) for name in names)


def _sign_in(**extra: Any) -> dict[str, Any]:
    return cloudtrail_event(
        "signin.amazonaws.com",
        "ConsoleLogin",
        **_merge(
            {
                "eventType": "AwsConsoleSignIn",
                "readOnly": False,
                "requestParameters": None,
                "responseElements": {"ConsoleLogin": "Success"},
                "additionalEventData": {
                    "LoginTo": "https://console.aws.amazon.com/console/home",
                    "MobileVersion": "No",
                    "MFAUsed": "No",
                },
            },
            extra,
        ),
    )


_ROOT = {
    "userIdentity": {
        "type": "Root",
        "principalId": ACCOUNT,
        "arn": f"arn:aws:iam::{ACCOUNT}:root",
        "accountId": ACCOUNT,
        "userName": None,
    }
}


def _spec(
    key: str,
    cis: str,
    title: str,
    must_match: tuple[Probe, ...],
    must_not_match: tuple[Probe, ...],
) -> AlarmSpec:
    return AlarmSpec(key, f"{title} (CIS {cis})", cis, must_match, must_not_match)


def _changes(
    key: str, cis: str, title: str, source: str, names: tuple[str, ...], reads: tuple[str, ...]
) -> AlarmSpec:
    return _spec(key, cis, title, _calls(source, names), _calls(source, reads))


EC2 = "ec2.amazonaws.com"

ALARMS: dict[str, AlarmSpec] = {
    spec.key: spec
    for spec in (
        _spec(
            "unauthorized_api_calls",
            "4.1",
            "Unauthorized API calls",
            (
                Probe(
                    "RunInstances refused with Client.UnauthorizedOperation",
                    cloudtrail_event(EC2, "RunInstances", errorCode="Client.UnauthorizedOperation"),
                ),
                Probe(
                    "GetObject refused with AccessDenied",
                    cloudtrail_event("s3.amazonaws.com", "GetObject", errorCode="AccessDenied"),
                ),
                Probe(
                    "Decrypt refused with AccessDeniedException",
                    cloudtrail_event(
                        "kms.amazonaws.com", "Decrypt", errorCode="AccessDeniedException"
                    ),
                ),
            ),
            (Probe("a successful DescribeInstances", cloudtrail_event(EC2, "DescribeInstances")),),
        ),
        _spec(
            "console_signin_without_mfa",
            "4.2",
            "Console sign-in without MFA",
            (Probe("a console sign-in with MFAUsed: No", _sign_in()),),
            (
                Probe(
                    "a console sign-in with MFAUsed: Yes",
                    _sign_in(additionalEventData={"MFAUsed": "Yes"}),
                ),
            ),
        ),
        _spec(
            "root_account_use",
            "4.3",
            "Use of the root account",
            (
                Probe(
                    "DescribeInstances called by the root user",
                    cloudtrail_event(EC2, "DescribeInstances", **_ROOT),
                ),
                Probe(
                    "a console sign-in by the root user",
                    _sign_in(**_ROOT, additionalEventData={"MFAUsed": "Yes"}),
                ),
            ),
            (
                Probe(
                    "DescribeInstances called by an IAM user",
                    cloudtrail_event(EC2, "DescribeInstances"),
                ),
            ),
        ),
        _changes(
            "iam_policy_changes",
            "4.4",
            "IAM policy changes",
            "iam.amazonaws.com",
            (
                "DeleteGroupPolicy",
                "DeleteRolePolicy",
                "DeleteUserPolicy",
                "PutGroupPolicy",
                "PutRolePolicy",
                "PutUserPolicy",
                "CreatePolicy",
                "DeletePolicy",
                "CreatePolicyVersion",
                "DeletePolicyVersion",
                "AttachRolePolicy",
                "DetachRolePolicy",
                "AttachUserPolicy",
                "DetachUserPolicy",
                "AttachGroupPolicy",
                "DetachGroupPolicy",
            ),
            ("ListPolicies", "GetPolicyVersion"),
        ),
        _changes(
            "cloudtrail_changes",
            "4.5",
            "CloudTrail configuration changes",
            "cloudtrail.amazonaws.com",
            ("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"),
            ("DescribeTrails", "GetTrailStatus"),
        ),
        _spec(
            "console_auth_failures",
            "4.6",
            "Console authentication failures",
            (
                Probe(
                    "a console sign-in that failed authentication",
                    _sign_in(
                        errorMessage="Failed authentication",
                        responseElements={"ConsoleLogin": "Failure"},
                    ),
                ),
            ),
            (Probe("a successful console sign-in", _sign_in()),),
        ),
        _changes(
            "kms_key_deletion",
            "4.7",
            "Disabling or scheduled deletion of KMS keys",
            "kms.amazonaws.com",
            ("DisableKey", "ScheduleKeyDeletion"),
            ("Decrypt", "EnableKey"),
        ),
        _changes(
            "s3_bucket_policy_changes",
            "4.8",
            "S3 bucket policy changes",
            "s3.amazonaws.com",
            (
                "PutBucketAcl",
                "PutBucketPolicy",
                "PutBucketCors",
                "PutBucketLifecycle",
                "PutBucketReplication",
                "DeleteBucketPolicy",
                "DeleteBucketCors",
                "DeleteBucketLifecycle",
                "DeleteBucketReplication",
            ),
            ("GetBucketPolicy", "ListBuckets"),
        ),
        _changes(
            "config_changes",
            "4.9",
            "AWS Config configuration changes",
            "config.amazonaws.com",
            (
                "StopConfigurationRecorder",
                "DeleteDeliveryChannel",
                "PutDeliveryChannel",
                "PutConfigurationRecorder",
            ),
            ("DescribeConfigurationRecorders",),
        ),
        _changes(
            "security_group_changes",
            "4.10",
            "Security group changes",
            EC2,
            (
                "AuthorizeSecurityGroupIngress",
                "AuthorizeSecurityGroupEgress",
                "RevokeSecurityGroupIngress",
                "RevokeSecurityGroupEgress",
                "CreateSecurityGroup",
                "DeleteSecurityGroup",
            ),
            ("DescribeSecurityGroups",),
        ),
        _changes(
            "nacl_changes",
            "4.11",
            "Network ACL changes",
            EC2,
            (
                "CreateNetworkAcl",
                "CreateNetworkAclEntry",
                "DeleteNetworkAcl",
                "DeleteNetworkAclEntry",
                "ReplaceNetworkAclEntry",
                "ReplaceNetworkAclAssociation",
            ),
            ("DescribeNetworkAcls",),
        ),
        _changes(
            "network_gateway_changes",
            "4.12",
            "Network gateway changes",
            EC2,
            (
                "CreateCustomerGateway",
                "DeleteCustomerGateway",
                "AttachInternetGateway",
                "CreateInternetGateway",
                "DeleteInternetGateway",
                "DetachInternetGateway",
            ),
            ("DescribeInternetGateways",),
        ),
        _changes(
            "route_table_changes",
            "4.13",
            "Route table changes",
            EC2,
            (
                "CreateRoute",
                "CreateRouteTable",
                "ReplaceRoute",
                "ReplaceRouteTableAssociation",
                "DeleteRouteTable",
                "DeleteRoute",
                "DisassociateRouteTable",
            ),
            ("DescribeRouteTables",),
        ),
        _changes(
            "vpc_changes",
            "4.14",
            "VPC changes",
            EC2,
            (
                "CreateVpc",
                "DeleteVpc",
                "ModifyVpcAttribute",
                "AcceptVpcPeeringConnection",
                "CreateVpcPeeringConnection",
                "DeleteVpcPeeringConnection",
                "RejectVpcPeeringConnection",
                "AttachClassicLinkVpc",
                "DetachClassicLinkVpc",
                "DisableVpcClassicLink",
                "EnableVpcClassicLink",
            ),
            ("DescribeVpcs",),
        ),
        _changes(
            "organizations_changes",
            "4.15",
            "AWS Organizations changes",
            "organizations.amazonaws.com",
            (
                "AcceptHandshake",
                "AttachPolicy",
                "CreateAccount",
                "CreateOrganizationalUnit",
                "CreatePolicy",
                "DeclineHandshake",
                "DeleteOrganization",
                "DeleteOrganizationalUnit",
                "DeletePolicy",
                "DetachPolicy",
                "DisablePolicyType",
                "EnablePolicyType",
                "InviteAccountToOrganization",
                "LeaveOrganization",
                "MoveAccount",
                "RemoveAccountFromOrganization",
                "UpdatePolicy",
                "UpdateOrganizationalUnit",
            ),
            ("DescribeOrganization", "ListAccounts"),
        ),
    )
}
