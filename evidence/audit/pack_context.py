"""What every verify layer reads from a pack: its folder, results.json, and file hashes (each file
hashed once however many layers ask)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..evaluate.results import RESULTS_FILE
from ..pack.builder import sha256_file
from ..pack.verify import Finding


@dataclass
class PackContext:
    """A pack being verified. `document` is results.json, or None when it cannot be read (a
    finding says why)."""

    pack_dir: Path
    document: dict[str, Any] | None = None
    problem: Finding | None = None
    _hashes: dict[str, str | None] = field(default_factory=dict)

    @staticmethod
    def open(pack_dir: Path) -> PackContext:
        context = PackContext(pack_dir)
        try:
            document = json.loads((pack_dir / RESULTS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            context.problem = Finding("results", RESULTS_FILE, f"unreadable ({exc})")
            return context
        if not isinstance(document, dict) or not isinstance(document.get("controls"), list):
            context.problem = Finding("results", RESULTS_FILE, "not a results document")
            return context
        context.document = document
        return context

    def inside(self, relative: str) -> Path | None:
        """The file a pack-relative path names, or None if it would leave the pack (absolute,
        `..`, or through a link that points outside): a cited path is never followed out."""
        if not relative or relative.startswith("/") or "\\" in relative:
            return None
        root = self.pack_dir.resolve()
        path = (self.pack_dir / relative).resolve()
        return path if path.is_relative_to(root) and path != root else None

    def sha256(self, relative: str) -> str | None:
        """SHA-256 (hex) of a file of the pack; None when it is missing or outside the pack."""
        if relative not in self._hashes:
            path = self.inside(relative)
            self._hashes[relative] = sha256_file(path) if path and path.is_file() else None
        return self._hashes[relative]


def short(digest: str | None) -> str:
    """A SHA-256 as printed in findings: the first 16 hex digits (enough to tell two apart)."""
    return "none" if not digest else f"{digest[:16]}…"
