"""Accepted exceptions applied to a control's evaluated items, at the pack's as-of date.

Runs after the check, on its items: a failing item matched by an exception that is approved and
unexpired at the as-of date becomes `exception` (never `pass`) with the exception beside it. An
expired exception does not apply: the item stays `fail` and its detail says when the exception
expired. An exception matching no failing item is `stale`. Judging at the as-of date (not today)
keeps evaluation pure: re-evaluating a pack later gives the same answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase

from ..catalog.exceptions import long_lived
from ..model import (
    MANUAL_CHECK,
    AcceptedRisk,
    ControlResult,
    ExceptionOutcome,
    ExceptionState,
    Item,
    ItemException,
    Status,
    control_status,
    with_period,
)


def covers(risk: AcceptedRisk, item: Item) -> bool:
    """Whether the exception's patterns match the item: `resource` against the item's resource,
    ARN or stable id; `account` and `region`, when given, against the item's (globs, case
    sensitive as AWS identifiers are)."""
    if risk.account is not None and not fnmatchcase(item.account, risk.account):
        return False
    if risk.region is not None and not fnmatchcase(item.region, risk.region):
        return False
    return any(
        fnmatchcase(value, risk.resource) for value in (item.resource, item.arn, item.id) if value
    )


def state_on(risk: AcceptedRisk, day: date) -> ExceptionState:
    """Applied from its approval date through its expiry date (inclusive), on `day`."""
    if day < risk.approved_on:
        return ExceptionState.NOT_YET_APPROVED
    if day > risk.expires:
        return ExceptionState.EXPIRED
    return ExceptionState.APPLIED


def _why_not(risk: AcceptedRisk, state: ExceptionState) -> str:
    if state is ExceptionState.EXPIRED:
        return f"exception expired on {risk.expires.isoformat()}"
    return f"exception approved on {risk.approved_on.isoformat()}, after the as-of date"


def apply_exceptions(
    result: ControlResult, risks: Sequence[AcceptedRisk], as_of: datetime
) -> ControlResult:
    """The control's result with its accepted exceptions applied and its status recomputed.

    `as_of` is the pack's as-of time (UTC); its date decides expiry. The first applicable
    exception (in file order) is the one shown beside an item; every exception lists every
    failing item it matches.
    """
    if not risks:
        return result
    day = as_of.astimezone(UTC).date()
    states = [state_on(risk, day) for risk in risks]
    matched: list[list[str]] = [[] for _ in risks]
    items: list[Item] = []
    for item in result.items:
        hits = [
            i for i, risk in enumerate(risks) if item.status == Status.FAIL and covers(risk, item)
        ]
        for i in hits:
            matched[i].append(item.id)
        applied = next((i for i in hits if states[i] is ExceptionState.APPLIED), None)
        if applied is not None:
            note = ItemException(risks[applied], ExceptionState.APPLIED)
            items.append(dataclasses.replace(item, status=Status.EXCEPTION, exception=note))
        elif hits:
            risk, state = risks[hits[0]], states[hits[0]]
            items.append(
                dataclasses.replace(
                    item,
                    detail=f"{item.detail}; {_why_not(risk, state)}",
                    exception=ItemException(risk, state),
                )
            )
        else:
            items.append(item)
    outcomes = tuple(
        ExceptionOutcome(
            risk=risk,
            state=state if ids else ExceptionState.STALE,
            days_left=(risk.expires - day).days,
            matched=tuple(ids),
            warning=long_lived(risk),
        )
        for risk, state, ids in zip(risks, states, matched, strict=True)
    )
    status = control_status(
        items,
        result.errors,
        manual=result.check == MANUAL_CHECK,
        existential=result.quantifier == "some",
    )
    # An exception covers what fails at the as-of time; a deviation inside the period still
    # fails the control (and what the period's events cannot show is still an error).
    period = Status(result.period["status"]) if result.period else None
    return dataclasses.replace(
        result, items=tuple(items), status=with_period(status, period), exceptions=outcomes
    )
