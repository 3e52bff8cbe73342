"""Fuzz target: a CLIXML file read in two parts (the cut, the bytes before it, the framed parts, every fallback)
must give exactly what a read in one go gives, or decline. The second part is read in this thread.

Usage: python fuzz/split_read.py -runs=N [CORPUS…]
"""

import atheris

from harness import run

with atheris.instrument_imports(include=["analyzer"]):
    import analyzer.exchange.split_read  # (imported here so that atheris instruments it)
    import analyzer.readers.clixml_parts  # noqa: F401

if __name__ == "__main__":
    run("split_read")
