"""Period packs from the trail's S3 log files, on the moto server: realistic gzip CloudTrail
files written into the trail's bucket for every day and region of the window, read back by the
real source, recorder, raw file and period evaluation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from evidence.demo.trail_logs import Actor, LogBucket, noise, record
from tests.conftest import ACCOUNT, Aws, write_controls

BUCKET = "audit-trail-logs"
TRAIL = "main-trail"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{TRAIL}"
REGIONS = ("us-east-1", "eu-west-1")
ADMIN = Actor(f"arn:aws:iam::{ACCOUNT}:user/ops.admin", ACCOUNT, ip="198.51.100.7")
TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
START = TODAY - timedelta(days=10)
END = TODAY - timedelta(days=1)
PERIOD = f"{START:%Y-%m-%d}..{END:%Y-%m-%d}"
STRONG = {
    "minimumPasswordLength": 14,
    "requireSymbols": True,
    "requireNumbers": True,
    "requireUppercaseCharacters": True,
    "requireLowercaseCharacters": True,
    "maxPasswordAge": 90,
    "allowUsersToChangePassword": True,
}

CONTROLS = """\
  - {id: LOG-01, title: CloudTrail, criteria: [CC7.2], check: cloudtrail.enabled}
  - {id: IAM-01, title: Password policy, criteria: [CC6.1], check: iam.password_policy}
  - {id: NET-01, title: Admin ports closed, criteria: [CC6.6], check: ec2.security_groups_open}
  - {id: EBS-01, title: Snapshots private, criteria: [CC6.1], check: ec2.snapshot_public}
