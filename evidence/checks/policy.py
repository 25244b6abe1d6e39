"""IAM policy semantics, read the way IAM evaluates a policy: one module for every check that reads
a policy document (S3 TLS-only bucket policies, administrative access in identity policies).

Pure and offline. It answers questions about what a policy *covers* (does this Deny apply to every
plain-HTTP request? does this Allow grant every action on every resource?) rather than simulating
one request, because a control is about every request. Where a policy uses something this module
cannot decide, it says so and the check does not count that statement as proof.

AWS documentation followed:
- Policy grammar and elements (Effect, Principal/NotPrincipal, Action/NotAction,
  Resource/NotResource, Condition): IAM User Guide, "IAM JSON policy element reference" and
  "Grammar of the IAM JSON policy language".
- Condition evaluation: "IAM JSON policy elements: Condition" (context key names are not
  case-sensitive; several operators in one block, and several keys under one operator, are ANDed;
  several values for one key are ORed) and "Condition operators" (a key absent from the request
  makes the condition false, except for the negated operators, ...IfExists and Null; ForAllValues
  is true when the key is absent).
- Wildcards: "IAM JSON policy elements: Action" (action names are case-insensitive, `*` and `?`)
  and "Resource" (ARNs are case-sensitive, `*` and `?` within them).

Libraries considered: policyuniverse (answers "is this internet accessible", with its own stale
action list, not condition semantics) and parliament (a linter) do not answer coverage questions,
so this is a small module of its own, tested case by case.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class PolicyError(ValueError):
    """A policy document that is not valid IAM policy JSON."""


@dataclass(frozen=True)
class Condition:
    """One operator applied to one key: `{"<operator>": {"<key>": [values]}}`."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # lower-cased: context key names are not case-sensitive
    values: tuple[str, ...]  # as strings: false and "false" are the same value

    def describe(self) -> str:
        shown = self.values[0] if len(self.values) == 1 else list(self.values)
        return f"{self.operator} {self.key} {shown}"


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str  # "Allow" or "Deny"
    principals: Mapping[str, tuple[str, ...]] | None  # None: no Principal element
    not_principal: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else "a statement without Sid"


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]


# ---------------------------------------------------------------- parsing


def parse_policy(document: str | Mapping[str, Any] | None) -> Policy:
    """A policy from its JSON text (URL-encoded, as some IAM answers keep it, or not) or from
    the parsed mapping. Raises PolicyError when it is not a policy."""
    if document is None:
        return Policy(())
    if isinstance(document, str):
        text = document if document.lstrip().startswith("{") else urllib.parse.unquote(document)
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"policy is not JSON: {exc}") from None
    if not isinstance(document, Mapping):
        raise PolicyError("policy is not a JSON object")
    raw = document.get("Statement", [])
    statements = raw if isinstance(raw, list) else [raw]
    return Policy(tuple(_statement(s, i) for i, s in enumerate(statements)))


