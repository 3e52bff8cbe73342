"""`exaudit scan` and `exaudit rules`: report.json, determinism, exit codes, parameters, user rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.report.json_report import report_schema
from tests.engine.test_loader import RULE

runner = CliRunner()
SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _scan(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "out"
    as_of = [] if "--as-of" in args else ["--as-of", "2026-11-27"]
    result = runner.invoke(app, ["scan", *args, "--out", str(out), *as_of], env=env)
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    return result.exit_code, report, result.output


def test_demo_scan_writes_a_report_that_follows_its_schema(tmp_path: Path) -> None:
    code, report, output = _scan(tmp_path, "--demo")
    assert code == 0, output
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    result = next(r for r in report["results"] if r["rule_id"] == "POP-SVC-001")
    assert result["outcome"] == "fail"
    [finding] = result["findings"]
    assert finding["server"] == "EX16A" and finding["source"]["file"].endswith("services.xml")
    assert report["summary"]["fail"] >= 1
    assert "report.json" in output


def test_two_runs_are_byte_identical(tmp_path: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": "1790000000"}
    reports = []
    for run in ("one", "two"):
        out = tmp_path / run
        result = runner.invoke(
            app, ["scan", str(SAMPLES / "mistakes-2016"), "--out", str(out), "--as-of", "2026-11-27"], env=env
        )
        assert result.exit_code == 0
        reports.append((out / "report.json").read_bytes())
    assert reports[0] == reports[1]
    assert b'"generated_at": "2026-09-21T' in reports[0]


def test_fail_on_sets_the_exit_code(tmp_path: Path) -> None:
    assert _scan(tmp_path, "--demo", "--fail-on", "critical")[0] == 1  # EX16A's certificate has expired
    healthy = [str(SAMPLES / "healthy-2019"), "--fail-on", "low"]
    assert _scan(tmp_path, *healthy, "--as-of", "2025-06-01")[0] == 0
    assert _scan(tmp_path, *healthy, "--as-of", "2025-10-14")[0] == 1  # Exchange 2019's support has ended
    users_only = ["--demo", "--rules", str(SAMPLES.parent / "rules" / "pop-imap" / "pop-users-enabled.yaml")]
    assert _scan(tmp_path, *users_only, "--fail-on", "high")[0] == 0  # its failures are medium
    assert _scan(tmp_path, *users_only, "--fail-on", "medium")[0] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--demo"),
        (["--demo", "--fail-on", "urgent"], "--fail-on"),
        (["--demo", "--format", "pdf"], "unknown format"),
        (["--demo", "--param", "novalue"], "NAME=VALUE"),
        (["--demo", "--as-of", "yesterday"], "--as-of"),
        (["--demo", "--param", "support_end=Exchange 2019=2026-13-01"], "Exchange 2019: '2026-13-01' is not a date"),
        (["--demo", "--param", "POP-SET-001.login_type=Sometimes"], "POP-SET-001"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, _report, output = _scan(tmp_path, *args)
    assert code == 2 and message in output


def test_a_rule_that_does_not_load_or_an_unreadable_bundle_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(RULE.replace("eq: Running", "eqq: Running"))
    result = runner.invoke(app, ["scan", "--demo", "--rules", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and f"{bad}:12:30: unknown key 'eqq'; did you mean 'eq'?" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "x.xml").write_bytes(b"")
    result = runner.invoke(app, ["scan", str(empty), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "empty/x.xml: the file is empty" in result.output


def test_a_user_rule_with_a_parameter_is_evaluated_into_the_report(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "mine.yaml").write_text(RULE)
    test = runner.invoke(app, ["rules", "test", str(rules)])
    assert test.exit_code == 0 and "2 passed, 0 failed" in test.output
    _code, report, _ = _scan(tmp_path, str(SAMPLES / "mistakes-2016"), "--rules", str(rules))
    [result] = report["results"]
    assert result["rule_id"] == "TEST-JOIN-001" and result["outcome"] == "fail"
    assert [f["server"] for f in result["findings"]] == ["EX16A"]
    _code, report, _ = _scan(
        tmp_path, str(SAMPLES / "mistakes-2016"), "--rules", str(rules), "--param", "names=MSExchangeImap4"
    )
    assert report["results"][0]["outcome"] == "pass"
    policy = tmp_path / "policy.yaml"
    policy.write_text("params:\n  TEST-JOIN-001.names: MSExchangeIMAP4BE\n")
    _code, report, _ = _scan(tmp_path, str(SAMPLES / "mistakes-2016"), "--rules", str(rules), "--policy", str(policy))
    assert [f["server"] for f in report["results"][0]["findings"]] == ["EX16B"]


def test_rules_commands(tmp_path: Path) -> None:
    listing = runner.invoke(app, ["rules", "list", "--json"])
    assert listing.exit_code == 0 and any(r["id"] == "POP-SVC-001" for r in json.loads(listing.stdout))
    assert "POP-SVC-001" in runner.invoke(app, ["rules", "show", "pop-svc-001"]).stdout
    schema = json.loads(runner.invoke(app, ["rules", "schema"]).stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    (tmp_path / "r.yaml").write_text(RULE)
    assert "1 rule(s) valid" in runner.invoke(app, ["rules", "validate", str(tmp_path / "r.yaml")]).stdout
    failing = tmp_path / "f"
    failing.mkdir()
    (failing / "r.yaml").write_text(RULE.replace("expect: {outcome: pass}", "expect: {outcome: fail}"))
    result = runner.invoke(app, ["rules", "test", str(failing)])
    assert result.exit_code == 1 and "FAILED" in result.output


def test_rules_show_in_japanese_reads_as_written_and_prints_brackets_as_text(tmp_path: Path) -> None:
    shown = runner.invoke(app, ["rules", "show", "POP-SEC-002", "--lang", "ja"], env={"COLUMNS": "300"}).stdout
    assert "POP3 が SSL 接続 (ポート 995) を待ち受けている" in shown
    assert "必要があります。ポート 995 の SSL" in shown  # YAML folded the line here; Japanese has no space there
    odd = RULE.replace("rationale: Users cannot connect otherwise.", 'rationale: "Bindings like [::]:995 [/b]"')
    (tmp_path / "r.yaml").write_text(odd)
    result = runner.invoke(app, ["rules", "show", "TEST-JOIN-001", str(tmp_path / "r.yaml")])
    assert result.exit_code == 0 and "Bindings like [::]:995 [/b]" in result.stdout
    assert runner.invoke(app, ["rules", "show", "POP-SEC-002", "--lang", "fr"]).exit_code == 2


def test_report_paths_are_printed_whole_however_long(tmp_path: Path) -> None:
    """Scripts read the printed paths; a console width of 80 must not break a long one over two lines."""
    out = tmp_path / ("a-folder-name-long-enough-to-pass-eighty-columns-" * 2) / "reports"
    result = runner.invoke(app, ["scan", "--demo", "--out", str(out), "--quiet", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [str(out / "report.json")]


def test_the_console_gives_both_answers_with_reasons_whole_lines_and_the_file_to_open(tmp_path: Path) -> None:
    code, _report, output = _scan(tmp_path, "--demo")
    assert code == 0, output
    lines = output.splitlines()
    assert "POP3   readiness: not ready · safety: at risk" in lines
    # Not a terminal: a reason longer than 80 characters stays on one line.
    assert "  safety: POP3 does not accept clear-text passwords on an unencrypted port (1 of 1 servers; EX16A)" in lines
    assert any(
        line.startswith("open ") and line.endswith("report.html in a browser for the whole report") for line in lines
    )
    _code, _report, japanese = _scan(tmp_path / "ja", "--demo", "--lang", "ja")
    assert "POP3   準備状況: 未準備 · 安全性: リスクあり" in japanese.splitlines()
    assert "  安全性: POP3 が提示する証明書の有効期限が切れていない (1 台中 1 台; EX16A)" in japanese.splitlines()
