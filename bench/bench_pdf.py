"""PDF at scale: a control with 10,000 failing items.

Run: .venv/bin/python -m bench.bench_pdf [--failing N]
Prints pages, wall and CPU seconds (the CPU figure holds on a busy machine) and the process's
peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from pypdf import PdfReader

from bench.bench_workbook import synthetic, synthetic_pack
from evidence.exporters.pdf import write_pdf
from evidence.pack.builder import PackBuilder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--failing", type=int, default=10_000)
    failing = parser.parse_args().failing
    document, run = synthetic(failing)
    control = document["controls"][0]
    for item in control["items"]:
        item["status"] = "fail"
        item["detail"] = "public: any AWS account can create a volume from it"
    control["failing"] = control["items"]
    with tempfile.TemporaryDirectory() as tmp, PackBuilder(Path(tmp)) as pack:
        synthetic_pack(pack, run, document)
        start, cpu = time.perf_counter(), time.process_time()
        name = write_pdf(pack, document, run)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        pages = len(PdfReader(pack.dir / name).pages)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"failing_items={failing} pages={pages} seconds={seconds:.1f} cpu_seconds={cpu:.1f}"
        f" peak_rss_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
