"""The IPE block of a control: how complete its population is, as an auditor tests information
produced by the entity (PCAOB AS 1105.10; AICPA guidance on system-generated reports).

For each control, from the raw files it read and nothing else:
- every query exactly as made (queries.py): operation, parameter set, pages, records returned,
  whether pagination ran to the end;
- reconciliations of its listings against an independent count wherever AWS offers one
  (sources/counts.py), with the result: a mismatch is shown, never hidden;
- what the check left out of its population and why (ScopeContext.exclude), with counts;
- for a regional control, the account's enabled regions against the regions collected: a
  region enabled but not collected is named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ..checks import Check, NotCollected
from ..checks.base import Exclusion
from ..model import GLOBAL_REGION
from ..pack.raw import RawSource
from ..pack.runinfo import AccountRun
from ..sources.account import ENABLED_REGIONS
from ..sources.base import Scope, Source
from ..sources.counts import Evidence, Reconciliation, reconciliations_for
from .queries import Query

T = TypeVar("T")

MATCH, MISMATCH, NOT_PERFORMED = "match", "mismatch", "not performed"
ENABLED_REGIONS_QUERY = "ec2:DescribeRegions (opt-in-status: opt-in-not-required, opted-in)"


class IpeLookup(Protocol):
    """What the IPE block reads: the control's own lookup, so whatever it reads is listed
    among the control's evidence files."""

    def get(self, source: Source[T], account: str, region: str) -> T: ...

    def raw(self, source: Source[Any], account: str, region: str) -> RawSource | None: ...

    def use(self, source: Source[Any], account: str, region: str) -> None: ...

    def used_queries(self) -> list[Query]: ...


@dataclass(frozen=True)
class ReconciliationResult:
    account: str
    region: str
    subject: str
    listed_label: str
    listed: int | None
    independent_label: str
    independent: int | None
    result: str  # match, mismatch, or not performed
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "subject": self.subject,
            "listed": {"count": self.listed, "source": self.listed_label},
            "independent": {"count": self.independent, "source": self.independent_label},
            "result": self.result,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ExclusionGroup:
    """Records left out of the population for one reason, in one account and region."""

    account: str
    region: str
    reason: str
    resources: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "reason": self.reason,
            "count": len(self.resources),
            "resources": list(self.resources),
        }


@dataclass(frozen=True)
class RegionCoverage:
    """One account's enabled regions against the regions collected."""

    account: str
    enabled: tuple[str, ...] | None  # None when they could not be listed
    enabled_source: str  # the query that listed them, or why they are not known
    collected: tuple[str, ...]

    @property
    def not_collected(self) -> tuple[str, ...]:
        if self.enabled is None:
            return ()
        return tuple(sorted(set(self.enabled) - set(self.collected)))

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "enabled": None if self.enabled is None else list(self.enabled),
            "enabled_source": self.enabled_source,
            "collected": list(self.collected),
            "not_collected": list(self.not_collected),
        }


@dataclass(frozen=True)
class Ipe:
    scope: Scope
    queries: tuple[Query, ...]
    reconciliations: tuple[ReconciliationResult, ...]
    exclusions: tuple[ExclusionGroup, ...]
    regions: tuple[RegionCoverage, ...]  # empty for a control collected once per account

    @property
    def not_collected(self) -> dict[str, list[str]]:
        """Account -> enabled regions this (regional) control was not collected in."""
        return {r.account: list(r.not_collected) for r in self.regions if r.not_collected}

    def to_json(self) -> dict[str, Any]:
        return {
            "queries": [q.to_json() for q in self.queries],
            "reconciliations": [r.to_json() for r in self.reconciliations],
            "exclusions": [e.to_json() for e in self.exclusions],
            "regions": {
                "scope": str(self.scope),
                "accounts": [r.to_json() for r in self.regions],
                "not_collected": self.not_collected,
            },
        }


