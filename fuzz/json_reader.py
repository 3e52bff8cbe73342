"""Fuzz target: the ConvertTo-Json reader (chunked streaming of a top-level array, dates, 5.1 wrappers).

Usage: python fuzz/json_reader.py -runs=N [CORPUS…]
"""

import atheris

from harness import run

with atheris.instrument_imports(include=["analyzer"]):
    import analyzer.readers.json  # noqa: F401  (imported here so that atheris instruments it)

if __name__ == "__main__":
    run("json_reader")
