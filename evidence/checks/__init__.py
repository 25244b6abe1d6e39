"""Every check registers itself on import; importing this package fills CHECKS."""

from . import cloudtrail, ec2, iam, rds, s3, services
from .base import CHECKS, MANUAL, Check, NotCollected, ScopeContext

__all__ = [
    "CHECKS",
    "MANUAL",
    "Check",
    "NotCollected",
    "ScopeContext",
    "cloudtrail",
    "ec2",
    "iam",
    "rds",
    "s3",
    "services",
]
