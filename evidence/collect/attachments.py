"""Copies the files a catalogue attaches to its controls into the pack being built."""

from __future__ import annotations

from pathlib import Path

from ..catalog.attachments import pack_paths
from ..catalog.loader import Catalog, attachment_problem
from ..pack.builder import PackBuilder


def copy_attachments(catalog: Catalog, pack: PackBuilder) -> None:
    """Copy each attached regular file. The confinement checked at load is checked again here:
    a file swapped for a symlink out of the folder since then is not copied (the control then
    reports it as not found)."""
    base = Path(catalog.path).parent
    for control in catalog.controls:
        for (written, source), target in zip(control.attachments, pack_paths(control), strict=True):
            if attachment_problem(base, written) is None and source.is_file():
                pack.write_bytes(target, source.read_bytes())
