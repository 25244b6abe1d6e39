"""Copies the files a catalogue attaches to its controls into the pack being built."""

from __future__ import annotations

from ..catalog.attachments import pack_paths
from ..catalog.loader import Catalog
from ..pack.builder import PackBuilder


def copy_attachments(catalog: Catalog, pack: PackBuilder) -> None:
    for control in catalog.controls:
        for (_, source), target in zip(control.attachments, pack_paths(control), strict=True):
            if source.is_file():
                pack.write_bytes(target, source.read_bytes())
