"""Everything after collection: evaluate raw/, write results.json, exports, README.txt, seal.

Shared by `collect` (a fresh raw/) and `export` (a copy of an earlier pack's raw/), so a pack can
always be rebuilt offline from its raw evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..catalog.loader import Catalog
from ..catalog.requests import read_packed_request_list
from ..errors import EXIT_INCOMPLETE
from ..evaluate.engine import evaluate_each
from ..evaluate.results import RESULTS_FILE, exit_code, results_document
from ..exporters import EXPORTERS, Exporter
from ..exporters.readme import README_FILE, pack_readme
from ..pack.builder import PackBuilder, pack_files
from ..pack.chain import chain_fields
from ..pack.raw import RawStore, utc_iso
from ..pack.runinfo import RUN_FILE, RunInfo
from ..pack.signing import Signer
from ..sources.account import ACCOUNT_ALIASES
from .requests import requests_block

CONTROLS_COPY = "controls.yaml"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackOutcome:
    path: Path
    results: dict[str, Any]
    exit_code: int
    signing_error: str | None = None  # asked to sign, and the signature could not be made


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def pack_name(run: RunInfo) -> str:
    return f"{run.scope}_{stamp(run.as_of)}"


def account_aliases(store: RawStore, run: RunInfo) -> dict[str, str | None]:
    aliases: dict[str, str | None] = {}
    for account in run.accounts:
        raw = store.get(ACCOUNT_ALIASES.name, account.account_id, "global")
        names = ACCOUNT_ALIASES.parse(raw) if raw is not None and raw.complete else ()
        aliases[account.account_id] = names[0] if names else None
    return aliases


def derive_results(
    pack_dir: Path, catalog: Catalog, run: RunInfo, name: str, evaluated_at: str
) -> dict[str, Any]:
    """results.json's document as far as it follows from the pack's own files (raw/, the
    catalogue, the request list copy): what a pack is sealed with, and what `verify` derives
    again to compare with it. The hash chain to earlier packs (`run.previous_pack`, `history`)
    comes from outside the pack and is added by finish_pack."""
    store = RawStore(pack_dir)
    # One control at a time: each result becomes JSON before the next is evaluated.
    controls = evaluate_each(catalog, store, run)
    document = results_document(run, controls, account_aliases(store, run), name, evaluated_at)
    requests = requests_block(catalog, read_packed_request_list(pack_dir), document["controls"])
    if requests is not None:
        document["requests"] = requests
    return document


def finish_pack(
    pack: PackBuilder,
    catalog: Catalog,
    run: RunInfo,
    evaluated_at: datetime,
    name: str | None = None,
    exporters: Sequence[Exporter] = EXPORTERS,
    signer: Signer | None = None,
    exported_from: Mapping[str, str] | None = None,
) -> PackOutcome:
    """Steps 2 to 5 of the write order; raw/ and raw/run.json are already in pack.dir.

    An exporter that raises does not cost the evidence: the pack is still sealed with raw/ and
    results.json, the failure is named in results.json (`export_failures`) and README.txt, and
    the exit code is 3, so `export` can rebuild the missing file from the sealed pack later. A
    signature asked for that cannot be made leaves the pack sealed and unsigned, also exit 3.

    `exported_from`: for a pack re-exported from another (`export`), that pack's name and
    manifest SHA-256, recorded as `run.exported_from` so the new pack points back to its source.
    """
    pack.write_json(RUN_FILE, run.to_json())
    pack.write_bytes(CONTROLS_COPY, catalog.text)
    name = pack.free_name(name or pack_name(run))
    document = derive_results(pack.dir, catalog, run, name, utc_iso(evaluated_at))
    chain = chain_fields(pack.output_dir, run.scope)  # the hash chain to the pack before it
    document["run"]["previous_pack"] = chain["previous_pack"]
    document["history"] = chain["history"]
    if exported_from is not None:
        document["run"]["exported_from"] = dict(exported_from)
    document = write_exports(pack, document, run, exporters, name)
    signed_by = signer.key if signer is not None else None
    readme = pack_readme(name, document, pack.dir, signed_by)
    pack.write_bytes(README_FILE, readme.encode("utf-8"))
    final = pack.seal(name, utc_iso(evaluated_at), signer)
    code = EXIT_INCOMPLETE if document["export_failures"] else exit_code(document["controls"])
    if pack.signing_error is not None:
        code = EXIT_INCOMPLETE  # the pack is kept, but not as asked: not signed
    return PackOutcome(final, document, code, pack.signing_error)


def write_exports(
    pack: PackBuilder,
    document: dict[str, Any],
    run: RunInfo,
    exporters: Sequence[Exporter],
    name: str,
) -> dict[str, Any]:
    """results.json, then every export built from it; returns the document as written.

    Exports cite results.json's SHA-256, so when one fails, results.json is rewritten to name
    the failure and the exports that did work are built again against it (a failure-only path;
    each round either settles or adds a failure, so it ends).
    """
    failures: dict[str, dict[str, str]] = {}
    outputs: dict[str, set[str]] = {}  # what each exporter wrote in its last round
    while True:
        document = {**document, "export_failures": list(failures.values())}
        pack.write_json(RESULTS_FILE, document)
        failed_now = False
        for export in exporters:
            label = exporter_name(export)
            if label in failures:
                continue
            before = set(pack_files(pack.dir))
            try:
                export(pack, document, run)
                outputs[label] = outputs.get(label, set()) | (set(pack_files(pack.dir)) - before)
            except Exception as exc:  # any exporter bug: the evidence is kept all the same
                log.debug("exporter %s failed", label, exc_info=True)  # --debug: the traceback
                for partial in (set(pack_files(pack.dir)) - before) | outputs.pop(label, set()):
                    pack.remove(partial)
                failures[label] = {
                    "exporter": label,
                    "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500],
                    "rebuild": f"soc-evidence export {name}",
                }
                failed_now = True
        if not failed_now:
            return document


def exporter_name(export: Exporter) -> str:
    """`pdf` for write_pdf, `workbook` for write_workbook: how README and results name it."""
    name = str(getattr(export, "__name__", type(export).__name__))
    return name.removeprefix("write_")
