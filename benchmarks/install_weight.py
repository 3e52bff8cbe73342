"""What each dependency weighs: installed size, import time, and whether pyarrow earns its 170 MB.

    python benchmarks/install_weight.py [--csv FILE ...] [--repeat 5]

1. Installed size of every distribution exaudit pulls in (this environment's files, from their RECORDs).
2. Import time of each heavy dependency in a fresh interpreter (whole process, minus `python -c pass`), median.
3. With --csv: each Export-Csv file parsed by pyarrow's CSV reader (what exaudit uses) and by pandas' own C parser
   (`engine="c"`, object columns: no pyarrow involved), each in a fresh process, alternated; wall and CPU medians.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HEAVY = ("pandas", "numpy", "pyarrow", "lxml.etree", "cryptography.x509", "jsonschema", "jinja2", "yaml", "rich",
         "typer", "re2")  # fmt: skip


def closure(name: str) -> list[str]:
    """exaudit and every distribution it requires here, by name."""
    seen: list[str] = []
    todo = [name]
    while todo:
        current = todo.pop()
        try:
            dist = metadata.distribution(current)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform (tzdata on Windows)
        canonical = dist.metadata["Name"]
        if canonical.lower() in (s.lower() for s in seen):
            continue
        seen.append(canonical)
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            todo.append(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0])
    return seen


def installed_bytes(name: str) -> int:
    dist = metadata.distribution(name)
    return sum(
        Path(str(dist.locate_file(f))).stat().st_size
        for f in dist.files or []
        if Path(str(dist.locate_file(f))).is_file()
    )


def run(command: list[str]) -> tuple[float, float]:
    """Whole-process wall and CPU seconds of one run (CPU of the child, from the kernel's accounting)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_times(repeat: int) -> dict[str, float]:
    bare = statistics.median(run([sys.executable, "-c", "pass"])[0] for _ in range(repeat))
    return {m: statistics.median(run([sys.executable, "-c", f"import {m}"])[0] for _ in range(repeat)) - bare
            for m in HEAVY}  # fmt: skip


PARSERS = {
    "pyarrow": "import sys, pyarrow.csv as c; c.read_csv(sys.argv[1], read_options=c.ReadOptions(skip_rows=1))",
    "pandas C": "import sys, pandas as pd; pd.read_csv(sys.argv[1], skiprows=1, dtype=object, engine='c')",
}


def csv_times(path: Path, repeat: int) -> dict[str, tuple[float, float]]:
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in PARSERS}
    for _ in range(repeat):  # alternated, so a drift in the machine's speed touches both
        for name, code in PARSERS.items():
            runs[name].append(run([sys.executable, "-c", code, str(path)]))
    return {n: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r)) for n, r in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, nargs="*", default=[])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = {name: installed_bytes(name) for name in closure("exaudit")}
    print("| distribution | installed |\n| --- | ---: |")
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        print(f"| {name} | {size / 1e6:.1f} MB |")
    print(f"| **all {len(sizes)}** | **{sum(sizes.values()) / 1e6:.0f} MB** |\n")
    print("| import | seconds over bare Python (median) |\n| --- | ---: |")
    for module, seconds in import_times(args.repeat).items():
        print(f"| {module} | {seconds:.3f} |")
    for path in args.csv:
        times = csv_times(path, args.repeat)
        print(f"\n{path} ({os.path.getsize(path) / 1e6:.0f} MB), {args.repeat} alternated runs, medians:")
        for name, (wall, cpu) in times.items():
            print(f"  {name:9} wall {wall:.2f} s  cpu {cpu:.2f} s")
        print(f"  pandas C / pyarrow: wall {times['pandas C'][0] / times['pyarrow'][0]:.2f}, "
              f"cpu {times['pandas C'][1] / times['pyarrow'][1]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
