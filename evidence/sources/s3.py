"""S3 sources: the bucket list (once), each per-bucket setting (one call per bucket, which the API
forces), and account-level Block Public Access through S3 Control."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..pack.raw import RawSource, ResourceFailure
from .base import FetchContext, Scope, Source, error_code, register


@dataclass(frozen=True)
class Bucket:
    name: str
    region: str | None
    created: str | None


def _fetch_buckets(ctx: FetchContext) -> None:
    for _ in ctx.client("s3").get_paginator("list_buckets").paginate():
        pass


def _parse_buckets(raw: RawSource) -> tuple[Bucket, ...]:
    return tuple(
        Bucket(str(b["Name"]), b.get("BucketRegion"), b.get("CreationDate"))
        for call in raw.successful("ListBuckets")
        for b in (call.response or {}).get("Buckets", [])
    )


BUCKETS = register(
    Source(
        name="s3.buckets",
        scope=Scope.GLOBAL,
        actions=("s3:ListAllMyBuckets",),
        fetch=_fetch_buckets,
        parse=_parse_buckets,
    )
)


@dataclass(frozen=True)
class BucketSetting:
    """One bucket's answer to one per-bucket call: the response, AWS's "not configured", or
    why it could not be read."""

    bucket: str
    response: Mapping[str, Any] | None  # None when AWS said the setting is not configured
    not_set_code: str | None = None
    failure: ResourceFailure | None = None  # this bucket could not be read (the others were)


def per_bucket_source(
    name: str, method: str, operation: str, action: str, not_set: frozenset[str]
) -> Source[Mapping[str, BucketSetting]]:
    """A source that asks every bucket one question. `not_set` are the error codes that mean
    "this bucket has no such configuration": a finding for the check, not a collection error."""

    def fetch(ctx: FetchContext) -> None:
        s3 = ctx.client("s3")

        def ask(bucket: Bucket) -> None:
            try:
                getattr(s3, method)(Bucket=bucket.name)
            except ClientError as exc:
                if error_code(exc) not in not_set:
                    raise

        ctx.each_resource("bucket", {b.name: b for b in ctx.read(BUCKETS)}, ask)

    def parse(raw: RawSource) -> Mapping[str, BucketSetting]:
        settings: dict[str, BucketSetting] = {
            name: BucketSetting(name, None, failure=failure)
            for name, failure in raw.failed_resources("bucket").items()
        }
        for call in raw.calls:
            if call.operation != operation:
                continue
            bucket = str(call.parameters["Bucket"])
            if call.error is None:
                settings[bucket] = BucketSetting(bucket, call.response)
            elif call.error.code in not_set:
                settings[bucket] = BucketSetting(bucket, None, call.error.code)
        return settings

    return register(
        Source(
            name=name,
            scope=Scope.GLOBAL,
            actions=(action,),
            fetch=fetch,
            parse=parse,
            after=(BUCKETS,),
        )
    )


BUCKET_LOGGING = per_bucket_source(
    "s3.bucket_logging",
    "get_bucket_logging",
    "GetBucketLogging",
    "s3:GetBucketLogging",
    frozenset(),
)
BUCKET_ENCRYPTION = per_bucket_source(
    "s3.bucket_encryption",
    "get_bucket_encryption",
    "GetBucketEncryption",
    "s3:GetEncryptionConfiguration",
    frozenset({"ServerSideEncryptionConfigurationNotFoundError"}),
)
BUCKET_POLICY = per_bucket_source(
    "s3.bucket_policy",
    "get_bucket_policy",
    "GetBucketPolicy",
    "s3:GetBucketPolicy",
    frozenset({"NoSuchBucketPolicy"}),
)
BUCKET_PUBLIC_ACCESS = per_bucket_source(
    "s3.bucket_public_access_block",
    "get_public_access_block",
    "GetPublicAccessBlock",
    "s3:GetBucketPublicAccessBlock",
    frozenset({"NoSuchPublicAccessBlockConfiguration"}),
)
BUCKET_TAGGING = per_bucket_source(
    "s3.bucket_tagging",
    "get_bucket_tagging",
    "GetBucketTagging",
    "s3:GetBucketTagging",
    frozenset({"NoSuchTagSet"}),
)


def bucket_tags(setting: BucketSetting | None) -> dict[str, str]:
    if setting is None or setting.response is None:
        return {}
    return {str(t["Key"]): str(t["Value"]) for t in setting.response.get("TagSet", [])}


def _fetch_account_block(ctx: FetchContext) -> None:
    try:
        ctx.client("s3control").get_public_access_block(AccountId=ctx.account)
    except ClientError as exc:
        if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise


def _parse_account_block(raw: RawSource) -> Mapping[str, bool] | None:
    """The four account-level settings, or None when none are configured."""
    for call in raw.calls:
        if call.operation != "GetPublicAccessBlock":
            continue
        if call.error is None and call.response is not None:
            config = call.response.get("PublicAccessBlockConfiguration", {})
            return {str(k): bool(v) for k, v in config.items()}
        if call.error is not None and call.error.code == "NoSuchPublicAccessBlockConfiguration":
            return None
    raise ValueError("no GetPublicAccessBlock answer recorded")


ACCOUNT_PUBLIC_ACCESS = register(
    Source(
        name="s3control.account_public_access_block",
        scope=Scope.GLOBAL,
        actions=("s3:GetAccountPublicAccessBlock",),
        fetch=_fetch_account_block,
        parse=_parse_account_block,
    )
)
