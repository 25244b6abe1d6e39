"""Reading a trail's S3 log files for a period, on a moto server in its own process.

Run: .venv/bin/python -m bench.bench_trail_logs [--days 30] [--files-per-day 24] [--events 1000]
The server process writes days x files x events CloudTrail records (AWS's record format, about
1.3 KB each, gzip) into the trail's bucket with a few hundred change events among them; this
process then runs the real `cloudtrail.log_files` source (recorded clients, streaming reader)
for the catalogue's regional change events and prints events/s, MB/s and its own peak RSS
(the seeding happens in the server's process, so it does not count).
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

    from evidence.demo.trail_logs import Actor, LogBucket, noise, record

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
    actor = Actor(f"arn:aws:iam::{ACCOUNT}:user/ops", ACCOUNT)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=days)
    rng = random.Random(7)
    total = days * files
    chosen = {rng.randrange(total) for _ in range(matching)}
    written = 0
    for index in range(total):
        delivered = start + timedelta(hours=24 * (index // files) + 24 * (index % files) / files)
        records = [noise(actor, delivered, REGION, i) for i in range(events)]
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
        "events": records,
        "matching": matched,
        "compressed_bytes": compressed,
        "calls": len(raw.calls),
    }


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
        finally:
            server.terminate()
            server.wait()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = result["seconds"]
    print(
        f"read {result['objects']} log files, {result['events']:,} events"
        f" ({result['compressed_bytes'] / 1e6:.1f} MB gzip) in {seconds:.1f} s:"
        f" {result['events'] / seconds:,.0f} events/s,"
        f" {result['compressed_bytes'] / 1e6 / seconds:.1f} MB/s (gzip),"
        f" {result['calls']} API calls"
    )
    reading = seconds - result["listing"]
    print(
        f"of which {result['listing']:.1f} s until every day was listed (clients, the listings,"
        f" the emulator's first S3 request: fixed costs that dominate a short period), then"
        f" {reading:.1f} s reading the objects: {result['events'] / reading:,.0f} events/s"
    )
    print(
        f"the reader's own CPU: {result['cpu']:.1f} s"
        f" ({1000 * result['cpu'] / result['objects']:.1f}"
        " ms per object: request, gunzip, search, recording); the rest is the emulator"
    )
    print(f"matching events kept: {result['matching']} (seeded {info['matching']})")
    print(f"peak RSS of the reader: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
