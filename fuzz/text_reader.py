"""Fuzz target: the Format-List / Format-Table text reader (encoding, blocks, columns, wraps, lists).

Usage: python fuzz/text_reader.py -runs=N [CORPUS…]
"""

import atheris

from harness import run

with atheris.instrument_imports(include=["analyzer"]):
    import analyzer.readers.text  # noqa: F401  (imported here so that atheris instruments it)

if __name__ == "__main__":
    run("text_reader")
