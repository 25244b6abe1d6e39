"""Load balancer TLS, AWS Config, GuardDuty and Trusted Advisor service limits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..model import CollectionError, Item, Status
from ..pack.raw import ResourceFailure
from ..sources.services import (
    CLASSIC_LOAD_BALANCERS,
    CONFIG_RECORDERS,
    GUARDDUTY_DETECTORS,
    LISTENERS,
    TRUSTED_ADVISOR_LIMITS,
)
from .base import ScopeContext, check, events
from .bounds import Percent, Port

# ---------------------------------------------------------------- load balancer listeners


@dataclass(frozen=True)
class ListenerParams:
    allowed_plain_ports: tuple[Port, ...] = ()  # accepted exceptions, e.g. a health-check port


def redirects_to_https(actions: Sequence[Mapping[str, Any]]) -> bool:
    """Every action redirects to HTTPS (a redirect keeping `#{protocol}` stays plain HTTP)."""
    return bool(actions) and all(
        a.get("Type") == "redirect" and (a.get("RedirectConfig") or {}).get("Protocol") == "HTTPS"
        for a in actions
    )


def _conditions(rule: Mapping[str, Any]) -> str:
    words = []
    for condition in rule.get("Conditions", []):
        field = str(condition.get("Field", "?"))
        values = list(condition.get("Values") or [])
        for config in condition.values():
            if isinstance(config, Mapping) and "Values" in config:
                values.extend(config["Values"])
        words.append(f"{field} {', '.join(map(str, values))}".strip())
    return "; ".join(words) or "no condition"


def plain_http_rules(rules: Sequence[Mapping[str, Any]]) -> list[str]:
    """The non-default rules of an HTTP listener that serve traffic instead of redirecting it to
    HTTPS, each named by priority and conditions."""
    return [
        f"rule {rule.get('Priority')} ({_conditions(rule)}) does "
        + ", ".join(str(a.get("Type")) for a in rule.get("Actions", []))
        for rule in rules
        if not rule.get("IsDefault") and not redirects_to_https(rule.get("Actions", []))
    ]


def _elbv2_items(ctx: ScopeContext[ListenerParams]) -> Iterator[Item | CollectionError]:
    data = ctx.get(LISTENERS)
    for balancer in data.balancers:
        if balancer.get("Type") == "gateway":
            continue
        name, arn = str(balancer["LoadBalancerName"]), str(balancer["LoadBalancerArn"])
        if arn in data.failures:
            yield from ctx.unread(name, data.failures[arn], arn, load_balancer=name)
            continue
        for listener in data.listeners.get(arn, ()):
            protocol, port = listener.get("Protocol"), listener.get("Port")
            listener_arn = str(listener.get("ListenerArn", ""))
            resource = f"{name}:{port}"
            if listener_arn in data.failures:
                yield from ctx.unread(resource, data.failures[listener_arn], listener_arn)
                continue
            rules = plain_http_rules(data.rules.get(listener_arn, ()))
            if protocol in ("HTTPS", "TLS"):
                status, detail = Status.PASS, f"{protocol} with policy {listener.get('SslPolicy')}"
            elif port in ctx.params.allowed_plain_ports:
                status, detail = Status.PASS, f"{protocol} on allowed port {port}"
            elif protocol == "HTTP" and redirects_to_https(listener.get("DefaultActions", [])):
                status, detail = (
                    (Status.FAIL, "HTTP whose default redirects to HTTPS, but " + "; ".join(rules))
                    if rules
                    else (Status.PASS, "HTTP that only redirects to HTTPS (default and rules)")
                )
            else:
                status, detail = Status.FAIL, f"{protocol} on port {port} without TLS"
                if rules:
                    detail += "; " + "; ".join(rules)
            yield ctx.item(
                resource,
                status,
                detail,
                listener_arn,
                load_balancer=name,
                load_balancer_type=balancer.get("Type"),
                scheme=balancer.get("Scheme"),
                protocol=protocol,
                port=port,
                ssl_policy=listener.get("SslPolicy"),
                plain_http_rules=rules,
            )


def _classic_items(ctx: ScopeContext[ListenerParams]) -> Iterator[Item]:
    for balancer in ctx.get(CLASSIC_LOAD_BALANCERS):
        name = str(balancer["LoadBalancerName"])
        for description in balancer.get("ListenerDescriptions", []):
            listener = description.get("Listener", {})
            protocol, port = listener.get("Protocol"), listener.get("LoadBalancerPort")
            if str(protocol).upper() in ("HTTPS", "SSL"):
                status, detail = Status.PASS, f"{protocol} (classic load balancer)"
            elif port in ctx.params.allowed_plain_ports:
                status, detail = Status.PASS, f"{protocol} on allowed port {port}"
            else:
                status = Status.FAIL
                detail = f"{protocol} on port {port} without TLS (classic load balancer)"
            yield ctx.item(
                f"{name}:{port}",
                status,
                detail,
                ctx.arn("elasticloadbalancing", f"loadbalancer/{name}"),
                load_balancer=name,
                load_balancer_type="classic",
                scheme=balancer.get("Scheme"),
                protocol=protocol,
                port=port,
                instance_protocol=listener.get("InstanceProtocol"),
                ssl_certificate=listener.get("SSLCertificateId"),
            )


@check(
    "elb.tls_listeners",
    summary="Load balancer listeners use HTTPS or TLS; plain HTTP only redirects to HTTPS.",
    procedure=(
        "In each region, list the application and network load balancers"
        " (elasticloadbalancing:DescribeLoadBalancers), each one's listeners"
        " (elasticloadbalancing:DescribeListeners) and each HTTP listener's rules"
        " (elasticloadbalancing:DescribeRules), and the Classic Load Balancers with their"
        " listeners (elb DescribeLoadBalancers). An HTTPS, TLS or (classic) SSL listener passes;"
        " an HTTP listener passes only if its default action and every rule redirect to HTTPS"
        " (a rule that forwards over HTTP fails, named by priority and conditions); any other"
        " listener fails unless its port is in `allowed_plain_ports`. Gateway load balancers"
        " carry no application traffic of their own and are not in the population."
    ),
    params=ListenerParams,
    sources=(LISTENERS, CLASSIC_LOAD_BALANCERS),
    change_events=events(
        "elasticloadbalancing",
        "CreateListener",
        "ModifyListener",
        "DeleteListener",
        "CreateRule",
        "ModifyRule",
        "DeleteRule",
        # Classic Load Balancers (the same event source).
        "CreateLoadBalancerListeners",
        "DeleteLoadBalancerListeners",
    ),
)
def tls_listeners(ctx: ScopeContext[ListenerParams]) -> Iterator[Item | CollectionError]:
    yield from _elbv2_items(ctx)
    yield from _classic_items(ctx)


# ---------------------------------------------------------------- AWS Config


@dataclass(frozen=True)
class RecorderParams:
    require_all_resource_types: bool = True


def recorder_problems(status: Mapping[str, Any], channels: int, all_types: bool) -> list[str]:
    """Why a recorder does not record now: not recording, its last recording attempt failed
    (lastStatus Failure, with AWS's error code), no delivery channel to deliver to. AWS Config
    Developer Guide, "Managing the configuration recorder"; API DescribeConfigurationRecorder
    Status (lastStatus Pending | Success | Failure)."""
    problems = [] if status.get("recording") else ["not recording"]
    if str(status.get("lastStatus", "")).lower() == "failure":
        code = status.get("lastErrorCode") or "no error code"
        message = status.get("lastErrorMessage")
        problems.append(f"last recording failed: {code}" + (f" ({message})" if message else ""))
    if not channels:
        problems.append("no delivery channel")
    if not all_types:
        problems.append("does not record all resource types")
    return problems


@check(
    "config.recorder",
    summary="AWS Config records every resource type in each region collected, and delivers.",
    procedure=(
        "In each region, read the configuration recorders (config:DescribeConfigurationRecorders),"
        " their status (config:DescribeConfigurationRecorderStatus) and the delivery channels"
        " (config:DescribeDeliveryChannels). A recorder passes when it is recording, its last"
        " status is not Failure (the error code is named), a delivery channel exists, and (by"
        " default) it records all supported resource types. A region without a recorder fails."
    ),
    params=RecorderParams,
    sources=(CONFIG_RECORDERS,),
    change_events=events(
        "config",
        "PutConfigurationRecorder",
        "StartConfigurationRecorder",
        "StopConfigurationRecorder",
        "DeleteConfigurationRecorder",
        "PutDeliveryChannel",
        "DeleteDeliveryChannel",
    ),
)
def config_recorder(ctx: ScopeContext[RecorderParams]) -> Iterator[Item]:
    data = ctx.get(CONFIG_RECORDERS)
    if not data.recorders:
        yield ctx.item(ctx.region, Status.FAIL, "no configuration recorder", "")
        return
    for recorder in data.recorders:
        name = str(recorder["name"])
        status = data.status.get(name, {})
        all_types = bool((recorder.get("recordingGroup") or {}).get("allSupported"))
        problems = recorder_problems(
            status,
            len(data.delivery_channels),
            all_types or not ctx.params.require_all_resource_types,
        )
        yield ctx.item(
            name,
            Status.FAIL if problems else Status.PASS,
            "; ".join(problems) or "recording all resource types",
            "",
            recording=bool(status.get("recording")),
            all_supported=all_types,
            last_status=status.get("lastStatus"),
            last_error_code=status.get("lastErrorCode"),
            delivery_channels=[str(c.get("name")) for c in data.delivery_channels],
        )


# ---------------------------------------------------------------- GuardDuty

# The foundational data sources of every detector (GuardDuty User Guide, "Foundational data
# sources"); GetDetector names them in Features (and, older, DataSources).
FOUNDATIONAL = ("CLOUD_TRAIL", "DNS_LOGS", "FLOW_LOGS")
KNOWN_FEATURES = frozenset(
    {
        *FOUNDATIONAL,
        "S3_DATA_EVENTS",
        "EKS_AUDIT_LOGS",
        "EBS_MALWARE_PROTECTION",
        "RDS_LOGIN_EVENTS",
        "EKS_RUNTIME_MONITORING",
        "LAMBDA_NETWORK_LOGS",
        "RUNTIME_MONITORING",
        "AI_PROTECTION",
        "AI_ANALYST",
    }
)
# The older DataSources shape, for answers without Features.
_DATA_SOURCES = {
    "CLOUD_TRAIL": ("CloudTrail",),
    "DNS_LOGS": ("DNSLogs",),
    "FLOW_LOGS": ("FlowLogs",),
    "S3_DATA_EVENTS": ("S3Logs",),
    "EKS_AUDIT_LOGS": ("Kubernetes", "AuditLogs"),
}


@dataclass(frozen=True)
class GuardDutyParams:
    required_features: tuple[str, ...] = FOUNDATIONAL


def _validate_features(params: GuardDutyParams) -> str | None:
    unknown = [f for f in params.required_features if f not in KNOWN_FEATURES]
    if unknown:
        known = ", ".join(sorted(KNOWN_FEATURES))
        return f"unknown GuardDuty feature {', '.join(unknown)} (known: {known})"
    return None


def feature_status(detector: Mapping[str, Any], feature: str) -> str:
    """ENABLED / DISABLED as GetDetector reports the feature; "not reported" when it does not."""
    for entry in detector.get("Features") or []:
        if entry.get("Name") == feature:
            return str(entry.get("Status", "not reported"))
    node: Any = detector.get("DataSources") or {}
    for key in _DATA_SOURCES.get(feature, ("-",)):
        node = node.get(key, {}) if isinstance(node, Mapping) else {}
    return str(node.get("Status", "not reported")) if isinstance(node, Mapping) else "?"


@check(
    "guardduty.enabled",
    summary="A GuardDuty detector is enabled in each region collected, with its data sources.",
    procedure="In each region, list GuardDuty detectors (guardduty:ListDetectors) and read each"
    " one (guardduty:GetDetector). A detector passes when it is ENABLED and every feature in"
    " `required_features` (default the foundational CLOUD_TRAIL, DNS_LOGS, FLOW_LOGS) is"
    " ENABLED in its Features (or, in older answers, DataSources); a region without a detector"
    " fails.",
    params=GuardDutyParams,
    sources=(GUARDDUTY_DETECTORS,),
    validate=_validate_features,
    change_events=events("guardduty", "CreateDetector", "UpdateDetector", "DeleteDetector"),
)
def guardduty_enabled(ctx: ScopeContext[GuardDutyParams]) -> Iterator[Item | CollectionError]:
    detectors = ctx.get(GUARDDUTY_DETECTORS)
    if not detectors:
        yield ctx.item(ctx.region, Status.FAIL, "no GuardDuty detector", "")
    for detector_id, detector in detectors.items():
        arn = ctx.arn("guardduty", f"detector/{detector_id}")
        if isinstance(detector, ResourceFailure):
            yield from ctx.unread(detector_id, detector, arn)
            continue
        enabled = detector.get("Status") == "ENABLED"
        features = {f: feature_status(detector, f) for f in ctx.params.required_features}
        off = [f"{name} {state.lower()}" for name, state in features.items() if state != "ENABLED"]
        problems = ([] if enabled else [f"detector {str(detector.get('Status')).lower()}"]) + (
            [f"required features not enabled: {', '.join(off)}"] if off else []
        )
        yield ctx.item(
            detector_id,
            Status.FAIL if problems else Status.PASS,
            "; ".join(problems) or "detector enabled with " + ", ".join(features),
            arn,
            finding_publishing_frequency=detector.get("FindingPublishingFrequency"),
            features=features,
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
def service_limits(ctx: ScopeContext[ServiceLimitParams]) -> Iterator[Item | CollectionError]:
    threshold = ctx.params.threshold_percent
    for limit_check in ctx.get(TRUSTED_ADVISOR_LIMITS):
        if limit_check.failure is not None:
            yield from ctx.unread(
                limit_check.name, limit_check.failure, check_id=limit_check.check_id
            )
            continue
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
