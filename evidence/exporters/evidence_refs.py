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

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def describe(self, file_name_only: bool = False) -> str:
        name = self.file_name if file_name_only else self.path
        numbers = self.numbers()
        return f"{name} {numbers}" if numbers else name


def describe(refs: Iterable[EvidenceRef], file_name_only: bool = False) -> str:
    """Every reference on one line, e.g. "raw/…/iam.credential_report.json call 3; raw/…/
    iam.credential_report.csv row 5". `file_name_only`: without raw/<account>/<region>/, for
    a table whose rows already say account and region (every reference is in the item's)."""
    return "; ".join(ref.describe(file_name_only) for ref in refs)


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
        # The failing items' references of each control located so far: the findings sheet
        # asks again for them, after every population sheet.
        self._failing: dict[str, dict[str, tuple[EvidenceRef, ...]]] = {}

    def for_control(
        self, control: Mapping[str, Any], items: Sequence[Mapping[str, Any]] | None = None
    ) -> dict[str, tuple[EvidenceRef, ...]]:
        """item_key(item) -> its references, for every item of the control (or those given)."""
        wanted = control["items"] if items is None else items
        known = self._failing.get(control["id"], {})
        if wanted and all(item_key(i) in known for i in wanted):
            return known
        refs = self._locate(control, wanted)
        failing = {item_key(i) for i in control["failing"]}
        self._failing[control["id"]] = {k: v for k, v in refs.items() if k in failing}
        return refs

    def _locate(
        self, control: Mapping[str, Any], wanted: Sequence[Mapping[str, Any]]
    ) -> dict[str, tuple[EvidenceRef, ...]]:
        files = [e["path"] for e in control["evidence"] if e["path"].startswith("raw/")]
        items = [i for i in wanted if i.get("account") and i.get("region")]
        if not files or not items:
            return {}
        found = self._search(files, items, _identifiers)
        unfound = [i for i in items if not found.get(item_key(i))]
        if unfound:
            found.update(self._search(files, unfound, _attribute_identifiers))
        scoped: dict[tuple[str, str], list[str]] = {}
        refs = {}
        for item in items:
            where = (item["account"], item["region"])
            if where not in scoped:
                scoped[where] = [p for p in files if in_scope(p, *where)]
            key = item_key(item)
            refs[key] = self._refs(scoped[where], found.get(key, {}))
        return refs

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
            for values, number in self._parts(path):
                for value in names.keys() & values:
                    for key in names[value]:
                        found.setdefault(key, {}).setdefault(path, set()).add(number)
        return found

    def _parts(self, path: str) -> Iterator[tuple[set[str], int]]:
        """A file's strings part by part, with where they are: each call's parameters and
        response with its seq for a raw JSON file, each line's cells with its number for a
        CSV."""
        if path.endswith(".csv"):
            with (self._raw.pack_dir / path).open(encoding="utf-8", newline="") as handle:
                reader = csv.reader(handle)
                for row in reader:
                    yield set(row), reader.line_num
            return
        if not path.endswith(".json"):
            return
        for call in self._raw.source(path).calls:
            yield set(_strings([call.parameters, call.response])), call.seq

    # ------------------------------------------------------------ references

    def _refs(self, scoped: Sequence[str], hits: Mapping[str, set[int]]) -> tuple[EvidenceRef, ...]:
        """An item's references from its hits in the files of its account and region."""
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


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value (a stack, not recursion: responses of 100,000 items)."""
    found: list[str] = []
    stack = [value]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is str:
            found.append(current)
        elif kind is dict:
            stack.extend(current.values())
        elif kind is list or kind is tuple:
            stack.extend(current)
    return found


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
