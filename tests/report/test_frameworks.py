"""Framework views: results regrouped by the baseline controls rules name, as an assessor reads a STIG."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema

from analyzer.pipeline import ScanOptions, scan
from analyzer.report.frameworks import framework_views
from analyzer.report.html_report import render as render_html
from analyzer.report.json_report import build, report_schema

STIG = {"framework": "DISA STIG Microsoft Exchange 2019 Mailbox Server", "version": "V2R3"}
CIS = {"framework": "CIS Microsoft Exchange Server 2019 Benchmark", "version": "v1.0.0"}
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _result(rule_id: str, outcome: str, *controls: dict[str, Any]) -> dict[str, Any]:
    return {"rule_id": rule_id, "outcome": outcome, "controls": list(controls)}


def test_controls_take_the_worst_outcome_of_their_rules_and_are_counted_by_category() -> None:
    results = [
        _result("R1", "pass", {**STIG, "id": "EX19-MB-000006", "vuln_id": "V-259645", "cat": "II"}),
        _result("R2", "fail", {**STIG, "id": "EX19-MB-000236", "vuln_id": "V-259710", "cat": "I"},
                {**CIS, "id": "2.1", "level": 1}),
        _result("R3", "pass", {**STIG, "id": "EX19-MB-000236", "vuln_id": "V-259710", "cat": "I"}),
        _result("R4", "not_reviewed", {**STIG, "id": "EX19-MB-000058", "vuln_id": "V-259663", "cat": "II"}),
        _result("R5", "waived", {**STIG, "id": "EX19-MB-000125", "vuln_id": "V-259678", "cat": "III"}),
        _result("R6", "pass"),  # names no control: in no view
    ]  # fmt: skip
    cis, stig = framework_views(results)
    assert (cis["framework"], [c["id"] for c in cis["controls"]], cis["counts"]) == (
        CIS["framework"],
        ["2.1"],
        {"fail": 1},
    )
    assert [(c["id"], c["rules"], c["outcome"]) for c in stig["controls"]] == [
        ("EX19-MB-000236", ["R2", "R3"], "fail"),  # CAT I first; the worst of its two rules
        ("EX19-MB-000006", ["R1"], "pass"),
        ("EX19-MB-000058", ["R4"], "not_reviewed"),
        ("EX19-MB-000125", ["R5"], "waived"),
    ]
    assert stig["counts"] == {"fail": 1, "not_reviewed": 1, "waived": 1, "pass": 1}
    assert stig["by_cat"] == {"I": {"fail": 1}, "II": {"pass": 1, "not_reviewed": 1}, "III": {"waived": 1}}
    assert (stig["decided"], stig["passing_share"]) == (3, 0.3333)


RULE = """\
id: TEST-TLS-001
title: Receive connectors offer TLS
severity: high
controls:
  - {framework: DISA STIG Microsoft Exchange 2019 Mailbox Server, version: V2R3, id: EX19-MB-000236, vuln_id: V-259710, cat: I}
check:
  each: {dataset: receive_connector}
  assert: {column: AuthMechanism, contains: Tls}
rationale: Mail in transit is protected.
remediation: {text: Add Tls to the connector's authentication mechanisms.}
tests:
  - name: with TLS
    data: {receive_connector: [{Name: A, AuthMechanism: "Tls, Integrated", Server: EX1}]}
    expect: {outcome: pass}
  - name: without
    data: {receive_connector: [{Name: A, AuthMechanism: "Integrated", Server: EX1}]}
    expect: {outcome: fail, failing: [A]}
"""


def test_a_scan_reports_its_baselines_in_report_json_and_html(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "tls.yaml").write_text(RULE, encoding="utf-8")
    as_of = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    report = build(scan(ScanOptions(paths=[SAMPLES / "healthy-2019"], rule_paths=[rules], as_of=as_of)))
    jsonschema.Draft202012Validator(report_schema()).validate(json.loads(json.dumps(report, default=str)))
    [view] = report["frameworks"]
    assert view["framework"] == STIG["framework"] and [c["outcome"] for c in view["controls"]] == ["pass"]
    html = render_html(report, "en")["report.html"].decode("utf-8")
    assert 'id="baselines"' in html and "1 of 1 items an export decides pass (100.0 %)" in html
    assert "No open item." in html
    japanese = render_html(report, "ja")["report.html"].decode("utf-8")
    assert "エクスポートで判定できる 1 項目のうち 1 項目が合格" in japanese
    report["frameworks"][0]["controls"][0]["outcome"] = "fail"
    failing = render_html(report, "en")["report.html"].decode("utf-8")
    assert '<li class="outcome-fail"><strong>EX19-MB-000236</strong> V-259710 CAT I — TEST-TLS-001 Receive' in failing
