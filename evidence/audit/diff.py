"""`diff OLD NEW`: what changed between two packs, control by control, item by stable id.

Packs of different scopes or catalogues are compared on what they share: controls present in
both (by control id) and items in accounts and regions both collected. What is not shared is
said, never silently dropped. Both packs must verify first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..evaluate.results import read_results
from ..model import Status
from .gate import require_verified

_FAILING = {str(Status.FAIL)}
_EXCEPTED = str(Status.EXCEPTION)
_PASSING = str(Status.PASS)


class Change(StrEnum):
    """How one item moved between the packs (each item changes in at most one way)."""

    NEW_FAILING = "new failing"  # fails now; did not fail (or was not there) before
    RESOLVED = "resolved"  # failed or was excepted before, passes now
    ADDED = "added"  # new in the population (and not failing: that is NEW_FAILING)
    REMOVED = "removed"  # gone from the population
    EXCEPTION_ADDED = "exception added"  # now covered by an accepted-risk exception
    EXCEPTION_EXPIRED = "exception expired"  # was excepted, fails again
    OTHER = "status changed"  # any other move (e.g. pass -> error)


@dataclass(frozen=True)
class ItemChange:
    change: Change
    id: str
    account: str
    region: str
    resource: str
    old_status: str | None  # None: not in the old pack's population
    new_status: str | None  # None: not in the new pack's population
    detail: str  # the newer detail where there is one
    exception: Mapping[str, Any] | None = None  # the exception record, as results.json has it


@dataclass(frozen=True)
class ControlDiff:
    id: str
    title: str
    old_status: str
    new_status: str
    changes: tuple[ItemChange, ...]
    notes: tuple[str, ...] = ()  # what makes the comparison partial (check changed, errors)

    def of(self, change: Change) -> list[ItemChange]:
        return [c for c in self.changes if c.change is change]


@dataclass(frozen=True)
class PackSide:
    path: str
    name: str
    scope: str
    as_of: str
    controls_sha256: str


@dataclass(frozen=True)
class PackDiff:
    old: PackSide
    new: PackSide
    controls: tuple[ControlDiff, ...]
    only_old: tuple[str, ...]  # control ids only in the old pack
    only_new: tuple[str, ...]  # control ids only in the new pack (e.g. added to the catalogue)
    not_compared: tuple[str, ...] = field(default=())  # sentences: scope that is not shared

    @property
    def worse(self) -> bool:
        """Something fails now that did not: new failing items or expired exceptions."""
        return any(
            c.change in (Change.NEW_FAILING, Change.EXCEPTION_EXPIRED)
            for control in self.controls
            for c in control.changes
        )


def diff_pack_dirs(old: Path, new: Path) -> PackDiff:
    """Compare two sealed packs; each must verify (NotAPackError otherwise)."""
    return diff_documents(_verified_results(old), _verified_results(new), str(old), str(new))


def _verified_results(pack: Path) -> dict[str, Any]:
    require_verified(pack, "compare it")
    return read_results(pack)


Coverage = dict[str, set[str]]  # account -> regions collected there (accounts reached only)


def diff_documents(
    old: Mapping[str, Any], new: Mapping[str, Any], old_path: str = "", new_path: str = ""
) -> PackDiff:
    """The difference between two results.json documents (pure)."""
    old_cover, new_cover = _coverage(old), _coverage(new)
    old_controls = {c["id"]: c for c in old["controls"]}
    new_controls = {c["id"]: c for c in new["controls"]}
    compared = []
    for control_id, after in new_controls.items():
        before = old_controls.get(control_id)
        if before is not None:
            compared.append(_control_diff(before, after, old_cover, new_cover))
    return PackDiff(
        old=_side(old, old_path),
        new=_side(new, new_path),
        controls=tuple(compared),
        only_old=tuple(i for i in old_controls if i not in new_controls),
        only_new=tuple(i for i in new_controls if i not in old_controls),
        not_compared=tuple(_scope_notes(old, new, old_cover, new_cover)),
    )


def _side(document: Mapping[str, Any], path: str) -> PackSide:
    run = document["run"]
    return PackSide(path, run["pack"], run["scope"], run["as_of"], run["controls_sha256"])


def _coverage(document: Mapping[str, Any]) -> Coverage:
    return {
        a["account_id"]: set(a.get("regions", ()))
        for a in document["run"]["accounts"]
        if not a.get("access_error")
    }


def _comparable(item: Mapping[str, Any], old: Coverage, new: Coverage) -> bool:
    """Whether an item found in one pack only could have been found in the other.

    Manual items ("-") and global ones need only their account reached by both runs; a
    regional one also needs its region collected by both, or by neither (then it came from a
    listing both made, such as the S3 bucket list).
    """
    account, region = item["account"], item["region"]
    if account == "-":
        return True
    if account not in old or account not in new:
        return False
    if region in ("global", "-"):
        return True
    return (region in old[account]) == (region in new[account])


def _control_diff(
    before: Mapping[str, Any], after: Mapping[str, Any], old: Coverage, new: Coverage
) -> ControlDiff:
    old_items = {i["id"]: i for i in before["items"]}
    new_items = {i["id"]: i for i in after["items"]}
    changes = []
    for item_id, item in new_items.items():
        previous = old_items.get(item_id)
        if previous is None and not _comparable(item, old, new):
            continue
        change = _change(previous["status"] if previous else None, item["status"])
        if change is not None:
            changes.append(_item_change(change, item, previous, item))
    for item_id, item in old_items.items():
        if item_id not in new_items and _comparable(item, old, new):
            changes.append(_item_change(Change.REMOVED, item, item, None))
    notes = []
    if before["check"] != after["check"]:
        notes.append(f"check changed from {before['check']} to {after['check']}: item ids differ")
    elif before.get("params") != after.get("params"):
        notes.append("parameters changed: statuses may differ for that reason alone")
    for label, control in (("old", before), ("new", after)):
        if control["errors"]:
            notes.append(
                f"the {label} pack could not collect everything:"
                " the population comparison is partial"
            )
    return ControlDiff(
        after["id"], after["title"], before["status"], after["status"], tuple(changes), tuple(notes)
    )


def _change(old: str | None, new: str) -> Change | None:
    if old == new:
        return None
    if new in _FAILING:
        return Change.EXCEPTION_EXPIRED if old == _EXCEPTED else Change.NEW_FAILING
    if new == _EXCEPTED:
        return Change.EXCEPTION_ADDED
    if old is None:
        return Change.ADDED
    if new == _PASSING and (old in _FAILING or old == _EXCEPTED):
        return Change.RESOLVED
    return Change.OTHER


def _item_change(
    change: Change,
    item: Mapping[str, Any],
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
) -> ItemChange:
    exception = (new or {}).get("exception") or (old or {}).get("exception")
    return ItemChange(
        change=change,
        id=item["id"],
        account=item["account"],
        region=item["region"],
        resource=item["resource"],
        old_status=old["status"] if old else None,
        new_status=new["status"] if new else None,
        detail=item.get("detail", ""),
        exception=exception if isinstance(exception, Mapping) else None,
    )


def _scope_notes(
    old: Mapping[str, Any], new: Mapping[str, Any], old_cover: Coverage, new_cover: Coverage
) -> list[str]:
    notes = []
    old_run, new_run = old["run"], new["run"]
    if old_run["scope"] != new_run["scope"]:
        notes.append(
            f"scopes differ ({old_run['scope']} vs {new_run['scope']}): compared on shared accounts"
        )
    if old_run["controls_sha256"] != new_run["controls_sha256"]:
        notes.append("the control catalogues differ: controls compared by id")
    for label, mine, theirs in (("old", old_cover, new_cover), ("new", new_cover, old_cover)):
        only = sorted(set(mine) - set(theirs))
        if only:
            notes.append(f"accounts only in the {label} pack (not compared): {', '.join(only)}")
        for account in sorted(set(mine) & set(theirs)):
            regions = sorted(mine[account] - theirs[account])
            if regions:
                notes.append(
                    f"regions only in the {label} pack for {account} (not compared):"
                    f" {', '.join(regions)}"
                )
    return notes


def changes_table_rows(diff: PackDiff) -> Sequence[tuple[ControlDiff, ItemChange]]:
    """Every item change with its control, in control order."""
    return [(control, change) for control in diff.controls for change in control.changes]
