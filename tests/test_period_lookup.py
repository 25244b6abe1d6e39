"""Period packs through cloudtrail:LookupEvents, which moto does not implement: botocore's
Stubber (requests and responses checked against the service model) behind the real source,
recorder, raw file, evaluation engine, check and period rules. Listed in README's testing section.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from evidence.catalog.loader import load_catalog
from evidence.collect.per_resource import each_resource
from evidence.collect.recorder import Recorder
from evidence.collect.runner import run_source
from evidence.evaluate.engine import evaluate
from evidence.model import ControlResult
from evidence.pack.period import EventsPlan, Period, plan_events
from evidence.pack.raw import RawSource, RawStore, json_bytes, raw_path
from evidence.pack.runinfo import AccountRun, RunInfo
from evidence.sources.base import Scope, Source
from evidence.sources.cloudtrail_events import CallRate, lookup_events_source
from evidence.sources.iam import PASSWORD_POLICY
from tests.conftest import ACCOUNT, write_controls

CALLER = f"arn:aws:iam::{ACCOUNT}:user/auditor"
ADMIN = f"arn:aws:iam::{ACCOUNT}:user/ops.admin"
NOW = datetime.now(UTC).replace(microsecond=0)
PERIOD = Period((NOW - timedelta(days=40)).date(), (NOW - timedelta(days=10)).date())
IAM_EVENTS = (
    ("iam.amazonaws.com", "DeleteAccountPasswordPolicy"),
    ("iam.amazonaws.com", "UpdateAccountPasswordPolicy"),
)
STRONG = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
    "ExpirePasswords": True,
    "MaxPasswordAge": 90,
}


class FakeClock:
    """A monotonic clock that sleeping advances: the rate limiter's waits, without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.calls: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class StubbedAccount:
    """A FetchContext whose clients are stubbed and recorded by the real recorder."""

    recorder: Recorder = field(default_factory=Recorder)
    stubs: dict[str, Stubber] = field(default_factory=dict)
    account: str = ACCOUNT
    region: str = "global"

    def stub(self, service: str) -> Stubber:
        if service not in self.stubs:
            client = boto3.client(
                service,  # type: ignore[call-overload]
                region_name="us-east-1",
                aws_access_key_id="x",
                aws_secret_access_key="y",
            )
            self.stubs[service] = Stubber(self.recorder.attach(client))
            self.stubs[service].activate()
        return self.stubs[service]

    def client(self, service: str, region: str | None = None) -> Any:
        return self.stub(service).client

    def read(self, source: Source[Any]) -> Any:
        raise AssertionError("no dependencies here")

    def keep_body(self, operation: str, body: Any, parameters: Any) -> None:
        self.recorder.keep_body(operation, body, parameters)

    def each_resource(self, kind: str, resources: Any, call: Any) -> dict[str, Any]:
        return each_resource(self.recorder, kind, resources, call)


