"""verify's signature layer: manifest.sig.json against manifest.json, with the key the auditor
trusts (`--public-key FILE`, or `--kms`: the KMS key's public key from GetPublicKey, checked
locally)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..pack.builder import MANIFEST
from ..pack.signing import (
    SIGNATURE_FILE,
    PublicKey,
    SigningError,
    check_signature,
    check_signed_digest,
    kms_public_key,
    load_public_key,
)
from ..pack.verify import Finding
from .pack_context import PackContext
from .signers import kms_client

SIGNATURE = "signature"


@dataclass(frozen=True)
class SignatureCheck:
    """How verify checks a signature. `kms` "" means the key named in manifest.sig.json."""

    public_key: Path | None = None
    kms: str | None = None
    require: bool = False
    profile: str | None = None

    def __post_init__(self) -> None:
        if self.public_key is not None and self.kms is not None:
            raise UsageError("--public-key and --kms cannot be used together")
        if self.require and self.public_key is None and self.kms is None:
            raise UsageError("--require-signature needs the key to check it: --public-key or --kms")

    @property
    def wanted(self) -> bool:
        return self.require or self.public_key is not None or self.kms is not None


def check_pack_signature(
    context: PackContext, check: SignatureCheck
) -> tuple[list[Finding], list[str]]:
    """Findings (a manifest changed since signing, with or without a key; an invalid or, when
    required, missing signature) and a note saying what the signature status is: unsigned, not
    checked (the signed digest still compared), or valid."""
    path = context.pack_dir / SIGNATURE_FILE
    if not path.is_file():
        if check.require:
            return [Finding(SIGNATURE, SIGNATURE_FILE, "missing: the pack is unsigned")], []
        return [], ["signature: unsigned"]
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        return [Finding(SIGNATURE, SIGNATURE_FILE, f"unreadable ({exc})")], []
    signer = document.get("key_arn") or f"public key SHA-256 {document.get('public_key_sha256')}"
    described = f"{document.get('algorithm')} by {signer}"
    try:
        manifest = (context.pack_dir / MANIFEST).read_bytes()
    except OSError as exc:
        return [Finding(SIGNATURE, MANIFEST, f"unreadable ({exc.strerror})")], []
    # The digest the signature covers is compared with manifest.json always, key or not.
    problem = check_signed_digest(document, manifest)
    if problem is None and not check.wanted:
        return [], [
            f"signature: {described}; the manifest is the one signed; the signature itself is"
            " not checked (give --public-key FILE or --kms)"
        ]
    try:
        if problem is None:
            public_key, source = _trusted_key(check, document.get("key_arn"))
            problem = check_signature(document, manifest, public_key)
    except SigningError as exc:
        return [Finding(SIGNATURE, SIGNATURE_FILE, str(exc))], []
    if problem is not None:
        file = MANIFEST if problem.startswith(MANIFEST) else SIGNATURE_FILE
        return [Finding(SIGNATURE, file, problem)], []
    return [], [f"signature: valid, {described}, checked with {source}"]


def _trusted_key(check: SignatureCheck, named: object) -> tuple[PublicKey, str]:
    if check.public_key is not None:
        return load_public_key(check.public_key), str(check.public_key)
    key_id = check.kms or (str(named) if named else "")
    if not key_id:
        raise SigningError("--kms: the signature names no KMS key; give it: --kms KEY")
    public_key, algorithms = kms_public_key(kms_client(key_id, check.profile), key_id)
    return public_key, f"AWS KMS key {key_id} (signs with {', '.join(algorithms)})"
