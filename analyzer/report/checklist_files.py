"""The checklist files a scan writes (`-f ckl,cklb`): each server's checklist per STIG, merged with the assessor's
earlier one where `--checklist-baseline` gives them, and checklist-changes.md saying what the merge did."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from analyzer.baselines.xccdf import Benchmark
from analyzer.engine.loader import Rule
from analyzer.report.checklist_baseline import EarlierChecklist, changes_markdown, earlier_for, merged
from analyzer.report.checklists import FORMATS, checklists, ckl_bytes, cklb_bytes, matching_benchmark


def render(report: Mapping[str, Any], rules: Sequence[Rule], formats: Iterable[str],
           benchmarks: Sequence[Benchmark] = (), marking: str | None = None,
           earlier: Sequence[EarlierChecklist] | None = None) -> dict[str, bytes]:  # fmt: skip
    """Every checklist of the scan in the formats asked for: file name → bytes. With `earlier` checklists (read
    from --checklist-baseline), each is merged with its own and checklist-changes.md says what that did."""
    wanted = [f for f in FORMATS if f in set(formats)]
    files: dict[str, bytes] = {}
    changes = []
    for made in checklists(report, rules) if wanted else []:
        checklist, change = merged(made, earlier_for(made, earlier)) if earlier is not None else (made, None)
        if change is not None:
            changes.append(change)
        benchmark = matching_benchmark(checklist, benchmarks)
        for kind in wanted:
            writer = ckl_bytes if kind == "ckl" else cklb_bytes
            files[f"{checklist.file_stem}.{kind}"] = writer(checklist, benchmark, marking)
    if changes:
        files["checklist-changes.md"] = changes_markdown(changes)
    return files
