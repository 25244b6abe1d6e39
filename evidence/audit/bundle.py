"""`bundle PACK`: the pack as one deterministic zip beside it, for handing to the auditor.

The same pack gives the same bytes every time: entries sorted by path under one folder named
after the pack, each stamped with the pack's as-of time, fixed permissions and one compression
level. Its SHA-256 is printed and written to `<zip>.sha256` in `sha256sum` format. `verify`
accepts the zip: it checks the `.sha256` beside it when there is one, every entry's CRC, and
then the unpacked pack as it would a folder.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import NotAPackError
from ..evaluate.results import read_results
from ..pack.chain import check_link
from ..pack.raw import parse_utc
from ..pack.verify import VerifyReport, verify_pack
from .gate import require_outside, require_verified

BUNDLE_SUFFIX = ".zip"
DIGEST_SUFFIX = ".sha256"
_FILE_MODE = 0o100644 << 16  # a regular file, rw-r--r--
_UNIX = 3  # "made on Unix": the meaning of the mode bits above, whatever builds it
_LEVEL = 6


@dataclass(frozen=True)
class Bundle:
    path: Path
    sha256: str
    files: int


def write_bundle(pack_dir: Path, output_dir: Path | None = None) -> Bundle:
    """Zip a verified pack into `<output_dir or beside it>/<pack>.zip` and `<zip>.sha256`.

    Raises NotAPackError when the folder is not a pack, does not verify, or holds a link or
    anything other than regular files and folders.
    """
    require_verified(pack_dir, "bundle it")
    stamp = parse_utc(read_results(pack_dir)["run"]["as_of"]).timetuple()[:6]
    files = _pack_files(pack_dir)
    target_dir = output_dir if output_dir is not None else pack_dir.parent
    require_outside((pack_dir,), target_dir, "--output")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{pack_dir.name}{BUNDLE_SUFFIX}"
    partial = target.with_name(f".{target.name}.partial")
    with zipfile.ZipFile(partial, "w", compresslevel=_LEVEL) as archive:
        for relative in files:
            info = zipfile.ZipInfo(f"{pack_dir.name}/{relative}", date_time=stamp)
            info.external_attr = _FILE_MODE
            info.create_system = _UNIX
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = (pack_dir / relative).stat().st_size  # zip64 decided up front
            with (pack_dir / relative).open("rb") as source, archive.open(info, "w") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
    digest = _sha256(partial)
    partial.replace(target)
    sidecar = target.with_name(target.name + DIGEST_SUFFIX)
    sidecar.write_text(f"{digest}  {target.name}\n", encoding="utf-8")
    return Bundle(target, digest, len(files))


def _pack_files(pack_dir: Path) -> list[str]:
    files = []
    for path in sorted(pack_dir.rglob("*")):
        relative = path.relative_to(pack_dir).as_posix()
        if path.is_symlink():
            raise NotAPackError(f"{pack_dir}: {relative} is a link; refusing to bundle it")
        if path.is_file():
            files.append(relative)
    return sorted(files)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class BundleReport:
    """verify of a zip: the digest beside it, the archive's own checks, the unpacked pack."""

    bundle: Path
    digest_problem: str | None = None  # the .sha256 beside it disagrees
    archive_problem: str | None = None  # a corrupt entry (CRC), or an unsafe or foreign layout
    pack: VerifyReport | None = None

    @property
    def intact(self) -> bool:
        return (
            self.digest_problem is None
            and self.archive_problem is None
            and self.pack is not None
            and self.pack.intact
        )


def is_bundle(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == BUNDLE_SUFFIX


def verify_bundle(path: Path) -> BundleReport:
    """Verify a bundle. Raises NotAPackError when it is not a zip holding one pack."""
    report = BundleReport(path)
    sidecar = path.with_name(path.name + DIGEST_SUFFIX)
    if sidecar.is_file():
        recorded = sidecar.read_text(encoding="utf-8", errors="replace").split(maxsplit=1)
        found = _sha256(path)
        if not recorded or recorded[0].lower() != found:
            written = recorded[0] if recorded else "empty"
            report.digest_problem = f"SHA-256 {found} differs from {sidecar.name} ({written})"
    try:
        with unpacked(path) as pack_dir:
            report.pack = verify_pack(pack_dir)
            # The link is checked against the packs beside the zip, where the chain lives.
            report.pack.chain = check_link(pack_dir, beside=path.parent)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        # A changed byte inside deflated data fails the CRC or, earlier, the decompressor.
        report.archive_problem = f"the archive is damaged ({exc})"
    return report


@contextmanager
def unpacked(path: Path) -> Iterator[Path]:
    """The pack inside a bundle, extracted into a temporary folder removed afterwards.

    Every entry's CRC is checked while extracting (zipfile raises BadZipFile on a mismatch);
    NotAPackError for an archive that is not one folder of plain relative paths.
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise NotAPackError(f"{path}: not a zip archive ({exc})") from None
    with archive, tempfile.TemporaryDirectory(prefix="soc-evidence-bundle-") as temp:
        names = archive.namelist()
        tops = {PurePosixPath(n).parts[0] for n in names if PurePosixPath(n).parts}
        if len(tops) != 1:
            raise NotAPackError(
                f"{path}: not a pack bundle (expected one top folder, found {len(tops)})"
            )
        root = Path(temp)
        for info in archive.infolist():
            parts = PurePosixPath(info.filename).parts
            if info.filename.startswith("/") or ".." in parts or "\\" in info.filename:
                raise NotAPackError(f"{path}: unsafe entry {info.filename!r}")
            if info.is_dir():
                continue
            target = root.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
        yield root / next(iter(tops))
