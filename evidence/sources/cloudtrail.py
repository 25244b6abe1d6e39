"""CloudTrail trails (with status and event selectors) and the CloudWatch alarm chain built on the
trails' log groups: metric filters -> alarms -> SNS subscriptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..pack.raw import RawSource, ResourceFailure
from .base import FetchContext, Scope, Source, register
from .cloudtrail_selectors import ManagementCoverage, management_coverage


@dataclass(frozen=True)
class Trail:
    arn: str
    name: str
    home_region: str
    multi_region: bool
    organization_trail: bool
    log_file_validation: bool
    s3_bucket: str | None
    kms_key_id: str | None
    log_group_arn: str | None
    is_logging: bool | None  # None: status not read
    management: ManagementCoverage
    latest_delivery_error: str | None = None  # S3 delivery (GetTrailStatus)
    latest_delivery_time: str | None = None
    cloudwatch_logs_delivery_error: str | None = None
    cloudwatch_logs_delivery_time: str | None = None
    failure: ResourceFailure | None = None  # its status or selectors could not be read
    s3_key_prefix: str | None = None
    # GetTrailStatus: when logging last started and stopped (UTC ISO 8601), where AWS says.
    started_logging: str | None = None
    stopped_logging: str | None = None

    @property
    def management_read(self) -> bool:
        return self.management.read

    @property
    def management_write(self) -> bool:
        return self.management.write

    @property
    def log_group(self) -> tuple[str, str] | None:
        """(region, name) of the trail's CloudWatch Logs group."""
        if not self.log_group_arn:
            return None
        parts = self.log_group_arn.split(":")
        # arn:aws:logs:<region>:<account>:log-group:<name>:*
        return (parts[3], parts[6]) if len(parts) > 6 else None


def _fetch_trails(ctx: FetchContext) -> None:
    listing = ctx.client("cloudtrail").describe_trails(includeShadowTrails=True)

    def read(trail: Mapping[str, Any]) -> None:
        # Status and selectors are asked of the trail's home region, by ARN.
        home = ctx.client("cloudtrail", trail.get("HomeRegion"))
        home.get_trail_status(Name=trail["TrailARN"])
        home.get_event_selectors(TrailName=trail["TrailARN"])

    ctx.each_resource("trail", {t["TrailARN"]: t for t in listing["trailList"]}, read)


def _status_time(state: Mapping[str, Any] | None, *fields: str) -> str | None:
    """The first of GetTrailStatus's time fields that is set (the API gives each twice)."""
    for name in fields:
        if state and state.get(name):
            return str(state[name])
    return None


def _parse_trails(raw: RawSource) -> tuple[Trail, ...]:
    status = {str(c.parameters["Name"]): c.response for c in raw.successful("GetTrailStatus")}
    selectors = {
        str(c.parameters["TrailName"]): c.response for c in raw.successful("GetEventSelectors")
    }
    failed = raw.failed_resources("trail")
    trails = []
    for call in raw.successful("DescribeTrails"):
        for t in (call.response or {}).get("trailList", []):
            arn = str(t["TrailARN"])
            state = status.get(arn) or {}
            trails.append(
                Trail(
                    arn=arn,
                    name=str(t.get("Name", arn)),
                    home_region=str(t.get("HomeRegion", "")),
                    multi_region=bool(t.get("IsMultiRegionTrail")),
                    organization_trail=bool(t.get("IsOrganizationTrail")),
                    log_file_validation=bool(t.get("LogFileValidationEnabled")),
                    s3_bucket=t.get("S3BucketName"),
                    kms_key_id=t.get("KmsKeyId"),
                    log_group_arn=t.get("CloudWatchLogsLogGroupArn"),
                    is_logging=None if arn not in status else bool(state.get("IsLogging")),
                    management=management_coverage(selectors.get(arn)),
                    latest_delivery_error=state.get("LatestDeliveryError") or None,
                    latest_delivery_time=_text(state.get("LatestDeliveryTime")),
                    cloudwatch_logs_delivery_error=(
                        state.get("LatestCloudWatchLogsDeliveryError") or None
                    ),
                    cloudwatch_logs_delivery_time=_text(
                        state.get("LatestCloudWatchLogsDeliveryTime")
                    ),
                    failure=failed.get(arn),
                    s3_key_prefix=t.get("S3KeyPrefix"),
                    started_logging=_status_time(state, "StartLoggingTime", "TimeLoggingStarted"),
                    stopped_logging=_status_time(state, "StopLoggingTime", "TimeLoggingStopped"),
                )
            )
    return tuple(trails)


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


