"""IAM checks against the moto server over HTTP: pass, fail and error for each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun import freeze_time

from tests.conftest import ACCOUNT, Aws

COMPLIANT_POLICY = {
    "MinimumPasswordLength": 12,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "MaxPasswordAge": 90,
}


def console_user(aws: Aws, name: str, mfa: bool) -> None:
    iam = aws.client("iam")
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="Correct-Horse-9!")
    if mfa:
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
        iam.enable_mfa_device(
            UserName=name,
            SerialNumber=serial["SerialNumber"],
            AuthenticationCode1="111111",
            AuthenticationCode2="222222",
        )


# ---------------------------------------------------------------- password policy


def test_password_policy_passes_when_it_meets_the_company_policy(aws: Aws, collect: Any) -> None:
    aws.client("iam").update_account_password_policy(**COMPLIANT_POLICY)
    run = collect("--only", "IAM-01")
    control = run.control("IAM-01")
    assert (run.code, control["status"], control["population"]) == (0, "pass", 1)
    item = control["items"][0]
    assert item["attributes"]["minimum_length"] == 12
    assert item["attributes"]["max_password_age_days"] == 90
    assert any("not an iam setting" in note.lower() for note in control["notes"])


def test_no_password_policy_is_a_finding_not_an_error(aws: Aws, collect: Any) -> None:
    run = collect("--only", "IAM-01")
    control = run.control("IAM-01")
    assert (run.code, control["status"]) == (1, "fail")
    assert control["errors"] == []
    assert control["failing"][0]["detail"] == "no password policy set"
    # The NoSuchEntity answer itself is the evidence.
    raw = (run.pack / "raw" / ACCOUNT / "global" / "iam.password_policy.json").read_text()
    assert '"NoSuchEntity"' in raw


def test_weak_password_policy_names_every_shortfall(aws: Aws, collect: Any) -> None:
    # No MaxPasswordAge: moto answers 0, AWS omits it; both mean passwords never expire.
    aws.client("iam").update_account_password_policy(MinimumPasswordLength=6, RequireNumbers=True)
    run = collect("--only", "IAM-01")
    detail = run.control("IAM-01")["failing"][0]["detail"]
    assert "minimum length 6, required at least 8" in detail
    assert "symbols not required" in detail
    assert "upper-case letters not required" in detail
    assert "numbers not required" not in detail
    assert "passwords never expire, required at most 90 days" in detail


def test_password_policy_access_denied_is_an_error_naming_operation_and_code(
    aws: Aws, collect: Any
) -> None:
    aws.proxy.fail("GetAccountPasswordPolicy", "AccessDenied", status=403)
    run = collect("--only", "IAM-01", "--only", "IAM-03")
    control = run.control("IAM-01")
    assert run.code == 3
    assert control["status"] == "error"
    assert control["population"] == 0
    (error,) = control["errors"]
    assert (error["operation"], error["code"], error["account"]) == (
        "GetAccountPasswordPolicy",
        "AccessDenied",
        ACCOUNT,
    )
    # Another control in the same run is unaffected.
    assert run.control("IAM-03")["status"] == "pass"


# ---------------------------------------------------------------- root MFA


def test_root_mfa_passes_when_enabled(aws: Aws, collect: Any) -> None:
    aws.backend("iam").account_summary._account_mfa_enabled = 1  # moto's API cannot enable it
    control = collect("--only", "IAM-02").control("IAM-02")
    assert control["status"] == "pass"
    item = control["items"][0]
    assert item["resource"] == "<root_account>"
    assert item["attributes"]["mfa_per_account_summary"] is True
    # moto's report has no root row: said, not hidden.
    assert "GetCredentialReport (NoRootRow)" in item["detail"]


def test_root_mfa_fails_when_disabled(aws: Aws, collect: Any) -> None:
    run = collect("--only", "IAM-02")
    assert run.code == 1
    assert run.control("IAM-02")["failing"][0]["detail"].startswith("root MFA not enabled")


def test_root_mfa_is_an_error_when_neither_source_can_be_read(aws: Aws, collect: Any) -> None:
    aws.proxy.fail("GetAccountSummary", "AccessDenied", status=403)
    run = collect("--only", "IAM-02")
    control = run.control("IAM-02")
    assert (run.code, control["status"]) == (3, "error")
    assert control["errors"][0]["operation"] == "GetAccountSummary"
    assert control["errors"][0]["code"] == "AccessDenied"


# ---------------------------------------------------------------- console users' MFA


def test_user_mfa_population_is_every_console_user(aws: Aws, collect: Any) -> None:
    console_user(aws, "alice", mfa=True)
    console_user(aws, "bob", mfa=False)
    aws.client("iam").create_user(UserName="ci-bot")  # no console password: not in population
    control = collect("--only", "IAM-03").control("IAM-03")
    assert control["status"] == "fail"
    assert sorted(i["resource"] for i in control["items"]) == ["alice", "bob"]
    assert [i["resource"] for i in control["failing"]] == ["bob"]
    assert control["failing"][0]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/bob"


def test_user_mfa_passes_and_keeps_the_report_as_csv(aws: Aws, collect: Any) -> None:
    console_user(aws, "alice", mfa=True)
    run = collect("--only", "IAM-03")
    control = run.control("IAM-03")
    assert control["status"] == "pass"
    csv_path = f"raw/{ACCOUNT}/global/iam.credential_report.csv"
    assert csv_path in [e["path"] for e in control["evidence"]]
    csv_text = (run.pack / csv_path).read_text()
    assert csv_text.startswith("user,arn,user_creation_time")
    assert "alice" in csv_text
    report = next(e for e in control["evidence"] if e["path"].endswith("credential_report.json"))
    assert report["source_time"].startswith("GeneratedTime ")


def test_user_mfa_error_when_the_report_is_denied(aws: Aws, collect: Any) -> None:
    aws.proxy.fail("GetCredentialReport", "AccessDenied", status=403)
    control = collect("--only", "IAM-03").control("IAM-03")
    assert control["status"] == "error"
    assert (control["errors"][0]["operation"], control["errors"][0]["code"]) == (
        "GetCredentialReport",
        "AccessDenied",
    )


# ---------------------------------------------------------------- access-key rotation


def test_access_keys_older_than_the_limit_fail(aws: Aws, collect: Any) -> None:
    iam = aws.client("iam")
    for user in ("old-svc", "new-svc", "inactive-svc"):
        iam.create_user(UserName=user)
    with freeze_time(datetime.now(UTC) - timedelta(days=120)):
        iam.create_access_key(UserName="old-svc")
        inactive = iam.create_access_key(UserName="inactive-svc")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="inactive-svc", AccessKeyId=inactive, Status="Inactive")
    iam.create_access_key(UserName="new-svc")
    control = collect("--only", "IAM-04").control("IAM-04")
    assert control["status"] == "fail"
    # Population: every active key, and only active ones.
    assert sorted(i["resource"] for i in control["items"]) == ["new-svc", "old-svc"]
    (failing,) = control["failing"]
    assert failing["resource"] == "old-svc"
    assert failing["attributes"]["age_days"] in (119, 120)
    assert failing["attributes"]["key_slot"] == 1
    assert "limit 90" in failing["detail"]


def test_access_keys_within_the_limit_pass(aws: Aws, collect: Any) -> None:
    aws.client("iam").create_user(UserName="svc")
    aws.client("iam").create_access_key(UserName="svc")
    control = collect("--only", "IAM-04").control("IAM-04")
    assert (control["status"], control["population"]) == ("pass", 1)
    assert control["items"][0]["attributes"]["age_days"] == 0


def test_access_key_rotation_error_when_report_generation_is_denied(aws: Aws, collect: Any) -> None:
    aws.proxy.fail("GenerateCredentialReport", "AccessDenied", status=403)
    control = collect("--only", "IAM-04").control("IAM-04")
    assert control["status"] == "error"
    assert control["errors"][0]["operation"] == "GenerateCredentialReport"
