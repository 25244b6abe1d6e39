"""IAM checks: password policy, root MFA, console-user MFA, access-key rotation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..model import ROOT_USER, CollectionError, Item, Status
from ..pack.raw import parse_utc, utc_iso
from ..sources.iam import (
    ACCOUNT_SUMMARY,
    AUTHORIZATION_DETAILS,
    CREDENTIAL_REPORT,
    PASSWORD_POLICY,
    VIRTUAL_MFA_DEVICES,
    CredentialRow,
)
from .admin_access import EVERYTHING, administrative_grants
from .base import NoParams, NotCollected, ScopeContext, Shown, check, events
from .bounds import Days, PasswordLength, PasswordReuse
from .policy import PolicyError

# ---------------------------------------------------------------- password policy


@dataclass(frozen=True)
class PasswordPolicyParams:
    min_length: PasswordLength = 8
    require_symbols: bool = True
    require_numbers: bool = True
    require_uppercase: bool = True
    require_lowercase: bool = True
    max_age_days: Days | None = 90  # null: expiry not required
    reuse_prevention: PasswordReuse | None = None  # null: reuse prevention not required


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
    finding_attributes=(
        Shown("minimum_length", required="min_length"),
        Shown("max_password_age_days", required="max_age_days"),
        Shown("password_reuse_prevention", required="reuse_prevention"),
    ),
    change_events=events("iam", "UpdateAccountPasswordPolicy", "DeleteAccountPasswordPolicy"),
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


@dataclass(frozen=True)
class RootMfaParams:
    # CIS AWS 1.6 (Security Hub IAM.6): root's MFA must be a hardware device, not a virtual one.
    require_hardware: bool = False


@check(
    "iam.root_mfa",
    summary="The root user has MFA enabled (with require_hardware: a hardware device).",
    procedure=(
        "Read AccountMFAEnabled from iam:GetAccountSummary and mfa_active from the <root_account>"
        " row of the IAM credential report; the control passes only if every source read says MFA"
        " is on, and is an error if neither could be read. The assigned virtual MFA devices"
        " (iam:ListVirtualMFADevices AssignmentStatus=Assigned) show whether root's MFA is"
        " virtual (a device whose user is the root or whose serial is"
        " mfa/root-account-mfa-device); with require_hardware (CIS AWS 1.6) a virtual device"
        " fails."
    ),
    params=RootMfaParams,
    sources=(ACCOUNT_SUMMARY, CREDENTIAL_REPORT, VIRTUAL_MFA_DEVICES),
    finding_attributes=("mfa_per_account_summary", "mfa_per_credential_report"),
    change_events=events("iam", "EnableMFADevice", "DeactivateMFADevice", "DeleteVirtualMFADevice"),
)
def root_mfa(ctx: ScopeContext[RootMfaParams]) -> Iterator[Item | CollectionError]:
    readings, missing = root_readings(
        ctx, lambda summary: summary.get("AccountMFAEnabled", 0) == 1, lambda row: row.mfa_active
    )
    enabled = all(readings.values())
    virtual: bool | None = None
    try:
        virtual = any(device.is_root for device in ctx.get(VIRTUAL_MFA_DEVICES))
    except NotCollected as exc:
        if ctx.params.require_hardware and enabled:
            yield exc.error
    status = Status.PASS if enabled else Status.FAIL
    detail = "root MFA enabled" if enabled else "root MFA not enabled"
    if enabled and virtual:
        detail += " with a virtual MFA device"
        if ctx.params.require_hardware:
            status, detail = Status.FAIL, detail + " (a hardware MFA device is required)"
    elif enabled and virtual is False:
        detail += " (not a virtual device: a hardware or FIDO device)"
    elif enabled and ctx.params.require_hardware:
        status, detail = Status.ERROR, detail + " (whether it is virtual could not be read)"
    yield ctx.item(
        ROOT_USER,
        status,
        detail + describe_readings(readings, missing, "on", "off") + report_age(ctx),
        f"arn:{ctx.partition}:iam::{ctx.account}:root",
        mfa_enabled=enabled,
        mfa_virtual=virtual,
        mfa_per_account_summary=readings.get("account_summary"),
        mfa_per_credential_report=readings.get("credential_report"),
        **report_attributes(ctx),
    )


# The credential report may be up to 4 hours old (IAM User Guide, "Getting credential reports
# for your AWS account"): older than that at the as-of time, every item says so.
STALE_REPORT_HOURS = 4


def _report_generated(ctx: ScopeContext[Any]) -> datetime | None:
    try:
        generated = ctx.get(CREDENTIAL_REPORT).generated_time
    except NotCollected:
        return None
    try:
        return parse_utc(generated) if generated else None
    except ValueError:
        return None


def report_attributes(ctx: ScopeContext[Any]) -> dict[str, Any]:
    """When the credential report the item was read from was generated, and its age in hours
    at the as-of time."""
    generated = _report_generated(ctx)
    if generated is None:
        return {}
    hours = round((ctx.as_of - generated).total_seconds() / 3600, 1)
    return {"credential_report_generated": utc_iso(generated), "credential_report_age_hours": hours}


def report_age(ctx: ScopeContext[Any]) -> str:
    """A note for the detail when the credential report is older than 4 hours at as-of."""
    generated = _report_generated(ctx)
    if generated is None:
        return ""
    hours = (ctx.as_of - generated).total_seconds() / 3600
    if hours <= STALE_REPORT_HOURS:
        return ""
    return (
        f" [credential report generated {utc_iso(generated)}, {hours:,.0f} h before the as-of"
        " time: changes since then are not in it]"
    )


def root_readings(
    ctx: ScopeContext[Any],
    from_summary: Callable[[Mapping[str, int]], bool],
    from_row: Callable[[CredentialRow], bool],
) -> tuple[dict[str, bool], list[CollectionError]]:
    """One fact about the root user from each source that could be read: the account summary
    and the credential report's <root_account> row. Raises NotCollected if neither could."""
    readings: dict[str, bool] = {}
    missing: list[CollectionError] = []
    try:
        readings["account_summary"] = from_summary(ctx.get(ACCOUNT_SUMMARY))
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
            readings["credential_report"] = from_row(root)
    except NotCollected as exc:
        missing.append(exc.error)
    if not readings:
        raise NotCollected(missing[0])
    return readings, missing


