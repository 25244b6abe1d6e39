"""The hash chain between packs of one scope in one output folder.

Each new pack records `run.previous_pack`: the name and the manifest's SHA-256 of the latest
sealed pack of the same scope beside it. The manifest hashes every file of that pack, so the link
pins the whole earlier pack: editing it (and re-sealing it) or removing it breaks the chain.
Each pack also carries the status counts of the packs before it (`history`), so a report can
draw a trend from its own results.json without reading other folders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from .builder import MANIFEST, sha256_file
from .runinfo import RUN_FILE

RESULTS = "results.json"  # evaluate/results.py names it; this stage sits below and only reads it
HISTORY_KEPT = 100  # earlier packs carried in `history`: years of quarterly or monthly packs


@dataclass(frozen=True)
class PackRef:
    """A sealed pack named by its folder and pinned by its manifest's SHA-256."""

    name: str
    manifest_sha256: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "manifest_sha256": self.manifest_sha256}


class HistoryPoint(NamedTuple):
    """One pack in a trend: its name, as-of time (UTC ISO 8601) and controls per status."""

    name: str
    as_of: str
    counts: Mapping[str, int]


@dataclass(frozen=True)
class SealedPack:
    """A sibling folder that is a sealed pack: enough to order packs and link them."""

    path: Path
    scope: str
    created: str  # the manifest's creation time (UTC ISO 8601): the order packs were sealed in

    @property
    def name(self) -> str:
        return self.path.name

    def ref(self) -> PackRef:
        return PackRef(self.name, sha256_file(self.path / MANIFEST))


def sealed_packs(folder: Path) -> list[SealedPack]:
    """Every sealed pack directly in `folder` (hidden build folders skipped), oldest first.

    A folder counts when it has a readable manifest.json and raw/run.json naming its scope;
    anything else (a half-copied folder, a zip, a sample) is not part of any chain.
    """
    packs = []
    if not folder.is_dir():
        return []
    for path in folder.iterdir():
        if path.name.startswith(".") or not path.is_dir() or path.is_symlink():
            continue
        manifest = _read_json(path / MANIFEST)
        run = _read_json(path / RUN_FILE)
        if manifest is None or run is None or not isinstance(run.get("scope"), str):
            continue
        packs.append(SealedPack(path, run["scope"], str(manifest.get("created", ""))))
    return sorted(packs, key=lambda p: (p.created, p.name))


def previous_pack(folder: Path, scope: str) -> SealedPack | None:
    """The latest sealed pack of `scope` in `folder`, or None for the first of its scope."""
    same = [p for p in sealed_packs(folder) if p.scope == scope]
    return same[-1] if same else None


def chain_fields(folder: Path, scope: str) -> dict[str, Any]:
    """What a new pack in `folder` records about the packs before it: `previous_pack` (name and
    manifest SHA-256, or None) for run, and `history` (earlier packs' name, as-of and status
    counts, oldest first, at most HISTORY_KEPT) for the document's top level."""
    previous = previous_pack(folder, scope)
    if previous is None:
        return {"previous_pack": None, "history": []}
    results = _read_json(previous.path / RESULTS) or {}
    history = [h for h in results.get("history", []) if isinstance(h, dict)]
    run = results.get("run", {})
    history.append(
        {"pack": previous.name, "as_of": run.get("as_of"), "summary": results.get("summary", {})}
    )
    return {"previous_pack": previous.ref().to_json(), "history": history[-HISTORY_KEPT:]}


def history_points(document: Mapping[str, Any]) -> list[HistoryPoint]:
    """The trend of a pack's scope, oldest first, ending with the pack itself; a single point
    when no earlier pack was found beside it. Built from results.json alone."""
    points = [
        HistoryPoint(str(h["pack"]), str(h.get("as_of") or ""), dict(h.get("summary") or {}))
        for h in document.get("history", [])
    ]
    run = document["run"]
    points.append(HistoryPoint(run["pack"], run["as_of"], dict(document["summary"])))
    return points


class LinkState(StrEnum):
    NONE = "none"  # no previous pack recorded: the first of its scope in its folder
    INTACT = "intact"  # the previous pack is beside it and its manifest hash matches
    CHANGED = "changed"  # the previous pack's manifest no longer has the recorded hash
    MISSING = "missing"  # the previous pack is gone while older packs of its scope remain
    NOT_PRESENT = "not present"  # handed over alone: nothing beside it to check against


@dataclass(frozen=True)
class ChainLink:
    """The result of checking one pack's link to the pack before it."""

    state: LinkState
    previous: str | None
    message: str

    @property
    def broken(self) -> bool:
        return self.state in (LinkState.CHANGED, LinkState.MISSING)


def check_link(pack_dir: Path, beside: Path | None = None) -> ChainLink:
    """Check `run.previous_pack` of the pack at `pack_dir` against the folder it sits in.

    A changed manifest hash breaks the link; so does a previous pack that was removed while
    older packs of the same scope are still there. A pack on its own (no sibling of its scope,
    e.g. unpacked from a bundle) cannot be checked and says so. `beside`: the folder to look in
    (default: the pack's own; for a bundle, the folder the zip is in).
    """
    folder = beside if beside is not None else pack_dir.parent
    results = _read_json(pack_dir / RESULTS) or {}
    recorded = results.get("run", {}).get("previous_pack")
    if not isinstance(recorded, dict) or not recorded.get("name"):
        return ChainLink(LinkState.NONE, None, "no previous pack recorded")
    name, expected = str(recorded["name"]), str(recorded.get("manifest_sha256"))
    if "/" in name or "\\" in name or name in (".", ".."):
        return ChainLink(LinkState.CHANGED, name, f"previous pack {name!r}: not a pack name")
    target = folder / name
    if (target / MANIFEST).is_file():
        found = sha256_file(target / MANIFEST)
        if found == expected:
            return ChainLink(LinkState.INTACT, name, f"previous pack {name}: link intact")
        return ChainLink(
            LinkState.CHANGED,
            name,
            f"previous pack {name}: manifest.json changed since this pack recorded it"
            f" (recorded {expected}, found {found})",
        )
    own = _read_json(pack_dir / RUN_FILE) or {}
    mine = _read_json(pack_dir / MANIFEST) or {}
    older = [
        p.name
        for p in sealed_packs(folder)
        if p.scope == own.get("scope")
        and p.path != pack_dir
        and p.created < mine.get("created", "")
    ]
    if older:
        return ChainLink(
            LinkState.MISSING,
            name,
            f"previous pack {name} is missing from {folder}"
            f" (older packs of this scope are there: {', '.join(older)})",
        )
    return ChainLink(
        LinkState.NOT_PRESENT,
        name,
        f"previous pack {name} is not beside this pack: link not checked",
    )


def chain_links(packs: Sequence[SealedPack]) -> Iterator[tuple[SealedPack, ChainLink]]:
    """Each pack's link, for a whole folder's packs (history)."""
    for pack in packs:
        yield pack, check_link(pack.path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
