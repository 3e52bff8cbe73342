"""Fuzz target: any value put into a remediation command reads back as itself by PowerShell's quoting rule, or the
command is shown inert (commented out) because the value holds a character a reader cannot see.

Usage: python fuzz/remediation.py -runs=N [CORPUS…]
"""

import atheris

from harness import run

with atheris.instrument_imports(include=["analyzer"]):
    import analyzer.engine.evaluate
    import analyzer.engine.powershell  # noqa: F401  (imported here so that atheris instruments them)

if __name__ == "__main__":
    run("remediation")
