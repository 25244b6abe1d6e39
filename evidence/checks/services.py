"""Load balancer TLS, AWS Config, GuardDuty and Trusted Advisor service limits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..model import Item, Status
from ..sources.services import (
    CONFIG_RECORDERS,
    GUARDDUTY_DETECTORS,
    LISTENERS,
    TRUSTED_ADVISOR_LIMITS,
)
from .base import NoParams, ScopeContext, check, events
from .bounds import Percent, Port

# ---------------------------------------------------------------- load balancer listeners


@dataclass(frozen=True)
class ListenerParams:
    allowed_plain_ports: tuple[Port, ...] = ()  # accepted exceptions, e.g. a health-check port


def _redirects_to_https(listener: Mapping[str, Any]) -> bool:
    actions = listener.get("DefaultActions", [])
    return bool(actions) and all(
        a.get("Type") == "redirect" and (a.get("RedirectConfig") or {}).get("Protocol") == "HTTPS"
        for a in actions
    )


@check(
    "elb.tls_listeners",
    summary="Load balancer listeners use HTTPS or TLS; plain HTTP only redirects to HTTPS.",
    procedure=(
        "In each region, list the application and network load balancers"
        " (elasticloadbalancing:DescribeLoadBalancers) and each one's listeners"
        " (elasticloadbalancing:DescribeListeners). An HTTPS or TLS listener passes; an HTTP"
        " listener passes only if every default action redirects to HTTPS; any other listener"
        " fails unless its port is in `allowed_plain_ports`. Gateway load balancers carry no"
        " application traffic of their own and are not in the population."
    ),
    params=ListenerParams,
    sources=(LISTENERS,),
    change_events=events(
        "elasticloadbalancing",
        "CreateListener",
        "ModifyListener",
        "DeleteListener",
        "CreateRule",
        "ModifyRule",
        "DeleteRule",
    ),
)
def tls_listeners(ctx: ScopeContext[ListenerParams]) -> Iterator[Item]:
    data = ctx.get(LISTENERS)
    for balancer in data.balancers:
        if balancer.get("Type") == "gateway":
            continue
        for listener in data.listeners.get(balancer["LoadBalancerArn"], ()):
            protocol, port = listener.get("Protocol"), listener.get("Port")
            if protocol in ("HTTPS", "TLS"):
                status, detail = Status.PASS, f"{protocol} with policy {listener.get('SslPolicy')}"
            elif protocol == "HTTP" and _redirects_to_https(listener):
                status, detail = Status.PASS, "HTTP that only redirects to HTTPS"
            elif port in ctx.params.allowed_plain_ports:
                status, detail = Status.PASS, f"{protocol} on allowed port {port}"
            else:
                status, detail = Status.FAIL, f"{protocol} on port {port} without TLS"
            yield ctx.item(
                f"{balancer['LoadBalancerName']}:{port}",
                status,
                detail,
                str(listener.get("ListenerArn", "")),
                load_balancer=balancer["LoadBalancerName"],
                scheme=balancer.get("Scheme"),
                protocol=protocol,
                port=port,
                ssl_policy=listener.get("SslPolicy"),
            )


# ---------------------------------------------------------------- AWS Config


@dataclass(frozen=True)
class RecorderParams:
    require_all_resource_types: bool = True


@check(
    "config.recorder",
    summary="AWS Config records every resource type in each region collected.",
    procedure=(
        "In each region, read the configuration recorders (config:DescribeConfigurationRecorders)"
        " and their status (config:DescribeConfigurationRecorderStatus). A region passes when a"
        " recorder is recording and (by default) records all supported resource types."
    ),
    params=RecorderParams,
    sources=(CONFIG_RECORDERS,),
    change_events=events(
        "config",
        "PutConfigurationRecorder",
        "StartConfigurationRecorder",
        "StopConfigurationRecorder",
        "DeleteConfigurationRecorder",
    ),
)
def config_recorder(ctx: ScopeContext[RecorderParams]) -> Iterator[Item]:
    data = ctx.get(CONFIG_RECORDERS)
    if not data.recorders:
        yield ctx.item(ctx.region, Status.FAIL, "no configuration recorder", "")
        return
    for recorder in data.recorders:
        name = str(recorder["name"])
        recording = bool(data.status.get(name, {}).get("recording"))
        all_types = bool((recorder.get("recordingGroup") or {}).get("allSupported"))
        problems = [] if recording else ["not recording"]
        if ctx.params.require_all_resource_types and not all_types:
            problems.append("does not record all resource types")
        yield ctx.item(
            name,
            Status.FAIL if problems else Status.PASS,
            "; ".join(problems) or "recording all resource types",
            "",
            recording=recording,
            all_supported=all_types,
            last_status=data.status.get(name, {}).get("lastStatus"),
        )


# ---------------------------------------------------------------- GuardDuty


@check(
    "guardduty.enabled",
    summary="A GuardDuty detector is enabled in each region collected.",
    procedure="In each region, list GuardDuty detectors (guardduty:ListDetectors) and read each"
    " one (guardduty:GetDetector); a region without an ENABLED detector fails.",
    params=NoParams,
    sources=(GUARDDUTY_DETECTORS,),
    change_events=events("guardduty", "CreateDetector", "UpdateDetector", "DeleteDetector"),
)
def guardduty_enabled(ctx: ScopeContext[NoParams]) -> Iterator[Item]:
    detectors = ctx.get(GUARDDUTY_DETECTORS)
    if not detectors:
        yield ctx.item(ctx.region, Status.FAIL, "no GuardDuty detector", "")
    for detector_id, detector in detectors.items():
        enabled = detector.get("Status") == "ENABLED"
        yield ctx.item(
            detector_id,
            Status.PASS if enabled else Status.FAIL,
            f"detector {str(detector.get('Status', 'unknown')).lower()}",
            ctx.arn("guardduty", f"detector/{detector_id}"),
            finding_publishing_frequency=detector.get("FindingPublishingFrequency"),
        )


# ---------------------------------------------------------------- Trusted Advisor


@dataclass(frozen=True)
class ServiceLimitParams:
    threshold_percent: Percent = 80


def _number(value: Any) -> float | None:
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None


@check(
    "support.service_limits",
    summary="No service is above the allowed share of its limit (Trusted Advisor).",
    procedure=(
        "List Trusted Advisor checks (support:DescribeTrustedAdvisorChecks) and read the result"
        " of each service-limit check (support:DescribeTrustedAdvisorCheckResult). Every flagged"
        " limit whose usage is above `threshold_percent` of the limit fails; a check with nothing"
        " flagged passes."
    ),
    params=ServiceLimitParams,
    sources=(TRUSTED_ADVISOR_LIMITS,),
    notes=(
        "The Trusted Advisor API needs a Business, Enterprise On-Ramp or Enterprise Support plan."
        " Without one AWS answers SubscriptionRequiredException and this control is an error"
        " (never a pass): watch service quotas another way and attach that evidence.",
    ),
    change_events=events("servicequotas", "RequestServiceQuotaIncrease"),
)
def service_limits(ctx: ScopeContext[ServiceLimitParams]) -> Iterator[Item]:
    threshold = ctx.params.threshold_percent
    for limit_check in ctx.get(TRUSTED_ADVISOR_LIMITS):
        columns = list(limit_check.columns)
        if not limit_check.flagged:
            yield ctx.item(
                limit_check.name,
                Status.PASS,
                "no limit flagged",
                "",
                check_id=limit_check.check_id,
                check_status=limit_check.status,
            )
            continue
        for flagged in limit_check.flagged:
            values = dict(zip(columns, flagged.get("metadata", []), strict=False))
            limit = _number(values.get("Limit Amount"))
            usage = _number(values.get("Current Usage"))
            percent = round(100 * usage / limit, 1) if limit and usage is not None else None
            over = percent is not None and percent > threshold
            region = values.get("Region") or "-"
            yield ctx.item(
                f"{values.get('Service', limit_check.name)}: {values.get('Limit Name', '?')}"
                f" ({region})",
                Status.FAIL if over else Status.PASS,
                f"usage {usage:g} of {limit:g} ({percent}%), threshold {threshold}%"
                if percent is not None
                else "usage not reported",
                "",
                check_id=limit_check.check_id,
                limit=limit,
                usage=usage,
                percent=percent,
            )
