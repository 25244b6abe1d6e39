"""The findings of a pack, for the workbook's Findings sheet: every failing item, every item
covered by an accepted exception (with it), and everything that could not be collected (where)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .statuses import exception_text


@dataclass(frozen=True)
class Finding:
    control: Mapping[str, Any]  # the control's results.json entry
    status: str  # FAIL, EXCEPTION or ERROR
    account: str
    region: str
    resource: str
    arn: str
    detail: str
    item_id: str = ""  # empty for evidence that could not be collected: there is no item
    owner: str = ""  # from an applied exception; left for the reader to fill otherwise
    remediation: str = ""
    ticket: str = ""


def findings(controls: Sequence[Mapping[str, Any]]) -> Iterator[Finding]:
    """Per control: failing items, excepted items, items in error, then collection errors."""
    for control in controls:
        items = control["items"]
        for status in ("fail", "exception", "error"):
            for item in (i for i in items if i["status"] == status):
                yield _item_finding(control, item)
        for error in control["errors"]:
            yield Finding(
                control,
                "ERROR",
                error["account"],
                error["region"],
                error["operation"],
                "",
                f"could not be collected: {error['code']}: {error['message']}",
            )


def _item_finding(control: Mapping[str, Any], item: Mapping[str, Any]) -> Finding:
    exception = item.get("exception") or {}
    applied = exception.get("state") == "applied"
    return Finding(
        control,
        str(item["status"]).upper(),
        item["account"],
        item["region"],
        item["resource"],
        item["arn"],
        item["detail"],
        item.get("id", ""),
        owner=exception["owner"] if applied else "",
        remediation=f"Accepted risk: {exception_text(exception)}" if applied else "",
        ticket=(exception.get("ticket") or "") if applied else "",
    )
