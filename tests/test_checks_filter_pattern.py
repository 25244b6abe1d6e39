"""CloudWatch Logs filter patterns evaluated offline, and each CIS 4.x alarm judged by behaviour
(issue 9, kind 1). Pure: no AWS, no emulator."""

from __future__ import annotations

import pytest

from evidence.checks.cis_alarms import ALARMS, cloudtrail_event
from evidence.checks.cloudtrail import behaviour
from evidence.checks.filter_pattern import FilterPatternError, compile_pattern
from evidence.sources.cloudtrail import MetricFilter

# The JSON example of the CloudWatch Logs User Guide ("Filter pattern syntax": JSON log events).
DOC_EVENT = {
    "eventType": "UpdateTrail",
    "sourceIPAddress": "111.111.111.111",
    "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    "SomeObject": None,
    "ThisFlag": True,
}
# Its compound-conditions example.
COMPOUND_EVENT = {
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [
        {"id": 2, "email": "John.Doe@example.com"},
        {"id": 3, "email": "Jane.Doe@example.com"},
    ],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
}


def matches(pattern: str, event: object) -> bool:
    return compile_pattern(pattern).matches(event)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.eventType = "UpdateTrail" }',
        "{ $.sourceIPAddress != 123.123.* }",
        '{ $.arrayKey[0] = "value" }',
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        "{ $.ThisFlag IS TRUE }",
    ],
)
def test_aws_documented_json_examples_match(pattern: str) -> None:
    assert matches(pattern, DOC_EVENT)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
        ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', False),
        (
            '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch'
            " && $.actions[2] = nomatch }",
            True,  # && binds tighter than ||
        ),
        (
            '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch)'
            " && $.actions[2] = nomatch }",
            False,
        ),
    ],
)
def test_aws_documented_compound_examples(pattern: str, expected: bool) -> None:
    assert matches(pattern, COMPOUND_EVENT) is expected


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        # A selector on an array or object applies neither = nor != (AWS's special considerations).
        ("{ $.users = 1 }", {"users": [1, 2, 3]}, False),
        ("{ $.users != 1 }", {"users": [1, 2, 3]}, False),
        # Wildcards at the start and end only; inside, * is literal.
        ('{ $.eventName = "*Event" }', {"eventName": "PutEvent"}, True),
        ('{ $.eventName = "Event*" }', {"eventName": "EventId"}, True),
        ('{ $.eventName = "Ev*ent" }', {"eventName": "Evgreatent"}, False),
        ('{ $.eventName = "Ev*ent" }', {"eventName": "Ev*ent"}, True),
        ('{ $.errorCode = "*Unauthorized*" }', {"errorCode": "Client.UnauthorizedOperation"}, True),
        ("{ $.latency = * }", {"latency": 12}, True),
        ("{ $.latency = * }", {}, False),
        # Numbers: comparisons, signs, scientific notation; strings are not numbers.
        ("{ $.latency >= 500 }", {"latency": 500}, True),
        ("{ $.latency > +1000 }", {"latency": 1000}, False),
        ("{ $.numbers[0] < 10e3 }", {"numbers": [9999]}, True),
        ("{ $.numbers[0] < 10e-3 }", {"numbers": [0.5]}, False),
        (
            "{ $.processes[4].averageRuntime <= 55.5 }",
            {"processes": [0, 0, 0, 0, {"averageRuntime": 55.5}]},
            True,
        ),
        ("{ $.errorCode != 500 }", {"errorCode": 400}, True),
        ("{ $.latency > 5 }", {"latency": "9"}, False),
        # Missing, null and booleans.
        ('{ $.mfa != "Yes" }', {}, False),
        ("{ $.SomeObject IS NULL }", {}, False),
        ("{ $.flag IS FALSE }", {"flag": False}, True),
        ("{ $.flag IS TRUE }", {"flag": "true"}, False),
        ("{ $.a.b NOT EXISTS }", {"a": "text"}, True),
        # Unquoted values with dots; keywords and operators without spaces.
        ("{ $.eventSource = kms.amazonaws.com }", {"eventSource": "kms.amazonaws.com"}, True),
        (
            "{($.eventName=StopLogging)||($.eventName=StartLogging)}",
            {"eventName": "StartLogging"},
            True,
        ),
        # Quoted strings with escapes and characters that need quotes.
        (r'{ $.message = "say \"hi\"" }', {"message": 'say "hi"'}, True),
        ('{ $.user = "a@b.c" }', {"user": "a@b.c"}, True),
    ],
)
def test_json_semantics(pattern: str, event: dict[str, object], expected: bool) -> None:
    assert matches(pattern, event) is expected


