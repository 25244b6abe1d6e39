"""A control over the audit period: in effect since, changes, deviations (SOC 2 Type II).

For each item, its state is rebuilt over the window of events read (period start to when the
events were read): the as-of reading anchors the end, each change event says what the item was
just before and after it where its request shows it, AWS's own timestamps (logging started,
detector created) mark when it came into effect. A time inside the period when the item did not
meet the control is a deviation: the item fails for the period even if it passes at the as-of
time. Where the events cannot say (logs missing, LookupEvents refused, a change whose outcome the
request does not show), the item is `error` for the period, naming what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..checks.base import Check, NotCollected, Quantifier, ScopeContext
from ..checks.period_rules import EXISTS, Effect, Facets, PeriodRule, State, rule_for
from ..model import GLOBAL_REGION, CollectionError, Item, Status, item_id
from ..pack.period import EventsFrom
from ..pack.raw import parse_utc, utc_iso
from ..pack.runinfo import RunInfo
from ..sources.base import Scope
from ..sources.cloudtrail_events import (
    EVENT_SOURCES,
    GLOBAL_EVENT_SOURCES,
    LOG_FILES,
    LOOKUP_EVENTS,
    PeriodEvents,
    TrailEvent,
)


@dataclass(frozen=True)
class Point:
    """An event's effect on one item, or an AWS timestamp treated as one."""

    time: datetime
    effect: Effect
    event: TrailEvent | None  # None for an AWS timestamp


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    state: State
    opened_by: Point | None  # what began this state (None: the window's start)


@dataclass
class ItemPeriod:
    """One item's period: where it comes from, its points and the segments rebuilt."""

    id: str
    account: str
    region: str
    resource: str
    item: Item | None  # None: seen only in the period's events (gone by the as-of time)
    points: list[Point] = field(default_factory=list)
    since: tuple[str, str] | None = None
    excluded: bool = False  # left out of the check's population at the as-of time
    events: list[TrailEvent] = field(default_factory=list)  # the events attributed to it
    names: set[str] = field(default_factory=set)  # other names its events use (a key's id)


def scope_events(
    ctx: ScopeContext[Any], check: Check, run: RunInfo, regions: Sequence[str]
) -> PeriodEvents:
    """The events of the check's names for one scope; raises NotCollected when a file the
    scope needs could not be collected (LookupEvents denied, no trail, ...)."""
    source = EVENT_SOURCES[LOOKUP_EVENTS if _mode(run) == EventsFrom.LOOKUP else LOG_FILES]
    wanted = {(e.source, e.name) for e in check.change_events}
    needs_global = any(s in GLOBAL_EVENT_SOURCES for s, _ in wanted)
    needs_regional = any(s not in GLOBAL_EVENT_SOURCES for s, _ in wanted)
    places: list[str] = []
    if ctx.region == GLOBAL_REGION:
        places = ([GLOBAL_REGION] if needs_global else []) + (
            list(regions) if needs_regional else []
        )
    elif needs_regional:
        places = [ctx.region]
    found: PeriodEvents | None = None
    for place in places:
        scoped = ctx.sources.get(_scoped(source, place), ctx.account, place)
        if place != GLOBAL_REGION and source.name == LOG_FILES and not scoped.regions:
            # This region's variant read nothing: the global variant read its files.
            whole = ctx.sources.get(_scoped(source, GLOBAL_REGION), ctx.account, GLOBAL_REGION)
            missing = (f"the log files of {place} were not listed",)
            scoped = whole if place in whole.regions else replace(scoped, gaps=missing)
        found = scoped if found is None else found.merged(scoped)
    if found is None:
        return PeriodEvents(_mode(run), (), None, None, ())
    kept = tuple(e for e in found.events if (e.source, e.name) in wanted)
    return PeriodEvents(
        found.mode, kept, found.read_from, found.read_until, found.gaps, found.objects_read
    )


def _scoped(source: Any, place: str) -> Any:
    return replace(source, scope=Scope.GLOBAL if place == GLOBAL_REGION else Scope.REGIONAL)


def _mode(run: RunInfo) -> str:
    return run.events.mode if run.events is not None else EventsFrom.LOOKUP


def _keys(item: Item) -> set[str]:
    """The names an event may use for an item: its resource, ARN, name, ARN's last part."""
    keys = {item.resource, item.arn}
    if item.arn:
        keys.add(item.arn.rsplit("/", 1)[-1])
    name = item.attributes.get("name")
    if isinstance(name, str):
        keys.add(name)
    return {k for k in keys if k}


