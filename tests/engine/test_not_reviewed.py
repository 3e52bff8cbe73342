"""What waits for a person is told apart from what waits for data: `not_reviewed` for a control no export decides
(its procedure) and for a site value the rule needs but nobody set; `not_evaluated` stays "data missing". Rules
name the baseline controls they decide, and reports carry them (issue 22's foundations)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree

from analyzer.engine.loader import RuleError, load_rule
from analyzer.engine.ruletests import run_case
from analyzer.pipeline import ScanOptions, scan
from analyzer.report import csv_report, junit_report, markdown_report
from analyzer.report.html_report import render as render_html
from analyzer.report.json_report import build

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "analyzer/report/report.schema.json").read_text("utf-8"))
SERVERS = [{"Name": "EX1", "IsClientAccessServer": True, "IsMailboxServer": True,
            "AdminDisplayVersion": "Version 15.2 (Build 1544.4)"}]  # fmt: skip

MANUAL = """\
id: TEST-MANUAL-001
title: Audit logs sit on a volume of their own
severity: medium
controls:
  - framework: DISA STIG Microsoft Exchange 2019 Mailbox Server
    version: V2R3
    id: EX19-MB-000058
    vuln_id: V-259663
    rule_id: SV-259663r960759_rule
    cat: II
applies_to: {products: [Exchange 2019]}
check:
  manual:
    procedure: Compare the volume of each log path with the volume Exchange is installed on.
    procedure_ja: 各ログのパスのボリュームと Exchange のインストール先のボリュームを比べます。
rationale: A full log volume must not stop the application.
remediation: {text: Move the logs to a volume of their own.}
tests:
  - name: waits for a person
    data:
      exchange_server: [{Name: EX1, IsClientAccessServer: true, IsMailboxServer: true, AdminDisplayVersion: "Version 15.2 (Build 1544.4)"}]
    expect: {outcome: not_reviewed}
  - name: not for Exchange 2016
    data:
      exchange_server: [{Name: EX1, IsClientAccessServer: true, IsMailboxServer: true, AdminDisplayVersion: "Version 15.1 (Build 2507.6)"}]
    expect: {outcome: not_applicable}
"""

SITE_VALUE = """\
id: TEST-SITE-001
title: POP3 starts as the site plan says
severity: low
controls:
  - {framework: DISA STIG Microsoft Exchange 2019 Mailbox Server, version: V2R3, id: EX19-MB-000123, vuln_id: V-259676, cat: III}
  - {framework: CIS Microsoft Exchange Server 2019 Benchmark, version: v1.0.0, id: "9.9", level: 1}
params:
  planned_start:
    type: string
    default: null
    site_value: true
    choices: [Automatic, Manual, Disabled]
check:
  each: {dataset: service, where: {column: Name, eq: MSExchangePOP3}}
  assert: {column: StartType, eq: {param: planned_start}}
rationale: The plan says whether POP3 runs.
remediation: {text: Set it.}
tests:
  - name: unset
    data: {service: [{Name: MSExchangePOP3, StartType: Manual, MachineName: EX1}]}
    expect: {outcome: not_reviewed}
  - name: set, and not met
    params: {planned_start: Disabled}
    data: {service: [{Name: MSExchangePOP3, StartType: Manual, MachineName: EX1}]}
    expect: {outcome: fail, failing: [MSExchangePOP3]}
  - name: set for this rule, and met
    params: {TEST-SITE-001.planned_start: Disabled}
    data: {service: [{Name: MSExchangePOP3, StartType: Disabled, MachineName: EX1}]}
    expect: {outcome: pass}
