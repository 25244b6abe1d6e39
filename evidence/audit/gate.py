"""The one gate every command that reads a sealed pack goes through: the pack must verify, and
verify in full (bytes, the hashes results.json cites, results re-derived from raw/, the exports'
citations), not only its hashes.

A manifest regenerated over an edited raw file passes a hash check; a sample, diff, bundle,
OSCAL file or re-export drawn from such a pack would carry the edit on with a clean seal of its
own. So the commands refuse it here, naming what differs, before writing anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import NotAPackError, UsageError
from ..pack.verify import read_manifest
from .verification import verify

NAMED = 5  # differences named in the one-line refusal; `verify PACK` lists them all


def require_verified(pack_dir: Path, refusing: str) -> None:
    """Return when `pack_dir` verifies in full; otherwise raise NotAPackError (exit 2):
    "<pack>: does not verify (<first differences>); refusing to <refusing>".

    `refusing`: what the command would have done, e.g. "sample it", "compare it".
    Raises NotAPackError too when the folder is not a pack (no readable manifest.json).
    """
    read_manifest(pack_dir)
    result = verify(pack_dir)
    if result.intact:
        return
    differences, _ = result.lines(quiet=True)
    shown = "; ".join(differences[:NAMED])
    if len(differences) > NAMED:
        shown += f"; and {len(differences) - NAMED} more (`verify {pack_dir}` lists them)"
    raise NotAPackError(f"{pack_dir}: does not verify ({shown}); refusing to {refusing}")


def require_outside(packs: Sequence[Path], target: Path, option: str) -> None:
    """Return when `target` (a file or folder a command is about to write) is outside every
    pack in `packs`; otherwise raise UsageError (exit 2) before anything is written.

    Packs are immutable: a command that works on a pack writes beside it, never inside it (a
    re-export into its own raw/ would even copy the pack into itself). Symbolic links are
    resolved first, so a link into the pack is inside it too."""
    resolved = target.resolve()
    for pack in packs:
        if resolved.is_relative_to(pack.resolve()):
            raise UsageError(f"{option} {target}: inside pack {pack}; packs are never modified")
