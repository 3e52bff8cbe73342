"""`exaudit batch` with 1 and 2 worker processes over the same folder of bundles: the speed-up on this machine.

The folder holds BUNDLES bundles of MAILBOXES mailboxes each (CLIXML), generated once under benchmarks/out/batch/.
Each configuration runs REPEAT times, alternating, and the median wall time counts.

Usage: python benchmarks/batch_speedup.py [--bundles 8] [--mailboxes 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "batch"


def customers(count: int, mailboxes: int) -> Path:
    folder = OUT / f"customers-{count}x{mailboxes}"
    first = folder / "customer-01"
    if not (first / "manifest.json").exists():
        subprocess.run([sys.executable, "-m", "analyzer", "samples", "large", str(first), "--mailboxes",
                        str(mailboxes)], check=True, capture_output=True)  # fmt: skip
    for number in range(2, count + 1):
        copy = folder / f"customer-{number:02d}"
        if not copy.exists():
            shutil.copytree(first, copy)
    return folder


def run(folder: Path, jobs: int) -> float:
    out = OUT / f"reports-{jobs}"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "analyzer", "batch", str(folder), "--jobs", str(jobs), "--out", str(out),
                    "--quiet", "--as-of", "2026-11-27"], check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundles", type=int, default=8)
    parser.add_argument("--mailboxes", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = customers(args.bundles, args.mailboxes)
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.repeat):
        for jobs in (1, 2):
            times[jobs].append(run(folder, jobs))
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"{args.bundles} bundles × {args.mailboxes:,} mailboxes; runs: --jobs 1 {times[1]}, --jobs 2 {times[2]}")
    print(f"| --jobs 1 | --jobs 2 | speed-up |\n|---:|---:|---:|\n| {one:.1f} s | {two:.1f} s | **{one / two:.2f}** |")


if __name__ == "__main__":
    main()