TRAILS = register(
    Source(
        name="cloudtrail.trails",
        scope=Scope.GLOBAL,
        actions=(
            "cloudtrail:DescribeTrails",
            "cloudtrail:GetTrailStatus",
            "cloudtrail:GetEventSelectors",
        ),
        fetch=_fetch_trails,
        parse=_parse_trails,
    )
)


@dataclass(frozen=True)
class MetricTransformation:
    """What a metric filter publishes per matching event (CloudWatch Logs API Reference,
    MetricTransformation): `value` is a number or `$.field`; `default_value` is published
    for each non-matching event (None: nothing is); `dimensions` name -> `$.field`."""

    namespace: str
    name: str
    value: str
    default_value: float | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    unit: str = ""


@dataclass(frozen=True)
class MetricFilter:
    log_group: str
    region: str
    name: str
    pattern: str
    metrics: tuple[MetricTransformation, ...]


@dataclass(frozen=True)
class Alarm:
    """A metric alarm as DescribeAlarms returns it (CloudWatch API Reference, MetricAlarm)."""

    name: str
    arn: str
    region: str
    namespace: str
    metric: str
    actions: tuple[str, ...]
    enabled: bool
    comparison: str = "GreaterThanOrEqualToThreshold"
    threshold: float = 1.0
    statistic: str = "Sum"
    extended_statistic: str = ""
    period: int = 300
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None  # absent: equal to evaluation_periods
    treat_missing_data: str = "missing"
    dimensions: tuple[tuple[str, str], ...] = ()
    unit: str = ""


@dataclass(frozen=True)
class AlarmChain:
    filters: tuple[MetricFilter, ...]
    alarms: tuple[Alarm, ...]
    confirmed_subscriptions: Mapping[str, tuple[str, ...]]  # topic ARN -> "protocol:endpoint"
    # What could not be read: log groups ("<region>:<name>"), a region's alarm listing
    # ("<region>"), SNS topics (ARN).
    failures: tuple[ResourceFailure, ...] = ()

    def failure(self, kind: str, resource: str) -> ResourceFailure | None:
        return next((f for f in self.failures if f.kind == kind and f.resource == resource), None)


def log_group_key(region: str, group: str) -> str:
    return f"{region}:{group}"


def _fetch_alarm_chain(ctx: FetchContext) -> None:
    groups = {t.log_group for t in ctx.read(TRAILS) if t.log_group}

    # Each per-resource call returns what it found: they may run at the same time.
    def filters_of(group: tuple[str, str]) -> set[tuple[str, str, str]]:
        region, name = group
        pages = ctx.client("logs", region).get_paginator("describe_metric_filters")
        return {
            (region, t["metricNamespace"], t["metricName"])
            for page in pages.paginate(logGroupName=name)
            for found in page.get("metricFilters", [])
            for t in found.get("metricTransformations", [])
        }

    found = ctx.each_resource(
        "log_group", {log_group_key(*g): g for g in sorted(g for g in groups if g)}, filters_of
    )
    metrics = set().union(*found.values())

    def alarms_in(region: str) -> set[str]:
        # One listing of the region's alarms rather than a call per metric.
        pages = ctx.client("cloudwatch", region).get_paginator("describe_alarms")
        return {
            action
            for page in pages.paginate(AlarmTypes=["MetricAlarm"])
            for alarm in page.get("MetricAlarms", [])
            if (region, alarm.get("Namespace"), alarm.get("MetricName")) in metrics
            for action in alarm.get("AlarmActions", [])
            if ":sns:" in action
        }

    regions = sorted({region for region, _, _ in metrics})
    topics: set[str] = set().union(
        *ctx.each_resource("alarm_region", {r: r for r in regions}, alarms_in).values()
    )

    def subscriptions(topic: str) -> None:
        pages = ctx.client("sns", topic.split(":")[3]).get_paginator("list_subscriptions_by_topic")
        for _ in pages.paginate(TopicArn=topic):
            pass

    ctx.each_resource("sns_topic", {t: t for t in sorted(topics)}, subscriptions)