@pytest.mark.parametrize(
    ("pattern", "line_event", "expected"),
    [
        ("ERROR", {"m": "Exiting with ERRORCODE: -1"}, True),  # AWS's example: contained
        ('"ERROR" -"Exiting"', {"m": "Exiting with ERRORCODE: -1"}, False),
        ("ERROR Exception", {"m": "[ERROR] Caught IllegalArgumentException"}, True),
        ("?ERROR ?WARN", {"m": "WARN message"}, True),
        ("ERROR -WARN", {"m": "ERROR WARN message"}, False),
        ("", {"m": "anything"}, True),
        ("AccessDenied", {"errorCode": "AccessDenied"}, True),
    ],
)
def test_term_patterns(pattern: str, line_event: dict[str, object], expected: bool) -> None:
    assert matches(pattern, line_event) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "{ $.eventName = }",
        "{ $.eventName == CreateTrail }",
        "{ ($.eventName = CreateTrail }",
        "{ $.eventName = CreateTrail",
        "{ eventName = CreateTrail }",
        "{ $.latency > fast }",
        "{ $.eventName = %Create.*% }",
        "[ip, user, status_code = 4*]",
        "?ERROR WARN",
        "{ $.a = 1 } trailing",
    ],
)
def test_patterns_it_cannot_read_raise(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        compile_pattern(pattern)


# ---------------------------------------------------------------- CIS alarms by behaviour

# The benchmark's own patterns (CIS AWS Foundations Benchmark v3.0.0, 4.1 to 4.15).
CIS_PATTERNS = {
    "unauthorized_api_calls": '{($.errorCode ="*UnauthorizedOperation") || ($.errorCode'
    ' ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") &&'
    ' ($.eventName!="HeadBucket")}',
    "console_signin_without_mfa": '{ ($.eventName = "ConsoleLogin") &&'
    ' ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") &&'
    ' ($.responseElements.ConsoleLogin = "Success") }',
    "root_account_use": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS'
    ' && $.eventType != "AwsServiceEvent" }',
    "iam_policy_changes": "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||"
    "($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||"
    "($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||"
    "($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||"
    "($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||"
    "($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||"
    "($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    "cloudtrail_changes": "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) ||"
    " ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    "console_auth_failures": '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed'
    ' authentication") }',
    "kms_key_deletion": "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||"
    "($.eventName=ScheduleKeyDeletion)) }",
    "s3_bucket_policy_changes": "{ ($.eventSource = s3.amazonaws.com) && (($.eventName ="
    " PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) ||"
    " ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) ||"
    " ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName ="
    " DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    "config_changes": "{ ($.eventSource = config.amazonaws.com) &&"
    " (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)"
    " ||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    "security_group_changes": "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName ="
    " AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) ||"
    " ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) ||"
    " ($.eventName = DeleteSecurityGroup) }",
    "nacl_changes": "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry)"
    " || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) ||"
    " ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    "network_gateway_changes": "{ ($.eventName = CreateCustomerGateway) || ($.eventName ="
    " DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName ="
    " CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName ="
    " DetachInternetGateway) }",
    "route_table_changes": "{($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute)"
    " || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName ="
    " ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName ="
    " DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
    "vpc_changes": "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName ="
    " ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName ="
    " CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName"
    " = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName ="
    " DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName ="
    " EnableVpcClassicLink) }",
    "organizations_changes": "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName ="
    ' "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") ||'
    ' ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") ||'
    ' ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") ||'
    ' ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") ||'
    ' ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName ='
    ' "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName ='
    ' "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName ='
    ' "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName ='
    ' "UpdateOrganizationalUnit")) }',
}


def judged(alarm: str, *patterns: str) -> object:
    filters = [
        MetricFilter("trail-logs", "us-east-1", f"f{i}", p, ()) for i, p in enumerate(patterns)
    ]
    return behaviour(filters, ALARMS[alarm])


def test_every_alarm_has_the_benchmark_pattern() -> None:
    assert set(CIS_PATTERNS) == set(ALARMS)


@pytest.mark.parametrize("alarm", sorted(CIS_PATTERNS))
def test_the_benchmark_patterns_behave_correctly(alarm: str) -> None:
    result = judged(alarm, CIS_PATTERNS[alarm])
    assert result.correct, result  # type: ignore[attr-defined]


def test_issue_example_mfa_used_yes_counts_the_wrong_sign_ins() -> None:
    result = judged(
        "console_signin_without_mfa",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed = "Yes") }',
    )
    assert result.missed == ("a console sign-in with MFAUsed: No",)  # type: ignore[attr-defined]
    assert result.wrongly == ("a console sign-in with MFAUsed: Yes",)  # type: ignore[attr-defined]


def test_issue_example_unquoted_root_pattern_is_valid_and_correct() -> None:
    result = judged(
        "root_account_use",
        "{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS"
        " && $.eventType != AwsServiceEvent }",
    )
    assert result.correct  # type: ignore[attr-defined]


def test_issue_example_nacl_filter_without_create_and_delete_acl() -> None:
    result = judged(
        "nacl_changes",
        "{ ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAclEntry) ||"
        " ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    )
    assert result.missed == (  # type: ignore[attr-defined]
        "CreateNetworkAcl (ec2.amazonaws.com)",
        "DeleteNetworkAcl (ec2.amazonaws.com)",
    )


def test_iam_filter_without_create_policy_misses_it_though_create_policy_version_is_named() -> None:
    pattern = CIS_PATTERNS["iam_policy_changes"].replace("($.eventName=CreatePolicy)||", "")
    assert judged("iam_policy_changes", pattern).missed == (  # type: ignore[attr-defined]
        "CreatePolicy (iam.amazonaws.com)",
    )


def test_unauthorized_filter_on_access_denied_only_misses_ec2_refusals() -> None:
    result = judged("unauthorized_api_calls", '{ $.errorCode = "AccessDenied*" }')
    assert result.missed == (  # type: ignore[attr-defined]
        "RunInstances refused with Client.UnauthorizedOperation",
    )


def test_a_filter_that_counts_everything_is_wrong_for_every_alarm() -> None:
    for alarm in ALARMS:
        assert judged(alarm, "{ $.eventVersion = * }").wrongly, alarm  # type: ignore[attr-defined]


def test_two_filters_on_one_metric_count_together() -> None:
    result = judged(
        "kms_key_deletion",
        "{ $.eventSource = kms.amazonaws.com && $.eventName = DisableKey }",
        "{ $.eventSource = kms.amazonaws.com && $.eventName = ScheduleKeyDeletion }",
    )
    assert result.correct  # type: ignore[attr-defined]


def test_auth_failures_filter_on_all_console_logins_is_wrong() -> None:
    result = judged("console_auth_failures", "{ $.eventName = ConsoleLogin }")
    assert result.wrongly == ("a successful console sign-in",)  # type: ignore[attr-defined]


def test_a_term_pattern_is_judged_on_the_event_text() -> None:
    # The term ConsoleLogin is contained in every sign-in: not specific to a missing MFA.
    result = judged("console_signin_without_mfa", "ConsoleLogin")
    assert result.wrongly  # type: ignore[attr-defined]


def test_an_unreadable_pattern_is_named() -> None:
    result = judged("cloudtrail_changes", "{ $.eventName = %Trail% }")
    assert not result.correct  # type: ignore[attr-defined]
    assert "%Trail%" in result.unreadable[0]  # type: ignore[attr-defined]


def test_probe_events_are_cloudtrail_records() -> None:
    event = cloudtrail_event("ec2.amazonaws.com", "CreateVpc")
    assert event["eventSource"] == "ec2.amazonaws.com" and event["readOnly"] is False
    assert cloudtrail_event("ec2.amazonaws.com", "DescribeVpcs")["readOnly"] is True
