"""Sampling at scale: a sealed pack whose control has N items (default 100,000).

Run: .venv/bin/python -m bench.bench_sample [--items N] [--size N]
Prints the seconds to verify the pack, draw the sample and write its sealed folder (CSV, xlsx
with the whole population, JSON), and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.bench_workbook import synthetic
from evidence.audit.sample import SampleRequest, draw_sample
from evidence.audit.sample_files import write_sample_folder
from evidence.pack.builder import PackBuilder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=25)
    args = parser.parse_args()
    document, run = synthetic(args.items)
    with tempfile.TemporaryDirectory() as tmp:
        with PackBuilder(Path(tmp)) as pack:
            pack.write_json("results.json", document)
            sealed = pack.seal("bench-pack", run.finished)
        del document
        start = time.perf_counter()
        request = SampleRequest(sealed, "EC2-01", "2026", size=args.size)
        sample = draw_sample(request, datetime.now(UTC))
        drawn = time.perf_counter() - start
        write_sample_folder(sample, Path(tmp))
        seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"items={args.items} size={args.size} draw_seconds={drawn:.2f} "
        f"total_seconds={seconds:.1f} peak_rss_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
