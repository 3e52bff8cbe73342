"""What the STIG packs add to a scan: `exaudit scan` of the 100,000-mailbox benchmark bundles (both input shapes of
benchmarks/scale.py: exaudit's own generator and the independent one of benchmarks/other_exports.py) with the default
pack only, and with both Exchange 2019 STIG packs added (`--pack stig-exchange-2019-mailbox --pack
stig-exchange-2019-edge`), run alternately in fresh processes, as a user runs them (start-up and report writing
included). Wall time and CPU time (user + system of the scan's whole process tree) are medians over the runs; the
ratio is taken pair by pair, so a machine that drifts between pairs does not bias it.

Usage: python benchmarks/pack_cost.py [--mailboxes 100000] [--repeat 5]
Prints a Markdown table and writes benchmarks/out/pack_cost.json. The rule cache is warmed once first, as on any
second run of a user's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.scale import bundle, other_shape

OUT = Path(__file__).resolve().parent / "out"
PACKS = ["--pack", "stig-exchange-2019-mailbox", "--pack", "stig-exchange-2019-edge"]


def run(folder: Path, extra: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one scan (the CPU of every process it started, reaped before it returned)."""
    out = OUT / "pack_cost_report"
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "analyzer", "scan", str(folder), *extra, "--quiet", "-f", "html,csv,json",
                    "--out", str(out)], check=False, capture_output=True)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(folder: Path, repeat: int) -> dict[str, Any]:
    run(folder, PACKS)  # warm: the rule cache holds every pack, the files are in the page cache
    pairs = [(run(folder, []), run(folder, PACKS)) for _ in range(repeat)]
    wall = [with_packs[0] / alone[0] for alone, with_packs in pairs]
    cpu = [with_packs[1] / alone[1] for alone, with_packs in pairs]
    return {
        "default_wall": statistics.median(a[0] for a, _ in pairs),
        "packs_wall": statistics.median(b[0] for _, b in pairs),
        "default_cpu": statistics.median(a[1] for a, _ in pairs),
        "packs_cpu": statistics.median(b[1] for _, b in pairs),
        "wall_ratio": (statistics.median(wall), min(wall), max(wall)),
        "cpu_ratio": (statistics.median(cpu), min(cpu), max(cpu)),
        "runs": repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mailboxes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.pop("EXAUDIT_CACHE_DIR", None)  # the user's cache, as a user runs it
    shapes = {"own": bundle(args.mailboxes, "clixml"), "other": other_shape(args.mailboxes)}
    results = {name: measure(folder, args.repeat) for name, folder in shapes.items()}
    print("| shape | default pack: wall / CPU s | + both STIG packs: wall / CPU s | wall ratio (min–max) "
          "| CPU ratio (min–max) | runs |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        w, c = r["wall_ratio"], r["cpu_ratio"]
        print(f"| {name} {args.mailboxes:,} | {r['default_wall']:.2f} / {r['default_cpu']:.2f} | "
              f"{r['packs_wall']:.2f} / {r['packs_cpu']:.2f} | {w[0]:.3f} ({w[1]:.3f}–{w[2]:.3f}) | "
              f"{c[0]:.3f} ({c[1]:.3f}–{c[2]:.3f}) | {r['runs']} |")  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pack_cost.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8", newline="\n")


if __name__ == "__main__":
    main()
