"""The demo's audit period: the last 30 full days, read from the trail's S3 log files.

moto writes no CloudTrail logs, so the demo writes them as the trail would have: two files a day
in each region, ordinary read-only traffic, and one deviation: an engineer opened SSH to the
world on a security group for an hour and revoked it (gone by the as-of time, so only the
period shows it). The trail, the Config recorder and the GuardDuty detector were switched on
long before the period (set in moto's backend: its API stamps them with the seeding time).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..pack.period import Period
from .company import REGIONS
from .infrastructure import TRAIL_BUCKET
from .server import DEMO_ACCOUNT
from .trail_logs import Actor, LogBucket, hours, noise, record

PERIOD_DAYS = 30
ENGINEER = Actor(
    f"arn:aws:iam::{DEMO_ACCOUNT}:user/kara.singh",
    DEMO_ACCOUNT,
    ip="198.51.100.23",
    agent="console.amazonaws.com",
)
AUTOMATION = Actor(f"arn:aws:sts::{DEMO_ACCOUNT}:assumed-role/ci-deploy/gha-run", DEMO_ACCOUNT)


def demo_period(now: datetime) -> Period:
    today = now.astimezone(UTC).date()
    return Period(today - timedelta(days=PERIOD_DAYS), today - timedelta(days=1))


def seed_period(period: Period, now: datetime) -> None:
    """Backdate what was on before the period, then write the trail's log files."""
    switched_on = period.start_time - timedelta(days=180)
    _backdate(switched_on)
    # The bucket's policy denies plain HTTP (the TLS control): CloudTrail writes over TLS, so the
    # files go straight into moto's S3 backend.
    logs = LogBucket(_BackendWriter(), TRAIL_BUCKET)
    opened = period.start_time + timedelta(days=17, hours=14, minutes=12)
    changes = _ssh_opened_for_an_hour(opened)
    for delivered in hours(period.start_time + timedelta(hours=12), now, timedelta(hours=12)):
        for region in REGIONS:
            since = delivered - timedelta(hours=12)
            records = [
                noise(AUTOMATION, since + timedelta(minutes=7 * i), region, i) for i in range(12)
            ]
            records += [
                c for c in changes if c["awsRegion"] == region and since <= _at(c) < delivered
            ]
            logs.write(DEMO_ACCOUNT, region, delivered, records)


class _BackendWriter:
    def put_object(self, Bucket: str, Key: str, Body: bytes) -> None:
        from moto.backends import get_backend

        get_backend("s3")[DEMO_ACCOUNT]["global"].put_object(Bucket, Key, Body)


def _at(entry: dict[str, Any]) -> datetime:
    return datetime.strptime(entry["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _ssh_opened_for_an_hour(opened: datetime) -> list[dict[str, Any]]:
    group, rule = "sg-0d3m0c0ffee5ca1e5", "sgr-0d3m0a11ce0bad22"
    permission = {
        "groupId": group,
        "ipPermissions": {
            "items": [
                {
                    "ipProtocol": "tcp",
                    "fromPort": 22,
                    "toPort": 22,
                    "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0", "description": "debug"}]},
                }
            ]
        },
    }
    created = {"_return": True, "securityGroupRuleSet": {"items": [{"securityGroupRuleId": rule}]}}
    revoke = {"groupId": group, "securityGroupRuleIds": {"items": [{"securityGroupRuleId": rule}]}}
    ec2 = "ec2.amazonaws.com"
    return [
        record(
            ENGINEER, opened, "eu-west-1", ec2, "AuthorizeSecurityGroupIngress", permission, created
        ),
        record(
            ENGINEER,
            opened + timedelta(minutes=61),
            "eu-west-1",
            ec2,
            "RevokeSecurityGroupIngress",
            revoke,
            {"_return": True},
        ),
    ]


def _backdate(moment: datetime) -> None:
    """moto stamps the trail's logging start, the recorder's start and the detector's creation
    with the seeding time; the company switched them on long ago."""
    from moto.backends import get_backend

    naive = moment.astimezone(UTC).replace(tzinfo=None)
    for trail in get_backend("cloudtrail")[DEMO_ACCOUNT]["us-east-1"].trails.values():
        if trail.status.started is not None:
            trail.status.started = naive
    for recorder in get_backend("config")[DEMO_ACCOUNT]["us-east-1"].recorders.values():
        if recorder.status.last_start_time:
            recorder.status.last_start_time = int(moment.timestamp())
    for detector in get_backend("guardduty")[DEMO_ACCOUNT]["us-east-1"].detectors.values():
        detector.created_at = naive
