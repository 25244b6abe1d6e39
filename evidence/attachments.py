"""Manual controls: their evidence is files, copied into the pack and hashed like the rest.

The place of each file in the pack follows from the catalogue alone, so a pack can be
re-evaluated offline; a declared file that is missing makes the control an error naming it.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from .catalog import Catalog, Control
from .model import CollectionError, ControlResult, EvidenceFile, Item, Status
from .pack import PackBuilder, sha256_file

ATTACHMENTS_DIR = "attachments"
PROCEDURE = (
    "Procedural control: no API can prove it. The evidence is the attached files, copied into"
    " the pack under attachments/<control id>/ and hashed in its manifest."
)


def pack_paths(control: Control) -> list[str]:
    """Where each declared attachment lives in the pack (unique, stable names)."""
    folder = re.sub(r"[^A-Za-z0-9._-]", "_", control.id)
    names: list[str] = []
    for index, (written, _) in enumerate(control.attachments, 1):
        name = PurePosixPath(written).name
        if name in {PurePosixPath(n).name for n in names}:
            name = f"{index}-{name}"
        names.append(f"{ATTACHMENTS_DIR}/{folder}/{name}")
    return names


def copy_attachments(catalog: Catalog, pack: PackBuilder) -> None:
    for control in catalog.controls:
        for (_, source), target in zip(control.attachments, pack_paths(control), strict=True):
            if source.is_file():
                pack.write_bytes(target, source.read_bytes())


def evaluate_manual(control: Control, pack_dir: Path, notes: tuple[str, ...] = ()) -> ControlResult:
    items: list[Item] = []
    errors: list[CollectionError] = []
    evidence: list[EvidenceFile] = []
    for (written, _), target in zip(control.attachments, pack_paths(control), strict=True):
        path = pack_dir / target
        if path.is_file():
            digest = sha256_file(path)
            items.append(
                Item(
                    "-",
                    "-",
                    written,
                    "",
                    Status.MANUAL,
                    f"attached as {target}",
                    {"sha256": digest},
                )
            )
            evidence.append(EvidenceFile(target, digest))
        else:
            errors.append(
                CollectionError(
                    "-",
                    "-",
                    "attachment",
                    "FileNotFound",
                    f"{written} was not found when the pack was built",
                )
            )
    if not control.attachments:
        notes = (*notes, "No evidence is attached yet: list files under `attachments`.")
    return control.result(
        params={}, procedure=PROCEDURE, items=items, errors=errors, evidence=evidence, notes=notes
    )
