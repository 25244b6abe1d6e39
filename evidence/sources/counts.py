"""Independent counts: how many records a listing should hold, from a second source wherever AWS
offers one, so an auditor can see that a population is whole (IPE completeness).

A reconciliation names the listing a check reads, the source it is counted against, and how to
count each side. Checks that read a listing get the other source collected with it
(`independent_sources`), so the IAM actions a control needs include the count's.

AWS documentation followed:
- IAM `GetAccountSummary` `Users`: "The number of IAM users in the AWS account"; the credential
  report has one row per IAM user plus the `<root_account>` row, and may be up to 4 hours old
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html).
- RDS `DescribeAccountAttributes`: the account's RDS quotas with current usage, quota
  `DBInstances` counting the region's DB instances
  (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeAccountAttributes.html).
- EBS and RDS snapshots have no count API: the snapshots a check judged are reconciled with the
  records the listing's pages returned (a record seen twice, or owned by another account, shows).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..pack.raw import RawSource
from .base import FetchContext, Scope, Source, register
from .ec2 import EBS_SNAPSHOTS
from .iam import ACCOUNT_SUMMARY, CREDENTIAL_REPORT
from .rds import RDS_DATABASES, RDS_SNAPSHOTS

T = TypeVar("T")

# ---------------------------------------------------------------- RDS quotas and their usage


def _fetch_rds_quotas(ctx: FetchContext) -> None:
    ctx.client("rds").describe_account_attributes()


def _parse_rds_quotas(raw: RawSource) -> Mapping[str, int]:
    """Quota name -> current usage (`Used`), e.g. {"DBInstances": 4, ...}."""
    for call in raw.successful("DescribeAccountAttributes"):
        return {
            str(quota["AccountQuotaName"]): int(quota.get("Used", 0))
            for quota in (call.response or {}).get("AccountQuotas", [])
        }
    raise ValueError("no DescribeAccountAttributes answer recorded")


RDS_QUOTAS = register(
    Source(
        name="rds.account_attributes",
        scope=Scope.REGIONAL,
        actions=("rds:DescribeAccountAttributes",),
        fetch=_fetch_rds_quotas,
        parse=_parse_rds_quotas,
    )
)

# ---------------------------------------------------------------- reconciliations


@dataclass(frozen=True)
class Evidence(Generic[T]):
    """One side of a reconciliation: a source's parsed data and the raw file it came from."""

    parsed: T
    raw: RawSource


@dataclass(frozen=True)
class Counted:
    listed: int
    independent: int
    detail: str = ""  # what explains a difference, when the evidence shows it


@dataclass(frozen=True)
class Reconciliation:
    """A listing checked against an independent count of the same records."""

    subject: str  # what is counted, e.g. "IAM users"
    listed: Source[Any]  # the listing checks read
    listed_label: str
    independent: Source[Any]  # where the second count comes from (may be `listed` itself)
    independent_label: str
    count: Callable[[Evidence[Any], Evidence[Any]], Counted]


def _iam_users(listed: Evidence[Any], independent: Evidence[Any]) -> Counted:
    report = listed.parsed
    users = int(independent.parsed.get("Users", 0))
    notes = []
    if report.root is None:
        notes.append("the report has no <root_account> row (AWS always writes one)")
    if report.generated_time:
        notes.append(
            f"the report was generated at {report.generated_time} (AWS reuses a report up to"
            " 4 hours old: users created or deleted since then differ)"
        )
    return Counted(len(report.rows), users + 1, "; ".join(notes))


def _rds_instances(listed: Evidence[Any], independent: Evidence[Any]) -> Counted:
    used = independent.parsed.get("DBInstances")
    if used is None:
        raise ValueError("DescribeAccountAttributes returned no DBInstances quota")
    return Counted(len(listed.parsed.instances), int(used))


def _duplicates(identifiers: Iterable[str]) -> str:
    repeated = sorted(i for i, n in Counter(identifiers).items() if n > 1)
    return f"returned more than once: {', '.join(repeated)}" if repeated else ""


def _ebs_snapshots(listed: Evidence[Any], independent: Evidence[Any]) -> Counted:
    raw = independent.raw

    def population_listing(parameters: Mapping[str, Any]) -> bool:
        return "RestorableByUserIds" not in parameters  # the other listing finds candidates

    records = [
        (str(s.get("SnapshotId")), str(s.get("OwnerId")))
        for call in raw.successful("DescribeSnapshots")
        if population_listing(call.parameters)
        for s in (call.response or {}).get("Snapshots", [])
    ]
    others = sum(1 for _, owner in records if owner != raw.account)
    notes = [_duplicates(i for i, owner in records if owner == raw.account)]
    if others:
        notes.append(f"{others} record(s) owned by other accounts (left out of the population)")
    return Counted(len(listed.parsed.snapshots), len(records), "; ".join(n for n in notes if n))


def _rds_snapshots(listed: Evidence[Any], independent: Evidence[Any]) -> Counted:
    raw = independent.raw
    identifiers = [
        str(s.get(field))
        for operation, key, field in (
            ("DescribeDBSnapshots", "DBSnapshots", "DBSnapshotIdentifier"),
            ("DescribeDBClusterSnapshots", "DBClusterSnapshots", "DBClusterSnapshotIdentifier"),
        )
        for call in raw.successful(operation)
        for s in (call.response or {}).get(key, [])
    ]
    return Counted(len(listed.parsed.snapshots), len(identifiers), _duplicates(identifiers))


RECONCILIATIONS: tuple[Reconciliation, ...] = (
    Reconciliation(
        "IAM users",
        CREDENTIAL_REPORT,
        "rows of the IAM credential report (users and <root_account>)",
        ACCOUNT_SUMMARY,
        "iam:GetAccountSummary Users, plus 1 for the root user",
        _iam_users,
    ),
    Reconciliation(
        "RDS DB instances",
        RDS_DATABASES,
        "DB instances listed by rds:DescribeDBInstances",
        RDS_QUOTAS,
        "rds:DescribeAccountAttributes quota DBInstances, Used",
        _rds_instances,
    ),
    Reconciliation(
        "EBS snapshots",
        EBS_SNAPSHOTS,
        "snapshots owned by the account, judged by the check",
        EBS_SNAPSHOTS,
        "records returned over every page of ec2:DescribeSnapshots OwnerIds=self",
        _ebs_snapshots,
    ),
    Reconciliation(
        "RDS snapshots",
        RDS_SNAPSHOTS,
        "DB and DB cluster snapshots judged by the check",
        RDS_SNAPSHOTS,
        "records returned over every page of rds:DescribeDBSnapshots and"
        " rds:DescribeDBClusterSnapshots",
        _rds_snapshots,
    ),
)


def reconciliations_for(sources: Iterable[Source[Any]]) -> tuple[Reconciliation, ...]:
    names = {source.name for source in sources}
    return tuple(r for r in RECONCILIATIONS if r.listed.name in names)


def independent_sources(sources: Iterable[Source[Any]]) -> tuple[Source[Any], ...]:
    """The sources whose counts the given listings are reconciled against, not already among
    them: collected with the listing, so the reconciliation can be made offline."""
    given = tuple(sources)
    names = {source.name for source in given}
    extra: dict[str, Source[Any]] = {}
    for reconciliation in reconciliations_for(given):
        if reconciliation.independent.name not in names:
            extra[reconciliation.independent.name] = reconciliation.independent
    return tuple(extra.values())
