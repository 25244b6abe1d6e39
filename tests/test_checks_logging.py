"""CloudTrail and the CIS alarm chain: pass, fail, error over HTTP.

Issue 9 kinds here: event selectors read as CloudTrail applies them (classic and advanced,
ExcludeManagementEventSources), delivery errors, one trail's failure isolated to that trail
(cloudtrail.enabled is existential), and the alarm chain judged by behaviour from a qualifying
trail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import ACCOUNT, Aws, write_controls

ALL_MANAGEMENT = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]


def trail_arn(name: str) -> str:
    return f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{name}"


def trail(
    aws: Aws,
    name: str = "org-trail",
    multi_region: bool = True,
    logging: bool = True,
    validation: bool = True,
    log_group: str | None = None,
    selectors: list[dict[str, Any]] | None = None,
    advanced: list[dict[str, Any]] | None = None,
) -> None:
    aws.client("s3").create_bucket(Bucket=f"{name}-bucket")
    extra: dict[str, Any] = {}
    if log_group:
        aws.client("logs").create_log_group(logGroupName=log_group)
        group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{log_group}:*"
        extra = {
            "CloudWatchLogsLogGroupArn": group_arn,
            "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ct",
        }
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(
        Name=name,
        S3BucketName=f"{name}-bucket",
        IsMultiRegionTrail=multi_region,
        EnableLogFileValidation=validation,
        **extra,
    )
    if advanced is not None:
        cloudtrail.put_event_selectors(TrailName=name, AdvancedEventSelectors=advanced)
    else:
        cloudtrail.put_event_selectors(
            TrailName=name, EventSelectors=ALL_MANAGEMENT if selectors is None else selectors
        )
    if logging:
        cloudtrail.start_logging(Name=name)


def test_cloudtrail_passes_with_one_complete_trail(aws: Aws, collect: Any) -> None:
    trail(aws, "legacy", multi_region=False, logging=False)
    trail(aws, "org-trail")
    control = collect("--only", "LOG-01").control("LOG-01")
    assert control["status"] == "pass"
    assert control["quantifier"] == "some"
    items = {i["resource"]: i for i in control["items"]}  # every trail is an item
    item = items[trail_arn("org-trail")]
    assert item["status"] == "pass"
    assert item["attributes"]["name"] == "org-trail"
    assert item["attributes"]["s3_bucket"] == "org-trail-bucket"
    assert item["attributes"]["trails_found"] == 2
    # Existential: the legacy trail fails on its own, without failing the control.
    assert items[trail_arn("legacy")]["status"] == "fail"


def test_cloudtrail_fails_naming_every_shortfall(aws: Aws, collect: Any) -> None:
    trail(aws, "dev-trail", multi_region=False, logging=False, validation=False)
    detail = collect("--only", "LOG-01").control("LOG-01")["failing"][0]["detail"]
    assert "not multi-region" in detail and "not logging" in detail
    assert "log file validation off" in detail


def test_no_trail_at_all_fails(aws: Aws, collect: Any) -> None:
    control = collect("--only", "LOG-01").control("LOG-01")
    assert control["failing"][0]["resource"] == "<no trail>"


def test_cloudtrail_error(aws: Aws, collect: Any) -> None:
    aws.proxy.fail("DescribeTrails", "AccessDenied", status=400)
    control = collect("--only", "LOG-01").control("LOG-01")
    assert control["status"] == "error"
    assert control["errors"][0]["operation"] == "DescribeTrails"


ALARMS = """\
  - id: MON
    title: Alarms
    criteria: [CC7.2]
    check: cloudwatch.security_alarms
    params:
      required: [root_account_use, cloudtrail_changes, nacl_changes]