def _strings(value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    return tuple(_text(v) for v in values if v is not None)


def _text(value: Any) -> str:
    # JSON booleans are written false/true in policies and compared as those strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _statement(raw: Any, index: int) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"statement {index} is not an object")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"statement {index}: Effect must be Allow or Deny, got {effect!r}")
    principal_key = "NotPrincipal" if "NotPrincipal" in raw else "Principal"
    principal = raw.get(principal_key)
    principals: Mapping[str, tuple[str, ...]] | None = None
    if principal is not None:
        principals = (
            {"*": ("*",)}
            if principal == "*"
            else {str(k): _strings(v) for k, v in dict(principal).items()}
        )
    action_key = "NotAction" if "NotAction" in raw else "Action"
    resource_key = "NotResource" if "NotResource" in raw else "Resource"
    return Statement(
        sid=str(raw.get("Sid", "")),
        effect=effect,
        principals=principals,
        not_principal=principal_key == "NotPrincipal",
        actions=_strings(raw.get(action_key, [])),
        not_action=action_key == "NotAction",
        resources=_strings(raw.get(resource_key, [])),
        not_resource=resource_key == "NotResource",
        conditions=_conditions(raw.get("Condition") or {}, index),
    )


def _conditions(block: Any, index: int) -> tuple[Condition, ...]:
    if not isinstance(block, Mapping):
        raise PolicyError(f"statement {index}: Condition is not an object")
    found = []
    for operator, keys in block.items():
        if not isinstance(keys, Mapping):
            raise PolicyError(f"statement {index}: Condition {operator} is not an object")
        for key, values in keys.items():
            found.append(Condition(str(operator), str(key).lower(), _strings(values)))
    return tuple(found)


# ---------------------------------------------------------------- wildcards


def _glob(pattern: str, text: str, *, ignore_case: bool) -> bool:
    """IAM's `*` (any run of characters) and `?` (one character); nothing else is special."""
    if ignore_case:
        pattern, text = pattern.lower(), text.lower()
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


def covers_prefix(pattern: str, prefix: str, *, ignore_case: bool) -> bool:
    """True when `pattern` matches every string that starts with `prefix` (e.g. every object
    ARN `arn:aws:s3:::bucket/...`, every action `s3:...`): its characters before its first `*`
    match the start of `prefix`, and nothing but `*` follows that `*`."""
    if ignore_case:
        pattern, prefix = pattern.lower(), prefix.lower()
    star = pattern.find("*")
    if star < 0 or pattern[star:].strip("*"):
        return False
    head = pattern[:star]
    return len(head) <= len(prefix) and _glob(head, prefix[: len(head)], ignore_case=False)


def may_match_prefix(pattern: str, prefix: str, *, ignore_case: bool) -> bool:
    """True when `pattern` could match some string that starts with `prefix` (conservative:
    when in doubt, True)."""
    if ignore_case:
        pattern, prefix = pattern.lower(), prefix.lower()
    for index, char in enumerate(pattern):
        if index >= len(prefix) or char == "*":
            return True
        if char != "?" and char != prefix[index]:
            return False
    return len(pattern) >= len(prefix)


def action_matches(pattern: str, action: str) -> bool:
    return _glob(pattern, action, ignore_case=True)


def resource_matches(pattern: str, arn: str) -> bool:
    return _glob(pattern, arn, ignore_case=False)


# ---------------------------------------------------------------- conditions

_NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "NumericNotEquals",
    "DateNotEquals",
    "NotIpAddress",
    "ArnNotEquals",
    "ArnNotLike",
}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> datetime | None:
    try:
        moment = (
            datetime.fromtimestamp(float(text), UTC)
            if text.replace(".", "", 1).isdigit()
            else datetime.fromisoformat(text.replace("Z", "+00:00"))
        )
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(
    convert: Callable[[str], Any], test: Callable[[Any, Any], bool]
) -> Callable[[str, str], bool]:
    def match(policy_value: str, request_value: str) -> bool:
        left, right = convert(request_value), convert(policy_value)
        return left is not None and right is not None and bool(test(left, right))

    return match


def _ip(policy_value: str, request_value: str) -> bool:
    try:
        network = ipaddress.ip_network(policy_value, strict=False)
        return ipaddress.ip_address(request_value) in network
    except ValueError:
        return False


def _binary(policy_value: str, request_value: str) -> bool:
    try:
        return base64.b64decode(policy_value) == base64.b64decode(request_value)
    except ValueError:
        return False


# The positive form of each operator: does one request value match one policy value?
_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda p, r: p == r,
    "StringEqualsIgnoreCase": lambda p, r: p.lower() == r.lower(),
    "StringLike": lambda p, r: _glob(p, r, ignore_case=False),
    "NumericEquals": _compare(_number, lambda a, b: a == b),
    "NumericLessThan": _compare(_number, lambda a, b: a < b),
    "NumericLessThanEquals": _compare(_number, lambda a, b: a <= b),
    "NumericGreaterThan": _compare(_number, lambda a, b: a > b),
    "NumericGreaterThanEquals": _compare(_number, lambda a, b: a >= b),
    "DateEquals": _compare(_date, lambda a, b: a == b),
    "DateLessThan": _compare(_date, lambda a, b: a < b),
    "DateLessThanEquals": _compare(_date, lambda a, b: a <= b),
    "DateGreaterThan": _compare(_date, lambda a, b: a > b),
    "DateGreaterThanEquals": _compare(_date, lambda a, b: a >= b),
    "Bool": lambda p, r: p.lower() == r.lower(),
    "BinaryEquals": _binary,
    "IpAddress": _ip,
    # ArnEquals and ArnLike behave alike: both accept wildcards.
    "ArnEquals": lambda p, r: _glob(p, r, ignore_case=False),
    "ArnLike": lambda p, r: _glob(p, r, ignore_case=False),
}
_POSITIVE = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


