"""What the workbook and the PDF both derive from a pack: file names, the operations each control's
evidence came from, and every recorded call."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..pack.builder import sha256_file
from ..pack.raw import RAW_DIR, RawCall, RawSource, parse_utc
from ..pack.runinfo import RUN_FILE


def export_name(document: Mapping[str, Any], suffix: str) -> str:
    """evidence_<scope>_<YYYYMMDDTHHMMSSZ>.<suffix>, stamped with the pack's as-of time."""
    run = document["run"]
    stamp = parse_utc(run["as_of"]).strftime("%Y%m%dT%H%M%SZ")
    return f"evidence_{run['scope']}_{stamp}.{suffix}"


def as_utc(text: str | None) -> datetime | None:
    return None if not text else parse_utc(text).astimezone(UTC)


@dataclass(frozen=True)
class OperationUse:
    """One API operation a control's evidence came from, with its parameters summarised."""

    service: str
    operation: str
    calls: int
    parameters: str  # constant ones as key=value; varying ones as key=<N values>
    errors: int

    @property
    def label(self) -> str:
        return f"{self.service}:{self.operation}"


class RawReader:
    """Reads raw files of one pack, each once."""

    def __init__(self, pack_dir: Path) -> None:
        self.pack_dir = pack_dir
        self._read = lru_cache(maxsize=64)(self._load)
        self._digest = lru_cache(maxsize=None)(self._sha)

    def _load(self, path: str) -> RawSource:
        with (self.pack_dir / path).open(encoding="utf-8") as handle:
            return RawSource.from_json(json.load(handle))

    def _sha(self, path: str) -> str:
        return sha256_file(self.pack_dir / path)

    def source(self, path: str) -> RawSource:
        return self._read(path)

    def sha256(self, path: str) -> str:
        return self._digest(path)

    def size(self, path: str) -> int:
        return (self.pack_dir / path).stat().st_size

    def all_files(self) -> list[str]:
        """Every file under raw/ (JSON, derived CSVs and run.json)."""
        root = self.pack_dir / RAW_DIR
        return sorted(
            p.relative_to(self.pack_dir).as_posix() for p in root.rglob("*") if p.is_file()
        )

    def raw_files(self) -> list[str]:
        root = self.pack_dir / RAW_DIR
        return sorted(
            p.relative_to(self.pack_dir).as_posix()
            for p in root.rglob("*.json")
            if p.relative_to(self.pack_dir).as_posix() != RUN_FILE
        )

    def calls(self) -> Iterator[tuple[str, RawSource, RawCall]]:
        """Every recorded call of the pack, file by file, in call order."""
        for path in self.raw_files():
            raw = self.source(path)
            for call in raw.calls:
                yield path, raw, call

    def call_count(self) -> int:
        """How many calls calls() yields (a pass over every raw file)."""
        return sum(len(self.source(path).calls) for path in self.raw_files())

    def operations(self, evidence_paths: list[str]) -> list[OperationUse]:
        grouped: dict[tuple[str, str], list[RawCall]] = {}
        for path in evidence_paths:
            # Attached files (attachments/...) may be JSON too: only raw/ files hold calls.
            if path.startswith(f"{RAW_DIR}/") and path.endswith(".json"):
                for call in self.source(path).calls:
                    grouped.setdefault((call.service, call.operation), []).append(call)
        return [
            OperationUse(
                service,
                operation,
                len(calls),
                _summarise(calls),
                sum(1 for c in calls if c.error is not None),
            )
            for (service, operation), calls in grouped.items()
        ]


def _summarise(calls: list[RawCall]) -> str:
    keys: dict[str, set[str]] = {}
    for call in calls:
        for key, value in call.parameters.items():
            keys.setdefault(key, set()).add(json.dumps(value, sort_keys=True))
    parts = []
    for key, values in keys.items():
        if len(values) == 1:
            parts.append(f"{key}={next(iter(values))}")
        else:
            parts.append(f"{key}=<{len(values)} values>")
    return ", ".join(parts) or "(no parameters)"


RESERVED_SHEETS = (
    "Summary",
    "Accounts",
    "Findings",
    "Exceptions",
    "Sources",
    "History",
    "Requests",
)


def sheet_names(control_ids: Sequence[str]) -> list[str]:
    """Unique, valid sheet names of at most 31 characters, however long the control ids are."""
    used = {name.lower() for name in RESERVED_SHEETS}
    names = []
    for control_id in control_ids:
        base = re.sub(r"[\[\]:*?/\\]", "_", control_id).strip("'") or "control"
        candidate, n = base[:31], 1
        while candidate.lower() in used:
            n += 1
            suffix = f"~{n}"
            candidate = base[: 31 - len(suffix)] + suffix
        used.add(candidate.lower())
        names.append(candidate)
    return names


def attribute_columns(items: list[Mapping[str, Any]]) -> list[str]:
    """Attribute names in order of first appearance across a population."""
    seen: dict[str, None] = {}
    for item in items:
        for key in item.get("attributes", {}):
            seen.setdefault(key, None)
    return list(seen)


def params_text(params: Mapping[str, Any]) -> str:
    """A check's effective parameters on one line; unset ones say so."""
    parts = [
        f"{k}={display(v) if v not in (None, {}, []) else '(none)'}" for k, v in params.items()
    ]
    return ", ".join(parts) or "none"


def display(value: Any) -> Any:
    """Lists and mappings as compact text; scalars as they are."""
    if isinstance(value, list | tuple):
        return ", ".join(str(display(v)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={display(v)}" for k, v in value.items())
    return value
