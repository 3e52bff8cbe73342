"""The canonical report: plain JSON with stable keys and order, so equal inputs give byte-identical files."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from analyzer import __version__
from analyzer.baselines.builds import STALE_DAYS
from analyzer.engine.fingerprints import object_keys
from analyzer.engine.loader import Rule
from analyzer.engine.server_outcomes import server_outcomes
from analyzer.exchange.sources import SYNTHETIC_NOTE
from analyzer.inventory import inventory
from analyzer.model import OUTCOMES, Finding
from analyzer.pipeline import Scan
from analyzer.report.frameworks import framework_views, with_coverage


def _finding(finding: Finding, rule: Rule) -> dict[str, Any]:
    return {
        "fingerprint": finding.fingerprint,
        "outcome": finding.outcome,
        "object": finding.object,
        "server": finding.server,
        "dataset": finding.dataset,
        "field": finding.field,
        "observed": finding.observed,
        "observed_ja": finding.observed_ja,
        "expected": rule.expected or finding.expected,  # the rule's words where it gives them
        "expected_ja": rule.texts_ja.get("expected"),
        "condition": finding.expected,
        "message": finding.message,
        "message_ja": finding.message_ja,
        "object_key": finding.object_key,
        "waiver": finding.waiver,
        "remediation": finding.remediation,
        "source": {"file": finding.source_file, "line": finding.source_line},
    }


def _catalogue_problems(catalogue: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A build catalogue much older than the evaluation date: a newer security update may be missing from it."""
    if not catalogue or catalogue["stale_days"] is None:
        return []
    message = (
        f"the Exchange build catalogue is of {catalogue['month']}, more than {STALE_DAYS} days before the "
        f"evaluation date ({catalogue['stale_days']} days after its month): a newer update may be missing from "
        "it, so a build called the newest of its CU may not be; give a newer catalogue with --builds FILE"
    )
    return [{"file": catalogue["source"], "line": 0, "message": message}]


def _synthetic(scan: Scan) -> bool:
    """A bundle `exaudit samples` wrote: its manifest says so, or it carries the samples' README-SYNTHETIC.txt."""
    if (scan.bundle.manifest or {}).get("synthetic") is True:
        return True
    return any(item.path.replace("\\", "/").rsplit("/", 1)[-1] == SYNTHETIC_NOTE for item in scan.bundle.inputs)


def build(scan: Scan) -> dict[str, Any]:
    rules = {rule.id: rule for rule in scan.rules}
    facts = inventory(scan.bundle, {name for rule in scan.rules for name in rule.datasets()})
    summary = Counter(result.outcome for result in scan.results)
    results = [
        {
            "rule_id": result.rule_id,
            "title": rules[result.rule_id].title,
            "title_ja": rules[result.rule_id].texts_ja.get("title"),
            "severity": rules[result.rule_id].severity,
            "tags": list(rules[result.rule_id].tags),
            "outcome": result.outcome,
            "reason": result.reason,
            "reason_ja": result.reason_ja,
            "evaluated": result.evaluated,
            "servers": server_outcomes(result),  # each server's own outcome (a checklist is per server)
            "controls": list(rules[result.rule_id].controls),
            "findings": [_finding(f, rules[result.rule_id]) for f in result.findings],
        }
        for result in sorted(scan.results, key=lambda r: r.rule_id)
    ]
    return {
        "tool": {"name": "exaudit", "version": __version__},
        "generated_at": scan.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "synthetic": _synthetic(scan),
        "as_of": scan.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "params": dict(sorted(scan.params.items())),
        "param_sources": scan.param_sources,
        "site_plan": scan.site_plan,
        "rulesets": scan.rulesets,
        "inputs": [
            {
                "path": item["path"],
                "sha256": item["sha256"],
                "size": item["size"],
                "format": item["format"],
                "encoding": item["encoding"],
                "dataset": ", ".join(item["datasets"]) or None,
                "records": item["records"],
                "complete": item["complete"],
                "date_order": item["date_order"],
                "problems": item["problems"],
            }
            for item in facts["inputs"]
        ],
        "problems": facts["problems"] + _catalogue_problems(scan.build_catalogue),
        "servers": facts["servers"],
        "coverage": facts["coverage"],
        "missing_datasets": facts["missing_datasets"],
        "verdicts": scan.verdicts,
        "waivers": scan.waivers,
        "results": results,
        "summary": {outcome: summary.get(outcome, 0) for outcome in OUTCOMES},
        # The results by baseline control (STIG, CIS), where rules name them, with what part of it the packs hold.
        # The Exchange build catalogue the patch-currency rules used, with its month (only when they ran).
        **({"build_catalogue": scan.build_catalogue} if scan.build_catalogue else {}),
        "frameworks": with_coverage(framework_views(results, facts["servers"]), scan.rulesets),
        # Every object of every dataset, by key: what lets `exaudit diff` tell "fixed" from "gone".
        "objects": {
            name: sorted(set(object_keys(name, dataset.frame["server_key"], dataset.frame["identity"])))
            for name, dataset in sorted(scan.bundle.datasets.items())
        },
    }


_SCALAR = json.JSONEncoder(ensure_ascii=False, default=str)
# One finding a line, through the C encoder: a large scan writes tens of thousands (json's indenting encoder is
# pure Python, ~3x slower), and a report diffs one finding a line.
_ONE_LINE = json.JSONEncoder(ensure_ascii=False, default=str, separators=(", ", ": "))


def _chunks(value: Any, indent: str = "", key: str | None = None) -> Iterator[str]:
    """`value` as JSON: objects and lists indented by two spaces a level, as `json.dumps(indent=2)` lays them
    out, except each item of a `findings` list, which is one line."""
    if isinstance(value, dict) and value:
        inner = indent + "  "
        yield "{"
        for number, (name, item) in enumerate(value.items()):
            yield f"{',' if number else ''}\n{inner}{_SCALAR.encode(str(name))}: "
            yield from _chunks(item, inner, str(name))
        yield f"\n{indent}}}"
    elif isinstance(value, list) and value:
        inner = indent + "  "
        yield "["
        for number, item in enumerate(value):
            yield f"{',' if number else ''}\n{inner}"
            if key == "findings" and isinstance(item, dict):
                yield _ONE_LINE.encode(item)
            elif isinstance(item, (dict, list)):
                yield from _chunks(item, inner)
            else:  # the objects' keys: a hundred thousand strings, no generator each
                yield _SCALAR.encode(item)
        yield f"\n{indent}]"
    else:
        yield _SCALAR.encode(value)


def dumps(report: dict[str, Any]) -> str:
    return "".join(_chunks(report)) + "\n"


def write(report: dict[str, Any], target: Path) -> Path:
    """report.json written as it is encoded (the same bytes as `dumps`), never held whole in memory."""
    with target.open("w", encoding="utf-8", newline="\n") as sink:
        sink.writelines(_chunks(report))
        sink.write("\n")
    return target


@cache
def report_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((resources.files("analyzer.report") / "report.schema.json").read_text("utf-8"))
    return schema
