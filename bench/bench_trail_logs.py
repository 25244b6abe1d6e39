"""Reading a trail's S3 log files for a period, on a moto server in its own process.

Run: .venv/bin/python -m bench.bench_trail_logs [--days 30] [--files-per-day 24] [--events 1000]
The server process writes days x files x events CloudTrail records (AWS's record format: mostly
assumed-role sessions with their session context, many principals, times spread over each file's
hour; about 1.4 KB each, 13:1 in gzip as real log files) into the trail's bucket with a few
hundred change events among them. This process then measures three things, in this order:

1. the real `cloudtrail.log_files` source (recorded clients, streaming reader, fan-out within
   --max-in-flight): events/s, MB/s, its CPU and its peak RSS (measured here, before 2 and 3);
2. the emulator alone: the same objects fetched by a bare boto3 client (no recorder, no reading)
   at the same concurrency: what moto costs to serve them, which is not the reader's cost;
3. the reader alone: one day's objects, already in memory, through the same matcher on one core.

The seeding happens in the server's process, so it does not count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "bench-trail-logs"
AGENTS = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2023 prompt/off",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8",
    "aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.150.0",
    "terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0",
)
CHANGES = (
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
    ("ec2.amazonaws.com", "RevokeSecurityGroupIngress"),
    ("cloudtrail.amazonaws.com", "StopLogging"),
    ("cloudtrail.amazonaws.com", "StartLogging"),
    ("ec2.amazonaws.com", "ModifySnapshotAttribute"),
)


def serve(url_file: Path, days: int, files: int, events: int, matching: int) -> None:
    """The server process: moto, the bucket, the log files; then wait to be stopped."""
    import logging

    from moto.backends import get_backend
    from moto.server import ThreadedMotoServer

    from evidence.demo.trail_logs import LogBucket, record

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    s3 = get_backend("s3")[ACCOUNT]["global"]
    s3.create_bucket(BUCKET, REGION)

    class Writer:
        def put_object(self, Bucket: str, Key: str, Body: bytes) -> None:
            s3.put_object(Bucket, Key, Body)

    logs = LogBucket(Writer(), BUCKET)
    actors = _principals(random.Random(3))
    actor = actors[0]
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=days)
    rng = random.Random(7)
    total = days * files
    chosen = {rng.randrange(total) for _ in range(matching)}
    written = 0
    span = timedelta(hours=24) / files
    for index in range(total):
        delivered = start + timedelta(hours=24 * (index // files) + 24 * (index % files) / files)
        records = [_noise(rng.choice(actors), delivered, span, rng) for _ in range(events)]
        if index in chosen:
            source, name = CHANGES[index % len(CHANGES)]
            records[rng.randrange(events)] = record(
                actor, delivered, REGION, source, name, {"name": "main", "groupId": "sg-1"}
            )
            written += 1
        logs.write(ACCOUNT, REGION, delivered, records)
    url_file.write_text(
        json.dumps(
            {"url": f"http://{host}:{port}", "start": start.isoformat(), "matching": written}
        )
    )
    time.sleep(3600)


def _principals(rng: random.Random) -> list[Any]:
    """Forty sessions of five roles (SSO, CI, workloads), each from its own address and agent."""
    from evidence.demo.trail_logs import Actor

    roles = (
        "AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b",
        "OrganizationAccountAccessRole",
        "ci-deploy",
        "eks-node-group-prod",
        "lambda-orders-exec",
    )
    return [
        Actor(
            f"arn:aws:sts::{ACCOUNT}:assumed-role/{rng.choice(roles)}/session-{i:04d}",
            ACCOUNT,
            f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            rng.choice(AGENTS),
        )
        for i in range(40)
    ]


def _noise(actor: Any, delivered: datetime, span: timedelta, rng: random.Random) -> dict[str, Any]:
    """A read-only record as an assumed-role session writes it, at a time within the file's span."""
    from evidence.demo.trail_logs import noise

    entry = noise(actor, delivered + span * rng.random(), REGION, rng.randrange(1 << 30))
    identity = entry["userIdentity"]
    role = actor.arn.split("/")[1]
    identity["sessionContext"] = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": identity["principalId"],
            "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
            "accountId": ACCOUNT,
            "userName": role,
        },
        "webIdFederationData": {},
        "attributes": {"creationDate": entry["eventTime"], "mfaAuthenticated": "false"},
    }
    return entry