def describe_readings(
    readings: Mapping[str, bool], missing: list[CollectionError], yes: str, no: str
) -> str:
    read = ", ".join(f"{name}: {yes if value else no}" for name, value in readings.items())
    unread = "; not read: " + "; ".join(f"{e.operation} ({e.code})" for e in missing)
    return f" ({read}{unread if missing else ''})"


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
    finding_attributes=("password_last_used", "password_last_changed", "user_created"),
    change_events=events(
        "iam",
        "CreateUser",
        "DeleteUser",
        "CreateLoginProfile",
        "DeleteLoginProfile",
        "EnableMFADevice",
        "DeactivateMFADevice",
        "DeleteVirtualMFADevice",
    ),
)
def user_mfa(ctx: ScopeContext[NoParams]) -> Iterator[Item]:
    age, stamp = report_age(ctx), report_attributes(ctx)
    report = ctx.get(CREDENTIAL_REPORT)
    if report.root is not None:
        ctx.exclude(ROOT_USER, "the root user: judged by the root MFA check")
    for row in report.users:
        if not row.password_enabled:
            ctx.exclude(row.user, "no console password (password_enabled false)")
            continue
        yield ctx.item(
            row.user,
            Status.PASS if row.mfa_active else Status.FAIL,
            ("console password with MFA" if row.mfa_active else "console password without MFA")
            + age,
            row.arn,
            **stamp,
            mfa_active=row.mfa_active,
            password_last_used=_iso(row.password_last_used),
            password_last_changed=_iso(row.password_last_changed),
            user_created=_iso(row.created),
        )


# ---------------------------------------------------------------- access-key rotation


