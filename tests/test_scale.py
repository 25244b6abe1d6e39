"""Per-resource calls fan out within the account and region's in-flight budget: measured at the
fault proxy (calls in flight per account key and region, with real-AWS-like latency added),
recorded in their source's raw file in name order whatever order they were answered in."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from evidence.collect.clients import AccountClients, AwsSettings, StaticCredentials, make_session
from evidence.collect.per_resource import each_resource
from evidence.collect.recorder import Recorder
from evidence.collect.scheduler import InFlight
from tests.conftest import ACCOUNT, Aws
from tests.test_org import snapshots

DELAY_MS = 40  # every request held this long: overlapping calls are then in flight together


def raw_file(pack: Path, source: str, region: str, account: str = ACCOUNT) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (pack / "raw" / account / region / f"{source}.json").read_text()
    )
    return document


def test_per_resource_calls_fill_the_in_flight_budget_and_no_more(aws: Aws, collect: Any) -> None:
    snapshots(aws, "us-east-1", 12, public=2)
    aws.proxy.delay_ms = DELAY_MS
    # One regional source: without the fan-out its calls are made one at a time.
    three = collect("--only", "EC2-01", "--region", "us-east-1", "--max-in-flight", "3")
    assert three.code == 1
    assert aws.proxy.peak_in_flight[("testing", "us-east-1")] == 3
    aws.proxy.reset()
    aws.proxy.delay_ms = DELAY_MS
    two = collect("--only", "EC2-01", "--region", "us-east-1", "--max-in-flight", "2")
    assert aws.proxy.peak_in_flight[("testing", "us-east-1")] == 2
    for run in (three, two):
        raw = raw_file(run.pack, "ec2.snapshots", "us-east-1")
        asked = [
            c["parameters"]["SnapshotId"]
            for c in raw["calls"]
            if c["operation"] == "DescribeSnapshotAttribute"
        ]
        assert len(asked) == 12 and asked == sorted(asked)
        assert raw["complete"] and raw["resource_failures"] == []
        assert len(run.control("EC2-01")["failing"]) == 2


def test_sources_of_one_account_and_region_share_one_budget(aws: Aws, collect: Any) -> None:
    s3 = aws.client("s3")
    for n in range(8):
        s3.create_bucket(Bucket=f"scale-bucket-{n:02d}")
    aws.proxy.delay_ms = DELAY_MS
    # Six sources ask every bucket a question, IAM's sources run beside them: all global.
    run = collect(
        *("--only", "LOG-02", "--only", "ENC-03", "--only", "TLS-01", "--only", "S3-01"),
        *("--only", "IAM-01", "--only", "IAM-03", "--max-in-flight", "3", "--max-workers", "16"),
    )
    assert run.code in (1, 3)
    assert aws.proxy.peak_in_flight[("testing", "global")] == 3
    raw = raw_file(run.pack, "s3.bucket_policy", "global")
    asked = [c["parameters"]["Bucket"] for c in raw["calls"] if c["operation"] == "GetBucketPolicy"]
    assert asked == [f"scale-bucket-{n:02d}" for n in range(8)]


def test_one_resource_that_fails_under_fan_out_is_its_own_error(aws: Aws, collect: Any) -> None:
    snapshots(aws, "us-east-1", 9)
    victim = sorted(
        s["SnapshotId"]
        for s in aws.client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]
    )[4]
    aws.proxy.delay_ms = DELAY_MS
    aws.proxy.fail("DescribeSnapshotAttribute", "UnauthorizedOperation", body_contains=victim)
    run = collect("--only", "EC2-01", "--region", "us-east-1")
    raw = raw_file(run.pack, "ec2.snapshots", "us-east-1")
    assert [f["resource"] for f in raw["resource_failures"]] == [victim]
    assert raw["resource_failures"][0]["code"] == "UnauthorizedOperation"
    asked = [
        c["parameters"]["SnapshotId"]
        for c in raw["calls"]
        if c["operation"] == "DescribeSnapshotAttribute"
    ]
    assert len(asked) == 9 and asked == sorted(asked)
    items = run.control("EC2-01")["items"]
    assert {i["resource"] for i in items if i["status"] == "error"} == {victim}
    assert sum(i["status"] == "pass" for i in items) == 8


def test_credentials_that_stop_working_end_the_source_with_its_calls_recorded(
    aws: Aws, collect: Any
) -> None:
    snapshots(aws, "us-east-1", 9)
    aws.proxy.fail("DescribeSnapshotAttribute", "ExpiredToken", times=1)
    run = collect("--only", "EC2-01", "--region", "us-east-1")
    assert run.code == 3
    raw = raw_file(run.pack, "ec2.snapshots", "us-east-1")
    assert raw["failure"]["code"] == "ExpiredToken"
    failed = [c for c in raw["calls"] if c["error"] and c["error"]["code"] == "ExpiredToken"]
    assert len(failed) == 1 and raw["resource_failures"] == []


@pytest.fixture
def clients(aws: Aws) -> AccountClients:
    settings = AwsSettings(
        region="us-east-1",
        endpoint_url=aws.proxy.url,
        credentials=StaticCredentials("testing", "testing"),
        max_attempts=2,
    )
    return AccountClients(make_session(settings), settings, Recorder(), "us-east-1")


def test_calls_are_recorded_in_name_order_however_they_are_answered(
    aws: Aws, clients: AccountClients
) -> None:
    for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
        aws.client("iam").create_user(UserName=name)
    iam = clients.client("iam", "us-east-1")
    delays = {"alice": 0.25, "bob": 0.2, "carol": 0.15, "dave": 0.1, "erin": 0.05, "frank": 0.0}
    answered: list[str] = []
    lock = threading.Lock()

    def get_user(name: str) -> str:
        time.sleep(delays[name])  # the first name is answered last
        user = str(iam.get_user(UserName=name)["User"]["UserName"])
        with lock:
            answered.append(user)
        return user

    budget = InFlight(6)
    recorder = clients.recorder
    with budget, recorder.recording("iam.users", ACCOUNT, "global", "caller") as recording:
        answers = each_resource(recorder, "user", {n: n for n in delays}, get_user, budget)
    assert answered != sorted(answered)  # they did overlap and finish out of order
    assert list(answers) == sorted(delays) and answers["carol"] == "carol"
    assert [c.parameters["UserName"] for c in recording.calls] == sorted(delays)
    assert [c.operation for c in recording.calls] == ["GetUser"] * 6


def test_a_helper_waits_for_a_slot_another_source_holds(aws: Aws, clients: AccountClients) -> None:
    aws.client("iam").create_user(UserName="someone")
    iam = clients.client("iam", "us-east-1")
    budget = InFlight(2)
    lock = threading.Lock()
    state = {"at_once": 0, "most_while_held": 0, "most": 0, "held": 0}
    taken, done = threading.Event(), threading.Event()

    def other_source() -> None:  # holds the budget's second slot for a while
        with budget:
            state["held"] = 1
            taken.set()
            time.sleep(0.4)
            state["held"] = 0
        done.set()

    def get_user(index: int) -> None:
        with lock:
            state["at_once"] += 1
            state["most"] = max(state["most"], state["at_once"])
            if state["held"]:
                state["most_while_held"] = max(state["most_while_held"], state["at_once"])
        time.sleep(0.05)
        iam.get_user(UserName="someone")
        with lock:
            state["at_once"] -= 1

    recorder = clients.recorder
    other = threading.Thread(target=other_source)
    with budget, recorder.recording("iam.users", ACCOUNT, "global", "caller") as recording:
        other.start()
        taken.wait()
        each_resource(recorder, "user", {f"u{n:02d}": n for n in range(16)}, get_user, budget)
    other.join()
    assert done.is_set()
    assert state["most_while_held"] == 1  # the helper waited for the other source's slot
    assert state["most"] == 2  # and took it once it was free
    assert len(recording.calls) == 16


def test_a_bug_in_a_per_resource_call_is_raised_not_recorded_as_a_failure(
    aws: Aws, clients: AccountClients
) -> None:
    recorder = clients.recorder

    def broken(name: str) -> None:
        if name == "b":
            raise KeyError("a bug")
        clients.client("iam", "us-east-1").list_users()

    budget = InFlight(3)
    with (
        budget,
        recorder.recording("iam.users", ACCOUNT, "global", "caller") as recording,
        pytest.raises(KeyError),
    ):
        each_resource(recorder, "user", {"a": "a", "b": "b", "c": "c"}, broken, budget)
    assert recording.resource_failures == []
    assert recording.calls and all(c.operation == "ListUsers" for c in recording.calls)


def test_a_resource_error_without_budget_is_recorded_one_after_another(
    aws: Aws, clients: AccountClients
) -> None:
    iam = clients.client("iam", "us-east-1")
    aws.client("iam").create_user(UserName="real")
    recorder = clients.recorder
    with recorder.recording("iam.users", ACCOUNT, "global", "caller") as recording:
        found = each_resource(
            recorder, "user", {"real": "real", "gone": "gone"}, lambda n: iam.get_user(UserName=n)
        )
    assert list(found) == ["real"]
    assert [(f.resource, f.code) for f in recording.resource_failures] == [("gone", "NoSuchEntity")]
    assert [c.parameters["UserName"] for c in recording.calls] == ["gone", "real"]


def test_json_is_streamed_into_the_pack_byte_for_byte_as_before(tmp_path: Path) -> None:
    from evidence.pack.builder import PackBuilder
    from evidence.pack.raw import json_bytes

    document: dict[str, Any] = {
        "controls": [
            {"id": f"C-{n}", "items": [{"resource": f"bücket-{n}-{m}", "ok": m % 2 == 0}]}
            for n in range(3000)
            for m in range(2)
        ],
        "nothing": None,
        "empty": {},
    }
    with PackBuilder(tmp_path / "out") as pack:
        pack.write_json("results.json", document)
        written = (pack.dir / "results.json").read_bytes()
    assert len(written) > 4 * (1 << 16)  # several chunks
    assert written == json_bytes(document)


def test_trail_log_days_and_objects_fan_out_and_fail_one_by_one(
    aws: Aws, collect: Any, tmp_path: Path
) -> None:
    from tests.test_period_s3 import START, period, run_period, seed_account, write_logs

    seed_account(aws)
    logs = write_logs(aws, [])
    east = sorted(k for k in logs.written if "/us-east-1/" in k)
    unreadable = east[9]  # one object of day 2
    unlisted = START + timedelta(days=5)
    day_prefix = f"CloudTrail/us-east-1/{unlisted:%Y/%m/%d}/"
    aws.proxy.delay_ms = DELAY_MS
    aws.proxy.fail("GetObject", "AccessDenied", status=403, path_contains=unreadable)
    aws.proxy.fail(
        "ListObjectsV2", "AccessDenied", status=403, path_contains=quote(day_prefix, safe="")
    )
    run = run_period(collect, tmp_path, "--only", "LOG-01")
    raw = raw_file(run.pack, "cloudtrail.log_files", "us-east-1")
    assert raw["complete"]  # the source went on past both
    failed = raw["resource_failures"]
    assert [(f["kind"], f["code"]) for f in raw["resource_failures"]] == [
        ("log_day", "AccessDenied"),
        ("log_file", "AccessDenied"),
    ], failed
    assert raw["resource_failures"][1]["resource"] == unreadable
    read = [c["parameters"]["Key"] for c in raw["calls"] if c["operation"] == "GetObject"]
    assert read == sorted(read) and unreadable in read
    unlisted_keys = {k for k in east if day_prefix in k}
    assert len(read) == len(east) - len(unlisted_keys)  # every listed object, in key order
    gaps = " ".join(period(run, "LOG-01")["gaps"])
    assert f"could not read s3://audit-trail-logs/{unreadable}: AccessDenied" in gaps
    assert "could not list" in gaps and day_prefix in gaps
    # GETs overlapped within each region's budget of 3 (the proxy counts both regions' S3 calls
    # together, as global: without the fan-out they would be 2 at most).
    assert 3 <= aws.proxy.peak_in_flight[("testing", "global")] <= 6


def test_a_task_waits_for_its_slot_in_a_queue_not_in_a_worker() -> None:
    """An organisation's sources arrive account by account: tasks of a full account and region
    must not take every worker while other accounts have free slots."""
    from concurrent.futures import wait

    from evidence.collect.scheduler import Scheduler

    scheduler = Scheduler(max_workers=3, max_in_flight=1)
    release = threading.Event()
    ran: list[str] = []

    def busy(budget: InFlight, name: str) -> None:
        ran.append(name)
        release.wait(10)

    def quick(budget: InFlight, name: str) -> None:
        ran.append(name)

    first = [scheduler.submit_in_slot("111111111111", "us-east-1", busy, f"a{n}") for n in range(4)]
    other = scheduler.submit_in_slot("222222222222", "us-east-1", quick, "b")
    wait([other], timeout=5)
    assert other.done() and ran == ["a0", "b"]  # before: three workers waited for a0's slot
    later = scheduler.submit_in_slot("222222222222", "us-east-1", quick, "after", after=first)
    assert not later.done()
    release.set()
    scheduler.wait_all()
    assert ran == ["a0", "b", "a1", "a2", "a3", "after"]
