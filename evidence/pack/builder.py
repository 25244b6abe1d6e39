"""Pack folders: built hidden, sealed with a manifest last, renamed into place.

An interrupted run leaves at most a hidden `.partial-*` folder with no manifest: never a folder that
looks like a finished pack. A pack's folders are 0700 and its files 0600 (readable by the user who
made it only) unless a wider PackMode is asked for: it holds the account's configuration.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from .. import TOOL_NAME, __version__
from ..errors import UsageError
from .raw import write_json_stream
from .signing import SIGNATURE_FILE, Signer, SigningError, signature_document

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
_SEAL_FILES = {MANIFEST, SUMS, SIGNATURE_FILE}
_PARTIAL_PREFIX = ".partial-"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class PackMode:
    """Permissions of a pack's folders and files (`--share-mode`)."""

    name: str
    folders: int
    files: int


PRIVATE = PackMode("private", 0o700, 0o600)
SHARE_MODES = {
    mode.name: mode
    for mode in (PRIVATE, PackMode("group", 0o750, 0o640), PackMode("world", 0o755, 0o644))
}

FILE, SYMLINK, OTHER = "file", "symlink", "other"


def pack_entries(pack_dir: Path) -> dict[str, str]:
    """Every entry under a pack (POSIX path relative to it) and its kind: FILE, SYMLINK or OTHER
    (fifo, socket, device). Symbolic links are listed, never followed, so a pack can hold
    nothing that lives outside it."""
    entries: dict[str, str] = {}
    for folder, dirs, files in os.walk(pack_dir):
        base = Path(folder)
        for name in [*dirs, *files]:
            path = base / name
            relative = path.relative_to(pack_dir).as_posix()
            if path.is_symlink():
                entries[relative] = SYMLINK
            elif name in files:
                entries[relative] = FILE if stat.S_ISREG(path.lstat().st_mode) else OTHER
    return dict(sorted(entries.items()))


def pack_files(pack_dir: Path) -> Iterator[str]:
    """Every regular file of a pack as a POSIX path relative to it, sorted; the seal files
    excluded."""
    for relative, kind in pack_entries(pack_dir).items():
        if kind == FILE and relative not in _SEAL_FILES:
            yield relative


class SealedPacks:
    """The packs this process is sealing: after an interruption, those that exist are complete
    (the rename into place is the last step), so the command can name them."""

    def __init__(self) -> None:
        self._paths: list[Path] = []

    def sealing(self, final: Path) -> None:
        self._paths.append(final)

    def sealed(self) -> list[Path]:
        return [path for path in self._paths if (path / MANIFEST).is_file()]


def writable_output(output_dir: Path) -> Path:
    """`output_dir`, created if needed; UsageError when it is a file or cannot be written."""
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryDirectory(prefix=_PARTIAL_PREFIX, dir=output_dir).cleanup()
    except FileExistsError:
        raise UsageError(f"--output {output_dir}: is a file, not a folder") from None
    except OSError as exc:
        raise UsageError(
            f"--output {output_dir}: cannot write there ({exc.strerror or exc})"
        ) from None
    return output_dir


class PackDiscardedError(RuntimeError):
    """A write arrived after the run was abandoned."""


