"""The hash chain to the previous pack in words, shared by README.txt, the workbook and the PDF."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NO_PREVIOUS = "none found in the output folder it was written to (the first pack of its chain)"
NOT_RECORDED = "not recorded (a pack made before packs were chained)"


def previous_pack_line(run: Mapping[str, Any]) -> str:
    """`NAME (manifest SHA-256 <hex>)` from `run.previous_pack`, or why there is none."""
    if "previous_pack" not in run:
        return NOT_RECORDED
    previous = run["previous_pack"]
    if not previous:
        return NO_PREVIOUS
    return f"{previous['name']} (manifest SHA-256 {previous['manifest_sha256']})"
