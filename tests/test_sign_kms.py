"""Signatures with an AWS KMS key (--sign-kms), on the moto server: Sign with MessageType=RAW
over the statement naming the manifest's hash, checked locally with GetPublicKey's key."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests.conftest import ACCOUNT, Aws
from tests.test_checks_iam import COMPLIANT_POLICY
from tests.test_sign import readme_commands, run_readme_commands, signature_of
from tests.test_verify_meaning import POLICY_FILE, edit_json, reseal, set_min_length

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


def kms_key(aws: Aws, spec: str, usage: str = "SIGN_VERIFY") -> str:
    metadata = aws.client("kms").create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]
    return str(metadata["Arn"])


@pytest.mark.parametrize(
    ("spec", "algorithm"),
    [("ECC_NIST_P256", "ECDSA_SHA_256"), ("RSA_2048", "RSASSA_PSS_SHA_256")],
)
@needs_openssl
def test_a_kms_signed_pack_verifies_with_the_tool_and_with_openssl_alone(
    aws: Aws, collect: Any, cli: Any, spec: str, algorithm: str
) -> None:
    arn = kms_key(aws, spec)
    run = collect("--only", "IAM-01", "--sign-kms", arn)
    assert run.code == 1
    signature = signature_of(run.pack)
    assert (signature["algorithm"], signature["key_arn"]) == (algorithm, arn)
    # Signing is not evidence: the KMS calls are not in raw/.
    assert not any("kms" in p.name for p in (run.pack / "raw").rglob("*"))
    assert "kms:Sign" not in run.results["run"]["calls_per_operation"]

    checked = cli("verify", str(run.pack), "--kms", "--require-signature")
    assert checked.code == 0, checked.out + checked.err
    assert f"signature: valid, {algorithm} by {arn}, checked with AWS KMS key {arn}" in checked.out

    assert readme_commands(run.pack)[0].startswith(f"aws kms get-public-key --key-id {arn} ")
    public = aws.client("kms").get_public_key(KeyId=arn)["PublicKey"]
    results = run_readme_commands(run.pack, None, kms_public_key=public)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert signature["public_key_sha256"] in results[1].stdout
    assert "Verified OK" in results[-1].stdout


def test_an_alias_signs_and_the_signature_names_the_key_arn(
    aws: Aws, collect: Any, cli: Any
) -> None:
    arn = kms_key(aws, "ECC_NIST_P256")
    aws.client("kms").create_alias(AliasName="alias/evidence-packs", TargetKeyId=arn)
    pack = collect("--only", "IAM-01", "--sign-kms", "alias/evidence-packs").pack
    assert signature_of(pack)["key_arn"] == arn
    assert cli("verify", str(pack), "--kms", "alias/evidence-packs").code == 0


def test_a_kms_signature_over_a_changed_manifest_fails(aws: Aws, collect: Any, cli: Any) -> None:
    aws.client("iam").update_account_password_policy(**COMPLIANT_POLICY)
    arn = kms_key(aws, "ECC_NIST_P256")
    pack = collect("--only", "IAM-01", "--sign-kms", arn).pack
    edit_json(pack / POLICY_FILE, lambda raw: set_min_length(raw, 4))
    reseal(pack)
    run = cli("verify", str(pack), "--kms")
    assert run.code == 1
    assert "signature: manifest.json: manifest.json changed since it was signed" in run.out
    assert f"cited: {POLICY_FILE}: IAM-01" in run.out


def test_verify_with_another_kms_key_fails(aws: Aws, collect: Any, cli: Any) -> None:
    signing, other = kms_key(aws, "ECC_NIST_P256"), kms_key(aws, "ECC_NIST_P256")
    pack = collect("--only", "IAM-01", "--sign-kms", signing).pack
    run = cli("verify", str(pack), "--kms", other)
    assert run.code == 1
    assert "signed by another key" in run.out


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("symmetric", "must be an enabled SIGN_VERIFY key"),
        ("disabled", "must be an enabled SIGN_VERIFY key"),
        ("unknown", "cannot be used to sign (NotFoundException"),
        ("p384", "offers ECDSA_SHA_384; packs are signed with ECDSA_SHA_256 or RSASSA_PSS"),
    ],
)
def test_a_kms_key_that_cannot_sign_stops_before_anything_is_collected(
    aws: Aws, collect: Any, kind: str, message: str
) -> None:
    kms = aws.client("kms")
    if kind == "symmetric":
        key = kms.create_key()["KeyMetadata"]["Arn"]
    elif kind == "disabled":
        key = kms_key(aws, "ECC_NIST_P256")
        kms.disable_key(KeyId=key.split("/")[-1])  # moto answers 500 to an ARN here
    elif kind == "p384":
        key = kms_key(aws, "ECC_NIST_P384")
    else:
        key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
    run = collect("--only", "IAM-01", "--sign-kms", key)
    assert run.code == 2
    assert len(run.err.strip().splitlines()) == 1 and "Traceback" not in run.err
    assert run.packs == []
    assert aws.proxy.calls["GetCallerIdentity"] == 0
    assert message in run.err


def test_a_sign_that_fails_after_collecting_keeps_the_pack_unsigned(
    aws: Aws, collect: Any, cli: Any
) -> None:
    """Collected evidence is never thrown away because a later step failed."""
    arn = kms_key(aws, "ECC_NIST_P256")
    aws.proxy.fail("Sign", "AccessDeniedException", status=400, message="not allowed to sign")
    run = collect("--only", "IAM-01", "--sign-kms", arn)
    assert run.code == 3
    assert "the pack was written NOT signed" in run.err and "AccessDeniedException" in run.err
    assert not (run.pack / "manifest.sig.json").exists()
    verified = cli("verify", str(run.pack))
    assert verified.code == 0 and "signature: unsigned" in verified.out
