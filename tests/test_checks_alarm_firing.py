"""MON-01 (cloudwatch.security_alarms): an alarm counts only if one event takes it to ALARM, as
CloudWatch evaluates it (checks/alarm_evaluation.py): dimensions, unit, statistic, threshold,
DatapointsToAlarm of EvaluationPeriods, TreatMissingData, and the filter's metric value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evidence.checks.alarm_evaluation import one_event
from evidence.sources.cloudtrail import Alarm, MetricTransformation
from tests.conftest import Aws, write_controls
from tests.test_checks_logging import ROOT_USE, trail

ROOT = """\
  - id: MON
    title: Alarms
    criteria: [CC7.2]
    check: cloudwatch.security_alarms
    params:
      required: [root_account_use]
"""


def root_filter(aws: Aws, metric: str, **transformation: Any) -> None:
    aws.client("logs").put_metric_filter(
        logGroupName="trail-logs",
        filterName=metric,
        filterPattern=ROOT_USE,
        metricTransformations=[
            {"metricName": metric, "metricNamespace": "CIS", "metricValue": "1", **transformation}
        ],
    )


def alarm(aws: Aws, name: str, metric: str, **settings: Any) -> None:
    sns = aws.client("sns")
    topic = sns.create_topic(Name="security")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="cto@example.com")
    aws.client("cloudwatch").put_metric_alarm(
        **{
            "AlarmName": name,
            "MetricName": metric,
            "Namespace": "CIS",
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "AlarmActions": [topic],
            **settings,
        }
    )


def root_item(collect: Any, tmp_path: Path) -> dict[str, Any]:
    control = collect(controls=write_controls(tmp_path / "c.yaml", ROOT)).control("MON")
    return dict(next(i for i in control["items"] if i["resource"] == "root_account_use"))


def test_issue_examples_alarms_that_never_go_off_fail(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    trail(aws, log_group="trail-logs")
    root_filter(aws, "RootUse")
    alarm(aws, "dims", "RootUse", Dimensions=[{"Name": "Account", "Value": "prod"}])
    alarm(aws, "three-of-three", "RootUse", EvaluationPeriods=3, DatapointsToAlarm=3)
    alarm(aws, "three-periods", "RootUse", EvaluationPeriods=3)  # M defaults to N
    alarm(aws, "missing-breaches", "RootUse", TreatMissingData="breaching")
    alarm(aws, "missing-ignored", "RootUse", TreatMissingData="ignore")
    alarm(aws, "average-of-two", "RootUse", Statistic="Average", Threshold=2)
    alarm(aws, "less-than", "RootUse", ComparisonOperator="LessThanThreshold")
    alarm(aws, "in-seconds", "RootUse", Unit="Seconds")
    alarm(aws, "two-samples", "RootUse", Statistic="SampleCount", Threshold=2)
    item = root_item(collect, tmp_path)
    assert item["status"] == "fail"
    detail = item["detail"]
    assert "no alarm goes off on a single event" in detail
    for expected in (
        "dims (watches dimensions Account=prod; the metric filter publishes without dimensions",
        "three-of-three (3 of 3 datapoints must breach (DatapointsToAlarm/EvaluationPeriods);"
        " one event makes one datapoint)",
        "three-periods (3 of 3 datapoints must breach",
        "missing-breaches (TreatMissingData breaching: without events the metric has no data",
        "missing-ignored (TreatMissingData ignore",
        "average-of-two (GreaterThanOrEqualToThreshold 2: one event makes Average 1)",
        "less-than (LessThanThreshold 1: one event makes Sum 1)",
        "in-seconds (watches Unit Seconds; the metric filter publishes None)",
        "two-samples (GreaterThanOrEqualToThreshold 2: one event makes SampleCount 1)",
    ):
        assert expected in detail, expected


def test_default_values_and_dimensions_of_the_filter(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    trail(aws, log_group="trail-logs")
    root_filter(aws, "RootDefault", defaultValue=0)
    root_filter(aws, "RootByUser", dimensions={"User": "$.userIdentity.userName"})
    alarm(aws, "diluted", "RootDefault", Statistic="Average")
    alarm(aws, "counts-everything", "RootDefault", Statistic="SampleCount")
    alarm(aws, "by-user", "RootByUser")
    detail = root_item(collect, tmp_path)["detail"]
    assert (
        "diluted (GreaterThanOrEqualToThreshold 1: one event with 1 other event(s) in the period"
        " makes Average 0.5)" in detail
    )
    assert (
        "counts-everything (GreaterThanOrEqualToThreshold 1: a period without the event already"
        " makes SampleCount 1 (defaultValue 0)" in detail
    )
    assert (
        "by-user (the metric filter publishes one metric per value of User: the alarm watches"
        " the metric without dimensions, which receives no data)" in detail
    )


def test_a_metric_value_taken_from_the_event_is_an_error_never_a_pass(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    trail(aws, log_group="trail-logs")
    aws.client("logs").put_metric_filter(
        logGroupName="trail-logs",
        filterName="RootCount",
        filterPattern=ROOT_USE,
        metricTransformations=[
            {"metricName": "RootCount", "metricNamespace": "CIS", "metricValue": "$.count"}
        ],
    )
    alarm(aws, "from-event", "RootCount")
    item = root_item(collect, tmp_path)
    assert item["status"] == "error"
    assert (
        "whether from-event goes off (metric value '$.count' is taken from the event"
        in (item["detail"])
    )


def test_alarms_that_do_go_off_on_one_event_pass(aws: Aws, collect: Any, tmp_path: Path) -> None:
    trail(aws, log_group="trail-logs")
    root_filter(aws, "RootDefault", defaultValue=0)
    alarm(
        aws,
        "one-of-five",
        "RootDefault",
        Statistic="Maximum",
        EvaluationPeriods=5,
        DatapointsToAlarm=1,
        ComparisonOperator="GreaterThanThreshold",
        Threshold=0,
        TreatMissingData="notBreaching",
    )
    item = root_item(collect, tmp_path)
    assert item["status"] == "pass"
    assert "alarm one-of-five notifies email:cto@example.com" in item["detail"]


def alarm_settings(**settings: Any) -> Alarm:
    return Alarm("a", "", "us-east-1", "CIS", "M", (), True, **settings)


@pytest.mark.parametrize(
    ("settings", "metric", "fires"),
    [
        ({}, {}, True),
        ({"extended_statistic": "p99"}, {}, True),  # a percentile of one datapoint is itself
        ({"extended_statistic": "p99"}, {"default_value": 0.0}, None),
        ({"statistic": "Average", "threshold": 0.5}, {"default_value": 0.0}, False),
        ({"statistic": "Sum"}, {"default_value": 0.0}, True),
        ({"statistic": "Sum"}, {"default_value": 1.0}, False),  # unrelated traffic breaches
        ({"statistic": "Minimum"}, {"default_value": 0.0}, False),
        ({"comparison": "GreaterThanUpperThreshold"}, {}, None),
        ({"statistic": ""}, {}, None),
        ({"evaluation_periods": 3, "datapoints_to_alarm": 1}, {}, True),
        ({"treat_missing_data": "breaching"}, {"default_value": 0.0}, True),
        ({"threshold": 5.0}, {"value": "5"}, True),
        ({"unit": "Count"}, {"unit": "Count"}, True),
        ({"dimensions": (("A", "b"),)}, {"dimensions": (("A", "$.b"),)}, False),
    ],
)
def test_one_event(settings: dict[str, Any], metric: dict[str, Any], fires: bool | None) -> None:
    published = MetricTransformation("CIS", "M", **{"value": "1", **metric})
    assert one_event(alarm_settings(**settings), published).fires is fires
