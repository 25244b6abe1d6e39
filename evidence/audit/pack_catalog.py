"""The controls a sealed pack was collected for, read from the pack itself."""

from __future__ import annotations

from pathlib import Path

from ..assemble.finish import CONTROLS_COPY
from ..catalog.loader import Catalog, load_catalog
from ..pack.runinfo import RunInfo


def pack_catalog(pack_dir: Path, run: RunInfo) -> Catalog:
    """The controls a pack was collected for: its catalogue copy, narrowed to the run's ids
    (an `--only` pull collected only those)."""
    return load_catalog(pack_dir / CONTROLS_COPY).select(list(run.control_ids))
