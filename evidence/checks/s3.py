"""S3 checks: access logging, default encryption, TLS-only policies and Block Public Access.

They share one scope: every bucket, or the buckets named or tagged in the parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import CollectionError, Item, Status
from ..sources.base import Source
from ..sources.cloudtrail import TRAILS
from ..sources.s3 import (
    ACCOUNT_PUBLIC_ACCESS,
    BUCKET_ENCRYPTION,
    BUCKET_LOGGING,
    BUCKET_POLICY,
    BUCKET_PUBLIC_ACCESS,
    BUCKET_TAGGING,
    BUCKETS,
    Bucket,
    BucketSetting,
    bucket_tags,
)
from .base import NotCollected, ScopeContext, check, events


@dataclass(frozen=True)
class BucketScope:
    # Empty `buckets` and `tags`: every bucket. Otherwise only the buckets named, or carrying
    # all these tags.
    buckets: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoggingScope(BucketScope):
    include_cloudtrail_bucket: bool = True  # the trail's bucket is in scope whatever the filter


def _scoped_sources(params: BucketScope) -> tuple[Source[Any], ...]:
    extra: tuple[Source[Any], ...] = (BUCKET_TAGGING,) if params.tags else ()
    if (
        isinstance(params, LoggingScope)
        and params.include_cloudtrail_bucket
        and (params.buckets or params.tags)
    ):
        extra += (TRAILS,)
    return extra


def buckets_in_scope(ctx: ScopeContext[Any]) -> list[Bucket]:
    params: BucketScope = ctx.params
    buckets: tuple[Bucket, ...] = ctx.get(BUCKETS)
    if not params.buckets and not params.tags:
        return list(buckets)
    chosen = set(params.buckets)
    if params.tags:
        tagging = ctx.get(BUCKET_TAGGING)
        for bucket in buckets:
            tags = bucket_tags(tagging.get(bucket.name))
            if all(tags.get(k) == v for k, v in params.tags.items()):
                chosen.add(bucket.name)
    if isinstance(params, LoggingScope) and params.include_cloudtrail_bucket:
        chosen.update(t.s3_bucket for t in ctx.get(TRAILS) if t.s3_bucket)
    for bucket in buckets:
        if bucket.name not in chosen:
            ctx.exclude(bucket.name, "outside the scope (`buckets` and `tags` parameters)")
    return [bucket for bucket in buckets if bucket.name in chosen]


def per_bucket(
    ctx: ScopeContext[Any], setting_source: Source[Mapping[str, BucketSetting]]
) -> Iterator[tuple[Bucket, BucketSetting | None, str]]:
    settings = ctx.get(setting_source)
    for bucket in buckets_in_scope(ctx):
        yield bucket, settings.get(bucket.name), f"arn:{ctx.partition}:s3:::{bucket.name}"


SCOPE_WORDS = (
    " By default every bucket (s3:ListAllMyBuckets) is in scope; the `buckets` and `tags`"
    " parameters narrow it (tags read with s3:GetBucketTagging)."
)


def _unread(ctx: ScopeContext[Any], bucket: Bucket, arn: str, operation: str) -> Item:
    return ctx.item(bucket.name, Status.ERROR, f"{operation} not answered for this bucket", arn)


@check(
    "s3.access_logging",
    summary="Server access logging is enabled on the buckets in scope.",
    procedure="Read each bucket's logging configuration (s3:GetBucketLogging); a bucket without"
    " LoggingEnabled fails." + SCOPE_WORDS + " The CloudTrail bucket is always in scope"
    " (include_cloudtrail_bucket).",
    params=LoggingScope,
    sources=(BUCKETS, BUCKET_LOGGING),
    optional_sources=_scoped_sources,
    change_events=events("s3", "CreateBucket", "DeleteBucket", "PutBucketLogging"),
)
def access_logging(ctx: ScopeContext[LoggingScope]) -> Iterator[Item]:
    for bucket, setting, arn in per_bucket(ctx, BUCKET_LOGGING):
        if setting is None or setting.response is None:
            yield _unread(ctx, bucket, arn, "GetBucketLogging")
            continue
        enabled = setting.response.get("LoggingEnabled")
        target = (
            f"{enabled.get('TargetBucket')}/{enabled.get('TargetPrefix', '')}" if enabled else None
        )
        yield ctx.item(
            bucket.name,
            Status.PASS if enabled else Status.FAIL,
            f"logs to {target}" if enabled else "server access logging disabled",
            arn,
            bucket_region=bucket.region,
            log_target=target,
        )


@check(
    "s3.encryption",
    summary="Every bucket in scope has default encryption at rest.",
    procedure="Read each bucket's default encryption (s3:GetBucketEncryption); a bucket with no"
    " configuration (ServerSideEncryptionConfigurationNotFoundError) fails." + SCOPE_WORDS,
    params=BucketScope,
    sources=(BUCKETS, BUCKET_ENCRYPTION),
    optional_sources=_scoped_sources,
    change_events=events(
        "s3", "CreateBucket", "DeleteBucket", "PutBucketEncryption", "DeleteBucketEncryption"
    ),
)
def bucket_encryption(ctx: ScopeContext[BucketScope]) -> Iterator[Item]:
    for bucket, setting, arn in per_bucket(ctx, BUCKET_ENCRYPTION):
        if setting is None:
            yield _unread(ctx, bucket, arn, "GetBucketEncryption")
            continue
        rules = (
            (setting.response or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        )
        algorithms = [
            r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules
        ]
        algorithms = [a for a in algorithms if a]
        yield ctx.item(
            bucket.name,
            Status.PASS if algorithms else Status.FAIL,
            f"default encryption {', '.join(algorithms)}"
            if algorithms
            else "no default encryption configured",
            arn,
            algorithms=algorithms,
        )


def denies_plain_http(policy_text: str | None) -> bool:
    """A Deny of s3 actions to everyone when aws:SecureTransport is false."""
    if not policy_text:
        return False
    statements = json.loads(policy_text).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Deny":
            continue
        principal = statement.get("Principal")
        if principal not in ("*", {"AWS": "*"}, {"AWS": ["*"]}):
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not {"*", "s3:*"} & set(actions):
            continue
        condition = statement.get("Condition", {}).get("Bool", {})
        secure = condition.get("aws:SecureTransport")
        values = secure if isinstance(secure, list) else [secure]
        if any(str(v).lower() == "false" for v in values):
            return True
    return False


@check(
    "s3.tls_only",
    summary="Every bucket in scope refuses requests that do not use TLS.",
    procedure="Read each bucket's policy (s3:GetBucketPolicy); it passes when a statement denies"
    " s3:* (or *) to every principal when aws:SecureTransport is false. No policy"
    " (NoSuchBucketPolicy) fails." + SCOPE_WORDS,
    params=BucketScope,
    sources=(BUCKETS, BUCKET_POLICY),
    optional_sources=_scoped_sources,
    change_events=events(
        "s3", "CreateBucket", "DeleteBucket", "PutBucketPolicy", "DeleteBucketPolicy"
    ),
)
def tls_only(ctx: ScopeContext[BucketScope]) -> Iterator[Item]:
    for bucket, setting, arn in per_bucket(ctx, BUCKET_POLICY):
        if setting is None:
            yield _unread(ctx, bucket, arn, "GetBucketPolicy")
            continue
        text = (setting.response or {}).get("Policy")
        denies = denies_plain_http(text)
        detail = (
            "policy denies requests without TLS"
            if denies
            else "no bucket policy"
            if text is None
            else "policy does not deny requests without TLS"
        )
        yield ctx.item(
            bucket.name,
            Status.PASS if denies else Status.FAIL,
            detail,
            arn,
            has_policy=text is not None,
        )


BLOCK_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def _all_on(settings: Mapping[str, Any] | None) -> bool:
    return settings is not None and all(settings.get(name) for name in BLOCK_SETTINGS)


@check(
    "s3.public_access_block",
    summary="Block Public Access is on for the account, or for every bucket in scope.",
    procedure=(
        "Read the account-level Block Public Access (s3control:GetPublicAccessBlock) and each"
        " bucket's (s3:GetPublicAccessBlock). The account passes when all four settings are on;"
        " a bucket passes when all four are on for it or for the account." + SCOPE_WORDS
    ),
    params=BucketScope,
    sources=(ACCOUNT_PUBLIC_ACCESS, BUCKETS, BUCKET_PUBLIC_ACCESS),
    optional_sources=_scoped_sources,
    change_events=events(
        "s3",
        "CreateBucket",
        "DeleteBucket",
        "PutBucketPublicAccessBlock",
        "DeleteBucketPublicAccessBlock",
        "PutAccountPublicAccessBlock",
        "DeleteAccountPublicAccessBlock",
    ),
)
def public_access_block(ctx: ScopeContext[BucketScope]) -> Iterator[Item | CollectionError]:
    try:
        account = ctx.get(ACCOUNT_PUBLIC_ACCESS)
    except NotCollected as exc:
        # Buckets are still judged on their own settings; the account line is an error.
        yield exc.error
        yield from _buckets_blocked(ctx, account_on=None)
        return
    account_on = _all_on(account)
    yield ctx.item(
        ctx.account,
        Status.PASS if account_on else Status.FAIL,
        "account-level Block Public Access: "
        + (
            "all four settings on"
            if account_on
            else "not configured"
            if account is None
            else "off: " + ", ".join(n for n in BLOCK_SETTINGS if not account.get(n))
        ),
        f"arn:{ctx.partition}:s3:{ctx.region}:{ctx.account}:account",
        level="account",
        **_account_settings(account),
    )
    yield from _buckets_blocked(ctx, account_on)


def _buckets_blocked(ctx: ScopeContext[BucketScope], account_on: bool | None) -> Iterator[Item]:
    """Each bucket: its own four settings, or the account's (None: the account's are unknown)."""
    for bucket, setting, arn in per_bucket(ctx, BUCKET_PUBLIC_ACCESS):
        if setting is None:
            yield _unread(ctx, bucket, arn, "GetPublicAccessBlock")
            continue
        own = (setting.response or {}).get("PublicAccessBlockConfiguration")
        if _all_on(own):
            status, detail = Status.PASS, "all four settings on"
        elif account_on is None:
            status, detail = (
                Status.ERROR,
                ("bucket-level block incomplete and the account-level block could not be read"),
            )
        elif account_on:
            status, detail = Status.PASS, "covered by the account-level block"
        else:
            status = Status.FAIL
            detail = (
                "not configured, and the account-level block is off"
                if own is None
                else "off: " + ", ".join(n for n in BLOCK_SETTINGS if not own.get(n))
            )
        yield ctx.item(
            bucket.name,
            status,
            detail,
            arn,
            level="bucket",
            **{name: (own or {}).get(name, False) for name in BLOCK_SETTINGS},
        )


def _account_settings(account: Mapping[str, bool] | None) -> dict[str, Any]:
    return {name: (account or {}).get(name, False) for name in BLOCK_SETTINGS}
