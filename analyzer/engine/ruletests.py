"""Running the test cases each rule carries: input rows per dataset, written the way exports give them, go
through the same normalisation as real files; the outcome and the failing objects must be as expected."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from analyzer.engine.evaluate import Evidence, evaluate_rule
from analyzer.engine.loader import Rule
from analyzer.errors import InputError
from analyzer.exchange.bundle import bundle_from_records
from analyzer.exchange.catalog import BY_NAME
from analyzer.model import Record, SourceRef

DEFAULT_AS_OF = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class CaseResult:
    rule_id: str
    case: str
    passed: bool
    detail: str
    source: str


def _records(dataset: str, rows: list[dict[str, Any]], label: str) -> list[Record]:
    # A type name that ends like the dataset's own, so recognition works as for an export; what the collection
    # script builds itself (host facts) is a PSCustomObject, recognised by its columns as in a real export.
    suffixes = BY_NAME[dataset].type_suffixes
    type_name = "RuleTest" + suffixes[0] if suffixes else "System.Management.Automation.PSCustomObject"
    return [Record((type_name,), None, dict(row), SourceRef(label, index + 1, index)) for index, row in enumerate(rows)]


def run_case(rule: Rule, case: dict[str, Any]) -> CaseResult:
    label = f"{rule.id}:{case['name']}"
    try:
        bundle = bundle_from_records(
            {name: _records(name, rows, f"{label}/{name}") for name, rows in case["data"].items()}, label=label
        )
    except InputError as error:  # the case's data is wrong, not the rule: say which rows
        return CaseResult(rule.id, case["name"], False, str(error), rule.source)
    as_of = dt.datetime.fromisoformat(case["as_of"]).replace(tzinfo=dt.UTC) if "as_of" in case else DEFAULT_AS_OF
    result = evaluate_rule(rule, Evidence(bundle.datasets, bundle.servers, as_of, dict(case.get("params", {}))))
    expect = case["expect"]
    problems: list[str] = []
    if result.outcome != expect["outcome"]:
        problems.append(f"outcome {result.outcome} ({result.reason or 'no reason'}), expected {expect['outcome']}")
    for kind, key in (("fail", "failing"), ("not_evaluated", "not_evaluated")):
        if key not in expect:
            continue
        found = sorted({(f.object or f.server or "").lower() for f in result.findings if f.outcome == kind})
        wanted = sorted(str(item).lower() for item in expect[key])
        if found != wanted:
            problems.append(f"{key} objects {found}, expected {wanted}")
    detail = "; ".join(problems) if problems else f"{result.outcome} as expected"
    return CaseResult(rule.id, case["name"], not problems, detail, rule.source)


def run_rule_tests(rules: list[Rule]) -> list[CaseResult]:
    return [run_case(rule, case) for rule in rules for case in rule.tests]
