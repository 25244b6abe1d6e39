"""The IPE block of a control in words, for the workbook and the PDF alike (from results.json).

Listings are shown one query per parameter set (the two snapshot listings are two lines). Lookups
made once per resource (GetBucketLogging per bucket) are shown as one line per operation with the
number of queries; each of them stays in results.json (`ipe.queries`) and each call on the
workbook's Sources sheet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..evaluate.ipe import MISMATCH, NOT_PERFORMED, pack_not_collected

RESOURCES_SHOWN = 12  # excluded resources named per reason; the rest are counted


@dataclass(frozen=True)
class QueryLine:
    where: str
    operation: str  # service:Operation
    parameters: str
    pages: int
    records: str
    complete: str  # "yes", "NO", or "n of m" for lookups
    incomplete: bool

    @property
    def text(self) -> str:
        return (
            f"{self.where}: {self.operation} {self.parameters}: {self.pages} page(s),"
            f" {self.records}, ran to the end: {self.complete}"
        )


@dataclass(frozen=True)
class ReconciliationLine:
    where: str
    subject: str
    listed: str
    independent: str
    result: str  # MATCH, MISMATCH, NOT PERFORMED
    detail: str

    @property
    def flagged(self) -> bool:
        return self.result != "MATCH"

    @property
    def text(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return (
            f"{self.where}: {self.subject}: {self.result}: {self.listed} vs"
            f" {self.independent}{detail}"
        )


@dataclass(frozen=True)
class ExclusionLine:
    where: str
    reason: str
    count: int
    resources: str

    @property
    def text(self) -> str:
        return f"{self.where}: {self.count} {self.reason}: {self.resources}"


def ipe_of(control: Mapping[str, Any]) -> Mapping[str, Any] | None:
    ipe: Mapping[str, Any] | None = control.get("ipe")
    return ipe


def _where(account: str, region: str, accounts: int) -> str:
    return f"{account} {region}" if accounts > 1 else region


def _accounts(ipe: Mapping[str, Any]) -> int:
    return len({q["account"] for q in ipe["queries"]}) or 1


def query_lines(ipe: Mapping[str, Any]) -> list[QueryLine]:
    """Listings one per parameter set; per-resource lookups one per operation and place."""
    accounts = _accounts(ipe)
    lookups: dict[tuple[str, str, str, str], list[Mapping[str, Any]]] = {}
    for query in ipe["queries"]:
        key = (query["account"], query["region"], query["service"], query["operation"])
        lookups.setdefault(key, []).append(query)
    lines = []
    for (account, region, service, operation), queries in lookups.items():
        where = _where(account, region, accounts)
        label = f"{service}:{operation}"
        if len(queries) == 1 or any(q["paginated"] for q in queries):
            lines += [_listing(where, label, q) for q in queries]
        else:
            lines.append(_lookups(where, label, queries))
    return lines


def _listing(where: str, label: str, query: Mapping[str, Any]) -> QueryLine:
    complete = bool(query["complete"])
    return QueryLine(
        where,
        label,
        parameters_text(query["parameters"]),
        int(query["pages"]),
        records_text(query),
        "yes" if complete else "NO" + _errors(query["errors"]),
        not complete,
    )


def _lookups(where: str, label: str, queries: Sequence[Mapping[str, Any]]) -> QueryLine:
    constant: dict[str, str] = {}
    varying: dict[str, set[str]] = {}
    for query in queries:
        for key, value in query["parameters"].items():
            varying.setdefault(key, set()).add(json.dumps(value, sort_keys=True))
    for key, values in list(varying.items()):
        if len(values) == 1:
            constant[key] = next(iter(values))
            del varying[key]
    parts = [f"{k}={v}" for k, v in constant.items()]
    parts += [f"{k}: {len(v)} values" for k, v in varying.items()]
    done = sum(1 for q in queries if q["complete"])
    errors = [code for q in queries for code in q["errors"]]
    return QueryLine(
        where,
        label,
        f"{', '.join(parts)} (one query per resource, {len(queries)} queries)",
        sum(int(q["pages"]) for q in queries),
        f"{done} answered",
        f"{done} of {len(queries)}" + _errors(errors),
        done < len(queries),
    )


def _errors(codes: Sequence[str]) -> str:
    if not codes:
        return ""
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    return " (" + ", ".join(f"{c} x{n}" if n > 1 else c for c, n in counts.items()) + ")"


def parameters_text(parameters: Mapping[str, Any]) -> str:
    return (
        ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in parameters.items())
        or "(no parameters)"
    )


def records_text(query: Mapping[str, Any]) -> str:
    records: Mapping[str, int] = query["records"]
    if not records:
        if query["items"]:
            return "1 answer"
        # A 404 is an answer: the thing asked about is not configured.
        return f"answered {query['errors'][-1]}" if query["complete"] else "no answer"
    if len(records) == 1:
        ((key, count),) = records.items()
        return f"{count} {key}"
    detail = ", ".join(f"{k} {v}" for k, v in records.items())
    return f"{query['items']} records ({detail})"


def reconciliation_lines(ipe: Mapping[str, Any]) -> list[ReconciliationLine]:
    accounts = _accounts(ipe)
    lines = []
    for r in ipe["reconciliations"]:
        result = r["result"]
        listed, independent = r["listed"], r["independent"]
        lines.append(
            ReconciliationLine(
                _where(r["account"], r["region"], accounts),
                r["subject"],
                _count(listed),
                _count(independent),
                "MISMATCH"
                if result == MISMATCH
                else "NOT PERFORMED"
                if result == NOT_PERFORMED
                else "MATCH",
                r["detail"],
            )
        )
    return lines


def _count(side: Mapping[str, Any]) -> str:
    count = side["count"]
    return f"{'?' if count is None else count} {side['source']}"


def exclusion_lines(ipe: Mapping[str, Any], shown: int = RESOURCES_SHOWN) -> list[ExclusionLine]:
    accounts = _accounts(ipe)
    lines = []
    for group in ipe["exclusions"]:
        resources: list[str] = group["resources"]
        named = ", ".join(resources[:shown])
        if len(resources) > shown:
            named += f" and {len(resources) - shown} more (results.json lists every one)"
        lines.append(
            ExclusionLine(
                _where(group["account"], group["region"], accounts),
                group["reason"],
                int(group["count"]),
                named,
            )
        )
    return lines


def region_lines(ipe: Mapping[str, Any]) -> list[str]:
    regions = ipe["regions"]
    if regions["scope"] != "regional":
        return ["collected once per account (a global service): regions do not apply"]
    lines = []
    for account in regions["accounts"]:
        collected = ", ".join(account["collected"]) or "none"
        if account["enabled"] is None:
            lines.append(
                f"{account['account']}: collected in {collected}; enabled regions"
                f" {account['enabled_source']}"
            )
            continue
        missing = account["not_collected"]
        gap = f"; NOT COLLECTED IN: {', '.join(missing)}" if missing else "; every one collected"
        enabled = f"{len(account['enabled'])} enabled ({account['enabled_source']})"
        lines.append(f"{account['account']}: {enabled}; collected in {collected}{gap}")
    return lines


def not_collected_text(not_collected: Mapping[str, Sequence[str]]) -> str:
    """`account: region, region (n)` per account, or "" when nothing is missing."""
    return "; ".join(
        f"{account}: {', '.join(regions)} ({len(regions)})"
        for account, regions in not_collected.items()
        if regions
    )


def pack_regions_notice(controls: Sequence[Mapping[str, Any]]) -> str:
    """The whole pack's gap, for the cover and the Summary: "" when every enabled region of
    every account was collected (or no control is regional)."""
    gap = not_collected_text(pack_not_collected(controls))
    if not gap:
        return ""
    return (
        "Not collected in these enabled regions, so regional controls say nothing about them: "
        + gap
    )
