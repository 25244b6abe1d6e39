"""IAM sources: password policy, account summary and the credential report (one call serves all
users, which is why the user-level checks read it instead of calling per user)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ..pack.raw import RawSource, ResourceFailure, decode_bytes, parse_utc
from .base import FetchContext, Scope, Source, error_code, register

# ---------------------------------------------------------------- password policy


@dataclass(frozen=True)
class PasswordPolicy:
    """The account password policy; `settings` is None when none is set (NoSuchEntity)."""

    settings: Mapping[str, Any] | None


def _fetch_password_policy(ctx: FetchContext) -> None:
    try:
        ctx.client("iam").get_account_password_policy()
    except ClientError as exc:
        # No policy set is a finding the check reports, not a collection error.
        if error_code(exc) != "NoSuchEntity":
            raise


def _parse_password_policy(raw: RawSource) -> PasswordPolicy:
    for call in raw.calls:
        if call.operation != "GetAccountPasswordPolicy":
            continue
        if call.error is None and call.response is not None:
            return PasswordPolicy(dict(call.response["PasswordPolicy"]))
        if call.error is not None and call.error.code == "NoSuchEntity":
            return PasswordPolicy(None)
    raise ValueError("no GetAccountPasswordPolicy answer recorded")


PASSWORD_POLICY = register(
    Source(
        name="iam.password_policy",
        scope=Scope.GLOBAL,
        actions=("iam:GetAccountPasswordPolicy",),
        fetch=_fetch_password_policy,
        parse=_parse_password_policy,
    )
)

# ---------------------------------------------------------------- account summary


def _fetch_account_summary(ctx: FetchContext) -> None:
    ctx.client("iam").get_account_summary()


def _parse_account_summary(raw: RawSource) -> Mapping[str, int]:
    for call in raw.successful("GetAccountSummary"):
        assert call.response is not None
        return {str(k): int(v) for k, v in call.response["SummaryMap"].items()}
    raise ValueError("no GetAccountSummary answer recorded")


ACCOUNT_SUMMARY = register(
    Source(
        name="iam.account_summary",
        scope=Scope.GLOBAL,
        actions=("iam:GetAccountSummary",),
        fetch=_fetch_account_summary,
        parse=_parse_account_summary,
    )
)

# ---------------------------------------------------------------- credential report

# AWS builds a report in seconds; the first short pause keeps small accounts quick.
_REPORT_POLL_SECONDS = (0.2, 0.5, 1.0, 2.0, 2.0, 5.0, 5.0, 10.0, 10.0, 10.0, 10.0, 10.0)


@dataclass(frozen=True)
class AccessKeySlot:
    slot: int  # 1 or 2, as in the report's access_key_N columns
    active: bool
    last_rotated: datetime | None
    last_used: datetime | None


@dataclass(frozen=True)
class CredentialRow:
    user: str
    arn: str
    created: datetime | None
    password_enabled: bool
    password_last_used: datetime | None
    password_last_changed: datetime | None
    mfa_active: bool
    access_keys: tuple[AccessKeySlot, ...]
    fields: Mapping[str, str]  # the row as AWS wrote it

    @property
    def is_root(self) -> bool:
        return self.user == "<root_account>"


@dataclass(frozen=True)
class CredentialReport:
    generated_time: str | None  # the report's own timestamp (may be up to 4 hours old)
    rows: tuple[CredentialRow, ...]

    @property
    def root(self) -> CredentialRow | None:
        return next((row for row in self.rows if row.is_root), None)

    @property
    def users(self) -> tuple[CredentialRow, ...]:
        return tuple(row for row in self.rows if not row.is_root)


def _fetch_credential_report(ctx: FetchContext) -> None:
    iam = ctx.client("iam")
    for pause in (*_REPORT_POLL_SECONDS, None):
        if iam.generate_credential_report()["State"] == "COMPLETE":
            break
        if pause is None:
            raise TimeoutError("the credential report was not ready after a minute")
        time.sleep(pause)
    iam.get_credential_report()


def _report_date(value: str) -> datetime | None:
    """Report dates are ISO 8601; N/A, no_information and not_supported mean no date."""
    try:
        return parse_utc(value)
    except ValueError:
        return None


def _row(fields: Mapping[str, str]) -> CredentialRow:
    keys = tuple(
        AccessKeySlot(
            slot=slot,
            active=fields.get(f"access_key_{slot}_active") == "true",
            last_rotated=_report_date(fields.get(f"access_key_{slot}_last_rotated", "")),
            last_used=_report_date(fields.get(f"access_key_{slot}_last_used_date", "")),
        )
        for slot in (1, 2)
    )
    return CredentialRow(
        user=fields["user"],
        arn=fields.get("arn", ""),
        created=_report_date(fields.get("user_creation_time", "")),
        password_enabled=fields.get("password_enabled") == "true",
        password_last_used=_report_date(fields.get("password_last_used", "")),
        password_last_changed=_report_date(fields.get("password_last_changed", "")),
        mfa_active=fields.get("mfa_active") == "true",
        access_keys=keys,
        fields=dict(fields),
    )


def _report_call(raw: RawSource) -> Mapping[str, Any]:
    calls = list(raw.successful("GetCredentialReport"))
    if not calls:
        raise ValueError("no GetCredentialReport answer recorded")
    response = calls[-1].response
    assert response is not None
    return response


def report_csv(raw: RawSource) -> bytes:
    return decode_bytes(_report_call(raw)["Content"])


def _parse_credential_report(raw: RawSource) -> CredentialReport:
    response = _report_call(raw)
    text = decode_bytes(response["Content"]).decode("utf-8")
    rows = tuple(_row(fields) for fields in csv.DictReader(io.StringIO(text)))
    generated = response.get("GeneratedTime")
    return CredentialReport(generated_time=str(generated) if generated else None, rows=rows)


CREDENTIAL_REPORT = register(
    Source(
        name="iam.credential_report",
        scope=Scope.GLOBAL,
        actions=("iam:GenerateCredentialReport", "iam:GetCredentialReport"),
        fetch=_fetch_credential_report,
        parse=_parse_credential_report,
        derived_files=lambda raw: {"csv": report_csv(raw)},
        own_time=lambda raw: f"GeneratedTime {_report_call(raw).get('GeneratedTime')}",
    )
)

# ---------------------------------------------------------------- authorization details


@dataclass(frozen=True)
class AuthorizationDetails:
    users: tuple[Mapping[str, Any], ...]
    groups: tuple[Mapping[str, Any], ...]
    roles: tuple[Mapping[str, Any], ...]
    policies: tuple[Mapping[str, Any], ...]  # customer managed policies, with their versions
    # AWS managed policies attached to someone: ARN -> default version's document
    aws_policies: Mapping[str, Any] = field(default_factory=dict)
    failures: Mapping[str, ResourceFailure] = field(default_factory=dict)  # by policy ARN


AWS_POLICY = "aws_managed_policy"


def _fetch_authorization(ctx: FetchContext) -> None:
    iam = ctx.client("iam")
    pages = iam.get_paginator("get_account_authorization_details")
    # Listing all ~1,300 AWS managed policies on every run would be noise: only those attached
    # to a user, group or role are read, each at its default version.
    attached: set[str] = set()
    for page in pages.paginate(Filter=["User", "Group", "Role", "LocalManagedPolicy"]):
        for key in ("UserDetailList", "GroupDetailList", "RoleDetailList"):
            for principal in page.get(key, []):
                for policy in principal.get("AttachedManagedPolicies", []):
                    if ":iam::aws:policy/" in str(policy.get("PolicyArn", "")):
                        attached.add(str(policy["PolicyArn"]))

    def default_version(arn: str) -> None:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        iam.get_policy_version(PolicyArn=arn, VersionId=version)

    ctx.each_resource(AWS_POLICY, {a: a for a in sorted(attached)}, default_version)


def _parse_authorization(raw: RawSource) -> AuthorizationDetails:
    def entries(key: str) -> tuple[Mapping[str, Any], ...]:
        return tuple(
            e
            for call in raw.successful("GetAccountAuthorizationDetails")
            for e in (call.response or {}).get(key, [])
        )

    aws_policies = {
        str(call.parameters["PolicyArn"]): (call.response or {})
        .get("PolicyVersion", {})
        .get("Document")
        for call in raw.successful("GetPolicyVersion")
    }
    return AuthorizationDetails(
        entries("UserDetailList"),
        entries("GroupDetailList"),
        entries("RoleDetailList"),
        entries("Policies"),
        aws_policies,
        raw.failed_resources(AWS_POLICY),
    )


AUTHORIZATION_DETAILS = register(
    Source(
        name="iam.authorization_details",
        scope=Scope.GLOBAL,
        actions=("iam:GetAccountAuthorizationDetails", "iam:GetPolicy", "iam:GetPolicyVersion"),
        fetch=_fetch_authorization,
        parse=_parse_authorization,
    )
)

# ---------------------------------------------------------------- virtual MFA devices


@dataclass(frozen=True)
class VirtualMfaDevice:
    serial_number: str
    user_arn: str | None  # the user it is assigned to, when assigned

    @property
    def is_root(self) -> bool:
        """Assigned to the root user: AWS names root's device `mfa/root-account-mfa-device`
        and its user ARN `arn:<partition>:iam::<account>:root`."""
        return bool(self.user_arn and self.user_arn.endswith(":root")) or (
            self.serial_number.endswith(":mfa/root-account-mfa-device")
        )


def _fetch_virtual_mfa(ctx: FetchContext) -> None:
    pages = ctx.client("iam").get_paginator("list_virtual_mfa_devices")
    for _ in pages.paginate(AssignmentStatus="Assigned"):
        pass


def _parse_virtual_mfa(raw: RawSource) -> tuple[VirtualMfaDevice, ...]:
    return tuple(
        VirtualMfaDevice(str(device["SerialNumber"]), (device.get("User") or {}).get("Arn") or None)
        for call in raw.successful("ListVirtualMFADevices")
        for device in (call.response or {}).get("VirtualMFADevices", [])
    )


VIRTUAL_MFA_DEVICES = register(
    Source(
        name="iam.virtual_mfa_devices",
        scope=Scope.GLOBAL,
        actions=("iam:ListVirtualMFADevices",),
        fetch=_fetch_virtual_mfa,
        parse=_parse_virtual_mfa,
    )
)
