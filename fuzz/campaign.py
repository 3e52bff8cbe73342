"""Run every fuzz target for N executions, then measure the line coverage its final corpus reaches.

Usage: python fuzz/campaign.py [--runs N] [TARGET…]
Writes fuzz/out/<target>.log and fuzz/out/campaign.json, and prints a Markdown table for docs/fuzzing.md.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time

from harness import FUZZ, TARGETS

OUT = FUZZ / "out"


def fuzz(target: str, runs: int) -> dict[str, object]:
    OUT.mkdir(exist_ok=True)
    log = OUT / f"{target}.log"
    started = time.perf_counter()
    with log.open("w") as sink:
        completed = subprocess.run(  # noqa: S603  (our own scripts, fixed arguments)
            [sys.executable, str(FUZZ / f"{target}.py"), f"-runs={runs}", "-print_final_stats=1"],
            stdout=sink, stderr=subprocess.STDOUT, check=False,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    text = log.read_text(errors="replace")
    executed = re.search(r"stat::number_of_executed_units:\s*(\d+)", text)
    return {"target": target, "exit_code": completed.returncode, "seconds": round(seconds, 1),
            "executions": int(executed.group(1)) if executed else None,
            "crashed": "Uncaught Python exception" in text}  # fmt: skip


def corpus_coverage(target: str) -> dict[str, object]:
    output = subprocess.run(  # noqa: S603
        [sys.executable, str(FUZZ / "corpus_coverage.py"), target], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, object] = json.loads(output)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("targets", nargs="*", default=list(TARGETS))
    options = parser.parse_args()
    rows = []
    for target in options.targets:
        row = fuzz(target, options.runs)
        row["coverage"] = corpus_coverage(target)
        rows.append(row)
        print(json.dumps(row), flush=True)
    (OUT / "campaign.json").write_text(json.dumps(rows, indent=2) + "\n")
    print("| target | executions | wall time (s) | exec/s | corpus | line coverage |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        cov = row["coverage"]
        assert isinstance(cov, dict)
        executions = row["executions"] or 0
        assert isinstance(executions, int)
        assert isinstance(row["seconds"], float)
        print(f"| {row['target']} | {executions:,} | {row['seconds']:,.0f} | {executions / row['seconds']:,.0f} "
              f"| {cov['inputs']} | {cov['percent']} % |")  # fmt: skip


if __name__ == "__main__":
    main()
