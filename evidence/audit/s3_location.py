"""`s3://bucket/prefix/`: where packs are uploaded, and the S3 client upload and verify use.

The client comes from the standard credential chain (`--profile`; AWS_ENDPOINT_URL honoured as
boto3 does). It is not recorded: copying a pack is not evidence about the account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..collect.clients import AwsSettings, client_config, make_session
from ..errors import UsageError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ending in "/"

    @staticmethod
    def parse(text: str) -> S3Location:
        """From `s3://bucket/prefix/` (the prefix may be empty); UsageError otherwise."""
        if not text.startswith("s3://"):
            raise UsageError(f"{text}: not an S3 location (s3://bucket/prefix/)")
        bucket, _, prefix = text[len("s3://") :].partition("/")
        if not _BUCKET.match(bucket):
            raise UsageError(f"{text}: {bucket!r} is not an S3 bucket name")
        parts = prefix.rstrip("/").split("/") if prefix else []
        if any(part in ("", ".", "..") for part in parts):
            raise UsageError(f"{text}: the prefix must be plain folder names")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return S3Location(bucket, prefix)

    def url(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{key}"

    def pack_prefix(self, pack_name: str) -> str:
        return f"{self.prefix}{pack_name}/"


def s3_client(profile: str | None = None) -> Any:
    """An S3 client of the session's region (S3 redirects a bucket elsewhere, and botocore
    follows)."""
    settings = AwsSettings(profile=profile, max_attempts=5)
    session = make_session(settings)
    return session.client(
        "s3", region_name=session.region_name or "us-east-1", config=client_config(settings)
    )
