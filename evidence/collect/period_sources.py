"""The CloudTrail event sources a period pack adds: the selected checks' change events, read
through LookupEvents or the trail's S3 log files, for the global services and for each region."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..catalog.loader import Catalog
from ..checks import CHECKS
from ..pack.period import EventsFrom, EventsPlan
from ..sources.base import Scope, Source
from ..sources.cloudtrail_events import (
    LOOKUP_CALLS_PER_SECOND,
    CallRate,
    EventName,
    log_files_source,
    lookup_events_source,
    names_for,
)


def change_events(catalog: Catalog) -> set[EventName]:
    """Every (eventSource, eventName) the selected checks declare."""
    return {
        (event.source, event.name)
        for control in catalog.controls
        if not control.manual
        for event in CHECKS[control.check].change_events
    }


def period_sources(
    catalog: Catalog, sources: Sequence[Source[Any]], plan: EventsPlan
) -> list[Source[Any]]:
    """`sources` plus the event sources (and what they read first, such as the trails)."""
    wanted = change_events(catalog)
    rate = CallRate(LOOKUP_CALLS_PER_SECOND)  # one per run: shared by every thread
    added: list[Source[Any]] = []
    global_names = names_for(Scope.GLOBAL, wanted)
    for scope in (Scope.GLOBAL, Scope.REGIONAL):
        names = names_for(scope, wanted)
        if not names:
            continue
        if plan.mode == EventsFrom.LOOKUP:
            added.append(lookup_events_source(scope, names, plan.window_start_time, rate))
        elif scope is Scope.GLOBAL:
            # The global events region's files, read once for every name.
            every = tuple(sorted(wanted))
            added.append(log_files_source(scope, every, plan.window_start_time))
        else:
            start = plan.window_start_time
            added.append(log_files_source(scope, names, start, global_reads=bool(global_names)))
    needed = {source.name: source for source in sources}
    result = list(sources)
    for source in added:
        for each in source.with_dependencies():
            if each.name not in needed or each is source:
                needed[each.name] = each
                result.append(each)
    return result