"""


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return START + timedelta(days=day, hours=hour, minutes=minute)


def seed_account(aws: Aws) -> str:
    """A trail logging since long before the period, a strong password policy, a snapshot."""
    aws.client("s3").create_bucket(Bucket=BUCKET)
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(
        Name=TRAIL, S3BucketName=BUCKET, IsMultiRegionTrail=True, EnableLogFileValidation=True
    )
    cloudtrail.put_event_selectors(
        TrailName=TRAIL, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    cloudtrail.start_logging(Name=TRAIL)
    trail = aws.backend("cloudtrail", "us-east-1").trails[TRAIL]
    trail.status.started = START - timedelta(days=200)
    aws.client("iam").update_account_password_policy(
        **{k[0].upper() + k[1:]: v for k, v in STRONG.items()}
    )
    ec2 = aws.client("ec2", "eu-west-1")
    volume = ec2.create_volume(AvailabilityZone="eu-west-1a", Size=8)["VolumeId"]
    snapshot: str = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    return snapshot


def write_logs(
    aws: Aws,
    changes: list[dict[str, Any]],
    skip: set[tuple[str, int]] = frozenset(),  # type: ignore[assignment]
    logs: LogBucket | None = None,
) -> LogBucket:
    """Four files a day per region from the period start to now, with `changes` in place."""
    logs = logs or LogBucket(aws.client("s3"), BUCKET)
    now = datetime.now(UTC)
    day = 0
    while START + timedelta(days=day) <= now:
        for region in REGIONS:
            for quarter in range(4):
                begin = START + timedelta(days=day, hours=6 * quarter)
                delivered = min(begin + timedelta(hours=6) - timedelta(minutes=1), now)
                if (region, day) in skip or begin > now:
                    continue  # a day on which the trail delivered no file
                records = [noise(ADMIN, begin + timedelta(minutes=i), region, i) for i in range(20)]
                records += [
                    c for c in changes if c["awsRegion"] == region and begin <= _time(c) < delivered
                ]
                logs.write(ACCOUNT, region, delivered, records)
        day += 1
    return logs


def _time(entry: dict[str, Any]) -> datetime:
    return datetime.strptime(entry["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def changes_in_period(snapshot: str) -> list[dict[str, Any]]:
    weak = {**STRONG, "minimumPasswordLength": 6, "requireSymbols": False}
    open_22 = {
        "groupId": "sg-0a1b2c3d4e5f60718",
        "ipPermissions": {
            "items": [
                {
                    "ipProtocol": "tcp",
                    "fromPort": 22,
                    "toPort": 22,
                    "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                }
            ]
        },
    }
    rule_set = {
        "_return": True,
        "securityGroupRuleSet": {"items": [{"securityGroupRuleId": "sgr-0123456789abcdef0"}]},
    }
    public = {"snapshotId": snapshot, "attributeType": "CREATE_VOLUME_PERMISSION"}
    iam, ct, ec2 = "iam.amazonaws.com", "cloudtrail.amazonaws.com", "ec2.amazonaws.com"
    return [
        record(ADMIN, at(2, 10), "us-east-1", ct, "StopLogging", {"name": TRAIL_ARN}),
        record(ADMIN, at(2, 14), "us-east-1", ct, "StartLogging", {"name": TRAIL_ARN}),
        record(ADMIN, at(3, 9), "us-east-1", iam, "UpdateAccountPasswordPolicy", weak),
        record(ADMIN, at(4, 16), "us-east-1", iam, "UpdateAccountPasswordPolicy", STRONG),
        record(
            ADMIN,
            at(5, 8),
            "eu-west-1",
            ec2,
            "ModifySnapshotAttribute",
            {**public, "createVolumePermission": {"add": {"items": [{"group": "all"}]}}},
        ),
        record(
            ADMIN,
            at(7, 8),
            "eu-west-1",
            ec2,
            "ModifySnapshotAttribute",
            {**public, "createVolumePermission": {"remove": {"items": [{"group": "all"}]}}},
        ),
        record(
            ADMIN, at(6, 9), "eu-west-1", ec2, "AuthorizeSecurityGroupIngress", open_22, rule_set
        ),
        record(
            ADMIN,
            at(6, 10),
            "eu-west-1",
            ec2,
            "RevokeSecurityGroupIngress",
            {
                "groupId": "sg-0a1b2c3d4e5f60718",
                "securityGroupRuleIds": {
                    "items": [{"securityGroupRuleId": "sgr-0123456789abcdef0"}]
                },
            },
        ),
    ]


def run_period(collect: Any, tmp_path: Path, *extra: str) -> Any:
    controls = write_controls(tmp_path / "controls.yaml", CONTROLS)
    args = ["--period", PERIOD, "--events-from", "s3", *extra]
    return collect(*args, "--region", "us-east-1", "--region", "eu-west-1", controls=controls)


def period(run: Any, control: str) -> dict[str, Any]:
    block: dict[str, Any] = run.control(control)["period"]
    return block


def test_deviations_rebuilt_from_the_trail_logs(aws: Aws, collect: Any, tmp_path: Path) -> None:
    snapshot = seed_account(aws)
    logs = write_logs(aws, changes_in_period(snapshot))
    run = run_period(collect, tmp_path)
    assert run.code == 1, run.err
    results = run.results
    assert results["run"]["period"]["start"] == f"{START:%Y-%m-%d}"
    assert results["run"]["period"]["events"]["mode"] == "s3"

    # Trail stopped and restarted: passes at as-of, fails for the period, with the interval.
    trail = run.control("LOG-01")
    assert [i["status"] for i in trail["items"]] == ["pass"]
    assert trail["status"] == "fail"
    (deviation,) = period(run, "LOG-01")["deviations"]
    assert (deviation["from"], deviation["until"]) == (iso(at(2, 10)), iso(at(2, 14)))
    assert deviation["started_by"]["event_name"] == "StopLogging"
    assert deviation["started_by"]["principal"] == ADMIN.arn
    assert deviation["ended_by"]["event_name"] == "StartLogging"

    # Password policy weakened and restored: a deviation between the two updates.
    policy = period(run, "IAM-01")
    assert run.control("IAM-01")["items"][0]["status"] == "pass"
    assert [(d["from"], d["until"]) for d in policy["deviations"]] == [
        (iso(at(3, 9)), iso(at(4, 16)))
    ]
    assert "minimum length 6" in policy["deviations"][0]["what"]
    assert policy["status"] == "fail"

    # Snapshot public for two days, private at as-of.
    snapshots = period(run, "EBS-01")
    (public,) = snapshots["deviations"]
    assert (public["resource"], public["from"], public["until"]) == (
        snapshot,
        iso(at(5, 8)),
        iso(at(7, 8)),
    )

    # A rule open to the world for one hour, gone by the as-of time: an item of the period only.
    network = period(run, "NET-01")
    (opened,) = network["deviations"]
    assert (opened["resource"], opened["from"], opened["until"]) == (
        "sgr-0123456789abcdef0",
        iso(at(6, 9)),
        iso(at(6, 10)),
    )
    assert "port 22 open to 0.0.0.0/0" in opened["what"]
    assert run.control("NET-01")["status"] == "fail"
    # The auditor's populations: every change with a stable id.
    assert set(network["populations"]) == {
        "AuthorizeSecurityGroupIngress",
        "RevokeSecurityGroupIngress",
    }
    change = network["changes"][0]
    assert change["source_ip"] == "198.51.100.7"
    assert change["request_parameters"]["groupId"] == "sg-0a1b2c3d4e5f60718"

    # The pack keeps the matching events and every log object listed, not the whole logs.
    raw = json.loads((run.pack / f"raw/{ACCOUNT}/eu-west-1/cloudtrail.log_files.json").read_text())
    listed = {
        c["Key"]: (c["ETag"], c["Size"])
        for call in raw["calls"]
        if call["operation"] == "ListObjectsV2"
        for c in call["response"]["Contents"]
    }
    assert set(listed) == {k for k in logs.written if "/eu-west-1/" in k}
    got = [c for c in raw["calls"] if c["operation"] == "GetObject"]
    assert {c["parameters"]["Key"]: c["parameters"]["IfMatch"] for c in got} == {
        key: etag for key, (etag, _) in listed.items()
    }
    assert all(c["response"]["ContentLength"] == listed[c["parameters"]["Key"]][1] for c in got)
    matching = [r for c in got for r in c["response"]["Body"]["matching"]]
    assert {r["eventName"] for r in matching} == {
        "ModifySnapshotAttribute",
        "AuthorizeSecurityGroupIngress",
        "RevokeSecurityGroupIngress",
    }
    assert sum(c["response"]["Body"]["records"] for c in got) >= 20 * len(got)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_day_without_log_files_is_an_error_for_the_period(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    seed_account(aws)
    write_logs(aws, [], skip={("us-east-1", 4)})
    run = run_period(collect, tmp_path, "--only", "LOG-01", "--only", "IAM-01")
    assert run.code == 3, run.err
    for control in ("LOG-01", "IAM-01"):
        assert run.control(control)["items"][0]["status"] == "pass"
        assert run.control(control)["status"] == "error"
        block = period(run, control)
        assert block["status"] == "error"
        day = START + timedelta(days=4)
        assert any(f"no CloudTrail log file for {day:%Y-%m-%d}" in g for g in block["gaps"])


def test_no_changes_and_complete_logs_pass_the_period(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    seed_account(aws)
    write_logs(aws, [])
    run = run_period(collect, tmp_path, "--only", "LOG-01", "--only", "IAM-01")
    assert run.code == 0, run.out + run.err
    trail = period(run, "LOG-01")
    assert trail["status"] == "pass"
    (item,) = trail["items"]
    assert item["in_effect_since_from"] == "GetTrailStatus StartLoggingTime"
    assert item["in_effect_since"] < iso(START)
    policy = period(run, "IAM-01")["items"][0]
    assert policy["in_effect_since"].startswith("before ")


def test_trail_logging_only_since_mid_period(aws: Aws, collect: Any, tmp_path: Path) -> None:
    seed_account(aws)
    started = at(5, 12)
    aws.backend("cloudtrail", "us-east-1").trails[TRAIL].status.started = started.replace(
        tzinfo=None
    )
    write_logs(aws, [])
    run = run_period(collect, tmp_path, "--only", "LOG-01")
    assert run.code == 1
    (deviation,) = period(run, "LOG-01")["deviations"]
    assert (deviation["from"], deviation["until"]) == (iso(START), iso(started))
    assert period(run, "LOG-01")["items"][0]["in_effect_since"] == iso(started)


def test_organisation_trail_prefix(aws: Aws, collect: Any, tmp_path: Path) -> None:
    seed_account(aws)
    aws.client("cloudtrail").update_trail(Name=TRAIL, IsOrganizationTrail=True)
    logs = LogBucket(aws.client("s3"), BUCKET, org_id="o-a1b2c3d4e5")
    changes = [
        record(
            ADMIN,
            at(2, 10),
            "us-east-1",
            "cloudtrail.amazonaws.com",
            "StopLogging",
            {"name": TRAIL},
        ),
        record(
            ADMIN,
            at(3, 10),
            "us-east-1",
            "cloudtrail.amazonaws.com",
            "StartLogging",
            {"name": TRAIL},
        ),
    ]
    write_logs(aws, changes, logs=logs)
    run = run_period(collect, tmp_path, "--only", "LOG-01")
    assert run.code == 1, run.err
    (deviation,) = period(run, "LOG-01")["deviations"]
    assert deviation["from"] == iso(at(2, 10))
    assert all("/o-a1b2c3d4e5/" in k for k in logs.written)


@pytest.mark.parametrize(
    "text",
    [
        "2026-09-30..2026-07-01",
        "2026Q5",
        "last quarter",
        "\uff12\uff10\uff12\uff16Q3",  # full-width digits
        "2026-07-01..2026-09-\u0663\u0660",  # Arabic-Indic digits
        "1900-01-01..2026-09-30",  # 46,000 days
        "2025-01-01..2026-01-02",  # 367 days
    ],
)
def test_bad_period_is_a_usage_error(cli: Any, text: str, tmp_path: Path) -> None:
    run = cli("collect", "--period", text, "--output", str(tmp_path / "out"))
    assert run.code == 2
    assert "--period" in run.err and "Traceback" not in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        # The cover once said "2026-11-15 to 2026-12-31" on 2026-12-01.
        (-16, 30, "after today"),
        (0, 1, "after today"),
        (-800, -500, "more than 732 days ago"),
    ],
)
def test_a_period_not_yet_over_or_too_old_is_a_usage_error(
    aws: Aws, collect: Any, tmp_path: Path, start: int, end: int, message: str
) -> None:
    text = f"{TODAY + timedelta(days=start):%Y-%m-%d}..{TODAY + timedelta(days=end):%Y-%m-%d}"
    run = collect("--period", text, "--only", "IAM-01", "--region", "us-east-1")
    assert run.code == 2, run.err
    assert message in run.err and len(run.err.strip().splitlines()) == 1
    assert run.packs == [] and "Traceback" not in run.err


def test_a_period_ending_today_is_collected(aws: Aws, collect: Any, tmp_path: Path) -> None:
    text = f"{TODAY - timedelta(days=3):%Y-%m-%d}..{TODAY:%Y-%m-%d}"
    run = collect("--period", text, "--only", "IAM-01", "--region", "us-east-1")
    assert run.code in (0, 1), run.err
    assert run.results["run"]["period"]["end"] == f"{TODAY:%Y-%m-%d}"


def test_global_events_region_read_once(aws: Aws, collect: Any, tmp_path: Path) -> None:
    """IAM events and us-east-1's regional events live in the same files: the global variant
    reads them once for every name, us-east-1's own variant reads nothing, and both kinds of
    change are still judged from them."""
    seed_account(aws)
    weak = {**STRONG, "minimumPasswordLength": 6}
    changes = [
        record(
            ADMIN,
            at(2, 10),
            "us-east-1",
            "cloudtrail.amazonaws.com",
            "StopLogging",
            {"name": TRAIL_ARN},
        ),
        record(
            ADMIN,
            at(2, 14),
            "us-east-1",
            "cloudtrail.amazonaws.com",
            "StartLogging",
            {"name": TRAIL_ARN},
        ),
        record(
            ADMIN, at(3, 9), "us-east-1", "iam.amazonaws.com", "UpdateAccountPasswordPolicy", weak
        ),
        record(
            ADMIN,
            at(3, 11),
            "us-east-1",
            "iam.amazonaws.com",
            "UpdateAccountPasswordPolicy",
            STRONG,
        ),
    ]
    logs = write_logs(aws, changes)
    run = run_period(collect, tmp_path, "--only", "LOG-01", "--only", "IAM-01")
    assert run.code == 1, run.err
    read: dict[str, int] = {}
    for path in (run.pack / "raw").rglob("cloudtrail.log_files.json"):
        for call in json.loads(path.read_text())["calls"]:
            if call["operation"] == "GetObject":
                key = call["parameters"]["Key"]
                read[key] = read.get(key, 0) + 1
    assert set(read) == set(logs.written)
    assert set(read.values()) == {1}
    regional = json.loads(
        (run.pack / f"raw/{ACCOUNT}/us-east-1/cloudtrail.log_files.json").read_text()
    )
    assert regional["calls"] == []
    (stopped,) = period(run, "LOG-01")["deviations"]
    assert (stopped["from"], stopped["until"]) == (iso(at(2, 10)), iso(at(2, 14)))
    (weakened,) = period(run, "IAM-01")["deviations"]
    assert (weakened["from"], weakened["until"]) == (iso(at(3, 9)), iso(at(3, 11)))


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("eu-west-1", "us-east-1"),
        ("cn-northwest-1", "cn-north-1"),
        ("us-gov-east-1", "us-gov-west-1"),
    ],
)
def test_global_events_region_follows_the_partition(region: str, expected: str) -> None:
    import boto3

    from evidence.sources.cloudtrail_events import global_events_region

    class Context:
        def client(self, service: str, region_name: str | None = None) -> Any:
            return boto3.client(
                service,  # type: ignore[call-overload]
                region_name=region,
                aws_access_key_id="x",
                aws_secret_access_key="y",
            )

    assert global_events_region(Context()) == expected  # type: ignore[arg-type]
