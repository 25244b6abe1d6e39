"""The data model every stage shares: statuses, evaluated items, errors and control results."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

GLOBAL_REGION = "global"
ROOT_USER = "<root_account>"
MANUAL_CHECK = "manual"  # the `check:` of procedural controls


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    MANUAL = "manual"
    EXCEPTION = "exception"


@dataclass(frozen=True)
class CollectionError:
    """Something that could not be collected: never a pass."""

    account: str
    region: str
    operation: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "account": self.account,
            "region": self.region,
            "operation": self.operation,
            "code": self.code,
            "message": self.message,
        }


def item_id(check: str, account: str, region: str, resource: str, key: str = "") -> str:
    """The stable id of a population item: the same resource has the same id in every pack.

    16 hex digits of SHA-256 over the check name, account, region, the natural AWS identifier
    and, where one resource yields several items (an IAM user's two access keys), a key naming
    which. Control ids are left out on purpose: renaming a control keeps its items' ids.
    """
    text = "\x1f".join((check, account, region, resource, key))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class AcceptedRisk:
    """An exception (accepted risk) as written under a control's `exceptions` in controls.yaml.

    `resource` is a glob (fnmatch, case-sensitive) over an item's resource, ARN or stable id;
    `account` and `region`, when given, are globs too. `approved_on` and `expires` are dates
    (UTC); the exception covers findings up to the end of its `expires` day. `line` is where it
    starts in controls.yaml.
    """

    resource: str
    reason: str
    owner: str
    approved_by: str
    approved_on: date
    expires: date
    account: str | None = None
    region: str | None = None
    ticket: str | None = None
    line: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "account": self.account,
            "region": self.region,
            "reason": self.reason,
            "owner": self.owner,
            "approved_by": self.approved_by,
            "approved_on": self.approved_on.isoformat(),
            "expires": self.expires.isoformat(),
            "ticket": self.ticket,
            "line": self.line,
        }


class ExceptionState(StrEnum):
    """What an accepted risk does at a pack's as-of time."""

    APPLIED = "applied"  # unexpired and covering at least one failing item
    EXPIRED = "expired"  # past its expiry: the items it matches fail again
    NOT_YET_APPROVED = "not_yet_approved"  # approved after the as-of date: it covers nothing
    STALE = "stale"  # matches no failing item: the finding is gone or the pattern is wrong


@dataclass(frozen=True)
class ItemException:
    """The accepted risk shown beside an item it matches, and whether it applied."""

    risk: AcceptedRisk
    state: ExceptionState

    def to_json(self) -> dict[str, Any]:
        return {**self.risk.to_json(), "state": str(self.state)}


@dataclass(frozen=True)
class Item:
    """One evaluated resource of a control's population.

    `id` is stable across packs (see item_id); `resource` is the natural AWS identifier.
    `exception` is the accepted risk that matched this failing item (applied: the item's status
    is `exception`; expired: it stays `fail`).
    """

    account: str
    region: str
    resource: str
    arn: str
    status: Status
    detail: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""
    exception: ItemException | None = None

    def to_json(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "account": self.account,
            "region": self.region,
            "resource": self.resource,
            "arn": self.arn,
            "status": str(self.status),
            "detail": self.detail,
            "attributes": dict(self.attributes),
        }
        if self.exception is not None:
            data["exception"] = self.exception.to_json()
        return data


@dataclass(frozen=True)
class EvidenceFile:
    path: str  # relative to the pack root, e.g. raw/123456789012/global/iam.credential_report.json
    sha256: str
    collected: str | None = None  # "<first call> to <last call>", UTC
    source_time: str | None = None  # the source's own timestamp, e.g. "GeneratedTime 2026-..."

    def to_json(self) -> dict[str, str | None]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "collected": self.collected,
            "source_time": self.source_time,
        }


def with_period(status: Status, period: Status | None) -> Status:
    """A control's status for a period pack: failing in the period fails it even if it passes
    at the as-of time; what the period's events cannot show is an error, never a pass; a
    deviation covered by an accepted exception makes a control passing at the as-of time
    `exception`, never `pass`."""
    if period is Status.FAIL:
        return Status.FAIL
    if period is Status.ERROR and status is not Status.FAIL:
        return Status.ERROR
    if period is Status.EXCEPTION and status is Status.PASS:
        return Status.EXCEPTION
    return status


def control_status(
    items: Iterable[Item],
    errors: Iterable[CollectionError],
    manual: bool,
    existential: bool = False,
) -> Status:
    """A control fails if any item fails; else is in error if anything could not be collected.

    Partly collected is never `pass`. An existential control (its requirement holds when *some*
    resource meets it, e.g. "a multi-region trail is logging") passes on one fully proven
    passing item, whatever else failed or could not be read; without one it is `error` if
    anything could not be read (the unread resource might have been the one), else `fail`.
    """
    statuses = {item.status for item in items}
    has_errors = Status.ERROR in statuses or any(True for _ in errors)
    if existential:
        if Status.PASS in statuses:
            return Status.PASS
        if has_errors:
            return Status.ERROR
        return Status.EXCEPTION if Status.EXCEPTION in statuses else Status.FAIL
    if Status.FAIL in statuses:
        return Status.FAIL
    if has_errors:
        return Status.ERROR
    if manual:
        return Status.MANUAL
    if Status.EXCEPTION in statuses:
        return Status.EXCEPTION
    return Status.PASS


