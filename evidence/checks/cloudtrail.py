"""CloudTrail on and complete; CloudWatch alarms on the security events CIS AWS 4.x names."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..model import CollectionError, Item, Status
from ..sources.cloudtrail import (
    ALARM_CHAIN,
    TRAILS,
    Alarm,
    AlarmChain,
    MetricFilter,
    MetricTransformation,
    Trail,
    log_group_key,
)
from .alarm_evaluation import Firing, one_event
from .base import Quantifier, ScopeContext, check, events
from .cis_alarms import ALARMS, AlarmSpec, Probe
from .filter_pattern import FilterPatternError, compile_pattern


@dataclass(frozen=True)
class TrailParams:
    require_log_file_validation: bool = True
    require_kms_encryption: bool = False


def core_shortfalls(trail: Trail) -> list[str]:
    """What keeps a trail from recording every management event in every region now: the
    requirements cloudtrail.enabled and the CIS 4.x alarm chain share (CIS AWS 3.1;
    CloudTrail User Guide "Working with multi-region trails", GetTrailStatus, event selectors).
    """
    shortfalls = []
    if not trail.multi_region:
        shortfalls.append("not multi-region")
    if trail.is_logging is not True:
        shortfalls.append("not logging")
    if not trail.management.complete:
        shortfalls.append(
            "does not log all read and write management events ("
            + "; ".join(trail.management.gaps)
            + ")"
        )
    if trail.latest_delivery_error:
        when = trail.latest_delivery_time or "never"
        shortfalls.append(
            f"log delivery to S3 failing: {trail.latest_delivery_error} (last delivered {when})"
        )
    return shortfalls


def trail_shortfalls(trail: Trail, params: TrailParams) -> list[str]:
    shortfalls = core_shortfalls(trail)
    if params.require_log_file_validation and not trail.log_file_validation:
        shortfalls.append("log file validation off")
    if params.require_kms_encryption and not trail.kms_key_id:
        shortfalls.append("logs not encrypted with KMS")
    return shortfalls


def _trail_attributes(trail: Trail) -> dict[str, Any]:
    return {
        "name": trail.name,
        "home_region": trail.home_region,
        "multi_region": trail.multi_region,
        "organization_trail": trail.organization_trail,
        "is_logging": trail.is_logging,
        "management_read": trail.management_read,
        "management_write": trail.management_write,
        "management_gaps": list(trail.management.gaps),
        "log_file_validation": trail.log_file_validation,
        "s3_bucket": trail.s3_bucket,
        "kms_key_id": trail.kms_key_id,
        "log_group": trail.log_group_arn,
        "latest_delivery_error": trail.latest_delivery_error,
        "latest_cloudwatch_logs_delivery_error": trail.cloudwatch_logs_delivery_error,
    }


@check(
    "cloudtrail.enabled",
    summary="A multi-region CloudTrail trail is logging every read and write management event,"
    " delivering its logs, with log file validation.",
    procedure=(
        "List the account's trails, including those of other home regions"
        " (cloudtrail:DescribeTrails includeShadowTrails=true), and read each trail's status"
        " (cloudtrail:GetTrailStatus) and event selectors (cloudtrail:GetEventSelectors) in its"
        " home region, by ARN. Every trail is an item. A trail meets the requirement when it is"
        " multi-region, logging, its selectors (classic or advanced, read as CloudTrail applies"
        " them) log every read and write management event with no event source excluded"
        " (ExcludeManagementEventSources, eventSource NotEquals), it has no S3 delivery error"
        " (LatestDeliveryError), and (by default) it validates its log files. Existential: the"
        " control passes when at least one trail is fully proven to meet it; a trail that could"
        " not be read is an error item, and without a passing trail the control is an error."
    ),
    params=TrailParams,
    sources=(TRAILS,),
    quantifier=Quantifier.SOME,
    notes=(
        "Existential control: it asks whether some trail records the whole account, so one"
        " fully proven trail passes it. Trails that do not meet every requirement are listed as"
        " failing items and trails that could not be read as error items; neither fails the"
        " control while another trail passes.",
    ),
    finding_attributes=("name", "home_region", "is_logging", "log_file_validation"),
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
def cloudtrail_enabled(ctx: ScopeContext[TrailParams]) -> Iterator[Item | CollectionError]:
    trails = ctx.get(TRAILS)
    if not trails:
        yield ctx.item("<no trail>", Status.FAIL, "no CloudTrail trail exists", "", trails_found=0)
        return
    for trail in trails:
        if trail.failure is not None:
            yield from ctx.unread(trail.arn, trail.failure, trail.arn, name=trail.name)
            continue
        shortfalls = trail_shortfalls(trail, ctx.params)
        yield ctx.item(
            trail.arn,
            Status.FAIL if shortfalls else Status.PASS,
            "; ".join(shortfalls) if shortfalls else f"trail {trail.name} meets every requirement",
            trail.arn,
            **_trail_attributes(trail),
            trails_found=len(trails),
        )


# ---------------------------------------------------------------- CIS 4.x alarms

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
    unknown = [name for name in params.required if name not in ALARMS]
    if unknown:
        return f"unknown alarm {', '.join(unknown)} (known: {', '.join(ALARMS)})"
    return None


def chain_trails(trails: Sequence[Trail]) -> tuple[list[Trail], list[str], list[Trail]]:
    """(trails an alarm chain may start from, why each other trail may not, trails unread).

    The chain starts at the CloudWatch Logs group of a trail that itself records every
    management event in every region (cloudtrail.enabled's core requirements) and delivers to
    CloudWatch Logs without error (GetTrailStatus LatestCloudWatchLogsDeliveryError)."""
    usable, refused, unread = [], [], []
    for trail in trails:
        if trail.failure is not None:
            unread.append(trail)
            continue
        shortfalls = core_shortfalls(trail)
        if not trail.log_group:
            shortfalls.append("no CloudWatch Logs group")
        if trail.cloudwatch_logs_delivery_error:
            shortfalls.append(
                "delivery to CloudWatch Logs failing: " + trail.cloudwatch_logs_delivery_error
            )
        if shortfalls:
            refused.append(f"{trail.name}: {', '.join(shortfalls)}")
        else:
            usable.append(trail)
    return usable, refused, unread


@dataclass(frozen=True)
class Behaviour:
    """How one metric (its filters together) behaves on an alarm's events."""

    missed: tuple[str, ...]  # must-match events no filter counts
    wrongly: tuple[str, ...]  # must-not events some filter counts
    unreadable: tuple[str, ...]  # patterns the evaluator cannot read

    @property
    def correct(self) -> bool:
        return not (self.missed or self.wrongly or self.unreadable)


def behaviour(filters: Sequence[MetricFilter], spec: AlarmSpec) -> Behaviour:
    """Every must-match event counted by some filter, no must-not event by any."""
    compiled = []
    unreadable = []
    for f in filters:
        try:
            compiled.append(compile_pattern(f.pattern))
        except FilterPatternError as exc:
            unreadable.append(f"{f.name} ({f.pattern!r}: {exc})")

    def counted(probe: Probe) -> bool:
        return any(p.matches(probe.event) for p in compiled)

    return Behaviour(
        missed=tuple(p.label for p in spec.must_match if not counted(p)),
        wrongly=tuple(p.label for p in spec.must_not_match if counted(p)),
        unreadable=tuple(unreadable),
    )


def fires_on_one_event(alarm: Alarm, metrics: Sequence[MetricTransformation]) -> Firing:
    """Whether one matching event takes the alarm to ALARM, whichever of the metric's filters
    counted it (checks/alarm_evaluation.py: value, dimensions, unit, statistic, threshold,
    DatapointsToAlarm of EvaluationPeriods, TreatMissingData). The least certain answer wins:
    never (False) over unknown (None) over fires (True)."""
    verdicts = [one_event(alarm, m) for m in metrics]
    order = {False: 0, None: 1, True: 2}
    return min(verdicts, key=lambda f: order[f.fires])


@dataclass(frozen=True)
class ChainResult:
    status: Status
    detail: str
    found: dict[str, Any]


def _describe(b: Behaviour) -> str:
    parts = []
    if b.missed:
        parts.append("does not match " + "; ".join(b.missed))
    if b.wrongly:
        parts.append("also matches " + "; ".join(b.wrongly))
    if b.unreadable:
        parts.append("pattern not evaluated: " + "; ".join(b.unreadable))
    return ", and ".join(parts)


def alarm_for(chain: AlarmChain, trails: Sequence[Trail], spec: AlarmSpec) -> ChainResult:
    """Follow trail -> log group -> metric filter (by behaviour) -> alarm -> action ->
    confirmed subscription; say where the chain breaks and which event a filter got wrong."""
    usable, refused, unread = chain_trails(trails)
    unknowns = [f"trail {t.name} could not be read ({t.failure.code})" for t in unread if t.failure]
    if not usable:
        detail = "no trail that records every management event in every region delivers to"
        detail += " CloudWatch Logs" + (": " + "; ".join(refused) if refused else "")
        return _broken(detail, unknowns, {})
    groups = {t.log_group for t in usable if t.log_group}
    for region, group in sorted(groups):
        failure = chain.failure("log_group", log_group_key(region, group))
        if failure is not None:
            unknowns.append(f"metric filters of {group} could not be read ({failure.code})")
    filters = [f for f in chain.filters if (f.region, f.log_group) in groups]
    if not filters:
        return _broken(
            "no metric filter on the log group of a qualifying trail ("
            + ", ".join(g for _, g in sorted(groups))
            + ")",
            unknowns,
            {},
        )
    by_metric: dict[tuple[str, str, str], list[MetricFilter]] = {}
    published: dict[tuple[str, str, str], list[MetricTransformation]] = {}
    for f in filters:
        for t in f.metrics:
            by_metric.setdefault((f.region, t.namespace, t.name), []).append(f)
            published.setdefault((f.region, t.namespace, t.name), []).append(t)
    judged = {key: behaviour(fs, spec) for key, fs in by_metric.items()}
    correct = [key for key, b in judged.items() if b.correct]
    found: dict[str, Any] = {}
    if not correct:
        # The closest metric: among those that count any of the events at all (rightly or
        # wrongly), the one missing fewest events it must count, then counting fewest wrong.
        related = [
            pair
            for pair in judged.items()
            if len(pair[1].missed) < len(spec.must_match) or pair[1].wrongly or pair[1].unreadable
        ]
        if not related:
            return _broken(
                f"no metric filter on {', '.join(g for _, g in sorted(groups))} counts any of"
                f" these events ({len(filters)} filter(s) judged)",
                unknowns,
                found,
            )
        nearest, closest = min(
            related, key=lambda pair: (len(pair[1].missed), len(pair[1].wrongly))
        )
        if closest.unreadable:
            unknowns.append(_describe(Behaviour((), (), closest.unreadable)))
        names = ", ".join(f.name for f in by_metric[nearest])
        found["metric_filters"] = [f.name for f in by_metric[nearest]]
        return _broken(
            f"no metric filter counts exactly these events; closest, {names}: {_describe(closest)}",
            unknowns,
            found,
        )
    found["metric_filters"] = sorted({f.name for m in correct for f in by_metric[m]})
    alarms = [
        (a, fires_on_one_event(a, published[(a.region, a.namespace, a.metric)]))
        for a in chain.alarms
        if (a.region, a.namespace, a.metric) in correct
    ]
    for region in sorted({region for region, _, _ in correct}):
        failure = chain.failure("alarm_region", region)
        if failure is not None:
            unknowns.append(f"alarms in {region} could not be listed ({failure.code})")
    if not alarms:
        return _broken(
            f"metric filter {', '.join(found['metric_filters'])} counts the right events but"
            " no alarm watches its metric",
            unknowns,
            found,
        )
    found["alarms"] = [a.name for a, _ in alarms]
    firing = [a for a, verdict in alarms if verdict.fires]
    if not firing:
        for alarm, verdict in alarms:
            if verdict.fires is None:
                unknowns.append(f"whether {alarm.name} goes off ({verdict.why})")
        quiet = "; ".join(f"{a.name} ({v.why})" for a, v in alarms if v.fires is False)
        return _broken(
            f"no alarm goes off on a single event{': ' + quiet if quiet else ''}",
            unknowns,
            found,
        )
    for alarm in firing:
        subscribers = [
            s for topic in alarm.actions for s in chain.confirmed_subscriptions.get(topic, ())
        ]
        if alarm.enabled and subscribers:
            found["notified"] = subscribers
            return ChainResult(
                Status.PASS, f"alarm {alarm.name} notifies {', '.join(subscribers)}", found
            )
        for topic in alarm.actions:
            failure = chain.failure("sns_topic", topic)
            if failure is not None:
                unknowns.append(f"subscriptions of {topic} could not be read ({failure.code})")
    return _broken("alarm has no enabled action with a confirmed SNS subscription", unknowns, found)


def _broken(detail: str, unknowns: list[str], found: dict[str, Any]) -> ChainResult:
    """A chain that breaks: `fail`, unless something unread might have completed it."""
    if unknowns:
        return ChainResult(
            Status.ERROR, f"{detail}; not proven either way: {'; '.join(unknowns)}", found
        )
    return ChainResult(Status.FAIL, detail, found)


@check(
    "cloudwatch.security_alarms",
    summary="Security events in CloudTrail raise a CloudWatch alarm that notifies someone.",
    procedure=(
        "Start from the trails (cloudtrail:DescribeTrails, GetTrailStatus, GetEventSelectors):"
        " only a trail that is multi-region, logging, records every read and write management"
        " event and delivers to its CloudWatch Logs group without error can start the chain."
        " List that log group's metric filters (logs:DescribeMetricFilters) and judge each"
        " filter pattern by behaviour, offline: for every CIS AWS 4.x event, a set of CloudTrail"
        " events it must count and a set it must not (e.g. a console sign-in with MFAUsed No"
        " must match, one with Yes must not). Then list the region's metric alarms"
        " (cloudwatch:DescribeAlarms): an alarm on that metric must go off on one event and have"
        " an enabled action whose SNS topic has a confirmed subscription"
        " (sns:ListSubscriptionsByTopic). The detail says where the chain breaks and which event"
        " a pattern missed or wrongly matched; a pattern that cannot be evaluated is an error."
    ),
    params=AlarmParams,
    sources=(TRAILS, ALARM_CHAIN),
    validate=_validate_alarms,
    finding_attributes=("event", "metric_filters", "alarms"),
    change_events=events(
        "cloudtrail",
        "UpdateTrail",
        "DeleteTrail",
        "StartLogging",
        "StopLogging",
        "PutEventSelectors",
    )
    + events("logs", "PutMetricFilter", "DeleteMetricFilter", "DeleteLogGroup")
    + events(
        "monitoring", "PutMetricAlarm", "DeleteAlarms", "DisableAlarmActions", "EnableAlarmActions"
    )
    + events("sns", "Subscribe", "ConfirmSubscription", "Unsubscribe", "DeleteTopic"),
)
def security_alarms(ctx: ScopeContext[AlarmParams]) -> Iterator[Item | CollectionError]:
    trails = ctx.get(TRAILS)
    chain = ctx.get(ALARM_CHAIN)
    # What could not be read is listed once, whatever the alarms it touched.
    for failure in (*(t.failure for t in trails if t.failure), *chain.failures):
        yield CollectionError(
            ctx.account,
            ctx.region,
            failure.operation,
            failure.code,
            f"{failure.kind} {failure.resource}: {failure.message}",
        )
    for name in ctx.params.required:
        spec = ALARMS[name]
        result = alarm_for(chain, trails, spec)
        yield ctx.item(
            name,
            result.status,
            f"{spec.title}: {result.detail}",
            "",
            event=spec.title,
            cis=spec.cis,
            **result.found,
        )
