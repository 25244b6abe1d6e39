"""`export PACK`: a new pack re-evaluated and re-exported offline from an earlier pack's raw/."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ..assemble.finish import PackOutcome, finish_pack, pack_name, stamp
from ..catalog.attachments import ATTACHMENTS_DIR
from ..catalog.requests import REQUESTS_DIR
from ..exporters import EXPORTERS, Exporter
from ..pack.builder import MANIFEST, PRIVATE, PackBuilder, PackMode, SealedPacks, sha256_file
from ..pack.raw import RAW_DIR
from ..pack.runinfo import RunInfo
from ..pack.signing import Signer
from .gate import require_outside, require_verified
from .pack_catalog import pack_catalog


def export_pack(
    source: Path,
    output_dir: Path,
    now: datetime,
    mode: PackMode = PRIVATE,
    ledger: SealedPacks | None = None,
    exporters: Sequence[Exporter] = EXPORTERS,
    signer: Signer | None = None,
) -> PackOutcome:
    """A new pack from an earlier one's raw/ and controls copy: re-evaluated, re-exported.

    The source pack must verify; it is only read, never changed. This is also how a file whose
    exporter failed (results.json `export_failures`) is rebuilt.
    """
    require_verified(source, "export from it")
    require_outside((source,), output_dir, "--output")
    run = RunInfo.read(source)
    catalog = pack_catalog(source, run)
    with PackBuilder(output_dir, mode, ledger) as pack:
        shutil.copytree(source / RAW_DIR, pack.dir / RAW_DIR)
        if (source / ATTACHMENTS_DIR).is_dir():
            shutil.copytree(source / ATTACHMENTS_DIR, pack.dir / ATTACHMENTS_DIR)
        if (source / REQUESTS_DIR).is_dir():
            shutil.copytree(source / REQUESTS_DIR, pack.dir / REQUESTS_DIR)
        name = f"{pack_name(run)}_export_{stamp(now)}"
        source_manifest = sha256_file(source / MANIFEST)  # verified above, read once more
        return finish_pack(
            pack,
            catalog,
            run,
            evaluated_at=now,
            name=name,
            exporters=exporters,
            signer=signer,
            exported_from={"pack": source.name, "manifest_sha256": source_manifest},
        )
