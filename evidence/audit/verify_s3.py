"""`verify s3://bucket/prefix/`: the uploaded copy checked as it is in S3.

`prefix` is a pack's folder (it holds manifest.json) or a folder of packs (each checked). Every
object's current version is downloaded with `ChecksumMode=ENABLED` (botocore checks the body
against the SHA-256 S3 kept) into a temporary folder, and the pack there goes through every
verify layer. One more layer looks at the objects themselves: Object Lock retention in
COMPLIANCE mode that has not ended, a SHA-256 checksum kept, and no later version or delete
marker over the uploaded one (a locked version cannot be changed, but a new version can be put
on top of it: that is a change to the copy an auditor downloads).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, FlexibleChecksumError

from ..errors import NotAPackError
from ..pack.builder import MANIFEST
from ..pack.verify import Finding
from .pack_context import PackContext
from .s3_location import S3Location
from .verification import Layer, Verification, verify

S3 = "s3"
OBJECT_LAYER = "every object locked (COMPLIANCE) with its SHA-256, no later version"


def find_packs(client: Any, location: S3Location) -> list[str]:
    """The pack prefixes at a location: itself if it holds manifest.json, else each folder
    directly under it that does. NotAPackError when there is none."""
    keys = _keys(client, location.bucket, location.prefix)
    if location.prefix + MANIFEST in keys:
        return [location.prefix]
    packs = sorted(
        key.removesuffix(MANIFEST)
        for key in keys
        if key.endswith("/" + MANIFEST) and key[len(location.prefix) :].count("/") == 1
    )
    if not packs:
        raise NotAPackError(f"{location.url(location.prefix)}: no evidence pack (no {MANIFEST})")
    return packs


def verify_s3(
    location: S3Location,
    client: Any,
    hashes_only: bool = False,
    extra_layers: Sequence[tuple[str, Layer]] = (),
    now: datetime | None = None,
) -> list[Verification]:
    """Every pack at the location, downloaded and verified; the objects' own checks included."""
    now = now or datetime.now(UTC)
    results = []
    for prefix in find_packs(client, location):
        name = prefix.rstrip("/").rsplit("/", 1)[-1] or location.bucket
        with tempfile.TemporaryDirectory(prefix="soc-evidence-s3-") as folder:
            copy = Path(folder) / name
            objects = (OBJECT_LAYER, _found(download(client, location.bucket, prefix, copy, now)))
            results.append(
                verify(
                    copy,
                    hashes_only=hashes_only,
                    extra_layers=[objects, *extra_layers],
                    label=location.url(prefix),
                )
            )
    return results


def _found(findings: list[Finding]) -> Layer:
    """A layer that reports findings made while downloading."""

    def layer(_: PackContext) -> tuple[list[Finding], list[str]]:
        return findings, []

    return layer


def download(client: Any, bucket: str, prefix: str, target: Path, now: datetime) -> list[Finding]:
    """The current version of every object under the prefix into `target`, and what is wrong
    with the objects themselves."""
    findings: list[Finding] = []
    versions: Counter[str] = Counter()
    current: list[str] = []
    deleted: list[str] = []
    try:
        pages = client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for version in page.get("Versions", []):
                versions[version["Key"]] += 1
                if version.get("IsLatest"):
                    current.append(version["Key"])
            for marker in page.get("DeleteMarkers", []):
                versions[marker["Key"]] += 1
                if marker.get("IsLatest"):
                    deleted.append(marker["Key"])
    except (ClientError, BotoCoreError) as exc:
        raise NotAPackError(f"s3://{bucket}/{prefix}: cannot be listed ({exc})") from None
    target.mkdir(parents=True)
    root = target.resolve()
    for key in deleted:
        findings.append(Finding(S3, key[len(prefix) :], "deleted after upload (a delete marker)"))
    for key in sorted(current):
        relative = key[len(prefix) :]
        path = (target / relative).resolve()
        if not relative or not path.is_relative_to(root) or relative.endswith("/"):
            findings.append(Finding(S3, key, "a key that is not a file of the pack"))
            continue
        if versions[key] > 1:
            findings.append(
                Finding(S3, relative, f"{versions[key]} versions: changed after upload")
            )
        findings.extend(_fetch(client, bucket, key, relative, path, now))
    return findings


def _fetch(
    client: Any, bucket: str, key: str, relative: str, path: Path, now: datetime
) -> list[Finding]:
    try:
        answer = client.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            for chunk in answer["Body"].iter_chunks(1 << 20):
                handle.write(chunk)
    except FlexibleChecksumError as exc:
        path.unlink(missing_ok=True)
        return [Finding(S3, relative, f"its body does not match the SHA-256 S3 kept ({exc})")]
    except (ClientError, BotoCoreError) as exc:
        return [Finding(S3, relative, f"cannot be read ({exc})")]
    findings = []
    mode, until = answer.get("ObjectLockMode"), answer.get("ObjectLockRetainUntilDate")
    if mode is None:
        findings.append(Finding(S3, relative, "no Object Lock retention"))
    elif mode != "COMPLIANCE":
        findings.append(Finding(S3, relative, f"retention in {mode} mode, which can be lifted"))
    if until is not None and until <= now:
        findings.append(Finding(S3, relative, f"retention ended {until.isoformat()}"))
    if not answer.get("ChecksumSHA256"):
        findings.append(Finding(S3, relative, "stored without a SHA-256 checksum"))
    return findings


def _keys(client: Any, bucket: str, prefix: str) -> set[str]:
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {o["Key"] for page in pages for o in page.get("Contents", [])}
    except (ClientError, BotoCoreError) as exc:
        raise NotAPackError(f"s3://{bucket}/{prefix}: cannot be listed ({exc})") from None