"""


def alarm_chain(aws: Aws, metric: str, pattern: str, alarm: bool = True) -> None:
    aws.client("logs").put_metric_filter(
        logGroupName="trail-logs",
        filterName=metric,
        filterPattern=pattern,
        metricTransformations=[
            {"metricName": metric, "metricNamespace": "CIS", "metricValue": "1"}
        ],
    )
    if alarm:
        sns = aws.client("sns")
        topic = sns.create_topic(Name="security")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="cto@example.com")
        aws.client("cloudwatch").put_metric_alarm(
            AlarmName=metric,
            MetricName=metric,
            Namespace="CIS",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[topic],
        )


def test_alarm_chain_pass_and_where_it_breaks(aws: Aws, collect: Any, tmp_path: Path) -> None:
    trail(aws, log_group="trail-logs")
    alarm_chain(
        aws, "RootUse", '{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }'
    )
    alarm_chain(
        aws,
        "TrailChanges",
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail)"
        " || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) ||"
        " ($.eventName = StopLogging) }",
        alarm=False,
    )
    run = collect(controls=write_controls(tmp_path / "controls.yaml", ALARMS))
    items = {i["resource"]: i for i in run.control("MON")["items"]}
    assert items["root_account_use"]["status"] == "pass"
    assert "notifies email:cto@example.com" in items["root_account_use"]["detail"]
    assert items["cloudtrail_changes"]["detail"].endswith(
        "metric filter TrailChanges counts the right events but no alarm watches its metric"
    )
    assert items["nacl_changes"]["detail"].endswith(
        "no metric filter on trail-logs counts any of these events (2 filter(s) judged)"
    )
    calls = run.results["run"]["calls_per_operation"]
    assert calls["cloudtrail:DescribeTrails"] == 1  # read once, by the trail source only


def test_alarm_chain_error_when_filters_are_denied(aws: Aws, collect: Any, tmp_path: Path) -> None:
    trail(aws, log_group="trail-logs")
    aws.proxy.fail("DescribeMetricFilters", "AccessDeniedException", status=400)
    control = collect(controls=write_controls(tmp_path / "c.yaml", ALARMS)).control("MON")
    assert control["status"] == "error"
    assert control["errors"][0]["operation"] == "DescribeMetricFilters"


def test_alarm_chain_error_when_its_trail_source_failed(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    aws.proxy.fail("DescribeTrails", "AccessDenied", status=400)
    control = collect(controls=write_controls(tmp_path / "c.yaml", ALARMS)).control("MON")
    assert control["status"] == "error"
    assert (control["errors"][0]["operation"], control["errors"][0]["code"]) == (
        "DescribeTrails",
        "AccessDenied",
    )


def test_unknown_alarm_name_is_a_configuration_error(collect: Any, tmp_path: Path) -> None:
    controls = write_controls(tmp_path / "controls.yaml", ALARMS.replace("nacl_changes", "nacls"))
    run = collect(controls=controls)
    assert run.code == 2
    assert "controls.yaml:9: controls[0].params: unknown alarm nacls" in run.err


# ---------------------------------------------------------------- issue 9: trails


def test_issue_example_excluded_kms_events_fail_naming_the_source(aws: Aws, collect: Any) -> None:
    trail(
        aws,
        selectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "ExcludeManagementEventSources": ["kms.amazonaws.com"],
            }
        ],
    )
    control = collect("--only", "LOG-01").control("LOG-01")
    assert control["status"] == "fail"
    detail = control["items"][0]["detail"]
    assert "write management events from kms.amazonaws.com are not logged" in detail


def test_advanced_selectors_mean_the_same(aws: Aws, collect: Any) -> None:
    management = {"Field": "eventCategory", "Equals": ["Management"]}
    trail(aws, "complete", advanced=[{"Name": "all", "FieldSelectors": [management]}])
    trail(
        aws,
        "no-kms",
        advanced=[
            {
                "Name": "no kms",
                "FieldSelectors": [
                    management,
                    {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
                ],
            }
        ],
    )
    trail(
        aws,
        "reads-only",
        advanced=[
            {
                "Name": "reads",
                "FieldSelectors": [management, {"Field": "readOnly", "Equals": ["true"]}],
            }
        ],
    )
    items = {
        i["attributes"]["name"]: i for i in collect("--only", "LOG-01").control("LOG-01")["items"]
    }
    assert items["complete"]["status"] == "pass"
    assert "kms.amazonaws.com" in items["no-kms"]["detail"]
    assert "write management events are not logged" in items["reads-only"]["detail"]


def delivery_error(aws: Aws, name: str, **fields: str) -> None:
    """moto never fails a delivery: set the error in its in-process trail status."""
    status = aws.backend("cloudtrail", "us-east-1").trails[name].status
    describe = status.description
    status.description = lambda: {**describe(), **fields}


def test_a_trail_whose_deliveries_fail_fails_naming_the_error(aws: Aws, collect: Any) -> None:
    trail(aws)
    delivery_error(aws, "org-trail", LatestDeliveryError="NoSuchBucket")
    control = collect("--only", "LOG-01").control("LOG-01")
    assert control["status"] == "fail"
    assert "log delivery to S3 failing: NoSuchBucket" in control["items"][0]["detail"]


def test_one_unreadable_trail_is_an_error_item_and_the_others_are_judged(
    aws: Aws, collect: Any
) -> None:
    trail(aws, "member-view", multi_region=True)
    trail(aws, "org-trail")
    aws.proxy.fail(
        "GetEventSelectors", "TrailNotFoundException", body_contains=trail_arn("member-view")
    )
    run = collect("--only", "LOG-01")
    control = run.control("LOG-01")
    items = {i["attributes"]["name"]: i for i in control["items"]}
    assert items["member-view"]["status"] == "error"
    assert "GetEventSelectors failed with TrailNotFoundException" in items["member-view"]["detail"]
    assert items["org-trail"]["status"] == "pass"
    # Existential: one fully proven trail passes; what was unread is still listed.
    assert control["status"] == "pass"
    assert control["errors"][0]["code"] == "TrailNotFoundException"
    assert run.code == 3  # some evidence could not be collected


def test_without_a_passing_trail_an_unreadable_one_makes_it_an_error(
    aws: Aws, collect: Any
) -> None:
    trail(aws, "dev", multi_region=False)
    trail(aws, "maybe")
    aws.proxy.fail("GetTrailStatus", "AccessDeniedException", body_contains=trail_arn("maybe"))
    control = collect("--only", "LOG-01").control("LOG-01")
    assert control["status"] == "error"
    assert {i["status"] for i in control["items"]} == {"fail", "error"}


# ---------------------------------------------------------------- issue 9: the alarm chain

ROOT_USE = (
    "{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS"
    " && $.eventType != AwsServiceEvent }"
)
ROOT_ONLY = """\
  - id: MON
    title: Alarms
    criteria: [CC7.2]
    check: cloudwatch.security_alarms
    params:
      required: [root_account_use, console_signin_without_mfa]
