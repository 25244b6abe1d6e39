"""verify on an organisation pack: the quick hash check against the full check (citations,
raw/ re-evaluated, exports read back), and a signature made and checked.

Run: .venv/bin/python -m bench.bench_verify [--users 500] [--snapshots 1000] [--databases 50]
(the pack of bench.bench_org), or --pack PATH for a pack already on disk. Prints wall time and
peak RSS of each verify, each in its own process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench.bench_org import collect_org


def timed(*args: str) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit code of `soc-evidence ARGS`, in a process of its
    own (wait4 gives that process's own peak, not the largest of every child so far)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "evidence", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, process.returncode


def report(pack: Path, work: Path) -> None:
    files = sum(1 for p in pack.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in pack.rglob("*") if p.is_file()) / 1e6
    print(f"pack: {pack.name}, {files} files, {size:.1f} MB")
    for label, extra in (("verify --hashes-only", ("--hashes-only",)), ("verify (full)", ())):
        seconds, peak, code = timed("verify", str(pack), *extra)
        print(f"{label:24} {seconds:6.1f} s wall, peak RSS {peak:4.0f} MB, exit {code}")
    key = work / "bench.key"
    private = ec.generate_private_key(ec.SECP256R1())
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = work / "bench.pub.pem"
    public.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    seconds, peak, _ = timed(
        "export", str(pack), "--output", str(work / "signed"), "--sign-key", str(key)
    )
    print(f"{'export --sign-key':24} {seconds:6.1f} s wall, peak RSS {peak:4.0f} MB")
    (signed,) = (work / "signed").iterdir()
    seconds, peak, code = timed("verify", str(signed), "--public-key", str(public))
    print(f"{'verify --public-key':24} {seconds:6.1f} s wall, peak RSS {peak:4.0f} MB, exit {code}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pack", type=Path)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--snapshots", type=int, default=1000)
    parser.add_argument("--databases", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.pack is not None:
            report(args.pack, work)
            return
        run = collect_org(work / "output", args.users, args.snapshots, args.databases)
        print(f"collected in {run.seconds:.1f} s ({run.results['run']['total_calls']} calls)")
        report(run.pack, work)


if __name__ == "__main__":
    main()
