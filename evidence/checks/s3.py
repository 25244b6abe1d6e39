"""S3 checks: access logging, default encryption, TLS-only policies and Block Public Access.

They share one scope: every bucket, or the buckets named or tagged in the parameters.
"""

from __future__ import annotations

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
from .policy import (
    PolicyError,
    applies_to_everyone,
    condition_holds,
    covers_resource,
    covers_resource_prefix,
    covers_service_actions,
    holds_for_every_value,
    parse_policy,
)


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


def buckets_in_scope(ctx: ScopeContext[Any]) -> Iterator[Bucket | Item | CollectionError]:
    """The buckets in scope; a bucket whose tags could not be read while scoping by tags is
    an `error` item (it may be in scope), not silently left out."""
    params: BucketScope = ctx.params
    buckets: tuple[Bucket, ...] = ctx.get(BUCKETS)
    if not params.buckets and not params.tags:
        yield from buckets
        return
    chosen = set(params.buckets)
    if isinstance(params, LoggingScope) and params.include_cloudtrail_bucket:
        chosen.update(t.s3_bucket for t in ctx.get(TRAILS) if t.s3_bucket)
    tagging = ctx.get(BUCKET_TAGGING) if params.tags else {}
    for bucket in buckets:
        setting = tagging.get(bucket.name)
        if bucket.name in chosen:
            yield bucket
        elif setting is not None and setting.failure is not None:
            yield from ctx.unread(bucket.name, setting.failure, _arn(ctx, bucket))
        elif params.tags and all(bucket_tags(setting).get(k) == v for k, v in params.tags.items()):
            yield bucket
        else:
            ctx.exclude(bucket.name, "outside the scope (`buckets` and `tags` parameters)")


def _arn(ctx: ScopeContext[Any], bucket: Bucket) -> str:
    return f"arn:{ctx.partition}:s3:::{bucket.name}"


def per_bucket(
    ctx: ScopeContext[Any],
    setting_source: Source[Mapping[str, BucketSetting]],
    operation: str,
) -> Iterator[tuple[Bucket, Mapping[str, Any] | None, str] | Item | CollectionError]:
    """(bucket, its answer or None for "not configured", ARN) for each bucket in scope that
    could be read; an `error` item (and the error) for each that could not."""
    settings = ctx.get(setting_source)
    for found in buckets_in_scope(ctx):
        if not isinstance(found, Bucket):
            yield found
            continue
        arn = _arn(ctx, found)
        setting = settings.get(found.name)
        if setting is None:
            yield ctx.item(found.name, Status.ERROR, f"{operation} not answered for it", arn)
            yield CollectionError(
                ctx.account, ctx.region, operation, "NotCollected", f"bucket {found.name}"
            )
        elif setting.failure is not None:
            yield from ctx.unread(found.name, setting.failure, arn)
        else:
            yield found, setting.response, arn


