"""README.txt: what is in the pack and how to verify it, in plain words. It lists only what the
pack holds: the folder is looked at when README.txt is written (manifest.json and SHA256SUMS,
written after it, are always there)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from .. import TOOL_NAME, __version__
from ..pack.signing import SignerKey
from .chain_text import previous_pack_line
from .marking import Provenance, readme_notices
from .period_text import period_line
from .signature_readme import signature_section
from .statuses import STATUS_LEGEND, summary_line

README_FILE = "README.txt"
COLUMN = 24  # where descriptions start
# What each way of verifying checks, said the same in README.txt and in the PDF's appendix.
WHAT_VERIFY_CHECKS = (
    "`sha256sum -c` recomputes the hash of every file listed in SHA256SUMS (manifest.json"
    " included) and names each one changed or missing. It does not notice a file added to the"
    " folder, and it follows symbolic links, so a file replaced by a link to an identical copy"
    " elsewhere passes it. `soc-evidence verify` checks the same hashes and also names every"
    " added file, every symbolic link (a pack holds regular files only) and any disagreement"
    " between SHA256SUMS and manifest.json. It also checks that the pack still means what it"
    " says: the raw file hashes results.json cites, the results evaluated again from raw/ with"
    " the pack's own controls.yaml, and the workbook and PDF citing results.json's hash"
    " (`--hashes-only` skips those)."
)
PERIOD_NOTE = (
    "With an audit period, each control also has a `period` block in results.json (in effect"
    " since, changes from CloudTrail, deviations): a deviation inside the period fails the control"
    " even if it passes at the as-of time, and a period the events cannot fully show (missing log"
    " files, LookupEvents refused) is an error, never a pass. The events read are under raw/"
    " (cloudtrail.lookup_events or cloudtrail.log_files: every log object listed, with its ETag"
    " and size, and the matching records)."
)


def _entry(name: str, lines: list[str]) -> str:
    first, *rest = lines
    return "\n".join(
        [f"{name:<{COLUMN}}{first}" if len(name) < COLUMN else f"{name}\n{'':<{COLUMN}}{first}"]
        + [f"{'':<{COLUMN}}{line}" for line in rest]
    )


def contents(pack_dir: Path, signed: bool = False) -> str:
    """The "What is in this folder" lines for what pack_dir holds now (`signed`: the pack will
    also hold manifest.sig.json, written after manifest.json)."""
    present = {p.name for p in pack_dir.iterdir()}
    raw = [
        "Every AWS API call the collection made, one JSON file per source, account",
        "and region (raw/<account>/<region>/<source>.json): service, operation,",
        "parameters, UTC time, request id and the response as AWS returned it,",
        "every page of it. raw/run.json describes the run.",
    ]
    if any((pack_dir / "raw").rglob("*.csv")):
        raw.append("Reports AWS delivers as a file (the IAM credential report) are also kept")
        raw.append("decoded, as CSV beside their JSON.")
    entries = [("raw/", raw)] if "raw" in present else []
    if "controls.yaml" in present:
        entries.append(
            ("controls.yaml", ["The control catalogue the results were evaluated against."])
        )
    if "attachments" in present:
        entries.append(
            (
                "attachments/",
                [
                    "Files attached to controls in controls.yaml, by control id: the evidence",
                    "of manual (procedural) controls, supplementary evidence of others.",
                ],
            )
        )
    if "results.json" in present:
        entries.append(
            (
                "results.json",
                [
                    "One entry per control: status, population, every evaluated item, the",
                    "failing ones, what could not be collected and the raw files used.",
                ],
            )
        )
    if "requests" in present:
        entries.append(("requests/", ["The auditor's request list, as received (--requests)."]))
    described = {"raw", "controls.yaml", "attachments", "results.json", "requests", README_FILE}
    for file in sorted(present - described):
        if file.startswith("evidence_") and file.endswith(".xlsx"):
            entries.append((file, ["The auditor workbook, built from results.json and raw/ only."]))
        elif file.startswith("evidence_") and file.endswith(".pdf"):
            entries.append((file, ["The evidence report, built from results.json and raw/ only."]))
        elif file not in ("manifest.json", "SHA256SUMS"):  # anything else is named, unexplained
            folder = (pack_dir / file).is_dir()
            entries.append((file + ("/" if folder else ""), ["Written by this tool's run."]))
    entries.append(("manifest.json", ["Size and SHA-256 of every other file (written last)."]))
    entries.append(
        ("SHA256SUMS", ["The same hashes (and that of manifest.json) for `sha256sum -c`."])
    )
    if signed:
        entries.append(("manifest.sig.json", ["The signature over manifest.json (see below)."]))
    return "\n".join(_entry(name, lines) for name, lines in entries)


def pack_readme(
    name: str, document: dict[str, Any], pack_dir: Path, signed_by: SignerKey | None = None
) -> str:
    """README.txt for the pack being built in pack_dir, to be named `name` (`signed_by`: the key
    manifest.json will be signed with, if any)."""
    run = document["run"]
    accounts = ", ".join(
        f"{a['account_id']}" + (f" ({a['alias']})" if a.get("alias") else "")
        for a in run["accounts"]
    )
    counts = summary_line(document).partition(": ")[2]
    header = _header(name, document, accounts, counts, pack_dir, signed_by is not None)
    signature = signature_section(name, signed_by) if signed_by is not None else ""
    return header + _failures(name, document) + _verify(name) + signature


def _failures(name: str, document: dict[str, Any]) -> str:
    """The exports that failed (results.json `export_failures`), and how to rebuild them."""
    failures = document.get("export_failures") or []
    if not failures:
        return ""
    lines = [
        "",
        "NOT WRITTEN: exports that failed",
        "--------------------------------",
        "The evidence (raw/) and results.json are complete; these files are missing from this",
        "pack because the exporter failed (also listed in results.json, export_failures):",
        "",
    ]
    lines += [f"  {f['exporter']}: {f['error']}" for f in failures]
    lines += [
        "",
        "Rebuild them offline into a new pack once the cause is fixed:",
        f"    soc-evidence export {name}",
        "",
    ]
    return "\n".join(lines)


def _header(
    name: str, document: dict[str, Any], accounts: str, counts: str, pack_dir: Path, signed: bool
) -> str:
    run = document["run"]
    return f"""SOC 2 evidence pack {name}
{"=" * (len(name) + 22)}

{readme_notices(Provenance.of(run))}Organisation:  {run["organisation"]}
Accounts:      {accounts}
Regions:       {", ".join(run["regions"]) or "global services only"}
As of (UTC):   {run["as_of"]}   (collection started {run["started"]})
Audit period:  {period_line(run)}
Collected by:  {run["caller_arn"]}
Tool:          {TOOL_NAME} {__version__}
Controls:      {len(document["controls"])} ({counts})
Controls file: {run["controls_file"]}, SHA-256 {run["controls_sha256"]}
Previous pack: {previous_pack_line(run)}

What is in this folder
----------------------
{contents(pack_dir, signed)}

{_wrap(f"{STATUS_LEGEND} {PERIOD_NOTE}")}
"""


def _verify(name: str) -> str:
    return f"""
How to verify this pack
-----------------------
    cd {name} && sha256sum -c SHA256SUMS
    soc-evidence verify {name}

{_wrap(WHAT_VERIFY_CHECKS)}

To re-evaluate and re-export offline from raw/ (a new pack is written, this one is left as
it is):
    soc-evidence export {name}
"""


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=96)
