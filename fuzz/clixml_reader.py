"""Fuzz target: the CLIXML reader (pre-scan, hardened iterparse, every primitive, references).

Usage: python fuzz/clixml_reader.py -runs=N [CORPUS…]
"""

import atheris

from harness import run

with atheris.instrument_imports(include=["analyzer"]):
    import analyzer.readers.clixml  # noqa: F401  (imported here so that atheris instruments it)

if __name__ == "__main__":
    run("clixml_reader")
