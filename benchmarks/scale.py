"""End-to-end scale: `exaudit scan` of synthetic bundles of 10,000 to 500,000 mailboxes, against a bare parse.

For each size and mailbox format (CLIXML, or CSV for the mailboxes) this generates the bundle once (kept under
benchmarks/out/scale/), then, each in its own process:
  bare  — every file of the bundle parsed and thrown away: lxml `iterparse` (clearing each top-level object)
          for CLIXML, `pandas.read_csv(dtype=str)` for CSV. This is the floor any reader stands on.
  scan  — `exaudit scan BUNDLE -f html,csv,json` exactly as a user runs it (interpreter start-up included).
Both are wall times of the whole child process; peak RSS is the child's VmHWM (Linux carries ru_maxrss across
exec, so rusage would report this script's own peak for its children). A scan reads a large CLIXML file in two
processes, so the RSS of the child's whole process tree is also sampled every 100 ms (tree peak; sampling can
miss a peak shorter than that). Report sizes are the files the scan wrote.
Bare and scan are run alternately up to --repeat times (while a size has taken under 40 s: one run each at
500,000) and their medians compared; the peaks are the highest seen. A one-second run here varies by ±10 %.

Usage: python benchmarks/scale.py [--sizes 10000,100000,500000] [--formats clixml,other,csv,other-csv]
       [--plot docs/scale.png]
(--plot needs matplotlib: pip install -e '.[bench]')
Prints a Markdown table and writes benchmarks/out/scale.json.
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
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "scale"
TIME_TARGET = 2.0  # scan ≤ 2 × bare
RSS_TARGET_MB = 1024  # at 500,000 mailboxes
HTML_TARGET_MB = 10
REPEAT_BUDGET = 40.0  # seconds of measuring per size and format before the runs stop repeating


def bundle(size: int, mailbox_format: str) -> Path:
    folder = OUT / f"{mailbox_format}-{size}"
    if not (folder / "manifest.json").exists():
        subprocess.run([sys.executable, "-m", "analyzer", "samples", "large", str(folder), "--mailboxes", str(size),
                        "--mailbox-format", mailbox_format], check=True, capture_output=True)  # fmt: skip
    return folder


def other_shape(size: int, as_csv: bool = False) -> Path:
    """The same servers with `size` mailboxes of the second, independent shape (benchmarks/other_exports.py), as
    Export-Clixml or Export-Csv writes them."""
    folder = OUT / f"other-{'csv-' if as_csv else ''}{size}"
    if not (folder / f"Get-CASMailbox.{'csv' if as_csv else 'xml'}").exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "other_exports.py"), str(folder), "--mailboxes",
                        str(size), *(["--csv"] if as_csv else [])], check=True, capture_output=True)  # fmt: skip
    return folder


def worst_case(size: int) -> Path:
    """The CSV bundle of `size` with every True of the CAS mailbox export made False: POP3 and IMAP4 off for
    every user, so two rules fail once per mailbox — the largest reports a scan of this size writes."""
    source, folder = bundle(size, "csv"), OUT / f"worst-{size}"
    if not folder.exists():
        shutil.copytree(source, folder)
        (folder / "manifest.json").unlink()
        cas = folder / "Get-CASMailbox.csv"
        with (source / cas.name).open(encoding="utf-8-sig") as old, cas.open("w", encoding="utf-8-sig") as new:
            new.writelines(line.replace('"True"', '"False"') for line in old)
    return folder


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def _bare(folder: Path) -> int:
    """Parse every export file of the bundle with the bare library call; the number of records seen."""
    import pandas as pd
    from lxml import etree

    records = 0
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".xml":
            context = etree.iterparse(str(path), events=("end",), tag="{*}Obj", resolve_entities=False,
                                      no_network=True)  # fmt: skip
            for _event, element in context:
                parent = element.getparent()
                if parent is not None and parent.getparent() is None:
                    records += 1
                    element.clear(keep_tail=True)
                    while element.getprevious() is not None:
                        del parent[0]
        elif path.suffix == ".csv":
            with path.open("rb") as raw:
                typed = b"#TYPE" in raw.readline()[:12]  # Windows PowerShell's type line precedes the header
            records += len(pd.read_csv(path, dtype=str, skiprows=1 if typed else 0, encoding="utf-8-sig"))
    return records


def _scan(folder: Path, out: Path) -> int:
    from analyzer.cli import main

    sys.argv = ["exaudit", "scan", str(folder), "--out", str(out), "-f", "html,csv,json", "--quiet",
                "--as-of", "2026-11-27"]  # fmt: skip
    try:
        main()
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def child(kind: str, folder: Path, out: Path) -> None:
    """Runs in the measured process: do the work, then print the peak RSS."""
    result = _bare(folder) if kind == "bare" else _scan(folder, out)
    print(json.dumps({"result": result, "peak_rss_mb": _peak_rss_mb()}))


def _descendants(pid: int) -> list[int]:
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in children.read_text().split()]
        except OSError:
            continue  # gone meanwhile
    return [*found, *(grandchild for child in found for grandchild in _descendants(child))]


def _tree_rss_mb(root: int) -> float:
    """The resident memory of a process and all its descendants now (the scan's reading worker included)."""
    total = 0
    for pid in (root, *_descendants(root)):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total / 1024


# As an installed exaudit runs: pip byte-compiles a package when it installs it, but this checkout is an
# editable install and PYTHONDONTWRITEBYTECODE may be set (it is on the machine these numbers come from), which
# would make every measured scan compile the analyzer's sources again (~0.1 s).
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def warm_up() -> None:
    """Write the analyzer's bytecode once, before anything is timed: every module, as pip does on install."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "analyzer")], env=CHILD_ENV, check=True)


def measure(kind: str, folder: Path, out: Path) -> dict[str, Any]:
    """Run one measured child; besides its own peak, sample the RSS of its whole process tree every 100 ms.
    The sampling runs in a thread and the clock stops when the child exits: a polling loop would round every
    time up to its next 100 ms tick (bare parses of 0.45 s were timed at 0.51 or 0.61 s that way)."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child_process = subprocess.Popen([sys.executable, __file__, "--child", kind, str(folder), str(out)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=CHILD_ENV)  # fmt: skip
    tree_peak = 0.0
    finished = threading.Event()

    def sample() -> None:
        nonlocal tree_peak
        while not finished.wait(0.1):
            tree_peak = max(tree_peak, _tree_rss_mb(child_process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = child_process.communicate()
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child's, and its reaped workers' (split read)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    finished.set()
    sampler.join()
    if child_process.returncode not in (0, 1):
        raise RuntimeError(f"{kind} {folder}: exit {child_process.returncode}\n{stderr[-2000:]}")
    last = stdout.strip().splitlines()[-1]
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "tree_peak_rss_mb": round(tree_peak),
            **json.loads(last)}  # fmt: skip


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median time of the runs, the highest peaks, and every time (the spread is part of the result)."""
    times = sorted(r["seconds"] for r in runs)
    cpu = sorted(r["cpu_seconds"] for r in runs)
    return {**runs[0], "seconds": round(statistics.median(times), 3), "runs": times,
            "cpu_seconds": round(statistics.median(cpu), 3), "cpu_runs": cpu,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "tree_peak_rss_mb": max(r["tree_peak_rss_mb"] for r in runs)}  # fmt: skip


def measure_pair(folder: Path, out: Path, repeat: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Bare parse and scan, alternated up to `repeat` times while they have taken under REPEAT_BUDGET seconds:
    a second's run on this machine varies by ±10 %, more than a single ratio can hide; a long one, much less."""
    bare: list[dict[str, Any]] = []
    scan: list[dict[str, Any]] = []
    started = time.perf_counter()
    while len(scan) < repeat and (not scan or time.perf_counter() - started < REPEAT_BUDGET):
        bare.append(measure("bare", folder, out))
        scan.append(measure("scan", folder, out))
    return _median_run(bare), _median_run(scan)


def run(sizes: list[int], formats: list[str], repeat: int) -> list[dict[str, Any]]:
    rows = []
    for mailbox_format in formats:
        for size in sizes:
            folder = (worst_case(size) if mailbox_format == "worst" else other_shape(size) if mailbox_format == "other"
                      else other_shape(size, as_csv=True) if mailbox_format == "other-csv"
                      else bundle(size, mailbox_format))  # fmt: skip
            out = OUT / f"reports-{mailbox_format}-{size}"
            bare, scan = measure_pair(folder, out, repeat)
            reports = {p.name: p.stat().st_size for p in sorted(out.iterdir())}
            row = {"format": mailbox_format, "mailboxes": size,
                   "input_mb": round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 1),
                   "bare": bare, "scan": scan, "ratio": round(scan["seconds"] / bare["seconds"], 2),
                   "cpu_ratio": round(scan["cpu_seconds"] / bare["cpu_seconds"], 2),
                   "reports": reports}  # fmt: skip
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


def rss_model(rows: list[dict[str, Any]], mailbox_format: str) -> tuple[float, float]:
    """Least-squares fit of the scan's peak RSS: a fixed base (MB) plus bytes per mailbox."""
    points = [(r["mailboxes"], r["scan"]["peak_rss_mb"]) for r in rows if r["format"] == mailbox_format]
    if len(points) < 2:
        return points[0][1] if points else 0.0, 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)
    return mean_y - slope * mean_x, slope * 1024 * 1024


