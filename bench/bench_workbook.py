"""Workbook at scale: a 100,000-item population written in write-only mode.

Run: .venv/bin/python -m bench.bench_workbook [--rows N]
Prints rows, seconds, rows per second and the process's peak RSS (the results document is held
in memory as it is during a real run, so it counts).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from evidence.exporters.xlsx import write_workbook
from evidence.model import item_id
from evidence.pack.builder import PackBuilder
from evidence.pack.raw import RawCall, RawSource, raw_path
from evidence.pack.runinfo import AccountRun, RunInfo

ACCOUNT = "123456789012"


def synthetic(rows: int) -> tuple[dict[str, Any], RunInfo]:
    run = RunInfo(
        "bench",
        ACCOUNT,
        "Bench Corp",
        f"arn:aws:iam::{ACCOUNT}:user/bench",
        "2026-11-22T00:00:00Z",
        "2026-11-22T00:10:00Z",
        (AccountRun(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/bench"),),
        ("us-east-1",),
        "controls.yaml",
        "0" * 64,
        ("EC2-01",),
        {"ec2:DescribeSnapshots": 100},
    )
    items = [
        {
            "id": item_id("ec2.snapshot_public", ACCOUNT, "us-east-1", f"snap-{n:017x}"),
            "account": ACCOUNT,
            "region": "us-east-1",
            "resource": f"snap-{n:017x}",
            "arn": f"arn:aws:ec2:us-east-1::snapshot/snap-{n:017x}",
            "status": "fail" if n % 50 == 0 else "pass",
            "detail": "public: any AWS account can create a volume from it"
            if n % 50 == 0
            else "private",
            "attributes": {
                "volume_id": f"vol-{n:017x}",
                "start_time": "2026-10-01T12:00:00Z",
                "encrypted": n % 3 == 0,
                "description": f"nightly backup {n}",
                "shared_with": [],
                "attribute_checked": True,
            },
        }
        for n in range(rows)
    ]
    control = {
        "id": "EC2-01",
        "title": "EBS snapshots are private",
        "description": "bench",
        "check": "ec2.snapshot_public",
        "criteria": ["CC6.1"],
        "references": {},
        "params": {},
        "procedure": "bench",
        "status": "fail",
        "population": rows,
        "items": items,
        "failing": [i for i in items if i["status"] == "fail"],
        "errors": [],
        "notes": [],
        "evidence": [
            {
                "path": raw_path("ec2.snapshots", ACCOUNT, "us-east-1"),
                "sha256": "0" * 64,
                "collected": "x",
                "source_time": None,
            }
        ],
    }
    document = {
        "schema_version": 1,
        "summary": {"fail": 1},
        "run": {
            **run.to_json(),
            "tool": "soc-evidence",
            "pack": "bench",
            "evaluated_at": "2026-11-22T00:10:00Z",
            "accounts": [{**a.to_json(), "alias": None} for a in run.accounts],
        },
        "controls": [control],
    }
    return document, run


def synthetic_pack(pack: PackBuilder, run: RunInfo) -> None:
    """The files an exporter reads besides the document: a raw file, results.json, controls."""
    call = RawCall(
        1,
        run.started,
        "ec2",
        "DescribeSnapshots",
        "us-east-1",
        {"OwnerIds": ["self"]},
        "r",
        200,
        0,
        None,
        {"Snapshots": []},
    )
    raw = RawSource(
        "ec2.snapshots", ACCOUNT, "us-east-1", run.caller_arn, run.started, run.finished, (call,)
    )
    pack.write_json(raw_path("ec2.snapshots", ACCOUNT, "us-east-1"), raw.to_json())
    pack.write_json("results.json", {"bench": True})
    pack.write_bytes("controls.yaml", b"bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    document, run = synthetic(rows)
    with tempfile.TemporaryDirectory() as tmp, PackBuilder(Path(tmp)) as pack:
        synthetic_pack(pack, run)
        start = time.perf_counter()
        name = write_workbook(pack, document, run)
        seconds = time.perf_counter() - start
        size = (pack.dir / name).stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"rows={rows} seconds={seconds:.1f} rows_per_second={rows / seconds:,.0f} "
        f"file_mb={size / 1e6:.1f} peak_rss_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
