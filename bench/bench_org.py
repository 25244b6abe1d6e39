"""Organisation-wide collection at scale on a moto server running in its own process.

Run: .venv/bin/python -m bench.bench_org [--users 500] [--snapshots 1000] [--databases 50]
(per account; 3 accounts x 3 regions). Prints wall time, API calls (total and per operation)
against the fewest calls that give correct results on that server, and the tool's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.org_server import ACCOUNTS, REGIONS, spread

CORE = ("IAM-01", "IAM-02", "IAM-03", "IAM-04", "EC2-01", "RDS-01", "RDS-02")


def fewest_calls(users: int, snapshots: int, databases: int) -> dict[str, int]:
    """One call per page of each listing, plus the per-resource calls the API forces: on this
    server every owned snapshot is listed as restorable by all, so each must be confirmed."""
    accounts, scopes = len(ACCOUNTS), len(ACCOUNTS) * len(REGIONS)
    pages = sum(math.ceil(n / 100) or 1 for n in spread(databases)) * accounts
    return {
        "sts:GetCallerIdentity": 1,
        "sts:AssumeRole": accounts - 1,
        "iam:ListAccountAliases": accounts,
        "iam:GetAccountPasswordPolicy": accounts,
        "iam:GetAccountSummary": accounts,
        "iam:GenerateCredentialReport": 2 * accounts,  # this server answers STARTED first
        "iam:GetCredentialReport": accounts,
        "ec2:DescribeSnapshots": scopes,
        "ec2:DescribeSnapshotAttribute": snapshots * accounts,
        "rds:DescribeDBSnapshots": pages,
        "rds:DescribeDBSnapshotAttributes": databases * accounts,
        "rds:DescribeDBClusterSnapshots": scopes,
        "rds:DescribeDBInstances": pages,
        "rds:DescribeDBClusters": scopes,
        # The IPE block: each account's enabled regions, and the DB instance count per region.
        "ec2:DescribeRegions": accounts,
        "rds:DescribeAccountAttributes": scopes,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--snapshots", type=int, default=1000)
    parser.add_argument("--databases", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url_file = Path(tmp) / "url.json"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.org_server",
                str(url_file),
                str(args.users),
                str(args.snapshots),
                str(args.databases),
            ]
        )
        try:
            while not url_file.exists():
                if server.poll() is not None:
                    raise SystemExit("the moto server stopped while seeding")
                time.sleep(0.5)
            time.sleep(0.2)
            seeded = json.loads(url_file.read_text())
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env.update(
                AWS_ENDPOINT_URL=seeded["url"],
                AWS_ACCESS_KEY_ID="bench",
                AWS_SECRET_ACCESS_KEY="bench",
                AWS_DEFAULT_REGION="us-east-1",
                AWS_EC2_METADATA_DISABLED="true",
            )
            command = [
                sys.executable,
                "-m",
                "evidence",
                "collect",
                "--quiet",
                "--output",
                str(Path(tmp) / "output"),
                "--accounts",
                ",".join(ACCOUNTS),
                *(a for r in REGIONS for a in ("--region", r)),
                *(a for c in CORE for a in ("--only", c)),
            ]
            start = time.perf_counter()
            tool = subprocess.run(command, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        finally:
            server.kill()
            server.wait()
        if tool.returncode not in (0, 1):
            raise SystemExit(f"collect failed ({tool.returncode}): {tool.stderr}")
        (pack,) = (Path(tmp) / "output").iterdir()
        results = json.loads((pack / "results.json").read_text())
    calls = results["run"]["calls_per_operation"]
    fewest = fewest_calls(args.users, args.snapshots, args.databases)
    print(
        f"seeded: {len(ACCOUNTS)} accounts x {len(REGIONS)} regions,"
        f" {args.users * 3} users, {args.snapshots * 3} EBS snapshots,"
        f" {args.databases * 3} RDS instances and DB snapshots (seeding {seeded['seconds']:.0f} s)"
    )
    print(f"collect (with xlsx and pdf): {seconds:.1f} s wall, peak RSS {peak_mb:.0f} MB")
    print(f"{'operation':42} {'calls':>7} {'fewest':>7}")
    for operation in sorted(set(calls) | set(fewest)):
        print(f"{operation:42} {calls.get(operation, 0):>7} {fewest.get(operation, 0):>7}")
    total, least = sum(calls.values()), sum(fewest.values())
    print(f"{'total':42} {total:>7} {least:>7}   ratio {total / least:.3f}")
    population = {c["id"]: c["population"] for c in results["controls"]}
    print("populations:", ", ".join(f"{k} {v}" for k, v in population.items()))


if __name__ == "__main__":
    main()
