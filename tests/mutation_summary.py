"""Counts of a mutation run per module, as a Markdown table: `python -m tests.mutation_summary` after `mutmut run`.

Reads `mutmut results --all true` (one `NAME: STATUS` line per mutant). A mutant named in
`docs/mutation-survivors.txt` with a reason is counted as explained, not as a survivor to fix; the table's last
columns are the survivors with a reason and those still without one (a missing test, until written); the last
is every survivor's share of the mutants that ran.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPLAINED = ROOT / "docs" / "mutation-survivors.txt"
_LINE = re.compile(r"^\s*(?P<module>[\w.]+?)\.x[_ǁ]\S*__mutmut_\d+: (?P<status>.+)$")


def explained() -> dict[str, str]:
    """Mutant name → why it may survive, from `NAME  reason` lines (`#` starts a comment)."""
    reasons = {}
    for line in EXPLAINED.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            name, _, reason = entry.partition(" ")
            reasons[name] = reason.strip()
    return reasons


def main() -> int:
    listing = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
    reasons = explained()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    unexplained = []
    for line in listing.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        name = line.strip().split(":")[0]
        status = match["status"].strip()
        if status in ("survived", "no tests") and name in reasons:
            status = "explained"
        elif status in ("survived", "no tests"):
            unexplained.append(name)
        counts[match["module"]][status] += 1
    print("| module | mutants | not run | killed | survived, explained | survived, unexplained | survived % of run |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for module, seen in sorted(counts.items()):
        total, not_run = sum(seen.values()), seen["not checked"]
        left = seen["survived"] + seen["no tests"]
        killed = seen["killed"] + seen["timeout"]
        run = total - not_run
        share = 100 * (seen["explained"] + left) / run if run else 0.0
        print(f"| `{module}` | {total} | {not_run} | {killed} | {seen['explained']} | {left} | {share:.1f} |")
    for name in unexplained:
        print(f"left: {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