"""


def _rule(tmp_path: Path, text: str, name: str = "rule.yaml") -> Any:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_rule(path)


def _case(data: dict[str, Any], outcome: str, **params: Any) -> dict[str, Any]:
    return {"name": "case", "data": data, "params": params, "expect": {"outcome": outcome}}


def test_a_manual_control_waits_for_a_person_where_its_baseline_applies(tmp_path: Path) -> None:
    rule = _rule(tmp_path, MANUAL)
    assert [run_case(rule, case).passed for case in rule.tests] == [True, True]
    assert rule.controls[0]["vuln_id"] == "V-259663" and rule.manual is not None


def test_an_unset_site_value_is_not_reviewed_and_a_set_one_is_judged(tmp_path: Path) -> None:
    rule = _rule(tmp_path, SITE_VALUE)
    details = [run_case(rule, case).detail for case in rule.tests]
    assert details == ["not_reviewed as expected", "fail as expected", "pass as expected"]


def test_a_gate_on_an_unset_site_value_waits_instead_of_saying_not_applicable(tmp_path: Path) -> None:
    gated = SITE_VALUE.replace("check:", "applies_to: {when: {param: planned_start, eq: Disabled}}\ncheck:", 1)
    rule = _rule(tmp_path, gated)
    data = {"service": [{"Name": "MSExchangePOP3", "StartType": "Manual", "MachineName": "EX1"}]}
    assert run_case(rule, _case(data, "not_reviewed")).passed
    assert run_case(rule, _case(data, "not_applicable", planned_start="Automatic")).passed


@pytest.mark.parametrize(
    ("change", "message"),
    [(("default: null\n    site_value: true", "default: strict\n    site_value: true"), "a site value has no default"),
     (("vuln_id: V-259676", "vuln_id: V259676"), "does not match"),
     (("cat: III", "cat: IV"), "is not one of"),
     (("id: EX19-MB-000123, ", ""), "'id' is required here")],
)  # fmt: skip
def test_controls_and_site_values_are_checked_where_they_are_written(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(RuleError, match=message) as raised:
        _rule(tmp_path, SITE_VALUE.replace(*change, 1))
    assert raised.value.line > 0


def test_reports_carry_controls_and_what_waits_for_a_person(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "manual.yaml").write_text(MANUAL, encoding="utf-8")
    (rules / "site.yaml").write_text(SITE_VALUE, encoding="utf-8")
    as_of = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    done = scan(ScanOptions(paths=[SAMPLES / "healthy-2019"], rule_paths=[rules], as_of=as_of))
    report = build(done)
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    outcomes = {r["rule_id"]: r["outcome"] for r in report["results"]}
    assert outcomes == {"TEST-MANUAL-001": "not_reviewed", "TEST-SITE-001": "not_reviewed"}
    assert report["summary"]["not_reviewed"] == 2 and report["summary"]["not_evaluated"] == 0
    site = next(r for r in report["results"] if r["rule_id"] == "TEST-SITE-001")
    assert "needs the site's value for planned_start" in site["reason"] and "サイトの値" in site["reason_ja"]
    assert [c["id"] for c in site["controls"]] == ["EX19-MB-000123", "9.9"]

    results = list(csv.DictReader(io.StringIO(csv_report.render(report)["results.csv"].decode("utf-8-sig"))))
    assert {row["rule_id"]: row["controls"] for row in results}["TEST-SITE-001"] == (
        "DISA STIG Microsoft Exchange 2019 Mailbox Server V2R3 EX19-MB-000123 V-259676 CAT III; "
        "CIS Microsoft Exchange Server 2019 Benchmark v1.0.0 9.9 L1"
    )
    junit = etree.fromstring(junit_report.render(report)["junit.xml"])
    assert junit.xpath("string(testsuite/@skipped)") == "2"
    assert junit.xpath("count(//testcase/skipped[starts-with(@message, 'not reviewed: ')])") == 2
    summary = markdown_report.render(report)["summary.md"].decode("utf-8")
    assert "## Waiting for a person" in summary and "- TEST-MANUAL-001: for a person to review: Compare" in summary
    html = render_html(report, "ja")["report.html"].decode("utf-8")
    assert 'id="not-reviewed"' in html and "担当者による確認が必要です: 各ログのパス" in html


def test_a_manual_check_needs_one_test_case_and_any_other_check_two(tmp_path: Path) -> None:
    one_case = MANUAL[: MANUAL.index("  - name: not for Exchange 2016")]
    assert _rule(tmp_path, one_case, "manual.yaml").manual is not None
    judged = SITE_VALUE[: SITE_VALUE.index("  - name: set, and not met")]
    with pytest.raises(RuleError, match="is too short"):
        _rule(tmp_path, judged, "judged.yaml")


def test_a_report_written_before_controls_and_not_reviewed_stays_a_readable_baseline(tmp_path: Path) -> None:
    """An admin compares before and after across an upgrade: the older report.json has neither key."""
    from typer.testing import CliRunner

    from analyzer.cli import app

    runner = CliRunner()
    old = tmp_path / "old"
    assert runner.invoke(app, ["scan", "--demo", "-f", "json", "--out", str(old)]).exit_code == 0
    report = json.loads((old / "report.json").read_text(encoding="utf-8"))
    del report["summary"]["not_reviewed"]
    for result in report["results"]:
        del result["controls"]
    older = tmp_path / "older.json"
    older.write_text(json.dumps(report), encoding="utf-8")
    compared = runner.invoke(app, ["scan", "--demo", "-f", "json", "--out", str(tmp_path / "new"), "--baseline",
                                   str(older)])  # fmt: skip
    assert compared.exit_code == 0, compared.output
    assert (tmp_path / "new" / "diff.json").exists()


def test_site_values_are_recorded_with_the_plan_they_come_from(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from analyzer.cli import app

    runner = CliRunner()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "site.yaml").write_text(SITE_VALUE, encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    policy.write_text("plan: {name: Contoso Email Domain Security Plan, version: 3.2, approver: J. Doe (ISSM), "
                      "date: 2026-10-01}\nparams: {planned_start: Disabled}\n", encoding="utf-8")  # fmt: skip
    out = tmp_path / "out"
    args = ["scan", "--demo", "--rules", str(rules), "--policy", str(policy), "-f", "json,html", "--out", str(out)]
    result = runner.invoke(app, [*args, "--param", "TEST-SITE-001.planned_start=Manual"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["site_plan"] == {"name": "Contoso Email Domain Security Plan", "version": "3.2",
                                   "approver": "J. Doe (ISSM)", "date": "2026-10-01"}  # fmt: skip
    assert report["param_sources"] == {"TEST-SITE-001.planned_start": "command line", "planned_start": "policy"}
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Contoso Email Domain Security Plan 3.2 — approved by J. Doe (ISSM) (2026-10-01)" in html
    assert 'planned_start = Disabled <span class="source">(from the site plan)</span>' in html
    policy.write_text("plan: {name: only a name}\n", encoding="utf-8")
    broken = runner.invoke(app, args)
    assert broken.exit_code == 2 and "a policy file's `plan:` holds name and version" in broken.output
