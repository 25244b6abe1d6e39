"""Manual controls: their evidence is the attached files, hashed like the rest of the pack.

A declared file that is missing makes the control an error naming it; a manual control with
nothing attached is flagged `evidence_missing` (model.ControlResult).
"""

from __future__ import annotations

from pathlib import Path

from ..catalog.loader import Control
from ..model import ControlResult, Item, Status, item_id
from .attachments import attached_files, attachment_evidence

PROCEDURE = (
    "Procedural control: no API can prove it. The evidence is the attached files, copied into"
    " the pack under attachments/<control id>/ and hashed in its manifest."
)


def evaluate_manual(control: Control, pack_dir: Path, notes: tuple[str, ...] = ()) -> ControlResult:
    attachments, errors = attached_files(control, pack_dir)
    items = [
        Item(
            "-",
            "-",
            attached.file,
            "",
            Status.MANUAL,
            f"attached as {attached.path}",
            {"sha256": attached.sha256},
            item_id("manual", "-", "-", control.id, attached.file),
        )
        for attached in attachments
    ]
    if not control.attachments:
        notes = (*notes, "No evidence is attached yet: list files under `attachments`.")
    return control.result(
        params={},
        procedure=PROCEDURE,
        items=items,
        errors=errors,
        evidence=attachment_evidence(attachments),
        notes=notes,
        attachments=attachments,
    )
