"""Every check registers itself on import; importing this package fills CHECKS."""

from . import ec2, iam, rds
from .base import CHECKS, MANUAL, Check, NotCollected, ScopeContext

__all__ = ["CHECKS", "MANUAL", "Check", "NotCollected", "ScopeContext", "ec2", "iam", "rds"]
