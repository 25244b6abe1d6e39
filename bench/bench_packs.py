"""Commands across and beside packs at scale: diff, bundle (+ verify of the zip) and the OSCAL
export of two sealed packs holding a 100,000-item population.

Run: .venv/bin/python -m bench.bench_packs [--rows N]
Prints seconds per command, output sizes and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import copy
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bench_workbook import synthetic, synthetic_pack
from evidence.audit.bundle import verify_bundle, write_bundle
from evidence.audit.diff import diff_pack_dirs
from evidence.audit.oscal import write_oscal
from evidence.model import item_id
from evidence.pack.builder import PackBuilder
from evidence.pack.runinfo import RUN_FILE, RunInfo


def sealed(output: Path, document: dict[str, Any], name: str, run: RunInfo) -> Path:
    with PackBuilder(output) as pack:
        synthetic_pack(pack, run)
        pack.write_json(RUN_FILE, run.to_json())
        pack.write_json("results.json", document)
        return pack.seal(name, document["run"]["as_of"])


def timed(label: str, action: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - start:.1f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    old, run = synthetic(rows)
    control = old["controls"][0]
    for item in control["items"]:
        item["id"] = item_id(
            "ec2.snapshot_public", item["account"], item["region"], item["resource"]
        )
    old["run"]["as_of"] = old["run"]["finished"]
    old["run"]["controls_sha256"] = run.controls_sha256
    new = copy.deepcopy(old)
    new["run"]["pack"] = "bench-2"
    items = new["controls"][0]["items"]
    for item in items[1::100]:  # 1% newly failing
        item["status"] = "fail"
    del items[2::500]  # 0.2% deleted
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp)
        first = sealed(output, old, "bench-1", run)
        second = sealed(output, new, "bench-2", run)
        diff = timed("diff (verify both, compare)", lambda: diff_pack_dirs(first, second))
        changes = sum(len(c.changes) for c in diff.controls)
        bundle = timed("bundle (verify, zip)", lambda: write_bundle(second))
        timed("verify the zip", lambda: verify_bundle(bundle.path))
        oscal = timed(
            "export --oscal (verify, build, validate, write)", lambda: write_oscal(second, output)
        )
        results_mb = (second / "results.json").stat().st_size / 1e6
        print(
            f"rows={rows} changes={changes} results_json_mb={results_mb:.0f}"
            f" zip_mb={bundle.path.stat().st_size / 1e6:.1f}"
            f" oscal_mb={oscal.stat().st_size / 1e6:.0f}"
            f" peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
        )


if __name__ == "__main__":
    main()
