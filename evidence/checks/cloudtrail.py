"""CloudTrail on and complete; CloudWatch alarms on the security events CIS AWS 4.x names."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..model import Item, Status
from ..sources.cloudtrail import ALARM_CHAIN, TRAILS, AlarmChain, Trail
from .base import ScopeContext, check, events


@dataclass(frozen=True)
class TrailParams:
    require_log_file_validation: bool = True
    require_kms_encryption: bool = False


def trail_shortfalls(trail: Trail, params: TrailParams) -> list[str]:
    shortfalls = []
    if not trail.multi_region:
        shortfalls.append("not multi-region")
    if trail.is_logging is not True:
        shortfalls.append("not logging")
    if not (trail.management_read and trail.management_write):
        shortfalls.append("does not log read and write management events")
    if params.require_log_file_validation and not trail.log_file_validation:
        shortfalls.append("log file validation off")
    if params.require_kms_encryption and not trail.kms_key_id:
        shortfalls.append("logs not encrypted with KMS")
    return shortfalls


@check(
    "cloudtrail.enabled",
    summary="A multi-region CloudTrail trail is logging read and write management events, with "
    "log file validation.",
    procedure=(
        "List the account's trails, including those of other home regions"
        " (cloudtrail:DescribeTrails includeShadowTrails=true), and read each trail's status"
        " (cloudtrail:GetTrailStatus) and event selectors (cloudtrail:GetEventSelectors) in its"
        " home region. The control passes when at least one trail is multi-region, logging, logs"
        " read and write management events and (by default) validates its log files."
    ),
    params=TrailParams,
    sources=(TRAILS,),
    change_events=events(
        "cloudtrail",
        "CreateTrail",
        "UpdateTrail",
        "DeleteTrail",
        "StartLogging",
        "StopLogging",
        "PutEventSelectors",
    ),
)
def cloudtrail_enabled(ctx: ScopeContext[TrailParams]) -> Iterator[Item]:
    trails = ctx.get(TRAILS)
    assessed = [(trail, trail_shortfalls(trail, ctx.params)) for trail in trails]
    good = [trail for trail, shortfalls in assessed if not shortfalls]
    summary = {trail.name: "; ".join(s) or "meets every requirement" for trail, s in assessed}
    if good:
        trail = good[0]
        status, detail = Status.PASS, f"trail {trail.name} meets every requirement"
    elif trails:
        trail = max(assessed, key=lambda pair: -len(pair[1]))[0]
        status = Status.FAIL
        detail = "no trail meets every requirement: " + "; ".join(
            f"{name}: {text}" for name, text in summary.items()
        )
    else:
        yield ctx.item("<no trail>", Status.FAIL, "no CloudTrail trail exists", "", trails_found=0)
        return
    yield ctx.item(
        trail.arn,
        status,
        detail,
        trail.arn,
        name=trail.name,
        home_region=trail.home_region,
        multi_region=trail.multi_region,
        is_logging=trail.is_logging,
        management_read=trail.management_read,
        management_write=trail.management_write,
        log_file_validation=trail.log_file_validation,
        s3_bucket=trail.s3_bucket,
        kms_key_id=trail.kms_key_id,
        log_group=trail.log_group_arn,
        trails_found=len(trails),
        all_trails=summary,
    )


# ---------------------------------------------------------------- CIS 4.x alarms

# Each required alarm, with the words its metric filter pattern must contain (CIS AWS v3.0, 4.x).
ALARM_PATTERNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "unauthorized_api_calls": (
        "Unauthorized API calls (CIS 4.1)",
        ("UnauthorizedOperation", "AccessDenied"),
    ),
    "console_signin_without_mfa": (
        "Console sign-in without MFA (CIS 4.2)",
        ("ConsoleLogin", "MFAUsed"),
    ),
    "root_account_use": ("Use of the root account (CIS 4.3)", ('userIdentity.type="Root"',)),
    "iam_policy_changes": (
        "IAM policy changes (CIS 4.4)",
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
    ),
    "cloudtrail_changes": (
        "CloudTrail configuration changes (CIS 4.5)",
        ("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"),
    ),
    "console_auth_failures": (
        "Console authentication failures (CIS 4.6)",
        ("ConsoleLogin", "Failed authentication"),
    ),
    "kms_key_deletion": (
        "Disabling or deleting KMS keys (CIS 4.7)",
        ("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"),
    ),
    "s3_bucket_policy_changes": (
        "S3 bucket policy changes (CIS 4.8)",
        ("PutBucketAcl", "PutBucketPolicy", "DeleteBucketPolicy"),
    ),
    "config_changes": (
        "AWS Config changes (CIS 4.9)",
        (
            "StopConfigurationRecorder",
            "DeleteDeliveryChannel",
            "PutDeliveryChannel",
            "PutConfigurationRecorder",
        ),
    ),
    "security_group_changes": (
        "Security group changes (CIS 4.10)",
        (
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "RevokeSecurityGroupEgress",
            "CreateSecurityGroup",
            "DeleteSecurityGroup",
        ),
    ),
    "nacl_changes": (
        "Network ACL changes (CIS 4.11)",
        (
            "CreateNetworkAcl",
            "CreateNetworkAclEntry",
            "DeleteNetworkAcl",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry",
            "ReplaceNetworkAclAssociation",
        ),
    ),
    "network_gateway_changes": (
        "Network gateway changes (CIS 4.12)",
        (
            "CreateCustomerGateway",
            "DeleteCustomerGateway",
            "AttachInternetGateway",
            "CreateInternetGateway",
            "DeleteInternetGateway",
            "DetachInternetGateway",
        ),
    ),
    "route_table_changes": (
        "Route table changes (CIS 4.13)",
        (
            "CreateRoute",
            "CreateRouteTable",
            "ReplaceRoute",
            "ReplaceRouteTableAssociation",
            "DeleteRouteTable",
            "DeleteRoute",
            "DisassociateRouteTable",
        ),
    ),
    "vpc_changes": (
        "VPC changes (CIS 4.14)",
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
    ),
}
DEFAULT_ALARMS = (
    "root_account_use",
    "unauthorized_api_calls",
    "console_signin_without_mfa",
    "iam_policy_changes",
    "cloudtrail_changes",
    "security_group_changes",
    "nacl_changes",
)


@dataclass(frozen=True)
class AlarmParams:
    required: tuple[str, ...] = DEFAULT_ALARMS


def _validate_alarms(params: AlarmParams) -> str | None:
    unknown = [name for name in params.required if name not in ALARM_PATTERNS]
    if unknown:
        return f"unknown alarm {', '.join(unknown)} (known: {', '.join(ALARM_PATTERNS)})"
    return None


def _matches(pattern: str, words: tuple[str, ...]) -> bool:
    compact = "".join(pattern.split())
    return all("".join(word.split()) in compact for word in words)


def alarm_for(chain: AlarmChain, words: tuple[str, ...]) -> tuple[Status, str, dict[str, Any]]:
    """Follow filter -> alarm -> action -> confirmed subscription; say where the chain breaks."""
    filters = [f for f in chain.filters if _matches(f.pattern, words)]
    if not filters:
        return Status.FAIL, "no metric filter on a trail log group matches the pattern", {}
    metrics = {(f.region, ns, name) for f in filters for ns, name in f.metrics}
    alarms = [a for a in chain.alarms if (a.region, a.namespace, a.metric) in metrics]
    found: dict[str, Any] = {"metric_filters": [f.name for f in filters]}
    if not alarms:
        return Status.FAIL, "metric filter without an alarm on its metric", found
    found["alarms"] = [a.name for a in alarms]
    for alarm in alarms:
        subscribers = [
            s for topic in alarm.actions for s in chain.confirmed_subscriptions.get(topic, ())
        ]
        if alarm.enabled and subscribers:
            found["notified"] = subscribers
            return Status.PASS, f"alarm {alarm.name} notifies {', '.join(subscribers)}", found
    return Status.FAIL, "alarm has no enabled action with a confirmed SNS subscription", found


@check(
    "cloudwatch.security_alarms",
    summary="Security events in CloudTrail raise a CloudWatch alarm that notifies someone.",
    procedure=(
        "For the log group of each trail (cloudtrail:DescribeTrails), list its metric filters"
        " (logs:DescribeMetricFilters); list the region's metric alarms (cloudwatch:DescribeAlarms)"
        " and, for alarms on those filters' metrics, the subscriptions of their SNS topics"
        " (sns:ListSubscriptionsByTopic). Each required security event (the CIS AWS 4.x patterns)"
        " passes when a filter pattern names its events and an alarm on that metric has an"
        " enabled action with a confirmed subscription."
    ),
    params=AlarmParams,
    sources=(ALARM_CHAIN,),
    validate=_validate_alarms,
    change_events=events("cloudtrail", "UpdateTrail", "DeleteTrail")
    + events("logs", "PutMetricFilter", "DeleteMetricFilter", "DeleteLogGroup")
    + events(
        "monitoring", "PutMetricAlarm", "DeleteAlarms", "DisableAlarmActions", "EnableAlarmActions"
    )
    + events("sns", "Subscribe", "ConfirmSubscription", "Unsubscribe", "DeleteTopic"),
)
def security_alarms(ctx: ScopeContext[AlarmParams]) -> Iterator[Item]:
    chain = ctx.get(ALARM_CHAIN)
    for name in ctx.params.required:
        title, words = ALARM_PATTERNS[name]
        status, detail, found = alarm_for(chain, words)
        yield ctx.item(name, status, f"{title}: {detail}", "", event=title, **found)
