"""Sample sizes by how often a control operates: a documented default the auditor can replace.

Audit firms each keep their own table; the default below is the common one (README, "During an
audit"). `--table FILE` (YAML, same shape) replaces the entries it gives and keeps the others:

    annual: 1
    quarterly: 2
    monthly: 2
    weekly: 5
    daily: 25
    per-event:            # by population size: the first row whose up_to >= the population
      - {up_to: 1, size: 1}
      - {up_to: 4, size: 2}
      - {up_to: 12, size: 2}
      - {up_to: 52, size: 5}
      - {up_to: 365, size: 25}
      - {size: 40}        # any larger population

A sample is never larger than its population: a smaller population is tested whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog.located_yaml import YamlNode, load_located_yaml
from ..errors import ConfigError

FREQUENCIES = ("annual", "quarterly", "monthly", "weekly", "daily", "per-event")
PER_EVENT = "per-event"


@dataclass(frozen=True)
class PerEventRow:
    """Populations of at most `up_to` items (None: any size) get `size` samples."""

    up_to: int | None
    size: int


@dataclass(frozen=True)
class SampleSizeTable:
    """Sample size per control frequency, and by population size for per-event controls."""

    sizes: Mapping[str, int]
    per_event: tuple[PerEventRow, ...]
    source: str = "default"  # "default", or the file that replaced entries

    def size_for(self, frequency: str, population: int) -> int:
        """The sample size for a control of this frequency over a population of this size,
        capped at the population. Raises KeyError for an unknown frequency."""
        if frequency == PER_EVENT:
            wanted = next(
                r.size for r in self.per_event if r.up_to is None or population <= r.up_to
            )
        else:
            wanted = self.sizes[frequency]
        return min(wanted, population)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.sizes,
            PER_EVENT: [
                {"up_to": r.up_to, "size": r.size} if r.up_to is not None else {"size": r.size}
                for r in self.per_event
            ],
            "source": self.source,
        }


DEFAULT_TABLE = SampleSizeTable(
    sizes={"annual": 1, "quarterly": 2, "monthly": 2, "weekly": 5, "daily": 25},
    per_event=(
        PerEventRow(1, 1),
        PerEventRow(4, 2),
        PerEventRow(12, 2),
        PerEventRow(52, 5),
        PerEventRow(365, 25),
        PerEventRow(None, 40),
    ),
)


@dataclass(frozen=True)
class _Reader:
    file: str

    def count(self, node: YamlNode, path: str) -> int:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(
                self.file, node.line, path, f"expected a whole number >= 1, got {value!r}"
            )
        return value

    def per_event(self, node: YamlNode) -> tuple[PerEventRow, ...]:
        if not isinstance(node.value, list) or not node.value:
            raise ConfigError(self.file, node.line, PER_EVENT, "expected a list of {up_to, size}")
        rows: list[PerEventRow] = []
        for index, child in enumerate(node.value):
            path = f"{PER_EVENT}[{index}]"
            if not isinstance(child.value, dict):
                raise ConfigError(self.file, child.line, path, "expected {up_to: N, size: N}")
            fields: dict[str, YamlNode] = child.value
            for key in fields:
                if key not in ("up_to", "size"):
                    raise ConfigError(
                        self.file,
                        child.key_lines[key],
                        f"{path}.{key}",
                        "unknown key (up_to, size)",
                    )
            if "size" not in fields:
                raise ConfigError(self.file, child.line, f"{path}.size", "missing")
            up_to = self.count(fields["up_to"], f"{path}.up_to") if "up_to" in fields else None
            if rows and (rows[-1].up_to is None or (up_to is not None and up_to <= rows[-1].up_to)):
                raise ConfigError(
                    self.file,
                    child.line,
                    path,
                    "rows must grow in up_to; only the last may omit it",
                )
            rows.append(PerEventRow(up_to, self.count(fields["size"], f"{path}.size")))
        if rows[-1].up_to is not None:
            rows.append(DEFAULT_TABLE.per_event[-1])  # larger populations: the default's last row
        return tuple(rows)


def load_table(path: Path) -> SampleSizeTable:
    """The default table with the entries of the YAML file at `path` replacing its own.

    Raises ConfigError naming file, line and field for an unknown frequency or a bad number.
    """
    name = str(path)
    root = load_located_yaml(path, name)
    if not isinstance(root.value, dict):
        raise ConfigError(name, root.line, "", "expected a mapping of frequency to sample size")
    reader = _Reader(name)
    sizes = dict(DEFAULT_TABLE.sizes)
    per_event = DEFAULT_TABLE.per_event
    for key, node in root.value.items():
        if key == PER_EVENT:
            per_event = reader.per_event(node)
        elif key in FREQUENCIES:
            sizes[key] = reader.count(node, key)
        else:
            raise ConfigError(
                name,
                root.key_lines[key],
                key,
                f"unknown frequency (known: {', '.join(FREQUENCIES)})",
            )
    return SampleSizeTable(sizes, per_event, source=name)