def collect_points(
    ctx: ScopeContext[Any], rule: PeriodRule, items: Sequence[Item], events: Iterable[TrailEvent]
) -> tuple[dict[str, ItemPeriod], list[tuple[TrailEvent, list[Effect]]]]:
    """Attribute each event to the items it touched (creating items for resources seen only
    in events); add AWS in-effect timestamps as points."""
    periods: dict[str, ItemPeriod] = {}
    by_key: dict[str, str] = {}
    events = tuple(events)
    for item in items:
        periods[item.id] = ItemPeriod(item.id, item.account, item.region, item.resource, item)
        for key in _keys(item):
            by_key.setdefault(key, item.id)
        for alias in rule.aliases(item, events) if rule.aliases else ():
            by_key[alias] = item.id
            periods[item.id].names.add(alias)
        if rule.since is not None:
            try:
                since = rule.since(ctx, item)
            except NotCollected:
                since = None
            if since is not None:
                periods[item.id].since = since
                moment = parse_utc(since[0])
                marker = Effect(
                    item.resource,
                    State.ABSENT,
                    None,
                    f"in effect since ({since[1]})",
                    sets={EXISTS: True},
                )
                periods[item.id].points.append(Point(moment, marker, None))
    excluded = {e.resource for e in ctx.exclusions}
    attributed: list[tuple[TrailEvent, list[Effect]]] = []
    for event in events:
        effects = list(rule.effects(event, ctx.params)) if event.succeeded else []
        attributed.append((event, effects))
        for effect in effects:
            target = by_key.get(effect.resource)
            if target is None:
                target = item_id(ctx.check, ctx.account, ctx.region, effect.resource)
                by_key[effect.resource] = target
                periods[target] = ItemPeriod(target, ctx.account, ctx.region, effect.resource, None)
                periods[target].excluded = effect.resource in excluded
            periods[target].events.append(event)
            if effect.at is not None:  # takes hold later: the event did not open that span
                periods[target].points.append(Point(effect.at, effect, None))
            elif not effect.neutral:
                periods[target].points.append(Point(event.time, effect, event))
    for record in periods.values() if rule.marks else ():
        assert rule.marks is not None
        try:
            marks = list(rule.marks(ctx, record.resource, record.item, record.events))
        except NotCollected:
            marks = []  # the raw data that dates it was not collected: the events alone say
        record.points.extend(Point(moment, effect, None) for moment, effect in marks)
    return periods, attributed


def _agree(first: State | None, second: State | None, must_exist: bool) -> State | None:
    """One state from two claims about the same span; UNKNOWN when they conflict (a change
    the events do not show happened in between)."""
    if first is None:
        return second
    if second is None or first == second:
        return first
    not_met = {State.NOT_MET, State.ABSENT} if must_exist else {State.NOT_MET}
    if first in not_met and second in not_met:
        return State.NOT_MET
    return State.UNKNOWN


def _known(facets: Mapping[str, bool | None]) -> dict[str, bool]:
    return {name: value for name, value in facets.items() if value is not None}


def segments(
    points: Sequence[Point], start: datetime, end: datetime, rule: PeriodRule, as_of: Facets
) -> list[Segment]:
    """The item's states from `start` to `end` (the as-of reading: `as_of`).

    Each span between two points reads every facet forward (what the nearest earlier event
    left, or required and kept) and backward (what the nearest later event touching it
    required, else the as-of value if no later event touches it). The two readings are judged
    apart and agreed: a conflict means a change the events do not show (UNKNOWN)."""
    ordered = sorted((p for p in points if start <= p.time <= end), key=lambda p: p.time)
    spans: list[Segment] = []
    for index in range(len(ordered) + 1):
        forward: dict[str, bool | None] = {}
        for point in reversed(ordered[:index]):
            for name, value in point.effect.left().items():
                forward.setdefault(name, value)
            for name, kept in point.effect.required().items():
                forward.setdefault(name, kept)
        backward: dict[str, bool | None] = {}
        for point in ordered[index:]:
            for name, value in point.effect.required().items():
                backward.setdefault(name, value)
            for name in point.effect.left():
                backward.setdefault(name, None)  # changed by it, from what it does not show
        for name, value in as_of.items():
            backward.setdefault(name, value)
        ahead, behind = _known(forward), _known(backward)
        state = _agree(
            rule.judge({**behind, **ahead}), rule.judge({**ahead, **behind}), rule.must_exist
        )
        begin = ordered[index - 1].time if index else start
        until = ordered[index].time if index < len(ordered) else end
        opened = ordered[index - 1] if index else None
        spans.append(Segment(begin, until, state or State.UNKNOWN, opened))
    return [s for s in spans if s.end > s.start]


