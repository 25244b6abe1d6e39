"""Smaller regional and account sources: load balancer listeners, AWS Config, GuardDuty, and
Trusted Advisor's service-limit checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..pack.raw import RawSource
from .base import FetchContext, Scope, Source, register


def _entries(raw: RawSource, operation: str, key: str) -> list[Mapping[str, Any]]:
    return [e for c in raw.successful(operation) for e in (c.response or {}).get(key, [])]


# ---------------------------------------------------------------- ELBv2 listeners


@dataclass(frozen=True)
class LoadBalancers:
    balancers: tuple[Mapping[str, Any], ...]
    listeners: Mapping[str, tuple[Mapping[str, Any], ...]]  # load balancer ARN -> listeners


def _fetch_listeners(ctx: FetchContext) -> None:
    elb = ctx.client("elbv2")
    arns = [
        lb["LoadBalancerArn"]
        for page in elb.get_paginator("describe_load_balancers").paginate()
        for lb in page["LoadBalancers"]
    ]
    for arn in arns:  # the API lists listeners per load balancer only
        for _ in elb.get_paginator("describe_listeners").paginate(LoadBalancerArn=arn):
            pass


def _parse_listeners(raw: RawSource) -> LoadBalancers:
    listeners: dict[str, list[Mapping[str, Any]]] = {}
    for call in raw.successful("DescribeListeners"):
        arn = str(call.parameters["LoadBalancerArn"])
        listeners.setdefault(arn, []).extend((call.response or {}).get("Listeners", []))
    return LoadBalancers(
        tuple(_entries(raw, "DescribeLoadBalancers", "LoadBalancers")),
        {k: tuple(v) for k, v in listeners.items()},
    )


LISTENERS = register(
    Source(
        name="elbv2.listeners",
        scope=Scope.REGIONAL,
        actions=(
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeListeners",
        ),
        fetch=_fetch_listeners,
        parse=_parse_listeners,
    )
)

# ---------------------------------------------------------------- AWS Config


@dataclass(frozen=True)
class ConfigRecorders:
    recorders: tuple[Mapping[str, Any], ...]
    status: Mapping[str, Mapping[str, Any]]  # by recorder name


def _fetch_config(ctx: FetchContext) -> None:
    config = ctx.client("config")
    config.describe_configuration_recorders()
    config.describe_configuration_recorder_status()


def _parse_config(raw: RawSource) -> ConfigRecorders:
    status = _entries(raw, "DescribeConfigurationRecorderStatus", "ConfigurationRecordersStatus")
    return ConfigRecorders(
        tuple(_entries(raw, "DescribeConfigurationRecorders", "ConfigurationRecorders")),
        {str(s["name"]): s for s in status},
    )


CONFIG_RECORDERS = register(
    Source(
        name="config.recorders",
        scope=Scope.REGIONAL,
        actions=(
            "config:DescribeConfigurationRecorders",
            "config:DescribeConfigurationRecorderStatus",
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
    for detector_id in ids:
        guardduty.get_detector(DetectorId=detector_id)


def _parse_guardduty(raw: RawSource) -> Mapping[str, Mapping[str, Any]]:
    """Detector id -> GetDetector answer."""
    return {
        str(c.parameters["DetectorId"]): c.response or {} for c in raw.successful("GetDetector")
    }


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


def _fetch_trusted_advisor(ctx: FetchContext) -> None:
    support = ctx.client("support", SUPPORT_REGION)
    checks = support.describe_trusted_advisor_checks(language="en")["checks"]
    for check in checks:
        if check.get("category") == "service_limits":
            support.describe_trusted_advisor_check_result(checkId=check["id"], language="en")


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
