"""Accepted exceptions applied to a control's evaluated items, at the pack's as-of date.

Runs after the check, on its items: a failing item matched by an exception that is approved and
unexpired at the as-of date becomes `exception` (never `pass`) with the exception beside it. An
expired exception does not apply: the item stays `fail` and its detail says when the exception
expired. An exception matching no failing item is `stale`. Judging at the as-of date (not today)
keeps evaluation pure: re-evaluating a pack later gives the same answer. With a period, the
same matching applies to the items that deviated inside the period (evaluate/period.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from typing import Any

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
from .period import block_deviations, period_status


def covers(risk: AcceptedRisk, item: Item) -> bool:
    """Whether the exception's patterns match the item: `resource` against the item's resource,
    ARN or stable id; `account` and `region`, when given, against the item's (globs, case
    sensitive as AWS identifiers are)."""
    return covers_names(risk, item.account, item.region, (item.resource, item.arn, item.id))


def covers_names(risk: AcceptedRisk, account: str, region: str, names: Sequence[str]) -> bool:
    """`covers` for anything with an account, a region and names (a period item: resource,
    ARN when known, stable id); empty names never match."""
    if risk.account is not None and not fnmatchcase(account, risk.account):
        return False
    if risk.region is not None and not fnmatchcase(region, risk.region):
        return False
    return any(fnmatchcase(value, risk.resource) for value in names if value)


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


@dataclass(frozen=True)
class _Judged:
    """The exceptions (by index, file order) matching one failing item, and the one applied."""

    hits: tuple[int, ...]
    applied: int | None


class _Register:
    """A control's exceptions with their state at the as-of date, and the failing items each
    matches (as-of items and period items alike, by stable id, each once)."""

    def __init__(self, risks: Sequence[AcceptedRisk], day: date) -> None:
        self.risks = tuple(risks)
        self.day = day
        self.states = tuple(state_on(risk, day) for risk in risks)
        self.matched: tuple[dict[str, None], ...] = tuple({} for _ in risks)

    def judge(self, item_id: str, account: str, region: str, names: Sequence[str]) -> _Judged:
        hits = tuple(
            i for i, risk in enumerate(self.risks) if covers_names(risk, account, region, names)
        )
        for i in hits:
            self.matched[i].setdefault(item_id)
        applied = next((i for i in hits if self.states[i] is ExceptionState.APPLIED), None)
        return _Judged(hits, applied)

    def note(self, judged: _Judged) -> tuple[ItemException, str | None]:
        """The exception shown beside the item, and the words added to its detail when it
        does not apply (expired, approved after the as-of date)."""
        if judged.applied is not None:
            return ItemException(self.risks[judged.applied], ExceptionState.APPLIED), None
        first = judged.hits[0]
        risk, state = self.risks[first], self.states[first]
        return ItemException(risk, state), _why_not(risk, state)

    def outcomes(self) -> tuple[ExceptionOutcome, ...]:
        return tuple(
            ExceptionOutcome(
                risk=risk,
                state=state if ids else ExceptionState.STALE,
                days_left=(risk.expires - self.day).days,
                matched=tuple(ids),
                warning=long_lived(risk),
            )
            for risk, state, ids in zip(self.risks, self.states, self.matched, strict=True)
        )


def _excepted_item(register: _Register, item: Item) -> Item:
    if item.status != Status.FAIL:
        return item
    judged = register.judge(item.id, item.account, item.region, (item.resource, item.arn, item.id))
    if not judged.hits:
        return item
    note, why_not = register.note(judged)
    if why_not is None:
        return dataclasses.replace(item, status=Status.EXCEPTION, exception=note)
    return dataclasses.replace(item, detail=f"{item.detail}; {why_not}", exception=note)


def _excepted_period(
    register: _Register, block: Mapping[str, Any], arns: Mapping[str, str], existential: bool
) -> tuple[dict[str, Any], Status]:
    """The period block with the same exceptions applied to items that deviated in the
    period, and the control's status over the period recomputed from them."""
    items: list[dict[str, Any]] = []
    for entry in block["items"]:
        judged = None
        if entry["status"] == Status.FAIL:
            names = (entry["resource"], arns.get(entry["id"], ""), entry["id"])
            judged = register.judge(entry["id"], entry["account"], entry["region"], names)
        if judged is None or not judged.hits:
            items.append(dict(entry))
            continue
        note, why_not = register.note(judged)
        if why_not is None:
            items.append({**entry, "status": str(Status.EXCEPTION), "exception": note.to_json()})
        else:
            detail = f"{entry['detail']}; {why_not}"
            items.append({**entry, "detail": detail, "exception": note.to_json()})
    status = period_status(items, block["errors"], block["gaps"], existential=existential)
    excepted = {
        **block,
        "status": str(status),
        "items": items,
        "deviations": block_deviations(items),
    }
    return excepted, status


def apply_exceptions(
    result: ControlResult, risks: Sequence[AcceptedRisk], as_of: datetime
) -> ControlResult:
    """The control's result with its accepted exceptions applied and its status recomputed.

    `as_of` is the pack's as-of time (UTC); its date decides expiry. The first applicable
    exception (in file order) is the one shown beside an item; every exception lists every
    failing item it matches. With a period, an item that deviated in the period is matched the
    same way (by its resource, ARN and stable id, at the as-of date): an applied exception makes
    it `exception` for the period, and a control whose only deviations are excepted is
    `exception`, never `pass`.
    """
    if not risks:
        return result
    register = _Register(risks, as_of.astimezone(UTC).date())
    items = tuple(_excepted_item(register, item) for item in result.items)
    existential = result.quantifier == "some"
    status = control_status(
        items, result.errors, manual=result.check == MANUAL_CHECK, existential=existential
    )
    period_block, period = result.period, None
    if result.period is not None:
        arns = {item.id: item.arn for item in result.items}
        period_block, period = _excepted_period(register, result.period, arns, existential)
    return dataclasses.replace(
        result,
        items=items,
        status=with_period(status, period),
        exceptions=register.outcomes(),
        period=period_block,
    )