def _event_json(event: TrailEvent | None) -> dict[str, Any] | None:
    if event is None:
        return None
    return {
        "event_id": event.event_id,
        "time": utc_iso(event.time),
        "event_name": event.name,
        "principal": event.principal,
        "source_ip": event.source_ip,
    }


Span = tuple[datetime, datetime]


def judge_item(
    record: ItemPeriod, rule: PeriodRule, window: Span, period: Span, gaps: Sequence[str]
) -> dict[str, Any]:
    """One item's period entry: status, in effect since, deviations and unknown spans."""
    as_of = rule.as_of(record.item)
    if record.excluded and rule.excluded is not None:
        as_of = rule.excluded
    spans = segments(record.points, window[0], window[1], rule, as_of)
    bad = {State.NOT_MET, State.ABSENT} if rule.must_exist else {State.NOT_MET}
    deviations, unknown = [], []
    for span, (begin, end) in ((s, _clip(s, period)) for s in spans):
        if begin >= end:
            continue
        if span.state in bad:
            following = next((s for s in spans if s.start == span.end), None)
            deviations.append(
                {
                    "from": utc_iso(begin),
                    "until": utc_iso(end),
                    "state": str(span.state),
                    "started_by": _event_json(span.opened_by.event if span.opened_by else None),
                    "ended_by": _event_json(
                        following.opened_by.event if following and following.opened_by else None
                    ),
                    "what": span.opened_by.effect.what
                    if span.opened_by
                    else "not in effect at the period start"
                    if span.state is State.ABSENT
                    else "did not meet the control from the period start (no change since)",
                }
            )
        elif span.state is State.UNKNOWN:
            unknown.append({"from": utc_iso(begin), "until": utc_iso(end)})
    status = Status.FAIL if deviations else Status.ERROR if unknown or gaps else Status.PASS
    events = [p for p in record.points if p.event is not None]
    since, since_from = _since(record, events, window[0])
    item = record.item
    return {
        "id": record.id,
        "account": record.account,
        "region": record.region,
        "resource": record.resource,
        "status": str(status),
        "status_as_of": str(item.status) if item else "absent at the as-of time",
        "in_effect_since": since,
        "in_effect_since_from": since_from,
        "changes": len(events),
        "deviations": deviations,
        "unknown": unknown,
        "detail": _detail(status, deviations, unknown, gaps),
    }


