"""Access-key age over the audit period: the credential report from the moto server (keys made
old with freezegun), the key events through LookupEvents, which moto does not serve (botocore's
Stubber behind the real source and recorder: listed in README's testing section), then the real
offline evaluation. A key that passed its age limit inside the period and was rotated later is
a deviation for the time it was over age, though the control passes at the as-of time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.stub import ANY
from freezegun import freeze_time

from evidence.catalog.loader import load_catalog
from evidence.collect.clients import AccountClients, AwsSettings, StaticCredentials, make_session
from evidence.collect.runner import run_source
from evidence.evaluate.engine import evaluate
from evidence.model import ControlResult
from evidence.pack.period import Period, plan_events
from evidence.pack.raw import RawSource, RawStore, json_bytes, raw_path
from evidence.pack.runinfo import AccountRun, RunInfo
from evidence.sources.base import Scope
from evidence.sources.cloudtrail_events import CallRate, lookup_events_source
from evidence.sources.iam import CREDENTIAL_REPORT
from tests.conftest import ACCOUNT, Aws, write_controls
from tests.test_period_lookup import CALLER, FakeClock, StubbedAccount, cloudtrail_event

IAM = "iam.amazonaws.com"
KEY_EVENTS = ("CreateAccessKey", "DeleteAccessKey", "UpdateAccessKey")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_event(
    name: str, when: datetime, request: dict[str, Any], response: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A LookupEvents entry for an IAM key call, CloudTrailEvent as AWS serialises it (IAM
    dates in responseElements are written "Nov 30, 2026 10:15:22 AM")."""
    event_id = f"{name}-{request.get('accessKeyId', 'new')}"
    return cloudtrail_event(name, when, request, response, event_id)


def credential_report(aws: Aws) -> RawSource:
    """The real source through recorded clients against the moto server."""
    settings = AwsSettings(
        region="us-east-1",
        endpoint_url=aws.url,
        credentials=StaticCredentials("testing", "testing"),
        max_attempts=2,
    )
    recorder = StubbedAccount().recorder
    clients = AccountClients(make_session(settings), settings, recorder, "us-east-1")
    context = clients.context(ACCOUNT, "global")
    return run_source(CREDENTIAL_REPORT, context, clients.recorder, CALLER)


def evaluate_period(
    tmp: Path, raws: list[RawSource], period: Period, now: datetime
) -> ControlResult:
    for raw in raws:
        target = tmp / raw_path(raw.source, raw.account, raw.region)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(json_bytes(raw.to_json()))
    controls = write_controls(
        tmp / "controls.yaml",
        "  - {id: IAM-04, title: Keys rotated, criteria: [CC6.1], check: iam.access_key_rotation,"
        " params: {max_age_days: 90}}\n",
    )
    run = RunInfo(
        tool_version="test",
        scope=ACCOUNT,
        organisation="Test Co",
        caller_arn=CALLER,
        started=iso(now),
        finished=iso(now),
        accounts=(AccountRun(ACCOUNT, CALLER, regions=("us-east-1",)),),
        regions=("us-east-1",),
        controls_file="controls.yaml",
        controls_sha256="0" * 64,
        control_ids=("IAM-04",),
        period=period,
        events=plan_events(period, "lookup", now),
    )
    (result,) = evaluate(load_catalog(controls), RawStore(tmp), run)
    return result


