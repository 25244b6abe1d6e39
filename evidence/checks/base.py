"""Checks: small pure functions over collected evidence, registered by name.

A check declares its parameters (a frozen dataclass), the sources it reads, the plain-words test
procedure an auditor sees, and the function that turns one account's (and region's) evidence into
items. The IAM actions a check needs are those of its sources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from ..model import CollectionError, Item, Status, item_id
from ..pack.raw import ResourceFailure
from ..sources.base import Scope, Source
from ..sources.counts import independent_sources

P = TypeVar("P")
T = TypeVar("T")


class NotCollected(Exception):
    """A source a check needs could not be collected for this account and region."""

    def __init__(self, error: CollectionError) -> None:
        super().__init__(error.message)
        self.error = error


class SourceLookup(Protocol):
    def get(self, source: Source[T], account: str, region: str) -> T:
        """The parsed source, or raise NotCollected naming operation and AWS error code."""
        ...


@dataclass(frozen=True)
class Exclusion:
    """A record the evidence holds that the check left out of its population, and why (the
    auditor's "what was excluded" for IPE completeness)."""

    account: str
    region: str
    resource: str
    reason: str


@dataclass(frozen=True)
class ScopeContext(Generic[P]):
    """What a check sees: one account (and region), its parameters, and the as-of time."""

    check: str  # the check's registered name: part of every item's stable id
    account: str
    region: str
    partition: str
    params: P
    as_of: datetime
    sources: SourceLookup
    # What the check left out of its population here (filled through exclude()).
    exclusions: list[Exclusion] = field(default_factory=list)

    def get(self, source: Source[T]) -> T:
        region = "global" if source.scope is Scope.GLOBAL else self.region
        return self.sources.get(source, self.account, region)

    def item(
        self,
        resource: str,
        status: Status,
        detail: str,
        arn: str = "",
        *,
        key: str = "",
        **attributes: Any,
    ) -> Item:
        """One population item. `key` tells apart several items of one resource (an IAM
        user's key slots or credentials) so that each keeps its own stable id."""
        return Item(
            account=self.account,
            region=self.region,
            resource=resource,
            arn=arn,
            status=status,
            detail=detail,
            attributes=attributes,
            id=item_id(self.check, self.account, self.region, resource, key),
        )

    def unread(
        self, resource: str, failure: ResourceFailure, arn: str = "", **attributes: Any
    ) -> Iterator[Item | CollectionError]:
        """A resource that could not be read: an `error` item of its own (named by the operation
        and AWS error code), and the same failure among what could not be collected."""
        yield self.item(
            resource,
            Status.ERROR,
            f"could not be read: {failure.operation} failed with {failure.code}: {failure.message}",
            arn,
            error_operation=failure.operation,
            error_code=failure.code,
            **attributes,
        )
        yield CollectionError(
            self.account,
            self.region,
            failure.operation,
            failure.code,
            f"{failure.kind} {failure.resource}: {failure.message}",
        )

    def exclude(self, resource: str, reason: str) -> None:
        """Say that a record of the evidence is not in the population, and why (no console
        password, outside the `tags` scope, ...): shown with counts in the control's IPE block.
        Every record a check skips should pass through here, so the population plus the
        exclusions account for what AWS returned."""
        self.exclusions.append(Exclusion(self.account, self.region, resource, reason))

    def age_days(self, moment: datetime) -> int:
        return (self.as_of - moment).days

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        """An ARN in this account's partition; `region` "" for global resources."""
        where = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{where}:{self.account}:{resource}"


# A check yields items, and may also yield what it could not collect while still judging the
# rest (e.g. bucket-level settings when the account-level one could not be read).
Evaluate = Callable[[ScopeContext[Any]], Iterable[Item | CollectionError]]


class Quantifier(StrEnum):
    """Whether a check's requirement must hold for every resource of its population, or for
    some resource (see model.control_status)."""

    EVERY = "every"  # universal: one failing resource fails it; partly collected is never pass
    SOME = "some"  # existential: one fully proven resource passes it, unreadable ones shown


@dataclass(frozen=True)
class ChangeEvent:
    """A CloudTrail event that changes a check's subject (its `eventSource` and `eventName`).

    A period pack reads these events for the period and rebuilds each item's state from them.
    """

    source: str  # CloudTrail eventSource, e.g. iam.amazonaws.com
    name: str  # CloudTrail eventName, the API operation, e.g. UpdateAccountPasswordPolicy


def events(service: str, *names: str) -> tuple[ChangeEvent, ...]:
    """ChangeEvents of one service: `events("iam", "CreateAccessKey")` names
    iam.amazonaws.com's CreateAccessKey."""
    return tuple(ChangeEvent(f"{service}.amazonaws.com", name) for name in names)


@dataclass(frozen=True)
class NoParams:
    """For checks without parameters."""


@dataclass(frozen=True)
class Check:
    name: str
    summary: str
    procedure: str  # the test performed, in plain words, for the auditor
    params: type[Any]
    sources: tuple[Source[Any], ...]
    evaluate: Evaluate
    notes: tuple[str, ...] = ()  # caveats the evidence must state (e.g. what IAM cannot enforce)
    # Sources needed only with some parameters (e.g. bucket tags when scoping by tag).
    optional_sources: Callable[[Any], tuple[Source[Any], ...]] | None = None
    # Rules on parameters beyond their types: returns a problem, or None when they are fine.
    validate: Callable[[Any], str | None] | None = None
    quantifier: Quantifier = Quantifier.EVERY
    # The CloudTrail events that change what the check judges: read for a period pack.
    change_events: tuple[ChangeEvent, ...] = ()

    def sources_for(self, params: Any) -> tuple[Source[Any], ...]:
        extra = self.optional_sources(params) if self.optional_sources else ()
        # The independent counts its listings are reconciled against (IPE completeness).
        counts = independent_sources((*self.sources, *extra))
        return (*self.sources, *extra, *counts)

    @property
    def scope(self) -> Scope:
        regional = any(source.scope is Scope.REGIONAL for source in self.sources)
        return Scope.REGIONAL if regional else Scope.GLOBAL

    def actions_for(self, params: Any) -> tuple[str, ...]:
        sources = [d for s in self.sources_for(params) for d in s.with_dependencies()]
        return tuple(sorted({action for source in sources for action in source.actions}))


CHECKS: dict[str, Check] = {}
MANUAL = "manual"


def check(
    name: str,
    *,
    summary: str,
    procedure: str,
    params: type[Any],
    sources: tuple[Source[Any], ...],
    notes: tuple[str, ...] = (),
    optional_sources: Callable[[Any], tuple[Source[Any], ...]] | None = None,
    validate: Callable[[Any], str | None] | None = None,
    quantifier: Quantifier = Quantifier.EVERY,
    change_events: tuple[ChangeEvent, ...] = (),
) -> Callable[[Evaluate], Evaluate]:
    def register(evaluate: Evaluate) -> Evaluate:
        if name in CHECKS:
            raise ValueError(f"check {name} registered twice")
        CHECKS[name] = Check(
            name,
            summary,
            procedure,
            params,
            sources,
            evaluate,
            notes,
            optional_sources,
            validate,
            quantifier,
            change_events,
        )
        return evaluate

    return register
