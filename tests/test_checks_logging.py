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
        "no metric filter on the log group of a qualifying trail (trail-logs)"
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