@dataclass(frozen=True)
class Operator:
    """A condition operator split into its parts: set prefix, base operator, IfExists."""

    base: str
    set_prefix: str  # "", "ForAnyValue" or "ForAllValues"
    if_exists: bool

    @property
    def negated(self) -> bool:
        return self.base in _NEGATED


def parse_operator(name: str) -> Operator:
    """Raises PolicyError for an operator IAM does not have."""
    set_prefix, _, rest = name.rpartition(":")
    if set_prefix not in ("", "ForAnyValue", "ForAllValues"):
        raise PolicyError(f"unknown condition operator {name}")
    if_exists = rest.endswith("IfExists") and rest != "IfExists"
    base = rest.removesuffix("IfExists") if if_exists else rest
    if base != "Null" and base not in _MATCHERS and base not in _POSITIVE:
        raise PolicyError(f"unknown condition operator {name}")
    if base == "Null" and (if_exists or set_prefix):
        raise PolicyError(f"unknown condition operator {name}")
    return Operator(base, set_prefix, if_exists)


def condition_holds(condition: Condition, request: Sequence[str] | None) -> bool:
    """Whether one condition holds for a request whose value(s) for the key are `request`
    (None: the key is absent from the request context). Raises PolicyError for an unknown
    operator."""
    op = parse_operator(condition.operator)
    if op.base == "Null":
        absent = request is None or len(request) == 0
        return any((v.lower() == "true") == absent for v in condition.values)
    if request is None or len(request) == 0:
        if op.if_exists or op.set_prefix == "ForAllValues":
            return True
        return op.negated
    matcher = _MATCHERS[_POSITIVE.get(op.base, op.base)]

    def one(value: str) -> bool:
        found = any(matcher(policy_value, value) for policy_value in condition.values)
        return not found if op.negated else found

    if op.set_prefix == "ForAllValues":
        return all(one(v) for v in request)
    if op.set_prefix == "ForAnyValue":
        return any(one(v) for v in request)
    return one(request[0])


def holds_for_every_value(condition: Condition) -> bool:
    """Whether a condition holds whatever the request carries for its key, absent included:
    such a condition narrows nothing. Only `...IfExists` wildcard matches (`"*"`) are: anything
    else excludes some request."""
    op = parse_operator(condition.operator)
    if not (op.if_exists and op.base in ("StringLike", "ArnLike", "ArnEquals")):
        return False
    return any(value and set(value) == {"*"} for value in condition.values)


# ---------------------------------------------------------------- coverage questions


def applies_to_everyone(statement: Statement) -> bool:
    """Principal "*" (or {"AWS": "*"}): every caller, anonymous included. NotPrincipal
    leaves someone out, and no Principal (an identity policy) names no one here."""
    if statement.principals is None or statement.not_principal:
        return False
    return any("*" in values for values in statement.principals.values())


def covers_service_actions(statement: Statement, service: str) -> bool:
    """Whether the statement applies to every action of `service` (e.g. every s3:... action).

    Action: one entry matches all of them (`*`, `s3:*`, `S3:*`, `s3*`). NotAction: no entry
    could match any of them (then it applies to all of the service's actions)."""
    prefix = f"{service}:"
    if statement.not_action:
        return not any(may_match_prefix(a, prefix, ignore_case=True) for a in statement.actions)
    return any(covers_prefix(a, prefix, ignore_case=True) for a in statement.actions)


