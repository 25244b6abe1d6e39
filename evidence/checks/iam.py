"""IAM checks: password policy, root MFA, console-user MFA, access-key rotation."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..model import ROOT_USER, CollectionError, Item, Status
from ..params import NoParams
from ..rawstore import utc_iso
from ..sources.iam import ACCOUNT_SUMMARY, CREDENTIAL_REPORT, PASSWORD_POLICY
from .base import NotCollected, ScopeContext, check

# ---------------------------------------------------------------- password policy


@dataclass(frozen=True)
class PasswordPolicyParams:
    min_length: int = 8
    require_symbols: bool = True
    require_numbers: bool = True
    require_uppercase: bool = True
    require_lowercase: bool = True
    max_age_days: int | None = 90  # null: expiry not required
    reuse_prevention: int | None = None  # null: reuse prevention not required


_COMPLEXITY = (
    ("require_symbols", "RequireSymbols", "symbols"),
    ("require_numbers", "RequireNumbers", "numbers"),
    ("require_uppercase", "RequireUppercaseCharacters", "upper-case letters"),
    ("require_lowercase", "RequireLowercaseCharacters", "lower-case letters"),
)


def password_policy_shortfalls(
    settings: Mapping[str, Any], params: PasswordPolicyParams
) -> list[str]:
    shortfalls = []
    length = int(settings.get("MinimumPasswordLength", 0))
    if length < params.min_length:
        shortfalls.append(f"minimum length {length}, required at least {params.min_length}")
    for param, setting, words in _COMPLEXITY:
        if getattr(params, param) and not settings.get(setting, False):
            shortfalls.append(f"{words} not required")
    # AWS omits MaxPasswordAge when passwords never expire; some emulators say 0. Both: never.
    max_age = int(settings.get("MaxPasswordAge") or 0)
    if params.max_age_days is not None:
        if max_age == 0:
            shortfalls.append(
                f"passwords never expire, required at most {params.max_age_days} days"
            )
        elif max_age > params.max_age_days:
            shortfalls.append(
                f"passwords expire after {max_age} days, required at most {params.max_age_days}"
            )
    reuse = int(settings.get("PasswordReusePrevention") or 0)
    if params.reuse_prevention is not None and reuse < params.reuse_prevention:
        shortfalls.append(
            f"reuse prevention remembers {reuse} passwords, required {params.reuse_prevention}"
        )
    return shortfalls


@check(
    "iam.password_policy",
    summary="The IAM account password policy meets the company policy.",
    procedure=(
        "Read the account password policy (iam:GetAccountPasswordPolicy) and compare each setting"
        " with the required minimum length, character classes, maximum age and reuse prevention."
        " No policy set (NoSuchEntity) fails."
    ),
    params=PasswordPolicyParams,
    sources=(PASSWORD_POLICY,),
    notes=(
        "Account lockout after a number of failed sign-in attempts is not an IAM setting: IAM has"
        " no lockout for IAM users, so no API evidence can show it. Evidence for a lockout"
        " requirement must come from the identity provider used for console sign-in.",
    ),
)
def password_policy(ctx: ScopeContext[PasswordPolicyParams]) -> Iterator[Item]:
    policy = ctx.get(PASSWORD_POLICY)
    resource, arn = "account-password-policy", ""
    if policy.settings is None:
        yield ctx.item(resource, Status.FAIL, "no password policy set", arn, policy_set=False)
        return
    settings = policy.settings
    shortfalls = password_policy_shortfalls(settings, ctx.params)
    yield ctx.item(
        resource,
        Status.FAIL if shortfalls else Status.PASS,
        "; ".join(shortfalls) if shortfalls else "meets every requirement",
        arn,
        policy_set=True,
        minimum_length=settings.get("MinimumPasswordLength"),
        require_symbols=settings.get("RequireSymbols", False),
        require_numbers=settings.get("RequireNumbers", False),
        require_uppercase=settings.get("RequireUppercaseCharacters", False),
        require_lowercase=settings.get("RequireLowercaseCharacters", False),
        max_password_age_days=int(settings.get("MaxPasswordAge") or 0) or None,
        password_reuse_prevention=settings.get("PasswordReusePrevention"),
        expire_passwords=settings.get("ExpirePasswords", False),
        hard_expiry=settings.get("HardExpiry", False),
    )


# ---------------------------------------------------------------- root MFA


@check(
    "iam.root_mfa",
    summary="The root user has MFA enabled.",
    procedure=(
        "Read AccountMFAEnabled from iam:GetAccountSummary and mfa_active from the <root_account>"
        " row of the IAM credential report; the control passes only if every source read says MFA"
        " is on, and is an error if neither could be read."
    ),
    params=NoParams,
    sources=(ACCOUNT_SUMMARY, CREDENTIAL_REPORT),
)
def root_mfa(ctx: ScopeContext[NoParams]) -> Iterator[Item]:
    readings: dict[str, bool] = {}
    missing: list[CollectionError] = []
    try:
        readings["account_summary"] = ctx.get(ACCOUNT_SUMMARY).get("AccountMFAEnabled", 0) == 1
    except NotCollected as exc:
        missing.append(exc.error)
    try:
        root = ctx.get(CREDENTIAL_REPORT).root
        if root is None:
            missing.append(
                CollectionError(
                    ctx.account,
                    ctx.region,
                    "GetCredentialReport",
                    "NoRootRow",
                    "the credential report has no <root_account> row",
                )
            )
        else:
            readings["credential_report"] = root.mfa_active
    except NotCollected as exc:
        missing.append(exc.error)
    if not readings:
        raise NotCollected(missing[0])
    enabled = all(readings.values())
    sources = ", ".join(f"{name}: {'on' if on else 'off'}" for name, on in readings.items())
    unread = "; not read: " + "; ".join(f"{e.operation} ({e.code})" for e in missing)
    yield ctx.item(
        ROOT_USER,
        Status.PASS if enabled else Status.FAIL,
        ("root MFA enabled" if enabled else "root MFA not enabled")
        + f" ({sources}{unread if missing else ''})",
        f"arn:{ctx.partition}:iam::{ctx.account}:root",
        mfa_enabled=enabled,
        mfa_per_account_summary=readings.get("account_summary"),
        mfa_per_credential_report=readings.get("credential_report"),
    )


# ---------------------------------------------------------------- console users' MFA


@check(
    "iam.user_mfa",
    summary="Every IAM user with a console password has MFA.",
    procedure=(
        "From the IAM credential report (iam:GenerateCredentialReport, iam:GetCredentialReport),"
        " take every IAM user whose password_enabled is true (the population) and check that"
        " mfa_active is true."
    ),
    params=NoParams,
    sources=(CREDENTIAL_REPORT,),
)
def user_mfa(ctx: ScopeContext[NoParams]) -> Iterator[Item]:
    for row in ctx.get(CREDENTIAL_REPORT).users:
        if not row.password_enabled:
            continue
        yield ctx.item(
            row.user,
            Status.PASS if row.mfa_active else Status.FAIL,
            "console password with MFA" if row.mfa_active else "console password without MFA",
            row.arn,
            mfa_active=row.mfa_active,
            password_last_used=_iso(row.password_last_used),
            password_last_changed=_iso(row.password_last_changed),
            user_created=_iso(row.created),
        )


# ---------------------------------------------------------------- access-key rotation


@dataclass(frozen=True)
class KeyRotationParams:
    max_age_days: int = 90


@check(
    "iam.access_key_rotation",
    summary="Every active access key was rotated within the allowed age.",
    procedure=(
        "From the IAM credential report, take every active access key (access_key_N_active is"
        " true, root included) as the population and compute its age from access_key_N_last_rotated"
        " to the pack's as-of time; a key older than max_age_days fails."
    ),
    params=KeyRotationParams,
    sources=(CREDENTIAL_REPORT,),
)
def access_key_rotation(ctx: ScopeContext[KeyRotationParams]) -> Iterator[Item]:
    limit = ctx.params.max_age_days
    for row in ctx.get(CREDENTIAL_REPORT).rows:
        for key in row.access_keys:
            if not key.active:
                continue
            if key.last_rotated is None:
                status, age, detail = Status.ERROR, None, "active key with no rotation date"
            else:
                age = ctx.age_days(key.last_rotated)
                status = Status.FAIL if age > limit else Status.PASS
                detail = f"key {key.slot} is {age} days old (limit {limit})"
            yield ctx.item(
                row.user,
                status,
                detail,
                row.arn,
                key_slot=key.slot,
                last_rotated=_iso(key.last_rotated),
                age_days=age,
                last_used=_iso(key.last_used),
            )


def _iso(moment: Any) -> str | None:
    return None if moment is None else utc_iso(moment)
