"""CSV, Markdown and JUnit reports: safe to open whatever the exports held, valid, and the same on every run."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.pipeline import ScanOptions, packaged_demo, scan
from analyzer.report import csv_report, html_report, junit_report, markdown_report
from analyzer.report.json_report import build

ROOT = Path(__file__).resolve().parents[2]
JUNIT_XSD = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "data" / "schemas" / "junit-10.xsd")))
HOSTILE = '=HYPERLINK("http://evil","x") *bold* | <img src=x onerror=alert(1)> \x01'


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return build(scan(ScanOptions([packaged_demo()], as_of=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))))


def _hostile(report: dict[str, Any]) -> dict[str, Any]:
    """The demo report with one failing finding whose values came from a hostile export."""
    changed = copy.deepcopy(report)
    result = next(r for r in changed["results"] if r["outcome"] == "fail")
    finding = next(f for f in result["findings"] if f["outcome"] == "fail")
    finding.update(object=HOSTILE, message=HOSTILE, observed="-1+2", remediation="@SUM(A1)")
    return changed


def _rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for Excel"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_every_dangerous_first_character_is_neutralised(first: str) -> None:
    cell = csv_report.neutralise(first + "cmd|' /C calc'!A0")
    assert cell.startswith("'")
    assert csv_report.neutralise("plain") == "plain" and csv_report.neutralise(None) == ""


def test_a_nul_or_escape_is_shown_not_written() -> None:
    assert csv_report.neutralise("\0cmd") == "\u2400cmd"  # nothing a spreadsheet evaluates, nothing hidden
    assert csv_report.neutralise("a\x1b[31mb") == "a\u241b[31mb"


def test_findings_csv_neutralises_values_from_the_export(report: dict[str, Any]) -> None:
    files = csv_report.render(_hostile(report))
    header, *rows = _rows(files["findings.csv"])
    assert header == list(csv_report.FINDING_COLUMNS)
    hostile = next(row for row in rows if row[header.index("object")].startswith("'="))
    assert hostile[header.index("message")] == "'" + HOSTILE.replace("\x01", "\u2401")  # the control shown
    assert hostile[header.index("observed")] == "'-1+2"
    assert hostile[header.index("remediation")] == "'@SUM(A1)"
    for row in rows:
        assert len(row) == len(header)
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    total = sum(len(r["findings"]) for r in report["results"])
    assert len(rows) == total


def test_results_csv_has_one_row_per_rule_with_counts(report: dict[str, Any]) -> None:
    header, *rows = _rows(csv_report.render(report)["results.csv"])
    assert header == list(csv_report.RESULT_COLUMNS)
    assert [row[0] for row in rows] == [r["rule_id"] for r in report["results"]]
    by_id = {row[0]: row for row in rows}
    users = next(r for r in report["results"] if r["rule_id"] == "POP-USR-001")
    assert by_id["POP-USR-001"][header.index("failing")] == str(len(users["findings"]))


def test_markdown_escapes_values_and_caps_long_lists(report: dict[str, Any]) -> None:
    text = markdown_report.render(_hostile(report))["summary.md"].decode("utf-8")
    assert "<img" not in text and r"&lt;img src=x onerror=alert(1)\>" in text
    assert r"\*bold\* \| &lt;img" in text  # no emphasis, no table cell break
    assert "## Verdicts" in text and "| POP3 | **not ready** |" in text
    many = copy.deepcopy(report)
    result = next(r for r in many["results"] if r["outcome"] == "fail")
    result["findings"] = [dict(result["findings"][0], message=f"user{i}") for i in range(25)]
    capped = markdown_report.render(many)["summary.md"].decode("utf-8")
    assert "- user9\n" in capped and "- user10\n" not in capped and "… and 15 more" in capped
    for item in report["inputs"]:
        assert item["sha256"] in text


def test_junit_is_valid_against_the_jenkins_schema_and_maps_outcomes(report: dict[str, Any]) -> None:
    content = junit_report.render(_hostile(report))["junit.xml"]
    document = etree.fromstring(content)
    assert JUNIT_XSD.validate(document.getroottree()), JUNIT_XSD.error_log
    cases = document.findall("testsuite/testcase")
    assert len(cases) == len(report["results"])
    outcomes = [r["outcome"] for r in report["results"]]
    assert len(document.findall("testsuite/testcase/failure")) == outcomes.count("fail")
    assert len(document.findall("testsuite/testcase/skipped")) == outcomes.count("not_evaluated")
    suite = document.find("testsuite")
    assert suite is not None and suite.get("failures") == str(outcomes.count("fail"))
    assert "\u2401" in content.decode("utf-8")  # the control character is shown (␁), the XML stays well-formed


def test_scan_writes_every_format_and_two_runs_are_byte_identical(tmp_path: Path) -> None:
    runner = CliRunner()
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        result = runner.invoke(app, ["scan", "--demo", "--as-of", "2026-11-27", "--out", str(out), "--quiet",
                                     "-f", "html,junit,md,csv"], env={"SOURCE_DATE_EPOCH": "1790000000"})  # fmt: skip
        assert result.exit_code == 0, result.output
        written = [Path(line) for line in result.stdout.split()]
        assert [p.name for p in written] == [
            "report.json",
            "report.html",
            "junit.xml",
            "summary.md",
            "findings.csv",
            "results.csv",
        ]
        outputs.append({p.name: p.read_bytes() for p in written})
    assert outputs[0] == outputs[1]


def test_markdown_in_japanese(report: dict[str, Any]) -> None:
    text = markdown_report.render(report, "ja")["summary.md"].decode("utf-8")
    assert text.startswith("# Exchange POP3/IMAP4 監査レポート\n\n評価日 2026年11月27日 00:00 UTC")
    assert (
        "| POP3 | **未準備** | **リスクあり** | 有効 | EX16A: 未準備 / リスクあり, EX16B: 不明 / リスクあり |" in text
    )
    assert "- POP3 準備状況: 必須または推奨のチェックが不合格です" in text
    assert "  - POP3 が提示する証明書の有効期限が切れていない (1 台中 1 台; EX16A)" in text
    assert "## 不合格のルール" in text
    assert "### POP-USR-001 (中): 対象ユーザーの POP3 が有効になっている" in text


def test_streamed_json_and_csv_files_hold_exactly_the_rendered_bytes(tmp_path: Path, report: dict[str, Any]) -> None:
    from analyzer.report.writers import RENDERERS, write_reports

    written = {path.name: path.read_bytes() for path in write_reports(report, ["csv"], tmp_path)}
    expected = {**RENDERERS["json"](report, "en"), **RENDERERS["csv"](report, "en")}
    assert written == expected


def test_the_waiver_cell_names_only_what_the_waiver_gives() -> None:
    from analyzer.report.csv_report import _waiver

    waivers = {"W1": {"id": "W1", "ticket": "CHG-1", "expires": "2027-03-31", "reason": "migration"},
               "W2": {"id": "W2", "reason": "shared desk"}}  # fmt: skip
    assert _waiver("W1", waivers) == "W1, CHG-1, until 2027-03-31: migration"
    assert _waiver("W2", waivers) == "W2: shared desk"
    assert _waiver(None, waivers) == ""


def test_the_engines_own_reasons_are_japanese_in_a_japanese_report() -> None:
    """A rule without its data says why in Japanese (the dataset and cmdlet names stay as they are)."""
    report = build(scan(ScanOptions([packaged_demo()], as_of=dt.datetime(2026, 11, 27, tzinfo=dt.UTC))))
    [auth] = [r for r in report["results"] if r["rule_id"] == "POP-AUTH-001"]
    assert auth["reason"] == "no organization_config data in the bundle: export it with Get-OrganizationConfig"
    assert (
        auth["reason_ja"]
        == "バンドルに organization_config のデータがありません: Get-OrganizationConfig でエクスポートしてください"
    )
    assert auth["reason_ja"] in html_report.render(report, "ja")["report.html"].decode("utf-8")
    assert markdown_report.escape(auth["reason_ja"]) in markdown_report.render(report, "ja")["summary.md"].decode()
    assert auth["reason_ja"] not in html_report.render(report)["report.html"].decode("utf-8")


def test_report_json_is_indented_with_one_finding_a_line(report: dict[str, Any]) -> None:
    """The same JSON as `json.dumps(indent=2)` would write, laid out the same, except that each finding is one line
    (through the C encoder: a large scan writes tens of thousands) — which also makes a report diff per finding."""
    import json

    from analyzer.report.json_report import dumps

    text = dumps(report)
    assert json.loads(text) == json.loads(json.dumps(report, default=str))
    findings = [f for r in report["results"] for f in r["findings"]]
    lines = text.splitlines()
    assert findings and all(
        any(line.strip().rstrip(",") == json.dumps(f, ensure_ascii=False, separators=(", ", ": ")) for line in lines)
        for f in findings[:20]
    )
    bare = copy.deepcopy(report)
    for result in bare["results"]:
        result["findings"] = []
    assert dumps(bare) == json.dumps(bare, ensure_ascii=False, indent=2, default=str) + "\n"
