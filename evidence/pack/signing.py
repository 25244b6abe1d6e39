"""manifest.sig.json: a signature over manifest.json, by an AWS KMS key or a local private key.

The signed message is the line `sha256sum manifest.json` prints, "<SHA-256>  manifest.json\\n":
81 bytes that name the manifest's hash, which in turn hashes every other file. It is signed as a
message, never as a digest: AWS KMS `Sign` with `MessageType=RAW` hashes it with the algorithm's
SHA-256 and signs, exactly what `openssl dgst -sha256 -verify` checks, and the same on moto
(whose `Sign` ignores `MessageType=DIGEST` and would hash a digest again). RAW messages may be up
to 4,096 bytes (AWS KMS API Reference, Sign), so the manifest itself could not be sent.

Algorithms, named as AWS KMS names them: ECDSA_SHA_256 (KMS ECC_NIST_P256, or a local P-256 key;
local P-384 and P-521 keys sign with ECDSA_SHA_384 and ECDSA_SHA_512), RSASSA_PSS_SHA_256 (KMS
RSA keys: PSS with MGF1-SHA-256 and a 32-byte salt on AWS) and ED25519 (local Ed25519 keys).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from .. import TOOL_NAME, __version__
from ..errors import EvidenceToolError
from .raw import utc_iso

SIGNATURE_FILE = "manifest.sig.json"
SIGNED_FILE = "manifest.json"
PASSPHRASE_ENV = "SOC_EVIDENCE_KEY_PASSPHRASE"

ECDSA_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "ECDSA_SHA_256": hashes.SHA256,
    "ECDSA_SHA_384": hashes.SHA384,
    "ECDSA_SHA_512": hashes.SHA512,
}
_CURVE_ALGORITHMS = {"secp256r1": "ECDSA_SHA_256", "secp384r1": "ECDSA_SHA_384"}
_CURVE_ALGORITHMS["secp521r1"] = "ECDSA_SHA_512"
RSA_PSS = "RSASSA_PSS_SHA_256"
ED25519 = "ED25519"
# The KMS algorithms the issue asks for, in order of preference.
KMS_ALGORITHMS = ("ECDSA_SHA_256", RSA_PSS)

PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey


class SigningError(EvidenceToolError):
    """A key that cannot sign or check a pack: unreadable, of an unsupported kind, refused."""


def signed_statement(manifest: bytes) -> bytes:
    """The message signed: `sha256sum manifest.json`'s line for these manifest bytes."""
    return f"{hashlib.sha256(manifest).hexdigest()}  {SIGNED_FILE}\n".encode("ascii")