def _clip(span: Segment, period: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    return max(span.start, period[0]), min(span.end, period[1])


def _since(record: ItemPeriod, events: Sequence[Point], window_start: datetime) -> tuple[str, str]:
    if record.since is not None:
        return record.since
    if events:
        last = max(events, key=lambda p: p.time)
        assert last.event is not None
        return utc_iso(last.time), f"CloudTrail {last.event.name} by {last.event.principal}"
    return (
        f"before {utc_iso(window_start)}",
        "no change event since the start of the events read",
    )


def _detail(
    status: Status, deviations: Sequence[Mapping[str, Any]], unknown: Sequence[Any], gaps: Any
) -> str:
    if deviations:
        return "; ".join(f"{d['what']}: {d['from']} to {d['until']}" for d in deviations)
    if unknown:
        spans = ", ".join(f"{u['from']} to {u['until']}" for u in unknown)
        return f"the events do not show the state from {spans}"
    if gaps:
        more = f" (and {len(gaps) - 1} more)" if len(gaps) > 1 else ""
        return f"the events are incomplete: {gaps[0]}{more}"
    return "met the control throughout the period"


def control_period(
    check: Check, scopes: Sequence[tuple[ScopeContext[Any], Sequence[Item]]], run: RunInfo
) -> tuple[dict[str, Any], Status]:
    """The control's `period` block for results.json, and its status over the period."""
    assert run.period is not None
    rule = rule_for(check.name)
    period = (run.period.start_time, min(run.period.end_time, run.as_of))
    items: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    errors: list[CollectionError] = []
    gaps: list[str] = []
    read: list[dict[str, Any]] = []
    for ctx, scope_items in scopes:
        try:
            events = scope_events(ctx, check, run, run.account(ctx.account).regions)
        except NotCollected as exc:
            errors.append(exc.error)
            items.extend(_not_read(item, exc.error) for item in scope_items)
            continue
        scope_gaps = list(events.gaps)
        if events.read_from is not None and events.read_from > period[0]:
            scope_gaps.append(f"events read only from {utc_iso(events.read_from)}")
        gaps.extend(f"{ctx.account} {ctx.region}: {gap}" for gap in scope_gaps)
        read.append(_read_json(ctx, events))
        periods, attributed = collect_points(ctx, rule, scope_items, events.events)
        window = (min(period[0], events.read_from or period[0]), run.as_of)
        items.extend(
            judge_item(r, rule, window, period, scope_gaps)
            for r in periods.values()
            if not (r.excluded and rule.excluded is None)  # outside the population: not judged
        )
        changes.extend(
            _change_json(ctx, event, effects, periods)
            for event, effects in attributed
            if period[0] <= event.time < period[1]
        )
    status = period_status(items, errors, gaps, existential=check.quantifier == Quantifier.SOME)
    block = {
        "status": str(status),
        "from": utc_iso(period[0]),
        "until": utc_iso(period[1]),
        "events_from": _mode(run),
        "events_read": read,
        "change_events": sorted(f"{e.source}:{e.name}" for e in check.change_events),
        "items": items,
        "deviations": block_deviations(items),
        "changes": changes,
        "populations": _populations(changes),
        "gaps": gaps,
        "errors": [e.to_json() for e in errors],
    }
    return block, status


def block_deviations(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The block's `deviations`: every item's deviations with the item's id, resource and
    period status (`exception` where an accepted exception covers it)."""
    return [
        {"item_id": i["id"], "resource": i["resource"], "status": i["status"], **d}
        for i in items
        for d in i["deviations"]
    ]


def period_status(
    items: Sequence[Mapping[str, Any]],
    errors: Sequence[object],
    gaps: Sequence[str],
    existential: bool = False,
) -> Status:
    """The control's status over the period from its period items (results.json entries):
    `fail` if any deviation is not excepted; else `error` if the events cannot show something;
    else `exception` if accepted exceptions cover every deviation; else `pass`."""
    statuses = {i["status"] for i in items}
    # Existential (model.control_status): one resource that met it throughout the period is
    # enough; otherwise judged as a universal control (conservative: no union of intervals).
    if existential and Status.PASS in statuses:
        return Status.PASS
    if Status.FAIL in statuses:
        return Status.FAIL
    if errors or gaps or Status.ERROR in statuses:
        return Status.ERROR
    if Status.EXCEPTION in statuses:
        return Status.EXCEPTION
    return Status.PASS


def _not_read(item: Item, error: CollectionError) -> dict[str, Any]:
    return {
        "id": item.id,
        "account": item.account,
        "region": item.region,
        "resource": item.resource,
        "status": str(Status.ERROR),
        "status_as_of": str(item.status),
        "in_effect_since": None,
        "in_effect_since_from": None,
        "changes": 0,
        "deviations": [],
        "unknown": [],
        "detail": f"events not read: {error.operation} {error.code}: {error.message}",
    }


def _read_json(ctx: ScopeContext[Any], events: PeriodEvents) -> dict[str, Any]:
    return {
        "account": ctx.account,
        "region": ctx.region,
        "mode": events.mode,
        "from": utc_iso(events.read_from) if events.read_from else None,
        "until": utc_iso(events.read_until) if events.read_until else None,
        "events": len(events.events),
        "log_objects_read": events.objects_read,
        "gaps": list(events.gaps),
    }


def _change_json(
    ctx: ScopeContext[Any],
    event: TrailEvent,
    effects: Sequence[Effect],
    periods: Mapping[str, ItemPeriod],
) -> dict[str, Any]:
    by_resource = {name: p.id for p in periods.values() for name in (p.resource, *p.names)}
    now = [e for e in effects if e.at is None]  # not the effects that take hold later
    return {
        "id": item_id(ctx.check, ctx.account, ctx.region, f"event:{event.event_id}"),
        **event.to_json(),
        "account": ctx.account,
        "resources": [e.resource for e in now],
        "item_ids": [by_resource[e.resource] for e in now if e.resource in by_resource],
        "what": "; ".join(e.what for e in now)
        or ("failed: changed nothing" if not event.succeeded else "not matched to an item"),
    }


def _populations(changes: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Event populations the auditor samples from: event name -> ids of its changes."""
    found: dict[str, list[str]] = {}
    for change in changes:
        if change["error_code"] is None:
            found.setdefault(change["event_name"], []).append(change["id"])
    return dict(sorted(found.items()))
