"""Verifying a sealed pack: every file's hash against the manifest, and SHA256SUMS against both."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import NotAPackError
from .builder import MANIFEST, SUMS, pack_files, sha256_file
from .chain import ChainLink, check_link


@dataclass(frozen=True)
class Finding:
    """One difference a verify layer found, named so it can be looked at: the layer (`cited`,
    `re-evaluated`, `exports`, `signature`, `s3`...), the file, and where relevant the control
    and the item (its stable id)."""

    layer: str
    file: str
    message: str
    control: str = ""
    item: str = ""

    def line(self) -> str:
        where = [self.file, self.control, f"item {self.item}" if self.item else ""]
        return f"{self.layer}: " + ": ".join([w for w in where if w] + [self.message])


@dataclass
class VerifyReport:
    pack: Path
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    chain: ChainLink | None = None  # the link to the previous pack of the same scope

    @property
    def intact(self) -> bool:
        broken_chain = self.chain is not None and self.chain.broken
        return not (self.changed or self.missing or self.extra or broken_chain)


def read_manifest(pack_dir: Path) -> dict[str, object]:
    manifest_path = pack_dir / MANIFEST
    if not pack_dir.is_dir():
        raise NotAPackError(f"{pack_dir}: not a folder")
    if not manifest_path.is_file():
        raise NotAPackError(f"{pack_dir}: not an evidence pack (no {MANIFEST})")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotAPackError(f"{manifest_path}: unreadable manifest ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise NotAPackError(f"{manifest_path}: not an evidence pack manifest")
    return manifest


def verify_pack(pack_dir: Path) -> VerifyReport:
    manifest = read_manifest(pack_dir)
    report = VerifyReport(pack_dir)
    listed: dict[str, str] = {}
    for entry in manifest["files"]:  # type: ignore[attr-defined]
        relative = str(entry["path"])
        listed[relative] = str(entry["sha256"])
        path = pack_dir / relative
        report.checked += 1
        if not path.is_file():
            report.missing.append(relative)
        elif path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
            report.changed.append(relative)
    report.extra.extend(r for r in pack_files(pack_dir) if r not in listed)
    _verify_sums(pack_dir, report, listed)
    report.chain = check_link(pack_dir)
    return report


def _verify_sums(pack_dir: Path, report: VerifyReport, listed: dict[str, str]) -> None:
    """SHA256SUMS must agree with the manifest's list and hash the manifest as it is on disk."""
    sums_path = pack_dir / SUMS
    if not sums_path.is_file():
        report.missing.append(SUMS)
        return
    report.checked += 1
    expected: dict[str, str] = {}
    for line in sums_path.read_text(encoding="utf-8", errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    manifest_digest = expected.pop(MANIFEST, None)
    if manifest_digest != sha256_file(pack_dir / MANIFEST):
        # Either file may have been edited; both are named so nothing is hidden.
        report.changed.extend([MANIFEST, SUMS])
    elif expected != listed:
        report.changed.append(SUMS)
