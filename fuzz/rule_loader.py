"""Fuzz target: the rule loader (YAML safe_load with positions, JSON Schema, semantic checks).

Usage: python fuzz/rule_loader.py -runs=N [CORPUS…]
"""

import atheris

from harness import run

with atheris.instrument_imports(include=["analyzer"]):
    import analyzer.engine.loader  # noqa: F401  (imported here so that atheris instruments it)

if __name__ == "__main__":
    run("rule_loader")
