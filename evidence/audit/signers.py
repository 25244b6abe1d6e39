"""The signing key of a run (`--sign-kms KEY` or `--sign-key FILE`), ready before anything is
collected, and the AWS KMS client that signing and checking use.

The KMS client comes from the standard credential chain (`--profile` where the command has
one; AWS_ENDPOINT_URL is honoured as boto3 does), in the key ARN's region. It is not recorded:
signing is about the pack, not evidence about the account.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..collect.clients import AwsSettings, client_config, make_session
from ..errors import UsageError
from ..pack.signing import KmsSigner, LocalSigner, Signer


def key_region(key_id: str) -> str | None:
    """The region of a KMS key or alias ARN (arn:aws:kms:REGION:ACCOUNT:key/...), else None."""
    parts = key_id.split(":")
    return parts[3] or None if len(parts) >= 6 and parts[0] == "arn" else None


def kms_client(key_id: str, profile: str | None = None) -> Any:
    """A KMS client for this key: its ARN's region, else the session's (us-east-1 if none)."""
    settings = AwsSettings(profile=profile, max_attempts=5)
    session = make_session(settings)
    region = key_region(key_id) or session.region_name or "us-east-1"
    return session.client("kms", region_name=region, config=client_config(settings))


def build_signer(
    sign_kms: str | None, sign_key: Path | None, profile: str | None = None
) -> Signer | None:
    """The signer the options ask for (None: the pack is not signed). The key is checked now,
    so a key that cannot sign stops the command before anything is written (exit 2)."""
    if sign_kms and sign_key:
        raise UsageError("--sign-kms and --sign-key cannot be used together")
    if sign_key is not None:
        return LocalSigner.load(sign_key)
    if sign_kms:
        return KmsSigner(kms_client(sign_kms, profile), sign_kms)
    return None
