"""`verify PACK`: the pack checked layer by layer, each layer a separate function.

1. bytes (pack/verify.py): every file against manifest.json, and SHA256SUMS against both;
   `--hashes-only` stops here;
2. cited: the raw file hashes results.json cites, against the files;
3. re-evaluated: raw/ evaluated again with the pack's controls.yaml, compared with results.json;
4. exports: the workbook and the PDF cite results.json's hash and the raw files' hashes;
5. signature: manifest.sig.json against the manifest, when a key to check it is given.

A layer takes the pack (PackContext) and returns its findings and notes; a new layer (a bundle,
a hash chain to the previous pack) is one more function in the list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..assemble.finish import CONTROLS_COPY
from ..evaluate.results import RESULTS_FILE
from ..pack.raw import RAW_DIR
from ..pack.verify import Finding, VerifyReport, verify_pack
from .pack_context import PackContext
from .verify_exports import export_citations
from .verify_meaning import cited_hashes, re_evaluation

LayerOutcome = tuple[list[Finding], list[str]]
Layer = Callable[[PackContext], LayerOutcome]


def _cited(context: PackContext) -> LayerOutcome:
    return cited_hashes(context), []


def _exports(context: PackContext) -> LayerOutcome:
    return export_citations(context), []


# In order: what each checks is said in the intact line.
MEANING_LAYERS: tuple[tuple[str, Layer], ...] = (
    ("raw file hashes cited by results.json", _cited),
    ("results re-derived from raw/", re_evaluation),
    ("exports cite results.json and raw/", _exports),
)


@dataclass
class Verification:
    """Everything verify found about one pack."""

    pack: str
    files: VerifyReport
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)  # the layers that ran

    @property
    def intact(self) -> bool:
        return self.files.intact and not self.findings

    def lines(self, quiet: bool = False) -> tuple[list[str], list[str]]:
        """What the command prints: (stdout lines, stderr lines). Quiet: differences only."""
        files = self.files
        out = [
            f"{label}: {name}" + (f" ({files.reasons[name]})" if name in files.reasons else "")
            for label, names in (
                ("changed", files.changed),
                ("missing", files.missing),
                ("added", files.extra),
            )
            for name in names
        ]
        if files.chain is not None and (files.chain.broken or not quiet):
            out.append(f"chain: {files.chain.message}")
        out += [finding.line() for finding in self.findings]
        if not quiet:
            out += [f"note: {note}" for note in self.notes]
        if self.intact:
            if quiet:
                return out, []
            done = "; ".join([f"{files.checked} files verified", *self.passed])
            return [*out, f"{self.pack}: intact ({done})"], []
        count = len(self.files.changed + self.files.missing + self.files.extra + self.findings)
        return out, [f"{self.pack}: NOT intact ({count} differences)"]


def verify(
    pack_dir: Path,
    hashes_only: bool = False,
    extra_layers: Sequence[tuple[str, Layer]] = (),
    label: str | None = None,
) -> Verification:
    """Run every layer on a pack folder. NotAPackError (exit 2) when it is not a pack.

    `extra_layers` run even with `hashes_only` (the signature check is as quick as the hashes).
    """
    result = Verification(label or str(pack_dir), verify_pack(pack_dir))
    context = PackContext.open(pack_dir)
    layers = list(extra_layers)
    if hashes_only:
        pass
    elif not _holds_evidence(pack_dir, result.files):  # a sealed sample folder, not a pack
        result.notes.append(f"no {RESULTS_FILE}: a sealed folder, its hashes only were checked")
    elif context.problem is not None:
        result.findings.append(context.problem)  # nothing to compare meaning against
    else:
        layers[:0] = MEANING_LAYERS
    for name, layer in layers:
        findings, notes = layer(context)
        result.findings.extend(findings)
        result.notes.extend(notes)
        if not findings and name:  # a nameless layer speaks through its notes
            result.passed.append(name)
    return result


def _holds_evidence(pack_dir: Path, files: VerifyReport) -> bool:
    """An evidence pack (results.json, raw/ or its catalogue, present or listed), as opposed to
    another sealed folder such as a drawn sample, whose meaning is not results to re-derive."""
    marks = (RESULTS_FILE, RAW_DIR, CONTROLS_COPY)
    return any((pack_dir / mark).exists() for mark in marks) or RESULTS_FILE in files.missing