SCOPE_WORDS = (
    " By default every bucket (s3:ListAllMyBuckets) is in scope; the `buckets` and `tags`"
    " parameters narrow it (tags read with s3:GetBucketTagging). A bucket whose own answer"
    " could not be read is an `error` item naming the operation and AWS error code; the others"
    " are still judged."
)


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
def access_logging(ctx: ScopeContext[LoggingScope]) -> Iterator[Item | CollectionError]:
    for found in per_bucket(ctx, BUCKET_LOGGING, "GetBucketLogging"):
        if not isinstance(found, tuple):
            yield found
            continue
        bucket, response, arn = found
        enabled = (response or {}).get("LoggingEnabled")
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
def bucket_encryption(ctx: ScopeContext[BucketScope]) -> Iterator[Item | CollectionError]:
    for found in per_bucket(ctx, BUCKET_ENCRYPTION, "GetBucketEncryption"):
        if not isinstance(found, tuple):
            yield found
            continue
        bucket, response, arn = found
        rules = (response or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
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


# ---------------------------------------------------------------- TLS only

SECURE_TRANSPORT = "aws:securetransport"  # context keys are compared in lower case


@dataclass(frozen=True)
class PlainHttpDenial:
    """Whether a bucket policy denies every plain-HTTP request to the bucket and its objects."""

    denied: bool
    detail: str
    statements: tuple[str, ...]  # the deny statements that do it


def _deny_shortfalls(statement: Any) -> tuple[list[str], bool]:
    """Why a Deny statement does not apply to every plain-HTTP request (nothing when it does),
    and whether it is about aws:SecureTransport at all."""
    problems: list[str] = []
    about_tls = False
    if not applies_to_everyone(statement):
        problems.append('does not apply to every principal (Principal is not "*")')
    if not covers_service_actions(statement, "s3"):
        problems.append("does not cover every s3 action (s3:* or *)")
    narrowing = []
    for condition in statement.conditions:
        try:
            if condition.key == SECURE_TRANSPORT:
                about_tls = True
                if not condition_holds(condition, ("false",)):
                    problems.append(f"{condition.describe()} does not hold for plain HTTP")
            elif not holds_for_every_value(condition):
                narrowing.append(condition.describe())
        except PolicyError as exc:
            problems.append(str(exc))
    if narrowing:
        problems.append(
            "narrowed by " + "; ".join(narrowing) + " (conditions are ANDed: plain HTTP"
            " requests for which it does not hold are not denied)"
        )
    return problems, about_tls


def plain_http_denial(policy_text: str | None, bucket: str, partition: str) -> PlainHttpDenial:
    """Does the bucket policy deny every request made without TLS, as IAM evaluates it?

    A Deny counts when it applies to every principal, to every s3 action, and under conditions
    that hold for every plain-HTTP request: aws:SecureTransport (key names are case-insensitive;
    "false" and false are the same) matched as false, and no other condition that narrows it
    (conditions are ANDed). Between them, the counting statements' Resource must cover the
    bucket ARN and every object ARN (`<bucket>/*`). AWS: IAM User Guide "Condition operators",
    "AWS global condition context keys: aws:SecureTransport"; Amazon S3 User Guide "Enforcing
    encryption in transit" (Security Hub S3.5).
    """
    if not policy_text:
        return PlainHttpDenial(False, "no bucket policy", ())
    try:
        policy = parse_policy(policy_text)
    except PolicyError as exc:
        return PlainHttpDenial(False, f"bucket policy not readable as IAM JSON: {exc}", ())
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    bucket_by: list[str] = []
    objects_by: list[str] = []
    shortfalls: list[str] = []
    for statement in policy.statements:
        if statement.effect != "Deny":
            continue
        problems, about_tls = _deny_shortfalls(statement)
        if problems:
            if about_tls:
                shortfalls.append(f"{statement.label} " + "; ".join(problems))
            continue
        covers_bucket = covers_resource(statement, bucket_arn)
        covers_objects = covers_resource_prefix(statement, bucket_arn + "/")
        if covers_bucket:
            bucket_by.append(statement.label)
        if covers_objects:
            objects_by.append(statement.label)
        missing = [
            what
            for what, covered in (
                ("the bucket itself", covers_bucket),
                ("<bucket>/*", covers_objects),
            )
            if not covered
        ]
        if missing:
            shortfalls.append(f"{statement.label} Resource does not cover {' or '.join(missing)}")
    if bucket_by and objects_by:
        used = tuple(dict.fromkeys(bucket_by + objects_by))
        return PlainHttpDenial(True, "policy denies every request without TLS", used)
    if not shortfalls:
        return PlainHttpDenial(False, "policy does not deny requests without TLS", ())
    return PlainHttpDenial(
        False, "policy does not deny every request without TLS: " + " | ".join(shortfalls), ()
    )


@check(
    "s3.tls_only",
    summary="Every bucket in scope refuses requests that do not use TLS.",
    procedure="Read each bucket's policy (s3:GetBucketPolicy) and evaluate it as IAM does: it"
    ' passes when Deny statements that apply to every principal ("*") and every s3 action'
    " (s3:* or *) cover the bucket and all its objects under conditions that hold for every"
    ' plain-HTTP request: aws:SecureTransport false (key names case-insensitive, "false" and'
    " false alike) and no other, narrowing, condition (conditions are ANDed). The detail names"
    " the narrowing condition, principal, action or resource gap. No policy"
    " (NoSuchBucketPolicy) fails." + SCOPE_WORDS,
    params=BucketScope,
    sources=(BUCKETS, BUCKET_POLICY),
    optional_sources=_scoped_sources,
    change_events=events(
        "s3", "CreateBucket", "DeleteBucket", "PutBucketPolicy", "DeleteBucketPolicy"
    ),
)
def tls_only(ctx: ScopeContext[BucketScope]) -> Iterator[Item | CollectionError]:
    for found in per_bucket(ctx, BUCKET_POLICY, "GetBucketPolicy"):
        if not isinstance(found, tuple):
            yield found
            continue
        bucket, response, arn = found
        text = (response or {}).get("Policy")
        verdict = plain_http_denial(text, bucket.name, ctx.partition)
        yield ctx.item(
            bucket.name,
            Status.PASS if verdict.denied else Status.FAIL,
            verdict.detail,
            arn,
            has_policy=text is not None,
            denying_statements=list(verdict.statements),
        )


# ---------------------------------------------------------------- Block Public Access

BLOCK_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def effective_block(
    account: Mapping[str, Any] | None, bucket: Mapping[str, Any] | None
) -> dict[str, bool]:
    """Each of the four settings as S3 enforces it for one bucket: on if it is on for the
    account or for the bucket (S3 applies the most restrictive combination of the two).
    AWS: Amazon S3 User Guide, "Blocking public access to your Amazon S3 storage"."""
    return {
        name: bool((account or {}).get(name)) or bool((bucket or {}).get(name))
        for name in BLOCK_SETTINGS
    }


def _off(settings: Mapping[str, bool]) -> list[str]:
    return [name for name in BLOCK_SETTINGS if not settings.get(name)]


@check(
    "s3.public_access_block",
    summary="Block Public Access is on for the account, or for every bucket in scope.",
    procedure=(
        "Read the account-level Block Public Access (s3control:GetPublicAccessBlock) and each"
        " bucket's (s3:GetPublicAccessBlock). S3 enforces each of the four settings when it is"
        " on for the account or for the bucket, so each bucket is judged on that per-setting"
        " combination: it passes when all four are in effect. The account passes when all four"
        " are on at account level, or when every bucket in scope has all four in effect."
        + SCOPE_WORDS
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
        account: Mapping[str, bool] | None = ctx.get(ACCOUNT_PUBLIC_ACCESS)
        account_read = True
    except NotCollected as exc:
        # Buckets are still judged on their own settings; the account line is an error.
        yield exc.error
        account, account_read = None, False
    buckets = list(_buckets_blocked(ctx, account, account_read))
    if account_read:
        yield _account_block(ctx, account, buckets)
    yield from buckets


def _account_block(
    ctx: ScopeContext[BucketScope],
    account: Mapping[str, bool] | None,
    buckets: list[Item | CollectionError],
) -> Item:
    off = _off(effective_block(account, None))
    exposed = [b.resource for b in buckets if isinstance(b, Item) and b.status != Status.PASS]
    if not off:
        status, detail = Status.PASS, "all four settings on: every bucket, present and future"
    elif not exposed:
        status = Status.PASS
        detail = (
            "not configured" if account is None else "off: " + ", ".join(off)
        ) + "; every bucket in scope has all four in effect with its own settings"
    else:
        status = Status.FAIL
        detail = (
            "not configured" if account is None else "off: " + ", ".join(off)
        ) + f"; {len(exposed)} bucket(s) without all four in effect"
    return ctx.item(
        ctx.account,
        status,
        "account-level Block Public Access: " + detail,
        f"arn:{ctx.partition}:s3:{ctx.region}:{ctx.account}:account",
        level="account",
        **_attributes(effective_block(account, None)),
    )


def _buckets_blocked(
    ctx: ScopeContext[BucketScope], account: Mapping[str, Any] | None, account_read: bool
) -> Iterator[Item | CollectionError]:
    """Each bucket: the four settings in effect (account OR bucket); with the account-level
    settings unreadable, only a bucket that has all four itself can be proven."""
    for found in per_bucket(ctx, BUCKET_PUBLIC_ACCESS, "GetPublicAccessBlock"):
        if not isinstance(found, tuple):
            yield found
            continue
        bucket, response, arn = found
        own = (response or {}).get("PublicAccessBlockConfiguration")
        effective = effective_block(account, own)
        off = _off(effective)
        if not off:
            status = Status.PASS
            detail = (
                "all four settings on for the bucket"
                if not _off(effective_block(None, own))
                else "all four in effect: "
                + ", ".join(
                    f"{name} ({'bucket' if (own or {}).get(name) else 'account'})"
                    for name in BLOCK_SETTINGS
                )
            )
        elif not account_read:
            status = Status.ERROR
            own_off = ", ".join(_off(effective_block(None, own)))
            detail = (
                f"bucket-level block incomplete (off: {own_off})"
                " and the account-level block could not be read"
            )
        else:
            status = Status.FAIL
            detail = "not in effect for the bucket or the account: " + ", ".join(off)
        yield ctx.item(
            bucket.name,
            status,
            detail,
            arn,
            level="bucket",
            **_attributes(effective_block(None, own)),
            **_attributes({f"effective_{k}": v for k, v in effective.items()}),
        )


def _attributes(settings: Mapping[str, bool]) -> dict[str, Any]:
    return dict(settings)