def test_key_over_age_inside_the_period_then_rotated(aws: Aws, tmp_path: Path) -> None:
    iam = aws.client("iam")
    now = datetime.now(UTC).replace(microsecond=0)
    period = Period((now - timedelta(days=40)).date(), now.date())
    for user in ("svc-deploy", "svc-reports"):
        iam.create_user(UserName=user)
    with freeze_time(now - timedelta(days=100)):
        old = iam.create_access_key(UserName="svc-deploy")["AccessKey"]
    with freeze_time(now - timedelta(days=20)):
        iam.create_access_key(UserName="svc-reports")  # well within the limit all period
    # Rotation: a new key, then the old one deactivated (it stays in the report, inactive).
    new = iam.create_access_key(UserName="svc-deploy")["AccessKey"]
    iam.update_access_key(UserName="svc-deploy", AccessKeyId=old["AccessKeyId"], Status="Inactive")
    rotated = datetime.now(UTC).replace(microsecond=0)
    report = credential_report(aws)
    assert report.failure is None, report.failure

    account = StubbedAccount()
    stub = account.stub("cloudtrail")
    created = new["CreateDate"].astimezone(UTC)
    answers = {
        "CreateAccessKey": [
            key_event(
                "CreateAccessKey",
                created,
                {"userName": "svc-deploy"},
                {
                    "accessKey": {
                        "accessKeyId": new["AccessKeyId"],
                        "status": "Active",
                        "userName": "svc-deploy",
                        "createDate": created.strftime("%b %d, %Y %I:%M:%S %p"),
                    }
                },
            )
        ],
        "DeleteAccessKey": [],
        "UpdateAccessKey": [
            key_event(
                "UpdateAccessKey",
                rotated,
                {"userName": "svc-deploy", "accessKeyId": old["AccessKeyId"], "status": "Inactive"},
            )
        ],
    }
    for name in KEY_EVENTS:
        stub.add_response(
            "lookup_events",
            {"Events": answers[name]},
            {
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                "StartTime": period.start_time,
                "EndTime": ANY,
                "MaxResults": 50,
            },
        )
    clock = FakeClock()
    rate = CallRate(2.0, clock=clock.time, sleep=clock.sleep)
    names = tuple((IAM, name) for name in KEY_EVENTS)
    events = run_source(
        lookup_events_source(Scope.GLOBAL, names, period.start_time, rate),
        account,
        account.recorder,
        CALLER,
    )
    assert events.failure is None, events.failure
    stub.assert_no_pending_responses()

    result = evaluate_period(tmp_path, [report, events], period, rotated + timedelta(seconds=5))
    # At the as-of time every active key is young: the control passes.
    assert {i.resource: str(i.status) for i in result.items} == {
        "svc-deploy": "pass",
        "svc-reports": "pass",
    }
    assert result.period is not None
    assert result.status == "fail"
    (deviation,) = result.period["deviations"]
    over_age = old["CreateDate"].astimezone(UTC).replace(microsecond=0) + timedelta(days=90)
    assert deviation["resource"] == old["AccessKeyId"]
    assert (deviation["from"], deviation["until"]) == (iso(over_age), iso(rotated))
    assert "older than 90 days" in deviation["what"]
    assert deviation["ended_by"]["event_name"] == "UpdateAccessKey"
    # The new key is the report's row, found by its id: it passes; so does the young key.
    statuses = {i["resource"]: i["status"] for i in result.period["items"]}
    assert statuses == {"svc-deploy": "pass", "svc-reports": "pass", old["AccessKeyId"]: "fail"}
    create = next(c for c in result.period["changes"] if c["event_name"] == "CreateAccessKey")
    deploy_items = {i["id"] for i in result.period["items"] if i["resource"] == "svc-deploy"}
    assert set(create["item_ids"]) <= deploy_items and create["item_ids"]


def test_key_over_age_and_not_rotated_deviates_from_its_limit(aws: Aws, tmp_path: Path) -> None:
    iam = aws.client("iam")
    now = datetime.now(UTC).replace(microsecond=0)
    period = Period((now - timedelta(days=40)).date(), now.date())
    iam.create_user(UserName="svc-legacy")
    with freeze_time(now - timedelta(days=110)):
        old = iam.create_access_key(UserName="svc-legacy")["AccessKey"]
    report = credential_report(aws)
    account = StubbedAccount()
    stub = account.stub("cloudtrail")
    for name in KEY_EVENTS:
        stub.add_response(
            "lookup_events",
            {"Events": []},
            {
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                "StartTime": period.start_time,
                "EndTime": ANY,
                "MaxResults": 50,
            },
        )
    clock = FakeClock()
    rate = CallRate(2.0, clock=clock.time, sleep=clock.sleep)
    names = tuple((IAM, name) for name in KEY_EVENTS)
    events = run_source(
        lookup_events_source(Scope.GLOBAL, names, period.start_time, rate),
        account,
        account.recorder,
        CALLER,
    )
    result = evaluate_period(tmp_path, [report, events], period, now + timedelta(seconds=5))
    assert result.period is not None
    (deviation,) = result.period["deviations"]
    over_age = old["CreateDate"].astimezone(UTC).replace(microsecond=0) + timedelta(days=90)
    # Over age from its 90th day (inside the period), not from the period start.
    assert deviation["from"] == iso(over_age)
    assert deviation["from"] > iso(period.start_time)
