"""Line coverage (coverage.py) of a target's modules reached by replaying a corpus, without atheris.

Usage: python fuzz/corpus_coverage.py TARGET [CORPUS]   (prints one JSON object)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import coverage

from harness import FUZZ, ROOT, TARGETS, one_input_for


def measure(target_name: str, corpus: Path) -> dict[str, object]:
    target = TARGETS[target_name]
    measured = [str(ROOT / module) for module in target.measured]
    cov = coverage.Coverage(data_file=None, include=measured, config_file=False)
    cov.start()  # before the first import of the package, so module-level lines count
    one_input = one_input_for(target)
    inputs = sorted(p for p in corpus.iterdir() if p.is_file())
    for path in inputs:
        one_input(path.read_bytes())
    cov.stop()
    data = cov.get_data()
    per_module = {}
    total_statements = total_run = 0
    for module, file_name in zip(target.measured, measured, strict=True):
        _, statements, _, missing, _ = cov.analysis2(file_name)
        run = len(statements) - len(missing)
        per_module[module] = {"statements": len(statements), "run": run,
                              "percent": round(100 * run / len(statements), 1)}  # fmt: skip
        total_statements += len(statements)
        total_run += run
    assert data.measured_files(), "coverage measured nothing"
    return {"target": target_name, "inputs": len(inputs), "modules": per_module,
            "percent": round(100 * total_run / total_statements, 1)}  # fmt: skip


if __name__ == "__main__":
    name = sys.argv[1]
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else FUZZ / "corpus" / name
    print(json.dumps(measure(name, folder)))