def fingerprint(public_key: PublicKey) -> str:
    """SHA-256 (hex) of the DER SubjectPublicKeyInfo: what `openssl pkey -pubin -outform DER |
    openssl dgst -sha256` prints for the same key."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class SignerKey:
    """What is known of a signing key before anything is signed (README.txt says it)."""

    algorithm: str
    public_key_sha256: str
    key_arn: str | None = None  # AWS KMS keys

    def describe(self) -> str:
        where = f"AWS KMS key {self.key_arn}" if self.key_arn else "a local key"
        return f"{where} (public key SHA-256 {self.public_key_sha256})"


class Signer(Protocol):
    """Signs a message (the statement); raises SigningError when it cannot."""

    @property
    def key(self) -> SignerKey: ...

    def sign(self, message: bytes) -> bytes: ...


def signature_document(signer: Signer, manifest: bytes) -> dict[str, Any]:
    """The content of manifest.sig.json for these manifest bytes."""
    statement = signed_statement(manifest)
    signature = signer.sign(statement)
    key = signer.key
    return {
        "schema_version": 1,
        "signs": SIGNED_FILE,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "signed_statement": statement.decode("ascii"),
        "algorithm": key.algorithm,
        "key_arn": key.key_arn,
        "public_key_sha256": key.public_key_sha256,
        "signed_at": utc_iso(datetime.now(UTC)),
        "tool": TOOL_NAME,
        "tool_version": __version__,
        "signature": base64.b64encode(signature).decode("ascii"),
    }


def check_signed_digest(document: Mapping[str, Any], manifest: bytes) -> str | None:
    """None when manifest.sig.json's `manifest_sha256` and `signed_statement` are those of these
    manifest bytes; else what differs, in one line. Needs no key: a manifest changed after
    signing is found whether or not the auditor has the public key at hand."""
    signed_sha = str(document.get("manifest_sha256", ""))
    actual_sha = hashlib.sha256(manifest).hexdigest()
    if signed_sha != actual_sha:
        return (
            f"{SIGNED_FILE} changed since it was signed"
            f" (signed {signed_sha[:16]}…, now {actual_sha[:16]}…)"
        )
    statement = document.get("signed_statement")
    if statement is not None and statement != signed_statement(manifest).decode("ascii"):
        return f"the signed statement is not the {SIGNED_FILE} line it should be"
    return None


def check_signature(
    document: Mapping[str, Any], manifest: bytes, public_key: PublicKey
) -> str | None:
    """None when the signature in manifest.sig.json is valid for these manifest bytes and this
    key; else what is wrong, in one line."""
    digest_problem = check_signed_digest(document, manifest)
    if digest_problem is not None:
        return digest_problem
    given = fingerprint(public_key)
    if document.get("public_key_sha256") not in (None, given):
        return (
            f"signed by another key (public key SHA-256 {document.get('public_key_sha256')}),"
            f" not the key given ({given})"
        )
    try:
        signature = base64.b64decode(str(document.get("signature", "")), validate=True)
    except ValueError:
        return "the signature is not base64"
    algorithm = str(document.get("algorithm", ""))
    try:
        _verify(public_key, algorithm, signature, signed_statement(manifest))
    except InvalidSignature:
        return f"the {algorithm} signature does not verify with the key given ({given})"
    return None


def _verify(public_key: PublicKey, algorithm: str, signature: bytes, message: bytes) -> None:
    if algorithm in ECDSA_HASHES and isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, message, ec.ECDSA(ECDSA_HASHES[algorithm]()))
    elif algorithm == RSA_PSS and isinstance(public_key, rsa.RSAPublicKey):
        # AUTO reads the salt length from the signature: AWS KMS uses 32 bytes, moto the most
        # the key allows; both are valid PSS.
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
        public_key.verify(signature, message, pss, hashes.SHA256())
    elif algorithm == ED25519 and isinstance(public_key, ed25519.Ed25519PublicKey):
        public_key.verify(signature, message)
    else:
        raise InvalidSignature(f"{algorithm} cannot be checked with a {type(public_key).__name__}")


# ---------------------------------------------------------------- local keys


@dataclass(frozen=True)
class LocalSigner:
    """A local Ed25519 or ECDSA (P-256, P-384, P-521) private key."""

    private_key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    key: SignerKey

    @staticmethod
    def load(path: Path) -> LocalSigner:
        """From a PEM (PKCS#8 or traditional), DER or OpenSSH private key file; an encrypted key
        takes its passphrase from SOC_EVIDENCE_KEY_PASSPHRASE. SigningError otherwise."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SigningError(f"{path}: cannot read the signing key ({exc.strerror})") from None
        passphrase = os.environ.get(PASSPHRASE_ENV)
        secret = passphrase.encode("utf-8") if passphrase else None
        key = _private_key(path, data, secret)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            algorithm = ED25519
        elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _CURVE_ALGORITHMS:
            algorithm = _CURVE_ALGORITHMS[key.curve.name]
        else:
            kind = getattr(getattr(key, "curve", None), "name", None) or type(key).__name__
            raise SigningError(
                f"{path}: a {kind} key cannot sign packs: use an Ed25519 or ECDSA (P-256, P-384,"
                " P-521) private key, or --sign-kms with an AWS KMS key"
            )
        public = key.public_key()
        return LocalSigner(key, SignerKey(algorithm, fingerprint(public)))

    def sign(self, message: bytes) -> bytes:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(message)
        return self.private_key.sign(message, ec.ECDSA(ECDSA_HASHES[self.key.algorithm]()))


def _private_key(path: Path, data: bytes, secret: bytes | None) -> Any:
    loaders = (
        serialization.load_pem_private_key,
        serialization.load_der_private_key,
        serialization.load_ssh_private_key,
    )
    problems = []
    for loader in loaders:
        try:
            return loader(data, secret)
        except TypeError as exc:  # encrypted without a passphrase, or one given for a plain key
            raise SigningError(f"{path}: {exc} (set {PASSPHRASE_ENV})") from None
        except (ValueError, UnsupportedAlgorithm) as exc:
            problems.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    # A PEM file's own loader says best what is wrong with it (e.g. a wrong passphrase).
    reason = problems[0] if data.lstrip().startswith(b"-----BEGIN") else "PEM, DER or OpenSSH"
    raise SigningError(f"{path}: not a private key this tool can read ({reason})")


def load_public_key(path: Path) -> PublicKey:
    """A public key from a PEM, DER or OpenSSH file (a private key file gives its public key)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"{path}: cannot read the public key ({exc.strerror})") from None
    loaders = (
        serialization.load_pem_public_key,
        serialization.load_der_public_key,
        serialization.load_ssh_public_key,
    )
    for loader in loaders:
        try:
            return _supported(path, loader(data))
        except (ValueError, UnsupportedAlgorithm):
            continue
    return _supported(path, _private_key(path, data, None).public_key())


def public_key_from_der(der: bytes, source: str) -> PublicKey:
    """A DER SubjectPublicKeyInfo (as AWS KMS GetPublicKey returns it)."""
    try:
        return _supported(source, serialization.load_der_public_key(der))
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningError(f"{source}: not a public key ({exc})") from None


def _supported(source: object, key: object) -> PublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
        return key
    raise SigningError(f"{source}: a {type(key).__name__} cannot check a pack signature")


# ---------------------------------------------------------------- AWS KMS


class KmsSigner:
    """An asymmetric AWS KMS key (KeyUsage SIGN_VERIFY): ECDSA_SHA_256 or RSASSA_PSS_SHA_256.

    Built before anything is collected, so a key that cannot sign stops the run with nothing
    written: DescribeKey (enabled, SIGN_VERIFY, its ARN) and GetPublicKey (its algorithms and
    public key). The client is the caller's, not recorded: signing is not evidence.
    Needs kms:DescribeKey, kms:GetPublicKey and kms:Sign on the key.
    """

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        try:
            metadata = client.describe_key(KeyId=key_id)["KeyMetadata"]
            answer = client.get_public_key(KeyId=key_id)
        except (ClientError, BotoCoreError) as exc:
            raise SigningError(
                f"KMS key {key_id}: cannot be used to sign ({_aws_error(exc)})"
            ) from None
        if metadata.get("KeyUsage") != "SIGN_VERIFY" or metadata.get("KeyState") != "Enabled":
            raise SigningError(
                f"KMS key {key_id}: must be an enabled SIGN_VERIFY key (KeyState"
                f" {metadata.get('KeyState')}, KeyUsage {metadata.get('KeyUsage')})"
            )
        offered = answer.get("SigningAlgorithms", [])
        usable = [a for a in KMS_ALGORITHMS if a in offered]
        if not usable:
            raise SigningError(
                f"KMS key {key_id}: offers {', '.join(offered) or 'no algorithm'}; packs are signed"
                f" with {' or '.join(KMS_ALGORITHMS)} (an ECC_NIST_P256 or RSA key)"
            )
        public = public_key_from_der(answer["PublicKey"], f"KMS key {key_id}")
        self._key = SignerKey(usable[0], fingerprint(public), str(metadata["Arn"]))

    @property
    def key(self) -> SignerKey:
        return self._key

    def sign(self, message: bytes) -> bytes:
        try:
            answer = self._client.sign(
                KeyId=self._key.key_arn,
                Message=message,
                MessageType="RAW",
                SigningAlgorithm=self._key.algorithm,
            )
        except (ClientError, BotoCoreError) as exc:
            raise SigningError(
                f"KMS Sign with {self._key.key_arn} failed ({_aws_error(exc)})"
            ) from None
        return bytes(answer["Signature"])


def kms_public_key(client: Any, key_id: str) -> tuple[PublicKey, list[str]]:
    """The public key of a KMS key (GetPublicKey) and the algorithms it signs with."""
    try:
        answer = client.get_public_key(KeyId=key_id)
    except (ClientError, BotoCoreError) as exc:
        raise SigningError(f"KMS key {key_id}: GetPublicKey failed ({_aws_error(exc)})") from None
    public = public_key_from_der(answer["PublicKey"], f"KMS key {key_id}")
    return public, list(answer.get("SigningAlgorithms", []))


def _aws_error(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}"
    return f"{type(exc).__name__}: {exc}"
