"""Where a control's attached evidence files live inside a pack.

The place of each file follows from the catalogue alone, so a pack can be re-evaluated offline.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from .loader import Control

ATTACHMENTS_DIR = "attachments"


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