def _transformation(t: Mapping[str, Any]) -> MetricTransformation:
    default = t.get("defaultValue")
    return MetricTransformation(
        namespace=str(t["metricNamespace"]),
        name=str(t["metricName"]),
        value=str(t.get("metricValue", "")),
        default_value=float(default) if default is not None else None,
        dimensions=tuple(sorted((str(k), str(v)) for k, v in (t.get("dimensions") or {}).items())),
        unit=str(t.get("unit") or ""),
    )


def _parse_alarm_chain(raw: RawSource) -> AlarmChain:
    filters = tuple(
        MetricFilter(
            log_group=str(c.parameters["logGroupName"]),
            region=c.endpoint_region,
            name=str(f.get("filterName", "")),
            pattern=str(f.get("filterPattern", "")),
            metrics=tuple(_transformation(t) for t in f.get("metricTransformations", [])),
        )
        for c in raw.successful("DescribeMetricFilters")
        for f in (c.response or {}).get("metricFilters", [])
    )
    alarms = tuple(
        Alarm(
            name=str(a["AlarmName"]),
            arn=str(a.get("AlarmArn", "")),
            region=c.endpoint_region,
            namespace=str(a.get("Namespace", "")),
            metric=str(a.get("MetricName", "")),
            actions=tuple(a.get("AlarmActions", [])),
            enabled=bool(a.get("ActionsEnabled", True)),
            comparison=str(a.get("ComparisonOperator", "")),
            threshold=float(a.get("Threshold", 0.0)),
            statistic=str(a.get("Statistic", "")),
            extended_statistic=str(a.get("ExtendedStatistic", "")),
            period=int(a.get("Period", 0)),
            evaluation_periods=int(a.get("EvaluationPeriods", 1)),
            datapoints_to_alarm=(
                int(a["DatapointsToAlarm"]) if a.get("DatapointsToAlarm") is not None else None
            ),
            treat_missing_data=str(a.get("TreatMissingData") or "missing"),
            dimensions=tuple(
                sorted((str(d.get("Name")), str(d.get("Value"))) for d in a.get("Dimensions", []))
            ),
            unit=str(a.get("Unit") or ""),
        )
        for c in raw.successful("DescribeAlarms")
        for a in (c.response or {}).get("MetricAlarms", [])
    )
    confirmed: dict[str, list[str]] = {}
    for c in raw.successful("ListSubscriptionsByTopic"):
        topic = str(c.parameters["TopicArn"])
        for sub in (c.response or {}).get("Subscriptions", []):
            if sub.get("SubscriptionArn", "PendingConfirmation") != "PendingConfirmation":
                confirmed.setdefault(topic, []).append(f"{sub['Protocol']}:{sub['Endpoint']}")
    return AlarmChain(
        filters, alarms, {k: tuple(v) for k, v in confirmed.items()}, raw.resource_failures
    )


ALARM_CHAIN = register(
    Source(
        name="cloudwatch.alarm_chain",
        scope=Scope.GLOBAL,
        actions=(
            "logs:DescribeMetricFilters",
            "cloudwatch:DescribeAlarms",
            "sns:ListSubscriptionsByTopic",
        ),
        fetch=_fetch_alarm_chain,
        parse=_parse_alarm_chain,
        after=(TRAILS,),
    )
)