def _seconds(run: dict[str, Any]) -> str:
    """The median, with the number of runs behind it when there were several."""
    seconds = run["seconds"]
    text = f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    return f"{text} ({len(run['runs'])}×)" if len(run["runs"]) > 1 else text


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| mailboxes | format | input | bare parse | exaudit scan | scan / bare | CPU bare | CPU scan "
             "| CPU scan / bare | peak RSS (scan) | tree peak (scan) | peak RSS (bare) | report.html | findings.csv "
             "| report.json |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        size = r["reports"]
        lines.append(
            f"| {r['mailboxes']:,} | {r['format']} | {r['input_mb']:,.0f} MB | {_seconds(r['bare'])} "
            f"| {_seconds(r['scan'])} | **{r['ratio']:.2f}** | {r['bare']['cpu_seconds']:.2f} s "
            f"| {r['scan']['cpu_seconds']:.2f} s | **{r['cpu_ratio']:.2f}** | {r['scan']['peak_rss_mb']:,.0f} MB "
            f"| {r['scan']['tree_peak_rss_mb']:,.0f} MB "
            f"| {r['bare']['peak_rss_mb']:,.0f} MB | {size.get('report.html', 0) / 1e6:.2f} MB "
            f"| {size.get('findings.csv', 0) / 1e6:.1f} MB | {size.get('report.json', 0) / 1e6:.1f} MB |"
        )
    for mailbox_format in sorted({r["format"] for r in rows}):
        base, per_mailbox = rss_model(rows, mailbox_format)
        lines.append(f"\nPeak RSS model ({mailbox_format}): {base:,.0f} MB + {per_mailbox:,.0f} bytes per mailbox.")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (times, memory) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mailbox_format, marker in (("clixml", "o"), ("csv", "s"), ("other", "D"), ("other-csv", "v"), ("worst", "^")):
        points = sorted((r for r in rows if r["format"] == mailbox_format), key=lambda r: r["mailboxes"])
        if not points:
            continue
        x = [r["mailboxes"] for r in points]
        times.plot(x, [r["scan"]["seconds"] for r in points], marker=marker, label=f"exaudit scan ({mailbox_format})")
        times.plot(x, [r["bare"]["seconds"] for r in points], marker=marker, linestyle="--",
                   label=f"bare parse ({mailbox_format})")  # fmt: skip
        memory.plot(x, [r["scan"]["peak_rss_mb"] for r in points], marker=marker, label=f"scan ({mailbox_format})")
    memory.axhline(RSS_TARGET_MB, color="grey", linestyle=":", label="1 GB target")
    times.set(xlabel="mailboxes", ylabel="wall time (s)", title="Time, end to end")
    memory.set(xlabel="mailboxes", ylabel="peak RSS (MB)", title="Peak memory of the scan")
    for axes in (times, memory):
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
        axes.ticklabel_format(axis="x", style="plain")
    figure.tight_layout()
    figure.savefig(target, dpi=110, metadata={"Software": None})  # no version stamp: the PNG changes less


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,500000")
    parser.add_argument("--formats", default="clixml,other,csv,other-csv",
                        help="clixml, csv, other and other-csv (CLIXML and CSV of a second, independent shape: "
                        "benchmarks/other_exports.py), worst (CSV, every mailbox failing)")  # fmt: skip
    parser.add_argument("--plot", type=Path, help="write the plot (PNG) here")
    repeat_help = f"runs of each, alternated, while under {REPEAT_BUDGET:.0f} s; the medians are compared"
    parser.add_argument("--repeat", type=int, default=7, help=repeat_help)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    warm_up()
    rows = run([int(s) for s in args.sizes.split(",")], args.formats.split(","), args.repeat)
    (OUT.parent / "scale.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(table(rows))
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