class PackBuilder:
    """A pack under construction in a hidden folder beside its final place."""

    def __init__(
        self, output_dir: Path, mode: PackMode = PRIVATE, ledger: SealedPacks | None = None
    ) -> None:
        """Raises UsageError when `output_dir` is not a folder that can be written to: checked
        before anything is collected, so no evidence is gathered for nothing."""
        # The folders this run creates for --output: removed again if no pack comes of it
        # (bad credentials, Ctrl-C), so a failed run leaves nothing behind.
        self._created = [p for p in (output_dir, *output_dir.parents) if not p.exists()]
        self.dir = Path(tempfile.mkdtemp(prefix=_PARTIAL_PREFIX, dir=writable_output(output_dir)))
        self.output_dir = output_dir
        self.mode = mode
        self._ledger = ledger
        self._lock = threading.Lock()
        self._discarded = False
        self.signing_error: str | None = None  # why a pack asked to be signed was not

    def write_bytes(self, relative: str, content: bytes) -> None:
        """Write a file into the pack; refused once the pack was discarded, so a worker thread
        that finishes late cannot bring a half-built folder back."""
        with self._create(relative) as handle:
            handle.write(content)

    def _create(self, relative: str) -> BinaryIO:
        """The new file, opened for writing. Only creating it needs the lock: a write that goes
        on after the pack was discarded lands in a file no folder holds any more."""
        with self._lock:
            if self._discarded:
                raise PackDiscardedError(relative)
            target = self.dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
            return os.fdopen(os.open(target, flags, self.mode.files), "wb")

    def remove(self, relative: str) -> None:
        """Remove a file written during the build (a failed exporter's partial output)."""
        with self._lock:
            (self.dir / relative).unlink(missing_ok=True)

    def write_json(self, relative: str, data: object) -> None:
        """`data` as JSON (raw.json_bytes's form), encoded straight into the file: results.json
        of a whole organisation is never held again as text."""
        with self._create(relative) as handle:
            write_json_stream(data, handle)

    def __enter__(self) -> PackBuilder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.discard()

    def discard(self) -> None:
        with self._lock:
            self._discarded = True
            shutil.rmtree(self.dir, ignore_errors=True)
            for folder in self._created:  # deepest first; one holding anything else stays
                try:
                    folder.rmdir()
                except OSError:
                    break

    def free_name(self, name: str) -> str:
        """The pack's final folder name: `name`, or `name-2`... if a pack of that name exists
        (two runs finishing in the same second). Chosen before anything inside names it."""
        candidate, n = name, 1
        while (self.output_dir / candidate).exists():
            n += 1
            candidate = f"{name}-{n}"
        return candidate

    def seal(self, name: str, created: str, signer: Signer | None = None) -> Path:
        """Write manifest.json and SHA256SUMS (hashing every other file), and manifest.sig.json
        when a signer is given, then move into place under exactly `name` (from free_name): the
        files inside name the folder they are in.

        A signature that fails at this point (the key was checked before collecting) leaves the
        pack unsigned, never unwritten: `signing_error` says why."""
        entries = []
        for relative in pack_files(self.dir):
            path = self.dir / relative
            entries.append(
                {"path": relative, "size": path.stat().st_size, "sha256": sha256_file(path)}
            )
        self.write_json(
            MANIFEST,
            {
                "schema_version": 1,
                "pack": name,
                "tool": TOOL_NAME,
                "tool_version": __version__,
                "created": created,
                "algorithm": "sha256",
                "files": entries,
            },
        )
        sums = [f"{e['sha256']}  {e['path']}" for e in entries]
        sums.append(f"{sha256_file(self.dir / MANIFEST)}  {MANIFEST}")
        self.write_bytes(SUMS, ("\n".join(sums) + "\n").encode("utf-8"))
        if signer is not None:
            try:
                manifest = (self.dir / MANIFEST).read_bytes()
                self.write_json(SIGNATURE_FILE, signature_document(signer, manifest))
            except SigningError as exc:
                self.signing_error = str(exc)
        _apply_mode(self.dir, self.mode)
        _fsync_tree(self.dir)
        final = self.output_dir / name
        if final.exists():  # another run took the name meanwhile: never move into or over it
            raise FileExistsError(f"{final} appeared while this pack was being built")
        if self._ledger is not None:
            self._ledger.sealing(final)
        os.rename(self.dir, final)
        log.debug("sealed %s: %d files", final, len(entries))
        return final


def _apply_mode(root: Path, mode: PackMode) -> None:
    # Files copied in (raw/ of an earlier pack, attachments) keep their source's mode otherwise.
    root.chmod(mode.folders)
    for folder, dirs, files in os.walk(root):
        for names, bits in ((dirs, mode.folders), (files, mode.files)):
            for name in names:
                path = os.path.join(folder, name)
                if not os.path.islink(path):  # a link is never followed out of the pack
                    os.chmod(path, bits)


def _fsync_tree(root: Path) -> None:
    # The rename is the commit point: make sure the content is on disk before it.
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
