"""Attached evidence files of any control, as found in the pack: hashed, or missing and named.

A manual control's whole evidence is its attachments; a checked control may carry supplementary
ones (e.g. the identity provider's lockout setting beside the IAM password policy, whose lockout
part IAM cannot enforce). A declared file that is not in the pack is an error naming it.
"""

from __future__ import annotations

from pathlib import Path

from ..catalog.attachments import pack_paths
from ..catalog.loader import Control
from ..model import Attachment, CollectionError, EvidenceFile
from ..pack.builder import sha256_file


def attached_files(
    control: Control, pack_dir: Path
) -> tuple[tuple[Attachment, ...], tuple[CollectionError, ...]]:
    """(the attachments present in the pack, one error per declared file that is missing)."""
    found: list[Attachment] = []
    missing: list[CollectionError] = []
    for (written, _), target in zip(control.attachments, pack_paths(control), strict=True):
        path = pack_dir / target
        if path.is_file():
            found.append(Attachment(written, target, sha256_file(path)))
        else:
            missing.append(
                CollectionError(
                    "-",
                    "-",
                    "attachment",
                    "FileNotFound",
                    f"{written} was not found when the pack was built",
                )
            )
    return tuple(found), tuple(missing)


def attachment_evidence(attachments: tuple[Attachment, ...]) -> tuple[EvidenceFile, ...]:
    return tuple(EvidenceFile(a.path, a.sha256) for a in attachments)