def build_ipe(
    check: Check,
    params: Any,
    accounts: Sequence[AccountRun],
    lookup: IpeLookup,
    exclusions: Sequence[Exclusion],
) -> Ipe:
    """The control's IPE block. Reads (through `lookup`) the independent counts and enabled
    regions it needs, then lists the queries of every raw file the control read."""
    reachable = [a for a in accounts if a.access_error is None]
    reconciliations = tuple(
        result
        for reconciliation in reconciliations_for(check.sources_for(params))
        for account in reachable
        for result in _reconcile(reconciliation, account, lookup)
    )
    regions = (
        tuple(_coverage(account, lookup) for account in reachable)
        if check.scope is Scope.REGIONAL
        else ()
    )
    # Every file the control needs, read or not: a check that stopped at a failed source still
    # shows the listing it had and the query that failed.
    for account in reachable:
        for source in check.sources_for(params):
            for region in _regions_of(source, account):
                lookup.use(source, account.account_id, region)
    return Ipe(
        scope=check.scope,
        queries=tuple(lookup.used_queries()),
        reconciliations=reconciliations,
        exclusions=group_exclusions(exclusions),
        regions=regions,
    )


def group_exclusions(exclusions: Sequence[Exclusion]) -> tuple[ExclusionGroup, ...]:
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for exclusion in exclusions:
        key = (exclusion.account, exclusion.region, exclusion.reason)
        grouped.setdefault(key, []).append(exclusion.resource)
    return tuple(
        ExclusionGroup(account, region, reason, tuple(resources))
        for (account, region, reason), resources in grouped.items()
    )


def _regions_of(source: Source[Any], account: AccountRun) -> tuple[str, ...]:
    return (GLOBAL_REGION,) if source.scope is Scope.GLOBAL else account.regions


def _reconcile(
    reconciliation: Reconciliation, account: AccountRun, lookup: IpeLookup
) -> list[ReconciliationResult]:
    return [
        result
        for region in _regions_of(reconciliation.listed, account)
        if (result := _reconcile_in(reconciliation, account.account_id, region, lookup))
    ]


def _reconcile_in(
    reconciliation: Reconciliation, account: str, region: str, lookup: IpeLookup
) -> ReconciliationResult | None:
    def result(
        listed: int | None, independent: int | None, outcome: str, detail: str
    ) -> ReconciliationResult:
        return ReconciliationResult(
            account,
            region,
            reconciliation.subject,
            reconciliation.listed_label,
            listed,
            reconciliation.independent_label,
            independent,
            outcome,
            detail,
        )

    try:
        listed = _evidence(reconciliation.listed, account, region, lookup)
    except NotCollected:
        return None  # the listing itself is missing: the control's errors already say so
    independent_scope = reconciliation.independent.scope
    where = GLOBAL_REGION if independent_scope is Scope.GLOBAL else region
    try:
        independent = _evidence(reconciliation.independent, account, where, lookup)
        counted = reconciliation.count(listed, independent)
    except NotCollected as exc:
        error = exc.error
        return result(
            None, None, NOT_PERFORMED, f"{error.operation}: {error.code}: {error.message}"
        )
    except (ValueError, KeyError, TypeError) as exc:
        return result(None, None, NOT_PERFORMED, f"the independent count is unreadable: {exc}")
    same = counted.listed == counted.independent
    return result(counted.listed, counted.independent, MATCH if same else MISMATCH, counted.detail)


def _evidence(source: Source[T], account: str, region: str, lookup: IpeLookup) -> Evidence[T]:
    parsed = lookup.get(source, account, region)  # raises NotCollected
    raw = lookup.raw(source, account, region)
    assert raw is not None, "parsed evidence always has its raw file"
    return Evidence(parsed, raw)


def _coverage(account: AccountRun, lookup: IpeLookup) -> RegionCoverage:
    collected = account.regions
    if account.regions_error is not None:
        problem = account.regions_error
        why = f"not known: {problem.operation}: {problem.code}: {problem.message}"
        return RegionCoverage(account.account_id, None, why, collected)
    try:
        enabled = lookup.get(ENABLED_REGIONS, account.account_id, GLOBAL_REGION)
    except NotCollected as exc:
        error = exc.error
        why = f"not known: {error.operation}: {error.code}: {error.message}"
        return RegionCoverage(account.account_id, None, why, collected)
    return RegionCoverage(account.account_id, tuple(enabled), ENABLED_REGIONS_QUERY, collected)


def pack_not_collected(controls: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Account -> enabled regions some regional control of the pack was not collected in, from
    results.json's control entries (for the PDF cover and the workbook's Summary)."""
    found: dict[str, set[str]] = {}
    for control in controls:
        regions = (control.get("ipe") or {}).get("regions") or {}
        for account, missing in (regions.get("not_collected") or {}).items():
            found.setdefault(account, set()).update(missing)
    return {account: sorted(regions) for account, regions in sorted(found.items())}