def measure(url: str, start: datetime, max_in_flight: int) -> dict[str, Any]:
    """The tool's side: the real source, recorded clients, streaming reader."""
    from evidence.catalog.loader import load_catalog
    from evidence.collect.clients import (
        AccountClients,
        AwsSettings,
        StaticCredentials,
        make_session,
    )
    from evidence.collect.period_sources import change_events
    from evidence.collect.recorder import Recorder
    from evidence.collect.runner import run_source
    from evidence.collect.scheduler import InFlight
    from evidence.sources.base import Scope
    from evidence.sources.cloudtrail import Trail
    from evidence.sources.cloudtrail_events import log_files_source, names_for
    from evidence.sources.cloudtrail_selectors import ManagementCoverage

    names = names_for(Scope.REGIONAL, change_events(load_catalog(Path("controls.yaml"))))
    settings = AwsSettings(
        region=REGION, endpoint_url=url, credentials=StaticCredentials("bench", "bench")
    )
    recorder = Recorder()
    clients = AccountClients(make_session(settings), settings, recorder, REGION)
    trail = Trail(
        f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main",
        "main",
        REGION,
        True,
        False,
        True,
        BUCKET,
        None,
        None,
        True,
        ManagementCoverage(True, True),
    )
    # As the scheduler runs it: holding one of the account and region's slots, the objects
    # read within the rest of that budget.
    budget = InFlight(max_in_flight)
    context = clients.context(ACCOUNT, REGION, lambda source, account, region: (trail,), budget)
    source = log_files_source(Scope.REGIONAL, names, start)
    began, started, cpu = time.perf_counter(), datetime.now(UTC), time.process_time()
    with budget:
        raw = run_source(source, context, recorder, "bench")
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu
    assert raw.failure is None, raw.failure
    reads = [c for c in raw.calls if c.operation == "GetObject"]
    records = sum(c.response["Body"]["records"] for c in reads if c.response)
    matched = sum(len(c.response["Body"]["matching"]) for c in reads if c.response)
    compressed = sum(int(c.response["ContentLength"]) for c in reads if c.response)
    last_listing = max(
        datetime.fromisoformat(c.time.replace("Z", "+00:00"))
        for c in raw.calls
        if c.operation == "ListObjectsV2"
    )
    return {
        "listing": (last_listing - started).total_seconds(),
        "cpu": cpu,
        "seconds": seconds,
        "objects": len(reads),
        "keys": [str(c.parameters["Key"]) for c in reads],
        "events": records,
        "matching": matched,
        "compressed_bytes": compressed,
        "calls": len(raw.calls),
        "names": names,
    }


def emulator_alone(url: str, keys: list[str], max_in_flight: int) -> tuple[float, list[bytes]]:
    """Seconds for a bare boto3 client (no recorder, no reading) to fetch every object at the
    same concurrency: the emulator's cost. Also returns the first day's bodies, for the reader."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(max_pool_connections=max_in_flight),
    )
    day_folder = keys[0].rsplit("/", 1)[0] + "/"
    first_day = {key for key in keys if key.startswith(day_folder)}

    def get(key: str) -> bytes | None:
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        return body if key in first_day else None

    began = time.perf_counter()
    with ThreadPoolExecutor(max_in_flight) as pool:
        bodies = [b for b in pool.map(get, keys) if b is not None]
    return time.perf_counter() - began, bodies


def reader_alone(bodies: list[bytes], names: Any, repeat: int = 5) -> float:
    """CPU seconds per object for the matcher alone (gunzip, match, keep), on one core."""
    import io

    from evidence.sources.cloudtrail_events import RecordMatcher

    matcher = RecordMatcher(names)
    began = time.process_time()
    for _ in range(repeat):
        for body in bodies:
            matcher.read(io.BytesIO(body))
    return (time.process_time() - began) / (repeat * len(bodies))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--files-per-day", type=int, default=24)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--matching", type=int, default=300)
    parser.add_argument("--max-in-flight", type=int, default=3, help="as collect's option")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.days, args.files_per_day, args.events, args.matching)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url_file = Path(tmp) / "url.json"
        command = [sys.executable, "-m", "bench.bench_trail_logs", "--serve", str(url_file)]
        command += ["--days", str(args.days), "--files-per-day", str(args.files_per_day)]
        command += ["--events", str(args.events), "--matching", str(args.matching)]
        env = {**os.environ, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}
        server = subprocess.Popen(command, env=env)
        try:
            seeded = time.perf_counter()
            while not url_file.exists() or not url_file.read_text():
                if server.poll() is not None:
                    raise SystemExit("the server process ended")
                time.sleep(0.5)
            info = json.loads(url_file.read_text())
            took = time.perf_counter() - seeded
            print(f"seeded {args.days * args.files_per_day} files in {took:.0f} s")
            result = measure(info["url"], datetime.fromisoformat(info["start"]), args.max_in_flight)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            served, bodies = emulator_alone(info["url"], result["keys"], args.max_in_flight)
        finally:
            server.terminate()
            server.wait()
    per_object = reader_alone(bodies, result["names"])
    seconds, events, objects = result["seconds"], result["events"], result["objects"]
    megabytes = result["compressed_bytes"] / 1e6
    print(
        f"read {objects} log files, {events:,} events ({megabytes:.1f} MB gzip) in"
        f" {seconds:.1f} s: {events / seconds:,.0f} events/s, {megabytes / seconds:.1f} MB/s"
        f" (gzip), {result['calls']} API calls; matching events kept: {result['matching']}"
        f" (seeded {info['matching']})"
    )
    reading = seconds - result["listing"]
    print(
        f"  {result['listing']:.1f} s until every day was listed (clients, listings, the"
        f" emulator's first S3 request), then {reading:.1f} s reading the objects:"
        f" {events / reading:,.0f} events/s"
    )
    print(
        f"  the reader process's CPU: {result['cpu']:.1f} s"
        f" ({1000 * result['cpu'] / objects:.1f} ms per object: requests, gunzip, match,"
        f" recording): {events / result['cpu']:,.0f} events per CPU second"
    )
    print(
        f"emulator alone (bare GetObject, {args.max_in_flight} at once, nothing read):"
        f" {served:.1f} s, {events / served:,.0f} events/s, {megabytes / served:.1f} MB/s"
    )
    print(
        f"reader alone (one core, objects in memory: gunzip, match, keep):"
        f" {1000 * per_object:.2f} ms per object,"
        f" {events / objects / per_object:,.0f} events/s,"
        f" {megabytes / objects / per_object:.1f} MB/s (gzip)"
    )
    print(f"peak RSS of the reader process (during 1): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
