"""An organisation at real AWS latency: how wall time, calls and memory grow with its size.

Run: .venv/bin/python -m bench.bench_scale [--accounts 200] [--delay-ms 50] [--max-workers N]
A moto server in its own process is seeded with an AWS Organization of ACCOUNTS member accounts
in two regions (bench/scale_server.py says what each holds); the fault-injecting proxy of the
tests (tests/faultproxy.py), in a process of its own, holds every request DELAY_MS before
answering, as AWS would. Then, in a third process, `collect --organization --region us-east-1
--region eu-west-1` with the workbook and the PDF, for every control of the shipped catalogue
except the two moto cannot serve over HTTP (S3-01's account-level Block Public Access and
CAP-01's Trusted Advisor: see README's testing section). The sealed pack is then re-exported
(`export`, timed per exporter) in a fourth process.

Prints wall time, API calls, calls per second, the ideal wall (every call's latency spread over
the calls that may be in flight at once: accounts x regions x max-in-flight, bounded by the
workers), the collect process's peak RSS, the sizes of results.json and raw/, and export times.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.scale_server import REGIONS

REPO = Path(__file__).resolve().parent.parent
# Every control but the two whose operations moto cannot serve over HTTP (they would only time
# the emulator's failures and botocore's retries of them).
UNSERVED = ("S3-01", "CAP-01")
MAX_IN_FLIGHT = 3


def controls() -> list[str]:
    from evidence.catalog.loader import load_catalog

    return [c for c in load_catalog(REPO / "controls.yaml").ids() if c not in UNSERVED]


@contextmanager
def process(command: list[str], **kwargs: Any) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(command, text=True, **kwargs)
    try:
        yield child
    finally:
        child.kill()
        child.wait()


def wait_for(path: Path, child: subprocess.Popen[str]) -> dict[str, Any]:
    while not path.exists():
        if child.poll() is not None:
            raise SystemExit(f"{child.args!r} stopped ({child.returncode})")
        time.sleep(0.5)
    found: dict[str, Any] = json.loads(path.read_text())
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (Linux /proc; 0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def time_exports(pack: Path, output: Path) -> None:
    """The --time-exports mode: re-export a sealed pack, timing each exporter (a child process,
    so its peak RSS is its own)."""
    from datetime import UTC, datetime

    from evidence.audit.export import export_pack
    from evidence.exporters import EXPORTERS, Exporter

    seconds: dict[str, float] = {}

    def timed(export: Exporter) -> Exporter:
        # Wall and CPU seconds: on a shared machine the CPU figure is the exporter's own cost.
        def run(*args: Any) -> str:
            began, cpu = time.perf_counter(), time.process_time()
            try:
                return export(*args)
            finally:
                name = export.__name__.removeprefix("write_")
                seconds[name] = time.perf_counter() - began
                seconds[f"{name} CPU"] = time.process_time() - cpu

        run.__name__ = export.__name__
        return run

    began = time.perf_counter()
    export_pack(pack, output, datetime.now(UTC), exporters=tuple(timed(e) for e in EXPORTERS))
    total = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(
        json.dumps(
            {"total": total, "exporters": seconds, "peak_mb": usage.ru_maxrss / 1024, "cpu": cpu}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=200, help="member accounts")
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--max-workers", type=int, help="default: the tool's own default")
    parser.add_argument("--keep", type=Path, help="copy the pack here")
    parser.add_argument("--time-exports", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.time_exports:
        time_exports(*args.time_exports)
        return
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        began = time.perf_counter()
        server_file = tmp / "server.json"
        with process(
            [python, "-m", "bench.scale_server", str(server_file), str(args.accounts)]
        ) as server:
            seeded = wait_for(server_file, server)
            print(
                f"seeded {args.accounts} member accounts x {len(REGIONS)} regions"
                f" ({seeded['seed_calls']:,} calls) in {time.perf_counter() - began:.0f} s",
                flush=True,
            )
            proxy_command = [python, "-m", "tests.faultproxy", seeded["url"]]
            proxy_command += ["--delay-ms", str(args.delay_ms)]
            with process(proxy_command, stdout=subprocess.PIPE) as proxy:
                assert proxy.stdout is not None
                proxy_url = proxy.stdout.readline().strip()
                before = {"moto": cpu_seconds(server.pid), "proxy": cpu_seconds(proxy.pid)}
                result = collect(tmp, proxy_url, args.max_workers)
                result["cpu"]["moto"] = cpu_seconds(server.pid) - before["moto"]
                result["cpu"]["proxy"] = cpu_seconds(proxy.pid) - before["proxy"]
        pack = result["pack"]
        exports = subprocess.run(
            [python, "-m", "bench.bench_scale", "--time-exports", str(pack), str(tmp / "export")],
            capture_output=True,
            text=True,
            check=True,
        )
        exported = json.loads(exports.stdout.strip().splitlines()[-1])
        results = json.loads((pack / "results.json").read_text())
        results_mb = (pack / "results.json").stat().st_size / 1e6
        raw_mb = folder_size(pack / "raw") / 1e6
        sizes = {
            p.name: p.stat().st_size / 1e6 for p in pack.iterdir() if p.suffix in (".xlsx", ".pdf")
        }
        if args.keep:
            subprocess.run(["cp", "-r", str(pack), str(args.keep)], check=True)
    report(args, result, results, results_mb, raw_mb, sizes, exported)


def collect(tmp: Path, proxy_url: str, max_workers: int | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=proxy_url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    command = [sys.executable, "-m", "evidence", "collect", "--quiet", "--organization"]
    command += ["--output", str(tmp / "output"), "--controls", str(REPO / "controls.yaml")]
    command += [a for r in REGIONS for a in ("--region", r)]
    command += [a for c in controls() for a in ("--only", c)]
    command += ["--max-in-flight", str(MAX_IN_FLIGHT)]
    if max_workers:
        command += ["--max-workers", str(max_workers)]
    began = time.perf_counter()
    tool = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp)
    seconds = time.perf_counter() - began
    # Only the collect process has ended so far: the children's peak is its own.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = usage.ru_maxrss / 1024
    if tool.returncode not in (0, 1, 3):
        raise SystemExit(f"collect failed ({tool.returncode}): {tool.stderr}")
    (pack,) = (tmp / "output").iterdir()
    return {
        "pack": pack,
        "seconds": seconds,
        "peak_mb": peak_mb,
        "code": tool.returncode,
        "cpu": {"collect": usage.ru_utime + usage.ru_stime},
    }


def report(
    args: argparse.Namespace,
    result: dict[str, Any],
    results: dict[str, Any],
    results_mb: float,
    raw_mb: float,
    sizes: dict[str, float],
    exported: dict[str, Any],
) -> None:
    from evidence.collect.run import default_workers

    run = results["run"]
    accounts, regions = len(run["accounts"]), len(run["regions"])
    calls = int(run["total_calls"])
    workers = args.max_workers or default_workers(accounts, regions, MAX_IN_FLIGHT)
    # Every call waits delay_ms; at best accounts x regions x max-in-flight wait at once, and no
    # more than there are workers running sources.
    at_once = min(accounts * regions * MAX_IN_FLIGHT, workers)
    ideal = calls * args.delay_ms / 1000 / at_once
    collected = _seconds_between(run["started"], run["finished"])
    items = sum(c["population"] for c in results["controls"])
    print(
        f"{accounts} accounts (management + {accounts - 1} members) x {regions} regions,"
        f" {args.delay_ms:.0f} ms per request, --max-workers {workers}"
        f" --max-in-flight {MAX_IN_FLIGHT}; exit {result['code']}"
    )
    print(
        f"collect: {result['seconds']:.1f} s wall (collection {collected:.0f} s, then"
        f" evaluation, exports, seal), {calls:,} API calls,"
        f" {calls / max(collected, 1):.0f} calls/s while collecting"
    )
    print(
        f"ideal collection wall: {ideal:.1f} s ({calls:,} x {args.delay_ms:.0f} ms / {at_once}"
        f" in flight); measured / ideal = {collected / ideal:.2f}"
    )
    print(f"peak RSS of collect: {result['peak_mb']:.0f} MB")
    cpu = result["cpu"]
    # Each process runs Python code on one core at a time (the GIL): collection cannot be
    # shorter than the CPU the collect process spends collecting (its CPU less what the same
    # evaluation and exports cost in the export process) nor than the moto server's CPU.
    collecting_cpu = max(cpu["collect"] - exported.get("cpu", 0.0), 0.0)
    floor = max(ideal, collecting_cpu, cpu["moto"])
    print(
        f"CPU floor of collection: {floor:.1f} s (collect process ~{collecting_cpu:.0f} s of CPU"
        f" while collecting, {1000 * collecting_cpu / calls:.1f} ms per call; moto"
        f" {cpu['moto']:.0f} s, {1000 * cpu['moto'] / calls:.1f} ms per call);"
        f" measured / floor = {collected / floor:.2f}"
    )
    print(
        "CPU seconds: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in cpu.items())
        + f" ({1000 * sum(cpu.values()) / calls:.1f} ms per call in all; this machine has"
        f" {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"results.json {results_mb:.1f} MB ({items:,} items), raw/ {raw_mb:.1f} MB, "
        + ", ".join(f"{name.rsplit('.', 1)[1]} {mb:.1f} MB" for name, mb in sorted(sizes.items()))
    )
    print(
        f"export (verify, evaluate, both exports): {exported['total']:.1f} s,"
        + "".join(f" {name} {s:.1f} s," for name, s in exported["exporters"].items())
        + f" peak RSS {exported['peak_mb']:.0f} MB"
    )


def _seconds_between(start: str, end: str) -> float:
    from evidence.pack.raw import parse_utc

    return (parse_utc(end) - parse_utc(start)).total_seconds()


if __name__ == "__main__":
    main()
