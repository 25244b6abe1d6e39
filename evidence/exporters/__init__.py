"""Exporters: pure functions of results.json and raw/ that write human-readable files.

They never call AWS. Each one writes into the pack folder before the manifest is sealed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..runinfo import RunInfo

Exporter = Callable[[Path, dict[str, Any], RunInfo], Path]

EXPORTERS: tuple[Exporter, ...] = ()


def write_exports(pack_dir: Path, document: dict[str, Any], run: RunInfo) -> list[Path]:
    return [export(pack_dir, document, run) for export in EXPORTERS]
