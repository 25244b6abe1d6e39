"""Every source registers itself on import; importing this package fills SOURCES."""

from . import account, ec2, iam, rds
from .base import SOURCES, FetchContext, Scope, Source

__all__ = ["SOURCES", "FetchContext", "Scope", "Source", "account", "ec2", "iam", "rds"]
