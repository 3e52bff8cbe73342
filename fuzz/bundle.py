"""Fuzz target: a bundle as a zip archive — member names (traversal, duplicates, encodings, symlinks), sizes and
ratios, damaged headers — read into datasets. Only the project's own error, naming the zip, may escape.

Usage: python fuzz/bundle.py -runs=N [CORPUS…]
"""

import atheris

from harness import run

with atheris.instrument_imports(include=["analyzer"]):
    import analyzer.exchange.bundle  # noqa: F401  (imported here so that atheris instruments it)

if __name__ == "__main__":
    run("bundle")
