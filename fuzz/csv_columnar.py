"""Fuzz target: an Export-Csv file normalised a column at a time (cells coded by distinct value, parsed and typed
once per value, servers and identities per distinct combination) must give exactly what it gives record by record.

Usage: python fuzz/csv_columnar.py -runs=N [CORPUS…]
"""

import atheris

from harness import run

with atheris.instrument_imports(include=["analyzer"]):
    import analyzer.exchange.columnar  # noqa: F401  (imported here so that atheris instruments it)

if __name__ == "__main__":
    run("csv_columnar")
