"""Every source registers itself on import; importing this package fills SOURCES."""

from . import account, cloudtrail, counts, ec2, iam, rds, s3, services
from .base import SOURCES, FetchContext, Scope, Source

__all__ = [
    "SOURCES",
    "FetchContext",
    "Scope",
    "Source",
    "account",
    "cloudtrail",
    "counts",
    "ec2",
    "iam",
    "rds",
    "s3",
    "services",
]
