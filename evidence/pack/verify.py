"""Verifying a sealed pack: every file's hash against the manifest, and SHA256SUMS against both.

A pack holds regular files only: a symbolic link (even to an identical copy) is a change, never
followed. A folder that is recognisably a pack (SHA256SUMS or raw/run.json) whose manifest is
missing or unreadable is a changed pack (exit 1), checked as far as SHA256SUMS allows; only a
folder with none of a pack's files is "not a pack" (exit 2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import NotAPackError
from .builder import FILE, MANIFEST, SUMS, SYMLINK, pack_entries, sha256_file
from .chain import ChainLink, check_link
from .runinfo import RUN_FILE
from .signing import SIGNATURE_FILE

_PACK_MARKERS = (SUMS, RUN_FILE)


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
    # Why a file is named, where a hash alone does not say it (a symbolic link, a bad manifest).
    reasons: dict[str, str] = field(default_factory=dict)
    chain: ChainLink | None = None  # the link to the previous pack of the same scope

    @property
    def intact(self) -> bool:
        broken_chain = self.chain is not None and self.chain.broken
        return not (self.changed or self.missing or self.extra or broken_chain)

    def change(self, relative: str, reason: str | None = None) -> None:
        if relative not in self.changed:
            self.changed.append(relative)
        if reason:
            self.reasons[relative] = reason


def read_manifest(pack_dir: Path) -> dict[str, object]:
    """The manifest, or NotAPackError naming what is wrong (missing, a link, unreadable)."""
    manifest_path = pack_dir / MANIFEST
    if not pack_dir.is_dir():
        raise NotAPackError(f"{pack_dir}: not a folder")
    if manifest_path.is_symlink():
        raise NotAPackError(f"{manifest_path}: is a symbolic link, not the pack's manifest")
    if not manifest_path.is_file():
        raise NotAPackError(f"{pack_dir}: not an evidence pack (no {MANIFEST})")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotAPackError(f"{manifest_path}: unreadable manifest ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise NotAPackError(f"{manifest_path}: not an evidence pack manifest")
    return manifest


def looks_like_pack(pack_dir: Path) -> bool:
    return any(
        (pack_dir / marker).exists() or (pack_dir / marker).is_symlink() for marker in _PACK_MARKERS
    )


def verify_pack(pack_dir: Path) -> VerifyReport:
    """Every file checked; NotAPackError (exit 2) only for a folder that is not a pack at all."""
    try:
        manifest = read_manifest(pack_dir)
    except NotAPackError as exc:
        if not pack_dir.is_dir() or not looks_like_pack(pack_dir):
            raise
        return _verify_without_manifest(pack_dir, str(exc))
    entries = pack_entries(pack_dir)
    report = VerifyReport(pack_dir)
    listed = _listed(manifest, report)
    _check_files(pack_dir, entries, listed, report)
    _verify_sums(pack_dir, entries, report, listed)
    report.chain = check_link(pack_dir)
    return report


def _listed(manifest: dict[str, object], report: VerifyReport) -> dict[str, tuple[str, int | None]]:
    listed: dict[str, tuple[str, int | None]] = {}
    for entry in manifest["files"]:  # type: ignore[attr-defined]
        try:
            relative, digest, size = str(entry["path"]), str(entry["sha256"]), int(entry["size"])
        except (KeyError, TypeError, ValueError):
            report.change(MANIFEST, f"an entry is not path, size and sha256: {entry!r}"[:200])
            continue
        if not _inside(relative):
            report.change(MANIFEST, f"lists a path outside the pack: {relative!r}")
            continue
        listed[relative] = (digest, size)
    return listed


def _inside(relative: str) -> bool:
    path = PurePosixPath(relative)
    return bool(relative) and not path.is_absolute() and ".." not in path.parts


def _check_files(
    pack_dir: Path,
    entries: dict[str, str],
    listed: dict[str, tuple[str, int | None]],
    report: VerifyReport,
) -> None:
    for relative, (digest, size) in listed.items():
        report.checked += 1
        kind = entries.get(relative)
        path = pack_dir / relative
        if kind is None:
            report.missing.append(relative)
        elif kind == SYMLINK:
            report.change(relative, "replaced by a symbolic link")
        elif kind != FILE:
            report.change(relative, "no longer a regular file")
        elif (size is not None and path.stat().st_size != size) or sha256_file(path) != digest:
            report.change(relative)
    for relative, kind in entries.items():
        if relative in listed or relative in (MANIFEST, SUMS):  # the seal: checked on its own
            continue
        if relative == SIGNATURE_FILE and kind == FILE:  # written after the seal: checked by
            continue  # the signature layer, against the manifest it signs
        report.extra.append(relative)
        if kind == SYMLINK:
            report.reasons[relative] = "a symbolic link"
        elif kind != FILE:
            report.reasons[relative] = "not a regular file"


def _read_sums(pack_dir: Path, entries: dict[str, str]) -> dict[str, str] | None:
    if entries.get(SUMS) != FILE:
        return None
    expected: dict[str, str] = {}
    text = (pack_dir / SUMS).read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    return expected


def _verify_sums(
    pack_dir: Path,
    entries: dict[str, str],
    report: VerifyReport,
    listed: dict[str, tuple[str, int | None]],
) -> None:
    """SHA256SUMS must agree with the manifest's list and hash the manifest as it is on disk."""
    expected = _read_sums(pack_dir, entries)
    if expected is None:
        if SUMS in entries:
            report.change(SUMS, "not a regular file")
        else:
            report.missing.append(SUMS)
        return
    report.checked += 1
    manifest_digest = expected.pop(MANIFEST, None)
    if manifest_digest != sha256_file(pack_dir / MANIFEST):
        # Either file may have been edited; both are named so nothing is hidden.
        report.change(MANIFEST)
        report.change(SUMS)
    elif expected != {name: digest for name, (digest, _) in listed.items()}:
        report.change(SUMS)


def _verify_without_manifest(pack_dir: Path, problem: str) -> VerifyReport:
    """A pack whose manifest is gone or damaged: that is a change; the other files are still
    checked against SHA256SUMS when it is there."""
    report = VerifyReport(pack_dir)
    entries = pack_entries(pack_dir)
    if MANIFEST in entries:
        report.change(MANIFEST, problem.removeprefix(f"{pack_dir / MANIFEST}: "))
    else:
        report.missing.append(MANIFEST)
        report.reasons[MANIFEST] = "the manifest is missing"
    expected = _read_sums(pack_dir, entries)
    if expected is None:
        report.missing.append(SUMS)
        return report
    expected.pop(MANIFEST, None)
    listed: dict[str, tuple[str, int | None]] = {
        name: (digest, None) for name, digest in expected.items() if _inside(name)
    }
    _check_files(pack_dir, entries, listed, report)
    return report
