"""`upload PACK s3://bucket/prefix/`: a copy of a sealed pack nobody can change or delete.

Every file goes to `<prefix><pack name>/<path>` with:
- its SHA-256 (`ChecksumAlgorithm=SHA256` and the `ChecksumSHA256` computed here: S3 rejects a
  body that does not match, and keeps the checksum to show on every read);
- S3 Object Lock retention in COMPLIANCE mode until `--retain-days` from now (default 400: a
  12-month Type II period plus the report window). In compliance mode no user, root included,
  can shorten the retention or delete the object version before it ends (Amazon S3 User Guide,
  "Locking objects with Object Lock");
- `IfNoneMatch="*"`: never overwrites a key (S3 conditional writes); the whole destination is
  listed first, so an existing key stops the upload before anything is written.

A bucket without Object Lock is refused, saying so. Files go content first, manifest.json,
SHA256SUMS and manifest.sig.json last, so an interrupted copy has no manifest. The receipt (each
key, version id, checksum, retain-until) is written beside the pack, never inside it, also
after a partial upload: locked objects cannot be taken back, so what was written is recorded.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import TOOL_NAME, __version__
from ..assemble.finish import stamp
from ..errors import EXIT_INCOMPLETE, EvidenceToolError, UsageError
from ..pack.builder import MANIFEST, SUMS, pack_files, sha256_file
from ..pack.raw import json_bytes, utc_iso
from ..pack.signing import SIGNATURE_FILE
from .gate import require_verified
from .s3_location import S3Location

DEFAULT_RETAIN_DAYS = 400
MAX_RETAIN_DAYS = 36_500
OBJECT_LOCK_MODE = "COMPLIANCE"


class UploadRefused(EvidenceToolError):
    """Nothing was uploaded: the destination or the pack does not allow it (exit 2)."""


class UploadIncomplete(EvidenceToolError):
    """Some files were uploaded, then a call failed; the receipt lists what was (exit 3)."""

    exit_code = EXIT_INCOMPLETE


@dataclass
class UploadReceipt:
    """What was uploaded where: written as JSON beside the pack."""

    pack: str
    destination: str
    endpoint: str
    uploaded_at: str
    retain_until: str
    objects: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "tool": TOOL_NAME,
            "tool_version": __version__,
            "pack": self.pack,
            "destination": self.destination,
            "endpoint": self.endpoint,
            "uploaded_at": self.uploaded_at,
            "object_lock": {"mode": OBJECT_LOCK_MODE, "retain_until": self.retain_until},
            "complete": self.error is None,
            "error": self.error,
            "objects": self.objects,
        }


def upload_order(pack_dir: Path) -> list[str]:
    """Content first, the seal last (manifest.sig.json last of all, when the pack is signed)."""
    seal = [MANIFEST, SUMS] + ([SIGNATURE_FILE] if (pack_dir / SIGNATURE_FILE).is_file() else [])
    return [*pack_files(pack_dir), *seal]


def upload_pack(
    pack_dir: Path,
    destination: S3Location,
    client: Any,
    retain_days: int = DEFAULT_RETAIN_DAYS,
    now: datetime | None = None,
) -> tuple[UploadReceipt, Path]:
    """Upload a pack that verifies; returns the receipt and where it was written.

    UsageError / UploadRefused (exit 2, nothing uploaded): bad retention, a pack that does not
    verify, a bucket without Object Lock, keys that exist. UploadIncomplete (exit 3): a call
    failed midway; the receipt is still written.
    """
    if not 1 <= retain_days <= MAX_RETAIN_DAYS:
        raise UsageError(f"--retain-days: {retain_days}: must be 1 to {MAX_RETAIN_DAYS} days")
    require_verified(pack_dir, "upload it")
    now = now or datetime.now(UTC)
    until = now + timedelta(days=retain_days)
    prefix = destination.pack_prefix(pack_dir.name)
    _require_object_lock(client, destination.bucket)
    _require_free(client, destination.bucket, prefix)
    receipt = UploadReceipt(
        pack=pack_dir.name,
        destination=destination.url(prefix),
        endpoint=str(client.meta.endpoint_url),
        uploaded_at=utc_iso(now),
        retain_until=utc_iso(until),
    )
    try:
        for relative in upload_order(pack_dir):
            receipt.objects.append(
                _put(client, destination.bucket, prefix + relative, pack_dir / relative, until)
                | {"path": relative}
            )
    except (ClientError, BotoCoreError, OSError) as exc:
        receipt.error = f"{relative}: {_problem(exc)}"
    path = _write_receipt(pack_dir, receipt, now)
    if receipt.error is not None:
        raise UploadIncomplete(
            f"upload stopped at {receipt.error}; {len(receipt.objects)} files were uploaded"
            f" and locked: see {path}"
        )
    return receipt, path


def _require_object_lock(client: Any, bucket: str) -> None:
    try:
        answer = client.get_object_lock_configuration(Bucket=bucket)
        enabled = answer.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ObjectLockConfigurationNotFoundError":
            raise UploadRefused(f"s3://{bucket}: {_problem(exc)}") from None
        enabled = None
    except BotoCoreError as exc:
        raise UploadRefused(f"s3://{bucket}: {_problem(exc)}") from None
    if enabled != "Enabled":
        raise UploadRefused(
            f"s3://{bucket} has no S3 Object Lock, so its copy could be changed or deleted:"
            " use a bucket created with Object Lock enabled (nothing was uploaded)"
        )


def _require_free(client: Any, bucket: str, prefix: str) -> None:
    """Refuse before writing anything if any key under the pack's prefix exists."""
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        existing = [o["Key"] for page in pages for o in page.get("Contents", [])]
    except (ClientError, BotoCoreError) as exc:
        raise UploadRefused(f"s3://{bucket}/{prefix}: {_problem(exc)}") from None
    if existing:
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        shown = ", ".join(existing[:3]) + more
        raise UploadRefused(
            f"s3://{bucket}/{prefix} already holds {shown}: an upload never overwrites a key"
            " (nothing was uploaded)"
        )


def _put(client: Any, bucket: str, key: str, path: Path, until: datetime) -> dict[str, Any]:
    digest = sha256_file(path)
    checksum = base64.b64encode(bytes.fromhex(digest)).decode("ascii")
    with path.open("rb") as body:
        answer = client.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
            ObjectLockMode=OBJECT_LOCK_MODE,
            ObjectLockRetainUntilDate=until,
            IfNoneMatch="*",
        )
    if answer.get("ChecksumSHA256") not in (None, checksum):
        raise OSError(f"S3 stored SHA-256 {answer.get('ChecksumSHA256')}, sent {checksum}")
    return {
        "key": key,
        "version_id": answer.get("VersionId"),
        "checksum_sha256": answer.get("ChecksumSHA256", checksum),
        "sha256": digest,
        "size": path.stat().st_size,
        "etag": answer.get("ETag"),
        "retain_until": utc_iso(until),
    }


def _write_receipt(pack_dir: Path, receipt: UploadReceipt, now: datetime) -> Path:
    """<pack>.upload-<time>.json beside the pack, written whole (temporary file, rename)."""
    path = pack_dir.parent / f"{pack_dir.name}.upload-{stamp(now)}.json"
    n = 1
    while path.exists():
        n += 1
        path = pack_dir.parent / f"{pack_dir.name}.upload-{stamp(now)}-{n}.json"
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(json_bytes(receipt.to_json()))
    os.replace(partial, path)
    return path


def _problem(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{exc.operation_name}: {error.get('Code', 'Unknown')}: {error.get('Message', '')}"
    return f"{type(exc).__name__}: {exc}"
