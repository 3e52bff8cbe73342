"""Export-Csv reader throughput against a bare `pandas.read_csv(dtype=str)` of the same file, in one run.

    python benchmarks/csv_throughput.py [--rows 100000] [--repeat 3]

Writes a synthetic Windows PowerShell 5.1-style Get-CASMailbox export (#TYPE line, every value quoted, `$null`
as nothing, collections as their type name) in UTF-8 with a BOM and in UTF-16LE, then times, best of --repeat:
  bare:   pandas.read_csv(path, dtype=str, skiprows=1) — the practical limit;
  reader: exaudit's read_csv_table, exactly as the tool uses it (encoding choice, #TYPE, line numbers,
          $null cells, lossy-column detection).
Target: reader ≥ 0.5 × bare.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path


def write_export(path: Path, rows: int, encoding: str) -> None:
    from analyzer.synthetic.cas_mailbox import TYPE_NAMES, cas_mailbox
    from analyzer.synthetic.text_writers import CsvStyle, export_csv

    objects = []
    for index in range(rows):
        props, extended = cas_mailbox(index)
        objects.append((["Deserialized." + TYPE_NAMES[0]], {**props, **extended}))
    text = export_csv(objects, CsvStyle(delimiter=",", quotes="always", type_line=True))
    bom = b"\xef\xbb\xbf" if encoding == "utf-8" else b"\xff\xfe"
    path.write_bytes(bom + text.encode("utf-8" if encoding == "utf-8" else "utf-16-le"))


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    import pandas as pd

    from analyzer.readers.csv import read_csv_table

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for encoding in ("utf-8", "utf-16"):
            path = Path(folder) / f"cas-{encoding}.csv"
            write_export(path, args.rows, encoding)
            size_mb = path.stat().st_size / 1e6
            bare = best_of(args.repeat, partial(pd.read_csv, path, dtype=str, skiprows=1, encoding=encoding))
            table = read_csv_table(path)
            reader = best_of(args.repeat, partial(read_csv_table, path))
            mb = f"{args.rows} rows, {size_mb:.0f} MB"
            print(
                f"{encoding:7s} {mb}: bare pandas {bare:.2f} s ({size_mb / bare:.0f} MB/s), "
                f"reader {reader:.2f} s ({size_mb / reader:.0f} MB/s); reader/bare speed = {bare / reader:.2f} "
                f"(target ≥ 0.5); lossy columns {len(table.lossy_columns)}, "
                f"$null cells {int(table.frame.isna().sum().sum())}"
            )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
