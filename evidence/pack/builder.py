"""Pack folders: built hidden, sealed with a manifest last, renamed into place.

An interrupted run leaves at most a hidden `.partial-*` folder with no manifest: never a folder that
looks like a finished pack.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from .. import TOOL_NAME, __version__
from .raw import json_bytes
from .signing import SIGNATURE_FILE, Signer, SigningError, signature_document

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


def pack_files(pack_dir: Path) -> Iterator[str]:
    """Every file of a pack as a POSIX path relative to it, sorted; the seal files excluded."""
    for path in sorted(pack_dir.rglob("*")):
        if path.is_file():
            relative = path.relative_to(pack_dir).as_posix()
            if relative not in _SEAL_FILES:
                yield relative


class PackDiscardedError(RuntimeError):
    """A write arrived after the run was abandoned."""


class PackBuilder:
    """A pack under construction in a hidden folder beside its final place."""

    def __init__(self, output_dir: Path) -> None:
        output_dir.mkdir(parents=True, exist_ok=True)
        self.output_dir = output_dir
        self.dir = Path(tempfile.mkdtemp(prefix=_PARTIAL_PREFIX, dir=output_dir))
        self._lock = threading.Lock()
        self._discarded = False
        self.signing_error: str | None = None  # why a pack asked to be signed was not

    def write_bytes(self, relative: str, content: bytes) -> None:
        """Write a file into the pack; refused once the pack was discarded, so a worker thread
        that finishes late cannot bring a half-built folder back."""
        with self._lock:
            if self._discarded:
                raise PackDiscardedError(relative)
            target = self.dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)

    def write_json(self, relative: str, data: object) -> None:
        self.write_bytes(relative, json_bytes(data))

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
        (self.dir / SUMS).write_text("\n".join(sums) + "\n", encoding="utf-8")
        if signer is not None:
            try:
                manifest = (self.dir / MANIFEST).read_bytes()
                self.write_json(SIGNATURE_FILE, signature_document(signer, manifest))
            except SigningError as exc:
                self.signing_error = str(exc)
        _fsync_tree(self.dir)
        final = self.output_dir / name
        if final.exists():  # another run took the name meanwhile: never move into or over it
            raise FileExistsError(f"{final} appeared while this pack was being built")
        os.rename(self.dir, final)
        return final


def _fsync_tree(root: Path) -> None:
    # The rename is the commit point: make sure the content is on disk before it.
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
