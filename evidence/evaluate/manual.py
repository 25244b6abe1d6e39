"""Manual controls: their evidence is the attached files, hashed like the rest of the pack.

A declared file that is missing makes the control an error naming it.
"""

from __future__ import annotations

from pathlib import Path

from ..catalog.attachments import pack_paths
from ..catalog.loader import Control
from ..model import CollectionError, ControlResult, EvidenceFile, Item, Status, item_id
from ..pack.builder import sha256_file

PROCEDURE = (
    "Procedural control: no API can prove it. The evidence is the attached files, copied into"
    " the pack under attachments/<control id>/ and hashed in its manifest."
)


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
                    item_id("manual", "-", "-", control.id, written),
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