"""


def test_issue_example_chain_must_start_at_a_qualifying_trail(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    trail(aws, "dev", multi_region=False, logging=False, log_group="trail-logs")
    alarm_chain(aws, "RootUse", ROOT_USE)
    item = next(
        i
        for i in collect(controls=write_controls(tmp_path / "c.yaml", ROOT_ONLY)).control("MON")[
            "items"
        ]
        if i["resource"] == "root_account_use"
    )
    assert item["status"] == "fail"
    assert "dev: not multi-region, not logging" in item["detail"]


def test_issue_examples_alarms_judged_by_behaviour(aws: Aws, collect: Any, tmp_path: Path) -> None:
    trail(aws, log_group="trail-logs")
    alarm_chain(aws, "RootUse", ROOT_USE)  # unquoted values: valid, and correct
    alarm_chain(
        aws,
        "SigninWithMfa",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed = "Yes") }',
    )
    control = collect(controls=write_controls(tmp_path / "c.yaml", ROOT_ONLY)).control("MON")
    items = {i["resource"]: i for i in control["items"]}
    assert items["root_account_use"]["status"] == "pass"
    mfa = items["console_signin_without_mfa"]
    assert mfa["status"] == "fail"
    assert "does not match a console sign-in with MFAUsed: No" in mfa["detail"]
    assert "also matches a console sign-in with MFAUsed: Yes" in mfa["detail"]


def test_an_unreadable_pattern_is_an_error_never_a_pass(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    trail(aws, log_group="trail-logs")
    alarm_chain(aws, "RootUse", "{ $.userIdentity.type = %Ro+t% }")
    control = collect(controls=write_controls(tmp_path / "c.yaml", ROOT_ONLY)).control("MON")
    item = next(i for i in control["items"] if i["resource"] == "root_account_use")
    assert item["status"] == "error"
    assert "%Ro+t%" in item["detail"]


def test_a_trail_failing_to_deliver_to_cloudwatch_logs_cannot_start_the_chain(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    trail(aws, log_group="trail-logs")
    alarm_chain(aws, "RootUse", ROOT_USE)
    delivery_error(aws, "org-trail", LatestCloudWatchLogsDeliveryError="AccessDeniedException")
    control = collect(controls=write_controls(tmp_path / "c.yaml", ROOT_ONLY)).control("MON")
    item = next(i for i in control["items"] if i["resource"] == "root_account_use")
    assert item["status"] == "fail"
    assert "delivery to CloudWatch Logs failing: AccessDeniedException" in item["detail"]


def test_an_alarm_that_needs_many_events_does_not_go_off(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    trail(aws, log_group="trail-logs")
    alarm_chain(aws, "RootUse", ROOT_USE)
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName="RootUse",
        MetricName="RootUse",
        Namespace="CIS",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[aws.client("sns").list_topics()["Topics"][0]["TopicArn"]],
    )
    control = collect(controls=write_controls(tmp_path / "c.yaml", ROOT_ONLY)).control("MON")
    item = next(i for i in control["items"] if i["resource"] == "root_account_use")
    assert (
        "no alarm goes off on a single event: RootUse (GreaterThanThreshold 10: one event makes"
        " Sum 1)" in item["detail"]
    )
