"""Smaller regional and account sources: load balancer listeners (ELBv2 and classic), AWS Config,
GuardDuty, and Trusted Advisor's service-limit checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..pack.raw import RawSource, ResourceFailure
from .base import FetchContext, Scope, Source, register


def _entries(raw: RawSource, operation: str, key: str) -> list[Mapping[str, Any]]:
    return [e for c in raw.successful(operation) for e in (c.response or {}).get(key, [])]


# ---------------------------------------------------------------- ELBv2 listeners


@dataclass(frozen=True)
class LoadBalancers:
    balancers: tuple[Mapping[str, Any], ...]
    listeners: Mapping[str, tuple[Mapping[str, Any], ...]]  # load balancer ARN -> listeners
    rules: Mapping[str, tuple[Mapping[str, Any], ...]]  # listener ARN -> rules (HTTP only)
    failures: Mapping[str, ResourceFailure]  # load balancer or listener ARN -> why not read


def _fetch_listeners(ctx: FetchContext) -> None:
    elb = ctx.client("elbv2")
    arns = [
        lb["LoadBalancerArn"]
        for page in elb.get_paginator("describe_load_balancers").paginate()
        for lb in page["LoadBalancers"]
    ]

    def listeners_of(arn: str) -> list[Mapping[str, Any]]:  # the API lists per load balancer
        pages = elb.get_paginator("describe_listeners").paginate(LoadBalancerArn=arn)
        return [listener for page in pages for listener in page["Listeners"]]

    found = ctx.each_resource("load_balancer", {arn: arn for arn in arns}, listeners_of)
    # Rules matter where traffic is plain HTTP: a rule may forward what the default redirects.
    plain = {
        listener["ListenerArn"]: listener["ListenerArn"]
        for listeners in found.values()
        for listener in listeners
        if listener.get("Protocol") == "HTTP"
    }

    def rules_of(arn: str) -> None:
        for _ in elb.get_paginator("describe_rules").paginate(ListenerArn=arn):
            pass

    ctx.each_resource("listener", plain, rules_of)


def _parse_listeners(raw: RawSource) -> LoadBalancers:
    listeners: dict[str, list[Mapping[str, Any]]] = {}
    for call in raw.successful("DescribeListeners"):
        arn = str(call.parameters["LoadBalancerArn"])
        listeners.setdefault(arn, []).extend((call.response or {}).get("Listeners", []))
    rules: dict[str, list[Mapping[str, Any]]] = {}
    for call in raw.successful("DescribeRules"):
        arn = str(call.parameters["ListenerArn"])
        rules.setdefault(arn, []).extend((call.response or {}).get("Rules", []))
    return LoadBalancers(
        tuple(_entries(raw, "DescribeLoadBalancers", "LoadBalancers")),
        {k: tuple(v) for k, v in listeners.items()},
        {k: tuple(v) for k, v in rules.items()},
        {**raw.failed_resources("load_balancer"), **raw.failed_resources("listener")},
    )


LISTENERS = register(
    Source(
        name="elbv2.listeners",
        scope=Scope.REGIONAL,
        actions=(
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeRules",
        ),
        fetch=_fetch_listeners,
        parse=_parse_listeners,
    )
)


def _fetch_classic(ctx: FetchContext) -> None:
    for _ in ctx.client("elb").get_paginator("describe_load_balancers").paginate():
        pass


def _parse_classic(raw: RawSource) -> tuple[Mapping[str, Any], ...]:
    """Classic Load Balancers, each with its ListenerDescriptions."""
    return tuple(_entries(raw, "DescribeLoadBalancers", "LoadBalancerDescriptions"))


CLASSIC_LOAD_BALANCERS = register(
    Source(
        name="elb.classic_load_balancers",
        scope=Scope.REGIONAL,
        # The classic API's DescribeLoadBalancers is the same IAM action as ELBv2's.
        actions=("elasticloadbalancing:DescribeLoadBalancers",),
        fetch=_fetch_classic,
        parse=_parse_classic,
    )
)

# ---------------------------------------------------------------- AWS Config


@dataclass(frozen=True)
class ConfigRecorders:
    recorders: tuple[Mapping[str, Any], ...]
    status: Mapping[str, Mapping[str, Any]]  # by recorder name
    delivery_channels: tuple[Mapping[str, Any], ...] = ()


def _fetch_config(ctx: FetchContext) -> None:
    config = ctx.client("config")
    config.describe_configuration_recorders()
    config.describe_configuration_recorder_status()
    config.describe_delivery_channels()


def _parse_config(raw: RawSource) -> ConfigRecorders:
    status = _entries(raw, "DescribeConfigurationRecorderStatus", "ConfigurationRecordersStatus")
    return ConfigRecorders(
        tuple(_entries(raw, "DescribeConfigurationRecorders", "ConfigurationRecorders")),
        {str(s["name"]): s for s in status},
        tuple(_entries(raw, "DescribeDeliveryChannels", "DeliveryChannels")),
    )


CONFIG_RECORDERS = register(
    Source(
        name="config.recorders",
        scope=Scope.REGIONAL,
        actions=(
            "config:DescribeConfigurationRecorders",
            "config:DescribeConfigurationRecorderStatus",
            "config:DescribeDeliveryChannels",
        ),
        fetch=_fetch_config,
        parse=_parse_config,
    )
)

# ---------------------------------------------------------------- GuardDuty


def _fetch_guardduty(ctx: FetchContext) -> None:
    guardduty = ctx.client("guardduty")
    ids = [
        i
        for page in guardduty.get_paginator("list_detectors").paginate()
        for i in page["DetectorIds"]
    ]
    ctx.each_resource(
        "detector",
        {i: i for i in ids},
        lambda detector_id: guardduty.get_detector(DetectorId=detector_id),
    )


def _parse_guardduty(raw: RawSource) -> Mapping[str, Mapping[str, Any] | ResourceFailure]:
    """Detector id -> GetDetector answer, or why it could not be read."""
    found: dict[str, Mapping[str, Any] | ResourceFailure] = dict(raw.failed_resources("detector"))
    for c in raw.successful("GetDetector"):
        found[str(c.parameters["DetectorId"])] = c.response or {}
    return found


GUARDDUTY_DETECTORS = register(
    Source(
        name="guardduty.detectors",
        scope=Scope.REGIONAL,
        actions=("guardduty:ListDetectors", "guardduty:GetDetector"),
        fetch=_fetch_guardduty,
        parse=_parse_guardduty,
    )
)

# ---------------------------------------------------------------- Trusted Advisor

SUPPORT_REGION = "us-east-1"  # the AWS Support API has one endpoint


@dataclass(frozen=True)
class ServiceLimitCheck:
    check_id: str
    name: str
    status: str
    flagged: tuple[Mapping[str, Any], ...]  # flaggedResources with their metadata columns
    columns: tuple[str, ...]
    failure: ResourceFailure | None = None  # its result could not be read


def _fetch_trusted_advisor(ctx: FetchContext) -> None:
    support = ctx.client("support", SUPPORT_REGION)
    checks = support.describe_trusted_advisor_checks(language="en")["checks"]
    ctx.each_resource(
        "trusted_advisor_check",
        {c["id"]: c["id"] for c in checks if c.get("category") == "service_limits"},
        lambda check_id: support.describe_trusted_advisor_check_result(
            checkId=check_id, language="en"
        ),
    )


def _parse_trusted_advisor(raw: RawSource) -> tuple[ServiceLimitCheck, ...]:
    described = {str(c["id"]): c for c in _entries(raw, "DescribeTrustedAdvisorChecks", "checks")}
    found = []
    for call in raw.successful("DescribeTrustedAdvisorCheckResult"):
        result = (call.response or {}).get("result", {})
        check_id = str(call.parameters["checkId"])
        meta = described.get(check_id, {})
        found.append(
            ServiceLimitCheck(
                check_id=check_id,
                name=str(meta.get("name", check_id)),
                status=str(result.get("status", "")),
                flagged=tuple(result.get("flaggedResources", [])),
                columns=tuple(meta.get("metadata", [])),
            )
        )
    for check_id, failure in raw.failed_resources("trusted_advisor_check").items():
        meta = described.get(check_id, {})
        name = str(meta.get("name", check_id))
        found.append(ServiceLimitCheck(check_id, name, "", (), (), failure))
    return tuple(found)


TRUSTED_ADVISOR_LIMITS = register(
    Source(
        name="support.service_limits",
        scope=Scope.GLOBAL,
        actions=(
            "support:DescribeTrustedAdvisorChecks",
            "support:DescribeTrustedAdvisorCheckResult",
        ),
        fetch=_fetch_trusted_advisor,
        parse=_parse_trusted_advisor,
    )
)
