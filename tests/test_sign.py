"""Signatures with a local key (--sign-key): manifest.sig.json written after manifest.json, checked
by `verify --public-key` and by the openssl commands README.txt prints, run as printed."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.conftest import REPO_CONTROLS, Aws
from tests.test_checks_iam import COMPLIANT_POLICY
from tests.test_verify_meaning import POLICY_FILE, edit_json, reseal, set_min_length

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


def write_key(folder: Path, kind: str, password: bytes | None = None) -> tuple[Path, Path]:
    """A private key file and its public key file (PEM)."""
    private: Any
    if kind == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif kind in ("p256", "p384"):
        private = ec.generate_private_key(ec.SECP256R1() if kind == "p256" else ec.SECP384R1())
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption: Any = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    key_file, public_file = folder / f"{kind}.key", folder / f"{kind}.pub.pem"
    key_file.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )
    public_file.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key_file, public_file


def readme_commands(pack: Path) -> list[str]:
    """The openssl commands README.txt prints, in order."""
    text = (pack / "README.txt").read_text()
    section = text.split("With openssl alone", 1)[1].split("The first command must", 1)[0]
    return [line.strip() for line in section.splitlines() if line.startswith("    ")]


def run_readme_commands(
    pack: Path, public_pem: Path | None, kms_public_key: bytes | None = None
) -> list[subprocess.CompletedProcess[str]]:
    """Runs them from the pack's folder's parent, as README.txt says. The AWS CLI is not
    installed here: its part of the KMS line is replaced by the same base64 text it prints."""
    if public_pem is not None:
        shutil.copy(public_pem, pack.parent / "public.pem")
    results = []
    for command in readme_commands(pack):
        if command.startswith("aws kms get-public-key"):
            assert kms_public_key is not None
            text = base64.b64encode(kms_public_key).decode()
            command = f"printf %s {text} | " + command.split(" | ", 1)[1]
        results.append(
            subprocess.run(
                ["bash", "-o", "pipefail", "-c", command],
                cwd=pack.parent,
                capture_output=True,
                text=True,
            )
        )
    return results


def signature_of(pack: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((pack / "manifest.sig.json").read_text())
    return document


@pytest.mark.parametrize(
    ("kind", "algorithm", "verified"),
    [
        ("ed25519", "ED25519", "Signature Verified Successfully"),
        ("p256", "ECDSA_SHA_256", "Verified OK"),
        ("p384", "ECDSA_SHA_384", "Verified OK"),
    ],
)
@needs_openssl
def test_a_signed_pack_verifies_with_the_tool_and_with_openssl_alone(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path, kind: str, algorithm: str, verified: str
) -> None:
    key, public = write_key(tmp_path, kind)
    run = collect("--only", "IAM-01", "--sign-key", str(key))
    assert run.code == 1  # no password policy in a fresh account
    pack = run.pack
    signature = signature_of(pack)
    assert signature["algorithm"] == algorithm and signature["key_arn"] is None
    assert signature["signed_statement"].endswith("  manifest.json\n")
    manifest = json.loads((pack / "manifest.json").read_text())
    assert "manifest.sig.json" not in {e["path"] for e in manifest["files"]}
    assert "manifest.sig.json" not in (pack / "SHA256SUMS").read_text()
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=pack, capture_output=True)
    assert sums.returncode == 0

    checked = cli("verify", str(pack), "--public-key", str(public), "--require-signature")
    assert checked.code == 0, checked.out + checked.err
    assert f"note: signature: valid, {algorithm} by public key SHA-256" in checked.out

    fingerprint, *_, last = run_readme_commands(pack, public)
    assert fingerprint.returncode == 0
    assert signature["public_key_sha256"] in fingerprint.stdout
    assert last.returncode == 0 and verified in last.stdout, last.stdout + last.stderr
    # Nothing was written inside the pack by the commands.
    assert cli("verify", str(pack), "--hashes-only").code == 0


@needs_openssl
def test_a_signature_over_a_changed_manifest_fails(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    """The issue's forger: raw file edited, manifest.json and SHA256SUMS regenerated. The
    signature still signs the old manifest."""
    aws.client("iam").update_account_password_policy(**COMPLIANT_POLICY)
    key, public = write_key(tmp_path, "p256")
    pack = collect("--only", "IAM-01", "--sign-key", str(key)).pack
    edit_json(pack / POLICY_FILE, lambda raw: set_min_length(raw, 4))
    reseal(pack)

    run = cli("verify", str(pack), "--public-key", str(public), "--hashes-only")
    assert run.code == 1
    assert "signature: manifest.json: manifest.json changed since it was signed" in run.out
    *_, last = run_readme_commands(pack, public)
    assert last.returncode != 0 and "Verified OK" not in last.stdout


def test_a_changed_signature_or_another_key_fails(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    key, public = write_key(tmp_path, "ed25519")
    _, other_public = write_key(tmp_path, "p256")
    pack = collect("--only", "IAM-01", "--sign-key", str(key)).pack

    other = cli("verify", str(pack), "--public-key", str(other_public))
    assert other.code == 1
    assert "signed by another key" in other.out

    def flip(document: dict[str, Any]) -> None:
        raw = bytearray(base64.b64decode(document["signature"]))
        raw[5] ^= 0x01
        document["signature"] = base64.b64encode(bytes(raw)).decode()

    edit_json(pack / "manifest.sig.json", flip)
    changed = cli("verify", str(pack), "--public-key", str(public))
    assert changed.code == 1
    assert "signature: manifest.sig.json: the ED25519 signature does not verify" in changed.out


def test_unsigned_packs_say_so_and_fail_only_when_a_signature_is_required(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    _, public = write_key(tmp_path, "ed25519")
    pack = collect("--only", "IAM-01").pack
    plain = cli("verify", str(pack))
    assert plain.code == 0 and "note: signature: unsigned" in plain.out
    required = cli("verify", str(pack), "--public-key", str(public), "--require-signature")
    assert required.code == 1
    assert "signature: manifest.sig.json: missing: the pack is unsigned" in required.out
    no_key = cli("verify", str(pack), "--require-signature")
    assert no_key.code == 2 and "--require-signature needs" in no_key.err


def test_a_signed_pack_checked_without_a_key_says_it_was_not_checked(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    key, _ = write_key(tmp_path, "p256")
    pack = collect("--only", "IAM-01", "--sign-key", str(key)).pack
    run = cli("verify", str(pack))
    assert run.code == 0
    assert "the manifest is the one signed" in run.out
    assert "not checked (give --public-key FILE or --kms)" in run.out


@pytest.mark.parametrize("hashes_only", [False, True])
def test_a_manifest_changed_after_signing_fails_without_a_key(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path, hashes_only: bool
) -> None:
    """manifest.sig.json records the SHA-256 of the manifest it signs: comparing needs no key.
    It once said "intact" with "signature not checked"."""
    aws.client("iam").update_account_password_policy(**COMPLIANT_POLICY)
    key, _ = write_key(tmp_path, "ed25519")
    pack = collect("--only", "IAM-01", "--sign-key", str(key)).pack
    edit_json(pack / POLICY_FILE, lambda raw: set_min_length(raw, 4))
    reseal(pack)
    run = cli("verify", str(pack), *(["--hashes-only"] if hashes_only else []))
    assert run.code == 1, run.out
    assert "signature: manifest.json: manifest.json changed since it was signed" in run.out
    assert "not checked" not in run.out


def test_a_signed_statement_that_is_not_the_manifest_line_fails_without_a_key(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    key, _ = write_key(tmp_path, "p256")
    pack = collect("--only", "IAM-01", "--sign-key", str(key)).pack

    def other_statement(document: dict[str, Any]) -> None:
        document["signed_statement"] = f"{'0' * 64}  manifest.json\n"

    edit_json(pack / "manifest.sig.json", other_statement)
    run = cli("verify", str(pack))
    assert run.code == 1
    assert "signature: manifest.sig.json: the signed statement is not" in run.out


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "cannot read the signing key"),
        ("rsa", "a RSAPrivateKey key cannot sign packs"),
        ("encrypted", "SOC_EVIDENCE_KEY_PASSPHRASE"),
        ("garbage", "not a private key this tool can read"),
    ],
)
def test_a_key_that_cannot_sign_stops_before_anything_is_collected(
    aws: Aws, collect: Any, tmp_path: Path, setup: str, message: str
) -> None:
    if setup == "missing":
        key = tmp_path / "nothing.pem"
    elif setup == "rsa":
        key, _ = write_key(tmp_path, "rsa")
    elif setup == "encrypted":
        key, _ = write_key(tmp_path, "p256", password=b"s3cret")
    else:
        key = tmp_path / "garbage.pem"
        key.write_text("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    run = collect("--only", "IAM-01", "--sign-key", str(key))
    assert run.code == 2
    assert message in run.err and "Traceback" not in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert run.packs == []
    assert aws.proxy.calls["GetCallerIdentity"] == 0  # nothing was collected


def test_an_encrypted_key_signs_with_its_passphrase(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, public = write_key(tmp_path, "p256", password=b"s3cret")
    monkeypatch.setenv("SOC_EVIDENCE_KEY_PASSPHRASE", "s3cret")
    pack = collect("--only", "IAM-01", "--sign-key", str(key)).pack
    assert cli("verify", str(pack), "--public-key", str(public)).code == 0


def test_export_signs_its_new_pack_and_leaves_the_original_as_it_was(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    key, public = write_key(tmp_path, "ed25519")
    original = collect("--only", "IAM-01").pack
    exported = cli("export", str(original), "--sign-key", str(key))
    assert exported.code in (0, 1)
    assert not (original / "manifest.sig.json").exists()
    assert signature_of(exported.pack)["algorithm"] == "ED25519"
    assert cli("verify", str(exported.pack), "--public-key", str(public)).code == 0


def test_demo_signs_with_a_local_key(tmp_path: Path) -> None:
    key, public = write_key(tmp_path, "ed25519")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    command = [sys.executable, "-m", "evidence", "demo", "--controls", str(REPO_CONTROLS)]
    result = subprocess.run(
        [*command, "--output", str(tmp_path / "out"), "--sign-key", str(key)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (pack,) = (tmp_path / "out").iterdir()
    assert signature_of(pack)["algorithm"] == "ED25519"
    verified = subprocess.run(
        [sys.executable, "-m", "evidence", "verify", str(pack), "--public-key", str(public)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_signature_file_that_is_a_link_is_a_change(
    aws: Aws, collect: Any, cli: Any, tmp_path: Path
) -> None:
    key, _ = write_key(tmp_path, "p256")
    pack = collect("--only", "IAM-01", "--sign-key", str(key)).pack
    outside = tmp_path / "elsewhere.sig.json"
    shutil.move(pack / "manifest.sig.json", outside)
    (pack / "manifest.sig.json").symlink_to(outside)
    run = cli("verify", str(pack), "--hashes-only")
    assert run.code == 1
    assert "added: manifest.sig.json (a symbolic link)" in run.out
