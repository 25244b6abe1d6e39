"""`bundle PACK`: one deterministic zip beside the pack, its SHA-256, and `verify` of the zip."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from evidence.pack.builder import sha256_file
from tests.conftest import CORE, collect_pack, emulated_aws
from tests.faultproxy import FaultProxy
from tests.test_pack import small_company


@pytest.fixture(scope="module")
def sealed(moto_url: str, proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("bundle")
    with emulated_aws(moto_url, proxy, tmp) as aws:
        small_company(aws)
        _, pack = collect_pack(tmp / "output", *CORE, "--region", "us-east-1")
    return pack


def bundle(cli: Any, pack: Path) -> tuple[Path, str]:
    run = cli("bundle", str(pack))
    assert run.code == 0, run.err
    digest, _, path = run.out.splitlines()[0].partition("  ")
    return Path(path), digest


def test_bundle_is_the_same_bytes_every_time(sealed: Path, cli: Any, tmp_path: Path) -> None:
    zip_path, digest = bundle(cli, sealed)
    assert zip_path == sealed.parent / f"{sealed.name}.zip"
    assert sha256_file(zip_path) == digest
    first = zip_path.read_bytes()
    os.utime(sealed / "results.json", (1, 1))  # file times must not matter
    again, digest_again = bundle(cli, sealed)
    assert again.read_bytes() == first and digest_again == digest
    sidecar = zip_path.with_name(zip_path.name + ".sha256")
    assert sidecar.read_text() == f"{digest}  {zip_path.name}\n"
    checked = subprocess.run(
        ["sha256sum", "-c", sidecar.name], cwd=zip_path.parent, capture_output=True, text=True
    )
    assert checked.returncode == 0 and f"{zip_path.name}: OK" in checked.stdout
    with zipfile.ZipFile(zip_path) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) and all(n.startswith(f"{sealed.name}/") for n in names)
    inside = {n.removeprefix(f"{sealed.name}/") for n in names}
    on_disk = {p.relative_to(sealed).as_posix() for p in sealed.rglob("*") if p.is_file()}
    assert inside == on_disk and {"manifest.json", "SHA256SUMS", "results.json"} <= inside
    assert len({i.date_time for i in infos}) == 1  # the pack's as-of time, for every entry
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert cli("verify", str(sealed)).code == 0  # the pack itself is untouched


def test_verify_accepts_the_zip(sealed: Path, cli: Any) -> None:
    zip_path, _ = bundle(cli, sealed)
    run = cli("verify", str(zip_path))
    assert run.code == 0, run.out + run.err
    assert f"{zip_path}: intact" in run.out


def _flip_byte_inside(zip_path: Path, entry: str) -> None:
    """Change one byte in the middle of an entry's compressed data."""
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo(entry)
    data = bytearray(zip_path.read_bytes())
    header = info.header_offset
    name_length = int.from_bytes(data[header + 26 : header + 28], "little")
    extra_length = int.from_bytes(data[header + 28 : header + 30], "little")
    start = header + 30 + name_length + extra_length
    data[start + info.compress_size // 2] ^= 0x01
    zip_path.write_bytes(bytes(data))


def test_a_changed_byte_in_the_zip_fails(sealed: Path, cli: Any, tmp_path: Path) -> None:
    zip_path, _ = bundle(cli, sealed)
    _flip_byte_inside(zip_path, f"{sealed.name}/results.json")
    run = cli("verify", str(zip_path))
    assert run.code == 1 and "Traceback" not in run.err
    assert "differs from" in run.out  # the .sha256 beside it
    zip_path.with_name(zip_path.name + ".sha256").unlink()
    run = cli("verify", str(zip_path))  # without the digest: the archive's own CRC catches it
    assert run.code == 1 and "damaged" in run.out


def test_a_file_changed_before_zipping_again_fails(sealed: Path, cli: Any, tmp_path: Path) -> None:
    """A zip rebuilt by hand around an edited file: every CRC and the digest agree, the manifest
    does not."""
    zip_path, _ = bundle(cli, sealed)
    forged = tmp_path / zip_path.name
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(forged, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith("/results.json"):
                content = content.replace(b'"fail"', b'"pass"')
            target.writestr(info, content)
    run = cli("verify", str(forged))
    assert run.code == 1 and "changed: results.json" in run.out


def test_bundle_refuses_a_pack_that_does_not_verify(sealed: Path, cli: Any, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / sealed.name
    shutil.copytree(sealed, copy)
    (copy / "results.json").write_text("{}")
    run = cli("bundle", str(copy))
    assert run.code == 2 and "does not verify (changed: results.json" in run.err
    assert not (tmp_path / f"{sealed.name}.zip").exists()


def test_an_unsafe_or_foreign_zip_is_not_a_pack(cli: Any, tmp_path: Path) -> None:
    unsafe = tmp_path / "unsafe.zip"
    with zipfile.ZipFile(unsafe, "w") as archive:
        archive.writestr("pack/../../escape.txt", "x")
    run = cli("verify", str(unsafe))
    assert run.code == 2 and "unsafe entry" in run.err
    assert not (tmp_path.parent / "escape.txt").exists()
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("hello")
    run = cli("verify", str(not_zip))
    assert run.code == 2 and "not a zip archive" in run.err and "Traceback" not in run.err
