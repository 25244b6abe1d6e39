"""The two operations moto cannot serve over HTTP, tested with botocore's Stubber (which checks
requests and responses against the service model), through the real source, recorder, raw file
and check code. Listed in the README's testing section."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.stub import Stubber

from evidence.checks import CHECKS, ScopeContext
from evidence.collect.per_resource import each_resource
from evidence.collect.recorder import Recorder
from evidence.collect.runner import run_source
from evidence.model import CollectionError, Item
from evidence.pack.raw import RawSource
from evidence.sources.base import Source
from evidence.sources.s3 import ACCOUNT_PUBLIC_ACCESS, BUCKET_PUBLIC_ACCESS, BUCKETS
from evidence.sources.services import TRUSTED_ADVISOR_LIMITS
from tests.conftest import ACCOUNT, Aws

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


@dataclass
class StubbedAccount:
    """A FetchContext whose clients are stubbed, and the parsed raw files collected so far."""

    recorder: Recorder = field(default_factory=Recorder)
    stubs: dict[str, Stubber] = field(default_factory=dict)
    collected: dict[str, Any] = field(default_factory=dict)
    account: str = ACCOUNT
    region: str = "global"

    def stub(self, service: str) -> Stubber:
        if service not in self.stubs:
            client = boto3.client(
                service,
                region_name="us-east-1",
                aws_access_key_id="x",  # type: ignore[call-overload]
                aws_secret_access_key="y",
            )
            self.stubs[service] = Stubber(self.recorder.attach(client))
            self.stubs[service].activate()
        return self.stubs[service]

    def client(self, service: str, region: str | None = None) -> Any:
        return self.stub(service).client

    def read(self, source: Source[Any]) -> Any:
        return self.collected[source.name]

    def each_resource(self, kind: str, resources: Any, call: Any) -> dict[str, Any]:
        return each_resource(self.recorder, kind, resources, call)

    def keep_body(self, operation: str, body: Any, parameters: Any) -> None:
        self.recorder.keep_body(operation, body, parameters)

    def collect(self, source: Source[Any]) -> RawSource:
        raw = run_source(source, self, self.recorder, f"arn:aws:iam::{ACCOUNT}:user/auditor")
        # Through JSON and back, as evaluation reads it from the pack.
        stored = RawSource.from_json(json.loads(json.dumps(raw.to_json())))
        if stored.complete:
            self.collected[source.name] = source.parse(stored)
        return stored

    def get(self, source: Source[Any], account: str, region: str) -> Any:
        return self.collected[source.name]


def evaluate(account: StubbedAccount, check: str, **params: Any) -> list[Item | CollectionError]:
    definition = CHECKS[check]
    ctx = ScopeContext(
        check, ACCOUNT, "global", "aws", definition.params(**params), datetime.now(UTC), account
    )
    return list(definition.evaluate(ctx))


def buckets(account: StubbedAccount, settings: dict[str, dict[str, bool] | None]) -> None:
    s3 = account.stub("s3")
    s3.add_response("list_buckets", {"Buckets": [{"Name": n} for n in settings]})
    for name, config in settings.items():
        if config is None:
            s3.add_client_error(
                "get_public_access_block",
                "NoSuchPublicAccessBlockConfiguration",
                http_status_code=404,
                expected_params={"Bucket": name},
            )
        else:
            s3.add_response(
                "get_public_access_block",
                {"PublicAccessBlockConfiguration": config},
                {"Bucket": name},
            )
    account.collect(BUCKETS)
    account.collect(BUCKET_PUBLIC_ACCESS)


def test_account_level_block_covers_every_bucket() -> None:
    account = StubbedAccount()
    account.stub("s3control").add_response(
        "get_public_access_block",
        {"PublicAccessBlockConfiguration": BLOCK_ALL},
        {"AccountId": ACCOUNT},
    )
    raw = account.collect(ACCOUNT_PUBLIC_ACCESS)
    assert raw.calls[0].operation == "GetPublicAccessBlock" and raw.calls[0].service == "s3control"
    buckets(account, {"open-bucket": None})
    items = evaluate(account, "s3.public_access_block")
    assert [(i.resource, i.status) for i in items if isinstance(i, Item)] == [
        (ACCOUNT, "pass"),
        ("open-bucket", "pass"),
    ]


def test_no_account_level_block_is_a_finding_and_buckets_stand_alone() -> None:
    account = StubbedAccount()
    account.stub("s3control").add_client_error(
        "get_public_access_block",
        "NoSuchPublicAccessBlockConfiguration",
        http_status_code=404,
        expected_params={"AccountId": ACCOUNT},
    )
    raw = account.collect(ACCOUNT_PUBLIC_ACCESS)
    assert raw.complete  # "not configured" is an answer, not a collection error
    buckets(account, {"blocked": BLOCK_ALL, "open-bucket": None})
    items = {
        i.resource: i for i in evaluate(account, "s3.public_access_block") if isinstance(i, Item)
    }
    assert items[ACCOUNT].status == "fail"
    assert items[ACCOUNT].detail == (
        "account-level Block Public Access: not configured; 1 bucket(s) without all four in effect"
    )
    assert items["blocked"].status == "pass"
    assert items["open-bucket"].status == "fail"


def limit_checks(account: StubbedAccount, rows: list[list[str]]) -> None:
    support = account.stub("support")
    columns = ["Region", "Service", "Limit Name", "Limit Amount", "Current Usage", "Status"]
    support.add_response(
        "describe_trusted_advisor_checks",
        {
            "checks": [
                {
                    "id": "eW7HH0l7J9",
                    "name": "EC2 On-Demand Instances",
                    "description": "limits",
                    "category": "service_limits",
                    "metadata": columns,
                },
                {
                    "id": "Qch7DwouX1",
                    "name": "Low Utilization",
                    "description": "cost",
                    "category": "cost_optimizing",
                    "metadata": [],
                },
            ]
        },
        {"language": "en"},
    )
    support.add_response(
        "describe_trusted_advisor_check_result",
        {
            "result": {
                "checkId": "eW7HH0l7J9",
                "timestamp": "2026-11-22T00:00:00Z",
                "status": "warning",
                "resourcesSummary": {
                    "resourcesProcessed": 2,
                    "resourcesFlagged": len(rows),
                    "resourcesIgnored": 0,
                    "resourcesSuppressed": 0,
                },
                "categorySpecificSummary": {},
                "flaggedResources": [
                    {"status": "warning", "resourceId": f"r{n}", "metadata": row}
                    for n, row in enumerate(rows)
                ],
            }
        },
        {"checkId": "eW7HH0l7J9", "language": "en"},
    )


def test_service_limits_above_the_threshold_fail() -> None:
    account = StubbedAccount()
    limit_checks(
        account,
        [
            ["us-east-1", "EC2", "On-Demand instances", "100", "92", "Yellow"],
            ["eu-west-1", "EC2", "On-Demand instances", "100", "40", "Green"],
        ],
    )
    raw = account.collect(TRUSTED_ADVISOR_LIMITS)
    # Only the service-limit check's result is read: one call per check the category forces.
    assert [c.operation for c in raw.calls] == [
        "DescribeTrustedAdvisorChecks",
        "DescribeTrustedAdvisorCheckResult",
    ]
    items = [i for i in evaluate(account, "support.service_limits") if isinstance(i, Item)]
    assert [(i.resource, i.status) for i in items] == [
        ("EC2: On-Demand instances (us-east-1)", "fail"),
        ("EC2: On-Demand instances (eu-west-1)", "pass"),
    ]
    assert items[0].detail == "usage 92 of 100 (92.0%), threshold 80%"
    assert evaluate(account, "support.service_limits", threshold_percent=95)[0].status == "pass"  # type: ignore[union-attr]


def test_without_a_support_plan_the_control_is_an_error(aws: Aws, collect: Any) -> None:
    aws.proxy.fail(
        "DescribeTrustedAdvisorChecks",
        "SubscriptionRequiredException",
        message="AWS Premium Support Subscription is required to use this service.",
    )
    control = collect("--only", "CAP-01").control("CAP-01")
    assert control["status"] == "error"
    assert control["errors"][0]["code"] == "SubscriptionRequiredException"
    assert "Business" in control["notes"][0]


# ---------------------------------------------------------------- issue 9: per-setting combination


ACL_ONLY = {**BLOCK_ALL, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
POLICY_ONLY = {**BLOCK_ALL, "BlockPublicAcls": False, "IgnorePublicAcls": False}


def account_block(account: StubbedAccount, settings: dict[str, bool]) -> None:
    account.stub("s3control").add_response(
        "get_public_access_block",
        {"PublicAccessBlockConfiguration": settings},
        {"AccountId": ACCOUNT},
    )
    account.collect(ACCOUNT_PUBLIC_ACCESS)


def test_issue_example_account_acl_settings_and_bucket_policy_settings_block_fully() -> None:
    account = StubbedAccount()
    account_block(account, ACL_ONLY)
    buckets(account, {"combined": POLICY_ONLY})
    items = {
        i.resource: i for i in evaluate(account, "s3.public_access_block") if isinstance(i, Item)
    }
    assert items["combined"].status == "pass"
    assert items["combined"].detail == (
        "all four in effect: BlockPublicAcls (account), IgnorePublicAcls (account),"
        " BlockPublicPolicy (bucket), RestrictPublicBuckets (bucket)"
    )
    assert items[ACCOUNT].status == "pass"  # every bucket in scope is covered


def test_a_setting_on_at_neither_level_fails_naming_it() -> None:
    account = StubbedAccount()
    account_block(account, {**ACL_ONLY, "BlockPublicPolicy": True})
    buckets(account, {"almost": {**BLOCK_ALL, "RestrictPublicBuckets": False}, "own": BLOCK_ALL})
    items = {
        i.resource: i for i in evaluate(account, "s3.public_access_block") if isinstance(i, Item)
    }
    assert items["almost"].status == "fail"
    assert items["almost"].detail == (
        "not in effect for the bucket or the account: RestrictPublicBuckets"
    )
    assert items["own"].status == "pass"
    assert items[ACCOUNT].status == "fail"
    assert items[ACCOUNT].detail.endswith(
        "off: RestrictPublicBuckets; 1 bucket(s) without all four in effect"
    )


def test_no_account_setting_and_fully_blocked_buckets_pass() -> None:
    account = StubbedAccount()
    account.stub("s3control").add_client_error(
        "get_public_access_block",
        "NoSuchPublicAccessBlockConfiguration",
        http_status_code=404,
        expected_params={"AccountId": ACCOUNT},
    )
    account.collect(ACCOUNT_PUBLIC_ACCESS)
    buckets(account, {"a": BLOCK_ALL, "b": BLOCK_ALL})
    statuses = {
        i.resource: i.status
        for i in evaluate(account, "s3.public_access_block")
        if isinstance(i, Item)
    }
    assert statuses == {ACCOUNT: "pass", "a": "pass", "b": "pass"}