class JsonBlock(Protocol):
    """A block of a control's results.json entry built by a later stage (the IPE block)."""

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ExceptionOutcome:
    """One accepted risk of a control as evaluated at the pack's as-of time: the register row.

    `days_left` counts from the as-of date to the expiry date (negative once expired);
    `matched` are the ids of the failing items it matches, whether or not it applied.
    """

    risk: AcceptedRisk
    state: ExceptionState
    days_left: int
    matched: tuple[str, ...]
    warning: str | None = None  # e.g. an expiry more than a year after approval

    def to_json(self) -> dict[str, Any]:
        return {
            **self.risk.to_json(),
            "state": str(self.state),
            "days_left": self.days_left,
            "matched_items": list(self.matched),
            "warning": self.warning,
        }


@dataclass(frozen=True)
class Attachment:
    """A file attached to a control in controls.yaml, as copied into the pack."""

    file: str  # as written in controls.yaml
    path: str  # where it is in the pack (attachments/<control id>/...)
    sha256: str

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "path": self.path, "sha256": self.sha256}


@dataclass(frozen=True)
class ControlResult:
    id: str
    title: str
    description: str
    check: str
    criteria: tuple[str, ...]
    references: Mapping[str, tuple[str, ...]]
    params: Mapping[str, Any]
    procedure: str
    status: Status
    items: tuple[Item, ...]
    errors: tuple[CollectionError, ...]
    evidence: tuple[EvidenceFile, ...]
    notes: tuple[str, ...] = ()
    quantifier: str = "every"  # "some": existential (see control_status)
    # Completeness of the population as an auditor tests IPE (evaluate/ipe.py); None: manual.
    ipe: JsonBlock | None = None
    attachments: tuple[Attachment, ...] = ()
    exceptions: tuple[ExceptionOutcome, ...] = ()
    # With a period: in effect since, changes and deviations per item (evaluate/period.py).
    period: Mapping[str, Any] | None = None

    @property
    def failing(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.status == Status.FAIL)

    @property
    def incomplete(self) -> bool:
        """Failing, and something could not be collected: the failures may not be all."""
        return self.status == Status.FAIL and (
            bool(self.errors) or any(i.status == Status.ERROR for i in self.items)
        )

    @property
    def evidence_missing(self) -> bool:
        """A procedural control with no attached file in the pack: nothing evidences it."""
        return self.check == MANUAL_CHECK and not self.attachments

    @property
    def population(self) -> int:
        return len(self.items)

    def to_json(self) -> dict[str, Any]:
        items = [item.to_json() for item in self.items]
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "check": self.check,
            "criteria": list(self.criteria),
            "references": {k: list(v) for k, v in self.references.items()},
            "params": dict(self.params),
            "procedure": self.procedure,
            "status": str(self.status),
            "incomplete": self.incomplete,
            "evidence_missing": self.evidence_missing,
            "population": self.population,
            "items": items,
            # The same entries as in items (written out twice, held once).
            "failing": [
                e for i, e in zip(self.items, items, strict=True) if i.status == Status.FAIL
            ],
            "errors": [error.to_json() for error in self.errors],
            "evidence": [f.to_json() for f in self.evidence],
            "attachments": [a.to_json() for a in self.attachments],
            "exceptions": [e.to_json() for e in self.exceptions],
            "notes": list(self.notes),
            "quantifier": self.quantifier,
            "ipe": None if self.ipe is None else self.ipe.to_json(),
            "period": self.period,
        }


def account_statuses(control: Mapping[str, Any], account: str) -> Status:
    """A control's status within one account, from its results.json entry."""
    items = [i for i in control["items"] if i["account"] == account]
    errors = [e for e in control["errors"] if e["account"] == account]
    statuses = {Status(i["status"]) for i in items}
    has_errors = bool(errors) or Status.ERROR in statuses
    if control.get("quantifier") == "some":
        if Status.PASS in statuses:
            return Status.PASS
        if has_errors:
            return Status.ERROR
        return Status.EXCEPTION if Status.EXCEPTION in statuses else Status.FAIL
    if Status.FAIL in statuses:
        return Status.FAIL
    if has_errors:
        return Status.ERROR
    if control["check"] == MANUAL_CHECK:
        return Status.MANUAL
    if Status.EXCEPTION in statuses:
        return Status.EXCEPTION
    return Status.PASS
