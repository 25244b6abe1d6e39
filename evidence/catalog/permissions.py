"""The least-privilege IAM policy for running the selected controls, from what sources declare."""

from __future__ import annotations

from typing import Any

from ..checks import CHECKS
from ..sources.account import ACCOUNT_ALIASES, CALLER_IDENTITY, ENABLED_REGIONS
from ..sources.cloudtrail_events import EVENT_SOURCES
from .loader import Catalog

ALWAYS = (CALLER_IDENTITY, ACCOUNT_ALIASES, ENABLED_REGIONS)

# Where an IAM action is not "<boto3 service>:<API operation>": service prefixes and S3's
# renamed actions. Used to check that every call a run records is allowed by the policy.
_PREFIX = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing", "s3control": "s3"}
_RENAMED = {
    "s3:ListBuckets": "s3:ListAllMyBuckets",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3control:GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
}


def iam_action(service: str, operation: str) -> str:
    """The IAM action that allows a recorded call (service as boto3 names it)."""
    renamed = _RENAMED.get(f"{service}:{operation}")
    return renamed or f"{_PREFIX.get(service, service)}:{operation}"


def required_actions(catalog: Catalog) -> list[str]:
    actions = {action for source in ALWAYS for action in source.actions}
    for control in catalog.controls:
        if not control.manual:
            check = CHECKS[control.check]
            actions.update(check.actions_for(control.params))
            if check.change_events:  # a period pack reads them (collect --period)
                for source in EVENT_SOURCES.values():
                    actions.update(a for s in source.with_dependencies() for a in s.actions)
    return sorted(actions)


def policy(catalog: Catalog) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SocEvidenceReadOnly",
                "Effect": "Allow",
                "Action": required_actions(catalog),
                "Resource": "*",
            }
        ],
    }
