"""Start-up as a user meets it: whole-process wall and CPU time of `exaudit --version`, `--help` and
`scan --demo -f json`, each alternated with bare Python (`python -c pass`) so that both sides see the same machine.

    python benchmarks/startup.py [--runs 7]

Prints, per command, the median wall and CPU seconds with min–max, and the median of the per-pair differences
over bare Python. CPU time is the children's user + system time from `resource.getrusage`.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "--version": ["--version"],
    "--help": ["--help"],
    "scan --demo -f json": ["scan", "--demo", "-f", "json", "--quiet", "--out"],
}


def _timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `argv` as its own process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    bare = [sys.executable, "-c", "pass"]
    with tempfile.TemporaryDirectory() as out:
        print("| command | wall s | CPU s | over bare Python, wall s | runs |\n| --- | --- | --- | --- | --- |")
        for name, args in COMMANDS.items():
            argv = [sys.executable, "-m", "analyzer", *args] + ([str(Path(out) / "r")] if args[-1] == "--out" else [])
            _timed(argv), _timed(bare)  # warm-up: the file cache
            walls, cpus, overs = [], [], []
            for _ in range(runs):
                wall, cpu = _timed(argv)
                base, _cpu = _timed(bare)
                walls.append(wall)
                cpus.append(cpu)
                overs.append(wall - base)
            print(f"| `exaudit {name}` | {_spread(walls)} | {_spread(cpus)} | {_spread(overs)} | {runs} |")


if __name__ == "__main__":
    main()
