"""Who ran the collection, in which account, and which regions the account has enabled."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..pack.raw import RawSource
from .base import FetchContext, Scope, Source, register


@dataclass(frozen=True)
class CallerIdentity:
    account: str
    arn: str
    user_id: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1] if self.arn.count(":") >= 2 else "aws"


def _fetch_identity(ctx: FetchContext) -> None:
    ctx.client("sts").get_caller_identity()


def _parse_identity(raw: RawSource) -> CallerIdentity:
    for call in raw.successful("GetCallerIdentity"):
        assert call.response is not None
        return CallerIdentity(
            account=str(call.response["Account"]),
            arn=str(call.response["Arn"]),
            user_id=str(call.response["UserId"]),
        )
    raise ValueError("no successful GetCallerIdentity call recorded")


CALLER_IDENTITY = register(
    Source(
        name="sts.caller_identity",
        scope=Scope.GLOBAL,
        actions=("sts:GetCallerIdentity",),
        fetch=_fetch_identity,
        parse=_parse_identity,
    )
)


def _fetch_aliases(ctx: FetchContext) -> None:
    for _ in ctx.client("iam").get_paginator("list_account_aliases").paginate():
        pass


def _parse_aliases(raw: RawSource) -> tuple[str, ...]:
    return tuple(
        str(alias)
        for call in raw.successful("ListAccountAliases")
        for alias in (call.response or {}).get("AccountAliases", [])
    )


ACCOUNT_ALIASES = register(
    Source(
        name="iam.account_aliases",
        scope=Scope.GLOBAL,
        actions=("iam:ListAccountAliases",),
        fetch=_fetch_aliases,
        parse=_parse_aliases,
    )
)


def _fetch_regions(ctx: FetchContext) -> None:
    # Only regions the account can use: opt-in regions not opted in are left out by AWS itself.
    ctx.client("ec2").describe_regions(
        Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required", "opted-in"]}]
    )


def _parse_regions(raw: RawSource) -> tuple[str, ...]:
    return tuple(
        sorted(
            str(region["RegionName"])
            for call in raw.successful("DescribeRegions")
            for region in (call.response or {}).get("Regions", [])
        )
    )


ENABLED_REGIONS = register(
    Source(
        name="ec2.enabled_regions",
        scope=Scope.GLOBAL,
        actions=("ec2:DescribeRegions",),
        fetch=_fetch_regions,
        parse=_parse_regions,
    )
)


@dataclass(frozen=True)
class Organization:
    management_account: str
    accounts: tuple[tuple[str, str, str], ...]  # (id, name, status)

    @property
    def active(self) -> tuple[str, ...]:
        return tuple(account for account, _, status in self.accounts if status == "ACTIVE")


def _fetch_organization(ctx: FetchContext) -> None:
    organizations = ctx.client("organizations")
    organizations.describe_organization()
    for _ in organizations.get_paginator("list_accounts").paginate():
        pass


def _parse_organization(raw: RawSource) -> Organization:
    management = next(
        str(c.response["Organization"]["MasterAccountId"])
        for c in raw.successful("DescribeOrganization")
        if c.response
    )
    accounts = tuple(
        (str(a["Id"]), str(a.get("Name", "")), str(a.get("Status", "")))
        for c in raw.successful("ListAccounts")
        for a in (c.response or {}).get("Accounts", [])
    )
    return Organization(management, accounts)


ORGANIZATION = register(
    Source(
        name="organizations.accounts",
        scope=Scope.GLOBAL,
        actions=("organizations:DescribeOrganization", "organizations:ListAccounts"),
        fetch=_fetch_organization,
        parse=_parse_organization,
    )
)


# An organizational unit's or root's id (AWS Organizations API Reference, ListChildren ParentId).
PARENT_ID = re.compile(r"(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})")


def organizational_units(parents: tuple[str, ...]) -> Source[Organization]:
    """The accounts under the given organizational units (or roots), recursively: for each unit
    `ListAccountsForParent`, then `ListChildren` of type ORGANIZATIONAL_UNIT for the units
    below it, each unit once. `parse` reads the accounts from the recorded answers, so the
    pack's scope is re-derivable offline (AWS Organizations API Reference:
    ListAccountsForParent lists only the accounts directly under a parent)."""

    def fetch(ctx: FetchContext) -> None:
        organizations = ctx.client("organizations")
        organizations.describe_organization()
        pending, seen = list(parents), set()
        while pending:
            parent = pending.pop(0)
            if parent in seen:
                continue
            seen.add(parent)
            paginate = organizations.get_paginator("list_accounts_for_parent").paginate
            for _ in paginate(ParentId=parent):
                pass
            children = organizations.get_paginator("list_children").paginate(
                ParentId=parent, ChildType="ORGANIZATIONAL_UNIT"
            )
            for page in children:
                pending.extend(str(child["Id"]) for child in page.get("Children", []))

    def parse(raw: RawSource) -> Organization:
        management = next(
            str(c.response["Organization"]["MasterAccountId"])
            for c in raw.successful("DescribeOrganization")
            if c.response
        )
        accounts = {
            str(a["Id"]): (str(a["Id"]), str(a.get("Name", "")), str(a.get("Status", "")))
            for c in raw.successful("ListAccountsForParent")
            for a in (c.response or {}).get("Accounts", [])
        }
        return Organization(management, tuple(accounts.values()))

    return Source(
        name="organizations.unit_accounts",
        scope=Scope.GLOBAL,
        actions=(
            "organizations:DescribeOrganization",
            "organizations:ListAccountsForParent",
            "organizations:ListChildren",
        ),
        fetch=fetch,
        parse=parse,
    )
