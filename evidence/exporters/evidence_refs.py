"""Where each item's evidence is: the raw file, the numbers of the calls whose parameters or
response name the item, and for a report AWS delivers as a file (the IAM credential report) the
row of the derived CSV.

One mechanism for every check, derived from raw/ at export time: an item is found in its
control's raw files of the same account and region by its identifiers (ARN, then resource;
failing those, the identifiers among its attributes), matched against whole string values of
the recorded calls and whole cells of the derived CSV files. An item found nowhere points to the
single call of a one-call file (a setting read once, such as the password policy) or else to the
files themselves.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .common import RawReader

MAX_NUMBERS = 4  # call or row numbers named per file; more are "…"
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")


@dataclass(frozen=True)
class EvidenceRef:
    """One raw file an item's evidence is in: `calls` are call sequence numbers (`seq` in the
    file, the Sources sheet's "Call #"), `rows` line numbers of a CSV (line 1 is its header).
    Both empty: the item is in the file but no single call names it."""

    path: str
    calls: tuple[int, ...] = ()
    rows: tuple[int, ...] = ()
    more: bool = False  # further calls or rows name the item too

    def numbers(self) -> str:
        """ "call 3, 7", "row 5" or "" (the file as a whole)."""
        shown = self.rows or self.calls
        if not shown:
            return ""
        word = "row" if self.rows else "call"
        return f"{word} {', '.join(map(str, shown))}{', …' if self.more else ''}"

    def describe(self) -> str:
        numbers = self.numbers()
        return f"{self.path} {numbers}" if numbers else self.path


def describe(refs: Iterable[EvidenceRef]) -> str:
    """Every reference on one line, e.g. "raw/…/iam.credential_report.json call 3; raw/…/
    iam.credential_report.csv row 5"."""
    return "; ".join(ref.describe() for ref in refs)


def item_key(item: Mapping[str, Any]) -> str:
    """An item's key in a control's references: its stable id (older packs: account, region,
    resource)."""
    return str(item.get("id") or "\x1f".join((item["account"], item["region"], item["resource"])))


def in_scope(path: str, account: str, region: str) -> bool:
    """raw/<account>/<region>/...: a file collected for the item's account and region."""
    parts = path.split("/")
    return len(parts) > 3 and parts[0] == "raw" and parts[1] == account and parts[2] == region


class EvidenceLocator:
    """Finds the evidence of every item of a control in the pack's raw files (read once each
    through the shared RawReader)."""

    def __init__(self, raw: RawReader) -> None:
        self._raw = raw

    def for_control(self, control: Mapping[str, Any]) -> dict[str, tuple[EvidenceRef, ...]]:
        """item_key(item) -> its references, for every item of the control."""
        files = [e["path"] for e in control["evidence"] if e["path"].startswith("raw/")]
        items = [i for i in control["items"] if i.get("account") and i.get("region")]
        if not files or not items:
            return {}
        found = self._search(files, items, _identifiers)
        unfound = [i for i in items if not found.get(item_key(i))]
        if unfound:
            found.update(self._search(files, unfound, _attribute_identifiers))
        return {item_key(i): self._refs(files, i, found.get(item_key(i), {})) for i in items}

    # ------------------------------------------------------------ search

    def _search(
        self,
        files: Sequence[str],
        items: Sequence[Mapping[str, Any]],
        identifiers: Any,
    ) -> dict[str, dict[str, set[int]]]:
        """item key -> file -> call (JSON) or line (CSV) numbers naming one of its identifiers."""
        wanted: dict[tuple[str, str], dict[str, list[str]]] = {}
        for item in items:
            scope = wanted.setdefault((item["account"], item["region"]), {})
            for value in identifiers(item):
                scope.setdefault(value, []).append(item_key(item))
        found: dict[str, dict[str, set[int]]] = {}
        for path in files:
            parts = path.split("/")
            names = wanted.get((parts[1], parts[2])) if len(parts) > 3 else None
            if not names:
                continue
            for value, number in self._values(path):
                for key in names.get(value, ()):
                    found.setdefault(key, {}).setdefault(path, set()).add(number)
        return found

    def _values(self, path: str) -> Iterator[tuple[str, int]]:
        """Every string of a file with where it is: (value, call seq) for a raw JSON file's
        parameters and responses, (cell, line number) for a CSV."""
        if path.endswith(".csv"):
            with (self._raw.pack_dir / path).open(encoding="utf-8", newline="") as handle:
                reader = csv.reader(handle)
                for row in reader:
                    for cell in row:
                        yield cell, reader.line_num
            return
        if not path.endswith(".json"):
            return
        for call in self._raw.source(path).calls:
            for value in _strings(call.parameters):
                yield value, call.seq
            for value in _strings(call.response):
                yield value, call.seq

    # ------------------------------------------------------------ references

    def _refs(
        self, files: Sequence[str], item: Mapping[str, Any], hits: Mapping[str, set[int]]
    ) -> tuple[EvidenceRef, ...]:
        scoped = [p for p in files if in_scope(p, item["account"], item["region"])]
        refs: list[EvidenceRef] = []
        for path in scoped:
            if path in hits:
                numbers = sorted(hits[path])
                shown, more = tuple(numbers[:MAX_NUMBERS]), len(numbers) > MAX_NUMBERS
                if path.endswith(".csv"):
                    refs.extend(self._producer(scoped, path))
                    refs.append(EvidenceRef(path, rows=shown, more=more))
                else:
                    refs.append(EvidenceRef(path, calls=shown, more=more))
        if refs:
            return tuple(dict.fromkeys(refs))  # a producing call named twice: once
        for path in scoped:  # nothing names the item: a setting read by one call
            if path.endswith(".json"):
                calls = self._raw.source(path).calls
                if len(calls) == 1:
                    refs.append(EvidenceRef(path, calls=(calls[0].seq,)))
        return tuple(refs) or tuple(EvidenceRef(p) for p in scoped if p.endswith(".json"))

    def _producer(self, scoped: Sequence[str], derived: str) -> list[EvidenceRef]:
        """The call whose answer a derived file (CSV) was decoded from: the last successful call
        carrying bytes in the raw file that lists the derived file."""
        for path in scoped:
            if not path.endswith(".json"):
                continue
            source = self._raw.source(path)
            if derived not in source.extra_files:
                continue
            calls = [
                c.seq
                for c in source.calls
                if c.error is None and any(True for _ in _bytes_values(c.response))
            ]
            return [EvidenceRef(path, calls=(calls[-1],))] if calls else [EvidenceRef(path)]
        return []


def _identifiers(item: Mapping[str, Any]) -> list[str]:
    return [v for v in (item.get("arn"), item.get("resource")) if isinstance(v, str) and len(v) > 2]


def _attribute_identifiers(item: Mapping[str, Any]) -> list[str]:
    """Attribute values that look like identifiers (no spaces, not a time): names of the metric
    filters and alarms behind a CloudWatch alarm item, a Trusted Advisor check id."""
    return [
        v
        for v in _strings(item.get("attributes", {}))
        if len(v) > 2 and not any(c.isspace() for c in v) and not _TIME.match(v)
    ]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def _bytes_values(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        if "$base64" in value:
            yield value
            return
        for inner in value.values():
            yield from _bytes_values(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _bytes_values(inner)