@dataclass(frozen=True)
class KeyRotationParams:
    max_age_days: Days = 90


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
    finding_attributes=("key_slot", "last_rotated", "age_days", "last_used"),
    change_events=events("iam", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey"),
)
def access_key_rotation(ctx: ScopeContext[KeyRotationParams]) -> Iterator[Item]:
    limit = ctx.params.max_age_days
    stale, report = report_age(ctx), report_attributes(ctx)
    for row in ctx.get(CREDENTIAL_REPORT).rows:
        for key in row.access_keys:
            if not key.active:
                ctx.exclude(f"{row.user} key {key.slot}", "access key slot not active")
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
                detail + stale,
                row.arn,
                key=f"access_key_{key.slot}",
                **report,
                key_slot=key.slot,
                last_rotated=_iso(key.last_rotated),
                age_days=age,
                last_used=_iso(key.last_used),
            )


def _iso(moment: Any) -> str | None:
    return None if moment is None else utc_iso(moment)


# ---------------------------------------------------------------- root access keys


@check(
    "iam.root_access_keys",
    summary="The root user has no access keys.",
    procedure=(
        "Read AccountAccessKeysPresent from iam:GetAccountSummary and access_key_1_active /"
        " access_key_2_active from the <root_account> row of the IAM credential report; the"
        " control passes only if every source read says there is no root access key."
    ),
    params=NoParams,
    sources=(ACCOUNT_SUMMARY, CREDENTIAL_REPORT),
    finding_attributes=("keys_per_account_summary", "keys_per_credential_report"),
    change_events=events("iam", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey"),
)
def root_access_keys(ctx: ScopeContext[NoParams]) -> Iterator[Item]:
    readings, missing = root_readings(
        ctx,
        lambda summary: summary.get("AccountAccessKeysPresent") == 1,
        lambda row: any(key.active for key in row.access_keys),
    )
    present = any(readings.values())
    yield ctx.item(
        ROOT_USER,
        Status.FAIL if present else Status.PASS,
        ("root access keys present" if present else "no root access keys")
        + describe_readings(readings, missing, "keys", "none")
        + report_age(ctx),
        f"arn:{ctx.partition}:iam::{ctx.account}:root",
        keys_present=present,
        keys_per_account_summary=readings.get("account_summary"),
        keys_per_credential_report=readings.get("credential_report"),
        **report_attributes(ctx),
    )


# ---------------------------------------------------------------- unused credentials


@dataclass(frozen=True)
class UnusedCredentialParams:
    max_unused_days: Days = 90  # Security Hub IAM.8 uses 90; CIS AWS 1.12 uses 45


@check(
    "iam.unused_credentials",
    summary="Console passwords and access keys unused for longer than allowed are disabled.",
    procedure=(
        "From the IAM credential report, take every enabled console password and every active"
        " access key of an IAM user (the population). Days unused are counted from the last use"
        " (password_last_used, access_key_N_last_used_date) or, for a credential never used,"
        " from its creation, to the pack's as-of time; more than max_unused_days fails."
    ),
    params=UnusedCredentialParams,
    sources=(CREDENTIAL_REPORT,),
    finding_attributes=("credential", "last_used", "created", "days_unused"),
    change_events=events(
        "iam",
        "CreateAccessKey",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "CreateLoginProfile",
        "UpdateLoginProfile",
        "DeleteLoginProfile",
    ),
)
def unused_credentials(ctx: ScopeContext[UnusedCredentialParams]) -> Iterator[Item]:
    limit = ctx.params.max_unused_days
    age, stamp = report_age(ctx), report_attributes(ctx)
    report = ctx.get(CREDENTIAL_REPORT)
    if report.root is not None:
        ctx.exclude(ROOT_USER, "the root user: judged by the root checks")
    for row in report.users:
        credentials = []
        if row.password_enabled:
            since = row.password_last_changed or row.created
            credentials.append(("console password", row.password_last_used, since))
        else:
            ctx.exclude(row.user, "no console password (password_enabled false)")
        for key in row.access_keys:
            if not key.active:
                ctx.exclude(f"{row.user} key {key.slot}", "access key slot not active")
        credentials += [
            (f"access key {key.slot}", key.last_used, key.last_rotated)
            for key in row.access_keys
            if key.active
        ]
        for name, last_used, created in credentials:
            reference = last_used or created
            if reference is None:
                yield ctx.item(
                    row.user,
                    Status.ERROR,
                    f"{name}: no usage or creation date{age}",
                    row.arn,
                    key=name,
                    credential=name,
                    **stamp,
                )
                continue
            days = ctx.age_days(reference)
            when = (
                f"last used {days} days ago"
                if last_used
                else f"never used, created {days} days ago"
            )
            yield ctx.item(
                row.user,
                Status.FAIL if days > limit else Status.PASS,
                f"{name} {when} (limit {limit}){age}",
                row.arn,
                key=name,
                **stamp,
                credential=name,
                last_used=_iso(last_used),
                created=_iso(created),
                days_unused=days,
            )


# ---------------------------------------------------------------- privileged access


@dataclass(frozen=True)
class PrivilegedAccessParams:
    # Users, groups and roles (names or ARNs) approved to hold administrative access.
    authorized: tuple[str, ...] = ()


ADMIN_POLICY_NAME = "AdministratorAccess"


def grants_everything(document: Any) -> bool:
    """An Allow of every action (`*`, `*:*`, in any case) on every resource (`*`, or a pattern
    matching ARNs of every shape such as `arn:aws:*:*:*:*`) anywhere in the policy, read with
    the shared policy semantics (checks/policy.py). Conditions do not remove it, and NotAction
    is not taken as everything. Raises PolicyError for a document that is not a policy. AWS:
    IAM User Guide "IAM JSON policy element reference"; CIS AWS 1.16, Security Hub IAM.1."""
    return administrative_grants(_document(document)) == (EVERYTHING,)


def _document(document: Any) -> str | dict[str, Any]:
    return document if isinstance(document, str) else dict(document or {})


UNREADABLE = "unreadable policy"


def _grants_or_unreadable(document: Any, partition: str, account: str) -> tuple[str, ...] | str:
    """Why the document is administrative (checks/admin_access.py), or why it could not be read
    (then it proves nothing either way)."""
    try:
        return administrative_grants(_document(document), partition, account)
    except PolicyError as exc:
        return f"{UNREADABLE}: {exc}"


def _admin_reasons(
    principal: Mapping[str, Any],
    inline_key: str,
    admin_policies: Mapping[str, tuple[str, ...] | str],
    partition: str,
    account: str,
) -> list[str]:
    reasons = []
    for p in principal.get("AttachedManagedPolicies", []):
        verdict = admin_policies.get(p["PolicyArn"], ())
        if verdict == (EVERYTHING,) or p["PolicyArn"].endswith(f":policy/{ADMIN_POLICY_NAME}"):
            reasons.append(f"{p['PolicyName']} (attached)")
        elif isinstance(verdict, str):
            reasons.append(f"{p['PolicyName']} (attached, {verdict})")
        elif verdict:
            reasons.append(f"{p['PolicyName']} (attached, {'; '.join(verdict)})")
    for p in principal.get(inline_key, []):
        verdict = _grants_or_unreadable(p.get("PolicyDocument"), partition, account)
        if verdict == (EVERYTHING,):
            reasons.append(f"{p['PolicyName']} (inline, allows * on *)")
        elif isinstance(verdict, str):
            reasons.append(f"{p['PolicyName']} (inline, {verdict})")
        elif verdict:
            reasons.append(f"{p['PolicyName']} (inline, {'; '.join(verdict)})")
    return reasons


@check(
    "iam.privileged_access",
    summary="Administrative access is held only by the users, groups and roles approved for it.",
    procedure=(
        "Read every user, group, role and customer managed policy"
        " (iam:GetAccountAuthorizationDetails). A principal has administrative access when"
        " AdministratorAccess or a policy granting it is attached to it or written inline, or"
        " (for a user) when one of its groups has it. Each policy is evaluated as IAM evaluates"
        " it (Action/NotAction, Resource/NotResource with IAM's wildcards): it grants"
        " administrative access when an Allow applies to every action on every resource (`*`,"
        " `*:*`, `arn:aws:*:*:*:*`), or to an IAM action that lets the holder give itself that"
        " (privilege escalation: attach or put a user, group or role policy, create or set a"
        " policy version, add a user to a group, create access keys or login profiles, update a"
        " trust policy, pass a role) on every user, group, role or policy of that type, e.g."
        " `iam:*` on `*`, or `*` with a NotResource that spares IAM. The population is every"
        " such principal; any not on the `authorized` list fails. Service-linked roles"
        " (path /aws-service-role/) are AWS's own and are not in the population."
    ),
    params=PrivilegedAccessParams,
    sources=(AUTHORIZATION_DETAILS,),
    finding_attributes=("principal_type", "admin_via"),
    change_events=events(
        "iam",
        "CreateUser",
        "DeleteUser",
        "CreateGroup",
        "DeleteGroup",
        "CreateRole",
        "DeleteRole",
        "AddUserToGroup",
        "RemoveUserFromGroup",
        "AttachUserPolicy",
        "DetachUserPolicy",
        "AttachGroupPolicy",
        "DetachGroupPolicy",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "PutUserPolicy",
        "DeleteUserPolicy",
        "PutGroupPolicy",
        "DeleteGroupPolicy",
        "PutRolePolicy",
        "DeleteRolePolicy",
        "CreatePolicyVersion",
        "SetDefaultPolicyVersion",
    ),
)
def privileged_access(
    ctx: ScopeContext[PrivilegedAccessParams],
) -> Iterator[Item | CollectionError]:
    details = ctx.get(AUTHORIZATION_DETAILS)
    where = (ctx.partition, ctx.account)
    admin_policies = {
        str(policy["Arn"]): _grants_or_unreadable(version.get("Document"), *where)
        for policy in details.policies
        for version in policy.get("PolicyVersionList", [])
        if version.get("IsDefaultVersion")
    }
    # AWS managed policies attached to someone are judged on their default version too.
    admin_policies.update(
        {arn: _grants_or_unreadable(doc, *where) for arn, doc in details.aws_policies.items()}
    )
    admin_policies.update(
        {
            arn: f"{UNREADABLE}: {f.operation} failed with {f.code}"
            for arn, f in details.failures.items()
        }
    )
    for failure in details.failures.values():
        yield CollectionError(
            ctx.account,
            ctx.region,
            failure.operation,
            failure.code,
            f"policy {failure.resource}: {failure.message}",
        )
    authorized = set(ctx.params.authorized)
    admin_groups: dict[str, list[str]] = {}
    principals: list[tuple[str, Mapping[str, Any], list[str]]] = []
    no_admin = "no administrative access"
    for group in details.groups:
        reasons = _admin_reasons(group, "GroupPolicyList", admin_policies, *where)
        if reasons:
            if any(UNREADABLE not in r for r in reasons):
                admin_groups[str(group["GroupName"])] = reasons
            principals.append(("group", group, reasons))
        else:
            ctx.exclude(str(group["GroupName"]), f"group with {no_admin}")
    for user in details.users:
        reasons = _admin_reasons(user, "UserPolicyList", admin_policies, *where)
        reasons += [
            f"member of admin group {g}" for g in user.get("GroupList", []) if g in admin_groups
        ]
        if reasons:
            principals.append(("user", user, reasons))
        else:
            ctx.exclude(str(user["UserName"]), f"user with {no_admin}")
    for role in details.roles:
        if str(role.get("Path", "")).startswith("/aws-service-role/"):
            ctx.exclude(str(role["RoleName"]), "service-linked role (AWS's own)")
            continue
        reasons = _admin_reasons(role, "RolePolicyList", admin_policies, *where)
        if reasons:
            principals.append(("role", role, reasons))
        else:
            ctx.exclude(str(role["RoleName"]), f"role with {no_admin}")
    for kind, principal, reasons in principals:
        name = str(principal[f"{kind.capitalize()}Name"])
        arn = str(principal.get("Arn", ""))
        approved = name in authorized or arn in authorized
        proven = any(UNREADABLE not in r for r in reasons)
        status = Status.PASS if approved else Status.FAIL if proven else Status.ERROR
        yield ctx.item(
            name,
            status,
            ("authorized" if approved else "not on the authorized list")
            + f": {kind} with {'' if proven else 'possible '}administrative access via "
            + "; ".join(reasons),
            arn,
            principal_type=kind,
            admin_via=reasons,
        )
