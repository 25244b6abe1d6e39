"""Exporters: pure functions of results.json and raw/ that write human-readable files.

They never call AWS. Each one writes into the pack folder before the manifest is sealed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..pack.builder import PackBuilder
from ..pack.runinfo import RunInfo
from .pdf import write_pdf
from .xlsx import write_workbook

# An exporter reads results.json (as a document) and raw/ from the pack folder and writes its file.
Exporter = Callable[[PackBuilder, dict[str, Any], RunInfo], str]

EXPORTERS: tuple[Exporter, ...] = (write_workbook, write_pdf)


def write_exports(pack: PackBuilder, document: dict[str, Any], run: RunInfo) -> list[str]:
    return [export(pack, document, run) for export in EXPORTERS]
