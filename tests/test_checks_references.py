"""A control's references say what was tested (issue 9, kind 6): a CIS AWS Foundations Benchmark
v3.0 item is cited only by a control whose check and parameters test what the item requires."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidence.catalog.loader import Catalog, load_catalog
from tests.conftest import REPO_CONTROLS, write_controls

Rule = Callable[[Any], str | None]


def _none(_: Any) -> str | None:
    return None


def _all_buckets(params: Any) -> str | None:
    return "must cover every bucket (no buckets/tags)" if params.buckets or params.tags else None


def _alarm(name: str) -> Rule:
    return lambda p: None if name in p.required else f"required must include {name}"


def _at_least(field: str, minimum: int) -> Rule:
    def rule(params: Any) -> str | None:
        value = getattr(params, field)
        return None if value is not None and value >= minimum else f"{field} must be >= {minimum}"

    return rule


def _at_most(field: str, maximum: int) -> Rule:
    def rule(params: Any) -> str | None:
        value = getattr(params, field)
        return None if value is not None and value <= maximum else f"{field} must be <= {maximum}"

    return rule


def _true(field: str) -> Rule:
    return lambda p: None if getattr(p, field) else f"{field} must be true"


ADMIN_PORTS = {22, 3389}

# CIS AWS Foundations Benchmark v3.0.0 item -> (the check that tests it, what its parameters
# must be for the citation to be true).
CIS_V3: dict[str, tuple[str, Rule]] = {
    "1.4": ("iam.root_access_keys", _none),
    "1.5": ("iam.root_mfa", _none),
    "1.6": ("iam.root_mfa", _true("require_hardware")),
    "1.8": ("iam.password_policy", _at_least("min_length", 14)),
    "1.9": ("iam.password_policy", _at_least("reuse_prevention", 24)),
    "1.10": ("iam.user_mfa", _none),
    "1.12": ("iam.unused_credentials", _at_most("max_unused_days", 45)),
    "1.14": ("iam.access_key_rotation", _at_most("max_age_days", 90)),
    "1.16": (
        "iam.privileged_access",
        lambda p: (
            "authorized must be empty: no full-admin policy attached" if p.authorized else None
        ),
    ),
    "2.1.1": ("s3.tls_only", _all_buckets),
    "2.1.4": ("s3.public_access_block", _all_buckets),
    "2.2.1": ("ec2.ebs_encryption_default", _none),
    "2.3.1": (
        "rds.encryption",
        lambda p: "must cover every instance (no tags)" if p.tags else None,
    ),
    "3.1": ("cloudtrail.enabled", _none),
    "3.2": ("cloudtrail.enabled", _true("require_log_file_validation")),
    "3.3": ("config.recorder", _true("require_all_resource_types")),
    "3.4": ("s3.access_logging", _true("include_cloudtrail_bucket")),
    "3.5": ("cloudtrail.enabled", _true("require_kms_encryption")),
    "4.1": ("cloudwatch.security_alarms", _alarm("unauthorized_api_calls")),
    "4.2": ("cloudwatch.security_alarms", _alarm("console_signin_without_mfa")),
    "4.3": ("cloudwatch.security_alarms", _alarm("root_account_use")),
    "4.4": ("cloudwatch.security_alarms", _alarm("iam_policy_changes")),
    "4.5": ("cloudwatch.security_alarms", _alarm("cloudtrail_changes")),
    "4.6": ("cloudwatch.security_alarms", _alarm("console_auth_failures")),
    "4.7": ("cloudwatch.security_alarms", _alarm("kms_key_deletion")),
    "4.8": ("cloudwatch.security_alarms", _alarm("s3_bucket_policy_changes")),
    "4.9": ("cloudwatch.security_alarms", _alarm("config_changes")),
    "4.10": ("cloudwatch.security_alarms", _alarm("security_group_changes")),
    "4.11": ("cloudwatch.security_alarms", _alarm("nacl_changes")),
    "4.12": ("cloudwatch.security_alarms", _alarm("network_gateway_changes")),
    "4.13": ("cloudwatch.security_alarms", _alarm("route_table_changes")),
    "4.14": ("cloudwatch.security_alarms", _alarm("vpc_changes")),
    "4.15": ("cloudwatch.security_alarms", _alarm("organizations_changes")),
    "5.2": (
        "ec2.security_groups_open",
        lambda p: None if set(p.ports) >= ADMIN_PORTS else "ports must include 22 and 3389",
    ),
    "5.3": (
        "ec2.security_groups_open",
        lambda p: None if set(p.ports) >= ADMIN_PORTS else "ports must include 22 and 3389",
    ),
}


def cis_problems(catalog: Catalog) -> list[str]:
    """Every CIS citation the control's check and parameters do not back."""
    problems = []
    for control in catalog.controls:
        for item in control.references.get("cis_aws_v3", ()):
            if item not in CIS_V3:
                problems.append(f"{control.id}: CIS {item} is not in the table: add what it needs")
                continue
            check, rule = CIS_V3[item]
            if control.check != check:
                problems.append(
                    f"{control.id}: CIS {item} is tested by {check}, not {control.check}"
                )
            elif (problem := rule(control.params)) is not None:
                problems.append(f"{control.id}: CIS {item}: {problem}")
    return problems


