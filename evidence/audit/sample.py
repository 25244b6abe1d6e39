"""`sample PACK --control ID (--size N | --frequency F) --seed S`: a reproducible sample.

The selection is a pure function of the population's item ids, the seed and the size: each item
gets the key SHA-256("<seed>:<item id>") and the items with the smallest keys are the sample. The
same pack, control, size and seed give the same sample on any machine, whatever the order of the
population; a larger size extends a smaller one; anyone can recompute a key with `sha256sum`.

Any list of objects with a stable `id` is a population: a control's `items` (the default), or any
other list in the control's results.json entry (`--population`, e.g. an event population of the
audit period), so the same command serves every population a pack holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..evaluate.results import read_results
from ..pack.builder import MANIFEST, sha256_file
from .gate import require_verified
from .sample_sizes import SampleSizeTable

DEFAULT_POPULATION = "items"
METHOD = (
    "Each item of the population gets the key SHA-256 of the UTF-8 text '<seed>:<item id>' (64"
    " hex digits, e.g. printf '%s' '<seed>:<item id>' | sha256sum); items are sorted by key"
    " (then by id) and the first <size> are the sample. The result depends only on the seed, the"
    " item ids and the size: not on the machine, the order of the population or the time."
)


def selection_key(seed: str, item_id: str) -> str:
    """The item's place in the seeded order: SHA-256 hex of '<seed>:<item id>'."""
    return hashlib.sha256(f"{seed}:{item_id}".encode()).hexdigest()


@dataclass(frozen=True)
class Selected:
    """One sampled item: its rank in the sample (1-based), its key, and the item as in the pack."""

    rank: int
    key: str
    item: Mapping[str, Any]


def draw(population: Sequence[Mapping[str, Any]], size: int, seed: str) -> list[Selected]:
    """The `size` items of `population` with the smallest selection keys, in key order.

    `population` is any list of mappings with a text `id`. Raises UsageError when the size is
    not positive or an item has no id; a size beyond the population takes it whole.
    """
    if size < 1:
        raise UsageError(f"sample size must be at least 1, got {size}")
    keyed = []
    for position, item in enumerate(population):
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise UsageError(f"population item {position} has no id: it cannot be sampled")
        keyed.append((selection_key(seed, item_id), item_id, position))
    keyed.sort()
    return [
        Selected(rank, key, population[position])
        for rank, (key, _, position) in enumerate(keyed[:size], 1)
    ]


def populations(control: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """Every list of identified objects in a control's results.json entry, by dotted path
    (`items`, `failing`, and whatever else a pack holds, e.g. `period.changes`), and every list
    of ids naming such objects (e.g. `period.populations.CreateAccessKey`), resolved to them."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    references: dict[str, list[str]] = {}
    for path, value in _walk(control, ""):
        if not isinstance(value, list) or not value:
            continue
        if all(isinstance(v, Mapping) and isinstance(v.get("id"), str) for v in value):
            found[path] = value
        elif all(isinstance(v, str) for v in value):
            references[path] = value
    index = {item["id"]: item for listed in found.values() for item in listed}
    for path, ids in references.items():
        if all(i in index for i in ids):
            found[path] = [index[i] for i in ids]
    return found


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else str(key)
            yield child_path, child
            if isinstance(child, Mapping):
                yield from _walk(child, child_path)


@dataclass(frozen=True)
class SampleRequest:
    pack: Path
    control: str
    seed: str
    size: int | None = None  # exactly one of size and frequency
    frequency: str | None = None
    table: SampleSizeTable | None = None
    population: str = DEFAULT_POPULATION


@dataclass(frozen=True)
class Sample:
    """A drawn sample and everything needed to reproduce and cite it."""

    pack: str
    pack_manifest_sha256: str
    control: Mapping[str, Any]
    population_path: str
    population: Sequence[Mapping[str, Any]]
    seed: str
    size: int  # the size asked for (from --size, or the table), before capping
    frequency: str | None
    table: SampleSizeTable | None
    selected: list[Selected]
    as_of: str
    drawn_at: datetime

    @property
    def method(self) -> str:
        return METHOD


def draw_sample(request: SampleRequest, now: datetime) -> Sample:
    """Read a sealed pack (it must verify), pick the population and draw the sample.

    Raises NotAPackError if the pack does not verify, UsageError for an unknown control or
    population, or a size that cannot work.
    """
    if not request.seed.strip():
        raise UsageError("--seed must not be empty: the auditor picks it, any text")
    require_verified(request.pack, "sample it")
    document = read_results(request.pack)
    control = next((c for c in document["controls"] if c["id"] == request.control), None)
    if control is None:
        known = ", ".join(c["id"] for c in document["controls"])
        raise UsageError(f"--control: no control {request.control!r} in the pack (known: {known})")
    lists = populations(control)
    population = lists.get(request.population)
    if population is None and request.population == DEFAULT_POPULATION and not control["items"]:
        raise UsageError(f"control {request.control} has an empty population: nothing to sample")
    if population is None:
        known = ", ".join(lists) or "none"
        raise UsageError(
            f"--population: {request.population!r} is not a list of items with ids in control"
            f" {request.control} (populations there: {known})"
        )
    if request.frequency is not None:
        assert request.table is not None, "a frequency needs a sample-size table"
        size = request.table.size_for(request.frequency, len(population))
    else:
        assert request.size is not None, "either a size or a frequency"
        size = request.size
    return Sample(
        pack=document["run"]["pack"],
        pack_manifest_sha256=sha256_file(request.pack / MANIFEST),
        control=control,
        population_path=request.population,
        population=population,
        seed=request.seed,
        size=size,
        frequency=request.frequency,
        table=request.table if request.frequency is not None else None,
        selected=draw(population, size, request.seed),
        as_of=document["run"]["as_of"],
        drawn_at=now,
    )
