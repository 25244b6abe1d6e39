"""`history DIR`: each control's status across the packs of an output folder, and the chain.

Packs are grouped by scope and ordered as they were sealed; every pack's link to the one before
it is checked (a pack edited or removed breaks the chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabulate import tabulate

from ..errors import NotAPackError
from ..evaluate.results import read_results
from ..pack.chain import ChainLink, chain_links, sealed_packs


@dataclass(frozen=True)
class PackColumn:
    name: str
    as_of: str
    link: ChainLink


@dataclass(frozen=True)
class ScopeHistory:
    scope: str
    packs: tuple[PackColumn, ...]
    # control id -> (title, one cell per pack: "FAIL 3", "PASS", or "-" when not in that pack)
    controls: dict[str, tuple[str, tuple[str, ...]]]

    @property
    def broken(self) -> list[ChainLink]:
        return [p.link for p in self.packs if p.link.broken]


def folder_history(folder: Path) -> list[ScopeHistory]:
    """The history of every scope with packs in `folder`; NotAPackError if there is none."""
    packs = sealed_packs(folder)
    if not packs:
        raise NotAPackError(f"{folder}: no evidence packs in this folder")
    histories = []
    for scope in dict.fromkeys(p.scope for p in packs):
        columns: list[PackColumn] = []
        statuses: list[dict[str, Any]] = []
        for pack, link in chain_links([p for p in packs if p.scope == scope]):
            document = read_results(pack.path)
            columns.append(PackColumn(pack.name, document["run"]["as_of"], link))
            statuses.append({c["id"]: c for c in document["controls"]})
        titles: dict[str, str] = {}
        for per_pack in reversed(statuses):  # the latest title wins
            for control_id, control in per_pack.items():
                titles.setdefault(control_id, control["title"])
        order = list(dict.fromkeys(i for per_pack in statuses for i in per_pack))
        controls = {
            control_id: (titles[control_id], tuple(_cell(p.get(control_id)) for p in statuses))
            for control_id in order
        }
        histories.append(ScopeHistory(scope, tuple(columns), controls))
    return histories


def _cell(control: dict[str, Any] | None) -> str:
    if control is None:
        return "-"
    failing = len(control["failing"])
    return str(control["status"]).upper() + (f" {failing}" if failing else "")


def history_text(histories: list[ScopeHistory]) -> str:
    """A timeline table per scope (one column per pack, oldest first), then the chain."""
    out = []
    for history in histories:
        out.append(f"Scope {history.scope}: {len(history.packs)} pack(s)")
        headers = ["control", *(f"#{n}" for n in range(1, len(history.packs) + 1))]
        rows = [(control_id, *cells) for control_id, (_, cells) in history.controls.items()]
        out.append(tabulate(rows, headers=headers))
        out.append("")
        for n, pack in enumerate(history.packs, 1):
            out.append(f"#{n} {pack.name} (as of {pack.as_of}): {pack.link.message}")
        broken = history.broken
        out.append(f"Chain: BROKEN ({len(broken)} link(s))" if broken else "Chain: intact" + "\n")
    return "\n".join(out).rstrip() + "\n"
