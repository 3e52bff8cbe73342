"""Fuzz target: the Export-Csv reader (encoding detection, header and delimiter, pyarrow parse, row lines).

Usage: python fuzz/csv_reader.py -runs=N [CORPUS…]
"""

import atheris

from harness import run

with atheris.instrument_imports(include=["analyzer"]):
    import analyzer.readers.csv  # noqa: F401  (imported here so that atheris instruments it)

if __name__ == "__main__":
    run("csv_reader")