def matches_every_action(pattern: str) -> bool:
    """Whether an Action pattern matches every `service:Action` string: only `*` and at most
    one `:` with a `*` on each side of it (`*`, `**`, `*:*`; not `*:` nor `iam:*`)."""
    parts = pattern.split(":")
    return len(parts) <= 2 and all(part and set(part) == {"*"} for part in parts)


def covers_every_action(statement: Statement) -> bool:
    """Allow/Deny of every action of every service: Action `*` or `*:*` (NotAction is never
    taken as everything: it cannot be proven offline that what it leaves out does not exist)."""
    if statement.not_action:
        return False
    return any(matches_every_action(a) for a in statement.actions)


def covers_action(statement: Statement, action: str) -> bool:
    """Whether the statement's Action (or NotAction) applies to one action, e.g. iam:PutUserPolicy
    (action names are case-insensitive; `*` and `?` wildcards)."""
    found = any(action_matches(a, action) for a in statement.actions)
    return not found if statement.not_action else found


def covers_resource(statement: Statement, arn: str) -> bool:
    if statement.not_resource:
        return not any(resource_matches(r, arn) for r in statement.resources)
    return any(resource_matches(r, arn) for r in statement.resources)


def covers_resource_prefix(statement: Statement, prefix: str) -> bool:
    """Whether the statement applies to every resource whose ARN starts with `prefix`."""
    if statement.not_resource:
        return not any(may_match_prefix(r, prefix, ignore_case=False) for r in statement.resources)
    return any(covers_prefix(r, prefix, ignore_case=False) for r in statement.resources)


def witness_arns(partition: str, account: str) -> tuple[str, ...]:
    """ARNs of every shape IAM knows (global and regional services, empty region or account
    segments, paths, colons and slashes in the resource part): a pattern that matches all of
    them is taken to match every ARN of the partition. IAM ARN format: IAM User Guide,
    "IAM identifiers" and the AWS General Reference, "Amazon Resource Names (ARNs)"."""
    a = account
    return (
        f"arn:{partition}:s3:::witness-bucket",
        f"arn:{partition}:s3:::witness-bucket/path/to/object.txt",
        f"arn:{partition}:iam::{a}:user/witness",
        f"arn:{partition}:iam::{a}:role/path/Witness-Role",
        f"arn:{partition}:iam::{a}:policy/witness",
        f"arn:{partition}:iam::aws:policy/AdministratorAccess",
        f"arn:{partition}:ec2:eu-west-3:{a}:instance/i-0123456789abcdef0",
        f"arn:{partition}:kms:ap-south-1:{a}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        f"arn:{partition}:logs:us-east-1:{a}:log-group:/aws/witness:*",
        f"arn:{partition}:sns:us-west-2:{a}:witness-topic",
        f"arn:{partition}:organizations::{a}:account/o-witness/{a}",
        f"arn:{partition}:route53:::hostedzone/Z0WITNESS",
    )


def iam_witness_arns(partition: str, account: str, resource_type: str) -> tuple[str, ...]:
    """ARNs of one IAM resource type (user, group, role, policy) in the account, with and
    without a path: a pattern matching all of them matches every resource of the type."""
    base = f"arn:{partition}:iam::{account}:{resource_type}"
    return (f"{base}/w", f"{base}/Witness_Name-1", f"{base}/path/to/Witness.2")


def covers_every_resource(
    statement: Statement, partition: str = "aws", account: str = "111122223333"
) -> bool:
    """Whether the statement's Resource matches every ARN of the partition: `*`, or a pattern
    such as `arn:aws:*:*:*:*` that matches ARNs of every shape (witness_arns: IAM's `*` may
    stand for colons and slashes too, IAM User Guide "IAM JSON policy elements: Resource").
    NotResource never covers everything: it leaves something out."""
    if statement.not_resource:
        return False
    witnesses = witness_arns(partition, account)
    return any(
        (r and set(r) == {"*"}) or all(resource_matches(r, arn) for arn in witnesses)
        for r in statement.resources
    )


def covers_all_of(statement: Statement, arns: Sequence[str]) -> bool:
    """Whether the statement's Resource (or NotResource) applies to every one of `arns`."""
    return all(covers_resource(statement, arn) for arn in arns)
