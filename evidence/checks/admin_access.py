"""Administrative access read from an identity policy the way IAM evaluates it: every action on
every resource, or an IAM grant that lets the holder give itself that (privilege escalation).

Pure and offline, over the shared policy semantics (checks/policy.py: Action/NotAction and
Resource/NotResource with IAM's wildcards). A policy is administrative when one Allow statement

1. applies to every action (`*`, `*:*`) and to every resource (`*`, or a pattern such as
   `arn:aws:*:*:*:*` that matches ARNs of every shape): CIS AWS Foundations 1.16, Security Hub
   IAM.1 ("full '*:*' administrative privileges"); or
2. applies to one of the ESCALATION actions on every IAM resource of the type that action
   changes (every user, group, role or policy of the account): with it the holder writes or
   attaches a policy granting itself `*` on `*`, so it is administrative access one call away.
   `iam:*` on `*`, and `Action: *` with a NotResource that leaves IAM untouched (e.g.
   `"NotResource": "arn:aws:s3:::nothing"`), are caught here, by evaluating the statement
   against the actions and resources, not by reading its words.

Conditions are not subtracted (access under a condition is still access), nor are Deny
statements (a deny may be narrowed by its own conditions): the principal is listed, and the
`authorized` parameter approves it. NotAction is never taken as "every action" (what it leaves
out cannot be proven not to exist), but it is evaluated against the escalation actions.

The escalation list and its sources:
- Rhino Security Labs, "AWS IAM Privilege Escalation - Methods and Mitigation" (methods 1-11:
  CreatePolicyVersion, SetDefaultPolicyVersion, PassRole with a compute service,
  CreateAccessKey, CreateLoginProfile, UpdateLoginProfile, AttachUserPolicy,
  AttachGroupPolicy, AttachRolePolicy, PutUserPolicy, PutGroupPolicy, PutRolePolicy,
  AddUserToGroup, UpdateAssumeRolePolicy);
- IAM User Guide, "Security best practices in IAM" (grant least privilege; iam:PassRole
  "Granting a user permissions to pass a role to an AWS service") and the Service
  Authorization Reference for IAM (the resource type each action acts on).
iam:PassRole on every role is listed because any compute service (ec2:RunInstances,
lambda:CreateFunction) then runs code as the most privileged role in the account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .policy import (
    Statement,
    covers_action,
    covers_all_of,
    covers_every_action,
    covers_every_resource,
    iam_witness_arns,
    parse_policy,
)

# IAM action -> the IAM resource type it acts on (Service Authorization Reference, IAM).
ESCALATION: Mapping[str, str] = {
    "iam:CreatePolicyVersion": "policy",
    "iam:SetDefaultPolicyVersion": "policy",
    "iam:AttachUserPolicy": "user",
    "iam:PutUserPolicy": "user",
    "iam:CreateAccessKey": "user",
    "iam:CreateLoginProfile": "user",
    "iam:UpdateLoginProfile": "user",
    "iam:AttachGroupPolicy": "group",
    "iam:PutGroupPolicy": "group",
    "iam:AddUserToGroup": "group",
    "iam:AttachRolePolicy": "role",
    "iam:PutRolePolicy": "role",
    "iam:UpdateAssumeRolePolicy": "role",
    "iam:PassRole": "role",
}

EVERYTHING = "allows every action on every resource"


def _escalations(statement: Statement, partition: str, account: str) -> list[str]:
    return [
        action
        for action, resource_type in ESCALATION.items()
        if covers_action(statement, action)
        and covers_all_of(statement, iam_witness_arns(partition, account, resource_type))
    ]


def administrative_grants(
    document: str | Mapping[str, Any] | None, partition: str = "aws", account: str = "111122223333"
) -> tuple[str, ...]:
    """Why a policy document grants administrative access (empty when it does not): EVERYTHING,
    and/or "can grant itself every permission: iam:PutUserPolicy on every user; ...".
    Raises PolicyError for a document that is not a policy."""
    policy = parse_policy(document)
    allows = [s for s in policy.statements if s.effect == "Allow"]
    if any(covers_every_action(s) and covers_every_resource(s, partition, account) for s in allows):
        return (EVERYTHING,)
    found = sorted({a for s in allows for a in _escalations(s, partition, account)})
    if not found:
        return ()
    if len(found) == len(ESCALATION):
        return (
            "can grant itself every permission (privilege escalation): all"
            f" {len(ESCALATION)} escalation actions (iam:PutUserPolicy, iam:AttachRolePolicy,"
            " iam:CreatePolicyVersion, iam:PassRole, ...) on every user, group, role and policy",
        )
    by_type: dict[str, list[str]] = {}
    for action in found:
        by_type.setdefault(ESCALATION[action], []).append(action)
    grants = "; ".join(f"{', '.join(a)} on every {t}" for t, a in sorted(by_type.items()))
    return (f"can grant itself every permission (privilege escalation): {grants}",)
