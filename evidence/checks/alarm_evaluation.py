"""Whether a CloudWatch metric alarm goes off on one CloudTrail event counted by a metric filter,
evaluated the way CloudWatch evaluates alarms. Pure and offline.

AWS documentation followed:
- CloudWatch Logs API Reference, PutMetricFilter and MetricTransformation: each matching log
  event publishes `metricValue` (a number, or `$.field` taken from the event); `defaultValue`
  is published for events that do not match (absent: nothing is published, so a period with no
  matching event has no data); `dimensions` turn one metric into one metric per combination of
  the event's field values, and without them the metric is published without dimensions;
  `unit` defaults to None.
- CloudWatch User Guide, "Using Amazon CloudWatch alarms" / "Evaluating an alarm": the
  statistic (Sum, Average, Minimum, Maximum, SampleCount, or a percentile) of each Period is one
  datapoint; the alarm goes to ALARM when DatapointsToAlarm (M; absent: EvaluationPeriods) of
  the last EvaluationPeriods (N) datapoints breach the threshold by ComparisonOperator. When
  fewer real datapoints than M exist, the missing ones are filled by TreatMissingData.
- "Configuring how CloudWatch alarms treat missing data": `missing` (default), `notBreaching`,
  `breaching` (missing data counts as breaching), `ignore` (the current state is kept).
- CloudWatch API Reference, PutMetricAlarm: an alarm watches exactly the metric named by
  Namespace, MetricName and Dimensions (each combination of dimensions is a separate metric:
  CloudWatch concepts, "Dimensions"); with Unit set, only datapoints of that unit are seen.
- Actions run on a state *change* (AlarmActions: "when this alarm transitions into an ALARM
  state"): an alarm already in ALARM without any event notifies no one when the event comes.

One event makes one datapoint in one period. Where unrelated log events also publish a default
value in that period, their number k is unknown: the event must breach for every k, and a
period with only such events must not (checked at k = 0, 1 and many; every statistic here is
monotonic in k).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..sources.cloudtrail import Alarm, MetricTransformation

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
_OTHER_EVENTS = (1, 1000)  # how many non-matching events share the period (k > 0)


@dataclass(frozen=True)
class Firing:
    """fires: True (proven), False (never on one event, `why` says why), None (not knowable
    offline: an error, never a pass)."""

    fires: bool | None
    why: str


def _period_value(statistic: str, value: float, default: float | None, others: int) -> float:
    """The statistic of one period holding the event and `others` non-matching events (each
    publishing `default`; with no default they publish nothing)."""
    values = [value] + ([default] * others if default is not None else [])
    return {
        "Sum": sum(values),
        "Average": sum(values) / len(values),
        "Minimum": min(values),
        "Maximum": max(values),
        "SampleCount": float(len(values)),
    }[statistic]


def _quiet_value(statistic: str, default: float, others: int) -> float:
    values = [default] * others
    return {
        "Sum": sum(values),
        "Average": default,
        "Minimum": default,
        "Maximum": default,
        "SampleCount": float(others),
    }[statistic]


def one_event(alarm: Alarm, metric: MetricTransformation) -> Firing:
    """Whether one event counted by the filter (publishing `metric`) takes `alarm` to ALARM from
    a state reached without that event."""
    try:
        value = float(metric.value)
    except ValueError:
        return Firing(
            None, f"metric value {metric.value!r} is taken from the event: not known offline"
        )
    if metric.dimensions:
        names = ", ".join(name for name, _ in metric.dimensions)
        return Firing(
            False,
            f"the metric filter publishes one metric per value of {names}: the alarm watches"
            + (
                f" only {', '.join(f'{k}={v}' for k, v in alarm.dimensions)}"
                if alarm.dimensions
                else " the metric without dimensions, which receives no data"
            ),
        )
    if alarm.dimensions:
        shown = ", ".join(f"{k}={v}" for k, v in alarm.dimensions)
        return Firing(
            False,
            f"watches dimensions {shown}; the metric filter publishes without dimensions, so"
            " that metric receives no data",
        )
    if alarm.unit and alarm.unit != (metric.unit or "None"):
        return Firing(
            False,
            f"watches Unit {alarm.unit}; the metric filter publishes {metric.unit or 'None'}",
        )
    compare = _COMPARE.get(alarm.comparison)
    if compare is None:
        return Firing(None, f"{alarm.comparison}: a threshold band not known offline")
    statistic = alarm.statistic
    default = metric.default_value
    if alarm.extended_statistic:
        if default is not None:
            return Firing(
                None,
                f"{alarm.extended_statistic} over the event and other events' default values"
                " depends on traffic: not known offline",
            )
        statistic = "Maximum"  # every percentile of one datapoint is that datapoint
    if statistic not in ("Sum", "Average", "Minimum", "Maximum", "SampleCount"):
        return Firing(None, f"statistic {statistic or 'none'} not known offline")
    threshold = f"{alarm.comparison} {alarm.threshold:g}"
    counts = (0, *_OTHER_EVENTS) if default is not None else (0,)
    for others in counts:
        if not compare(_period_value(statistic, value, default, others), alarm.threshold):
            made = _period_value(statistic, value, default, others)
            crowd = f" with {others} other event(s) in the period" if others else ""
            return Firing(False, f"{threshold}: one event{crowd} makes {statistic} {made:g}")
    if default is not None:
        for others in _OTHER_EVENTS:
            quiet = _quiet_value(statistic, default, others)
            if compare(quiet, alarm.threshold):
                return Firing(
                    False,
                    f"{threshold}: a period without the event already makes {statistic}"
                    f" {quiet:g} (defaultValue {default:g}), so the alarm sits in ALARM and the"
                    " event changes nothing",
                )
    needed = alarm.datapoints_to_alarm or alarm.evaluation_periods
    if default is None and alarm.treat_missing_data == "breaching":
        return Firing(
            False,
            "TreatMissingData breaching: without events the metric has no data, so the alarm"
            " sits in ALARM and an event changes nothing",
        )
    if needed > 1:
        return Firing(
            False,
            f"{needed} of {alarm.evaluation_periods} datapoints must breach"
            " (DatapointsToAlarm/EvaluationPeriods); one event makes one datapoint",
        )
    if default is None and alarm.treat_missing_data == "ignore":
        return Firing(
            False,
            "TreatMissingData ignore: without events the metric has no data and the alarm keeps"
            " its state, so after its first event it stays in ALARM and later events notify no"
            " one",
        )
    return Firing(True, f"{threshold}, {statistic}, {needed} of {alarm.evaluation_periods}")
