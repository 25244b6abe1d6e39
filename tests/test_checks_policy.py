"""Policy documents read as IAM evaluates them (issue 9, kind 2): the shared policy module, the
S3 TLS-only judgement and administrative access. Pure: no AWS, no emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evidence.checks.iam import grants_everything
from evidence.checks.policy import (
    Condition,
    PolicyError,
    condition_holds,
    covers_prefix,
    may_match_prefix,
    parse_policy,
)
from evidence.checks.s3 import plain_http_denial

BUCKET = "data"
BOTH = [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]


def deny(**overrides: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "DenyPlainHttp",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": BOTH,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    statement.update(overrides)
    return {key: value for key, value in statement.items() if value is not None}


def verdict(*statements: dict[str, Any]) -> Any:
    policy = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return plain_http_denial(policy, BUCKET, "aws")


def test_the_usual_tls_deny_passes() -> None:
    result = verdict(deny())
    assert result.denied and result.statements == ("statement 'DenyPlainHttp'",)


def test_issue_example_lower_case_key_passes() -> None:
    assert verdict(deny(Condition={"Bool": {"aws:securetransport": "false"}})).denied


def test_issue_example_deny_narrowed_by_source_vpce_fails_naming_it() -> None:
    result = verdict(
        deny(
            Condition={
                "Bool": {"aws:SecureTransport": "false"},
                "StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"},
            }
        )
    )
    assert not result.denied
    assert "narrowed by StringNotEquals aws:sourcevpce vpce-1a2b3c4d" in result.detail
    assert "conditions are ANDed" in result.detail


@pytest.mark.parametrize(
    "condition",
    [
        {"Bool": {"aws:SecureTransport": False}},  # JSON false is "false"
        {"Bool": {"AWS:SecureTransport": ["false"]}},
        {"BoolIfExists": {"aws:SecureTransport": "false"}},
        {"StringEquals": {"aws:SecureTransport": "false"}},
        {"StringNotEquals": {"aws:SecureTransport": "true"}},
        {"Bool": {"aws:SecureTransport": ["false", "true"]}},  # denies everything, plain included
        {"Null": {"aws:SecureTransport": "false"}},  # the key is always present
        {
            "Bool": {"aws:SecureTransport": "false"},
            "StringLikeIfExists": {"aws:UserAgent": "*"},  # holds for every request
        },
    ],
)
def test_conditions_that_hold_for_every_plain_http_request(condition: dict[str, Any]) -> None:
    assert verdict(deny(Condition=condition)).denied


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        (deny(Condition={"Bool": {"aws:SecureTransport": "true"}}), "does not hold for plain HTTP"),
        (deny(Principal={"AWS": "arn:aws:iam::111122223333:root"}), "every principal"),
        (deny(Principal=None, NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"}), "principal"),
        (deny(Action=["s3:GetObject", "s3:PutObject"]), "every s3 action"),
        (deny(Action=None, NotAction="s3:GetObject"), "every s3 action"),
        (deny(Resource=f"arn:aws:s3:::{BUCKET}/*"), "does not cover the bucket itself"),
        (deny(Resource=f"arn:aws:s3:::{BUCKET}"), "<bucket>/*"),
        (
            deny(Resource=[f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/public/*"]),
            "<bucket>/*",
        ),
        (
            deny(
                Condition={
                    "Bool": {"aws:SecureTransport": "false"},
                    "IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
                }
            ),
            "narrowed by IpAddress aws:sourceip",
        ),
        (
            deny(
                Condition={
                    "Bool": {"aws:SecureTransport": "false"},
                    "StringEquals": {"aws:PrincipalOrgID": "o-abc"},
                }
            ),
            "narrowed by StringEquals aws:principalorgid",
        ),
        (
            deny(Condition={"BoolNot": {"aws:SecureTransport": "false"}}),
            "unknown condition operator",
        ),
    ],
)
def test_denies_that_do_not_cover_every_plain_http_request(
    statement: dict[str, Any], words: str
) -> None:
    result = verdict(statement)
    assert not result.denied
    assert words in result.detail


@pytest.mark.parametrize(
    "statement",
    [
        deny(Action="*"),
        deny(Action="S3:*"),  # action names are case-insensitive
        deny(Action="s3*"),
        deny(Action=None, NotAction="iam:*"),  # NotAction that leaves no s3 action out
        deny(Resource="*"),
        deny(Resource="arn:aws:s3:::data*"),
        deny(Principal={"AWS": ["*"]}),
        deny(Resource=None, NotResource="arn:aws:s3:::other-bucket/*"),
    ],
)
def test_equivalent_spellings_of_a_full_deny(statement: dict[str, Any]) -> None:
    assert verdict(statement).denied


def test_bucket_and_objects_may_be_covered_by_two_statements() -> None:
    assert verdict(
        deny(Sid="Bucket", Resource=BOTH[0]), deny(Sid="Objects", Resource=BOTH[1])
    ).denied


def test_allow_statements_and_unrelated_denies_prove_nothing() -> None:
    allow = deny(Effect="Allow")
    vpc_only = deny(Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1"}})
    result = verdict(allow, vpc_only)
    assert not result.denied
    assert result.detail == "policy does not deny requests without TLS"


def test_no_policy_and_bad_policy() -> None:
    assert plain_http_denial(None, BUCKET, "aws").detail == "no bucket policy"
    assert "not readable" in plain_http_denial("{not json", BUCKET, "aws").detail
    bad_effect = json.dumps({"Statement": [deny(Effect="Maybe")]})
    assert "Effect must be Allow or Deny" in plain_http_denial(bad_effect, BUCKET, "aws").detail


def test_other_partitions() -> None:
    policy = json.dumps(
        {"Statement": [deny(Resource=["arn:aws-cn:s3:::data", "arn:aws-cn:s3:::data/*"])]}
    )
    assert plain_http_denial(policy, BUCKET, "aws-cn").denied
    assert not plain_http_denial(policy, BUCKET, "aws").denied


# ---------------------------------------------------------------- condition operators


@pytest.mark.parametrize(
    ("operator", "values", "context", "expected"),
    [
        ("StringEquals", ["Alice"], ["alice"], False),
        ("StringEqualsIgnoreCase", ["Alice"], ["alice"], True),
        ("StringLike", ["arn:aws:iam::*:role/ops-?"], ["arn:aws:iam::1:role/ops-a"], True),
        ("StringNotLike", ["prod-*"], ["dev-1"], True),
        ("StringNotEquals", ["a"], None, True),  # negated operators hold for an absent key
        ("StringEquals", ["a"], None, False),
        ("StringEqualsIfExists", ["a"], None, True),
        ("NumericLessThan", ["10"], ["9"], True),
        ("NumericGreaterThanEquals", ["10"], ["x"], False),
        ("DateGreaterThan", ["2024-01-01T00:00:00Z"], ["2024-06-01T00:00:00Z"], True),
        ("DateLessThan", ["2024-01-01T00:00:00Z"], ["1704067100"], True),  # epoch seconds
        ("IpAddress", ["10.0.0.0/8"], ["10.1.2.3"], True),
        ("NotIpAddress", ["10.0.0.0/8"], ["192.0.2.1"], True),
        ("ArnLike", ["arn:aws:s3:::b*"], ["arn:aws:s3:::bucket"], True),
        ("ArnNotEquals", ["arn:aws:s3:::b"], ["arn:aws:s3:::b"], False),
        ("Bool", ["TRUE"], ["true"], True),
        ("BinaryEquals", ["QmluYXJ5"], ["QmluYXJ5"], True),
        ("Null", ["true"], None, True),
        ("Null", ["false"], None, False),
        ("ForAnyValue:StringEquals", ["a", "b"], ["c", "b"], True),
        ("ForAllValues:StringEquals", ["a", "b"], ["a", "c"], False),
        ("ForAllValues:StringEquals", ["a"], None, True),  # true when the key is absent
        ("ForAnyValue:StringEquals", ["a"], None, False),
    ],
)
def test_condition_operators(
    operator: str, values: list[str], context: list[str] | None, expected: bool
) -> None:
    condition = Condition(operator, "aws:key", tuple(values))
    assert condition_holds(condition, context) is expected


@pytest.mark.parametrize("operator", ["StringEqual", "Foo:StringEquals", "NullIfExists"])
def test_unknown_operators_raise(operator: str) -> None:
    with pytest.raises(PolicyError):
        condition_holds(Condition(operator, "k", ("v",)), ["v"])


def test_wildcard_prefix_helpers() -> None:
    assert covers_prefix("arn:aws:s3:::b/*", "arn:aws:s3:::b/", ignore_case=False)
    assert covers_prefix("arn:aws:s3:::b*", "arn:aws:s3:::b/", ignore_case=False)
    assert not covers_prefix("arn:aws:s3:::b/*.txt", "arn:aws:s3:::b/", ignore_case=False)
    assert not covers_prefix("arn:aws:s3:::b/x*", "arn:aws:s3:::b/", ignore_case=False)
    assert may_match_prefix("s3:Get*", "s3:", ignore_case=True)
    assert may_match_prefix("*", "s3:", ignore_case=True)
    assert not may_match_prefix("iam:*", "s3:", ignore_case=True)


def test_parse_policy_accepts_single_statements_and_url_encoded_text() -> None:
    text = "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%7D%7D"
    (statement,) = parse_policy(text).statements
    assert statement.effect == "Allow" and statement.actions == ("*",)


# ---------------------------------------------------------------- administrative access


@pytest.mark.parametrize(
    ("statement", "admin"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]}, True),
        (
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            },
            True,
        ),
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, False),
        ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}, False),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, False),
        ({"Effect": "Deny", "Action": "*", "Resource": "*"}, False),
        ({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::b"}, False),
    ],
)
def test_grants_everything(statement: dict[str, Any], admin: bool) -> None:
    assert grants_everything({"Statement": [statement]}) is admin


def test_grants_everything_rejects_what_is_not_a_policy() -> None:
    with pytest.raises(PolicyError):
        grants_everything("[1, 2]")