def cloudtrail_event(
    name: str,
    when: datetime,
    request: dict[str, Any],
    response: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A LookupEvents entry for an IAM call, its CloudTrailEvent the record as AWS serialises
    it (`response`: its responseElements; `event_id` defaults to the name and minute)."""
    event_id = event_id or f"{name}-{when:%Y%m%d%H%M}"
    record = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": ADMIN, "accountId": ACCOUNT},
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "iam.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.30",
        "requestParameters": request,
        "responseElements": response,
        "eventID": event_id,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
    }
    return {
        "EventId": event_id,
        "EventName": name,
        "ReadOnly": "false",
        "EventTime": when,
        "EventSource": "iam.amazonaws.com",
        "Username": "ops.admin",
        "Resources": [],
        "CloudTrailEvent": json.dumps(record),
    }


def expect_lookup(
    stub: Stubber, name: str, events: list[dict[str, Any]], token: str | None, after: str = ""
) -> None:
    params: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
        "StartTime": PERIOD.start_time,
        "EndTime": ANY,
        "MaxResults": 50,
    }
    if after:
        params["NextToken"] = after
    answer: dict[str, Any] = {"Events": events}
    if token:
        answer["NextToken"] = token
    stub.add_response("lookup_events", answer, params)


def write_pack(tmp: Path, raws: list[RawSource], plan: EventsPlan) -> tuple[ControlResult, ...]:
    """Raw files as collection writes them, then the real offline evaluation of IAM-01."""
    for raw in raws:
        target = tmp / raw_path(raw.source, raw.account, raw.region)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(json_bytes(raw.to_json()))
    controls = write_controls(
        tmp / "controls.yaml",
        "  - {id: IAM-01, title: Password policy, criteria: [CC6.1], check: iam.password_policy}\n",
    )
    run = RunInfo(
        tool_version="test",
        scope=ACCOUNT,
        organisation="Test Co",
        caller_arn=CALLER,
        started=NOW.isoformat().replace("+00:00", "Z"),
        finished=NOW.isoformat().replace("+00:00", "Z"),
        accounts=(AccountRun(ACCOUNT, CALLER, regions=("us-east-1",)),),
        regions=("us-east-1",),
        controls_file="controls.yaml",
        controls_sha256="0" * 64,
        control_ids=("IAM-01",),
        period=PERIOD,
        events=plan,
    )
    return evaluate(load_catalog(controls), RawStore(tmp), run)


def collect_policy(account: StubbedAccount) -> RawSource:
    account.stub("iam").add_response("get_account_password_policy", {"PasswordPolicy": STRONG})
    return run_source(PASSWORD_POLICY, account, account.recorder, CALLER)


def test_policy_weakened_and_restored_through_lookup_events(tmp_path: Path) -> None:
    plan = plan_events(PERIOD, "auto", NOW)
    assert plan.mode == "lookup"
    account = StubbedAccount()
    policy = collect_policy(account)
    stub = account.stub("cloudtrail")
    weakened = PERIOD.start_time + timedelta(days=5, hours=9)
    restored = weakened + timedelta(days=1, hours=3)
    expect_lookup(stub, "DeleteAccountPasswordPolicy", [], None)
    weak = {"minimumPasswordLength": 6, "requireSymbols": False}
    strong = {k[0].lower() + k[1:]: v for k, v in STRONG.items() if k != "ExpirePasswords"}
    # Newest first, as LookupEvents answers; two pages.
    expect_lookup(
        stub,
        "UpdateAccountPasswordPolicy",
        [cloudtrail_event("UpdateAccountPasswordPolicy", restored, strong)],
        "page-2",
    )
    expect_lookup(
        stub,
        "UpdateAccountPasswordPolicy",
        [cloudtrail_event("UpdateAccountPasswordPolicy", weakened, weak)],
        None,
        after="page-2",
    )
    clock = FakeClock()
    rate = CallRate(2.0, clock=clock.time, sleep=clock.sleep)
    source = lookup_events_source(Scope.GLOBAL, IAM_EVENTS, PERIOD.start_time, rate)
    events = run_source(source, account, account.recorder, CALLER)
    assert events.failure is None, events.failure
    stub.assert_no_pending_responses()
    assert events.complete
    # 3 calls to one account and region: at least half a second apart.
    assert clock.now - 1000.0 >= 1.0
    assert [c.parameters.get("NextToken") for c in events.calls] == [None, None, "page-2"]

    (result,) = write_pack(tmp_path, [policy, events], plan)
    assert result.items[0].status == "pass"
    assert result.status == "fail"
    assert result.period is not None
    (deviation,) = result.period["deviations"]
    assert deviation["started_by"]["principal"] == ADMIN
    assert deviation["from"] == weakened.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert deviation["until"] == restored.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [c["event_name"] for c in result.period["changes"]] == [
        "UpdateAccountPasswordPolicy"
    ] * 2
    assert any(e.path.endswith("global/cloudtrail.lookup_events.json") for e in result.evidence)


def test_lookup_events_access_denied_is_an_error_for_the_period(tmp_path: Path) -> None:
    plan = plan_events(PERIOD, "lookup", NOW)
    account = StubbedAccount()
    policy = collect_policy(account)
    account.stub("cloudtrail").add_client_error(
        "lookup_events",
        service_error_code="AccessDeniedException",
        service_message=f"User: {CALLER} is not authorized to perform: cloudtrail:LookupEvents",
        http_status_code=400,
    )
    clock = FakeClock()
    rate = CallRate(2.0, clock=clock.time, sleep=clock.sleep)
    source = lookup_events_source(Scope.GLOBAL, IAM_EVENTS, PERIOD.start_time, rate)
    events = run_source(source, account, account.recorder, CALLER)
    assert events.failure is not None

    (result,) = write_pack(tmp_path, [policy, events], plan)
    assert result.items[0].status == "pass"
    assert result.status == "error"
    assert result.period is not None
    (error,) = result.period["errors"]
    assert (error["operation"], error["code"]) == ("LookupEvents", "AccessDeniedException")
    assert result.period["items"][0]["status"] == "error"
    assert "AccessDeniedException" in result.period["items"][0]["detail"]


def test_periods_older_than_event_history_read_the_s3_logs() -> None:
    old = Period((NOW - timedelta(days=300)).date(), (NOW - timedelta(days=200)).date())
    assert plan_events(old, "auto", NOW).mode == "s3"
    assert plan_events(PERIOD, "s3", NOW).mode == "s3"
