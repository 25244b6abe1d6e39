"""Everything after collection: evaluate raw/, write results.json, exports, README.txt, seal.

Shared by `collect` (a fresh raw/) and `export` (a copy of an earlier pack's raw/), so a pack can
always be rebuilt offline from its raw evidence.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import TOOL_NAME, __version__
from .attachments import ATTACHMENTS_DIR
from .catalog import Catalog, load_catalog
from .errors import NotAPackError
from .evaluate import evaluate
from .exporters import write_exports
from .pack import PackBuilder, read_manifest, verify_pack
from .rawstore import RAW_DIR, RawStore, utc_iso
from .results import RESULTS_FILE, exit_code, results_document
from .runinfo import RUN_FILE, RunInfo
from .sources.account import ACCOUNT_ALIASES

CONTROLS_COPY = "controls.yaml"
README_FILE = "README.txt"


@dataclass(frozen=True)
class PackOutcome:
    path: Path
    results: dict[str, Any]
    exit_code: int


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


def finish_pack(
    pack: PackBuilder,
    catalog: Catalog,
    run: RunInfo,
    evaluated_at: datetime,
    name: str | None = None,
) -> PackOutcome:
    """Steps 2 to 4 of the write order; raw/ and raw/run.json are already in pack.dir."""
    pack.write_json(RUN_FILE, run.to_json())
    pack.write_bytes(CONTROLS_COPY, catalog.text)
    name = pack.free_name(name or pack_name(run))
    store = RawStore(pack.dir)
    controls = evaluate(catalog, store, run)
    document = results_document(
        run, controls, account_aliases(store, run), name, utc_iso(evaluated_at)
    )
    pack.write_json(RESULTS_FILE, document)
    write_exports(pack, document, run)
    pack.write_bytes(README_FILE, pack_readme(name, document).encode("utf-8"))
    final = pack.seal(name, utc_iso(evaluated_at))
    return PackOutcome(final, document, exit_code(document["controls"]))


def pack_catalog(pack_dir: Path, run: RunInfo) -> Catalog:
    """The controls a pack was collected for: its catalogue copy, narrowed to the run's ids
    (an `--only` pull collected only those)."""
    return load_catalog(pack_dir / CONTROLS_COPY).select(list(run.control_ids))


def export_pack(source: Path, output_dir: Path, now: datetime) -> PackOutcome:
    """A new pack from an earlier one's raw/ and controls copy: re-evaluated, re-exported.

    The source pack must verify; it is only read, never changed.
    """
    read_manifest(source)
    report = verify_pack(source)
    if not report.intact:
        names = ", ".join(report.changed + report.missing + report.extra)
        raise NotAPackError(f"{source}: does not verify ({names}); refusing to export from it")
    run = RunInfo.read(source)
    catalog = pack_catalog(source, run)
    with PackBuilder(output_dir) as pack:
        shutil.copytree(source / RAW_DIR, pack.dir / RAW_DIR)
        if (source / ATTACHMENTS_DIR).is_dir():
            shutil.copytree(source / ATTACHMENTS_DIR, pack.dir / ATTACHMENTS_DIR)
        name = f"{pack_name(run)}_export_{stamp(now)}"
        return finish_pack(pack, catalog, run, evaluated_at=now, name=name)


def pack_readme(name: str, document: dict[str, Any]) -> str:
    run = document["run"]
    accounts = ", ".join(
        f"{a['account_id']}" + (f" ({a['alias']})" if a.get("alias") else "")
        for a in run["accounts"]
    )
    counts = ", ".join(f"{n} {status}" for status, n in document["summary"].items() if n)
    return f"""SOC 2 evidence pack {name}
{"=" * (len(name) + 22)}

Organisation:  {run["organisation"]}
Accounts:      {accounts}
Regions:       {", ".join(run["regions"]) or "global services only"}
As of (UTC):   {run["as_of"]}   (collection started {run["started"]})
Collected by:  {run["caller_arn"]}
Tool:          {TOOL_NAME} {__version__}
Controls:      {len(document["controls"])} ({counts})
Controls file: {run["controls_file"]}, SHA-256 {run["controls_sha256"]}

What is in this folder
----------------------
raw/                    Every AWS API call the collection made, one JSON file per source, account
                        and region (raw/<account>/<region>/<source>.json): service, operation,
                        parameters, UTC time, request id and the response as AWS returned it,
                        every page of it. raw/run.json describes the run. The IAM credential
                        report is also kept as its decoded CSV beside its JSON.
controls.yaml           The control catalogue the results were evaluated against.
attachments/            Evidence files of manual (procedural) controls, by control id.
results.json            One entry per control: status, population, every evaluated item, the
                        failing ones, what could not be collected and the raw files used.
evidence_*.xlsx         The auditor workbook, built from results.json and raw/ only.
evidence_*.pdf          The evidence report, built from results.json and raw/ only.
manifest.json           Size and SHA-256 of every other file (written last).
SHA256SUMS              The same hashes (and that of manifest.json) for `sha256sum -c`.

Statuses: pass; fail (a resource breaks the control); error (evidence could not be
collected: the operation and AWS error code are named; never counted as a pass); manual
(procedural control: its evidence is the attached files).

How to verify this pack
-----------------------
    cd {name} && sha256sum -c SHA256SUMS
    soc-evidence verify {name}

Both recompute every hash; any changed, missing or added file is named. To re-evaluate and
re-export offline from raw/ (a new pack is written, this one is left as it is):
    soc-evidence export {name}
"""