def test_the_shipped_catalogue_cites_only_what_it_tests() -> None:
    assert cis_problems(load_catalog(REPO_CONTROLS)) == []


def test_every_shipped_alarm_citation_is_known() -> None:
    from evidence.checks.cis_alarms import ALARMS

    assert {spec.cis for spec in ALARMS.values()} == {k for k in CIS_V3 if k.startswith("4.")}


WEAK = """\
  - id: PW
    title: Passwords
    criteria: [CC6.1]
    references: {{cis_aws_v3: [{items}]}}
    check: {check}
    params: {params}
"""


def weak(tmp_path: Path, items: str, check: str, params: str) -> list[str]:
    path = write_controls(tmp_path / "c.yaml", WEAK.format(items=items, check=check, params=params))
    return cis_problems(load_catalog(path))


def test_issue_examples_weaker_parameters_are_caught(tmp_path: Path) -> None:
    assert weak(tmp_path, '"1.8", "1.9"', "iam.password_policy", "{min_length: 8}") == [
        "PW: CIS 1.8: min_length must be >= 14",
        "PW: CIS 1.9: reuse_prevention must be >= 24",
    ]
    assert weak(tmp_path, '"1.6"', "iam.root_mfa", "{}") == [
        "PW: CIS 1.6: require_hardware must be true"
    ]


def test_more_weak_citations_are_caught(tmp_path: Path) -> None:
    assert weak(tmp_path, '"1.12"', "iam.unused_credentials", "{max_unused_days: 90}") == [
        "PW: CIS 1.12: max_unused_days must be <= 45"
    ]
    assert weak(tmp_path, '"4.11"', "cloudwatch.security_alarms", "{required: [vpc_changes]}") == [
        "PW: CIS 4.11: required must include nacl_changes"
    ]
    assert weak(tmp_path, '"5.2"', "ec2.security_groups_open", "{ports: [22]}") == [
        "PW: CIS 5.2: ports must include 22 and 3389"
    ]
    assert weak(tmp_path, '"2.1.1"', "s3.tls_only", "{tags: {env: prod}}") == [
        "PW: CIS 2.1.1: must cover every bucket (no buckets/tags)"
    ]
    assert weak(tmp_path, '"3.1"', "config.recorder", "{}") == [
        "PW: CIS 3.1 is tested by cloudtrail.enabled, not config.recorder"
    ]
    assert weak(tmp_path, '"9.9"', "iam.user_mfa", "{}") == [
        "PW: CIS 9.9 is not in the table: add what it needs"
    ]


def test_strong_enough_parameters_pass(tmp_path: Path) -> None:
    assert (
        weak(
            tmp_path,
            '"1.8", "1.9"',
            "iam.password_policy",
            "{min_length: 14, reuse_prevention: 24}",
        )
        == []
    )
    assert weak(tmp_path, '"1.6"', "iam.root_mfa", "{require_hardware: true}") == []
